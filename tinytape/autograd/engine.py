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
from operator import attrgetter

from .._dtype import from_numpy_dtype
from .._tensor import Tensor
from ..backend.layout import dense_order
from ..backend.opcodes import ADD, SUM
from . import anomaly
from .accumulate_grad import _POST_HOOKS, run_post_accumulate_hooks
from .function import BackwardNode, _state
from .tape import _local as _tape_local


def run_backward(roots, root_grads, retain_graph, create_graph, inputs=None, adjoints=None):
    """Back-propagate ``root_grads`` from ``roots``.

    With ``inputs`` None, gradients accumulate into ``.grad`` of the leaves reached.
    Otherwise (``autograd.grad``) nothing is accumulated and the gradients of
    ``inputs`` are returned, None for those not reached.  ``adjoints``, a dict, receives
    each entry's output gradients (and each leaf's) for ``explain``.
    """
    walk = _Walk(roots, root_grads, inputs, adjoints)
    prev, _state.enabled = _state.enabled, create_graph
    try:
        buffers = walk.buffers
        observed = walk.adjoints is not None or walk.wanted is not None
        propagate = walk.propagate
        for node in _reachable([t._grad_fn for t in roots]):
            buf = buffers.pop(node, None)
            if buf is None:
                continue  # no gradient reaches this entry from these roots
            # the per-entry work is tested inline: most entries have no hooks, no retained
            # grads and no observer, and a Python call costs ~0.1 us
            if node._hooks:
                _run_node_hooks(node, buf)
            if node._retained:
                _retain_grads(node, buf, create_graph)
            if observed:
                walk.observe(node, buf)
            grads_out, grads_in = _call_backward(node, buf)
            if node._hooks and "post" in node._hooks:
                grads_in = _run_post_hooks(node, grads_in, grads_out)
            if not retain_graph and node._saved:  # an entry that saved nothing can run again, as PyTorch's
                node._saved, node._released = None, True  # its saved tensors freed
            propagate(node, grads_out, grads_in)
    finally:
        _state.enabled = prev
    return walk.finish(create_graph)


_SEQ = attrgetter("seq")


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
        for target in node.next_nodes:
            if target is not None and isinstance(target, BackwardNode) and target not in seen:
                stack.append(target)
    order.sort(key=_SEQ, reverse=True)
    return order


class _Walk:
    """The gradients in flight: per-entry buffers, per-leaf sums, and what the caller
    asked to see (``inputs`` for ``autograd.grad``, ``adjoints`` for ``explain``)."""

    def __init__(self, roots, root_grads, inputs, adjoints):
        self.buffers = {}     # node -> [grad per output]
        # leaf -> [grad, borrowed, owned]: borrowed grads are copied before they become .grad;
        # an owned one is a sum this walk made, seen by nothing else, so added to in place
        self.leaf_grads = {}
        self.adjoints = adjoints
        self.inputs = inputs
        self.captured = {}
        self.wanted = None
        if inputs is not None:
            self.wanted = {}
            for i, t in enumerate(inputs):
                key = (t._grad_fn, t._output_nr) if t._grad_fn is not None else (t, 0)
                self.wanted.setdefault(key, []).append(i)
        for t, g in zip(roots, root_grads):
            if t._grad_fn is None:
                entry = self.leaf_grads.setdefault(t, [None, True, False])
                entry[0] = _add(entry[0], g)
            else:
                self._add_to_node(t._grad_fn, t._output_nr, g)

    def _add_to_node(self, node, nr, g):
        buf = self.buffers.get(node)
        if buf is None:
            buf = self.buffers[node] = [None] * len(node.output_shapes)
        buf[nr] = _add(buf[nr], g)

    def observe(self, node, buf):
        if self.adjoints is not None:
            self.adjoints[node] = list(buf)
        if self.wanted is not None:
            for nr, g in enumerate(buf):
                for i in self.wanted.get((node, nr), ()):
                    self.captured[i] = g

    def propagate(self, node, grads_out, grads_in):
        """Send each input gradient, conformed to its input's shape and dtype, along its edge."""
        shapes, dtypes = node.input_shapes, node.input_dtypes
        buffers = self.buffers
        i = -1
        for target in node.next_nodes:  # grads_in has at least as many entries
            i += 1
            g = grads_in[i]
            if target is None or g is None:
                continue
            if not isinstance(g, Tensor):
                raise TypeError(f"function {node.name()} returned a gradient of type "
                                f"{type(g).__name__} at index {i}; expected a Tensor or None")
            shape, np_dtype = shapes[i], dtypes[i]
            conformed = g if g._data.shape == shape else _sum_to(g, shape, node, i)
            dtype = conformed._data.dtype
            if dtype is not np_dtype and dtype != np_dtype:
                if dtype.kind == "c" and np_dtype.kind != "c":  # a real input's gradient: the real part
                    conformed = conformed.real
                conformed = conformed.to(from_numpy_dtype(np_dtype))
            if isinstance(target, BackwardNode):
                buf = buffers.get(target)  # _add_to_node, inline: once per edge of the walk
                if buf is None:
                    buf = buffers[target] = [None] * len(target.output_shapes)
                nr = node.next_nrs[i]
                old = buf[nr]
                buf[nr] = conformed if old is None else _sum(old, conformed)
                continue
            # a grad that is also another edge's or this node's incoming one may be
            # aliased elsewhere: it's copied before it becomes a leaf's .grad
            borrowed = conformed is g and (_count(g, grads_out) > 0 or _count(g, grads_in) > 1)
            entry = self.leaf_grads.get(target)
            if entry is None:
                self.leaf_grads[target] = [conformed, borrowed, False]
            elif entry[2] and _add_in_place(entry[0], conformed):
                pass  # a weight used at every step of a recurrence: no new buffer per step
            else:
                entry[0], entry[1], entry[2] = _sum(entry[0], conformed), False, not _state.enabled

    def finish(self, create_graph):
        """Run the leaves' hooks, then accumulate into ``.grad`` or return what was asked."""
        for leaf, (g, borrowed, _) in self.leaf_grads.items():
            if leaf._hooks:
                # a hook may keep the gradient it was given (or return one it holds): ``.grad``
                # takes a copy, or the next backward would add into what the hook kept
                g, _ = _run_hooks(leaf._hooks, g)
                borrowed = True
            if self.adjoints is not None:
                self.adjoints[leaf] = g
            if self.wanted is not None:
                for i in self.wanted.get((leaf, 0), ()):
                    self.captured[i] = g
            else:
                _accumulate(leaf, g, borrowed, create_graph)
        if self.wanted is not None:
            return [self.captured.get(i) for i in range(len(self.inputs))]
        return None


