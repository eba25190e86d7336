"""The CPU backend: numpy arrays in, numpy arrays out, numerics in numba.njit kernels.

This layer owns the shape logic (broadcasting, strides, which axes a reduction runs
over) and allocates outputs; the kernels it calls see flat or fixed-rank buffers so
each compiles once per dtype.
"""
import math

import numpy as np

from ..._dtype import cpu as _cpu_device
from . import _cache

_cache.install()  # before the kernel modules are imported: njit(cache=True) binds then

from . import elementwise as _ew  # noqa: E402
from . import indexing as _ix  # noqa: E402
from . import linalg as _la  # noqa: E402
from . import nn as _nn  # noqa: E402
from . import reduction as _red  # noqa: E402
from ..layout import adjacent_runs  # noqa: E402

_ND = 4  # rank of the strided elementwise kernels


def _readonly(view):
    view = view.view()
    view.flags.writeable = False
    return view


def _as_nd_input(x, shape):
    """``x`` (broadcastable to ``shape``) as a read-only 4-D strided view: its rank padded
    with leading size-1 dims, which the nd kernels broadcast by index (np.broadcast_to
    would cost ~7 us a call).  One kernel signature per dtype, whatever the layout."""
    if len(shape) > _ND:
        return _readonly(np.broadcast_to(x, shape).reshape((-1,) + tuple(shape[-(_ND - 1):])))  # may copy; rare
    v = x[(None,) * (_ND - x.ndim)] if x.ndim < _ND else x
    return v if not v.flags.writeable else _readonly(v)


def _as_nd_output(out):
    shape = out.shape
    if len(shape) < _ND:
        return out.reshape((1,) * (_ND - len(shape)) + shape)
    return out.reshape((-1,) + shape[-(_ND - 1):])


def _c(x):
    """``x`` as a C-contiguous array (np.ascontiguousarray would turn 0-d into 1-d)."""
    return x if x.flags.c_contiguous else np.ascontiguousarray(x)


def _flat(x):
    return _c(x).reshape(-1)


def _matmul_operand(x):
    """(C-contiguous array, transposed?) for a 2-D operand, copying only when neither
    ``x`` nor ``x.T`` is C-contiguous."""
    if x.flags.c_contiguous:
        return x, False
    if x.T.flags.c_contiguous:
        return x.T, True
    return np.ascontiguousarray(x), False


