"""Matrix-product CPU kernels.

``np.dot`` inside njit calls BLAS (through scipy's bindings); a hand-written numba
loop is 2-7x slower here.  Transposed operands are passed as the C-contiguous array
plus a flag, so backward's ``g @ w.T`` and ``x.T @ g`` never materialise a transpose
and each dtype compiles one signature.

BLAS threads per product.  The BLAS ``np.dot`` reaches is the OpenBLAS bundled with
scipy's wheel (``scipy.libs/libscipy_openblas*.so``; numpy carries another one, which
these kernels do not call).  By default it runs every product above its own tiny
threshold on all its threads, which on a small or busy machine is a gamble: on this
2-core machine, shared, two threads ran the seed's 24x1000 by 1000x100 float32 product
1.6-6x slower than one, and larger products gained up to 2x when the other core was
idle but lost up to 40x when it was not (``bench/bench_blas_threads.py``).
``set_small_product_flops(n)`` runs products of fewer than ``n`` flops on one thread
and larger ones on the library's own count.  It is off by default: the thread count
changes a product's last bits (OpenBLAS splits the work differently), and the seed
run's float32 loss curve is pinned bit for bit as two threads give it on this machine.
"""
import ctypes
import glob
import os

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
def _matmul(a, b, out, trans_a, trans_b):
    _mm(a, b, out, trans_a, trans_b)


@njit(cache=True, nogil=True, error_model="numpy")
def _bmm(a, b, out, trans_a, trans_b):
    for i in range(out.shape[0]):
        _mm(a[i], b[i], out[i], trans_a, trans_b)


def matmul(a, b, out, trans_a, trans_b):
    """``out = op(a) @ op(b)``, 2-D, C-contiguous operands (``op`` transposes when flagged)."""
    if _threads.small_flops:
        _threads.pick(2 * out.shape[0] * out.shape[1] * (a.shape[0] if trans_a else a.shape[1]))
    _matmul(a, b, out, trans_a, trans_b)


def bmm(a, b, out, trans_a, trans_b):
    """``matmul`` over the leading axis of 3-D operands."""
    if _threads.small_flops:
        _threads.pick(2 * out.shape[1] * out.shape[2] * (a.shape[1] if trans_a else a.shape[2]))
    _bmm(a, b, out, trans_a, trans_b)


class _ProductThreads:
    """The thread count of scipy's OpenBLAS, chosen per product.  Reading the count is a
    ctypes call of ~0.1 us; setting it (~0.5 us) happens only when it changes."""

    small_flops = 0  # products below this many flops run on one thread; 0: the library decides

    def __init__(self):
        self._get = self._set = None
        self.most = None  # the library's own count, read before the first change

    def enable(self, small_flops):
        if small_flops and self._get is None and not self._load():
            raise RuntimeError("tinytape: the BLAS that numba's np.dot calls is not scipy's bundled "
                               "OpenBLAS; its thread count can't be set per product")
        if not small_flops and self._set is not None:
            self._set(self.most)  # off again: every product back on the library's own count
        self.small_flops = small_flops

    def _load(self):
        import scipy
        folder = os.path.join(os.path.dirname(os.path.dirname(scipy.__file__)), "scipy.libs")
        for path in sorted(glob.glob(os.path.join(folder, "libscipy_openblas*.so"))):
            try:
                lib = ctypes.CDLL(path)
                get, set_ = lib.scipy_openblas_get_num_threads, lib.scipy_openblas_set_num_threads
            except (OSError, AttributeError):
                continue
            get.restype, set_.argtypes, set_.restype = ctypes.c_int, [ctypes.c_int], None
            self._get, self._set, self.most = get, set_, get()
            return True
        return False

    def pick(self, flops):
        want = 1 if flops < self.small_flops else self.most
        if self._get() != want:
            self._set(want)


_threads = _ProductThreads()


def set_small_product_flops(flops):
    """Run products of fewer than ``flops`` floating-point operations on one BLAS thread and
    larger ones on the library's own count; 0 (the default) leaves every product to OpenBLAS.
    Returns the previous setting."""
    previous = _threads.small_flops
    _threads.enable(int(flops))
    return previous
