"""The per-call glue around a replay, generated as one Python function: read the
sources' current arrays, run the replay, apply the effects, build the result.

    def run(args):
        values = replay(args[0]._data, args[1]._data, s2._data, s3._data)
        s2._version_counter[0] += 1
        return _make(values[11], backend=backend0)

A loop over the program's source and effect lists cost ~10 us a call; this costs ~1.
"""
import itertools

import numpy as np

from .._tensor import Tensor
from ..autograd.function import FREED_GRAPH, BackwardNode
from ..backend.layout import elementwise_order
from .scalars import ScalarMiss


def _copy(arr):
    return np.array(arr, copy=True) if isinstance(arr, np.ndarray) else arr.copy()


def _laid_out(arr, strides, order):
    """``arr`` with the strides of eager's result, which was laid out in ``order`` (a
    transposed ``x.t() + 1``, a ``.grad`` in its leaf's layout): a replay hands back a
    constant or a copy C-contiguous."""
    if arr.strides == strides:
        return arr
    out = np.empty([arr.shape[d] for d in order], arr.dtype).transpose([order.index(d) for d in range(len(order))])
    out[...] = arr
    return out


class _Spent:
    """The backward of a replayed result whose graph eager's backward already freed: a
    second backward raises as it would have on eager's result."""

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(FREED_GRAPH)


_spent_classes = {}
_seq = itertools.count(-1, -1).__next__  # before every recorded entry


def _spent(name, data, backend):
    cls = _spent_classes.get(name)
    if cls is None:
        cls = _spent_classes[name] = type(name, (BackwardNode,), {"_function": _Spent, "_released": True})
    node = cls()
    node.next_nodes, node.next_nrs, node.input_shapes, node.input_dtypes, node.seq = (), (), (), (), _seq()
    node.output_shapes, node.output_dtypes, node.device = (data.shape,), (data.dtype,), backend.device
    return Tensor._make(data, True, node, 0, None, backend)


