"""The CUDA backend: the shared ``Backend`` planning over device data, numba.cuda kernels.

Tensors on ``device="cuda"`` hold a ``DArray`` (a strided view over a flat device
buffer); the data stays on the device between ops and only ``item()``, ``tolist()``,
printing and ``.cpu()`` copy it back.  Shapes and strides travel to kernels as 4-tuples,
so strided (broadcast, transposed) operands of up to 4 dimensions need no copies.
Under ``NUMBA_ENABLE_CUDASIM=1`` numba's simulator runs the same kernels on the CPU.
"""
import math

import numpy as np
from numba import cuda

from ..._dtype import device as _device
from . import bfloat16 as _bfloat16
from . import elementwise as _elementwise
from . import indexing as _indexing
from . import linalg as _linalg
from . import nn as _nn
from . import reduction as _reduction
from . import windows as _windows
from ..._dtype import BFLOAT16, host_cast
from ..base import HALF, Backend
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


class CUDABackend(Backend):
    def __init__(self):
        self.device = _device("cuda", 0)
        self._pending = []  # (flag, error) of kernels that followed device positions: read at a sync

    # ---- errors the kernels flagged: raised at the next synchronisation ----
    def _flag(self, error):
        """A fresh device flag for a kernel that checks positions, read by ``check_errors``."""
        flag = cuda.to_device(np.zeros(2, np.int64))
        self._pending.append((flag, error))
        return flag

    def check_errors(self):
        """Raise the first error a kernel flagged since the last check (IndexError, or
        RuntimeError where the op's is), naming the op and the offending value."""
        pending, self._pending = self._pending, []
        for flag, (runtime_error, prefix, suffix) in pending:
            found, value = flag.copy_to_host()
            if found:
                raise (RuntimeError if runtime_error else IndexError)(f"{prefix}{value}{suffix}")

    # ---- allocation and transfers ----
    def _alloc(self, shape, dtype):
        n = math.prod(shape)
        dtype = np.dtype(dtype)
        if dtype is BFLOAT16:
            return DArray(self, cuda.device_array(max(n, 1), np.uint16), shape, dtype=dtype)
        return DArray(self, cuda.device_array(max(n, 1), dtype), shape)

    def _to_device(self, host):
        """A contiguous host array as a DArray (bfloat16 travels as its bits)."""
        flat = host.reshape(-1) if host.size else np.zeros(1, host.dtype)
        if host.dtype is BFLOAT16:
            return DArray(self, cuda.to_device(flat.view(np.uint16)), host.shape, dtype=BFLOAT16)
        return DArray(self, cuda.to_device(flat), host.shape)

    def empty(self, shape, dtype):
        return self._alloc(tuple(shape), dtype)

    def full(self, shape, value, dtype):
        out = self._alloc(tuple(shape), dtype)
        n = out.size
        if n:
            fill = host_cast(value, BFLOAT16).view(np.uint16)[()] if out.dtype is BFLOAT16 else out.dtype.type(value)
            _elementwise.fill[grid(n)](out.buf, 0, n, fill)
        return out

    def zeros(self, shape, dtype):
        return self.full(shape, 0, dtype)

    def scalar(self, value, dtype):
        return HostScalar(self, value, dtype)

    def asarray(self, data, dtype=None):
        if isinstance(data, (DArray, HostScalar)):
            return self.on_device(data) if dtype is None else self.astype(data, np.dtype(dtype))
        dtype = None if dtype is None else np.dtype(dtype)
        host = host_cast(data, dtype) if dtype is BFLOAT16 else np.asarray(data, dtype)
        # (np.ascontiguousarray makes a 0-d array 1-d: the shape is put back)
        return self._to_device(np.ascontiguousarray(host).reshape(host.shape))

    def on_device(self, x):
        if isinstance(x, HostScalar):
            return self._to_device(np.array(x.value, x.dtype))
        return x

    def to_numpy(self, x):
        if self._pending:
            self.check_errors()
        if isinstance(x, HostScalar):
            return np.array(x.value)
        c = self.contiguous(x)
        if c.size == 0:
            return np.zeros(c.shape, c.dtype)
        host = c.buf[c.offset:c.offset + c.size].copy_to_host().reshape(c.shape)
        return host.view(BFLOAT16) if c.dtype is BFLOAT16 else host

    def astype(self, x, dtype):
        dtype = np.dtype(dtype)
        if x.dtype == dtype:
            return x
        if isinstance(x, HostScalar):
            return HostScalar(self, x.value, dtype)
        if x.dtype is BFLOAT16 or dtype is BFLOAT16:
            return self._bfloat16_cast(x, dtype)
        out = self._alloc(x.shape, dtype)
        n = x.size
        if n:
            shape4, strides4 = _pad4(x.shape, x.strides)
            if dtype == np.bool_:
                _elementwise.cast_bool[grid(n)](x.buf, x.offset, strides4, out.buf, shape4, n)
            else:
                _elementwise.copy_strided[grid(n)](x.buf, x.offset, strides4, out.buf, 0, c_strides(shape4), shape4, n)
        return out

    def _bfloat16_cast(self, x, dtype):
        """To or from bfloat16 through float32, as PyTorch converts (a double or an
        integer becomes a float first, and a bfloat16 widens to float exactly)."""
        x = self.contiguous(x)
        n = x.size
        if x.dtype is BFLOAT16:
            wide = self._alloc(x.shape, np.float32)
            if n:
                _bfloat16.widen[grid(n)](x.buf, x.offset, wide.buf.view(np.uint32), n)
            return self.astype(wide, dtype)
        x = self.contiguous(self.astype(x, np.float32))
        out = self._alloc(x.shape, BFLOAT16)
        if n:
            _bfloat16.narrow[grid(n)](x.buf.view(np.uint32), x.offset, out.buf, n)
        return out

    def copy(self, x):
        x = self.on_device(x)
        out = self._alloc(x.shape, x.dtype)
        self.copy_into(out, x)
        return out

    def contiguous(self, x):
        x = self.on_device(x)
        return x if x.is_contiguous() else self.copy(x)

    def copy_into(self, dst, src):
        """dst[...] = src, broadcasting ``src`` and casting to ``dst``'s dtype."""
        if src.dtype is not dst.dtype and (src.dtype is BFLOAT16 or dst.dtype is BFLOAT16):
            src = self.astype(src, dst.dtype)  # the copy kernel below moves bits of one type
        src = self.on_device(src)
        n = dst.size
        if not n:
            return
        shape4, dst4 = _pad4(dst.shape, dst.strides)
        _, src4 = _pad4(dst.shape, _broadcast_strides(src, dst.shape))
        _elementwise.copy_strided[grid(n)](src.buf, src.offset, src4, dst.buf, dst.offset, dst4, shape4, n)

    def owns(self, x):
        """Whether ``x`` covers a whole device buffer, contiguously (no view of another's)."""
        return isinstance(x, DArray) and x.offset == 0 and x.is_contiguous() and x.buf.size == max(x.size, 1)

    def may_alias(self, a, b):
        return isinstance(a, DArray) and isinstance(b, DArray) and a.buf is b.buf

    # ---- views: new strides over the same buffer ----
    def view(self, x, shape):
        x = self.on_device(x)
        if not x.is_contiguous():
            raise ValueError("view of a non-contiguous CUDA array")
        return x.view_as(shape, None, x.offset)

    def reshape(self, x, shape):
        return self.contiguous(x).reshape(shape)

    def expand_dims(self, x, dim):
        x = self.on_device(x)
        return x.view_as(x.shape[:dim] + (1,) + x.shape[dim:], x.strides[:dim] + (0,) + x.strides[dim:], x.offset)

    def squeeze(self, x, dims):
        x = self.on_device(x)
        keep = [i for i in range(x.ndim) if i not in dims]
        return x.view_as(tuple(x.shape[i] for i in keep), tuple(x.strides[i] for i in keep), x.offset)

    def broadcast_to(self, x, shape):
        x = self.on_device(x)
        return x.view_as(tuple(shape), _broadcast_strides(x, tuple(shape)), x.offset)

    def permute(self, x, dims):
        x = self.on_device(x)
        return x.view_as(tuple(x.shape[d] for d in dims), tuple(x.strides[d] for d in dims), x.offset)

    def swapaxes(self, x, d0, d1):
        dims = list(range(x.ndim))
        dims[d0], dims[d1] = dims[d1], dims[d0]
        return self.permute(x, dims)

    def index(self, x, index):
        """Basic indexing (ints, slices, None, Ellipsis) as a view."""
        x = self.on_device(x)
        if Ellipsis in index:
            at = index.index(Ellipsis)
            used = sum(1 for i in index if i is not None and i is not Ellipsis)
            index = index[:at] + (slice(None),) * (x.ndim - used) + index[at + 1:]
        shape, strides, offset, dim = [], [], x.offset, 0
        for item in index:
            if item is None:
                shape.append(1)
                strides.append(0)
                continue
            if dim >= x.ndim:
                raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
            size, stride = x.shape[dim], x.strides[dim]
            if isinstance(item, slice):
                start, stop, step = item.indices(size)
                shape.append(len(range(start, stop, step)))
                strides.append(stride * step)
                offset += start * stride
            else:
                i = int(item)
                if not -size <= i < size:
                    raise IndexError(f"index {i} is out of bounds for dimension {dim} with size {size}")
                offset += (i % size) * stride
            dim += 1
        shape += x.shape[dim:]
        strides += x.strides[dim:]
        return x.view_as(tuple(shape), tuple(strides), offset)

    def _positions(self, x, ids):
        """Buffer positions of the logical flat indices ``ids`` (host) of view ``x``."""
        coords = np.unravel_index(np.asarray(ids).reshape(-1), x.shape) if x.ndim else ()
        pos = np.full(np.asarray(ids).size, x.offset, np.int64)
        for c, st in zip(coords, x.strides):
            pos += c * st
        return pos

    def setitem(self, x, index, value):
        ids = np.arange(x.size).reshape(x.shape)[index]
        positions = self._positions(x, ids)
        self._check_indices(positions, x.buf.size, "setitem")
        n = positions.size
        if not n:
            return
        values = self._alloc(ids.shape, x.dtype)
        self.copy_into(values, value)
        _indexing.put[grid(n)](x.buf, cuda.to_device(positions), values.buf, n)

    def concatenate(self, arrays, dim):
        shape = list(arrays[0].shape)
        shape[dim] = sum(a.shape[dim] for a in arrays)
        out = self._alloc(tuple(shape), arrays[0].dtype)
        start = 0
        for a in arrays:
            index = (slice(None),) * dim + (slice(start, start + a.shape[dim]),)
            self.copy_into(self.index(out, index), a)
            start += a.shape[dim]
        return out

    # ---- what the shared planning asks ----
    def _flat(self, x):
        return isinstance(x, DArray) and x.is_contiguous()

    def _scalar(self, x):
        return x.value if isinstance(x, HostScalar) else None

    def _nd_args(self, x, shape):
        x = self.on_device(x)
        shape4, strides4 = _pad4(shape, _broadcast_strides(x, shape))
        return x.buf, x.offset, strides4, shape4

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
        ab, ao, a4, shape4 = self._nd_args(a, shape)
        bb, bo, b4, _ = self._nd_args(b, shape)
        dst = out if out.offset == 0 else self._alloc(shape, out.dtype)
        _elementwise.binary_nd[grid(out.size)](op, ab, ao, a4, bb, bo, b4, dst.buf, shape4, out.size)
        if dst is not out:
            self.copy_into(out, dst)

    def _compare_kernel(self, op, a, b, out):
        _elementwise.compare[grid(out.size)](op, a.buf, a.offset, b.buf, b.offset, out.buf, out.size)

    def _compare_scalar_kernel(self, op, a, s, out, scalar_first):
        _elementwise.compare_scalar[grid(out.size)](op, a.buf, a.offset, s, out.buf, out.size, scalar_first)

    def _compare_nd_kernel(self, op, a, b, out, shape):
        ab, ao, a4, shape4 = self._nd_args(a, shape)
        bb, bo, b4, _ = self._nd_args(b, shape)
        _elementwise.compare_nd[grid(out.size)](op, ab, ao, a4, bb, bo, b4, out.buf, shape4, out.size)

    def _where_kernel(self, cond, a, b, out, shape):
        cb, co, c4, shape4 = self._nd_args(cond, shape)
        ab, ao, a4, _ = self._nd_args(a, shape)
        bb, bo, b4, _ = self._nd_args(b, shape)
        _elementwise.where_nd[grid(out.size)](cb, co, c4, ab, ao, a4, bb, bo, b4, out.buf, shape4, out.size)

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
            return self._in_float32(CUDABackend.matmul, a, b)
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
            flag = self._flag((False, "gather: flat position ", f" is out of bounds for {x.size} elements"))
            _indexing.gather[grid(n)](x.buf, x.offset, x.size, buf, off, out.buf, n, flag)
        return out

    def _scatter_add_kernel(self, shape, index, src):
        src = self.contiguous(src)
        out = self.zeros(tuple(shape), src.dtype)
        n = src.size
        if n:
            buf, off = self._index_operand(index)
            flag = self._flag((False, "scatter_add: flat position ", f" is out of bounds for {out.size} elements"))
            _indexing.scatter_add[grid(n)](out.buf, buf, off, src.buf[src.offset:], n, flag)
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
            index = self.contiguous(self.on_device(index))
            flag = self._flag(error)
            _indexing.positions[grid(n)](base_buf, index.buf, index.offset,
                                         cuda.to_device(np.ascontiguousarray(where, np.int64).reshape(-1)),
                                         stride, size, wrap, out.buf, n, flag)
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


_backend = None


def get():
    global _backend
    if _backend is None:
        if not cuda.is_available():
            raise RuntimeError(
                "tinytape: device 'cuda' is not available: numba finds no CUDA GPU or driver "
                "(set NUMBA_ENABLE_CUDASIM=1 to run the CUDA path in numba's simulator)")
        _backend = CUDABackend()
    return _backend
