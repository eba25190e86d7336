"""Buffer planning and source emission for the fused CPU replay (``codegen.py``).

``plan_buffers`` decides which values need memory and assigns each temporary a slot
shared with others of the same shape and dtype whose lifetimes do not overlap.
``build_module`` writes the generated source and loads it (``generated``); the replay
calls each part's kernel as ``part_calls`` says.
"""
import numpy as np

from ..backend import opcodes
from ..backend.cpu import cascade, linalg
from ..backend.cpu.blas import GEMM, thread_addresses
from .generated import LLVM_OPTIONS, _load
from .split_loops import SCALAR_LOOP_MARK, split_loop_lines
from .part_calls import _call_spec, _temporaries


class Plan:
    def __init__(self):
        self.slots = []  # (shape, dtype) of each preallocated temporary
        self.slot_of = {}  # buffer -> slot
        self.escaping = []  # buffers allocated per call (handed to the caller)
        self.materialized = []  # returned constants and broadcast views: copied out at the end
        self.accumulators = {}  # partial-sum buffer -> keepdim shape of its float64 sums


def plan_buffers(gen):
    from .codegen import _Loop
    plan = Plan()
    wanted = gen.program.result_buffers()
    for b in wanted:
        buf = gen.buffers[b]
        if buf.kind == "const" or (buf.kind == "view" and _has_broadcast(gen, b)):
            plan.materialized.append(b)  # written into a fresh array at the end
            root = gen.root(b)
            if gen.buffers[root].kind == "value":  # from the memory behind it: kept until then
                gen.buffers[root].stored = True
                gen.buffers[root].uses.append(len(gen.statements))
        elif buf.kind == "value":
            buf.stored = True
            plan.escaping.append(b)
        elif buf.kind == "view":  # a reshape of a value computed here: the value is handed out too
            root = gen.root(b)
            if gen.buffers[root].kind == "value" and root not in plan.escaping:
                gen.buffers[root].stored = True
                plan.escaping.append(root)
    for b, buf in enumerate(gen.buffers):
        if buf.kind == "value" and any(u != buf.group for u in buf.uses):
            buf.stored = True
    for stmt in gen.statements:
        if isinstance(stmt, _Loop):
            for step in stmt.steps:
                if step[0] == "reduce" and len(step[4]) < len(stmt.shape):
                    plan.accumulators[step[1]] = tuple(
                        1 if d in step[4] else s for d, s in enumerate(stmt.shape))
    # linear scan over temporaries in the order they are produced
    temps = sorted((buf.group, b) for b, buf in enumerate(gen.buffers)
                   if buf.kind == "value" and buf.stored and b not in plan.escaping)
    free, busy = {}, []  # (shape, dtype) -> [slot]; [(last use, slot, key)]
    for start, b in temps:
        buf = gen.buffers[b]
        still = []
        for last, slot, key in busy:
            if last < start:
                free.setdefault(key, []).append(slot)
            else:
                still.append((last, slot, key))
        busy = still
        key = (buf.shape, buf.dtype.str)
        if free.get(key):
            slot = free[key].pop()
        else:
            slot = len(plan.slots)
            plan.slots.append((buf.shape, buf.dtype))
        plan.slot_of[b] = slot
        busy.append((max(buf.uses, default=start), slot, key))
    return plan


def _has_broadcast(gen, b):
    buf = gen.buffers[b]
    while buf.kind == "view":
        if buf.view == ("broadcast",):
            return True
        buf = gen.buffers[buf.base]
    return False


