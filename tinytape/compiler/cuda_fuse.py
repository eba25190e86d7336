"""The fused CUDA replay: the captured calls in record order, with each run of
consecutive elementwise calls over one shape launched as one generated kernel.

A run's kernel is built, like the CPU loops, from ``backend/scalar_ops.py`` (compiled
by ``numba.cuda.jit(device=True)``): one thread per element, values used only inside the
run kept in registers, operands read through their offsets and strides (broadcast
dimensions have stride 0), outputs written once.  Every other call (matrix products,
reductions, views) goes to the backend as recorded, except that a matrix product
followed by a run of its shape launches one kernel that finishes with the run
(``cuda_epilogue.py``).  The launch list is generated as one Python function, so a step
runs no autograd and allocates only device buffers.
"""
import math

import numpy as np

from .._dtype import BFLOAT16
from .cuda_epilogue import host_runs, product_launch, product_source, replay_guard
from .replay import CONSTANTS, fresh_test

ELEMENTWISE = frozenset({"unary", "binary", "compare", "where", "fma", "astype"})
THREADS = 256


def cuda_fused_replay(program):
    """(replay, externals, fresh, source) for a CUDA program, or None."""
    if not any(b.device.type == "cuda" for b in program.backends) or len(program.backends) > 2:
        return None
    if any(a.dtype is BFLOAT16 for a in program.capture.arrays):  # numba.cuda has no bfloat16
        program.not_fused = "bfloat16 arrays: numba compiles no bfloat16 (replayed op by op)"
        return None
    return _Builder(program).build()


def _call_buffers(args_t, kwargs_t):
    found = []

    def walk(t):
        if t[0] == "b":
            found.append(t[1])
        elif t[0] == "l":
            for x in t[2]:
                walk(x)
    for t in list(args_t) + list(kwargs_t.values()):
        walk(t)
    return found


