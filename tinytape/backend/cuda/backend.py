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
from ..._dtype import BFLOAT16, host_cast
from ..base import Backend
from .darray import DArray, HostScalar, c_strides
from .kernel_calls import _ND, KernelCalls, _broadcast_strides, _pad4  # noqa: F401
from .launch import grid


def _merge_dims(shape, *strides):
    """``shape`` and the operands' ``strides`` with size-1 dimensions dropped and neighbours
    that every operand steps through as one merged: the same elements in fewer dimensions."""
    dims = [(n, [st[i] for st in strides]) for i, n in enumerate(shape) if n != 1]
    merged = []
    for n, steps in dims:
        if merged and all(prev == step * n for prev, step in zip(merged[-1][1], steps)):
            merged[-1] = (merged[-1][0] * n, steps)
        else:
            merged.append((n, steps))
    return (tuple(n for n, _ in merged),) + tuple(tuple(steps[k] for _, steps in merged) for k in range(len(strides)))



def _real_only(dtype):
    """``dtype``, unless complex: the CUDA kernels compute real numbers only."""
    if dtype.kind == "c":
        raise RuntimeError(f"CUDA: complex tensors ({dtype}) are CPU tensors in tinytape; its CUDA kernels are "
                           f"real-valued (PyTorch's CUDA backend has complex ones): compute them on the CPU")
    return dtype

class CUDABackend(KernelCalls, Backend):
    def __init__(self):
        self.device = _device("cuda", 0)

    # ---- errors the kernels flag (a kernel cannot raise) ----
    @staticmethod
    def _flag():
        """A fresh device flag for a kernel that checks positions (``raise_flagged``)."""
        return cuda.to_device(np.zeros(2, np.int64))

    @staticmethod
    def raise_flagged(flag, error):
        """Read ``flag`` right after its kernel (a synchronisation, so the error comes from
        the op that met it) and raise the op's error, naming the offending value:
        ``error = (runtime_error, prefix, suffix)`` (``suffix`` None: the prefix alone)."""
        found, value = flag.copy_to_host()
        if found:
            runtime_error, prefix, suffix = error
            message = prefix if suffix is None else f"{prefix}{value}{suffix}"
            raise (RuntimeError if runtime_error else IndexError)(message)

    # ---- allocation and transfers ----
    def _alloc(self, shape, dtype):
        n = math.prod(shape)
        dtype = _real_only(np.dtype(dtype))
        if dtype is BFLOAT16:
            return DArray(self, cuda.device_array(max(n, 1), np.uint16), shape, dtype=dtype)
        return DArray(self, cuda.device_array(max(n, 1), dtype), shape)

    def _to_device(self, host):
        """A contiguous host array as a DArray (bfloat16 travels as its bits)."""
        _real_only(host.dtype)
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
        return HostScalar(self, value, _real_only(np.dtype(dtype)))

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
        ordered = self._in_operands_order("astype", (x, dtype), (x,))
        if ordered is not None:
            return ordered
        if isinstance(x, HostScalar):
            return HostScalar(self, x.value, dtype)
        if x.dtype is BFLOAT16 or dtype is BFLOAT16:
            return self._bfloat16_cast(x, dtype)
        out = self._alloc(x.shape, dtype)
        n = x.size
        if n:
            contiguous = tuple(x.strides) == c_strides(x.shape)  # any rank: one flat run
            shape4, strides4 = _pad4((n,), (1,)) if contiguous else _pad4(x.shape, x.strides)
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
        shape, dst_strides, src_strides = _merge_dims(dst.shape, dst.strides, _broadcast_strides(src, dst.shape))
        if len(shape) > 4:  # more dimensions than the kernel's: one copy per leading index
            for i in range(shape[0]):
                self.copy_into(DArray(self, dst.buf, shape[1:], dst_strides[1:], dst.offset + i * dst_strides[0],
                                      dst.dtype),
                               DArray(self, src.buf, shape[1:], src_strides[1:], src.offset + i * src_strides[0],
                                      src.dtype))
            return
        shape4, dst4 = _pad4(shape, dst_strides)
        _, src4 = _pad4(shape, src_strides)
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

    def view_dtype(self, x, dtype):
        """``x``'s memory read as ``dtype``: the buffer reinterpreted, the last axis (of step 1,
        checked by the caller) and the other steps and offset rescaled where the sizes differ."""
        x, dtype = self.on_device(x), np.dtype(dtype)
        buf = x.buf.view(np.uint16 if dtype is BFLOAT16 else dtype)
        old, new = x.dtype.itemsize, dtype.itemsize
        if old == new:
            return DArray(self, buf, x.shape, x.strides, x.offset, dtype)
        scale = lambda n: n * old // new  # noqa: E731  (exact: checked by the caller)
        return DArray(self, buf, x.shape[:-1] + (scale(x.shape[-1]),),
                      tuple(scale(s) for s in x.strides[:-1]) + (1,), scale(x.offset), dtype)

    def as_strided(self, x, shape, strides, offset):
        """A view of contiguous ``x``'s elements at ``offset + sum(i_k * strides_k)`` (checked
        by the caller to stay inside ``x``); None for other layouts."""
        x = self.on_device(x)
        return x.view_as(tuple(shape), tuple(strides), x.offset + offset) if x.is_contiguous() else None

    def strided_view(self, x, offset, shape, strides):
        """A view of ``x``'s memory (any layout) from its element ``offset`` with element
        ``strides`` (checked by the caller to stay inside ``x``'s elements)."""
        x = self.on_device(x)
        return x.view_as(tuple(shape), tuple(strides), x.offset + offset)

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
