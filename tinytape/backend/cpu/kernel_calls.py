"""The CPU backend's kernel calls: what the shared planning in ``Backend`` asks, and the
numba.njit kernels it chose (elementwise, reductions, softmax, linear algebra, indexing,
the random draws a compiled program replays, windows), as ``KernelCalls``, a base class
of ``CPUBackend``."""
import math

import numpy as np

from ..._dtype import BFLOAT16, host_cast
from ..base import HALF
from ..layout import call_in_order, call_order
from ..opcodes import SUM
from . import adaptive_pool as _adaptive_pool
from . import cascade as _cascade
from . import elementwise as _elementwise
from . import indexing as _indexing
from . import linalg as _linalg
from . import nn as _nn
from . import power as _power
from . import random as _random
from . import reduction as _reduction
from . import upsample as _upsample
from . import upsample_cubic as _upsample_cubic
from . import windows as _windows
from .arrays import (_as_nd_input, _as_nd_output, _binary, _binary_inplace, _binary_nd, _binary_scalar, _c, _compare,
                     _compare_nd, _compare_scalar, _F32, _F64, _flat, _matmul_operand, _quietly, _unary)


class _Engine:
    """A generator's engine arrays, as the random module's draws read them."""
    __slots__ = ("_mt", "_ctr", "_normal")

    def __init__(self, mt, ctr, normal):
        self._mt, self._ctr, self._normal = mt, ctr, normal