def _run_hooks(hooks, g):
    """``g`` after each hook in turn (a hook returning None leaves it); whether one replaced it.
    A hook may not change the gradient's shape, dtype or device (what flows on is checked
    against what the entries downstream were recorded with)."""
    changed = False
    for hook in list(hooks):
        result = hook(g)
        if result is None:
            continue
        name = getattr(hook, "__name__", type(hook).__name__)
        if not isinstance(result, Tensor):
            raise TypeError(f"hook '{name}' returned a {type(result).__name__}; expected a Tensor or None")
        if result._data.shape != g._data.shape:
            raise RuntimeError(f"hook '{name}' has changed the size of value (was {list(g.shape)}, "
                               f"got {list(result.shape)})")
        if result._data.dtype != g._data.dtype or result._backend is not g._backend:
            from .._tensor import type_name
            raise RuntimeError(f"hook '{name}' has changed the type of value (was {type_name(g.dtype)} "
                               f"on {g.device} got {type_name(result.dtype)} on {result.device})")
        g, changed = result, True
    return g, changed


def _run_node_hooks(node, buf):
    """The hooks of the entry's outputs (tensor hooks, by output number), then its pre-hooks."""
    if node._hooks:
        for nr, hooks in node._hooks.items():
            if type(nr) is int and buf[nr] is not None:
                buf[nr] = _run_hooks(hooks, buf[nr])[0]
        for hook in list(node._hooks.get("pre", ())):
            result = hook(tuple(buf))
            if result is not None:
                buf[:] = result


def _run_post_hooks(node, grads_in, grads_out):
    """The entry's hooks on its input gradients (None where an input needs none); one may
    return replacements."""
    grads_in = tuple(None if target is None else g for g, target in zip(grads_in, node.next_nodes))
    for hook in list(node._hooks["post"]):
        result = hook(grads_in, tuple(grads_out))
        if result is not None:
            grads_in = tuple(result)
    return grads_in


def _retain_grads(node, buf, create_graph):
    if node._retained:
        for nr, ref in node._retained.items():
            t = ref()
            if t is not None and buf[nr] is not None:
                g = buf[nr] if create_graph else buf[nr].detach()
                t._grad = g.clone() if t._grad is None else t._grad + g


def _count(x, items):
    """How many of ``items`` are ``x`` (by identity: ``==`` on tensors is elementwise)."""
    n = 0
    for item in items:
        if item is x:
            n += 1
    return n


