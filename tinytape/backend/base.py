"""The backend contract: the planning every backend shares, written once.

Ops call ``backend.<kernel>(...)`` and never branch on the device.  This class decides
*what* runs: which op codes a kernel serves (an unknown one is a ValueError before any
kernel runs), which elementwise path fits the operands' layout (in place, flat, one
operand a scalar, or strided with broadcasting), how a reduction over several axes
becomes runs of adjacent axes, where an arg-reduction's picks sit, how softmax moves
its axis last.  A device's class (``cpu/backend.py``, ``cuda/backend.py``) supplies
storage, views and the kernel launches: the methods named ``_..._kernel`` below.
"""
import math

import numpy as np

from .._dtype import BFLOAT16
from .layout import adjacent_runs, call_in_order, call_order
from .opcodes import (ABS, ARGREDUCE_CODES, BINARY_CODES, COMPARE_CODES, MAX, POW, REDUCE_CODES, SQRT, SUM, SUMSQ,
                      UNARY_CODES, check)


HALF = np.dtype(np.float16)  # numpy's builtin dtypes are singletons: ``is`` compares them
NARROW = (HALF, BFLOAT16)  # the 16-bit floats every kernel computes in float32


def _broadcast_shape(sa, sb):
    """The shape ``sa`` and ``sb`` broadcast to.  np.broadcast_shapes costs 1.2-1.7 us a
    call (it builds arrays): equal shapes and a 0-d operand (a number) need no call."""
    if sa == sb or not sb:
        return sa
    if not sa:
        return sb
    return tuple(np.broadcast_shapes(sa, sb))


def _window_geometry(geometry, shape, op):
    """The 14 ints of a window geometry, checked against the image's ``shape``."""
    geometry = tuple(int(v) for v in geometry)
    if len(geometry) != 14 or tuple(shape) != geometry[:4] or min(geometry) < 0 or min(geometry[6:8] + geometry[10:12]) < 1:
        raise ValueError(f"{op}: window geometry {geometry} does not fit an image of shape {tuple(shape)}")
    return geometry


