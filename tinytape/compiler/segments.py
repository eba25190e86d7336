"""Long programs fused in parts: one generated function per run of kernel calls.

numba's compile time grows faster than the function it compiles, so a program of
thousands of kernel calls (a recurrent network's 25 time steps, forward and backward) is
cut into parts.  Where the calls repeat — one time step after another — a part is one
period of the repetition (up to ``MAX_PERIOD`` calls); elsewhere parts are runs of at most
``PART_CALLS`` calls.  Each part's buffers are
numbered afresh in order of first use, so the parts of every period generate the same
source and numba compiles it once (``generated._load`` keys modules by their source).

A part reads the buffers earlier parts (or the caller) made and hands on those later
parts or the caller read; a part the fused generator cannot take replays kernel by kernel.
The whole is checked like any fused program (``verify`` and ``agree``).
"""
from types import SimpleNamespace

import numpy as np

from .replay import fresh_test, python_replay

PART_CALLS = 120  # calls per generated function where nothing repeats
MAX_PERIOD = 400  # the longest repeating block looked for


def _buffers(templates, out):
    for t in templates:
        if t[0] == "b":
            out.append(t[1])
        elif t[0] == "l":
            _buffers(t[2], out)
    return out


def _renumber(tpl, local):
    if tpl[0] == "b":
        return ("b", local[tpl[1]])
    if tpl[0] == "l":
        return ("l", tpl[1], [_renumber(t, local) for t in tpl[2]])
    return tpl


class Part:
    """The calls ``indices`` of ``program`` as a program of their own, its buffers
    numbered from 0 in order of first use (so repeated parts read the same)."""

    def __init__(self, program, indices, carried, needed):
        arrays, local = [], {}

        def number(b):
            if b not in local:
                local[b] = len(arrays)
                arrays.append(program.capture.arrays[b])
            return local[b]
        for b in carried:
            number(b)
        calls = []
        for backend_index, kernel, args_t, kwargs_t, out_t in (program.capture.calls[i] for i in indices):
            for b in _buffers(list(args_t) + list(kwargs_t.values()), []):
                number(b)
            args = tuple(_renumber(t, local) for t in args_t)
            kwargs = {k: _renumber(v, local) for k, v in kwargs_t.items()}
            if isinstance(out_t, tuple):
                out = tuple(number(b) for b in out_t)
            else:
                out = None if out_t is None else number(out_t)
            calls.append((backend_index, kernel, args, kwargs, out))
        self.capture = SimpleNamespace(calls=calls, arrays=arrays)
        self.sources = {local[b]: program.sources.get(b, ("carried", None)) for b in carried}
        self.trace_values = {k: program.trace_values[b] for b, k in local.items() if b in program.trace_values}
        self.constant_values = {k: program.constant_values[b] for b, k in local.items() if b in program.constant_values}
        self.backends = program.backends
        self.not_fused = None
        self.indices = list(indices)
        self.carried = list(carried)
        self.local_needed = [local[b] for b in needed]

    def result_buffers(self):
        return self.local_needed


def _signature(program, call):
    """What a call does, without which buffers it does it to (shapes and dtypes instead)."""
    arrays = program.capture.arrays

    def sig(t):
        if t[0] == "b":
            a = arrays[t[1]]
            return ("b", a.shape, a.dtype)  # (str() of a numpy dtype costs ~100 us)
        if t[0] == "l":
            return ("l", tuple(sig(x) for x in t[2]))
        try:
            hash(t[1])
            return t
        except TypeError:
            return ("c", repr(t[1]))
    _, kernel, args_t, kwargs_t, out_t = call
    if kernel == "index":  # ``xs[t]``: made before its part (``_hoisted``), alike for every t
        return (kernel, tuple(sig(t) for t in args_t if t[0] == "b"))
    return (kernel, tuple(sig(t) for t in args_t), tuple((k, sig(v)) for k, v in sorted(kwargs_t.items())))


