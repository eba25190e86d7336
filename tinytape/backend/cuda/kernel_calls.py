"""The CUDA backend's kernel calls: what the shared planning in ``Backend`` asks, and the
numba.cuda kernels it chose (elementwise, reductions, softmax, linear algebra, indexing,
windows), as ``KernelCalls``, a base class of ``CUDABackend``; with the 4-dimension
shape and stride padding that the kernels take."""
import math

import numpy as np
from numba import cuda

from ..._dtype import BFLOAT16
from ..base import HALF
from ..cpu.upsample_cubic import cubic_taps
from . import elementwise as _elementwise
from . import indexing as _indexing
from . import linalg as _linalg
from . import nn as _nn
from . import reduction as _reduction
from . import upsample as _upsample
from . import windows as _windows
from .darray import DArray, HostScalar, c_strides
from .launch import grid, per_output, tiles

_ND = 4


def _pad4(shape, strides):
    if len(shape) > _ND:
        raise NotImplementedError(
            f"CUDA backend: strided operands of rank {len(shape)} are not supported (at most {_ND}); "
            "make the tensor contiguous first")
    lead = _ND - len(shape)
    return (1,) * lead + tuple(shape), (0,) * lead + tuple(strides)


def _broadcast_strides(x, shape):
    """Strides of ``x`` broadcast to ``shape`` (0 along broadcast dims)."""
    lead = len(shape) - x.ndim
    strides = [0] * lead
    for s, st, target in zip(x.shape, x.strides, shape[lead:]):
        strides.append(st if s == target else 0)
    return tuple(strides)


