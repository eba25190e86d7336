"""The CPU backend: numpy arrays in, numpy arrays out, numerics in numba.njit kernels.

The planning (which kernel, over which view) is the shared ``Backend``'s; this class
supplies numpy's storage and views and launches the kernels of this folder, which see
flat or fixed-rank buffers so each compiles once per dtype.
"""
import math

import numba
import numpy as np

from ..._dtype import cpu as _cpu_device
from ..._dtype import BFLOAT16, fitting_int, host_cast
from ..base import HALF, Backend
from ..layout import call_in_order, call_order
from ..opcodes import BINARY_CODES, COMPARE_CODES, REDUCE_CODES, SUM, UNARY_CODES
from . import cascade as _cascade
from . import complex_arith as _complex
from . import elementwise as _elementwise
from . import nn as _nn
from . import reduction as _reduction
from . import softmax_inner as _softmax_inner
from . import split_calls as _split_calls
from .arrays import (  # noqa: F401
    _as_nd_input, _as_nd_output, _binary, _binary_inplace, _binary_nd, _binary_scalar, _BOOL, _c, _compare,
    _compare_nd, _compare_scalar, _errors, _F32, _F64, _FILL_DTYPES, _flat, _matmul_operand, _ND,
    _NUMPY_BINARY, _NUMPY_UNARY, _NUMPY_UNARY_FLOAT64, _quietly, _readonly, _unary)
from .kernel_calls import KernelCalls
from .norm_calls import NormCalls

_SCALAR_LOOP_CODES = _elementwise.SCALAR_LOOP_CODES
_BINARY_SCALAR_LOOP_CODES = _elementwise.BINARY_SCALAR_LOOP_CODES

try:  # numpy's error state switched directly (arrays.py: where this numpy allows it)
    from .arrays import _QUIET
except ImportError:
    pass


