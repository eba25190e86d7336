"""Where numba caches the compiled CPU kernels.

The cache lives under a directory named after the tinytape and numba versions and a
hash of the modules the kernels compile in from outside their own files (the op table,
its op codes and per-element definitions (``scalar_ops``, ``sleef``, ``sleef_pow``), the elementwise loops), so an upgrade or a
change there never loads stale machine code; numba's own index still checks each kernel
file's source.  ``TINYTAPE_CACHE_DIR`` moves it; ``NUMBA_CACHE_DIR``, when set, wins as
numba documents.
"""
import hashlib
import os

import numba
import numpy as np
from numba.core import caching, serialize

from ..._version import __version__
from .. import activations, erf, opcodes, scalar_loop, scalar_ops, sleef, sleef_arith, sleef_pow, sleef_tanh
from ... import op_table

_KERNEL_DIR = os.path.dirname(os.path.abspath(__file__))


def cache_root():
    digest = hashlib.sha1()
    # folded into the kernels from outside their files (the elementwise loops: into the
    # dispatch kernels generated from the op table)
    loops = os.path.join(_KERNEL_DIR, "elementwise.py")
    blas = os.path.join(_KERNEL_DIR, "blas.py")  # the gemm intrinsic the product kernels inline
    for path in (opcodes.__file__, scalar_ops.__file__, scalar_loop.__file__, sleef.__file__, sleef_arith.__file__,
                 sleef_pow.__file__, erf.__file__, sleef_tanh.__file__, activations.__file__,
                 op_table.__file__, loops, blas, __file__):  # (this file: how the cache pickles)
        with open(path, "rb") as f:
            digest.update(f.read())
    table = digest.hexdigest()[:8]
    base = os.environ.get("TINYTAPE_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "tinytape")
    # numba's cache index does not record NUMBA_BOUNDSCHECK: bounds-checked builds get their own folder
    checks = "-boundscheck" if numba.config.BOUNDSCHECK else ""
    return os.path.join(base, f"tinytape-{__version__}-numba-{numba.__version__}-ops-{table}{checks}")


def holds_compiled_kernels():
    """Whether numba has cached any kernel under ``cache_root()``: False on a fresh install
    (each kernel then compiles on its first call for a dtype), None when ``NUMBA_CACHE_DIR``
    puts the cache elsewhere."""
    if numba.config.CACHE_DIR:
        return None
    for _, _, files in os.walk(cache_root()):
        if any(name.endswith(".nbi") for name in files):
            return True
    return False


class KernelCacheLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
    """Numba cache locator for the kernel files of this package only."""

    def __init__(self, py_func, py_file):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = os.path.join(cache_root(), os.path.basename(os.path.dirname(py_file)))

    def get_cache_path(self):
        return self._cache_path

    @classmethod
    def from_function(cls, py_func, py_file):
        if os.path.dirname(os.path.abspath(py_file)) != _KERNEL_DIR:
            return None
        return super().from_function(py_func, py_file)


# numpy's own dtype objects, one per builtin type: the CPU kernels' fast paths compare dtypes by
# identity (``x.dtype is float32``).  A kernel that returns an array boxes it with a dtype kept
# among the kernel's constants; unpickled from the disk cache, that is numpy's copy of the
# dtype (``np.dtype.__reduce__`` rebuilds with copy=True), and the arrays of every later call
# then miss the fast paths (a sum in another order: other bits than PyTorch's)
_BUILTIN_DTYPE_CLASSES = {type(np.dtype(c)) for c in "?bBhHiIlLqQefdgFDG"}


def _reduce_dtype(dtype):
    if dtype.isnative and dtype.metadata is None:
        return np.dtype, (dtype.char,)  # numpy's own object for it, when unpickled
    return dtype.__reduce__()


def install():
    for dtype_class in _BUILTIN_DTYPE_CLASSES:
        serialize.NumbaPickler.dispatch_table[dtype_class] = _reduce_dtype
    locators = caching.CacheImpl._locator_classes
    if KernelCacheLocator not in locators:
        # after numba's NUMBA_CACHE_DIR locator, before the in-tree __pycache__ one
        locators.insert(1, KernelCacheLocator)
