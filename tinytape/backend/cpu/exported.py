"""Eager kernels as C functions that generated code calls by name, without compiling them in.

numba compiles a jitted function that calls another one by linking the callee's code into
the caller's module and optimising and compiling the whole again: each fused part of a
compiled program that sums (``cascade_sum``, a few thousand lines of LLVM IR once inlined)
paid ~0.5 s for its own copy of it, and loading each part from the disk cache read that
copy back.  Here the kernel is a ``cfunc`` (compiled once, cached on disk) registered with
LLVM as a symbol; generated code declares it (``numba.types.ExternalFunction``) and calls it
through the symbol, passing its arrays' data pointers (``data``) and sizes.  The cfunc calls
the eager kernel on ``carray`` views of the same layout as eager's own arguments, so the
two run the same compiled specialisation.

``ensure(name)`` compiles (or loads) the cfunc and registers its symbol; a generated module
calls it for each kernel it uses before numba compiles or loads the module's function.
"""
import llvmlite.binding as llvm
from numba import carray, cfunc, njit, types
from numba.extending import intrinsic

from .cascade import ILP, LEVELS, cascade_sum, layout_fits

_i64 = types.int64


@intrinsic
def data(typingctx, arr):
    """The data pointer of the array ``arr`` (a ``CPointer`` of its dtype)."""
    sig = types.CPointer(arr.dtype)(arr)

    def codegen(context, builder, signature, args):
        return context.make_array(arr)(context, builder, args[0]).data
    return sig, codegen


def _cascade_signature(dtype):
    p = types.CPointer(dtype)
    # x, len(x), xo, out, len(out), sizes, in_strides, out_strides, ndim, width, acc, pairs
    return types.void(p, _i64, _i64, p, _i64, types.CPointer(_i64), types.CPointer(_i64),
                      types.CPointer(_i64), _i64, _i64, p, _i64)


def _cascade_sum_float32(x, nx, xo, out, nout, sizes, ins, outs, ndim, width, acc, pairs):
    cascade_sum(carray(x, nx), xo, carray(out, nout), carray(sizes, ndim), carray(ins, ndim),
                carray(outs, ndim), width, carray(acc, (LEVELS, ILP * width)), pairs)


def _cascade_sum_float64(x, nx, xo, out, nout, sizes, ins, outs, ndim, width, acc, pairs):
    cascade_sum(carray(x, nx), xo, carray(out, nout), carray(sizes, ndim), carray(ins, ndim),
                carray(outs, ndim), width, carray(acc, (LEVELS, ILP * width)), pairs)


KERNELS = {  # symbol -> (signature, the cfunc's Python function)
    "tinytape_cascade_sum_float32": (_cascade_signature(types.float32), _cascade_sum_float32),
    "tinytape_cascade_sum_float64": (_cascade_signature(types.float64), _cascade_sum_float64),
}
_registered = {}


def ensure(name):
    """Compile (or load from the cache) the kernel ``name`` and register its symbol."""
    if name not in _registered:
        signature, fn = KERNELS[name]
        compiled = cfunc(signature, cache=True, nogil=True, error_model="numpy")(fn)
        llvm.add_symbol(name, compiled.address)
        _registered[name] = compiled
    return _registered[name]


_cascade32 = types.ExternalFunction("tinytape_cascade_sum_float32", KERNELS["tinytape_cascade_sum_float32"][0])
_cascade64 = types.ExternalFunction("tinytape_cascade_sum_float64", KERNELS["tinytape_cascade_sum_float64"][0])


# the calls generated code makes: its arrays stay alive through the call as arguments
@njit(cache=True, nogil=True, error_model="numpy")
def cascade_sum_float32(x, xo, out, sizes, ins, outs, width, acc, pairs):
    if sizes.size != ins.size or sizes.size != outs.size or acc.size < LEVELS * ILP * width:
        raise IndexError("sum: a layout of mismatched sizes")
    if layout_fits(x.size, xo, out.size, sizes, ins, outs):  # (checked here: the C function can't raise)
        _cascade32(data(x), x.size, xo, data(out), out.size, data(sizes), data(ins), data(outs), sizes.size,
                   width, data(acc), pairs)


@njit(cache=True, nogil=True, error_model="numpy")
def cascade_sum_float64(x, xo, out, sizes, ins, outs, width, acc, pairs):
    if sizes.size != ins.size or sizes.size != outs.size or acc.size < LEVELS * ILP * width:
        raise IndexError("sum: a layout of mismatched sizes")
    if layout_fits(x.size, xo, out.size, sizes, ins, outs):  # (checked here: the C function can't raise)
        _cascade64(data(x), x.size, xo, data(out), out.size, data(sizes), data(ins), data(outs), sizes.size,
                   width, data(acc), pairs)
