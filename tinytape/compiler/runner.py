"""The per-call glue around a replay, generated as one Python function: read the
sources' current arrays, run the replay, apply the effects, build the result.

    def run(args):
        values = replay(args[0]._data, args[1]._data, s2._data, s3._data)
        s2._version[0] += 1
        return _make(values[11], backend=backend0)

A loop over the program's source and effect lists cost ~10 us a call; this costs ~1.
"""
import numpy as np

from .._tensor import Tensor


def _copy(arr):
    return np.array(arr, copy=True) if isinstance(arr, np.ndarray) else arr.copy()


def make_runner(program, replay, externals, fresh):
    namespace = {"replay": replay, "_make": Tensor._make, "_copy": _copy}

    def bind(value, prefix="s"):
        name = f"{prefix}{len(namespace)}"
        namespace[name] = value
        return name

    reads = []
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
        else:
            reads.append(bind(what, "c"))

    def own(b):
        return f"values[{b}]" if fresh(b) else f"_copy(values[{b}])"

    lines = ["def run(args):", f"    values = replay({', '.join(reads)})"]
    for effect in program.effects:
        kind, what = effect[1]
        target = f"args[{what}]" if kind == "arg" else bind(what)
        if effect[0] == "version":
            lines.append(f"    {target}._version[0] += {effect[2]}")
        elif effect[0] == "grad_none":
            lines.append(f"    {target}._grad = None")
        else:
            lines.append(f"    {target}._grad = _make({own(effect[2])}, backend={target}._backend)")

    def build(tpl):
        kind = tpl[0]
        if kind == "t":
            return f"_make({own(tpl[1])}, backend={bind(tpl[2], 'backend')})"
        if kind == "seq":
            items = "".join(build(x) + ", " for x in tpl[2])
            if tpl[1] is tuple:
                return f"({items})"
            if tpl[1] is list:
                return f"[{items}]"
            return f"{bind(tpl[1], 'type')}(({items}))"
        if kind == "dict":
            return "{" + ", ".join(f"{bind(k, 'k')}: {build(v)}" for k, v in tpl[1].items()) + "}"
        return bind(tpl[1], "c")
    lines.append(f"    return {build(program.result_template)}")
    source = "\n".join(lines) + "\n"
    exec(compile(source, "<tinytape call>", "exec"), namespace)
    return namespace["run"]