class Backend:
    device = None

    def _in_float32(self, method, *args, out=None):
        """numba compiles no float16 arithmetic (on the CPU, and in the simulator) and no
        bfloat16 at all: an entry point given such arrays runs ``method`` on float32
        copies and rounds its floating-point results back to the narrow dtype, as
        PyTorch's CPU kernels compute half precision and bfloat16 in float.  ``out`` (an
        in-place update) receives the rounded result.  Each entry point tests its first
        array's dtype itself (two ``is`` checks): a decorator cost 1.3 us a call."""
        narrow = next(a.dtype for a in args if getattr(a, "dtype", None) in NARROW)
        wide = [self.astype(a, np.float32) if getattr(a, "dtype", None) is narrow else a for a in args]
        result = method(self, *wide)
        rounded = [self.astype(r, narrow) if getattr(r, "dtype", None) == np.float32 else r
                   for r in (result if isinstance(result, tuple) else (result,))]
        result = tuple(rounded) if isinstance(result, tuple) else rounded[0]
        if out is not None:
            self.copy_into(out, result)
            return out
        return result

    def host_compute(self, function, *arrays):
        """``function(*arrays)``, numpy's routine on host arrays: complex numbers and Fourier
        transforms, which the CPU backend computes with numpy; a device backend has none."""
        raise RuntimeError(f"{getattr(function, '__name__', 'this op')}: complex tensors and Fourier transforms are "
                           f"computed on the CPU only in tinytape (a {self.device} tensor given); move it with .cpu()")

    # ---- what a device's class answers about its arrays ----
    def _flat(self, x):
        """Whether ``x`` is a C-contiguous array its kernels can read as a flat buffer."""
        raise NotImplementedError

    def _scalar(self, x):
        """The value of ``x`` when it travels to kernels as a number (else None)."""
        raise NotImplementedError

    def _writable(self, x):
        return True

    def fill(self, x, value):
        """Every element of ``x`` set to the number ``value``."""
        self.copy_into(x, self.scalar(value, x.dtype))

    # ``_pair(a, b, shape)``: the operands as the elementwise kernels take them, where a
    # device must copy one first; None where they take any layout (no call per op)
    _pair = None

    # ---- elementwise ----
    def _in_operands_order(self, name, args, operands):
        """The call's result computed in its operands' memory order where that is not C
        (``layout.call_in_order``), else None: the caller computes it in C order."""
        if any(x.ndim > 1 and not self._flat(x) and any(x.strides) for x in operands):
            order = call_order(name, args)
            if order is not None:
                return call_in_order(self, name, order, args)
        return None

    def unary(self, op, x):
        ordered = self._in_operands_order("unary", (op, x), (x,))
        if ordered is not None:
            return ordered
        if x.dtype is HALF or x.dtype is BFLOAT16:
            return self._in_float32(Backend.unary, op, x)
        check(op, UNARY_CODES, "unary")
        x = self.contiguous(x)
        out = self.empty(x.shape, x.dtype)
        if x.size:
            self._unary_kernel(op, x, out)
        return out

    def binary(self, op, a, b, out=None):
        """``out = a (op) b`` with numpy broadcasting; ``a`` and ``b`` share a dtype.
        ``out``, when given, must have the broadcast shape (it may alias ``a``)."""
        if out is None:
            ordered = self._in_operands_order("binary", (op, a, b), (a, b))
            if ordered is not None:
                return ordered
        dtype = a.dtype
        if dtype is HALF or dtype is BFLOAT16:
            return self._in_float32(Backend.binary, op, a, b, out=out)
        if op not in BINARY_CODES:
            check(op, BINARY_CODES, "binary")
        shape, b_shape = a.shape, b.shape
        if shape != b_shape and b_shape:
            shape = _broadcast_shape(shape, b_shape)
        if self._pair is not None:
            a, b = self._pair(a, b, shape)
            b_shape = b.shape
        scalar_b = self._scalar(b)
        if out is None:
            out = self.empty(shape, dtype)
            if out.size:
                self._elementwise(op, a, b, out, shape, scalar_b, self._binary_kernel, self._binary_scalar_kernel,
                                  self._binary_nd_kernel)
            return out
        if (out is a and self._flat(a) and self._writable(a) and a.shape == shape
                and (scalar_b is not None or b_shape == shape and self._flat(b))):
            if a.size:
                self._binary_inplace_kernel(op, a, b)
            return out
        target = out if self._flat(out) else self.empty(shape, dtype)
        if target.size:
            self._elementwise(op, a, b, target, shape, scalar_b, self._binary_kernel, self._binary_scalar_kernel,
                              self._binary_nd_kernel)
        if target is not out:
            self.copy_into(out, target)
        return out

    def compare(self, op, a, b):
        ordered = self._in_operands_order("compare", (op, a, b), (a, b))
        if ordered is not None:
            return ordered
        if a.dtype is HALF or a.dtype is BFLOAT16:
            return self._in_float32(Backend.compare, op, a, b)
        if op not in COMPARE_CODES:
            check(op, COMPARE_CODES, "compare")
        shape = _broadcast_shape(a.shape, b.shape)
        if self._pair is not None:
            a, b = self._pair(a, b, shape)
        out = self.empty(shape, np.bool_)
        if out.size:
            self._elementwise(op, a, b, out, shape, self._scalar(b), self._compare_kernel,
                              self._compare_scalar_kernel, self._compare_nd_kernel)
        return out

    def _elementwise(self, op, a, b, out, shape, scalar_b, flat_kernel, scalar_kernel, nd_kernel):
        """The fast path that fits: a flat operand with a number (``scalar_b``, the
        ``lr * grad`` case, 4x faster than the strided kernel), two flat operands of one
        shape, else strided."""
        flat_a = a.shape == shape and self._flat(a)
        if flat_a and scalar_b is not None:
            scalar_kernel(op, a, scalar_b, out, False)
            return
        if b.shape == shape and self._flat(b):
            if flat_a:
                flat_kernel(op, a, b, out)
                return
            scalar_a = self._scalar(a)
            if scalar_a is not None:
                scalar_kernel(op, b, scalar_a, out, True)
                return
        nd_kernel(op, a, b, out, shape)

    def where(self, cond, a, b):
        ordered = self._in_operands_order("where", (cond, a, b), (cond, a, b))
        if ordered is not None:
            return ordered
        if a.dtype is HALF or a.dtype is BFLOAT16:
            return self._in_float32(Backend.where, cond, a, b)
        shape = tuple(np.broadcast_shapes(cond.shape, a.shape, b.shape))
        out = self.empty(shape, a.dtype)
        if out.size:
            self._where_kernel(cond, a, b, out, shape)
        return out

    def fma(self, a, b, c, out=None):
        """``a * b + c`` rounded once (PyTorch's CPU kernels fuse ``add`` with ``alpha``,
        ``addcmul`` and ``lerp`` so), numpy broadcasting, one float dtype.  ``out``, when
        given, has the broadcast shape and may be ``a`` or ``c`` (an in-place update)."""
        if out is None:
            ordered = self._in_operands_order("fma", (a, b, c), (a, b, c))
            if ordered is not None:
                return ordered
        if a.dtype is HALF or a.dtype is BFLOAT16:
            return self._in_float32(Backend.fma, a, b, c, out=out)
        if not (a.dtype == b.dtype == c.dtype) or a.dtype.kind != "f":
            raise TypeError(f"fma: expected three operands of one float dtype, got {a.dtype}, {b.dtype}, {c.dtype}")
        shape = tuple(np.broadcast_shapes(a.shape, b.shape, c.shape))
        # each operand flat, of the result's size or of one element (a number); else a copy
        flat = [x if (x.size == 1 or x.shape == shape) and self._flat(x) else self.contiguous(self.broadcast_to(x, shape))
                for x in (a, b, c)]
        target = out if out is not None and out.shape == shape and self._flat(out) else self.empty(shape, a.dtype)
        if target.size:
            self._fma_kernel(*flat, target)
        if out is not None and target is not out:
            self.copy_into(out, target)
            return out
        return target

    # ---- reductions ----
    def reduce(self, op, x, dims, keepdim):
        """Reduce ``x`` over the sorted axes ``dims`` (all axes when empty)."""
        if x.dtype is HALF or x.dtype is BFLOAT16:
            return self._in_float32(Backend.reduce, op, x, dims, keepdim)
        if op not in REDUCE_CODES:
            check(op, REDUCE_CODES, "reduce")
        result = self.contiguous(x)
        if x.size and (not dims or len(dims) == x.ndim):  # every axis (a loss): one run over the buffer
            out = self.empty((1,) * x.ndim if keepdim else (), x.dtype)
            self._reduce_kernel(op, result, 1, x.size, 1, out)
            return out
        dims = tuple(range(x.ndim)) if not dims else dims
        # each run of adjacent axes is the middle axis of an (outer, n, inner) view: no copy
        for lo, hi in reversed(adjacent_runs(dims)):
            shape = result.shape
            outer, n, inner = math.prod(shape[:lo]), math.prod(shape[lo:hi + 1]), math.prod(shape[hi + 1:])
            out = self.empty(shape[:lo] + (1,) * (hi - lo + 1) + shape[hi + 1:], x.dtype)
            if outer * inner and n == 0:
                if op in ARGREDUCE_CODES:  # the kernels would read element 0 of nothing
                    raise RuntimeError(f"reduce: max/min over an empty axis (shape {list(x.shape)}) has no identity")
                self.copy_into(out, self.scalar(0, x.dtype))  # the empty sum
            elif outer * inner:
                self._reduce_kernel(op, result, outer, n, inner, out)
            result = out
            if op == SUMSQ:  # later runs add up the squares the first one summed
                op = SUM
        if not keepdim:
            result = self.reshape(result, tuple(s for i, s in enumerate(result.shape) if i not in dims))
        return result

    def vector_norm(self, x, p, dims, keepdim):
        """The ``p``-norm (p > 0) of ``x`` over ``dims`` (empty: all): here composed of the
        backend's own reductions (the sum of squares in its ``SUMSQ``); the CPU backend's
        is PyTorch's kernel (``cpu/vector_norm.py``)."""
        if p == 2:
            return self.unary(SQRT, self.reduce(SUMSQ, x, dims, keepdim))
        if p == math.inf:
            return self.reduce(MAX, self.unary(ABS, x), dims, keepdim)
        if p == 1:
            return self.reduce(SUM, self.unary(ABS, x), dims, keepdim)
        powered = self.binary(POW, self.unary(ABS, x), self.scalar(p, x.dtype))
        return self.binary(POW, self.reduce(SUM, powered, dims, keepdim), self.scalar(1.0 / p, x.dtype))

    def nll_sum(self, values, valid):
        """The 0-d sum of the 1-D ``values`` over the rows where the bool ``valid`` is
        set, in ``nll_loss``'s order where the backend has one (the CPU's: PyTorch's
        cascade); here a plain sum of the valid rows."""
        return self.reduce(SUM, self.where(valid, values, self.scalar(0, values.dtype)), (), False)

    def argreduce(self, op, x, dim, keepdim):
        """(values, int64 indices) of the max/min of ``x`` along ``dim``."""
        if x.dtype is HALF or x.dtype is BFLOAT16:
            return self._in_float32(Backend.argreduce, op, x, dim, keepdim)
        check(op, ARGREDUCE_CODES, "argreduce")
        x = self.contiguous(x)
        shape = x.shape
        outer, n, inner = math.prod(shape[:dim]), shape[dim], math.prod(shape[dim + 1:])
        if n == 0 and outer * inner:
            raise RuntimeError(f"argreduce: max/min along an empty dimension {dim} (shape {list(shape)})")
        kept = shape[:dim] + (1,) + shape[dim + 1:]
        values, indices = self.empty(kept, x.dtype), self.empty(kept, np.int64)
        if outer * inner:
            self._argreduce_kernel(op, x, outer, n, inner, values, indices)
        if not keepdim:
            dropped = shape[:dim] + shape[dim + 1:]
            values, indices = self.reshape(values, dropped), self.reshape(indices, dropped)
        return values, indices

    def flat_positions(self, indices, shape, dim, keepdim):
        """Flat positions (host int64) in an array of ``shape`` of the elements that
        ``indices`` (from ``argreduce`` along ``dim``) picked."""
        idx = self.to_numpy(indices)
        idx = idx if keepdim else np.expand_dims(idx, dim)
        return np.take_along_axis(np.arange(math.prod(shape)).reshape(shape), idx, dim)

    def cumsum(self, x, dim, exact=False):
        """Running sums along ``dim`` in PyTorch's accumulator: float64 for float32 and
        float64, the dtype itself with ``exact`` (int64; float32 for float16 and bfloat16)."""
        if x.dtype is HALF or x.dtype is BFLOAT16:
            return self._in_float32(Backend.cumsum, x, dim, True)
        return self._along_rows(x, dim, self._cumsum_kernel, exact or x.dtype.kind != "f")

    def _along_rows(self, x, dim, kernel, *args):
        """``kernel(rows, out, n_rows, n_cols, *args)`` over ``x`` with ``dim`` moved last and
        made contiguous, a kernel row per line along ``dim``; the output moved back, contiguous
        as PyTorch's."""
        dims = [d for d in range(x.ndim) if d != dim] + [dim]
        moved = self.contiguous(self.permute(x, dims))
        cols = moved.shape[-1] if moved.ndim else 1
        rows = moved.size // max(cols, 1)
        out = self.empty(moved.shape, x.dtype)
        if rows:
            kernel(moved, out, rows, cols, *args)
        if dim == x.ndim - 1 or x.ndim < 2:
            return out
        return self.contiguous(self.permute(out, sorted(range(len(dims)), key=dims.__getitem__)))

    # ---- nn ----
    def softmax(self, x, dim, log=False):
        """softmax (or log_softmax) along ``dim``: that axis moved last and made
        contiguous, one row per kernel row, moved back as a view."""
        if x.dtype is HALF or x.dtype is BFLOAT16:
            return self._in_float32(Backend.softmax, x, dim, log)
        return self._along_rows(x, dim, self._softmax_kernel, log)

    # ---- indexing: flat int64 positions, checked by the kernels that follow them ----
    def gather(self, x, index):
        """The elements of ``x`` at the flat positions ``index``, shaped as ``index``."""
        if x.dtype is HALF or x.dtype is BFLOAT16:
            return self._in_float32(Backend.gather, x, index)
        return self._gather_kernel(x, index)

    def scatter_add(self, shape, index, src):
        """Zeros of ``shape`` with each element of ``src`` added at its flat position in ``index``."""
        if src.dtype is HALF or src.dtype is BFLOAT16:
            return self._in_float32(Backend.scatter_add, shape, index, src)
        if np.size(index) != src.size:
            raise ValueError(f"scatter_add: {np.size(index)} indices for {src.size} values")
        return self._scatter_add_kernel(shape, index, src)

    def positions(self, base, index, where, stride, size, wrap, error):
        """Flat positions from an index tensor's values, with no host read:
        ``base[i] + k * stride`` for ``k = index.flat[where[i]]`` (``base`` and ``where``
        int64 of the result's shape, planned on the host from shapes alone).  A ``k``
        outside ``[-size, size)`` (``wrap``) or ``[0, size)`` raises the op's error,
        ``error = (runtime_error, prefix, suffix)`` around the offending value (``suffix``
        None: the prefix alone, for words that name no value)."""
        return self._positions_kernel(base, index, where, stride, size, wrap, error)

    # ---- windows: the rows of convolution and pooling (see cpu/windows.py) ----
    def im2col(self, x, geometry, fill=0.0):
        """The windows of the (n, c, h, w) array ``x`` as the columns of a
        (c * kh * kw, n * oh * ow) array, ``fill`` where they reach into the padding."""
        if x.dtype is HALF or x.dtype is BFLOAT16:
            return self._in_float32(Backend.im2col, x, geometry, fill)
        geometry = _window_geometry(geometry, x.shape, "im2col")
        return self._im2col_kernel(x, geometry, float(fill))

    def col2im(self, cols, geometry):
        """im2col's adjoint: an (n, c, h, w) array with every element of ``cols`` added at
        the input position it was read from (padding positions dropped)."""
        if cols.dtype is HALF or cols.dtype is BFLOAT16:
            return self._in_float32(Backend.col2im, cols, geometry)
        n, c, h, w = geometry[:4]
        geometry = _window_geometry(geometry, (n, c, h, w), "col2im")
        rows, columns = c * geometry[4] * geometry[5], n * geometry[12] * geometry[13]
        if tuple(cols.shape) != (rows, columns):
            raise ValueError(f"col2im: columns of shape {tuple(cols.shape)} for windows of shape {(rows, columns)}")
        return self._col2im_kernel(cols, geometry)

    # ---- bounds: checked before any kernel that indexes memory with them ----
    @staticmethod
    def _check_indices(index, size, op):
        """IndexError unless every (host, integer) index lies in [0, size)."""
        index = np.asarray(index)
        if index.size and (index.min() < 0 or index.max() >= size):
            bad = index[(index < 0) | (index >= size)].reshape(-1)[0]
            raise IndexError(f"{op}: index {int(bad)} is out of bounds for {size} elements")