class _Builder:
    def __init__(self, program):
        self.program = program
        self.cap = program.capture
        self.calls = self.cap.calls
        self.readers = {}  # buffer -> indices of the calls reading it
        for i, (_, _, args_t, kwargs_t, _) in enumerate(self.calls):
            for b in _call_buffers(args_t, kwargs_t):
                self.readers.setdefault(b, []).append(i)
        self.wanted = set(program.result_buffers())
        self.backend_index = next(i for i, b in enumerate(program.backends) if b.device.type == "cuda")

    def _elementwise(self, i):
        """(out buffer, kind, op, operands, in place?) if call i can join a run."""
        backend_index, kernel, args_t, kwargs_t, out_t = self.calls[i]
        if kernel not in ELEMENTWISE or backend_index != self.backend_index or not isinstance(out_t, int):
            return None
        args = list(args_t) + list(kwargs_t.values())
        if kernel == "astype":
            if args_t[0] != ("b", out_t) and args_t[0][0] == "b":
                return out_t, "copy", None, [args_t[0]], False
            return None
        op = args_t[0][1] if kernel not in ("where", "fma") else None
        operands = list(args_t[1:] if kernel not in ("where", "fma") else args_t)
        inplace = kernel in ("binary", "fma") and (len(args_t) > 3 or "out" in kwargs_t)
        if inplace:
            operands = operands[:2] if kernel == "binary" else operands[:3]
        if any(t[0] == "l" for t in args):
            return None
        return out_t, kernel, op, operands, inplace

    def _groups(self):
        """[('call', i) | ('run', [i, ...])] in an order that respects every dependence.

        A call that reads a value of the open run (the loss's sum) is deferred until the
        run's launch, so elementwise calls after it that don't need its result (the
        loss's gradient) still join the run; views and constants that need nothing from
        the run are made before the launch."""
        plan, run, shape, produced, pending, pending_out = [], [], None, set(), [], set()

        def flush():
            if run:
                plan.append(("run", list(run)))
            plan.extend(("call", j) for j in pending)
            run.clear(), produced.clear(), pending.clear(), pending_out.clear()

        for i, call in enumerate(self.calls):
            ew = self._elementwise(i)
            if ew:
                reads = [t[1] for t in ew[3] if t[0] == "b"]
                if not (run and tuple(self.cap.arrays[ew[0]].shape) == shape) or \
                        any(b in pending_out for b in reads):
                    flush()
                    shape = tuple(self.cap.arrays[ew[0]].shape)
                run.append(i)
                produced.add(ew[0])
                if ew[4]:  # written in place: later reads see memory
                    flush()
                continue
            reads, out_t = _call_buffers(call[2], call[3]), call[4]
            fresh_output = isinstance(out_t, int) and out_t not in reads
            cheap = call[1] in CONSTANTS or call[1] in ("broadcast_to", "swapaxes", "permute", "expand_dims")
            needs_run = any(b in produced or b in pending_out for b in reads)
            if run and needs_run and fresh_output:
                pending.append(i)
                pending_out.add(out_t)
            elif run and not needs_run and cheap:
                plan.append(("call", i))
            else:
                flush()
                plan.append(("call", i))
        flush()
        return plan

    # ---- what cuda_epilogue asks ----
    def buffers_read(self, i):
        return _call_buffers(self.calls[i][2], self.calls[i][3])

    def run_shape(self, run):
        return tuple(self.cap.arrays[self._elementwise(run[0])[0]].shape)

    def run_effects(self, run):
        """(device buffers the run reads from memory, buffers it makes, buffers it writes
        in place)."""
        reads, made, written = set(), set(), set()
        for i in run:
            out, _, _, operands, inplace = self._elementwise(i)
            reads |= {t[1] for t in operands
                      if t[0] == "b" and t[1] not in made and hasattr(self.cap.arrays[t[1]], "buf")}
            (written if inplace else made).add(out)
        return reads, made, written

    # ---- the generated launch list ----
    def build(self):
        from .replay import python_replay_lines
        plan = self._groups()
        hosted = host_runs(self, plan)
        lines, namespace, externals = python_replay_lines(
            self.program, {item[1] for item in plan if item[0] == "call"})
        call_lines = dict(lines["calls"])
        source = self._function(lines["head"], plan, call_lines, namespace, lines["tail"])
        if hosted != plan:
            # the moved runs assume the arguments share memory as in the trace
            plain = source.replace("def replay(", "def replay_in_order(", 1)
            guard = replay_guard(self, externals)
            head = lines["head"]
            if guard is not None:
                names = ", ".join(f"b{b}" for b in externals)
                head += f"\n    if not ({guard}):\n        return replay_in_order({names})"
            source = plain + "\n" + self._function(head, hosted, call_lines, namespace, lines["tail"])
        exec(compile(source, "<tinytape cuda replay>", "exec"), namespace)
        return namespace["replay"], externals, fresh_test(self.program), source

    def _function(self, head, plan, call_lines, namespace, tail):
        body = []
        for item in plan:
            if item[0] == "call":
                if item[1] in call_lines:
                    body.append(call_lines[item[1]])
            elif item[0] == "run":
                body += self._run_lines(item[1], namespace)
            else:
                body += self._product_lines(*item[1:], namespace)
        return "\n".join([head] + body + [tail]) + "\n"

    def _kernel_name(self, namespace, kind):
        return f"{kind}{len([k for k in namespace if k.startswith('fused')])}"

    def _jit(self, name, source, signature, namespace):
        from numba import cuda
        kernel_ns = kernel_namespace()
        exec(compile(source, f"<tinytape {name}>", "exec"), kernel_ns)
        namespace[name] = cuda.jit(kernel_ns[name])
        # what tests/compile_ptx needs to compile this kernel for a real GPU
        namespace[name].tinytape_source = (name, source, signature)
        namespace["np"] = np

    def _run_lines(self, run, namespace):
        """Allocate the run's stored outputs, then one launch."""
        shape = self.run_shape(run)
        n = math.prod(shape)
        params, args, signature, alloc, lines = self._body(run, shape, namespace)
        name = self._kernel_name(namespace, "fused")
        source = "\n".join([f"def {name}(n, {', '.join(params)}):", "    i = cuda.grid(1)", "    if i < n:"]
                           + [f"        {line}" for line in _unravel(shape)] + lines) + "\n"
        self._jit(name, source, ["int64"] + signature, namespace)
        blocks = max(1, -(-n // THREADS))
        return alloc + [f"    {name}[{blocks}, {THREADS}]({n}, {', '.join(args)})"]

    def _product_lines(self, m, run, trans_a, trans_b, namespace):
        """Allocate what the product and its run store, then one launch of the product's
        kernel finishing with the run."""
        arrays = self.cap.arrays
        _, _, args_t, _, out = self.calls[m]
        a, b = args_t[0][1], args_t[1][1]
        (rows, cols), inner = arrays[out].shape, arrays[a].shape[1]
        params, args, signature, alloc, lines = self._body(run, (rows, cols), namespace, product=out)
        name = self._kernel_name(namespace, "fused_matmul")
        dtype = np.dtype(arrays[out].dtype).name
        source = product_source(name, params, rows, cols, inner, trans_a, trans_b, lines)
        self._jit(name, source, [dtype, "int64", dtype, "int64"] + signature, namespace)
        grid, block = product_launch(rows, cols)
        operands = f"b{a}.buf, b{a}.offset, b{b}.buf, b{b}.offset"
        return alloc + [f"    {name}[{grid}, {block}]({operands}{''.join(', ' + x for x in args)})"]

    def _body(self, run, shape, namespace, product=None):
        """(parameters, arguments, argument types, allocations, kernel lines) computing the
        run at loop indices ``i0..`` (after the product's value, from ``acc``)."""
        arrays = self.cap.arrays
        in_run = set()
        params, args, kernel_lines, alloc, signature = [], [], [], [], []
        operand_names = {}
        backend = f"k_be{self.backend_index}"
        namespace.setdefault(backend, self.program.backends[self.backend_index])

        def operand(t):
            if t[0] == "c":
                return _literal(getattr(t[1], "value", t[1]))
            b = t[1]
            if b in in_run:
                return f"r{b}"
            if not hasattr(arrays[b], "buf"):  # a host scalar: travels in the kernel's code
                return _literal(arrays[b].value)
            if b not in operand_names:
                operand_names[b] = f"x{b}"
                params.extend([f"x{b}", f"o{b}"])
                args.extend([f"b{b}.buf", f"b{b}.offset"])
                signature.extend([np.dtype(arrays[b].dtype).name, "int64"])
            return f"x{b}[{_position(arrays[b], shape, f'o{b}')}]"

        for step in ([None] if product is not None else []) + list(run):
            if step is None:  # the product's sum
                out, expr, inplace = product, "acc", False
            else:
                ew = self._elementwise(step)
                out, expr, inplace = ew[0], _expression(ew, operand), ew[4]
            dtype = np.dtype(arrays[out].dtype)
            cast = "bool" if dtype.kind == "b" else f"numba.{dtype.name}"
            kernel_lines.append(f"        r{out} = {cast}({expr})")
            in_run.add(out)
            outside = any(j not in run for j in self.readers.get(out, ())) or out in self.wanted or inplace \
                or any(e[0] == "grad_set" and e[2] == out for e in self.program.effects)
            if outside:
                name = f"y{out}"
                params.extend([name, f"p{out}"])
                args.extend([f"b{out}.buf", f"b{out}.offset"])
                signature.extend([dtype.name, "int64"])
                if not inplace:
                    alloc.append(f"    b{out} = {backend}.empty({shape!r}, np.dtype({dtype.str!r}))")
                kernel_lines.append(f"        {name}[{_position(arrays[out], shape, f'p{out}')}] = r{out}")
        return params, args, signature, alloc, kernel_lines


def _expression(elementwise, operand):
    """Source computing one elementwise call from its operands' expressions."""
    _, kind, op, operands, _ = elementwise
    ins = [operand(t) for t in operands]
    if kind == "unary":
        return f"_u({op}, {ins[0]})"
    if kind == "binary":
        return f"_b({op}, {ins[0]}, {ins[1]})"
    if kind == "compare":
        return f"_c({op}, {ins[0]}, {ins[1]})"
    if kind == "where":
        return f"{ins[1]} if {ins[0]} else {ins[2]}"
    if kind == "fma":  # one rounding, as the eager kernel's
        return f"cuda.fma({ins[0]}, {ins[1]}, {ins[2]})"
    if kind == "copy":
        return ins[0]
    raise ValueError(f"cuda_fuse: no kernel source for elementwise kind {kind!r}")


def kernel_namespace():
    """The globals a generated kernel's source is executed in."""
    import numba
    from numba import cuda
    from ..backend import scalar_ops
    from ..backend.cuda.linalg import _at
    return {"cuda": cuda, "numba": numba, "np": np, "_at": _at,
            "_u": scalar_ops.cuda_op("unary"), "_b": scalar_ops.cuda_op("binary"),
            "_c": scalar_ops.cuda_op("compare")}


def _literal(value):
    """A scalar as kernel source, keeping its numpy dtype (float32 math stays float32)."""
    if isinstance(value, np.generic):
        if value.dtype.kind == "b":
            return repr(bool(value))
        return f"numba.{value.dtype.name}({value.item()!r})"
    return repr(value)


def _unravel(shape):
    """Lines turning the thread index ``i`` into loop indices ``i0..`` over ``shape``."""
    if not shape:
        return []
    lines, rest = [], "i"
    for d in range(len(shape) - 1, 0, -1):
        lines.append(f"i{d} = {rest} % {shape[d]}")
        lines.append(f"q{d} = {rest} // {shape[d]}")
        rest = f"q{d}"
    lines.append(f"i0 = {rest}")
    return lines


def _position(arr, loop_shape, offset):
    """Flat buffer position of the loop element in a strided operand (broadcast dims: 0)."""
    terms = [offset]
    r, p = len(loop_shape), len(arr.shape)
    for k in range(p):
        j = r - p + k
        if arr.shape[k] != 1 and arr.strides[k]:
            terms.append(f"i{j} * {arr.strides[k]}")
    return " + ".join(terms)
