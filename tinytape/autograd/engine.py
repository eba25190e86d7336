"""The backward pass: walk the tape in reverse record order.

1. Collect the entries reachable from the roots (iteratively: a 100 000-op chain is
   just a long loop).
2. Run them in decreasing sequence number.  Every consumer of a tensor was recorded
   after it, so by the time an entry runs, every gradient flowing into it has been
   summed: ``b = a + a; c = b + b`` comes out right.
3. Each input gradient is summed down to that input's shape (undoing broadcasting, in
   this one place), cast to its dtype, and added to the producing entry's buffer, or
   to the leaf's gradient.
"""
from .._dtype import from_numpy_dtype
from .function import BackwardNode, _state


def _reachable(roots):
    """Nodes reachable from ``roots``, latest recorded first."""
    seen = set()
    order = []
    stack = [n for n in roots if n is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        for edge in node.next_edges:
            if edge is not None and isinstance(edge[0], BackwardNode) and edge[0] not in seen:
                stack.append(edge[0])
    order.sort(key=lambda n: n.seq, reverse=True)
    return order


def _sum_to(grad, shape, node, index):
    """``grad`` summed over the dimensions that broadcasting added to an input of ``shape``."""
    gshape = grad.shape
    lead = len(gshape) - len(shape)
    if lead < 0 or any(s != 1 and s != g for s, g in zip(shape, gshape[lead:])):
        raise RuntimeError(
            f"Function {node.name()} returned an invalid gradient at index {index} - got "
            f"{list(gshape)} but expected shape compatible with {list(shape)}")
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and gshape[lead + i] != 1)
    if dims:
        grad = grad.sum(dims, keepdim=True)
    return grad.reshape(shape) if grad.shape != tuple(shape) else grad


def _add(a, b):
    return b if a is None else a + b


def run_backward(roots, root_grads, retain_graph, create_graph, inputs=None, adjoints=None):
    """Back-propagate ``root_grads`` from ``roots``.

    With ``inputs`` None, gradients accumulate into ``.grad`` of the leaves reached.
    Otherwise (``autograd.grad``) nothing is accumulated and the gradients of
    ``inputs`` are returned, None for those not reached.  ``adjoints``, a dict, receives
    each entry's output gradients (and each leaf's) for ``explain``.
    """
    buffers = {}       # node -> [grad per output]
    leaf_grads = {}    # leaf -> [grad, borrowed]: borrowed grads are copied before they become .grad
    captured = {} if inputs is not None else None
    wanted = None
    if inputs is not None:
        wanted = {}
        for i, t in enumerate(inputs):
            key = (t._grad_fn, t._output_nr) if t._grad_fn is not None else (t, 0)
            wanted.setdefault(key, []).append(i)

    for t, g in zip(roots, root_grads):
        if t._grad_fn is None:
            entry = leaf_grads.setdefault(t, [None, True])
            entry[0] = _add(entry[0], g)
        else:
            buf = buffers.setdefault(t._grad_fn, [None] * len(t._grad_fn.output_meta))
            buf[t._output_nr] = _add(buf[t._output_nr], g)

    prev, _state.enabled = _state.enabled, create_graph
    try:
        for node in _reachable([t._grad_fn for t in roots]):
            buf = buffers.pop(node, None)
            if buf is None:
                continue  # no gradient reaches this entry from these roots
            if node._hooks:
                for nr, hooks in node._hooks.items():
                    for hook in hooks:
                        if buf[nr] is not None:
                            result = hook(buf[nr])
                            if result is not None:
                                buf[nr] = result
            if node._retained:
                for nr, ref in node._retained.items():
                    t = ref()
                    if t is not None and buf[nr] is not None:
                        g = buf[nr] if create_graph else buf[nr].detach()
                        t._grad = g.clone() if t._grad is None else t._grad + g
            if adjoints is not None:
                adjoints[node] = list(buf)
            if wanted is not None:
                for nr, g in enumerate(buf):
                    for i in wanted.get((node, nr), ()):
                        captured[i] = g
            grads_out = [g if g is not None else _zeros(meta, node.device) for g, meta in zip(buf, node.output_meta)]
            grads_in = node._function.backward(node, *grads_out)
            if not isinstance(grads_in, tuple):
                grads_in = (grads_in,)
            edges = node.next_edges
            if len(grads_in) < len(edges) or any(g is not None for g in grads_in[len(edges):]):
                raise RuntimeError(
                    f"function {node.name()} returned an incorrect number of gradients "
                    f"(expected {len(edges)}, got {len(grads_in)})")
            if not retain_graph:
                node._release()
            for i, (edge, g) in enumerate(zip(edges, grads_in)):
                if edge is None or g is None:
                    continue
                if not isinstance(g, Tensor):
                    raise TypeError(f"function {node.name()} returned a gradient of type "
                                    f"{type(g).__name__} at index {i}; expected a Tensor or None")
                shape, np_dtype = node.input_meta[i]
                conformed = g if g._data.shape == shape else _sum_to(g, shape, node, i)
                if conformed._data.dtype != np_dtype:
                    conformed = conformed.to(from_numpy_dtype(np_dtype))
                target, nr = edge
                if isinstance(target, BackwardNode):
                    tbuf = buffers.setdefault(target, [None] * len(target.output_meta))
                    tbuf[nr] = _add(tbuf[nr], conformed)
                else:
                    # a grad that is also another edge's or this node's incoming one may be
                    # aliased elsewhere: it's copied before it becomes a leaf's .grad
                    borrowed = conformed is g and (any(g is x for x in grads_out) or
                                                   sum(g is x for x in grads_in) > 1)
                    entry = leaf_grads.get(target)
                    if entry is None:
                        leaf_grads[target] = [conformed, borrowed]
                    else:
                        entry[0], entry[1] = entry[0] + conformed, False
    finally:
        _state.enabled = prev

    for leaf, (g, borrowed) in leaf_grads.items():
        if leaf._hooks:
            for hook in leaf._hooks:
                result = hook(g)
                if result is not None:
                    g, borrowed = result, True
        if adjoints is not None:
            adjoints[leaf] = g
        if wanted is not None:
            for i in wanted.get((leaf, 0), ()):
                captured[i] = g
        else:
            _accumulate(leaf, g, borrowed, create_graph)
    if wanted is not None:
        return [captured.get(i) for i in range(len(inputs))]
    return None


def _zeros(meta, device):
    shape, np_dtype = meta
    from .._creation import zeros
    return zeros(shape, dtype=from_numpy_dtype(np_dtype), device=device)


def _accumulate(leaf, g, borrowed, create_graph):
    """Add ``g`` into ``leaf.grad`` (in place when the graph of the grad isn't kept)."""
    if not create_graph:
        g = g.detach()
    current = leaf._grad
    if current is None:
        # keep it only if nothing else can see its memory (not a view, not broadcast)
        leaf._grad = g.clone() if borrowed or not g._be.owns(g._data) else g
    elif create_graph or current._requires_grad:
        leaf._grad = current + g
    else:
        current._add_into(g)


from .._tensor import Tensor  # noqa: E402