# ---- emission ----
class _Emitter:
    def __init__(self, gen, plan):
        self.gen, self.plan = gen, plan
        self.globals = {}  # name -> source of a module-level constant
        self.views = []  # lines defining view variables
        self.assigned = set()  # buffers the loop being emitted has computed into registers so far
        self.extents = []  # the loops' trip counts, read from an argument (``extent``)
        self.reads_threads = False  # a loop split as eager's threads split it (``split_loops``)

    def extent(self, n):
        """A loop's trip count as the kernel reads it: constant trip counts let LLVM unroll a
        vectorised loop with a long body in full, which runs several times slower."""
        if n < 2:
            return str(n)
        if n not in self.extents:
            self.extents.append(n)
        return f"extent[{self.extents.index(n)}]"

    def const(self, b):
        value = self.gen.buffers[b].const
        name = f"k{b}"
        if isinstance(value, (np.bool_, bool)):
            self.globals[name] = repr(bool(value))
        else:
            self.globals[name] = f"np.{np.asarray(value).dtype.name}(float({repr(float(value))!r}))" \
                if np.asarray(value).dtype.kind == "f" else f"np.{np.asarray(value).dtype.name}({int(value)})"
        return name

    def array(self, b):
        """(expression, shape) of the memory behind buffer ``b`` (broadcasts skipped)."""
        buf = self.gen.buffers[b]
        if buf.kind != "view":
            return f"b{b}", buf.shape
        base_expr, base_shape = self.array(buf.base)
        if buf.view in (("broadcast",), ("same",)):
            return base_expr, base_shape
        name = f"v{b}"
        full_shape = self.gen.buffers[buf.base].shape
        if tuple(base_shape) != tuple(full_shape):  # a view of a broadcast: of the memory behind it
            return self._view_of_broadcast(b, name, base_expr, tuple(base_shape), full_shape)
        if name not in {v[0] for v in self.views}:
            if buf.view[0] == "offset":  # a contiguous block of its base
                size = int(np.prod(buf.shape))
                expr = f"{base_expr}.reshape(-1)[{buf.view[1]}:{buf.view[1] + size}].reshape({buf.shape!r})"
            elif buf.view[0] == "strided":  # any view: its strides over a C-contiguous buffer
                _, start, shape, strides = buf.view
                memory = base_expr if start is None else f"{base_expr}.reshape(-1)[{start}:]"
                expr = f"as_strided({memory}, shape={shape!r}, strides={strides!r})"
            elif buf.view[0] == "perm":
                expr = f"{base_expr}.transpose({buf.view[1]!r})"
            else:
                expr = f"{base_expr}.T" if buf.view == ("T",) else f"{base_expr}.reshape({buf.shape!r})"
            self.views.append((name, expr))
        return name, buf.shape

    def _view_of_broadcast(self, b, name, base_expr, memory_shape, broadcast_shape):
        """A transpose or permutation of a broadcast (the gradient of a bias, expanded, then
        transposed for a product): the permuted memory, its size-1 dimensions read at index 0
        as a broadcast's are (the permuted broadcast shape would index past the memory).
        Other views of a broadcast are not fused."""
        from .codegen import NotFusable
        buf = self.gen.buffers[b]
        if buf.view[0] not in ("T", "perm"):
            raise NotFusable(f"a view ({buf.view[0]}) of a broadcast")
        lead = len(broadcast_shape) - len(memory_shape)
        padded = (1,) * lead + memory_shape
        dims = tuple(range(len(padded)))[::-1] if buf.view == ("T",) else tuple(buf.view[1])
        if name not in {v[0] for v in self.views}:
            root = int(base_expr[1:]) if base_expr.startswith("b") else None
            if lead and (root is None or not self.gen.arrays[root].flags.c_contiguous):
                raise NotFusable("a transpose of a broadcast of a view")  # (numba reshapes C-contiguous arrays only)
            source = f"{base_expr}.reshape({padded!r})" if lead else base_expr
            self.views.append((name, f"{source}.transpose({dims!r})"))
        return name, tuple(padded[d] for d in dims)

    def read(self, b, loop_index, shape, group):
        buf = self.gen.buffers[b]
        if buf.kind == "const":
            return self.const(b)
        # a register only once this loop has assigned it: a buffer written in place later in
        # the loop (its group is the loop's) holds its old value in memory until then
        if buf.kind == "value" and buf.group == group and b in self.assigned and b not in self.plan.accumulators:
            return f"r{b}"
        expr, arr_shape = self.array(b)
        return expr + _index(arr_shape, shape)


def _index(arr_shape, loop_shape):
    r, p = len(loop_shape), len(arr_shape)
    if p > r:
        from .codegen import NotFusable
        raise NotFusable("operand of higher rank than its loop")
    if p == 0:
        return "[()]"
    idx = [f"i{r - p + k}" if arr_shape[k] == loop_shape[r - p + k] else "0" for k in range(p)]
    return "[" + ", ".join(idx) + "]"


def _cast(dtype):
    return "np.bool_" if dtype.kind == "b" else f"np.{dtype.name}"


