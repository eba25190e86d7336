"""The fused CPU replay: a captured program as one straight-line ``numba.njit`` function.

- Consecutive elementwise entries over one loop shape become one loop nest; each value
  is computed by the per-element definitions in ``backend/scalar_ops.py`` (the ones the
  eager kernels compile), rounded to its buffer's dtype as the eager kernels store it,
  and kept in a register when only that loop reads it.
- A float sum calls the eager kernel (``backend/cpu/cascade.py``, PyTorch's order) on the
  memory the loop before it stored; other reductions join the loop of the elementwise
  entries that feed it, in the eager kernel's order.
- Matrix products call the gemm the eager kernels call (``backend/cpu/blas.py``), on the
  thread count eager would pick, into their planned output; a transposed operand is
  passed as its storage and a flag, never copied.
- Views (transposes, reshapes, broadcasts, constants) are index expressions, not copies.
- Buffers are planned once (``plan.py``): temporaries are allocated at compile time
  and shared by buffers whose lifetimes do not overlap, so a replay allocates only the
  arrays it hands back to the caller.

Programs with a kernel outside this set replay through ``replay.python_replay``.
"""
import math

import numpy as np

from .._dtype import BFLOAT16
from ..backend import opcodes
from ..backend.cpu import cascade
from ..backend.cpu.elementwise import BINARY_SCALAR_LOOP_CODES, NUMPY_UNARY, NUMPY_UNARY_FLOAT64, SCALAR_LOOP_CODES
from ..backend.layout import GELU_THREADING, GRAIN_SIZE, operands_loop_layout
from ..backend.cpu.blas import GEMM
from .codegen_memory import MemoryRules, NotFusable, _Buffer
from .plan import build_module, plan_buffers

# unary ops eager computes with numpy's transcendental routines, per float itemsize (sqrt,
# negation, the reciprocal and the roundings are exact in both, so they stay in the fused loops; float32 exp, log,
# tanh... are ``backend/sleef.py``'s, eager's and the fused loops' alike)
_EXACT_IN_NUMBA = ("sqrt", "negative", "reciprocal", "floor", "ceil", "trunc", "rint")
HOST_UNARY = {size: frozenset(code for code, ufunc in ufuncs.items() if ufunc.__name__ not in _EXACT_IN_NUMBA)
              for size, ufuncs in ((4, NUMPY_UNARY), (8, NUMPY_UNARY_FLOAT64))}


def host_unary(op, dtype):
    """Whether eager computes unary op ``op`` on ``dtype`` with a numpy routine the fused code
    does not reproduce bit for bit."""
    return dtype.kind == "f" and op in HOST_UNARY.get(dtype.itemsize, ())


ELEMENTWISE = frozenset({"unary", "binary", "compare", "where", "fma", "astype", "copy", "copy_into"})


MAX_FUSED_CALLS = 300


class _Loop:
    """One fused loop: elementwise entries (and reductions) over ``shape``."""

    def __init__(self, shape):
        self.shape = shape
        self.steps = []  # (kind, out buffer, expression parts)
        self.produced = set()
        self.reductions = set()
        self.written = set()  # roots written in place
        self.after = []  # 0-d steps on this loop's reductions, run after the loop
        self.after_produced = set()
        self.split = None  # (row, cut): PyTorch's scalar loop takes each row's elements from cut on


def fused_replay(program):
    """(function, externals, fresh, source) or None when no part of it fuses.  A program
    of more than ``MAX_FUSED_CALLS`` calls, or with a kernel outside the set, is fused in
    parts (``segments.py``), the parts outside the set replayed kernel by kernel."""
    if any(b.device.type != "cpu" for b in program.backends):
        return None
    if any(a.dtype is BFLOAT16 for a in program.capture.arrays):  # numba has no bfloat16
        program.not_fused = "bfloat16 arrays: numba compiles no bfloat16 (replayed op by op)"
        return None
    from .segments import _host_call
    if len(program.capture.calls) <= MAX_FUSED_CALLS and not any(_host_call(program, c) for c in program.capture.calls):
        try:
            return _Generator(program).build()
        except NotFusable as e:
            program.not_fused = str(e)  # shown by CompiledFunction.explain
    # numba's compile time grows faster than the function it compiles: a long program is
    # compiled in parts, a repeated part (a time step) once
    from .segments import segmented_replay
    return segmented_replay(program, lambda part, scratch: _Generator(part).build(scratch))