def bounds(program):
    """(start, stop, hoisted) of each part: periods of a repetition where the calls repeat,
    runs of at most ``PART_CALLS`` elsewhere; ``hoisted``, the part's calls that run before
    it in the replay's own code (``_hoisted``)."""
    codes = {}
    seq = tuple(codes.setdefault(_signature(program, c), len(codes)) for c in program.capture.calls)
    where = {}
    for i, c in enumerate(seq):
        where.setdefault(c, []).append(i)
    n, out = len(seq), []

    def period_at(i):
        for j in where[seq[i]]:  # a later call like this one: the start of the next period?
            p = j - i
            if p < 4:
                continue
            if p > MAX_PERIOD or i + 2 * p > n:
                return None
            if seq[i:i + p] == seq[i + p:i + 2 * p]:
                return p
        return None

    def runs(start, stop):
        out.extend((s, min(s + PART_CALLS, stop)) for s in range(start, stop, PART_CALLS))
    i = plain = 0
    while i < n:
        p = period_at(i)
        if p is None:
            i += 1
            continue
        runs(plain, i)
        out.append((i, i + p))
        i += p
        while i + p <= n and seq[i:i + p] == seq[i - p:i]:
            out.append((i, i + p))
            i += p
        plain = i
    runs(plain, n)
    made_at = {}  # buffer -> the call that made it (an argument's: none, an in-place write only writes it)
    for i, call in enumerate(program.capture.calls):
        for b in (call[4] if isinstance(call[4], tuple) else () if call[4] is None else (call[4],)):
            if b not in program.sources:
                made_at.setdefault(b, i)
    return [piece for start, stop in out for piece in _around_host_calls(program, start, stop, made_at)]


def _hoisted(call, start, made_at):
    """Basic indexing of a buffer made before the part starts (``xs[t]`` in a loop over time
    steps): its offset differs from step to step, the part around it does not.  It runs
    before the part, in the replay's own code (a view: made earlier, it sees the same
    memory), and the part reads its result as an argument; a slice of a value the part
    computes (``gates.chunk(3)``) is the same in every step and fuses."""
    if call[1] != "index":
        return False
    source = call[2][0]
    return source[0] == "b" and made_at.get(source[1], -1) < start


def _own_part(program, call):
    """A call replayed as a part of its own between fused ones: a kernel the fused
    generator has no rule for (a random draw, a list of buffers) or a transcendental unary
    op (``_host_call``)."""
    from .codegen import _Generator
    return not hasattr(_Generator, "_k_" + call[1]) or _host_call(program, call)


def _host_call(program, call):
    """A transcendental unary op: eager computes it with numpy's routine, which the fused
    code does not reproduce bit for bit — it replays as a part of its own, eager's kernel."""
    from .codegen import host_unary
    _, kernel, args_t, _, _ = call
    return kernel == "unary" and len(args_t) > 1 and args_t[0] == ("c", args_t[0][1]) \
        and args_t[1][0] == "b" and host_unary(args_t[0][1], program.capture.arrays[args_t[1][1]].dtype)


def _around_host_calls(program, start, stop, made_at):
    calls, pieces, at = program.capture.calls, [], start
    hoisted = [i for i in range(start, stop) if _hoisted(calls[i], start, made_at)]
    for i in range(start, stop):
        if i not in hoisted and _own_part(program, calls[i]):
            if at < i:
                pieces.append((at, i))
            pieces.append((i, i + 1))
            at = i + 1
    if at < stop:
        pieces.append((at, stop))
    return [(a, b, [i for i in hoisted if a <= i < b]) for a, b in pieces]


def segmented_replay(program, build):
    """(replay, externals, fresh, source) running the parts in order; ``build(part, scratch)`` is
    the fused generator (raising ``NotFusable`` for a part it cannot take).  None when no
    part fuses."""
    from .codegen import NotFusable
    from .replay import python_replay_lines
    calls = program.capture.calls
    reads = [_buffers(list(c[2]) + list(c[3].values()), []) for c in calls]
    outs = [list(c[4]) if isinstance(c[4], tuple) else ([] if c[4] is None else [c[4]]) for c in calls]
    wanted = program.result_buffers()
    last_read = {}  # buffer -> the last call reading it (past the end: the caller reads it)
    for i, r in enumerate(reads):
        for b in r:
            last_read[b] = i
    for b in wanted:
        last_read[b] = len(calls)
    pending = bounds(program)[::-1]  # parts still to build, the next one last
    every_hoisted = {i for *_, hoisted in pending for i in hoisted}
    hoisted_lines, namespace, _ = python_replay_lines(program, every_hoisted)  # ``b7 = k0_index(b3, 7)``
    hoisted_lines = dict(hoisted_lines["calls"])
    available = set(program.sources)
    steps, sources, fused = [], [], 0
    scratch = {}  # the fused parts' temporaries, shared (``part_calls._temporaries``)
    while pending:
        start, stop, hoisted = pending.pop()
        indices = [i for i in range(start, stop) if i not in hoisted]
        if not indices:
            steps += [(hoisted_lines[i], i) for i in hoisted]
            available.update(b for i in hoisted for b in outs[i])
            continue
        ready = available | {b for i in hoisted for b in outs[i]}
        carried = list(dict.fromkeys(b for i in indices for b in reads[i] if b in ready))
        made = list(dict.fromkeys(b for i in indices for b in outs[i]))
        needed = [b for b in made if last_read.get(b, -1) >= stop]
        part = Part(program, indices, carried, needed)
        try:
            replay, externals, _, source = build(part, scratch)
            fused += 1
        except NotFusable as e:
            if e.call is not None and len(indices) > 1:
                # the one call the generator can't take replays alone; the calls around it fuse
                at = part.indices[e.call]
                pending += [(a, b, [i for i in hoisted if a <= i < b])
                            for a, b in ((at + 1, stop), (at, at + 1), (start, at)) if a < b]
                continue
            program.not_fused = f"calls {start}-{stop} replay kernel by kernel: {e}"
            replay, externals, _, source = python_replay(part)
        steps += [(hoisted_lines[i], i) for i in hoisted]
        order = [part.carried[b] for b in externals]
        steps.append((replay, order, dict(zip(part.local_needed, needed)), stop))
        sources.append(f"# calls {start}-{stop}\n{source}")
        available.update(made)
        available.update(b for i in hoisted for b in outs[i])
    if not fused:
        return None
    namespace["_empty"] = np.empty
    driver = "\n".join(_driver(program, steps, reads, outs, namespace)) + "\n"
    exec(driver, namespace)
    return namespace["replay"], list(program.sources), fresh_test(program), "\n".join([f"# the parts' calls\n{driver}", *sources])


