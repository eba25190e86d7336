"""``explain(t)``: the tape behind a tensor, printed as a Wengert list.

    v0 = leaf [2] requires_grad
    v2 = MulBackward0(v0, v1) -> [2]
    v3 = SumBackward0(v2) -> []

One line per tape entry, in record order.  ``explain(t, backward=True)`` also runs the
reverse pass (without touching ``.grad``) and shows each entry's adjoint: the gradient
of ``t`` with respect to that entry's output.
"""
from .autograd.engine import _reachable, run_backward
from .autograd.function import BackwardNode


def explain(t, backward=False, file=None):
    """Print (and return) the Wengert list that computes ``t``; with ``backward`` the
    adjoint of every entry (``t`` must then have one element)."""
    if t.grad_fn is None:
        text = f"v0 = leaf {list(t.shape)}" + (" requires_grad" if t.requires_grad else "")
        print(text, file=file)
        return text
    nodes = list(reversed(_reachable([t.grad_fn])))
    names, leaves = {}, []
    for node in nodes:
        for edge in node.next_edges:
            if edge is not None and not isinstance(edge[0], BackwardNode) and edge[0] not in names:
                names[edge[0]] = f"v{len(names)}"
                leaves.append(edge[0])
    for node in nodes:
        names[node] = f"v{len(names)}"

    adjoints = {}
    if backward:
        from ._creation import ones_like
        run_backward([t], [ones_like(t)], retain_graph=True, create_graph=False,
                     inputs=leaves, adjoints=adjoints)

    lines = []
    for leaf in leaves:
        line = f"{names[leaf]} = leaf {list(leaf.shape)} requires_grad"
        if leaf in adjoints:
            line += f"   adjoint {_short(adjoints[leaf])}"
        elif leaf._grad is not None:
            line += f"   .grad {_short(leaf._grad)}"
        lines.append(line)
    for node in nodes:
        args = []
        for edge, meta in zip(node.next_edges, node.input_meta):
            if meta is None:
                continue  # a non-tensor argument (an exponent, an index)
            if edge is None:
                args.append("const")
            else:
                target, nr = edge
                multi = isinstance(target, BackwardNode) and len(target.output_meta) > 1
                args.append(names[target] + (f"[{nr}]" if multi else ""))
        shapes = ", ".join(str(list(m[0])) for m in node.output_meta if m is not None)
        line = f"{names[node]} = {node.name()}({', '.join(args)}) -> {shapes}"
        if node in adjoints:
            line += "   adjoint " + ", ".join(_short(g) if g is not None else "0" for g in adjoints[node])
        if node._released:
            line += "  (freed)"
        lines.append(line)
    text = "\n".join(lines)
    print(text, file=file)
    return text


def _short(t):
    return " ".join(repr(t.detach()).split())
