"""Elementwise CUDA kernels, named as the CPU ones.

Every operand is a flat device buffer plus an element offset; strided and broadcast
operands also take their shape and strides as 4-tuples (kernel arguments passed by
value: no host arrays are built per launch).  One thread per output element.
"""
from numba import cuda

from .. import scalar_ops


@cuda.jit(device=True, inline=True)
def _strided_offset(i, shape, strides, offset):
    """Buffer position of element ``i`` (C order) of a 4-D strided view."""
    i3 = i % shape[3]
    i //= shape[3]
    i2 = i % shape[2]
    i //= shape[2]
    i1 = i % shape[1]
    i0 = i // shape[1]
    return offset + i0 * strides[0] + i1 * strides[1] + i2 * strides[2] + i3 * strides[3]


_unary_op = scalar_ops.cuda_op("unary")
_binary_op = scalar_ops.cuda_op("binary")
_compare_op = scalar_ops.cuda_op("compare")


@cuda.jit
def unary(op, x, x_off, out, n):
    i = cuda.grid(1)
    if i < n:
        out[i] = _unary_op(op, x[x_off + i])


@cuda.jit
def binary(op, a, a_off, b, b_off, out, out_off, n):
    i = cuda.grid(1)
    if i < n:
        out[out_off + i] = _binary_op(op, a[a_off + i], b[b_off + i])


@cuda.jit
def binary_inplace(op, a, a_off, b, b_off, n, b_scalar):
    i = cuda.grid(1)
    if i < n:
        j = b_off if b_scalar else b_off + i
        a[a_off + i] = _binary_op(op, a[a_off + i], b[j])


@cuda.jit
def binary_scalar(op, a, a_off, s, out, out_off, n, scalar_first):
    i = cuda.grid(1)
    if i < n:
        if scalar_first:
            out[out_off + i] = _binary_op(op, s, a[a_off + i])
        else:
            out[out_off + i] = _binary_op(op, a[a_off + i], s)


@cuda.jit
def binary_nd(op, a, a_off, a_strides, b, b_off, b_strides, out, shape, n):
    i = cuda.grid(1)
    if i < n:
        out[i] = _binary_op(op, a[_strided_offset(i, shape, a_strides, a_off)],
                            b[_strided_offset(i, shape, b_strides, b_off)])


@cuda.jit
def compare(op, a, a_off, b, b_off, out, n):
    i = cuda.grid(1)
    if i < n:
        out[i] = _compare_op(op, a[a_off + i], b[b_off + i])


@cuda.jit
def compare_scalar(op, a, a_off, s, out, n, scalar_first):
    i = cuda.grid(1)
    if i < n:
        if scalar_first:
            out[i] = _compare_op(op, s, a[a_off + i])
        else:
            out[i] = _compare_op(op, a[a_off + i], s)


@cuda.jit
def compare_nd(op, a, a_off, a_strides, b, b_off, b_strides, out, shape, n):
    i = cuda.grid(1)
    if i < n:
        out[i] = _compare_op(op, a[_strided_offset(i, shape, a_strides, a_off)],
                             b[_strided_offset(i, shape, b_strides, b_off)])


@cuda.jit
def where_nd(c, c_off, c_strides, a, a_off, a_strides, b, b_off, b_strides, out, shape, n):
    i = cuda.grid(1)
    if i < n:
        if c[_strided_offset(i, shape, c_strides, c_off)]:
            out[i] = a[_strided_offset(i, shape, a_strides, a_off)]
        else:
            out[i] = b[_strided_offset(i, shape, b_strides, b_off)]


@cuda.jit
def fma_flat(a, a_off, a_n, b, b_off, b_n, c, c_off, c_n, out, n):
    """``out = a * b + c`` rounded once; each operand flat, of ``n`` elements or of one."""
    i = cuda.grid(1)
    if i < n:
        out[i] = cuda.fma(a[a_off + (i if a_n == n else 0)], b[b_off + (i if b_n == n else 0)],
                          c[c_off + (i if c_n == n else 0)])


# ---- layout and dtype moves (numpy does these on the CPU backend) ----


@cuda.jit
def copy_strided(src, src_off, src_strides, dst, dst_off, dst_strides, shape, n):
    """dst[view] = src[view] for two 4-D strided views of one shape (casting on store)."""
    i = cuda.grid(1)
    if i < n:
        dst[_strided_offset(i, shape, dst_strides, dst_off)] = src[_strided_offset(i, shape, src_strides, src_off)]


@cuda.jit
def cast_bool(src, src_off, src_strides, dst, shape, n):
    i = cuda.grid(1)
    if i < n:
        dst[i] = src[_strided_offset(i, shape, src_strides, src_off)] != 0


@cuda.jit
def fill(buf, off, n, value):
    i = cuda.grid(1)
    if i < n:
        buf[off + i] = value