def _laid(arr, strides):
    """``arr`` with eager's strides (in bytes): a result eager returns as a view of an
    intermediate (``c.unbind(1)``, a transpose) has the layout the caller sees through
    ``stride()`` and ``is_contiguous()``, where a replay's buffer may be laid out densely."""
    if arr.strides == strides or arr.size == 0:
        return arr
    item = arr.itemsize
    low = sum((n - 1) * s for n, s in zip(arr.shape, strides) if s < 0)
    high = sum((n - 1) * s for n, s in zip(arr.shape, strides) if s > 0)
    store = np.empty((high - low) // item + 1, arr.dtype)
    out = np.lib.stride_tricks.as_strided(store[-low // item:], arr.shape, strides)
    np.copyto(out, arr)
    return out


def _number(value):
    return np.array(value, np.float64)


def _scalar(source, raw, kw):
    """A number argument's expression on this call's numbers, as its 0-d array; a failure
    or a result of another type than the trace's is a ``ScalarMiss`` (the call runs eagerly,
    where the expression meets its error at eager's place)."""
    expression, kind, kernel, dtype, _ = source
    try:
        value = expression(raw, kw)
        if type(value) is kind:
            return kernel(value, dtype)
    except Exception:  # (the kernel's too: eager raises it at its op, after the ops before it)
        pass
    raise ScalarMiss


def make_runner(program, replay, externals, fresh):
    namespace = {"replay": replay, "_make": Tensor._make, "_copy": _copy, "_spent": _spent, "_laid": _laid, "_number": _number,
                 "_scalar": _scalar, "_laid_out": _laid_out}

    def bind(value, prefix="s"):
        name = f"{prefix}{len(namespace)}"
        namespace[name] = value
        return name

    reads, head, scalars = [], [], {}
    for b in externals:
        kind, what = program.sources[b]
        if kind == "arg":
            reads.append(f"args[{what}]._data")
        elif kind == "arggrad":
            reads.append(f"args[{what}]._grad._data")
        elif kind == "data":
            reads.append(f"{bind(what)}._data")
        elif kind == "grad":
            reads.append(f"{bind(what)}._grad._data")
        elif kind == "live":
            reads.append(bind(what))
        elif kind == "number":
            element = "" if what[2] is None else f"[{what[2]:d}]"
            reads.append(f"_number({bind(what[0])}[{bind(what[1], 'k')}]{element})")
        elif kind == "scalar":  # one evaluation per expression and dtype where no kernel writes it
            same = (what[0], what[3]) if b not in program.written else b
            if same not in scalars:
                scalars[same] = f"n{len(scalars)}"
                head.append(f"    {scalars[same]} = _scalar({bind(what)}, raw, kw)")
            reads.append(scalars[same])
        elif b in program.written:  # a constant the program writes into: a fresh copy per replay
            reads.append(f"_copy({bind(what, 'c')})")
        else:
            reads.append(bind(what, "c"))

    def own(b):
        value = f"values[{b}]" if fresh(b) else f"_copy(values[{b}])"
        eager = program.capture.arrays[b]
        order = elementwise_order(eager.shape, (eager,)) if isinstance(eager, np.ndarray) else None
        return value if order is None else f"_laid_out({value}, {eager.strides!r}, {order!r})"

    lines = ["def run(args, raw=(), kw=None):"] + head + [f"    values = replay({', '.join(reads)})"]
    for effect in program.effects:
        kind, what = effect[1]
        target = f"args[{what}]" if kind == "arg" else bind(what)
        if effect[0] == "version":
            lines.append(f"    {target}._version_counter[0] += {effect[2]}")
        elif effect[0] == "grad_version":
            lines.append(f"    {target}._grad._version_counter[0] += {effect[2]}")
        elif effect[0] == "requires_grad":
            lines.append(f"    {target}._requires_grad = {effect[2]}")
        elif effect[0] == "grad_is":  # .grad set to an argument or a tensor from outside: that object
            kind2, what2 = effect[2]
            lines.append(f"    {target}._grad = " + (f"args[{what2}]" if kind2 == "arg" else bind(what2)))
        elif effect[0] == "grad_none":
            lines.append(f"    {target}._grad = None")
        else:
            lines.append(f"    {target}._grad = _make({own(effect[2])}, backend={target}._backend)")

    made = set()

    def build(tpl):
        kind = tpl[0]
        if kind == "same":  # the argument or outside tensor itself
            return f"args[{tpl[2]}]" if tpl[1] == "arg" else bind(tpl[2])
        if kind == "grad":  # its .grad, as the effects above left it
            return (f"args[{tpl[2]}]" if tpl[1] == "arg" else bind(tpl[2])) + "._grad"
        if kind == "raw":  # an object it received
            return f"raw[{tpl[1]}]"
        if kind == "t":
            _, b, backend, spent, index, leaf_grad, version, strides = tpl
            name = f"r{index}"
            if index not in made:  # one tensor returned twice is one object, made once
                made.add(index)
                backend_name = bind(backend, "backend")
                data = own(b) if strides is None else f"_laid({own(b)}, {strides!r})"
                make = f"_spent({spent!r}, {data}, {backend_name})" if spent else \
                    f"_make({data}, {leaf_grad}, None, 0, {f'[{version}]' if version else None}, {backend_name})"
                lines.append(f"    {name} = {make}")
            return name
        if kind in ("seq", "dict"):
            index = tpl[3]
            name = f"c{index}_"
            if index in made:
                return name
            made.add(index)
            if kind == "seq":
                items = "".join(build(x) + ", " for x in tpl[2])
                if tpl[1] is tuple:
                    value = f"({items})"
                elif tpl[1] is list:
                    value = f"[{items}]"
                elif hasattr(tpl[1], "_make"):  # a namedtuple
                    value = f"{bind(tpl[1], 'type')}._make(({items}))"
                else:
                    value = f"{bind(tpl[1], 'type')}(({items}))"
            else:
                pairs = ", ".join(f"({bind(k, 'k')}, {build(v)})" for k, v in tpl[2].items())
                value = f"dict([{pairs}])" if tpl[1] is dict else f"{bind(tpl[1], 'type')}([{pairs}])"
            lines.append(f"    {name} = {value}")
            return name
        return bind(tpl[1], "c")
    result = build(program.result_template)
    lines.append(f"    return {result}")
    source = "\n".join(lines) + "\n"
    exec(compile(source, "<tinytape call>", "exec"), namespace)
    return namespace["run"]
