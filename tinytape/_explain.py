"""``explain(t)``: the tape behind a tensor, printed as a Wengert list.

    v0 = leaf [2] requires_grad
    v2 = MulBackward0(v0, v1) -> [2]
    v3 = SumBackward0(v2) -> []

``tape_of(t)`` collects the entries that compute ``t`` into a ``Tape`` (one entry per
recorded op, in record order, inputs and outputs as value numbers); ``explain`` prints
that list.  ``explain(t, backward=True)`` also runs the reverse pass (without touching
``.grad``) and shows each entry's adjoint: the gradient of ``t`` with respect to that
entry's output.
"""
from .autograd.engine import _reachable, run_backward
from .autograd.function import BackwardNode
from .autograd.tape import Tape, TapeEntry


def tape_of(t):
    """(Tape, [object per value number]): leaves first, then the ops in record order.
    An entry's inputs are value numbers (``(number, output index)`` into an op with
    several outputs), or None for a constant tensor input."""
    tape, objects = Tape(), []
    if t.grad_fn is None:
        tape.append(TapeEntry("leaf", None, (), (0,), (list(t.shape), t.requires_grad)))
        return tape, [t]
    nodes = list(reversed(_reachable([t.grad_fn])))
    number = {}
    for node in nodes:
        for edge in node.next_edges:
            if edge is not None and not isinstance(edge[0], BackwardNode) and edge[0] not in number:
                number[edge[0]] = len(objects)
                objects.append(edge[0])
                tape.append(TapeEntry("leaf", None, (), (number[edge[0]],), (list(edge[0].shape), True)))
    for node in nodes:
        number[node] = len(objects)
        objects.append(node)
    for node in nodes:
        inputs = []
        for edge, dtype in zip(node.next_edges, node.input_dtypes):
            if dtype is None:
                continue  # a non-tensor argument (an exponent, an index)
            if edge is None:
                inputs.append(None)
            else:
                target, nr = edge
                multi = isinstance(target, BackwardNode) and len(target.output_shapes) > 1
                inputs.append((number[target], nr) if multi else number[target])
        shapes = tuple(list(s) for s in node.output_shapes if s is not None)
        tape.append(TapeEntry(node.name(), None, inputs, (number[node],), shapes))
    return tape, objects


def explain(t, backward=False, file=None):
    """Print (and return) the Wengert list that computes ``t``; with ``backward`` the
    adjoint of every entry (``t`` must then have one element)."""
    tape, objects = tape_of(t)
    if t.grad_fn is None:
        text = _line(tape[0], None, {})
        print(text, file=file)
        return text
    adjoints = {}
    if backward:
        from ._creation import ones_like
        leaves = [o for o in objects if not isinstance(o, BackwardNode)]
        run_backward([t], [ones_like(t)], retain_graph=True, create_graph=False,
                     inputs=leaves, adjoints=adjoints)
    lines = [_line(entry, objects[entry.outputs[0]], adjoints) for entry in tape]
    text = "\n".join(lines)
    print(text, file=file)
    return text


def _line(entry, obj, adjoints):
    v = f"v{entry.outputs[0]}"
    if entry.kernel == "leaf":
        shape, requires_grad = entry.attrs
        line = f"{v} = leaf {shape}" + (" requires_grad" if requires_grad else "")
        if obj in adjoints:
            line += f"   adjoint {_short(adjoints[obj])}"
        elif getattr(obj, "_grad", None) is not None:
            line += f"   .grad {_short(obj._grad)}"
        return line
    args = ", ".join("const" if i is None else f"v{i[0]}[{i[1]}]" if isinstance(i, tuple) else f"v{i}"
                     for i in entry.inputs)
    line = f"{v} = {entry.kernel}({args}) -> {', '.join(str(s) for s in entry.attrs)}"
    if obj in adjoints:
        line += "   adjoint " + ", ".join(_short(g) if g is not None else "0" for g in adjoints[obj])
    if obj._released:
        line += "  (freed)"
    return line


def _short(t):
    return " ".join(repr(t.detach()).split())
