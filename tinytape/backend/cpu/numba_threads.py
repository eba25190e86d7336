"""``numba_threads()``: the thread count ``numba.get_num_threads()`` gives, read in jitted code
through the threading layer's C symbol.  numba's own in-kernel ``get_num_threads`` calls it
through a ctypes pointer, which keeps the kernel out of the disk cache; generated code that
splits its loops as eager's threads do (``compiler/split_loops``) calls this instead."""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.ufunc.parallel import _launch_threads

_launch_threads()  # registers the layer's symbols with LLVM: a kernel loaded from the cache links to them


@intrinsic
def numba_threads(typingctx):
    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(cgutils.intp_t, []), "get_num_threads")
        return builder.call(fn, [])
    return types.intp(), codegen
