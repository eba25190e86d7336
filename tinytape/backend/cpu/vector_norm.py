"""Vector norms in PyTorch's CPU order (ATen ``ReduceOpsKernel.cpp``,
``norm_kernel_tensor_iterator_impl``), bit for bit, float32 and float64, in the input's dtype.

Two loops, chosen as PyTorch chooses them from ``TensorIterator``'s layout (``cascade.reduce_layout``):

* p = 2 over one reduced loop that is contiguous in memory and innermost (``is_reduce_lastdim``:
  a contiguous tensor reduced over its last dims, or over all of them): each result is the vector
  loop of AVX2 width (8 float32, 4 float64: ``norm_stub`` is registered with ``REGISTER_DISPATCH``,
  which leaves the AVX512 slot to the AVX2 kernel) adding ``x * x`` into one accumulator per lane
  (a product rounded, then a sum), the lanes folded left to right, then the ``n % width`` tail
  added one element at a time.  The compiled tail fuses ``acc + x * x`` into one rounding, except
  that a float32 tail of four or more takes its first four products from one 128-bit multiply
  (rounded) before adding them.
* everything else (``binary_kernel_reduce``): per result, one accumulator over the reduced
  elements in the layout's order (innermost loop first), ``acc + x * x`` (two roundings),
  ``acc + |x|``, ``acc + |x| ** p`` then ``acc ** (1 / p)`` with ``1 / p`` in the dtype, or
  max / min of ``|x|`` propagating nan (inf, -inf), or the count of non-zeros (p = 0).

What is matched: one thread.  Where a single result takes the second loop over 32768 or more
elements, PyTorch splits them over its threads unless ``torch.set_num_threads(1)`` (several results
are spread over the threads instead, each summed whole).
"""
import numpy as np
from llvmlite import ir
from numba import njit
from numba.extending import intrinsic

from .cascade import reduce_layout

TWO, ONE, POWER, MAX_ABS, MIN_ABS, NONZERO = range(6)
LANES = {np.dtype(np.float32): 8, np.dtype(np.float64): 4}
BFLOAT16_LANES = 16  # a Vectorized<BFloat16>: two float vectors


@intrinsic
def _fused_multiply_add(typingctx, a, b, c):
    """``a * b + c`` rounded once (LLVM's ``fma``), in the arguments' float type."""
    sig = a(a, b, c)

    def codegen(context, builder, signature, args):
        ty = args[0].type
        fn = builder.module.declare_intrinsic("llvm.fma", [ty], ir.FunctionType(ty, [ty, ty, ty]))
        return builder.call(fn, args)

    return sig, codegen


@njit(cache=True, nogil=True, error_model="numpy")
def _two_lastdim(x, base, size, lanes, acc):
    """sqrt of the sum of squares of ``x[base:base + size]``, PyTorch's vector loop.  ``lanes``
    16: bfloat16 widened to float32 (``BFLOAT16_LANES``), 16 elements a step added into the 8
    float lanes as two vectors, first the low half's squares, then the high half's."""
    width = 8 if lanes == 16 else lanes
    for j in range(width):
        acc[j] = 0
    d = 0
    body = size - size % lanes
    while d < body:
        for j in range(width):
            v = x[base + d + j]
            acc[j] = acc[j] + v * v
        if lanes == 16:
            for j in range(width):
                v = x[base + d + 8 + j]
                acc[j] = acc[j] + v * v
        d += lanes
    total = acc[0]
    for j in range(1, width):
        total = total + acc[j]
    # the float32 tail's first four products come from one (unfused) 128-bit multiply
    plain = d + 4 if lanes == 8 and size - d >= 4 else d
    while d < size:
        v = x[base + d]
        if d < plain:
            total = total + v * v
        else:
            total = _fused_multiply_add(v, v, total)
        d += 1
    return np.sqrt(total)


@njit(cache=True, nogil=True, error_model="numpy")
def _serial(x, base, sizes, ins, nred, kind, p, consts, counter):
    """One result of PyTorch's ``binary_kernel_reduce``: the reduced loops (the first ``nred``
    of the layout, innermost first) walked in order from ``base``; ``consts`` holds 0, 1 and
    inf in the dtype (a float64 literal would widen the float32 accumulator)."""
    zero, one = consts[0], consts[1]
    acc = consts[2] if kind == MIN_ABS else zero
    for k in range(nred):
        counter[k] = 0
    total = 1
    for k in range(nred):
        total *= sizes[k]
    pos = base
    for _ in range(total):
        v = x[pos]
        if kind == TWO:
            acc = acc + v * v
        elif kind == ONE:
            acc = acc + abs(v)
        elif kind == POWER:
            acc = acc + abs(v) ** p
        elif kind == NONZERO:
            acc = acc + (zero if v == 0 else one)
        elif kind == MAX_ABS:
            a = abs(v)
            if np.isnan(acc) or np.isnan(a):
                acc = acc + a
            elif a > acc:
                acc = a
        else:
            a = abs(v)
            if np.isnan(acc) or np.isnan(a):
                acc = acc + a
            elif a < acc:
                acc = a
        # next index: innermost loop first
        for k in range(nred):
            counter[k] += 1
            pos += ins[k]
            if counter[k] < sizes[k]:
                break
            pos -= ins[k] * sizes[k]
            counter[k] = 0
    if kind == TWO:
        return np.sqrt(acc)
    if kind == POWER:
        return acc ** (one / p)
    return acc


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _result_count(x, out, sizes, ins, outs):
    """(the number of reduced loops, of results) of the layout; IndexError where it reaches
    past ``x`` or ``out``."""
    ndim = sizes.shape[0]
    nred = 0
    while nred < ndim and outs[nred] == 0:
        nred += 1
    span = 1
    for k in range(ndim):
        span += (sizes[k] - 1) * ins[k]
    if span > x.shape[0] or (ndim == 0 and x.shape[0] < 1):
        raise IndexError("linalg.vector_norm: the layout reaches past the input")
    results = 1
    for k in range(nred, ndim):
        results *= sizes[k]
    if results > out.shape[0]:
        raise IndexError("linalg.vector_norm: more results than the output holds")
    return nred, results


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _result_position(r, sizes, ins, outs, nred):
    """Where result ``r`` starts in the input and lands in the output."""
    base, o, rest = np.int64(0), np.int64(0), r  # (int64 from the start: a literal 0 compiles a copy)
    for k in range(nred, sizes.shape[0]):
        i = rest % sizes[k]
        rest //= sizes[k]
        base += i * ins[k]
        o += i * outs[k]
    return base, o