class CPUBackend:
    device = _cpu_device

    # ---- allocation and layout (numpy does these; no numerics) ----
    @staticmethod
    def empty(shape, dtype):
        return np.empty(shape, dtype)

    @staticmethod
    def zeros(shape, dtype):
        return np.zeros(shape, dtype)

    @staticmethod
    def full(shape, value, dtype):
        return np.full(shape, value, dtype)

    @staticmethod
    def scalar(value, dtype):
        return np.asarray(value, dtype)

    @staticmethod
    def asarray(data, dtype=None):
        return np.asarray(data, dtype)

    @staticmethod
    def to_numpy(x):
        return x

    @staticmethod
    def astype(x, dtype):
        return x if x.dtype == dtype else x.astype(dtype)

    @staticmethod
    def contiguous(x):
        return _c(x)

    @staticmethod
    def copy_into(dst, src):
        np.copyto(dst, src, casting="unsafe")

    @staticmethod
    def owns(x):
        """Whether ``x`` is a writable array of its own (no view of another's memory)."""
        return x.base is None and x.flags.writeable and x.flags.c_contiguous

    @staticmethod
    def may_alias(a, b):
        return np.may_share_memory(a, b)

    @staticmethod
    def copy(x):
        return np.array(x, copy=True, order="C")

    # views: numpy's strided views share the storage
    @staticmethod
    def view(x, shape):
        """A view of ``x`` with ``shape``; ValueError when that needs a copy."""
        return np.reshape(x, shape, copy=False)

    @staticmethod
    def reshape(x, shape):
        return np.reshape(x, shape)

    @staticmethod
    def expand_dims(x, dim):
        return np.expand_dims(x, dim)

    @staticmethod
    def squeeze(x, dims):
        return np.squeeze(x, dims) if dims else x.view()

    @staticmethod
    def broadcast_to(x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def permute(x, dims):
        return np.transpose(x, dims)

    @staticmethod
    def swapaxes(x, d0, d1):
        return np.swapaxes(x, d0, d1)

    @staticmethod
    def concatenate(arrays, dim):
        return np.concatenate(arrays, dim)

    @staticmethod
    def index(x, index):
        return x[index]

    @staticmethod
    def setitem(x, index, value):
        x[index] = value

    # ---- elementwise ----
    @staticmethod
    def unary(op, x):
        x = _c(x)
        out = np.empty(x.shape, x.dtype)
        ufunc = _ew.NUMPY_UNARY.get(op)
        if ufunc is not None:
            ufunc(x, out=out)
        else:
            _ew.unary(op, x.reshape(-1), out.reshape(-1))
        return out

    @staticmethod
    def binary(op, a, b, out=None):
        """``out = a (op) b`` with numpy broadcasting; ``a`` and ``b`` share a dtype.
        ``out``, when given, must have the broadcast shape (it may alias ``a``)."""
        if out is a and a.flags.c_contiguous and a.flags.writeable and (
                b.shape == a.shape and b.flags.c_contiguous or b.size == 1):
            _ew.binary_inplace(op, a.reshape(-1), _c(b).reshape(-1))
            return out
        if out is None or out.flags.c_contiguous:
            if a.shape == b.shape and a.flags.c_contiguous and b.flags.c_contiguous:
                if out is None:
                    out = np.empty(a.shape, a.dtype)
                _ew.binary(op, a.reshape(-1), b.reshape(-1), out.reshape(-1))
                return out
            if b.size == 1 and a.flags.c_contiguous and a.ndim >= b.ndim:
                if out is None:
                    out = np.empty(a.shape, a.dtype)
                _ew.binary_scalar(op, a.reshape(-1), b.reshape(-1)[0], out.reshape(-1), False)
                return out
            if a.size == 1 and b.flags.c_contiguous and b.ndim >= a.ndim and out is None:
                out = np.empty(b.shape, b.dtype)
                _ew.binary_scalar(op, b.reshape(-1), a.reshape(-1)[0], out.reshape(-1), True)
                return out
        shape = np.broadcast_shapes(a.shape, b.shape)
        target = out if out is not None and out.flags.c_contiguous else np.empty(shape, a.dtype)
        _ew.binary_nd(op, _as_nd_input(a, shape), _as_nd_input(b, shape), _as_nd_output(target))
        if out is not None and target is not out:
            np.copyto(out, target)
            return out
        return target

    @staticmethod
    def compare(op, a, b):
        if a.shape == b.shape and a.flags.c_contiguous and b.flags.c_contiguous:
            out = np.empty(a.shape, np.bool_)
            _ew.compare(op, a.reshape(-1), b.reshape(-1), out.reshape(-1))
            return out
        if b.size == 1 and a.flags.c_contiguous and a.ndim >= b.ndim:
            out = np.empty(a.shape, np.bool_)
            _ew.compare_scalar(op, a.reshape(-1), b.reshape(-1)[0], out.reshape(-1), False)
            return out
        if a.size == 1 and b.flags.c_contiguous and b.ndim >= a.ndim:
            out = np.empty(b.shape, np.bool_)
            _ew.compare_scalar(op, b.reshape(-1), a.reshape(-1)[0], out.reshape(-1), True)
            return out
        shape = np.broadcast_shapes(a.shape, b.shape)
        out = np.empty(shape, np.bool_)
        _ew.compare_nd(op, _as_nd_input(a, shape), _as_nd_input(b, shape), _as_nd_output(out))
        return out

    @staticmethod
    def where(cond, a, b):
        shape = np.broadcast_shapes(cond.shape, a.shape, b.shape)
        out = np.empty(shape, a.dtype)
        _ew.where_nd(_as_nd_input(cond, shape), _as_nd_input(a, shape), _as_nd_input(b, shape),
                     _as_nd_output(out))
        return out

    # ---- reductions ----
    @staticmethod
    def reduce(op, x, dims, keepdim):
        """Reduce ``x`` over the sorted axes ``dims`` (all axes when empty)."""
        ndim = x.ndim
        dims = tuple(range(ndim)) if not dims else dims
        result = _c(x)
        # reduce each run of adjacent axes as the middle axis of an (outer, n, inner) view
        for lo, hi in reversed(adjacent_runs(dims)):
            shape = result.shape
            outer = math.prod(shape[:lo])
            n = math.prod(shape[lo:hi + 1])
            inner = math.prod(shape[hi + 1:])
            out = np.empty(shape[:lo] + (1,) * (hi - lo + 1) + shape[hi + 1:], x.dtype)
            _red.reduce_mid(op, result.reshape(outer, n, inner), out.reshape(outer, inner))
            result = out
        if not keepdim:
            result = result.reshape(tuple(s for i, s in enumerate(result.shape) if i not in dims))
        return result

    @staticmethod
    def argreduce(op, x, dim, keepdim):
        """(values, int64 indices) of the max/min of ``x`` along ``dim``."""
        x = _c(x)
        shape = x.shape
        outer, n, inner = math.prod(shape[:dim]), shape[dim], math.prod(shape[dim + 1:])
        kept = shape[:dim] + (1,) + shape[dim + 1:]
        values = np.empty(kept, x.dtype)
        indices = np.empty(kept, np.int64)
        _red.argreduce_mid(op, x.reshape(outer, n, inner), values.reshape(outer, inner),
                           indices.reshape(outer, inner))
        if not keepdim:
            values, indices = values.reshape(shape[:dim] + shape[dim + 1:]), indices.reshape(shape[:dim] + shape[dim + 1:])
        return values, indices

    @staticmethod
    def flat_positions(indices, shape, dim, keepdim):
        """Flat positions in an array of ``shape`` of the elements that ``indices``
        (from ``argreduce`` along ``dim``) picked."""
        idx = indices if keepdim else np.expand_dims(indices, dim)
        grid = np.arange(math.prod(shape)).reshape(shape)
        return np.take_along_axis(grid, idx, dim)

    # ---- linear algebra ----
    @staticmethod
    def matmul(a, b):
        """Matrix product of operands of rank >= 2 (batch dimensions broadcast)."""
        if a.dtype.kind not in "fc":
            return np.matmul(a, b)  # BLAS has no integer product; numpy's loop does it
        m, n = a.shape[-2], b.shape[-1]
        if a.ndim == 2 and b.ndim == 2:
            out = np.empty((m, n), a.dtype)
            a2, ta = _matmul_operand(a)
            b2, tb = _matmul_operand(b)
            _la.matmul(a2, b2, out, ta, tb)
            return out
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a3 = np.ascontiguousarray(np.broadcast_to(a, batch + a.shape[-2:])).reshape((-1,) + a.shape[-2:])
        b3 = np.ascontiguousarray(np.broadcast_to(b, batch + b.shape[-2:])).reshape((-1,) + b.shape[-2:])
        out = np.empty((a3.shape[0], m, n), a.dtype)
        _la.bmm(a3, b3, out, False, False)
        return out.reshape(batch + (m, n))

    # ---- indexing ----
    @staticmethod
    def gather(x, index):
        out = np.empty(index.shape, x.dtype)
        _ix.gather(_flat(x), _flat(index), out.reshape(-1))
        return out

    @staticmethod
    def scatter_add(shape, index, src):
        dst = np.zeros(math.prod(shape), src.dtype)
        _ix.scatter_add(dst, _flat(index), _flat(src))
        return dst.reshape(shape)

    # ---- nn ----
    @staticmethod
    def softmax(x, dim, log=False):
        moved = _c(np.moveaxis(x, dim, -1))
        out = np.empty(moved.shape, x.dtype)
        cols = moved.shape[-1] if moved.ndim else 1
        _nn.softmax_rows(moved.reshape(-1, cols), out.reshape(-1, cols), log)
        return np.moveaxis(out, -1, dim)


cpu = CPUBackend()