def _emit_loop(em, loop, group, lines):
    gen, shape = em.gen, loop.shape
    pre, post, body = [], [], []
    em.assigned, em.after_loop = set(), set()
    for step in loop.steps:
        kind, out, op = step[0], step[1], step[2]
        if kind == "reduce":
            ins = [em.read(x, None, shape, group) for x in step[3]]
            buf = gen.buffers[out]
            value = f"{ins[0]} * {ins[0]}" if op == opcodes.SUMSQ else ins[0]
            out_expr, out_shape = em.array(out)
            if out in em.plan.accumulators:
                acc_shape = em.plan.accumulators[out]
                body.append(f"a{out}{_index(acc_shape, shape)} += {value}")
                pre.append(f"a{out}[...] = 0.0")
                post.append(f"{out_expr}.reshape(-1)[:] = a{out}.reshape(-1)")
            elif op in (opcodes.MAX, opcodes.MIN):
                # the eager kernel's rule: the first element, then any larger (smaller)
                # one or a NaN, and nothing after a NaN
                better = ">" if op == opcodes.MAX else "<"
                pre += [f"acc{out} = {_cast(gen.buffers[step[3][0]].dtype)}(0)", f"first{out} = True"]
                body += [f"v{out} = {value}", f"if first{out}:", f"    acc{out} = v{out}", f"    first{out} = False",
                         f"elif acc{out} == acc{out} and (v{out} {better} acc{out} or v{out} != v{out}):",
                         f"    acc{out} = v{out}"]
                post.append(f"r{out} = {_cast(buf.dtype)}(acc{out})")
                post.append(f"{out_expr}[{', '.join('0' for _ in out_shape) or '()'}] = r{out}")
                em.after_loop.add(out)
            else:
                pre.append(f"acc{out} = 0.0")
                body.append(f"acc{out} += {value}")
                post.append(f"r{out} = {_cast(buf.dtype)}(acc{out})")
                post.append(f"{out_expr}[{', '.join('0' for _ in out_shape) or '()'}] = r{out}")
                em.after_loop.add(out)
            continue
        body += _step_lines(em, step, shape, group)
    ind = "    "
    lines += [ind + p for p in pre]
    if loop.split is None:
        for d, n in enumerate(shape):
            lines.append(ind * (d + 1) + f"for i{d} in range({em.extent(n)}):")
        lines += [ind * (len(shape) + 1) + line for line in body]
    else:
        lines += split_loop_lines(em, shape, loop.split, body)
    lines += [ind + p for p in post]
    em.assigned |= em.after_loop  # the sums, assigned after the loop, for the steps on them
    for step in loop.after:
        lines += [ind + line for line in _step_lines(em, step, (), group)]


def _step_lines(em, step, shape, group):
    """The lines computing one elementwise step inside a loop over ``shape``."""
    kind, out, op = step[0], step[1], step[2]
    ins = [em.read(x, None, shape, group) for x in step[3]]
    buf = em.gen.buffers[out]
    if kind in ("unary", "binary", "compare"):
        name = f"{kind}_{op}"
        em.globals[name] = f"op_function({kind!r}, {op})"
        expr = f"{name}({', '.join(ins)})"
        if len(step) > 4:  # a step of ``loop.split``: its scalar-loop definition marked for ``split_loop_lines``
            em.globals[f"{kind}_scalar_loop_{op}"] = f"scalar_ops.scalar_loop_function({op}, {kind!r})"
            expr = f"{kind}_{SCALAR_LOOP_MARK}{op}({', '.join(ins)})"
    elif kind == "where":
        expr = f"{ins[1]} if {ins[0]} else {ins[2]}"
    elif kind == "fma":  # the eager kernel's fused multiply-add (``sleef_arith.fma``), one rounding
        cast = _cast(buf.dtype)
        expr = f"fma({', '.join(f'{cast}({x})' for x in ins)})"
    else:
        expr = ins[0]
    body = [f"r{out} = {_cast(buf.dtype)}({expr})"]
    em.assigned.add(out)
    if buf.stored:
        out_expr, out_shape = em.array(out)
        body.append(f"{out_expr}{_index(out_shape, shape)} = r{out}")
    return body


def _operand(em, x):
    """(storage expression, transposed?) of a matmul operand: a C-contiguous buffer or
    the transpose of one."""
    buf = em.gen.buffers[x]
    if buf.kind == "view" and buf.view == ("T",):
        return em.array(buf.base)[0], True
    return em.array(x)[0], False