class KernelCalls:
    """The kernel calls of ``CUDABackend`` (it provides ``on_device``, ``copy``, ``empty``...)."""

    # ---- what the shared planning asks ----
    def _flat(self, x):
        return isinstance(x, DArray) and x.is_contiguous()

    def _scalar(self, x):
        return x.value if isinstance(x, HostScalar) else None

    def _nd_plan(self, shape, *operands):
        """(shape4, [(buffer, offset, strides4) per operand]) for an nd kernel writing a contiguous
        output of ``shape``: dimensions every operand (and the output) steps through as one are
        merged; beyond four still, the operands are first copied out contiguously."""
        from .backend import _merge_dims
        operands = [self.on_device(x) for x in operands]
        merged = _merge_dims(shape, c_strides(shape), *(_broadcast_strides(x, shape) for x in operands))
        if len(merged[0]) > _ND:
            operands = [self.copy(self.broadcast_to(x, shape)) for x in operands]
            merged = _merge_dims(shape, c_strides(shape), *(c_strides(shape) for _ in operands))
        shape4 = _pad4(merged[0], merged[1])[0]
        return shape4, [(x.buf, x.offset, _pad4(merged[0], st)[1]) for x, st in zip(operands, merged[2:])]

    def _pair(self, a, b, shape):
        """With one operand a host scalar, the other as a contiguous array of the result's
        shape (a copy kernel if needed), so the scalar travels as a kernel argument."""
        if isinstance(b, HostScalar) and isinstance(a, DArray) and not (a.is_contiguous() and a.shape == shape):
            a = self.copy(self.broadcast_to(a, shape))
        if isinstance(a, HostScalar) and isinstance(b, DArray) and not (b.is_contiguous() and b.shape == shape):
            b = self.copy(self.broadcast_to(b, shape))
        return a, b

    # ---- kernels (the planning in ``Backend`` chose which, and checked the op code) ----
    def _unary_kernel(self, op, x, out):
        _elementwise.unary[grid(x.size)](op, x.buf, x.offset, out.buf, x.size)

    def _binary_kernel(self, op, a, b, out):
        _elementwise.binary[grid(out.size)](op, a.buf, a.offset, b.buf, b.offset, out.buf, out.offset, out.size)

    def _binary_inplace_kernel(self, op, a, b):
        if isinstance(b, HostScalar):
            _elementwise.binary_scalar[grid(a.size)](op, a.buf, a.offset, b.value, a.buf, a.offset, a.size, False)
        else:
            _elementwise.binary_inplace[grid(a.size)](op, a.buf, a.offset, b.buf, b.offset, a.size, False)

    def _binary_scalar_kernel(self, op, a, s, out, scalar_first):
        _elementwise.binary_scalar[grid(out.size)](op, a.buf, a.offset, s, out.buf, out.offset, out.size, scalar_first)

    def _binary_nd_kernel(self, op, a, b, out, shape):
        shape4, ((ab, ao, a4), (bb, bo, b4)) = self._nd_plan(shape, a, b)
        dst = out if out.offset == 0 else self._alloc(shape, out.dtype)
        _elementwise.binary_nd[grid(out.size)](op, ab, ao, a4, bb, bo, b4, dst.buf, shape4, out.size)
        if dst is not out:
            self.copy_into(out, dst)

    def _compare_kernel(self, op, a, b, out):
        _elementwise.compare[grid(out.size)](op, a.buf, a.offset, b.buf, b.offset, out.buf, out.size)

    def _compare_scalar_kernel(self, op, a, s, out, scalar_first):
        _elementwise.compare_scalar[grid(out.size)](op, a.buf, a.offset, s, out.buf, out.size, scalar_first)

    def _compare_nd_kernel(self, op, a, b, out, shape):
        shape4, ((ab, ao, a4), (bb, bo, b4)) = self._nd_plan(shape, a, b)
        _elementwise.compare_nd[grid(out.size)](op, ab, ao, a4, bb, bo, b4, out.buf, shape4, out.size)

    def _where_kernel(self, cond, a, b, out, shape):
        shape4, ((cb, co, c4), (ab, ao, a4), (bb, bo, b4)) = self._nd_plan(shape, cond, a, b)
        _elementwise.where_nd[grid(out.size)](cb, co, c4, ab, ao, a4, bb, bo, b4, out.buf, shape4, out.size)

    def _fma_kernel(self, a, b, c, out):
        _elementwise.fma_flat[grid(out.size)](a.buf, a.offset, a.size, b.buf, b.offset, b.size, c.buf, c.offset,
                                              c.size, out.buf, out.size)

    def _reduce_kernel(self, op, x, outer, n, inner, out):
        _reduction.reduce_mid[per_output(outer * inner, _reduction.TPB)](op, x.buf[x.offset:], outer, n, inner, out.buf)

    def _argreduce_kernel(self, op, x, outer, n, inner, values, indices):
        _reduction.argreduce_mid[per_output(outer * inner, _reduction.TPB)](op, x.buf[x.offset:], outer, n, inner,
                                                                values.buf, indices.buf)

    def _cumsum_kernel(self, x, out, rows, cols, exact):
        kernel = _reduction.cumsum_rows_exact if exact else _reduction.cumsum_rows
        kernel[grid(rows)](x.buf[x.offset:], out.buf, rows, cols)

    def _softmax_kernel(self, x, out, rows, cols, log):
        _nn.softmax_rows[grid(rows)](x.buf[x.offset:], out.buf, rows, cols, log)

    # ---- linear algebra ----
    def _operand(self, x):
        """(C-contiguous 3-D data, transposed?) for a matrix or a batch of them."""
        if x.is_contiguous():
            return x, False
        t = self.swapaxes(x, -1, -2)
        if t.is_contiguous():
            return t, True
        return self.copy(x), False

    def matmul(self, a, b):
        if a.dtype is HALF or a.dtype is BFLOAT16:
            return self._in_float32(KernelCalls.matmul, a, b)
        m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
        batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
        if a.shape[:-2] != batch:
            a = self.copy(self.broadcast_to(a, batch + a.shape[-2:]))
        if b.shape[:-2] != batch:
            b = self.copy(self.broadcast_to(b, batch + b.shape[-2:]))
        a, ta = self._operand(a)
        b, tb = self._operand(b)
        nb = math.prod(batch)
        out = self._alloc(batch + (m, n), a.dtype)
        if m * n * nb:
            _linalg.matmul[tiles(m, n, nb, _linalg.TILE)](a.buf, a.offset, m * k, b.buf, b.offset, k * n, out.buf,
                                             m, n, k, ta, tb)
        return out

    # ---- indexing ----
    def _index_operand(self, index):
        """(buffer, offset) of a flat int64 index: host positions go to the device."""
        if isinstance(index, DArray):
            index = self.contiguous(self.astype(index, np.int64))
            return index.buf, index.offset
        return cuda.to_device(np.ascontiguousarray(index, np.int64).reshape(-1)), 0

    def _gather_kernel(self, x, index):
        x = self.contiguous(x)
        out = self._alloc(np.shape(index) if not isinstance(index, DArray) else index.shape, x.dtype)
        n = out.size
        if n:
            buf, off = self._index_operand(index)
            flag = self._flag()
            _indexing.gather[grid(n)](x.buf, x.offset, x.size, buf, off, out.buf, n, flag)
            self.raise_flagged(flag, (False, "gather: flat position ", f" is out of bounds for {x.size} elements"))
        return out

    def _scatter_add_kernel(self, shape, index, src):
        src = self.contiguous(src)
        out = self.zeros(tuple(shape), src.dtype)
        n = src.size
        if n:
            buf, off = self._index_operand(index)
            flag = self._flag()
            _indexing.scatter_add[grid(n)](out.buf, buf, off, src.buf[src.offset:], n, flag)
            self.raise_flagged(flag, (False, "scatter_add: flat position ", f" is out of bounds for {out.size} elements"))
        return out

    def _positions_kernel(self, base, index, where, stride, size, wrap, error):
        if isinstance(base, DArray):
            base = self.contiguous(base)
            base_buf = base.buf[base.offset:]
        else:
            base = np.ascontiguousarray(base, np.int64)
            base_buf = cuda.to_device(base.reshape(-1)) if base.size else None
        out = self._alloc(base.shape, np.int64)
        n = out.size
        if n:
            index = self.contiguous(self.asarray(index) if isinstance(index, np.ndarray) else self.on_device(index))
            flag = self._flag()
            _indexing.positions[grid(n)](base_buf, index.buf, index.offset,
                                         cuda.to_device(np.ascontiguousarray(where, np.int64).reshape(-1)),
                                         stride, size, wrap, out.buf, n, flag)
            self.raise_flagged(flag, error)
        return out

    # ---- windows ----
    def _im2col_kernel(self, x, geometry, fill):
        x = self.contiguous(x)
        n, c, h, w, kh, kw, *_, oh, ow = geometry
        out = self._alloc((c * kh * kw, n * oh * ow), x.dtype)
        if out.size:
            _windows.im2col[grid(out.size)](x.buf, x.offset, x.size, out.buf, geometry, fill, out.size)
        return out

    def _col2im_kernel(self, cols, geometry):
        cols = self.contiguous(cols)
        out = self.zeros(geometry[:4], cols.dtype)
        if cols.size:
            _windows.col2im[grid(cols.size)](cols.buf, cols.offset, out.buf, geometry, cols.size)
        return out

    # ---- resampling ----
    def _cubic_taps(self, size_in, size_out, align_corners, scale_factors, dtype, fused):
        """The taps of both axes on the device: (index, weight) of the height, of the width."""
        taps = []
        for i, o, f in zip(size_in, size_out, scale_factors):
            index, weight = cubic_taps(i, o, align_corners, f, dtype, fused)
            taps += [cuda.to_device(index.reshape(-1)), cuda.to_device(weight.reshape(-1))]
        return taps

    def upsample_bicubic(self, x, size_out, align_corners, scale_factors):
        """Bicubic ``interpolate`` of the float32/float64 (N, C, H, W) ``x`` to ``size_out``."""
        x = self.contiguous(x)
        out = self._alloc(x.shape[:2] + tuple(size_out), x.dtype)
        if out.size:
            taps = self._cubic_taps(x.shape[2:], size_out, align_corners, scale_factors, x.dtype, True)
            flag = self._flag()
            _upsample.bicubic_2d[grid(out.size)](x.buf, x.offset, out.buf, x.shape[2], x.shape[3], *taps, out.size,
                                                 flag)
            self.raise_flagged(flag, (False, "upsample_bicubic2d: tap ", " outside the input"))
        return out

    def upsample_bicubic_backward(self, grad, shape_in, align_corners, scale_factors):
        """The gradient of ``upsample_bicubic`` to an input of ``shape_in``."""
        grad = self.contiguous(grad)
        if tuple(grad.shape[2:]) == tuple(shape_in[2:]):
            return self.copy(grad)
        out = self.zeros(tuple(shape_in), grad.dtype)
        if grad.size:
            taps = self._cubic_taps(shape_in[2:], grad.shape[2:], align_corners, scale_factors, grad.dtype, False)
            flag = self._flag()
            _upsample.bicubic_2d_backward[grid(grad.size)](grad.buf, grad.offset, out.buf, shape_in[2], shape_in[3],
                                                           *taps, grad.size, flag)
            self.raise_flagged(flag, (False, "upsample_bicubic2d_backward: tap ", " outside the input"))
        return out
