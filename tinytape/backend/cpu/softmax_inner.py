"""softmax and log_softmax over a dimension that is not the last, and their gradients, as
PyTorch's CPU kernels compute them (``_vec_softmax``, ``_vec_logsoftmax``,
``_vec_softmax_backward``, ``_vec_log_softmax_backward`` in
aten/src/ATen/native/cpu/SoftMaxKernel.cpp, AVX512 build).

The buffer is C-contiguous (outer, dim, inner).  Those kernels vectorise across ``inner``:
each of ``width`` neighbouring inner positions (16 float32 or 8 float64) reduces along
``dim`` in order, one element at a time, so every position's sum is a plain left-to-right
sum; the positions that do not fill a vector take the scalar tail, whose ``exp`` is the C
library's (``math.exp`` here) where the vectors' is SLEEF's.

- softmax: the vectors are the groups of ``width`` positions of the flat (outer * inner)
  index, from the start of a thread's range (below), that stay inside one ``inner`` row
  and that range; the rest is the tail.  Max
  (NaN-propagating in the vectors, ``std::max`` in the tail), ``e = exp(x - max)``, the sum,
  then ``e / sum``.
- log_softmax and both gradients: ``inner`` is cut into chunks of ``chunk`` positions
  (128 KiB of ``dim`` rows); in each chunk the first ``size - size % width`` positions are
  vectors.  log_softmax: max by ``x > max`` (a NaN never wins), the sum of exps, SLEEF's log
  of it for every position, ``x - max - log``.  Gradients: softmax's ``y * (g - sum(g * y))``
  with each ``sum += g * y`` one fused multiply-add, log_softmax's ``g - exp(y) * sum(g)``
  with the product fused into the subtraction (GCC contracts both in PyTorch's build).

The softmax forward's vectors also stop at the end of a thread's range: PyTorch's
parallel_for (grain 1 there) gives each of its threads ``ceil(positions / threads)`` positions,
so the caller passes that ``part`` for the thread count it runs with.
"""
import math

import numpy as np
from numba import njit

from .. import sleef


def _same_shapes(a, b):
    return a.shape[0] == b.shape[0] and a.shape[1] == b.shape[1] and a.shape[2] == b.shape[2]


_same_shapes = njit(cache=True, nogil=True, inline="always")(_same_shapes)


@njit(cache=True, nogil=True, error_model="numpy")
def softmax_inner(x, out, part):
    """softmax along axis 1 of (outer, dim, inner) ``x`` into ``out``, the (outer * inner)
    positions in ranges of ``part`` (one per thread, as PyTorch's parallel_for splits them)."""
    if not _same_shapes(x, out) or part < 1:
        raise IndexError("softmax_inner: x and out of different shapes")
    outer, dim, inner = x.shape
    width = 64 // x.itemsize
    zero = np.zeros(1, x.dtype)[0]
    total = outer * inner
    for begin in range(0, total, part):
        end = min(total, begin + part)
        idx = begin
        while idx < end:
            o, i = idx // inner, idx % inner
            vector = i + width <= inner and idx + width <= end
            stop = i + width if vector else min(inner, i + end - idx)
            for k in range(i, stop):
                m = x[o, 0, k]
                for d in range(1, dim):
                    v = x[o, d, k]
                    if vector:
                        if v > m or v != v or m != m:  # vec::maximum: NaN wins
                            m = v if m == m else m
                    elif m < v:  # std::max(m, v)
                        m = v
                s = zero
                for d in range(dim):
                    e = sleef.sleef_exp(x[o, d, k] - m) if vector else math.exp(x[o, d, k] - m)
                    out[o, d, k] = e
                    s += e
                for d in range(dim):
                    out[o, d, k] = out[o, d, k] / s
            idx += stop - i


def _chunk(dim, itemsize, width):
    """PyTorch's CHUNK_SIZE: 128 KiB of ``dim`` rows, a whole number of vectors."""
    return max(131072 // dim // itemsize, width) // width * width


_chunk = njit(cache=True, nogil=True, inline="always")(_chunk)


@njit(cache=True, nogil=True, error_model="numpy")
def log_softmax_inner(x, out):
    """log_softmax along axis 1 of (outer, dim, inner) ``x`` into ``out``."""
    if not _same_shapes(x, out):
        raise IndexError("log_softmax_inner: x and out of different shapes")
    outer, dim, inner = x.shape
    width = 64 // x.itemsize
    chunk = _chunk(dim, x.itemsize, width)
    zero, lowest = np.zeros(1, x.dtype)[0], np.full(1, -np.inf, x.dtype)[0]
    for o in range(outer):
        for begin in range(0, inner, chunk):
            size = min(chunk, inner - begin)
            vectors = size - size % width
            for j in range(size):
                k = begin + j
                m = lowest
                for d in range(dim):
                    v = x[o, d, k]
                    if v > m:
                        m = v
                s = zero
                for d in range(dim):
                    s += sleef.sleef_exp(x[o, d, k] - m) if j < vectors else math.exp(x[o, d, k] - m)
                lse = sleef.sleef_log_normal(s) if s == s else s  # s >= 1, or NaN
                for d in range(dim):
                    out[o, d, k] = x[o, d, k] - m - lse


@njit(cache=True, nogil=True, error_model="numpy")
def softmax_backward_inner(grad, y, res, log):
    """The gradient of softmax (log_softmax) along axis 1 of (outer, dim, inner) buffers."""
    if not (_same_shapes(grad, y) and _same_shapes(grad, res)):
        raise IndexError("softmax_backward_inner: buffers of different shapes")
    outer, dim, inner = grad.shape
    width = 64 // grad.itemsize
    chunk = _chunk(dim, grad.itemsize, width)
    zero = np.zeros(1, grad.dtype)[0]
    for o in range(outer):
        for begin in range(0, inner, chunk):
            size = min(chunk, inner - begin)
            vectors = size - size % width
            for j in range(size):
                k = begin + j
                s = zero
                if log:
                    for d in range(dim):
                        s += grad[o, d, k]
                    for d in range(dim):
                        e = sleef.sleef_exp(y[o, d, k]) if j < vectors else math.exp(y[o, d, k])
                        res[o, d, k] = sleef.fma(-e, s, grad[o, d, k])
                else:
                    for d in range(dim):
                        s = sleef.fma(grad[o, d, k], y[o, d, k], s)  # the compiler fuses ``s += g * y``
                    for d in range(dim):
                        res[o, d, k] = y[o, d, k] * (grad[o, d, k] - s)
