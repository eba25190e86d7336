"""``explain(t)``: the tape behind a tensor, printed as a Wengert list.

    v0 = leaf [3] requires_grad          adjoint tensor([...])
    v2 = MulBackward0(v0, v1) [3]
    ...

Each line is one tape entry in record order; after a backward, leaves show their
``.grad``, and entries whose output retained its gradient show it too.
"""
from .autograd.engine import _reachable
from .autograd.function import BackwardNode


def explain(t, file=None):
    """Print (and return) the Wengert list that computes ``t``."""
    lines = []
    names = {}
    if t.grad_fn is None:
        lines.append(f"v0 = leaf {list(t.shape)}" + (" requires_grad" if t.requires_grad else ""))
    else:
        nodes = list(reversed(_reachable([t.grad_fn])))
        leaves = []
        for node in nodes:
            for edge in node.next_edges:
                if edge is not None and not isinstance(edge[0], BackwardNode) and edge[0] not in names:
                    names[edge[0]] = f"v{len(names)}"
                    leaves.append(edge[0])
        for leaf in leaves:
            grad = "" if leaf._grad is None else f"   adjoint {_short(leaf._grad)}"
            lines.append(f"{names[leaf]} = leaf {list(leaf.shape)} requires_grad{grad}")
        for node in nodes:
            names[node] = f"v{len(names)}"
            args = []
            for edge, meta in zip(node.next_edges, node.input_meta):
                if meta is None:
                    continue  # a non-tensor argument (an exponent, an index)
                if edge is None:
                    args.append("const")
                else:
                    target, nr = edge
                    args.append(names[target] + (f"[{nr}]" if isinstance(target, BackwardNode)
                                                 and len(target.output_meta) > 1 else ""))
            shapes = ", ".join(str(list(m[0])) for m in node.output_meta if m is not None)
            released = "  (freed)" if node._released else ""
            lines.append(f"{names[node]} = {node.name()}({', '.join(args)}) -> {shapes}{released}")
    text = "\n".join(lines)
    print(text, file=file)
    return text


def _short(t):
    return " ".join(repr(t.detach()).split())