def _matmul_lines(em, out, a, b):
    a_expr, b_expr, out_expr = em.array(a)[0], em.array(b)[0], em.array(out)[0]
    dot = f"np.dot({a_expr}, {b_expr}, {out_expr})"
    dtype = em.gen.buffers[out].dtype
    (m, k), n = em.gen.buffers[a].shape, em.gen.buffers[b].shape[1]
    # the thread count the eager kernel would pick (``linalg._threads``), read at each call
    em.threads_used = True
    lines = ["    if blas_small > 0:",
             f"        blas_threads(blas_get, blas_set, 1 if {2 * m * n * k} < blas_small else blas_most)"]
    if dtype.name not in GEMM or not m * n * k:  # BLAS refuses zero sizes
        return lines + [f"    {dot}"]
    em.gemm_used.add(dtype.name)
    (sa, ta), (sb, tb) = _operand(em, a), _operand(em, b)
    lda, ldb = (m if ta else k), (k if tb else n)
    one, zero = f"np.{dtype.name}(1.0)", f"np.{dtype.name}(0.0)"
    call = (f"gemm_call(gemm_{dtype.name}, {112 if ta else 111}, {112 if tb else 111}, {m}, {n}, {k}, {one}, "
            f"{sa}.ctypes.data, {lda}, {sb}.ctypes.data, {ldb}, {zero}, {out_expr}.ctypes.data, {n})")
    return lines + [f"    if {sa}.flags.c_contiguous and {sb}.flags.c_contiguous and {out_expr}.flags.c_contiguous:",
                    f"        {call}", "    else:", f"        {dot}"]


def _batched_matmul_lines(em, out, a, b):
    """One gemm per matrix of C-contiguous batches, as eager's ``_batched_gemm``."""
    a_expr, b_expr, out_expr = em.array(a)[0], em.array(b)[0], em.array(out)[0]
    dtype = em.gen.buffers[out].dtype
    *_, m, k = em.gen.buffers[a].shape
    n = em.gen.buffers[b].shape[-1]
    em.threads_used = True
    em.gemm_used.add(dtype.name)
    one, zero = f"np.{dtype.name}(1.0)", f"np.{dtype.name}(0.0)"
    a3, b3, o3 = f"bmm_a{out}", f"bmm_b{out}", f"bmm_o{out}"
    return ["    if blas_small > 0:",
            f"        blas_threads(blas_get, blas_set, 1 if {2 * m * n * k} < blas_small else blas_most)",
            f"    {a3} = {a_expr}.reshape((-1, {m}, {k}))",
            f"    {b3} = {b_expr}.reshape((-1, {k}, {n}))",
            f"    {o3} = {out_expr}.reshape((-1, {m}, {n}))",
            f"    for i in range({o3}.shape[0]):",
            f"        gemm_call(gemm_{dtype.name}, 111, 111, {m}, {n}, {k}, {one}, {a3}[i].ctypes.data, {k}, "
            f"{b3}[i].ctypes.data, {n}, {zero}, {o3}[i].ctypes.data, {n})"]


# The eager kernels the generated code calls take its numbers as np.int64 / np.bool_: a
# bare literal would make numba compile another specialisation of the kernel for that
# literal value (Literal[int](0)), in every process with an empty cache (cascade_sum: 2.4 s).


def _indexing_lines(em, stmt):
    """A call of the eager indexing kernel (``backend/cpu/indexing.py``): the same checks."""
    kind, out = stmt[:2]
    flat = [f"{em.array(b)[0]}.reshape(-1)" for b in stmt[2:2 + (3 if kind == "positions" else 2)]]
    out_flat = f"{em.array(out)[0]}.reshape(-1)"
    if kind == "gather":
        return [f"    index_gather({flat[0]}, {flat[1]}, {out_flat})"]
    if kind == "scatter_add":
        return [f"    {out_flat}[:] = 0", f"    index_scatter_add({out_flat}, {flat[0]}, {flat[1]})"]
    stride, size, wrap, (runtime_error, prefix, suffix) = stmt[5:]
    status = f"status{out}"
    return [f"    {status} = np.zeros(2, np.int64)",
            f"    index_positions({flat[0]}, {flat[1]}, {flat[2]}, np.int64({int(stride)}), np.int64({int(size)}), "
            f"np.bool_({bool(wrap)}), "
            f"{out_flat}, {status})",
            f"    if {status}[0]:",
            f"        raise kernel_errors.{'RuntimeError' if runtime_error else 'IndexError'}"
            f"({_template(prefix, suffix)!r}, {status}[1])"]


