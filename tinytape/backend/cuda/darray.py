"""DArray: an n-d strided view over a flat CUDA device buffer.

numba's device arrays cover contiguous data; tinytape's views (transposes, broadcasts,
slices with steps) need arbitrary strides, so a DArray keeps the flat buffer, an element
offset, a shape and element strides, and exposes the small part of numpy's array API
that the ops layer reads (shape, dtype, size, ndim, flags, reshape, copy, astype).
Basic indexing makes views in Python; the data never leaves the device.  A bfloat16
DArray keeps its bits in a uint16 buffer (numba.cuda has no bfloat16 arrays) and says
bfloat16 as its dtype: kernels that compute never see it (they run on float32 copies).
"""
import math

import numpy as np

from ..._dtype import BFLOAT16, fitting_int


def c_strides(shape):
    strides, step = [], 1
    for s in reversed(shape):
        strides.append(step)
        step *= max(s, 1)
    return tuple(reversed(strides))


class _Flags:
    __slots__ = ("c_contiguous", "writeable")

    def __init__(self, c_contiguous):
        self.c_contiguous = c_contiguous
        self.writeable = True


class DArray:
    __slots__ = ("buf", "offset", "shape", "strides", "dtype", "backend")

    def __init__(self, backend, buf, shape, strides=None, offset=0, dtype=None):
        self.backend = backend
        self.buf = buf
        self.shape = tuple(int(s) for s in shape)
        self.strides = c_strides(self.shape) if strides is None else tuple(strides)
        self.offset = offset
        self.dtype = np.dtype(buf.dtype) if dtype is None else dtype

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def flags(self):
        return _Flags(self.is_contiguous())

    def is_contiguous(self):
        if self.size <= 1:
            return True
        return all(st == c for s, st, c in zip(self.shape, self.strides, c_strides(self.shape)) if s != 1)

    def view_as(self, shape, strides, offset):
        return DArray(self.backend, self.buf, shape, strides, offset, self.dtype)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if -1 in shape:
            known = math.prod(s for s in shape if s != -1)
            shape = tuple(self.size // known if s == -1 else s for s in shape)
        src = self if self.is_contiguous() else self.backend.contiguous(self)
        return DArray(self.backend, src.buf, shape, None, src.offset, self.dtype)

    def copy(self):
        return self.backend.copy(self)

    def astype(self, dtype, copy=True):
        return self.backend.astype(self, np.dtype(dtype)) if (copy or np.dtype(dtype) != self.dtype) else self

    def __getitem__(self, index):
        return self.backend.index(self, index if isinstance(index, tuple) else (index,))

    def __repr__(self):
        return f"DArray(shape={self.shape}, strides={self.strides}, offset={self.offset}, dtype={self.dtype})"


class HostScalar:
    """A python scalar standing in for a 0-d device array: binary and compare kernels take
    it by value, so ``x * 2.0`` moves nothing to the device."""

    __slots__ = ("backend", "value", "dtype")
    shape = ()
    strides = ()
    offset = 0
    size = 1
    ndim = 0

    def __init__(self, backend, value, dtype):
        self.backend = backend
        self.dtype = np.dtype(dtype)
        # to bfloat16 through float32, as PyTorch rounds a double (ml_dtypes would round it directly)
        self.value = self.dtype.type(np.float32(value) if self.dtype is BFLOAT16 else fitting_int(value, self.dtype))

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def flags(self):
        return _Flags(True)

    def reshape(self, *shape):
        return self.backend.on_device(self).reshape(*shape)

    def copy(self):
        return HostScalar(self.backend, self.value, self.dtype)

    def astype(self, dtype, copy=True):
        return HostScalar(self.backend, self.value, dtype)
