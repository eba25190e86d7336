"""Matrix-product CPU kernels.

Products call numpy's own OpenBLAS (``blas.py``): at the seed sizes it is faster than
the build ``np.dot`` inside njit reaches through scipy, and compiled programs call the
same function, so eager and compiled products agree bit for bit.  ``np.dot`` serves
where numpy has no such library, for complex dtypes and for empty products (BLAS
refuses zero sizes).  Transposed operands are passed as the C-contiguous array plus a
flag, so backward's ``g @ w.T`` and ``x.T @ g`` never materialise a transpose and each
dtype compiles one signature.

BLAS threads per product.  By default OpenBLAS runs every product above its own tiny
threshold on all its threads, which on a small or busy machine is a gamble: on a 2-core
machine, shared, two threads ran the seed's 24x1000 by 1000x100 float32 product 1.6-6x
slower than one, and larger products gained up to 2x when the other core was idle but
lost up to 40x when it was not (``bench/bench_blas_threads.py``).  Products of fewer
than ``SMALL_PRODUCT_FLOPS`` flops run on one thread, larger ones on the library's own
count (``set_small_product_flops`` changes the bound; 0 leaves every product to
OpenBLAS).  The thread count decides how OpenBLAS splits a product, so it decides the
last bits too: with small products on one thread, the seed run's float32 curve is the
same on a machine of any core count.
"""
import contextlib
import threading

import numpy as np
from numba import njit
from numba.extending import overload
from numba.np.numpy_support import as_dtype

from .blas import GEMM, NO_TRANS, TRANS, gemm_call, thread_functions

SMALL_PRODUCT_FLOPS = 10_000_000


def units(x):
    """(1, 0) in the dtype of the array ``x``, in compiled code (gemm's alpha and beta, a
    running sum's start)."""


@overload(units)
def _units_typed(x):
    scalar = as_dtype(x.dtype).type  # typed here, not passed in: two numpy scalars cost the dispatcher 0.3 us
    return lambda x: (scalar(1), scalar(0))


@njit(cache=True, nogil=True)
def _gemm(address, a, b, out, trans_a, trans_b):
    """``out = op(a) @ op(b)`` by numpy's cblas gemm at ``address`` (all C-contiguous, no
    zero size)."""
    m, n = out.shape
    k = a.shape[0] if trans_a else a.shape[1]
    one, zero = units(out)
    gemm_call(address, TRANS if trans_a else NO_TRANS, TRANS if trans_b else NO_TRANS, m, n, k, one,
              a.ctypes.data, a.shape[1], b.ctypes.data, b.shape[1], zero, out.ctypes.data, n)


@njit(cache=True, nogil=True)
def _batched_gemm(address, a, b, out, trans_a, trans_b):
    for i in range(out.shape[0]):
        _gemm(address, a[i], b[i], out[i], trans_a, trans_b)


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


# keyed by dtype object: numpy's ``dtype.name`` is Python code (1.5-3 us a read)
_GEMM = {np.dtype(name): address for name, address in GEMM.items()}


def matmul(a, b, out, trans_a, trans_b):
    """``out = op(a) @ op(b)``, 2-D, C-contiguous operands (``op`` transposes when flagged)."""
    _product(_gemm, _matmul, a, b, out, trans_a, trans_b)


def bmm(a, b, out, trans_a, trans_b):
    """``matmul`` over the leading axis of 3-D operands."""
    _product(_batched_gemm, _bmm, a, b, out, trans_a, trans_b)


def _product(gemm_kernel, dot_kernel, a, b, out, trans_a, trans_b):
    k = a.shape[-2] if trans_a else a.shape[-1]
    if _threads.small_flops and not _threads.quiet.on:  # the flops of one matrix product
        # (the count is the process's: set and used with no other thread's product between,
        # such as the fused code a compiled function checks on its thread)
        with _threads.lock:
            _threads.pick(2 * out.shape[-2] * out.shape[-1] * k)
            _run_product(gemm_kernel, dot_kernel, a, b, out, trans_a, trans_b, k)
    else:
        _run_product(gemm_kernel, dot_kernel, a, b, out, trans_a, trans_b, k)


def _run_product(gemm_kernel, dot_kernel, a, b, out, trans_a, trans_b, k):
    address = _GEMM.get(out.dtype)
    if address and out.size and k:
        gemm_kernel(address, a, b, out, trans_a, trans_b)
    else:
        dot_kernel(a, b, out, trans_a, trans_b)


_UNGUARDED = contextlib.nullcontext()


class _Quiet(threading.local):
    on = False  # (a class default: each thread reads it without a missing attribute's exception, ~0.3 us)


class _ProductThreads:
    """The thread count of the products' OpenBLAS, chosen per product.  Reading the count
    is a ctypes call of ~0.1 us; setting it (~0.5 us) happens only when it changes."""

    small_flops = 0  # products below this many flops run on one thread; 0: the library decides

    def __init__(self):
        self._get = self._set = None
        self.most = None  # the library's own count, read before the first change
        self.lock = threading.RLock()  # held from setting the count to the end of the product
        self.quiet = _Quiet()  # ``.on``: this thread's products leave the count as it is

    def enable(self, small_flops):
        if small_flops and self._get is None and not self._load():
            raise RuntimeError("tinytape: the BLAS the matrix products call is not numpy's or scipy's "
                               "bundled OpenBLAS; its thread count can't be set per product")
        if not small_flops and self._set is not None:
            self._set(self.most)  # off again: every product back on the library's own count
        self.small_flops = small_flops

    def _load(self):
        fns = thread_functions()
        if fns is None:
            return False
        self._get, self._set = fns
        self.most = self._get()
        return True

    def small_here(self):
        """``small_flops`` for this thread's compiled products (0: they leave the count alone)."""
        return 0 if self.quiet.on else self.small_flops

    def guard(self):
        """What this thread's compiled products hold while they set the count and run."""
        return _UNGUARDED if self.quiet.on else self.lock

    @contextlib.contextmanager
    def counts_left_alone(self):
        """Products run on this thread leave the count as it is and take no lock (numba compiling
        a compiled function's fused code on its thread: a first run whose bits are not used).
        Another thread's count changes then can't touch theirs, nor theirs another's."""
        self.quiet.on = True
        try:
            yield
        finally:
            self.quiet.on = False

    def pick(self, flops):
        want = 1 if flops < self.small_flops else self.most
        if self._get() != want:
            self._set(want)


_threads = _ProductThreads()
if thread_functions() is not None:
    _threads.enable(SMALL_PRODUCT_FLOPS)


def set_small_product_flops(flops):
    """Run products of fewer than ``flops`` floating-point operations on one BLAS thread and
    larger ones on the library's own count (the default bound: ``SMALL_PRODUCT_FLOPS``); 0
    leaves every product to OpenBLAS.  Returns the previous setting."""
    previous = _threads.small_flops
    _threads.enable(int(flops))
    return previous
