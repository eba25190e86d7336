"""Matrix products in generated code through numpy's own BLAS.

``np.dot`` inside njit reaches BLAS through scipy's bindings; numpy's bundled OpenBLAS
is a different build, and at the seed sizes it is faster (the 24x1000 by 1000x100
float32 product: 47 us against 67 us, one thread, measured in one process).  The
generated code calls numpy's ``cblas_?gemm`` directly: the function's address is an
argument of the compiled program (so numba's disk cache holds no process-specific
address) and ``gemm_call`` turns it into a call.  Where numpy carries no such library
(another BLAS vendor) the generated code keeps ``np.dot``.
"""
import ctypes
import glob
import os

import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112


def _library():
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libs, "libscipy_openblas64_*.so"))):
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def gemm_addresses():
    """{'float32': address, 'float64': address} of numpy's ILP64 cblas gemm, or None."""
    lib = _library()
    if lib is None:
        return None
    try:
        return {"float32": ctypes.cast(lib.scipy_cblas_sgemm64_, ctypes.c_void_p).value,
                "float64": ctypes.cast(lib.scipy_cblas_dgemm64_, ctypes.c_void_p).value}
    except AttributeError:
        return None


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

        def as_int(value, ty):
            return builder.trunc(value, ty) if value.type.width > ty.width else builder.sext(value, ty) \
                if value.type.width < ty.width else value
        call_args = [ir.Constant(i32, ROW_MAJOR), as_int(args[1], i32), as_int(args[2], i32),
                     as_int(args[3], i64), as_int(args[4], i64), as_int(args[5], i64), args[6],
                     builder.inttoptr(args[7], ptr), as_int(args[8], i64), builder.inttoptr(args[9], ptr),
                     as_int(args[10], i64), args[11], builder.inttoptr(args[12], ptr), as_int(args[13], i64)]
        builder.call(fn, call_args)
        return context.get_dummy_value()
    return sig, codegen