class _Generator(MemoryRules):
    def __init__(self, program):
        self.program = program
        cap = program.capture
        self.buffers = [_Buffer(a) for a in cap.arrays]
        self.arrays = list(cap.arrays)  # and the copies the generator adds (``_flat_operand``)
        for b, (kind, _) in program.sources.items():
            self.buffers[b].kind = "ext"
            if kind == "const" and cap.arrays[b].size == 1:
                self.buffers[b].kind, self.buffers[b].const = "const", program.trace_values[b]
        self.statements = []  # _Loop | ('matmul', out, a, b) | ('fill', out, value)
        self.loop = None

    # ---- building the statement list ----
    def build(self, scratch=None):
        for i, (_, kernel, args_t, kwargs_t, out_t) in enumerate(self.program.capture.calls):
            try:
                args = [self._value(a) for a in args_t]
                kwargs = {("out_arg" if k == "out" else k): self._value(v) for k, v in kwargs_t.items()}
                handler = getattr(self, "_k_" + kernel, None)
                if handler is None:
                    raise NotFusable(kernel)
                handler(out_t, *args, **kwargs)
            except NotFusable as e:
                e.call = i  # the call it could not take: ``segments`` replays that one alone
                raise
        self._close()
        return build_module(self, plan_buffers(self), scratch)

    @staticmethod
    def _value(tpl):
        if tpl[0] == "b":
            return ("buf", tpl[1])
        if tpl[0] == "l":
            raise NotFusable("list of buffers")
        return tpl[1]

    def _buf(self, ref):
        if not (isinstance(ref, tuple) and ref[0] == "buf"):
            raise NotFusable("expected a buffer")
        return ref[1]

    def root(self, b):
        while self.buffers[b].kind == "view":
            b = self.buffers[b].base
        return b

    def _close(self):
        if self.loop is not None and self.loop.steps:
            self.statements.append(self.loop)
        self.loop = None

    def _use(self, b):
        """Note a read of ``b`` by the statement being built."""
        index = len(self.statements)
        buf = self.buffers[b]
        while True:
            buf.uses.append(index)
            if buf.kind != "view":
                break
            buf = self.buffers[buf.base]

    # ---- elementwise ----
    def _k_unary(self, out, op, x):
        x = self._buf(x)
        if host_unary(op, self.buffers[x].dtype) and self.buffers[x].kind != "const":
            # eager runs numpy's routine (float64 exp, log, sin...: numba's differ from it in
            # the last bit): the call is a part of its own, eager's kernel between fused parts
            raise NotFusable(f"unary op {op}: eager's numpy kernel")
        self._elementwise(out, "unary", op, [x], split=self._split("unary", op, [x]))

    def _split(self, kind, op, inputs):
        """(row, cut) where eager computes op ``op`` on ``inputs`` partly by its scalar-loop
        definition (sigmoid, silu, mish, the activations' gradients...: ``_unary_split_loop``,
        ``_binary_split_loop``): in each inner loop of ``row`` elements (the operands' memory
        order, which is the loop's), those from ``cut`` on.  None where every element takes the
        vector definition; ``("parts", n, width)`` for a unary op on a C-contiguous operand that
        eager splits among its threads (``split_loops``)."""
        codes = SCALAR_LOOP_CODES if kind == "unary" else BINARY_SCALAR_LOOP_CODES
        arrs = [self.arrays[x] for x in inputs]
        if op not in codes or any(a.dtype != arrs[0].dtype for a in arrs) \
                or arrs[0].dtype.name not in ("float32", "float64") \
                or all(self.buffers[x].kind == "const" for x in inputs):
            return None
        shape = np.broadcast_shapes(*(a.shape for a in arrs))
        n = math.prod(shape)
        if not n:
            return None
        strides = [np.broadcast_to(a, shape).strides for a in arrs]
        row, _, width = operands_loop_layout(shape, strides, arrs[0].itemsize, 1)
        if n >= (GELU_THREADING + 1 if kind == "unary" and op == opcodes.GELU_TANH else GRAIN_SIZE):
            # eager's inner loops end where a thread's part does
            if kind != "unary" or op == opcodes.GELU_TANH or row != n or not width \
                    or not arrs[0].flags.c_contiguous:
                raise NotFusable(f"{kind} op {op}: eager's kernel splits a strided operand among the threads")
            return ("parts", n, width)
        cut = row - row % width if width else 0
        return (row, cut) if cut < row else None

    def _k_binary(self, out, op, a, b, out_arg=None):
        inputs = [self._buf(a), self._buf(b)]
        split = self._split("binary", op, inputs) if out_arg is None else None
        self._elementwise(out, "binary", op, inputs, inplace=out_arg is not None, split=split)

    def _k_pow_pair(self, out, a, b):
        """``a ** b`` of two tensors where every element falls in PyTorch's scalar loop
        (fewer than two vectors' worth: Adam's ``beta ** step``), where eager's kernel takes
        the C library's ``pow``, as the per-element definition does."""
        a, b = self._buf(a), self._buf(b)
        arr = self.arrays[out]
        if arr.dtype.name not in ("float32", "float64") or arr.size >= (32 if arr.dtype.name == "float32" else 16):
            raise NotFusable("pow of two tensors past PyTorch's scalar loop (SLEEF's vector pow)")
        self._elementwise(out, "binary", opcodes.POW, [a, b])

    def _k_compare(self, out, op, a, b):
        self._elementwise(out, "compare", op, [self._buf(a), self._buf(b)])

    def _k_where(self, out, c, a, b):
        self._elementwise(out, "where", None, [self._buf(c), self._buf(a), self._buf(b)])

    def _k_fma(self, out, a, b, c, out_arg=None):
        self._elementwise(out, "fma", None, [self._buf(a), self._buf(b), self._buf(c)], inplace=out_arg is not None)

    def _k_astype(self, out, x, dtype):
        x = self._buf(x)
        if out == x:
            return
        self._elementwise(out, "copy", None, [x])

    def _k_copy(self, out, x):
        self._elementwise(out, "copy", None, [self._buf(x)])

    def _k_copy_into(self, out, dst, src):
        out = out[0] if isinstance(out, tuple) else out
        self._elementwise(self._buf(dst), "copy", None, [self._buf(src)], inplace=True)

    def _k_fill(self, out, x, value):
        """A number written over a buffer in memory (``grad.zero_()``): an argument's or a
        parameter's storage, or a gradient the program computed."""
        x = self._buf(x)
        buf = self.buffers[x]
        if buf.kind not in ("ext", "value") or not math.isfinite(value) or abs(value) >= 2 ** 53:
            raise NotFusable("fill of a view or a constant, or with a number a literal can't carry")
        self._close()  # the loop computing it has stored it
        self._use(x)
        buf.stored = True
        self.statements.append(("fill", x, repr(float(value))))  # a float storage's number, as a literal

    def _elementwise(self, out, kind, op, inputs, inplace=False, split=None):
        out_buf = self.buffers[out]
        into_view = inplace and out_buf.kind == "view" and out_buf.view[0] == "strided"  # (setitem's)
        if (out_buf.kind in ("const", "view") and not into_view) or (inplace and out_buf.kind is None):
            raise NotFusable("write into a view or constant")
        shape = out_buf.shape
        if not inplace and all(self.buffers[x].kind == "const" for x in inputs):
            # constant folding: the value the trace computed, as the eager kernel did
            out_buf.kind, out_buf.const = "const", self.program.trace_values[out]
            return
        loop = self.loop
        if loop is not None and shape == () != loop.shape and not inplace and split is None and loop.reductions and all(
                self.buffers[x].kind == "const" or x in loop.reductions or x in loop.after_produced
                or self.buffers[x].kind == "ext" for x in inputs):
            # a scalar step on the loop's sums (a mean's division) runs after the loop,
            # which stays open for the elementwise entries that follow
            for x in inputs:
                self._use(x)
            out_buf.kind, out_buf.group = "value", len(self.statements)
            loop.after.append((kind, out, op, inputs))
            loop.after_produced.add(out)
            return
        if loop is None or loop.shape != shape or not self._may_join(loop, inputs, out, inplace) or (
                split is not None and loop.split not in (None, split)):
            self._close()
            loop = self.loop = _Loop(shape)
        if split is not None:
            loop.split = split
        for x in inputs + ([out] if inplace else []):
            self._use(x)
        if not inplace:
            out_buf.kind = "value"
        out_buf.group = len(self.statements)
        loop.steps.append((kind, out, op, inputs) if split is None else (kind, out, op, inputs, split))
        loop.produced.add(out)
        if inplace:
            out_buf.stored = True
            loop.written.add(self.root(out))
            self._close()  # later reads of the target see memory, not a register

    def _may_join(self, loop, inputs, out, inplace):
        for x in inputs:
            r = self.root(x)
            if x in loop.reductions or r in loop.reductions or r in loop.after_produced:
                return False  # a reduction's result exists only after the loop
            if self.buffers[x].kind == "view" and (r in loop.produced or r in loop.written):
                return False  # another element of a value this loop is still computing
            if r in loop.written:
                return False
        if inplace and any(self.root(x) == self.root(out) and x != out for x in inputs):
            return False
        return True

    # ---- reductions ----
    def _k_reduce(self, out, op, x, dims, keepdim):
        x = self._buf(x)
        shape = self.buffers[x].shape
        if op == opcodes.SUM and self.buffers[x].dtype.kind == "f":
            return self._cascade_sum(out, x, tuple(dims))
        dims = tuple(range(len(shape))) if not dims else tuple(dims)
        if op not in (opcodes.SUM, opcodes.SUMSQ) and (len(dims) < len(shape) or not shape):
            raise NotFusable("max/min over some dimensions")
        loop = self.loop
        if loop is None or loop.shape != shape or not self._may_join(loop, [x], out, False):
            self._close()
            loop = self.loop = _Loop(shape)
        self._use(x)
        buf = self.buffers[out]
        buf.kind, buf.group, buf.stored = "value", len(self.statements), True
        loop.steps.append(("reduce", out, op, [x], dims))
        loop.reductions.add(out)

    def _cascade_sum(self, out, x, dims):
        """A float sum: the eager kernel (``backend/cpu/cascade.py``) called on ``x``'s memory
        with the layout eager planned from the traced array's strides, after the loop that
        stores ``x``.  Refused where this program's memory would not have those strides."""
        buf, arr = self.buffers[x], self.arrays[x]
        if buf.dtype not in cascade.LANES:
            raise NotFusable("a float16 sum")
        if any(s % arr.itemsize for s in arr.strides):
            raise NotFusable("a sum of a strided view")
        eager = cascade.reduce_layout(arr.shape, tuple(s // arr.itemsize for s in arr.strides), dims)
        if buf.kind == "const":  # a number broadcast (a gradient of ones): one element, strides 0
            if any(arr.strides):
                raise NotFusable("a sum of a constant in memory")
            root, offset, layout = None, 0, eager
        else:
            root, offset, strides = self._memory(x)
            layout = cascade.reduce_layout(buf.shape, strides, dims)
            if not all(np.array_equal(a, b) for a, b in zip(eager, layout)):
                raise NotFusable("a sum of memory laid out otherwise than eager's")
        self._close()
        self._use(x)
        o = self.buffers[out]
        o.kind, o.group, o.stored = "value", len(self.statements), True
        self.statements.append(("cascade", out, x if root is None else root, offset, layout))

    def _k_nll_sum(self, out, values, valid):
        """nll_loss's sum of the valid rows: the eager kernel on flat buffers."""
        if self.buffers[self._buf(values)].dtype not in cascade.LANES:
            raise NotFusable("a float16 nll_loss")
        self._indexing_statement(out, "nll_sum", [values, valid])

    def _memory(self, b):
        """(root buffer, element offset, element strides) of the memory the program reads
        ``b`` through: a C-contiguous value or argument seen through reshapes, blocks,
        transposes and broadcasts."""
        buf = self.buffers[b]
        shape = buf.shape
        contiguous = tuple(int(np.prod(shape[d + 1:])) for d in range(len(shape)))
        if buf.kind in ("value", "ext"):
            if buf.kind == "ext" and not self.arrays[b].flags.c_contiguous:
                raise NotFusable("a sum of a strided argument")
            return b, 0, contiguous
        if buf.kind != "view":
            raise NotFusable("a sum of a constant")
        if buf.view[0] == "strided":  # eager's strides over a C-contiguous root
            _, start, _, byte_strides = buf.view
            root, offset, _ = self._memory(buf.base)
            if start is None:
                raise NotFusable("a sum of a view of a strided argument")
            return root, offset + start, tuple(s // buf.dtype.itemsize for s in byte_strides)
        root, offset, strides = self._memory(buf.base)
        base_shape = self.buffers[buf.base].shape
        if buf.view == ("same",):
            return root, offset, strides
        if buf.view == ("T",):
            return root, offset, strides[::-1]
        if buf.view[0] == "perm":
            return root, offset, tuple(strides[d] for d in buf.view[1])
        if buf.view == ("broadcast",):
            lead = len(shape) - len(base_shape)
            return root, offset, tuple(
                0 if d < lead or (base_shape[d - lead] == 1 and n != 1) else strides[d - lead]
                for d, n in enumerate(shape))
        base_contiguous = tuple(int(np.prod(base_shape[d + 1:])) for d in range(len(base_shape)))
        if any(n != 1 and s != c for n, s, c in zip(base_shape, strides, base_contiguous)):
            raise NotFusable("a reshape of a strided view")
        if buf.view == ("reshape",):
            return root, offset, contiguous
        if buf.view[0] == "offset":
            return root, offset + buf.view[1], contiguous
        raise NotFusable(f"a sum through a view {buf.view}")

    # ---- matrix products and fills ----
    def _k_matmul(self, out, a, b):
        a, b = self._buf(a), self._buf(b)
        sa, sb = self.buffers[a].shape, self.buffers[b].shape
        if len(sa) > 2 and sa[:-2] == sb[:-2] and self.buffers[a].dtype.kind == "f" \
                and self.buffers[a].dtype.name in GEMM and all(sa) and all(sb):
            return self._batched_matmul(out, a, b)
        operands = []
        for x in (a, b):
            if len(self.buffers[x].shape) != 2 or self.buffers[x].dtype.kind != "f":
                raise NotFusable("matmul beyond 2-D floats")
            bx = self.buffers[x]
            if bx.kind == "view" and bx.view == ("T",):
                bx = self.buffers[bx.base]
            operands.append(x if self._plain(bx) else self._contiguous_copy(x))  # a constant, a broadcast
        a, b = operands
        self._close()
        self._use(a)
        self._use(b)
        buf = self.buffers[out]
        buf.kind, buf.group, buf.stored = "value", len(self.statements), True
        self.statements.append(("matmul", out, a, b))

    def _batched_matmul(self, out, a, b):
        """A product over equal batch dimensions: eager's (``KernelCalls.matmul``) — C-contiguous
        copies of both operands, then one gemm per matrix, here in a loop."""
        a, b = (x if self._plain(self.buffers[x]) and self.arrays[x].flags.c_contiguous
                else self._contiguous_copy(x) for x in (a, b))
        self._close()
        self._use(a)
        self._use(b)
        buf = self.buffers[out]
        buf.kind, buf.group, buf.stored = "value", len(self.statements), True
        self.statements.append(("bmm", out, a, b))

    def _k_softmax(self, out, x, dim, log=False):
        x = self._buf(x)
        bx = self.buffers[x]
        if dim not in (-1, len(bx.shape) - 1) or not bx.shape or bx.kind == "const" or not self._plain(bx) \
                or not self.arrays[x].flags.c_contiguous:  # (a reshape of a value: the scores of a batched product)
            raise NotFusable("softmax over a dimension other than the last")
        self._close()
        self._use(x)
        buf = self.buffers[out]
        buf.kind, buf.group, buf.stored = "value", len(self.statements), True
        self.statements.append(("softmax", out, x, bool(log)))

    def _k_softmax_backward(self, out, grad, y, log):
        """PyTorch's softmax/log_softmax gradient over rows (``nn.softmax_backward_rows``,
        ``nn.log_softmax_backward_rows``)."""
        grad, y = self._buf(grad), self._buf(y)
        for b in (grad, y):
            if self.buffers[b].kind == "const" or not self._plain(self.buffers[b]) \
                    or not self.arrays[b].flags.c_contiguous:
                raise NotFusable("softmax's gradient over a broadcast or strided buffer")
        self._close()
        self._use(grad)
        self._use(y)
        buf = self.buffers[out]
        buf.kind, buf.group, buf.stored = "value", len(self.statements), True
        self.statements.append(("softmax_backward", out, grad, y, bool(log)))
