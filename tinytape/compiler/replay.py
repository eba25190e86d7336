"""The portable replay: the captured kernel calls as one generated Python function.

No autograd, no tensors: the backend's kernels called in record order on the buffers,
with the static arguments as constants.  It serves any backend (CPU and CUDA alike)
and any program the fused code generators do not cover.
"""
import math

from .capture import own_kernel, strided_view

CONSTANTS = frozenset({"scalar", "full"})  # backend calls that make an array from static values
# calls whose result may share memory with another buffer or outlive one replay
SHARING = CONSTANTS | {"broadcast_to", "swapaxes", "permute", "reshape", "view", "expand_dims", "squeeze",
                       "index", "strided_view", "contiguous", "astype", "copy_into", "setitem"}


_VIEWING = SHARING - CONSTANTS - {"setitem", "copy_into"}  # calls whose result may be a view of their first buffer


def fresh_test(program):
    """``fresh(b)``: whether buffer b's array is new to each replay (made by a kernel, not
    a view, a hoisted constant or an argument), so it can be handed out without a copy."""
    fresh = {out for _, kernel, _, _, out in program.capture.calls
             if kernel not in SHARING and isinstance(out, int)}
    fresh -= set(program.sources)
    for _, kernel, _, _, out in program.capture.calls:  # written in place somewhere: not fresh
        if kernel in SHARING and isinstance(out, int):
            fresh.discard(out)
    return fresh.__contains__


def python_replay_lines(program, indices=None):
    """({'head', 'calls': [(call index, line)], 'tail'}, namespace, externals) for the
    calls ``indices`` (all by default)."""
    capture = program.capture
    externals = list(program.sources)
    namespace = {}
    names = {}  # (backend index, kernel) -> global name

    def const(value):
        name = f"c{len(namespace)}"
        namespace[name] = value
        return name

    def arg(tpl):
        kind = tpl[0]
        if kind == "b":
            return f"b{tpl[1]}"
        if kind == "l":
            inner = ", ".join(arg(t) for t in tpl[2])
            return f"[{inner}]" if tpl[1] is list else f"({inner},)"
        value = tpl[1]
        if value is None or isinstance(value, (bool, int, str)) or isinstance(value, float) and math.isfinite(value):
            return repr(value)  # (an infinite or nan float has no literal: a constant below)
        return const(value)

    written = [b for *_, out_t in capture.calls for b in (out_t if isinstance(out_t, tuple) else (out_t,))]
    overwritten = _written_in_place(capture.calls)
    calls = []
    for i, (backend_index, kernel, args_t, kwargs_t, out_t) in enumerate(capture.calls):
        if indices is not None and i not in indices:
            continue
        if kernel in CONSTANTS and isinstance(out_t, int) and written.count(out_t) == 1 and out_t not in overwritten:
            # a constant (a scalar operand, a fill value) is made once, not per call:
            # on a GPU each would be a transfer
            # (a copy: the trace handed the array itself to the caller, who may write into it)
            value = program.constant_values.get(out_t, capture.arrays[out_t])  # (as the trace left it)
            calls.append((i, f"    b{out_t} = {const(value.copy() if hasattr(value, 'copy') else value)}"))
            continue
        key = (backend_index, kernel)
        if key not in names:
            names[key] = f"k{len(names)}_{kernel}"
            namespace[names[key]] = strided_view if backend_index is None else \
                own_kernel(program.backends[backend_index], kernel)
        call = ", ".join([arg(a) for a in args_t] + [f"{k}={arg(v)}" for k, v in kwargs_t.items()])
        if out_t is None:
            target = ""
        elif isinstance(out_t, tuple):
            target = ", ".join(f"b{b}" for b in out_t) + ", = "
        else:
            target = f"b{out_t} = "
        calls.append((i, f"    {target}{names[key]}({call})"))
    wanted = program.result_buffers()
    lines = {"head": f"def replay({', '.join(f'b{b}' for b in externals)}):", "calls": calls,
             "tail": "    return {" + ", ".join(f"{b}: b{b}" for b in wanted) + "}"}
    return lines, namespace, externals


def _written_in_place(calls):
    """The buffers a call writes into in place (``setitem``'s target: its first argument,
    no output), followed through the views made of them to the arrays they view: a
    constant written so (a mask of ones with chosen places zeroed) is made afresh at each
    replay, not once (the writes would pile up from replay to replay)."""
    base_of = {out: args[0][1] for _, kernel, args, _, out in calls  # (a view's first buffer is what it views)
               if kernel in _VIEWING and isinstance(out, int) and args and args[0][0] == "b"}
    overwritten = set()
    for _, _, args, _, out in calls:
        if out is None and args and args[0][0] == "b":
            b = args[0][1]
            while b is not None and b not in overwritten:
                overwritten.add(b)
                b = base_of.get(b)
    return overwritten


def python_replay(program):
    """(function(*external arrays) -> {buffer: array}, externals order, fresh(b), source)."""
    lines, namespace, externals = python_replay_lines(program)
    source = "\n".join([lines["head"]] + [line for _, line in lines["calls"]] + [lines["tail"]]) + "\n"
    exec(compile(source, "<tinytape replay>", "exec"), namespace)
    return namespace["replay"], externals, fresh_test(program), source