class CPUBackend(NormCalls, KernelCalls, Backend):
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
        return host_cast(value, dtype) if dtype is BFLOAT16 else np.asarray(fitting_int(value, np.dtype(dtype)), dtype)

    @staticmethod
    def asarray(data, dtype=None):
        return host_cast(data, dtype) if dtype is BFLOAT16 else np.asarray(data, dtype)

    @staticmethod
    def to_numpy(x):
        return x

    @staticmethod
    def host_compute(function, *arrays):
        return function(*arrays)

    def astype(self, x, dtype):
        if x.dtype == dtype:
            return x
        if x.ndim > 1 and not x.flags.c_contiguous:
            order = call_order("astype", (x, dtype))
            if order is not None:
                return call_in_order(self, "astype", order, (x, dtype))
        if dtype is BFLOAT16:
            return host_cast(x, dtype)
        if x.dtype.kind == "c" and np.dtype(dtype).kind != "c":
            x = x.real  # the imaginary part discarded (the UserWarning is ``Tensor.to``'s, as PyTorch's)
        if np.dtype(dtype).itemsize < x.dtype.itemsize or np.dtype(dtype).kind != "f":
            with np.errstate(over="ignore", invalid="ignore"):  # inf / wrapped values, silently, as PyTorch's
                return x.astype(dtype)
        return x.astype(dtype)

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
        return x.reshape(shape, copy=False)  # the method: np.reshape's Python layers cost 1 us

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
    def view_dtype(x, dtype):
        """``x``'s memory read as ``dtype`` (its last axis rescaled where the sizes differ)."""
        return x.view(dtype)

    @staticmethod
    def as_strided(x, shape, strides, offset):
        """A view of C-contiguous ``x``'s elements at ``offset + sum(i_k * strides_k)``
        (element strides, already checked to stay inside ``x``); None for other layouts."""
        if not x.flags.c_contiguous:
            return None
        flat = x.reshape(-1)[offset:]
        return np.lib.stride_tricks.as_strided(flat, tuple(shape), tuple(s * x.itemsize for s in strides))

    @staticmethod
    def strided_view(x, offset, shape, strides):
        """A view of ``x``'s memory (any layout) from its element ``offset`` with element
        ``strides`` (checked by the caller to stay inside ``x``'s elements)."""
        item = x.itemsize
        start = np.lib.stride_tricks.as_strided(x, (offset + 1,), (item,))[offset:] if x.size else x.reshape(-1)
        return np.lib.stride_tricks.as_strided(start, tuple(shape), tuple(s * item for s in strides))

    @staticmethod
    def swapaxes(x, d0, d1):
        return x.swapaxes(d0, d1)  # the method: a quarter of np.swapaxes's 0.38 us

    @staticmethod
    def concatenate(arrays, dim):
        first = arrays[0]
        if first.ndim < 2 or all(a.flags.c_contiguous for a in arrays):
            return np.concatenate(arrays, dim)
        # C order whatever the operands' (numpy would keep transposed operands' order)
        shape = list(first.shape)
        shape[dim] = sum(a.shape[dim] for a in arrays)
        return np.concatenate(arrays, dim, out=np.empty(shape, np.result_type(*arrays)))

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
        or in place into ``a``.  Everything else goes through ``Backend.binary``.  A result
        of an operand's order other than C (``x.t() + 1``): ``layout.call_in_order``."""
        if out is None and (a.ndim > 1 and not a.flags.c_contiguous and any(a.strides) or b.ndim > 1 and not b.flags.c_contiguous and any(b.strides)):
            order = call_order("binary", (op, a, b))
            if order is not None:
                return call_in_order(self, "binary", order, (op, a, b))
        dtype = a.dtype
        if op in _BINARY_SCALAR_LOOP_CODES and out is None and (dtype is _F32 or dtype is _F64) and dtype is b.dtype:
            return _split_calls.binary_split(op, a, b)  # the activations' gradients, as the unary ones
        if (out is None or out is a) and (dtype is _F32 or dtype is _F64) and dtype is b.dtype:
            # numpy's loop for add, sub, mul and div: any layout, broadcasting included, in place
            # too (tested first: most calls; two 0-d operands into a 0-d array, where numpy
            # would give a scalar).  The same bits as a kernel's, and no kernel to compile.
            ufunc = _NUMPY_BINARY.get(op)
            if ufunc is not None and (out is None or a.flags.c_contiguous and a.flags.writeable and (
                    not b.ndim or a.shape == b.shape and b.flags.c_contiguous)):  # (in place: ``w -= ...``)
                if out is None and not (a.ndim or b.ndim):
                    out = np.empty((), dtype)
                if _errors is None:
                    return _quietly(ufunc, a, b, out=out, order="C")
                token = _errors.set(_QUIET)
                try:
                    return ufunc(a, b, out=out, order="C")
                finally:
                    _errors.reset(token)
        if dtype.kind == "c":
            return _complex.binary(op, a, b, out)
        if dtype is b.dtype and dtype is not HALF and dtype is not BFLOAT16 and op in BINARY_CODES:
            if out is None:
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
        """On a C-contiguous, non-empty float32/float64 array, the kernel ``Backend.unary``
        would run, without its planning layers (2 us of a 3 us sigmoid on small tensors):
        numpy's loop (``NUMPY_UNARY``: sqrt, floor...; float64 exp, log...), or the op's
        njit kernel over the flat buffer (float32 exp, tanh, sigmoid...).  Numpy's vector
        loops serve contiguous arrays only: a strided one takes the shared path's copy
        first.  Everything else through ``Backend.unary``."""
        if x.ndim > 1 and not x.flags.c_contiguous and any(x.strides):
            order = call_order("unary", (op, x))
            if order is not None:
                return call_in_order(self, "unary", order, (op, x))
        dtype = x.dtype
        if op in _SCALAR_LOOP_CODES and (dtype is _F32 or dtype is _F64) and x.size:
            return _split_calls.unary_split(op, x)  # sigmoid, silu...: PyTorch's scalar loop's elements by its definition
        if (dtype is _F32 or dtype is _F64) and x.flags.c_contiguous:
            ufunc = (_NUMPY_UNARY_FLOAT64 if dtype is _F64 else _NUMPY_UNARY).get(op)
            if ufunc is not None:
                out = None if x.ndim else np.empty((), dtype)  # (0-d: numpy would give a scalar)
                if _errors is None:
                    return _quietly(ufunc, x, out=out, order="C")
                token = _errors.set(_QUIET)
                try:
                    return ufunc(x, out=out, order="C")
                finally:
                    _errors.reset(token)
            if x.size and op in UNARY_CODES:
                out = np.empty(x.shape, dtype)
                _unary[op](x.reshape(-1), out.reshape(-1))
                return out
        if dtype.kind == "c":
            return _complex.unary(op, x)
        return Backend.unary(self, op, x)

    def compare(self, op, a, b):
        """``binary``'s common layouts, for a bool result."""
        if a.ndim > 1 and not a.flags.c_contiguous and any(a.strides) or b.ndim > 1 and not b.flags.c_contiguous and any(b.strides):
            order = call_order("compare", (op, a, b))
            if order is not None:
                return call_in_order(self, "compare", order, (op, a, b))
        dtype = a.dtype
        if dtype.kind == "c":
            return _complex.compare(op, a, b)
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
        to the kernel, as ``Backend.reduce`` plans it; everything else through it.  Float
        sums (float16 and bfloat16 too), any layout: PyTorch's order (``cascade.py``)."""
        if op == SUM and (x.dtype is _F32 or x.dtype is _F64 or x.dtype is HALF or x.dtype is BFLOAT16):
            return self._cascade_sum(x, dims, keepdim)
        if x.dtype.kind == "c":
            return _complex.reduce(op, x, dims, keepdim)
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

    @staticmethod
    def _cascade_sum(x, dims, keepdim):
        shape = x.shape
        reduced = dims or range(x.ndim)
        if keepdim:
            out_shape = tuple(1 if i in reduced else s for i, s in enumerate(shape))
        else:
            out_shape = tuple(s for i, s in enumerate(shape) if i not in reduced)
        if x.dtype is HALF or x.dtype is BFLOAT16:
            out = np.zeros(out_shape, np.float32)
            if x.size:
                _cascade.narrow_sum(x, dims, out)
            return host_cast(out, x.dtype)
        out = np.empty(out_shape, x.dtype)
        if not x.size:
            out.fill(0)
            return out
        return _cascade.sum_into(x, dims, out)

    def nll_sum(self, values, valid):
        """PyTorch's CPU nll_loss reduction order (``cascade.nll_sum``) for float32/float64;
        float16/bfloat16 in float32, rounded once."""
        if values.dtype is not _F32 and values.dtype is not _F64:
            return Backend.nll_sum(self, values, valid)
        out = np.empty((), values.dtype)
        _cascade.nll_sum(_c(values).reshape(-1), _c(valid).reshape(-1), out.reshape(1))
        return out

    def softmax(self, x, dim, log=False):
        """Along the last axis of a C-contiguous float32/float64 array: its rows straight to
        the kernel (the shared path's permutes are identities there); else the shared path."""
        if dim == x.ndim - 1 and x.flags.c_contiguous and (x.dtype is _F32 or x.dtype is _F64):
            cols = x.shape[-1]
            out = np.empty(x.shape, x.dtype)
            if x.size:
                (_nn.log_softmax_rows if log else _nn.softmax_rows)(x.reshape(-1, cols), out.reshape(-1, cols))
            return out
        if 0 <= dim < x.ndim - 1 and (x.dtype is _F32 or x.dtype is _F64) and x.size:
            # another axis: PyTorch's kernel over its contiguous (outer, dim, inner) copy
            x3 = np.ascontiguousarray(x).reshape(_around(x.shape, dim))
            out = np.empty(x3.shape, x.dtype)
            if log:
                _softmax_inner.log_softmax_inner(x3, out)
            else:  # its positions split between the threads as PyTorch's parallel_for (grain 1) splits them
                positions = x3.shape[0] * x3.shape[2]
                _softmax_inner.softmax_inner(x3, out, -(-positions // min(numba.get_num_threads(), positions)))
            return out.reshape(x.shape)
        return Backend.softmax(self, x, dim, log)

    def softmax_backward(self, grad, out, log):
        """softmax's (log_softmax's) gradient along the last axis of C-contiguous float32/float64
        arrays of one shape, by PyTorch's kernels (``nn.softmax_backward_rows``, ``nn.log_softmax_backward_rows``)."""
        if not (grad.dtype is out.dtype and (out.dtype is _F32 or out.dtype is _F64) and out.flags.c_contiguous
                and grad.flags.c_contiguous and grad.shape == out.shape and out.size):
            raise ValueError(f"softmax_backward: rows of one C-contiguous float32/float64 shape, got "
                             f"{grad.shape} {grad.dtype} and {out.shape} {out.dtype}")
        cols = out.shape[-1]
        res = np.empty(out.shape, out.dtype)
        kernel = _nn.log_softmax_backward_rows if log else _nn.softmax_backward_rows
        kernel(grad.reshape(-1, cols), out.reshape(-1, cols), res.reshape(-1, cols))
        return res

    def softmax_backward_along(self, grad, out, dim, log):
        """softmax's (log_softmax's) gradient along an axis other than the last of float32/float64
        arrays of one shape, by PyTorch's kernel over contiguous copies (``softmax_inner``)."""
        if not (grad.dtype is out.dtype and (out.dtype is _F32 or out.dtype is _F64) and grad.shape == out.shape
                and 0 <= dim < out.ndim - 1 and out.size):
            raise ValueError(f"softmax_backward_along: float32/float64 arrays of one shape and an axis before the "
                             f"last, got {grad.shape} {grad.dtype}, {out.shape} {out.dtype} and dim {dim}")
        shape = _around(out.shape, dim)
        res = np.empty(shape, out.dtype)
        _softmax_inner.softmax_backward_inner(np.ascontiguousarray(grad).reshape(shape),
                                              np.ascontiguousarray(out).reshape(shape), res, log)
        return res.reshape(out.shape)

    def where(self, cond, a, b):
        """Operands of the condition's shape or numbers (0-d), all C-contiguous: one flat loop
        (the gradients of relu, clamp, where); everything else through ``Backend.where``."""
        if any(x.ndim > 1 and not x.flags.c_contiguous and any(x.strides) for x in (cond, a, b)):
            order = call_order("where", (cond, a, b))
            if order is not None:
                return call_in_order(self, "where", order, (cond, a, b))
        shape, dtype = cond.shape, a.dtype
        if dtype.kind == "c":
            return _complex.where(cond, a, b)
        if (dtype is b.dtype and cond.dtype is _BOOL and dtype is not HALF and dtype is not BFLOAT16
                and cond.flags.c_contiguous and (not a.ndim or a.shape == shape and a.flags.c_contiguous)
                and (not b.ndim or b.shape == shape and b.flags.c_contiguous)):
            out = np.empty(shape, dtype)
            _elementwise.where_flat(cond.reshape(-1), a.reshape(-1), b.reshape(-1), out.reshape(-1))
            return out
        return Backend.where(self, cond, a, b)


cpu = CPUBackend()


def _around(shape, dim):
    """(outer, shape[dim], inner): the shape as PyTorch's softmax kernels see it."""
    return (math.prod(shape[:dim]), shape[dim], math.prod(shape[dim + 1:]))
