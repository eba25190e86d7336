"""The BLAS that CPU matrix products call: numpy's bundled OpenBLAS, by address.

``np.dot`` inside njit reaches BLAS through scipy's bindings, an OpenBLAS build that is
slower here at the seed sizes than the one numpy's wheel carries (the 24x1000 by
1000x100 float32 product: 74 us against 52, one thread, the same bits).  Eager product
kernels and compiled programs both call numpy's ILP64 ``cblas_?gemm`` through
``gemm_call``, so they agree bit for bit.  The function's address is an argument of the
njit code, never a constant in it, so numba's disk cache holds nothing specific to one
process.  Where numpy carries no such library (another BLAS vendor), products keep
``np.dot`` and the thread controls act on scipy's library, the one it reaches.
"""
import ctypes
import glob
import os

import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112


def _load(folder, pattern, symbols):
    for path in sorted(glob.glob(os.path.join(folder, pattern))):
        try:
            lib = ctypes.CDLL(path)
            return lib, [getattr(lib, s) for s in symbols]
        except (OSError, AttributeError):
            continue
    return None, None


def _numpy_library():
    folder = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    return _load(folder, "libscipy_openblas64_*.so",
                 ["scipy_cblas_sgemm64_", "scipy_cblas_dgemm64_", "scipy_openblas_get_num_threads64_",
                  "scipy_openblas_set_num_threads64_"])


def _scipy_library():
    import scipy
    folder = os.path.join(os.path.dirname(os.path.dirname(scipy.__file__)), "scipy.libs")
    return _load(folder, "libscipy_openblas*.so",
                 ["scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"])


def _address(fn):
    return ctypes.cast(fn, ctypes.c_void_p).value


_lib, _fns = _numpy_library()
if _lib is not None:
    GEMM = {"float32": _address(_fns[0]), "float64": _address(_fns[1])}  # dtype name -> cblas gemm
    _thread_fns = _fns[2:]
else:
    GEMM = {}
    _thread_fns = None


def core_name():
    """The CPU kernel set numpy's OpenBLAS picked at load (``'SkylakeX'``, ``'Haswell'``...),
    or None for another BLAS.  The kernels decide a float32 product's last bits: a loss
    curve pinned bit for bit holds on machines that pick the same ones."""
    if _lib is None:
        return None
    try:
        fn = _lib.scipy_openblas_get_corename64_
    except AttributeError:
        return None
    fn.restype = ctypes.c_char_p
    return fn().decode()


def thread_functions():
    """(get, set) ctypes functions of the thread count of the BLAS the products call, or
    None when it is neither numpy's nor scipy's bundled OpenBLAS."""
    global _thread_fns
    if _thread_fns is None:
        _thread_fns = _scipy_library()[1] or ()
    if not _thread_fns:
        return None
    get, set_ = _thread_fns
    get.restype, set_.argtypes, set_.restype = ctypes.c_int, [ctypes.c_int], None
    return get, set_


def thread_addresses():
    """(get, set) addresses for ``blas_threads`` in compiled code, or (0, 0)."""
    fns = thread_functions()
    return (0, 0) if fns is None else (_address(fns[0]), _address(fns[1]))


def _as_int(builder, value, ty):
    if value.type.width > ty.width:
        return builder.trunc(value, ty)
    return builder.sext(value, ty) if value.type.width < ty.width else value


@intrinsic
def gemm_call(typingctx, address, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    """cblas_?gemm(RowMajor, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    at ``address``; a, b, c are data addresses (``array.ctypes.data``)."""
    sig = types.void(address, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)

    def codegen(context, builder, signature, args):
        i32, i64, ptr = ir.IntType(32), ir.IntType(64), ir.IntType(8).as_pointer()
        real = ir.FloatType() if signature.args[6] == types.float32 else ir.DoubleType()
        fnty = ir.FunctionType(ir.VoidType(), [i32, i32, i32, i64, i64, i64, real, ptr, i64, ptr, i64,
                                               real, ptr, i64])
        fn = builder.inttoptr(args[0], fnty.as_pointer())
        call_args = [ir.Constant(i32, ROW_MAJOR), _as_int(builder, args[1], i32), _as_int(builder, args[2], i32),
                     _as_int(builder, args[3], i64), _as_int(builder, args[4], i64),
                     _as_int(builder, args[5], i64), args[6], builder.inttoptr(args[7], ptr),
                     _as_int(builder, args[8], i64), builder.inttoptr(args[9], ptr),
                     _as_int(builder, args[10], i64), args[11], builder.inttoptr(args[12], ptr),
                     _as_int(builder, args[13], i64)]
        builder.call(fn, call_args)
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def blas_threads(typingctx, get_address, set_address, want):
    """Sets the library's thread count to ``want`` unless it is already that (reading it
    is a load; setting it costs ~0.5 us)."""
    sig = types.void(get_address, set_address, want)

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        get = builder.inttoptr(args[0], ir.FunctionType(i32, []).as_pointer())
        set_ = builder.inttoptr(args[1], ir.FunctionType(ir.VoidType(), [i32]).as_pointer())
        want = _as_int(builder, args[2], i32)
        with builder.if_then(builder.icmp_signed("!=", builder.call(get, []), want)):
            builder.call(set_, [want])
        return context.get_dummy_value()
    return sig, codegen
