"""Reduction CPU kernels over the middle axis of a C-contiguous (outer, n, inner) view.

Any set of adjacent reduced dimensions maps onto that middle axis without a copy.
Float sums take PyTorch's order in ``cascade.py``; here the sums of squares (``norm``)
accumulate in float64, integer sums exactly.  Running sums (cumsum) go along the rows of
a (rows, cols) buffer.
"""
from numba import njit

from ..opcodes import MAX, MIN, SUM, SUMSQ
from .linalg import units


@njit(cache=True, nogil=True, error_model="numpy")
def reduce_mid(op, x, out):
    outer, n, inner = x.shape
    for i in range(outer):
        for k in range(inner):
            if op == SUM or op == SUMSQ:
                acc = 0.0
                for j in range(n):
                    v = x[i, j, k]
                    acc += v * v if op == SUMSQ else v
                out[i, k] = acc
            else:
                best = x[i, 0, k]
                for j in range(1, n):
                    v = x[i, j, k]
                    if best != best:
                        break  # NaN wins, as in PyTorch
                    if (op == MAX and (v > best or v != v)) or (op == MIN and (v < best or v != v)):
                        best = v
                out[i, k] = best


@njit(cache=True, nogil=True, error_model="numpy")
def argreduce_mid(op, x, values, indices):
    outer, n, inner = x.shape
    for i in range(outer):
        for k in range(inner):
            best = x[i, 0, k]
            arg = 0
            for j in range(1, n):
                v = x[i, j, k]
                if best != best:
                    break
                if (op == MAX and (v > best or v != v)) or (op == MIN and (v < best or v != v)):
                    best = v
                    arg = j
            values[i, k] = best
            indices[i, k] = arg


@njit(cache=True, nogil=True, error_model="numpy")
def cumsum_rows(x, out):
    """Running sums along each row of C-contiguous (rows, cols) buffers, kept in float64
    and rounded at each output: PyTorch's CPU kernel for float32 (float64 alike)."""
    rows, cols = x.shape
    for i in range(rows):
        acc = 0.0
        for j in range(cols):
            acc += x[i, j]
            out[i, j] = acc


@njit(cache=True, nogil=True, error_model="numpy")
def cumsum_rows_exact(x, out):
    """Running sums kept in ``x``'s own dtype: int64 (exact) and the float32 that PyTorch
    sums float16 and bfloat16 in."""
    rows, cols = x.shape
    for i in range(rows):
        acc = units(x)[1]  # 0 in x's dtype
        for j in range(cols):
            acc += x[i, j]
            out[i, j] = acc
