"""Reduction CPU kernels over the middle axis of a C-contiguous (outer, n, inner) view.

Any set of adjacent reduced dimensions maps onto that middle axis without a copy.
Sums accumulate in float64 whatever the dtype, so float32 sums of many terms keep
their digits.
"""
from numba import njit

from ..opcodes import MAX, MIN, SUM, SUMSQ


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