def _template(prefix, suffix):
    """The op's message around its index, as ``kernel_errors`` formats it (``suffix``
    None: the prefix alone, as the kernel's)."""
    escaped = prefix.replace("{", "{{").replace("}", "}}")
    return escaped if suffix is None else escaped + "{}" + suffix.replace("{", "{{").replace("}", "}}")


def _flat_memory(em, b):
    """The flat memory a sum kernel reads: a buffer's own, or a number's (one element)."""
    if em.gen.buffers[b].kind == "const":
        return f"np.full(1, {em.const(b)})"
    return f"{em.array(b)[0]}.reshape(-1)"


def build_module(gen, plan, pool=None):
    """(replay, externals, fresh, source); ``pool``, the temporaries that the parts of one
    segmented replay share (``segments``): they run one after another, and no temporary
    outlives a call."""
    from .codegen import _Loop
    em = _Emitter(gen, plan)
    # numpy's gemm, the function the eager product kernels call: the same bits
    em.gemm_used, em.threads_used, em.exported = set(), False, set()
    externals = list(gen.program.sources)
    body = []
    for group, stmt in enumerate(gen.statements):
        if isinstance(stmt, _Loop):
            _emit_loop(em, stmt, group, body)
        elif stmt[0] == "matmul":
            body += _matmul_lines(em, *stmt[1:])
        elif stmt[0] == "bmm":
            body += _batched_matmul_lines(em, *stmt[1:])
        elif stmt[0] == "softmax":
            _, out, x, log = stmt
            cols = gen.buffers[x].shape[-1]
            body.append(f"    {'log_softmax_rows' if log else 'softmax_rows'}({em.array(x)[0]}.reshape((-1, {cols})), "
                        f"{em.array(out)[0]}.reshape((-1, {cols})))")
        elif stmt[0] == "softmax_backward":
            _, out, grad, y, log = stmt
            rows = "((-1, %d))" % gen.buffers[y].shape[-1]
            kernel = "log_softmax_backward_rows" if log else "softmax_backward_rows"
            body.append(f"    {kernel}({em.array(grad)[0]}.reshape{rows}, {em.array(y)[0]}.reshape{rows}, "
                        f"{em.array(out)[0]}.reshape{rows})")
        elif stmt[0] == "cascade":
            _, out, root, offset, (sizes, ins, outs) = stmt
            dtype = gen.buffers[out].dtype
            width = cascade.LANES[dtype]
            names = []
            for what, values in (("sizes", sizes), ("in_strides", ins), ("out_strides", outs)):
                names.append(f"{what}{out}")
                em.globals[names[-1]] = f"np.array({[int(v) for v in values]!r}, np.int64)"
            out_flat = f"{em.array(out)[0]}.reshape(-1)"
            scratch = f"np.empty(({cascade.LEVELS}, {cascade.ILP * width}), np.{dtype.name})"
            body += [f"    {out_flat}[:] = 0",
                     f"    cascade_sum_{dtype.name}({_flat_memory(em, root)}, np.int64({int(offset)}), {out_flat}, "
                     f"{', '.join(names)}, np.int64({width}), {scratch}, np.int64(0))"]
            em.exported.add(f"cascade_sum_{dtype.name}")
        elif stmt[0] == "nll_sum":
            _, out, values, valid = stmt
            body.append(f"    nll_sum({em.array(values)[0]}.reshape(-1), {em.array(valid)[0]}.reshape(-1), "
                        f"{em.array(out)[0]}.reshape(-1))")
        elif stmt[0] in ("gather", "scatter_add", "positions"):
            body += _indexing_lines(em, stmt)
        elif stmt[1] is not None and stmt[0] == "fill" and stmt[2] is not None:  # (None: an empty buffer)
            body.append(f"    b{stmt[1]}.fill({stmt[2]})")
    wanted = gen.program.result_buffers()
    for b in plan.materialized:
        shape = gen.buffers[b].shape
        for d, n in enumerate(shape):
            body.append("    " * (d + 1) + f"for i{d} in range({em.extent(n)}):")
        body.append("    " * (len(shape) + 1) + f"o{b}{_index(shape, shape)} = {em.read(b, None, shape, -1)}")
    # the arrays a call hands in for its results (``made``) are not returned: the caller has them
    passed = {b: k for k, b in enumerate([*plan.escaping, *plan.materialized])}
    returned = [em.array(b)[0] for b in wanted if b not in passed]
    # the arrays a call makes afresh first, then those every call passes the same (``run``)
    params = [f"b{b}" for b in externals] + [f"b{b}" for b in plan.escaping] + [f"o{b}" for b in plan.materialized]
    params += [f"t{k}" for k in range(len(plan.slots))] + [f"a{b}" for b in plan.accumulators]
    params += [f"gemm_{name}" for name in sorted(em.gemm_used)] + ["extent"] * bool(em.extents)
    if em.threads_used:
        params += ["blas_get", "blas_set", "blas_small", "blas_most"]
    lines = [f"# compiled with LLVM {' '.join(LLVM_OPTIONS)}",
             "import numpy as np", "from numpy.lib.stride_tricks import as_strided", "from numba import njit",
             "from tinytape.backend import kernel_errors, scalar_ops",
             "from tinytape.backend.scalar_ops import op_function",
             "from tinytape.backend.sleef_arith import fma",
             "from tinytape.backend.cpu.blas import blas_threads, gemm_call",
             "from tinytape.backend.cpu.nn import log_softmax_backward_rows, log_softmax_rows, softmax_backward_rows, "
             "softmax_rows",
             "from tinytape.backend.cpu import exported",
             "from tinytape.backend.cpu.cascade import nll_sum",
             "from tinytape.backend.cpu.indexing import gather as index_gather, "
             "scatter_add as index_scatter_add, positions as index_positions"]
    # the eager kernels it calls by symbol (``exported``): registered before numba compiles or loads it
    lines += ["from tinytape.backend.cpu.numba_threads import numba_threads"] * em.reads_threads
    lines += [f"from tinytape.backend.cpu.exported import {name}\nexported.ensure('tinytape_{name}')"
              for name in sorted(em.exported)]
    lines += [f"{k} = {v}" for k, v in sorted(em.globals.items())]
    lines += ["", "", "@njit(cache=True, nogil=True, error_model='numpy')", f"def kernel({', '.join(params)}):"]
    lines += [f"    b{b} = t{slot}" for b, slot in sorted(plan.slot_of.items())]
    lines += [f"    {name} = {expr}" for name, expr in em.views]
    lines += body
    lines.append(f"    return ({''.join(r + ', ' for r in returned)})")
    source = "\n".join(lines) + "\n"
    kernel = _load(source)

    scratch = _temporaries([*plan.slots, *((shape, np.dtype(np.float64)) for shape in plan.accumulators.values())], pool)
    temps, accs = scratch[:len(plan.slots)], scratch[len(plan.slots):]
    made = [(gen.buffers[b].shape, gen.buffers[b].dtype) for b in [*plan.escaping, *plan.materialized]]
    fresh_set = set(plan.escaping) | set(plan.materialized)
    same = (*temps, *accs, *[GEMM[name] for name in sorted(em.gemm_used)],
            *[np.array(em.extents, np.int64)] * bool(em.extents))
    threads, blas = linalg._threads, thread_addresses() if em.threads_used else None

    kept = {b: k for k, b in enumerate(b for b in wanted if b not in passed)}  # its place among those returned
    pick = [passed[b] if b in passed else ~kept[b] for b in wanted]

    def run(*ext):  # the results in ``wanted``'s order
        arrays = [np.empty(s, d) for s, d in made]
        if blas is not None:  # (the thread settings as they are now; the count, set in the kernel, no other thread's)
            with threads.guard():
                rest = kernel(*ext, *arrays, *same, *blas, threads.small_here(), threads.most or 0)
        else:
            rest = kernel(*ext, *arrays, *same)
        return tuple(arrays[k] if k >= 0 else rest[~k] for k in pick)

    def replay(*ext):
        return dict(zip(wanted, run(*ext)))
    replay.in_order = run  # for a caller that unpacks the results itself (``segments``)
    replay.spec = _call_spec(gen, plan, externals, kernel, made, same, blas)
    return replay, externals, fresh_set.__contains__, source