# Two kernels, not one with both loops: each process compiles only the loop it runs
# (a 2-norm of contiguous rows, as clip_grad_norm_ takes, never needs the serial one).

@njit(cache=True, nogil=True, error_model="numpy")
def vector_norm_lastdim(x, out, sizes, ins, outs, lanes):
    """Every result of a 2-norm whose one reduced loop is contiguous and innermost
    (``_two_lastdim``) into the C-contiguous ``out``."""
    nred, results = _result_count(x, out, sizes, ins, outs)
    if nred != 1 or ins[0] != 1:
        raise IndexError("linalg.vector_norm: the layout is not one contiguous innermost reduction")
    acc = np.empty(lanes, x.dtype)
    for r in range(results):
        base, o = _result_position(r, sizes, ins, outs, nred)
        out[o] = _two_lastdim(x, base, sizes[0], lanes, acc)
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def vector_norm_layout(x, out, sizes, ins, outs, kind, p):
    """Every result of the norm of ``x`` laid out by ``reduce_layout`` into the C-contiguous
    ``out`` by ``binary_kernel_reduce``'s loop (``_serial``); ``p`` (the dtype's) is used by
    ``POWER`` only."""
    nred, results = _result_count(x, out, sizes, ins, outs)
    counter = np.zeros(max(sizes.shape[0], 1), np.int64)
    consts = np.array([0, 1, np.inf], x.dtype)
    for r in range(results):
        base, o = _result_position(r, sizes, ins, outs, nred)
        out[o] = _serial(x, base, sizes, ins, nred, kind, p, consts, counter)
    return out


def vector_norm(x, p, dims, keepdim):
    """The ``p``-norm of the float32/float64 array ``x`` (not empty) over ``dims`` (sorted;
    empty: all), PyTorch's CPU kernel's bits; the result's dims kept when ``keepdim``.
    bfloat16: its float32 values in the same loops (PyTorch accumulates in float, p = 2's
    vector loop taking 16 elements a step), the float result rounded to bfloat16."""
    if x.dtype.name == "bfloat16":
        wide = x.astype(np.float32, order="K")  # the same layout, so the same loop order
        return _vector_norm(wide, p, dims, keepdim, BFLOAT16_LANES).astype(x.dtype)
    return _vector_norm(x, p, dims, keepdim, LANES[x.dtype])


def _vector_norm(x, p, dims, keepdim, lanes):
    reduced = set(dims) if dims else set(range(x.ndim))
    if all(x.shape[d] == 1 for d in reduced):  # a norm of single elements: PyTorch's abs (p != 0)
        out = np.abs(x) if p != 0 else (x != 0).astype(x.dtype)
        return out if keepdim else out.reshape(tuple(n for d, n in enumerate(x.shape) if d not in reduced))
    if any(s < 0 for s in x.strides) or any(s % x.itemsize for s in x.strides):
        x = np.ascontiguousarray(x)
    strides = tuple(s // x.itemsize for s in x.strides)
    sizes, ins, outs = reduce_layout(x.shape, strides, dims)
    shape = tuple(1 if d in reduced else n for d, n in enumerate(x.shape))
    out = np.empty(shape, x.dtype)
    span = 1 + sum((n - 1) * s for n, s in zip(x.shape, strides))
    flat = x.reshape(-1) if x.flags.c_contiguous else np.lib.stride_tricks.as_strided(x, (span,), (x.itemsize,))
    kind = (TWO if p == 2 else ONE if p == 1 else MAX_ABS if p == np.inf else MIN_ABS if p == -np.inf
            else NONZERO if p == 0 else POWER)
    nred = 0
    while nred < len(outs) and outs[nred] == 0:
        nred += 1
    if kind == TWO and nred == 1 and ins[0] == 1:  # PyTorch's is_reduce_lastdim
        vector_norm_lastdim(flat, out.reshape(-1), sizes, ins, outs, lanes)
    else:
        vector_norm_layout(flat, out.reshape(-1), sizes, ins, outs, kind, x.dtype.type(p))
    if not keepdim:
        out = out.reshape(tuple(n for d, n in enumerate(x.shape) if d not in reduced))
    return out