class KernelCalls:
    """The kernel calls of ``CPUBackend`` (which provides storage, views and the fast paths)."""

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
        ufunc = _elementwise.numpy_unary(op, x.dtype)  # (floats only: numpy's rint of int64 refuses an int64 out)
        if ufunc is not None:
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
    def _fma_kernel(a, b, c, out):
        _elementwise.fma_flat(a.reshape(-1), b.reshape(-1), c.reshape(-1), out.reshape(-1))

    @staticmethod
    def _reduce_kernel(op, x, outer, n, inner, out):
        if op == SUM and x.dtype in _cascade.LANES:  # float sums: PyTorch's order
            _cascade.sum_into(x.reshape(outer, n, inner), (1,), out.reshape(outer, inner))
            return
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
        (_nn.log_softmax_rows if log else _nn.softmax_rows)(x.reshape(rows, cols), out.reshape(rows, cols))

    # ---- linear algebra ----
    # ---- powers by PyTorch's kernels ----
    def pow_scalar(self, x, exponent):
        """``x ** exponent`` for a C-contiguous float32/float64 array and a real number by
        PyTorch's kernel (``power.pow_scalar_*``); None for anything else (the POW kernel's)."""
        if (x.dtype is not _F32 and x.dtype is not _F64) or not x.size or exponent in (0, 1):
            return None
        if not x.flags.c_contiguous:
            order = call_order("pow_scalar", (x, exponent)) if x.ndim > 1 else None
            return None if order is None else call_in_order(self, "pow_scalar", order, (x, exponent))
        out = np.empty(x.shape, x.dtype)
        kernel = _power.pow_scalar_f32 if x.dtype is _F32 else _power.pow_scalar_f64
        kernel(x.reshape(-1), float(exponent), out.reshape(-1))
        return out

    def pow_pair(self, a, b):
        """``a ** b`` of two float32 (float64) arrays of one shape, C-contiguous, or one of them
        a single element, by PyTorch's kernel (``power.pow_pair_*``); None for other layouts."""
        if a.ndim > 1 and not a.flags.c_contiguous and any(a.strides) or b.ndim > 1 and not b.flags.c_contiguous and any(b.strides):
            order = call_order("pow_pair", (a, b))
            if order is not None:
                return call_in_order(self, "pow_pair", order, (a, b))
        dtype = a.dtype
        if (dtype is not _F32 and dtype is not _F64) or b.dtype is not dtype:
            return None
        if a.shape == b.shape:
            shape = a.shape
        elif b.size == 1 and b.ndim <= a.ndim:
            shape = a.shape
        elif a.size == 1 and a.ndim <= b.ndim:
            shape = b.shape
        else:
            return None
        if not ((a.size == 1 or a.flags.c_contiguous) and (b.size == 1 or b.flags.c_contiguous)):
            return None
        out = np.empty(shape, dtype)
        if out.size:
            kernel = _power.pow_pair_f32 if dtype is _F32 else _power.pow_pair_f64
            kernel(a.reshape(-1), int(a.size != 1), b.reshape(-1), int(b.size != 1), out.reshape(-1))
        return out

    def matmul(self, a, b):
        """Matrix product of operands of rank >= 2 (batch dimensions broadcast)."""
        if a.dtype is HALF or a.dtype is BFLOAT16:
            return self._in_float32(KernelCalls.matmul, a, b)
        if a.dtype.kind != "f":
            return np.matmul(a, b)  # integers: BLAS has no product, numpy's loop does it; complex: numpy's BLAS call
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
    def host_call(fn, *args):
        """``fn(*args)``, a pure host computation on the arrays among ``args`` (the order a
        sort finds), returning arrays: a kernel call, so a compiled program runs it again on
        the replay's arrays."""
        return fn(*args)

    @staticmethod
    def random_draw(draw, mt, ctr, normal, *args):
        """``draw(engine, *args)``, a draw of the random module (``normal``, ``uniform``) from
        a generator's engine arrays ``mt``/``ctr``/``normal``, which it advances in place: a
        kernel call, so a compiled program draws anew from the generator at each replay."""
        return draw(_Engine(mt, ctr, normal), *args)

    @staticmethod
    def dropout_noise(mt, ctr, shape, keep, dtype, order=None):
        """Dropout's multiplier of ``shape``: ``1 / keep`` where a Bernoulli(``keep``) draw
        succeeds, else 0 (PyTorch's CPU dropout: a 53-bit uniform below ``keep``, the
        quotient in the dtype, float32 for the narrower floats), drawn from the engine
        ``mt``/``ctr``, which it advances in place.  With ``order`` (a layout, outermost
        dimension first) the draws fill that layout's memory in order, as they fill PyTorch's
        noise made by ``empty_like`` of a permuted input."""
        drawn = np.empty(math.prod(shape), np.bool_)
        _random.bernoulli64(mt, ctr, np.array([keep]), drawn)
        if order is not None:
            drawn = np.transpose(drawn.reshape([shape[d] for d in order]), np.argsort(order))
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
            message = prefix if suffix is None else f"{prefix}{status[1]}{suffix}"
            raise (RuntimeError if runtime_error else IndexError)(message)
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

    @staticmethod
    def upsample_linear(x, size_out, align_corners, scale_factors):
        """PyTorch's CPU linear/bilinear/trilinear ``interpolate`` of the float32/float64
        (N, C, *sizes) ``x`` to ``size_out`` (``upsample.py``)."""
        return _upsample.upsample_linear(x, size_out, align_corners, scale_factors)

    @staticmethod
    def upsample_linear_backward(grad, shape_in, align_corners, scale_factors):
        """The gradient of ``upsample_linear`` to an input of ``shape_in``."""
        return _upsample.upsample_linear_backward(grad, shape_in, align_corners, scale_factors)

    @staticmethod
    def upsample_bicubic(x, size_out, align_corners, scale_factors):
        """PyTorch's CPU bicubic ``interpolate`` of the float32/float64 (N, C, H, W) ``x`` to
        ``size_out`` (``upsample_cubic.py``)."""
        return _upsample_cubic.upsample_bicubic(x, size_out, align_corners, scale_factors)

    @staticmethod
    def upsample_bicubic_backward(grad, shape_in, align_corners, scale_factors):
        """The gradient of ``upsample_bicubic`` to an input of ``shape_in``."""
        return _upsample_cubic.upsample_bicubic_backward(grad, shape_in, align_corners, scale_factors)

    @staticmethod
    def adaptive_avg_pool(x, size_out):
        """PyTorch's CPU adaptive average pool of the float32/float64 (..., [d,] h, w) ``x`` to
        the trailing sizes ``size_out`` (``adaptive_pool.py``)."""
        rank = len(size_out)
        lead, size_in = x.shape[:-rank], x.shape[-rank:]
        planes = int(np.prod(lead, dtype=np.int64))
        out = np.empty(lead + tuple(size_out), x.dtype)
        pad = (1,) * (3 - rank)
        _adaptive_pool.adaptive_avg_pool(np.ascontiguousarray(x).reshape(-1), planes, pad + tuple(size_in),
                                         pad + tuple(size_out), out.reshape(-1))
        return out

    @staticmethod
    def adaptive_avg_pool_backward(grad, size_in):
        """The gradient of ``adaptive_avg_pool`` with respect to an input of trailing sizes ``size_in``."""
        rank = len(size_in)
        lead, size_out = grad.shape[:-rank], grad.shape[-rank:]
        planes = int(np.prod(lead, dtype=np.int64))
        out = np.empty(lead + tuple(size_in), grad.dtype)
        pad = (1,) * (3 - rank)
        _adaptive_pool.adaptive_avg_pool_backward(np.ascontiguousarray(grad).reshape(-1), planes, pad + tuple(size_in),
                                                  pad + tuple(size_out), out.reshape(-1))
        return out

    @staticmethod
    def adaptive_max_pool(x, size_out):
        """(values, int64 flat positions in each plane) of PyTorch's CPU adaptive max pool of
        the (..., [d,] h, w) ``x`` to the trailing sizes ``size_out``."""
        rank = len(size_out)
        lead, size_in = x.shape[:-rank], x.shape[-rank:]
        planes = int(np.prod(lead, dtype=np.int64))
        out = np.empty(lead + tuple(size_out), x.dtype)
        indices = np.empty(lead + tuple(size_out), np.int64)
        pad = (1,) * (3 - rank)
        _adaptive_pool.adaptive_max_pool(np.ascontiguousarray(x).reshape(-1), planes, pad + tuple(size_in),
                                         pad + tuple(size_out), out.reshape(-1), indices.reshape(-1))
        return out, indices

    @staticmethod
    def avg_pool(x, size_out, kernel, stride, padding, count_include_pad, divisor_override, backward=False,
                 size_in=None):
        """PyTorch's CPU average pool of the (..., [d,] h, w) ``x`` to the trailing sizes
        ``size_out`` (window ``kernel``/``stride``/``padding`` per pooled dimension), or with
        ``backward`` the input's gradient (trailing sizes ``size_in``) from the output's ``x``."""
        rank = len(size_out)
        lead = x.shape[:-rank]
        planes = int(np.prod(lead, dtype=np.int64))
        size_in = tuple(x.shape[-rank:]) if size_in is None else tuple(size_in)
        out = np.empty(lead + (size_in if backward else tuple(size_out)), x.dtype)
        pad, one = (1,) * (3 - rank), (0,) * (3 - rank)
        _adaptive_pool.avg_pool(np.ascontiguousarray(x).reshape(-1), planes, pad + size_in, pad + tuple(size_out),
                                pad + tuple(kernel), pad + tuple(stride), one + tuple(padding), bool(count_include_pad),
                                int(divisor_override or 0), out.reshape(-1), bool(backward))
        return out
