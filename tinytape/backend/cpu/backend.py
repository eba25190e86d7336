"""The CPU backend: numpy arrays in, numpy arrays out, numerics in numba.njit kernels.

The planning (which kernel, over which view) is the shared ``Backend``'s; this class
supplies numpy's storage and views and launches the kernels of this folder, which see
flat or fixed-rank buffers so each compiles once per dtype.
"""
import math

import numpy as np

from ..._dtype import cpu as _cpu_device
from ..._dtype import BFLOAT16, host_cast
from ..base import HALF, Backend
from ..opcodes import ADD, BINARY_CODES, COMPARE_CODES, DIV, MUL, REDUCE_CODES, SUB
from . import elementwise as _elementwise
from . import indexing as _indexing
from . import linalg as _linalg
from . import nn as _nn
from . import random as _random
from . import reduction as _reduction
from . import windows as _windows

_ND = 4  # rank of the strided elementwise kernels
_FILL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # the fill kernel's signatures: the gradients' dtypes
_BOOL = np.dtype(np.bool_)
# op code -> kernel, per entry point: indexed straight from the fast paths (no wrapper frame)
_unary = _elementwise.BY_OP["unary"]
_binary = _elementwise.BY_OP["binary"]
_binary_inplace = _elementwise.BY_OP["binary_inplace"]
_binary_scalar = _elementwise.BY_OP["binary_scalar"]
_binary_nd = _elementwise.BY_OP["binary_nd"]
_compare = _elementwise.BY_OP["compare"]
_compare_scalar = _elementwise.BY_OP["compare_scalar"]
_compare_nd = _elementwise.BY_OP["compare_nd"]


# numpy's own loops for the four IEEE operations on float32/float64: correctly rounded, so
# the same numbers as the kernels' (and a compiled program's) ``a + b``, with numpy's
# broadcasting and allocation in one C call instead of three reshapes and a dispatch
_NUMPY_BINARY = {ADD: np.add, SUB: np.subtract, MUL: np.multiply, DIV: np.true_divide}
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)  # builtin dtypes are singletons: ``is`` compares
_NUMPY_UNARY = _elementwise.NUMPY_UNARY

try:  # numpy's floating-point error state, switched to "ignore" without np.errstate's 1 us
    from numpy._core._multiarray_umath import _make_extobj
    from numpy._core._ufunc_config import _extobj_contextvar as _errors
    _QUIET = _make_extobj(all="ignore")
except (ImportError, AttributeError, TypeError):  # another numpy: errstate itself
    _errors = None


def _quietly(ufunc, *args, **kwargs):
    """``ufunc(*args)`` with IEEE results (inf, nan) and no numpy warnings, as PyTorch's."""
    if _errors is None:
        with np.errstate(all="ignore"):
            return ufunc(*args, **kwargs)
    token = _errors.set(_QUIET)
    try:
        return ufunc(*args, **kwargs)
    finally:
        _errors.reset(token)


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


