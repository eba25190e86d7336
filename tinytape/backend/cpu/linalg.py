"""Matrix-product CPU kernels.

``np.dot`` inside njit calls BLAS (through scipy's bindings); a hand-written numba
loop is 2-7x slower here.  Transposed operands are passed as the C-contiguous array
plus a flag, so backward's ``g @ w.T`` and ``x.T @ g`` never materialise a transpose
and each dtype compiles one signature.
"""
import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def _mm(a, b, out, trans_a, trans_b):
    if trans_a and trans_b:
        np.dot(a.T, b.T, out)
    elif trans_a:
        np.dot(a.T, b, out)
    elif trans_b:
        np.dot(a, b.T, out)
    else:
        np.dot(a, b, out)


@njit(cache=True, nogil=True, error_model="numpy")
def matmul(a, b, out, trans_a, trans_b):
    _mm(a, b, out, trans_a, trans_b)


@njit(cache=True, nogil=True, error_model="numpy")
def bmm(a, b, out, trans_a, trans_b):
    for i in range(out.shape[0]):
        _mm(a[i], b[i], out[i], trans_a, trans_b)