def _call_backward(node, buf):
    """The entry's backward on its output gradients (zeros for outputs nothing reached, None
    where the entry asked ``set_materialize_grads(False)``)."""
    grads_out = buf
    if (buf[0] is None if len(buf) == 1 else _count(None, buf)) and node._materialize_grads:
        grads_out = [g if g is not None else _zeros(shape, dtype, node.device)
                     for g, shape, dtype in zip(buf, node.output_shapes, node.output_dtypes)]
    if _tape_local.stack:  # the kernels of this backward, labelled with its node
        _tape_local.stack[-1].label = type(node).__name__
    grads_in = node._function.backward(node, *grads_out)
    if not isinstance(grads_in, tuple):
        grads_in = (grads_in,)
    edges = node.next_nodes
    if len(grads_in) != len(edges) and (
            len(grads_in) < len(edges) or any(g is not None for g in grads_in[len(edges):])):
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients "
            f"(expected {len(edges)}, got {len(grads_in)})")
    if anomaly._state.enabled:
        anomaly.check_gradients(node, grads_in)
    return grads_out, grads_in


def _sum_to(grad, shape, node, index):
    """``grad`` summed over the dimensions that broadcasting added to an input of ``shape``."""
    gshape = grad.shape
    lead = len(gshape) - len(shape)
    if lead < 0 or any(s != 1 and s != g for s, g in zip(shape, gshape[lead:])):
        raise RuntimeError(
            f"Function {node.name()} returned an invalid gradient at index {index} - got "
            f"{list(gshape)} but expected shape compatible with {list(shape)}")
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and gshape[lead + i] != 1)
    if not _state.enabled and grad._data.dtype.kind == "f":
        # the graph of the gradient is not kept: the sum op's kernel and a reshape of its
        # result, without two ops' argument checks around them (the bias gradient's case)
        data, backend, shape = grad._data, grad._backend, tuple(shape)
        if dims:  # only leading dims (a bias): summed away, no reshape (a view) after
            data = backend.reduce(SUM, data, dims, len(dims) != lead)
        return grad._new(backend.reshape(data, shape) if data.shape != shape else data)
    if dims:
        grad = grad.sum(dims, keepdim=True)
    return grad.reshape(shape) if grad.shape != tuple(shape) else grad


def _add(a, b):
    return b if a is None else a + b


def _sum(a, b):
    """``a + b`` of two gradients conformed to one shape and dtype: the add op's kernel
    alone where the graph of the gradient is not kept (once per reused tensor)."""
    if _state.enabled or a._backend is not b._backend:
        return a + b
    data = a._data
    if data.shape != b._data.shape or data.dtype is not b._data.dtype:
        return a + b
    return a._new(a._backend.binary(ADD, data, b._data))


def _add_in_place(total, g):
    """``total += g`` for a sum of gradients nothing else holds, where the graph of the
    gradient is not kept (the add op's kernel, into ``total``: the same bits as ``_sum``'s
    new array); False, untouched, where ``_sum`` would not run that kernel."""
    if _state.enabled or total._backend is not g._backend:
        return False
    data = total._data
    if data.shape != g._data.shape or data.dtype is not g._data.dtype:
        return False
    total._backend.binary(ADD, data, g._data, out=data)
    return True


def _zeros(shape, np_dtype, device):
    from .._creation import zeros
    return zeros(shape, dtype=from_numpy_dtype(np_dtype), device=device)


def _accumulate(leaf, g, borrowed, create_graph):
    """Add ``g`` into ``leaf.grad`` (in place when the graph of the grad isn't kept)."""
    if not create_graph:
        g = g.detach()
    current = leaf._grad
    if getattr(current, "is_sparse", False) or getattr(g, "is_sparse", False):  # (sparse sums stay sparse)
        leaf._grad = g.clone() if current is None else current + g
    elif current is None:
        order = dense_order(leaf._data)
        if order is None:  # a C-contiguous .grad, kept only if nothing else can see its memory
            if borrowed or not g._backend.owns(g._data):
                g = g.clone() if g._backend._flat(g._data) else g.contiguous()
        else:  # PyTorch's layout contract: a dense leaf's .grad is laid out as the leaf
            g = g.permute(*order)
            g = g.clone() if g._backend._flat(g._data) else g.contiguous()
            g = g.permute(*(order.index(d) for d in range(len(order))))
        leaf._grad = g
    elif create_graph or current._requires_grad:
        leaf._grad = current + g
    else:
        current._add_into(g)
    if _POST_HOOKS:
        run_post_accumulate_hooks(leaf)