class CPUBackend(Backend):
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
        return np.full(shape, host_cast(value, dtype) if dtype is BFLOAT16 else value, dtype)

    @staticmethod
    def scalar(value, dtype):
        return host_cast(value, dtype) if dtype is BFLOAT16 else np.asarray(value, dtype)

    @staticmethod
    def asarray(data, dtype=None):
        return host_cast(data, dtype) if dtype is BFLOAT16 else np.asarray(data, dtype)

    @staticmethod
    def to_numpy(x):
        return x

    @staticmethod
    def astype(x, dtype):
        if x.dtype == dtype:
            return x
        return host_cast(x, dtype) if dtype is BFLOAT16 else x.astype(dtype)

    @staticmethod
    def contiguous(x):
        return _c(x)

    @staticmethod
    def copy_into(dst, src):
        if (not src.ndim and src.dtype is dst.dtype and dst.dtype in _FILL_DTYPES
                and dst.flags.c_contiguous and dst.flags.writeable):
            _elementwise.fill(dst.reshape(-1), src[()])  # one number (zero_, fill_): 3x faster than copyto
            return
        np.copyto(dst, host_cast(src, BFLOAT16) if dst.dtype is BFLOAT16 else src, casting="unsafe")

    @staticmethod
    def fill(x, value):
        """Every element of the C-contiguous, writable ``x`` set to the number ``value``
        (cast as ``scalar`` casts it): ``grad.zero_()``."""
        if x.size < 4096 or x.dtype not in _FILL_DTYPES:
            x.fill(value)  # numpy's own: 0.1 us on a small buffer
        else:
            _elementwise.fill(x.reshape(-1), x.dtype.type(value))  # vector stores: 2x numpy's on 100 000

    @staticmethod
    def owns(x):
        """Whether ``x`` is a writable array of its own (no view of another's memory)."""
        return x.base is None and x.flags.writeable and x.flags.c_contiguous

    @staticmethod
    def may_alias(a, b):
        if a is not b and a.flags.owndata and b.flags.owndata:
            return False  # two allocations of their own (0.08 us; may_share_memory 0.2 us)
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
        if not x.ndim and x.flags.c_contiguous:
            # a number's array over ``shape`` with zero strides, read-only as numpy's
            # broadcast_to makes it: a third of its cost (0.6 us vs 2.1 us)
            view = np.ndarray(shape, x.dtype, x, 0, (0,) * len(shape))
            view.flags.writeable = False
            return view
        return np.broadcast_to(x, shape)

    @staticmethod
    def permute(x, dims):
        return np.transpose(x, dims)

    @staticmethod
    def swapaxes(x, d0, d1):
        return x.swapaxes(d0, d1)  # the method: a quarter of np.swapaxes's 0.38 us

    @staticmethod
    def concatenate(arrays, dim):
        return np.concatenate(arrays, dim)

    @staticmethod
    def index(x, index):
        return x[index]

    @staticmethod
    def setitem(x, index, value):
        x[index] = value

    # ---- elementwise: the common cases before the shared planning ----
    def binary(self, op, a, b, out=None):
        """The layouts of nearly every call, decided in a few attribute reads (the shared
        planning takes 2 us on small tensors, as long as the kernel): C-contiguous operands
        of one shape and one full-width dtype, or a number (0-d) second, into a new output
        or in place into ``a``.  Everything else goes through ``Backend.binary``."""
        dtype = a.dtype
        if dtype is b.dtype and dtype is not HALF and dtype is not BFLOAT16 and op in BINARY_CODES:
            if out is None:
                ufunc = _NUMPY_BINARY.get(op)
                if ufunc is not None and (dtype is _F32 or dtype is _F64) and (a.ndim or b.ndim):
                    # any layout, broadcasting included (two 0-d operands would give a numpy scalar)
                    if _errors is None:
                        return _quietly(ufunc, a, b, order="C")
                    token = _errors.set(_QUIET)
                    try:
                        return ufunc(a, b, order="C")
                    finally:
                        _errors.reset(token)
                if a.flags.c_contiguous:
                    if a.shape == b.shape and b.flags.c_contiguous:
                        out = np.empty(a.shape, dtype)
                        if a.ndim == 1:
                            _binary[op](a, b, out)
                        else:
                            _binary[op](a.reshape(-1), b.reshape(-1), out.reshape(-1))
                        return out
                    if not b.ndim:  # ``lr * grad``, ``clamp(min=0)``
                        out = np.empty(a.shape, dtype)
                        _binary_scalar[op](a.reshape(-1), b[()], out.reshape(-1), False)
                        return out
                elif a.shape == b.shape and b.flags.c_contiguous and a.size and not any(a.strides):
                    # one number broadcast over the shape (the gradient of a sum) times a tensor
                    out = np.empty(b.shape, dtype)
                    _binary_scalar[op](b.reshape(-1), a[(0,) * a.ndim], out.reshape(-1), True)
                    return out
            elif (out is a and a.flags.c_contiguous and a.flags.writeable
                  and (not b.ndim or a.shape == b.shape and b.flags.c_contiguous)):  # ``w -= ...``, accumulation
                _binary_inplace[op](a.reshape(-1), b.reshape(-1))
                return out
        return Backend.binary(self, op, a, b, out)

    def unary(self, op, x):
        """numpy's loop (``NUMPY_UNARY``: exp, tanh, log...) on a C-contiguous float32/float64
        array, allocating its output, as ``Backend.unary`` runs it (numpy's vector loops
        serve contiguous arrays only: a strided one takes the shared path's copy first);
        everything else through ``Backend.unary``."""
        dtype = x.dtype
        if (dtype is _F32 or dtype is _F64) and x.ndim and x.flags.c_contiguous:  # (0-d would give a numpy scalar)
            ufunc = _NUMPY_UNARY.get(op)
            if ufunc is not None:
                if _errors is None:
                    return _quietly(ufunc, x, order="C")
                token = _errors.set(_QUIET)
                try:
                    return ufunc(x, order="C")
                finally:
                    _errors.reset(token)
        return Backend.unary(self, op, x)

    def compare(self, op, a, b):
        """``binary``'s common layouts, for a bool result."""
        dtype = a.dtype
        if (dtype is b.dtype and dtype is not HALF and dtype is not BFLOAT16 and a.flags.c_contiguous
                and op in COMPARE_CODES):
            if a.shape == b.shape and b.flags.c_contiguous:
                out = np.empty(a.shape, _BOOL)
                _compare[op](a.reshape(-1), b.reshape(-1), out.reshape(-1))
                return out
            if not b.ndim:
                out = np.empty(a.shape, _BOOL)
                _compare_scalar[op](a.reshape(-1), b[()], out.reshape(-1), False)
                return out
        return Backend.compare(self, op, a, b)

    def reduce(self, op, x, dims, keepdim):
        """A reduction of a C-contiguous array over every axis (a loss) or over one run of
        adjacent axes (``sum(dim)``, a bias gradient): the (outer, n, inner) view straight
        to the kernel, as ``Backend.reduce`` plans it; everything else through it."""
        if x.size and x.flags.c_contiguous and x.dtype is not HALF and x.dtype is not BFLOAT16 \
                and op in REDUCE_CODES:
            if not dims:
                out = np.empty((1,) * x.ndim if keepdim else (), x.dtype)
                _reduction.reduce_mid(op, x.reshape(1, x.size, 1), out.reshape(1, 1))
                return out
            lo, hi = dims[0], dims[-1]
            if hi - lo + 1 == len(dims) and len(dims) < x.ndim:  # one run of adjacent axes, not all
                shape = x.shape
                outer = n = inner = 1
                for i, s in enumerate(shape):
                    if i < lo:
                        outer *= s
                    elif i > hi:
                        inner *= s
                    else:
                        n *= s
                if n:  # (an empty axis takes the shared path: the empty sum, max's refusal)
                    # allocated in the result's shape, written through a view: an array of its
                    # own (``owns``), which a leaf's .grad can keep without a copy
                    out = np.empty(shape[:lo] + (1,) * len(dims) + shape[hi + 1:] if keepdim
                                   else shape[:lo] + shape[hi + 1:], x.dtype)
                    _reduction.reduce_mid(op, x.reshape(outer, n, inner), out.reshape(outer, inner))
                    return out
        return Backend.reduce(self, op, x, dims, keepdim)

    def softmax(self, x, dim, log=False):
        """Along the last axis of a C-contiguous float32/float64 array: its rows straight to
        the kernel (the shared path's permutes are identities there); else the shared path."""
        if dim == x.ndim - 1 and x.flags.c_contiguous and (x.dtype is _F32 or x.dtype is _F64):
            cols = x.shape[-1]
            out = np.empty(x.shape, x.dtype)
            if x.size:
                _nn.softmax_rows(x.reshape(-1, cols), out.reshape(-1, cols), log)
            return out
        return Backend.softmax(self, x, dim, log)

    def where(self, cond, a, b):
        """Operands of the condition's shape or numbers (0-d), all C-contiguous: one flat loop
        (the gradients of relu, clamp, where); everything else through ``Backend.where``."""
        shape, dtype = cond.shape, a.dtype
        if (dtype is b.dtype and cond.dtype is _BOOL and dtype is not HALF and dtype is not BFLOAT16
                and cond.flags.c_contiguous and (not a.ndim or a.shape == shape and a.flags.c_contiguous)
                and (not b.ndim or b.shape == shape and b.flags.c_contiguous)):
            out = np.empty(shape, dtype)
            _elementwise.where_flat(cond.reshape(-1), a.reshape(-1), b.reshape(-1), out.reshape(-1))
            return out
        return Backend.where(self, cond, a, b)

    # ---- what the shared planning asks ----
    @staticmethod
    def _flat(x):
        return x.flags.c_contiguous

    @staticmethod
    def _writable(x):
        return x.flags.writeable

    @staticmethod
    def _scalar(x):
        if x.size != 1:
            if x.size and not any(x.strides):
                # one number broadcast over a shape (the gradient of a sum): the number
                # kernel then runs instead of the strided one
                return x[(0,) * x.ndim]
            return None
        return x[()] if not x.ndim else x.reshape(-1)[0]  # a 0-d array (a number) needs no reshape

    # ---- kernels ----
    @staticmethod
    def _unary_kernel(op, x, out):
        ufunc = _elementwise.NUMPY_UNARY.get(op)
        if ufunc is not None and x.dtype.kind == "f":  # numpy's rint/floor of int64 refuse an int64 out
            _quietly(ufunc, x, out=out)  # IEEE results (log(0) = -inf), without numpy's warnings
        else:
            _unary[op](x.reshape(-1), out.reshape(-1))

    @staticmethod
    def _binary_kernel(op, a, b, out):
        _binary[op](a.reshape(-1), b.reshape(-1), out.reshape(-1))

    @staticmethod
    def _binary_inplace_kernel(op, a, b):
        _binary_inplace[op](a.reshape(-1), _c(b).reshape(-1))

    @staticmethod
    def _binary_scalar_kernel(op, a, s, out, scalar_first):
        _binary_scalar[op](a.reshape(-1), s, out.reshape(-1), scalar_first)

    @staticmethod
    def _binary_nd_kernel(op, a, b, out, shape):
        _binary_nd[op](_as_nd_input(a, shape), _as_nd_input(b, shape), _as_nd_output(out))

    @staticmethod
    def _compare_kernel(op, a, b, out):
        _compare[op](a.reshape(-1), b.reshape(-1), out.reshape(-1))

    @staticmethod
    def _compare_scalar_kernel(op, a, s, out, scalar_first):
        _compare_scalar[op](a.reshape(-1), s, out.reshape(-1), scalar_first)

    @staticmethod
    def _compare_nd_kernel(op, a, b, out, shape):
        _compare_nd[op](_as_nd_input(a, shape), _as_nd_input(b, shape), _as_nd_output(out))

    @staticmethod
    def _where_kernel(cond, a, b, out, shape):
        _elementwise.where_nd(_as_nd_input(cond, shape), _as_nd_input(a, shape), _as_nd_input(b, shape),
                              _as_nd_output(out))

    @staticmethod
    def _reduce_kernel(op, x, outer, n, inner, out):
        _reduction.reduce_mid(op, x.reshape(outer, n, inner), out.reshape(outer, inner))

    @staticmethod
    def _argreduce_kernel(op, x, outer, n, inner, values, indices):
        _reduction.argreduce_mid(op, x.reshape(outer, n, inner), values.reshape(outer, inner),
                                 indices.reshape(outer, inner))

    @staticmethod
    def _cumsum_kernel(x, out, rows, cols, exact):
        kernel = _reduction.cumsum_rows_exact if exact else _reduction.cumsum_rows
        kernel(x.reshape(rows, cols), out.reshape(rows, cols))

    @staticmethod
    def _softmax_kernel(x, out, rows, cols, log):
        _nn.softmax_rows(x.reshape(rows, cols), out.reshape(rows, cols), log)

    # ---- linear algebra ----
    def matmul(self, a, b):
        """Matrix product of operands of rank >= 2 (batch dimensions broadcast)."""
        if a.dtype is HALF or a.dtype is BFLOAT16:
            return self._in_float32(CPUBackend.matmul, a, b)
        if a.dtype.kind not in "fc":
            return np.matmul(a, b)  # BLAS has no integer product; numpy's loop does it
        if a.ndim == 2 and b.ndim == 2:
            out = np.empty((a.shape[0], b.shape[1]), a.dtype)
            if a.flags.c_contiguous and b.flags.c_contiguous:  # no transposes to read (forward)
                _linalg.matmul(a, b, out, False, False)
            else:
                a2, ta = _matmul_operand(a)
                b2, tb = _matmul_operand(b)
                _linalg.matmul(a2, b2, out, ta, tb)
            return out
        m, n = a.shape[-2], b.shape[-1]
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a3 = np.ascontiguousarray(np.broadcast_to(a, batch + a.shape[-2:])).reshape((-1,) + a.shape[-2:])
        b3 = np.ascontiguousarray(np.broadcast_to(b, batch + b.shape[-2:])).reshape((-1,) + b.shape[-2:])
        out = np.empty((a3.shape[0], m, n), a.dtype)
        _linalg.bmm(a3, b3, out, False, False)
        return out.reshape(batch + (m, n))

    # ---- indexing ----
    @staticmethod
    def _gather_kernel(x, index):
        out = np.empty(index.shape, x.dtype)
        _indexing.gather(_flat(x), _flat(index), out.reshape(-1))
        return out

    @staticmethod
    def _scatter_add_kernel(shape, index, src):
        dst = np.zeros(math.prod(shape), src.dtype)
        _indexing.scatter_add(dst, _flat(index), _flat(src))
        return dst.reshape(shape)

    # ---- random draws a compiled program replays: the generator's engine is an argument ----
    @staticmethod
    def dropout_noise(mt, ctr, shape, keep, dtype):
        """Dropout's multiplier of ``shape``: ``1 / keep`` where a Bernoulli(``keep``) draw
        succeeds, else 0 (PyTorch's CPU dropout: a 53-bit uniform below ``keep``, the
        quotient in the dtype, float32 for the narrower floats), drawn from the engine
        ``mt``/``ctr``, which it advances in place."""
        drawn = np.empty(math.prod(shape), np.bool_)
        _random.bernoulli64(mt, ctr, np.array([keep]), drawn)
        dtype = np.dtype(dtype)
        if dtype == np.float64:
            noise = drawn / keep
        else:
            noise = drawn.astype(np.float32) / np.float32(keep)
        return host_cast(noise.reshape(shape), dtype) if dtype != noise.dtype else noise.reshape(shape)

    @staticmethod
    def _positions_kernel(base, index, where, stride, size, wrap, error):
        out = np.empty(base.shape, np.int64)
        status = np.zeros(2, np.int64)
        _indexing.positions(_flat(base), _flat(index), _flat(where), stride, size, wrap, out.reshape(-1), status)
        if status[0]:
            runtime_error, prefix, suffix = error
            raise (RuntimeError if runtime_error else IndexError)(f"{prefix}{status[1]}{suffix}")
        return out

    # ---- windows ----
    @staticmethod
    def _im2col_kernel(x, geometry, fill):
        n, c, h, w, kh, kw, *_, oh, ow = geometry
        out = np.empty((c * kh * kw, n * oh * ow), x.dtype)
        _windows.im2col(_flat(x), out.reshape(-1), geometry, fill)
        return out

    @staticmethod
    def _col2im_kernel(cols, geometry):
        out = np.zeros(geometry[:4], cols.dtype)
        _windows.col2im(_flat(cols), out.reshape(-1), geometry)
        return out


cpu = CPUBackend()
