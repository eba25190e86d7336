"""The explicit tape: a list of entries in record order.

An entry is one step of a straight-line program, ``outputs = kernel[op](inputs; attrs)``:

- ``kernel``: what ran (a backend kernel name such as ``binary`` or ``matmul``, or an
  autograd op name such as ``MulBackward0`` for the op-level tape ``explain`` prints);
- ``op``: the op code the kernel was called with (``backend.opcodes``), or None;
- ``inputs`` / ``outputs``: buffer numbers (``v3``), or None for a non-tensor argument;
- ``attrs``: the static arguments (axes, shapes, scalars) by position;
- ``label``: the autograd op that was running when the entry was recorded.

Eager autograd keeps its implicit graph of nodes (``grad_fn``); a ``Tape`` is filled only
while one is open (``with Tape() as tape:``), by the compiler's capture of backend
kernels, and read by ``explain`` and the compiler.
"""
import threading


class _Local(threading.local):
    # a class-level default: reading a missing attribute of a threading.local raises and
    # catches AttributeError inside (0.33 us), and ``note_op`` reads this once per op
    stack = None


_local = _Local()


class TapeEntry:
    __slots__ = ("kernel", "op", "inputs", "outputs", "attrs", "label")

    def __init__(self, kernel, op, inputs, outputs, attrs=(), label=None):
        self.kernel, self.op, self.inputs, self.outputs = kernel, op, tuple(inputs), tuple(outputs)
        self.attrs, self.label = tuple(attrs), label

    def __repr__(self):
        return self.format()

    def format(self, name=lambda b: f"v{b}"):
        outs = ", ".join(name(b) for b in self.outputs)
        args = [_arg(name, b) for b in self.inputs if b is not None]
        args += [repr(a) for a in self.attrs if a is not None]
        kernel = self.kernel if self.op is None else f"{self.kernel}[{_op_name(self.kernel, self.op)}]"
        text = f"{outs or '_'} = {kernel}({', '.join(args)})"
        return text + (f"   # {self.label}" if self.label else "")


def _arg(name, b):
    if isinstance(b, tuple):
        return "[" + ", ".join(name(x) for x in b) + "]"
    return name(b)


def _op_name(kernel, op):
    from ..backend import opcodes
    group = {"unary": ("NEG", "COS"), "binary": ("ADD", "BCE"), "compare": ("EQ", "GE"),
             "reduce": ("SUM", "SUMSQ"), "argreduce": ("SUM", "SUMSQ")}.get(kernel)
    if group is None or not isinstance(op, int):
        return repr(op)
    names = [n for n in vars(opcodes) if n.isupper()]
    lo, hi = names.index(group[0]), names.index(group[1])
    for n in names[lo:hi + 1]:
        if getattr(opcodes, n) == op:
            return n.lower()
    return repr(op)


class Tape(list):
    """A list of ``TapeEntry``; ``with Tape() as tape:`` makes it the one being recorded."""

    def __enter__(self):
        stack = _stack()
        stack.append(self)
        self.label = None
        return self

    def __exit__(self, *exc):
        _stack().remove(self)

    def record(self, kernel, op, inputs, outputs, attrs=()):
        self.append(TapeEntry(kernel, op, inputs, outputs, attrs, self.label))

    def format(self, name=lambda b: f"v{b}"):
        return "\n".join(entry.format(name) for entry in self)


def _stack():
    stack = _local.stack
    if stack is None:
        stack = _local.stack = []
    return stack


def current():
    """The innermost open tape of this thread, or None."""
    stack = _local.stack
    return stack[-1] if stack else None


def note_op(function_cls):
    """Called by ``Function.apply``: label the kernels that follow with the op's name."""
    stack = _local.stack
    if stack:
        stack[-1].label = function_cls._backward_cls.__name__
