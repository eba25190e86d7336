"""Compile every CUDA kernel of tinytape to PTX for real GPUs (sm_80 and sm_90).

Run by tests/test_ptx.py in a process without the simulator: the simulator runs any
Python, while the GPU compiler rejects what a GPU can't do.  Needs the ``gpu`` extra
(numba-cuda[cu13]), not a GPU.  Prints one line per kernel and dtype.
"""
import os
import sys

assert os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "0", "run without the simulator"

from numba import cuda  # noqa: E402
from numba import types as T  # noqa: E402

from tinytape.backend.cuda import bfloat16 as bf, elementwise as ew, indexing as ix, linalg as la, nn  # noqa: E402
from tinytape.backend.cuda import reduction as red  # noqa: E402
from tinytape.backend.cuda import upsample as up  # noqa: E402
from tinytape.backend.cuda import windows as win  # noqa: E402

i64, b1, u16, u32 = T.int64, T.boolean, T.uint16, T.uint32
U4 = T.UniTuple(i64, 4)
U14 = T.UniTuple(i64, 14)  # a window geometry


def A(t):
    return T.Array(t, 1, "C")


def signatures(f):
    a, bools, idx = A(f), A(b1), A(i64)
    return {
        ew.unary: (i64, a, i64, a, i64),
        ew.binary: (i64, a, i64, a, i64, a, i64, i64),
        ew.binary_inplace: (i64, a, i64, a, i64, i64, b1),
        ew.binary_scalar: (i64, a, i64, f, a, i64, i64, b1),
        ew.binary_nd: (i64, a, i64, U4, a, i64, U4, a, U4, i64),
        ew.compare: (i64, a, i64, a, i64, bools, i64),
        ew.compare_scalar: (i64, a, i64, f, bools, i64, b1),
        ew.compare_nd: (i64, a, i64, U4, a, i64, U4, bools, U4, i64),
        ew.where_nd: (bools, i64, U4, a, i64, U4, a, i64, U4, a, U4, i64),
        ew.fma_flat: (a, i64, i64, a, i64, i64, a, i64, i64, a, i64),
        ew.copy_strided: (a, i64, U4, a, i64, U4, U4, i64),
        ew.cast_bool: (a, i64, U4, bools, U4, i64),
        ew.fill: (a, i64, i64, f),
        red.reduce_mid: (i64, a, i64, i64, i64, a),
        red.argreduce_mid: (i64, a, i64, i64, i64, a, idx),
        red.cumsum_rows: (a, a, i64, i64),
        red.cumsum_rows_exact: (a, a, i64, i64),
        la.matmul: (a, i64, i64, a, i64, i64, a, i64, i64, i64, b1, b1),
        ix.gather: (a, i64, i64, idx, i64, a, i64, idx),
        ix.scatter_add: (a, idx, i64, a, i64, idx),
        ix.put: (a, idx, a, i64),
        nn.softmax_rows: (a, a, i64, i64, b1),
        win.im2col: (a, i64, i64, a, U14, T.float64, i64),
        win.col2im: (a, i64, a, U14, i64),
        up.bicubic_2d: (a, i64, a, i64, i64, idx, a, idx, a, i64, idx),
        up.bicubic_2d_backward: (a, i64, a, i64, i64, idx, a, idx, a, i64, idx),
    }


def bfloat16_signatures():
    """The conversions, and the kernels that move bfloat16 bits without computing."""
    bits = A(u16)
    return {
        bf.widen: (bits, i64, A(u32), i64),
        bf.narrow: (A(u32), i64, bits, i64),
        ew.copy_strided: (bits, i64, U4, bits, i64, U4, U4, i64),
        ew.fill: (bits, i64, i64, u16),
        ix.put: (bits, A(i64), bits, i64),
    }


# the kernels the ops PyTorch computes on uint16/32/64 reach (mul, bitwise ops, eq/ne, copies, indexing)
UNSIGNED_KERNELS = ("binary", "binary_scalar", "binary_nd", "compare", "compare_scalar", "compare_nd", "where_nd",
                    "copy_strided", "cast_bool", "fill", "gather", "put")


def unsigned_signatures():
    for dtype in (T.uint16, T.uint32, T.uint64):
        for kernel, sig in signatures(dtype).items():
            if kernel.py_func.__name__ in UNSIGNED_KERNELS:
                yield dtype, kernel, sig


def main():
    count = 0
    for cc in ((8, 0), (9, 0)):
        for dtype in (T.float32, T.float64):
            for kernel, sig in signatures(dtype).items():
                ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=cc)
                assert f".target sm_{cc[0]}{cc[1]}" in ptx
                count += 1
                print(f"sm_{cc[0]}{cc[1]} {dtype} {kernel.py_func.__module__.rsplit('.', 1)[-1]}.{kernel.__name__}: "
                      f"{len(ptx)} bytes of PTX")
        ptx, _ = cuda.compile_ptx(ix.scatter_add.py_func, (A(i64), A(i64), i64, A(i64), i64, A(i64)), cc=cc)
        count += 1
        # positions from an index tensor's values (int64 indices), bounds flagged on the device
        ptx, _ = cuda.compile_ptx(ix.positions.py_func, (A(i64), A(i64), i64, A(i64), i64, i64, b1, A(i64), i64,
                                                          A(i64)), cc=cc)
        count += 1
        ptx, _ = cuda.compile_ptx(red.cumsum_rows_exact.py_func, (A(i64), A(i64), i64, i64), cc=cc)  # int64 sums
        count += 1
        for kernel, sig in bfloat16_signatures().items():  # bfloat16: its bits in uint16 buffers
            ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=cc)
            assert f".target sm_{cc[0]}{cc[1]}" in ptx
            count += 1
            print(f"sm_{cc[0]}{cc[1]} bfloat16 {kernel.__name__}: {len(ptx)} bytes of PTX")
    for dtype, kernel, sig in unsigned_signatures():  # one target: the code is the float kernels' own
        ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=(9, 0))
        assert ".target sm_90" in ptx
        count += 1
        print(f"sm_90 {dtype} {kernel.__name__}: {len(ptx)} bytes of PTX")
    print(f"{count} kernels compiled")


if __name__ == "__main__":
    sys.exit(main())