def _driver(program, steps, reads, outs, namespace):
    """One straight-line function: each part's arguments and results are local variables;
    a fused part's kernel is called directly (``part_calls.CallSpec``), its results made here, a
    value computed into the memory of an argument nothing reads afterwards where the kernel
    allows it (``donations``: a gradient accumulated over the time steps stays in one array).

    A buffer's memory may be given away when this replay made it for that buffer alone
    (``owned``: a fused part's own result, never handed to code that could keep a view of it)
    and no call touches the buffer after the part."""
    calls, wanted = program.capture.calls, program.result_buffers()
    last_touch = {}
    for i in range(len(calls)):
        for b in reads[i] + outs[i]:
            last_touch[b] = i
    for b in wanted:
        last_touch[b] = len(calls)
    lines = [f"def replay({', '.join(f'b{b}' for b in program.sources)}):"]
    owned = set()
    for k, step in enumerate(steps):
        if len(step) == 2:  # a hoisted call
            lines.append(step[0])
            owned -= set(reads[step[1]])
            continue
        replay, order, out, stop = step
        spec = getattr(replay, "spec", None)
        if spec is None:  # replayed kernel by kernel
            owned -= set(order)
            namespace[f"p{k}"] = replay
            lines.append(f"    r = p{k}({', '.join(f'b{b}' for b in order)})")
            lines += [f"    b{out[local]} = r[{local}]" for local in out]
            continue
        args, given, into = [f"b{b}" for b in order], set(), []
        for m, (shape, dtype) in enumerate(spec.made):
            donor = order[spec.donations[m]] if m in spec.donations else None
            local = spec.made_buffers[m]
            if donor in owned and last_touch[donor] < stop and donor not in given:
                given.add(donor)
                array = f"b{donor}"
                into.append(f"{f'b{out[local]}' if local in out else 'a view'} in b{donor}'s memory")
            else:
                namespace[f"m{k}_{m}"] = (shape, dtype)
                array = f"_empty(*m{k}_{m})"
            if local in out:  # a result: the array handed in, named here
                lines.append(f"    b{out[local]} = {array}")
                array = f"b{out[local]}"
            args.append(array)
        owned -= given | {order[p] for p in spec.viewed}
        namespace[f"p{k}"], namespace[f"S{k}"] = spec.kernel, spec.same
        tail, indent = "", "    "
        if spec.blas is not None:  # the thread settings as they are when the replay starts
            namespace["_blas"], namespace["_threads"] = spec.blas, spec.threads
            if "    bl = (*_blas, _threads.small_here(), _threads.most or 0)" not in lines:
                lines[1:1] = ["    bl = (*_blas, _threads.small_here(), _threads.most or 0)",
                              "    guard = _threads.guard()"]
            lines.append("    with guard:  # (the count, set in the part, no other thread's)")
            tail, indent = ", *bl", "        "
        call = f"p{k}({', '.join(args)}, *S{k}{tail})"
        lines.append((f"{indent}{''.join(f'b{out[local]}, ' for local in spec.returned)}= {call}" if spec.returned
                      else f"{indent}{call}") + (f"  # {', '.join(into)}" if into else ""))
        owned |= {out[local] for p, local in enumerate(out) if p in spec.owned}
    lines.append("    return {" + ", ".join(f"{b}: b{b}" for b in wanted) + "}")
    return lines
