"""Matrix-product CPU kernels.

Products call numpy's own OpenBLAS (``blas.py``): at the seed sizes it is faster than
the build ``np.dot`` inside njit reaches through scipy (the 24x1000 by 1000x100 float32
product: 47 us against 67 us), and compiled programs call the same function, so eager
and compiled products agree bit for bit.  ``np.dot`` serves where numpy has no such
library.  Transposed operands are passed as the C-contiguous array plus a flag, so
backward's ``g @ w.T`` and ``x.T @ g`` never materialise a transpose and each dtype
compiles one signature.
"""
import numpy as np
from numba import njit

from .blas import NO_TRANS, TRANS, gemm_addresses, gemm_call

GEMM = gemm_addresses() or {}  # dtype name -> numpy's cblas gemm


@njit(cache=True, nogil=True)
def gemm(address, a, b, out, trans_a, trans_b, one, zero):
    """``out = op(a) @ op(b)`` by numpy's cblas gemm at ``address`` (all C-contiguous)."""
    m, n = out.shape
    k = a.shape[0] if trans_a else a.shape[1]
    gemm_call(address, TRANS if trans_a else NO_TRANS, TRANS if trans_b else NO_TRANS, m, n, k, one,
              a.ctypes.data, a.shape[1], b.ctypes.data, b.shape[1], zero, out.ctypes.data, n)


@njit(cache=True, nogil=True)
def batched_gemm(address, a, b, out, one, zero):
    for i in range(out.shape[0]):
        gemm(address, a[i], b[i], out[i], False, False, one, zero)


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
