"""Scans: cumprod, logcumsumexp, diff, count_nonzero, by doubling shifts of recorded ops
(cumprod and logcumsumexp with PyTorch's backward formulas and grad_fn names)."""
import math

import numpy as np

from .. import _creation, _dtype
from .._tensor import _wrap_dim
from ..autograd.function import Function
from . import elementwise as ew
from . import indexing as ix
from . import reduction as red
from . import shape as sh
from . import statistics as stats
from .from_table import FUNCTIONS as _TABLE
from .selection import _along, flip
from .windows import _check_tensor


def _shifted_scan(x, d, combine):
    """Inclusive scan of ``x`` along ``d`` by doubling shifts (Hillis-Steele): log2(n)
    recorded steps.  Each step combines the suffix with the prefix it is shifted from
    and keeps the first ``shift`` entries as they are (a cat, not a padded product)."""
    n, shift, out = x.shape[d], 1, x
    while shift < n:
        head = out[_along(d, x.ndim, slice(0, shift))]
        tail = combine(out[_along(d, x.ndim, slice(shift, n))], out[_along(d, x.ndim, slice(0, n - shift))])
        out = sh.cat([head, tail], d)
        shift *= 2
    return out if out is not x else sh.clone(x)  # a new tensor, never the input itself


def _scan_input(input, dtype, op):
    _check_tensor(input, op)
    x = input if dtype is None else ew.to_dtype(input, _dtype.as_dtype(dtype))
    if not (x.dtype.is_floating_point or x.dtype.is_complex) and x.dtype is not _dtype.int64:
        x = ew.to_dtype(x, _dtype.int64)  # integers and bool accumulate in int64, as PyTorch
    return x


class Cumprod(Function):
    """Running products, with PyTorch's backward (``cumprod_backward``), term for term, so
    zeros, infinities and nans give its gradients.  With w = out * g and the zeros of x
    counted along ``d``: before the first zero, grad_k = (sum_{j>=k} w_j) / x_k over that
    stretch; at the first zero, grad = (prod_{i<z1} x_i) sum_{z1<=j<z2} g_j prod_{z1<i<=j} x_i
    (z2 the second zero); 0 after it.  A slice without zeros is the first case throughout."""

    grad_fn_name = "CumprodBackward0"

    @staticmethod
    def forward(ctx, x, d):
        out = _shifted_scan(x, d, ew.mul)
        ctx.save_for_backward(x, out)
        ctx.d = d
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        d, n, nd = ctx.d, x.shape[ctx.d], x.ndim
        if x.is_complex():
            raise NotImplementedError("cumprod: the gradient of a complex tensor's running products is not "
                                      "implemented in tinytape")
        if n <= 1:
            return g, None
        zeros = stats.cumsum(ew.eq(x, 0), d)  # zeros so far along d, this element included
        before = ew.eq(zeros, 0)  # [0, z1)
        w = ix.masked_fill(out * g, ~before, 0.0)
        tail = flip(stats.cumsum(flip(w, (d,)), d), (d,))  # sum over j >= k within the stretch
        grad = ew.where(before, tail / ix.masked_fill(x, ~before, 1.0), 0.0)
        first = ew.eq(zeros, 1)  # [z1, z2)
        at_first = first & ew.eq(x, 0)  # z1 itself
        after_first = first & ~at_first  # (z1, z2)
        inside = red.sum(cumprod(ix.masked_fill(x, ~after_first, 1.0), d)
                         * ix.masked_fill(g, ~first, 0.0), d, keepdim=True)
        ones = _creation.ones_like(x[_along(d, nd, slice(0, 1))])
        exclusive = sh.cat([ones, out[_along(d, nd, slice(0, n - 1))]], d)  # prod_{i<k} x_i
        return ew.where(at_first, inside * exclusive, grad), None


def cumprod(input, dim, *, dtype=None):
    x = _scan_input(input, dtype, "cumprod")
    if x.ndim == 0:
        _wrap_dim(dim, 0, "cumprod")  # a 0-d tensor takes dim 0 or -1
        return Cumprod.apply(x.reshape(1), 0).reshape(())
    return Cumprod.apply(x, _wrap_dim(dim, x.ndim, "cumprod"))


def _logaddexp(a, b):
    top, low = ew.maximum(a, b), ew.minimum(a, b)
    infinite = ew.eq(ew.abs(top), math.inf)
    gap = ew.where(infinite, 0.0, ew.sub(low, top))  # never inf - inf, in value or gradient
    return ew.add(top, _TABLE["log1p"](ew.exp(gap)))


_LOWEST = {"float64": float(np.finfo(np.float64).min), "float32": float(np.finfo(np.float32).min),
           "float16": -65504.0, "bfloat16": -3.3895313892515355e38}  # each dtype's lowest finite value


class Logcumsumexp(Function):
    """log(cumsum(exp(x))) along ``d``: a scan of pairwise log-add-exps (exact where values
    differ widely; -inf entries stay -inf).  The backward is PyTorch's: the positive and
    negative parts of g, each a reversed logcumsumexp of log|g| - out, so nothing overflows."""

    grad_fn_name = "LogcumsumexpBackward0"

    @staticmethod
    def forward(ctx, x, d):
        ctx.d = d
        if x.dtype is _dtype.float64:
            out = _shifted_scan(x, d, _logaddexp)
        else:  # PyTorch's CPU kernel accumulates narrower floats in float64, rounding each result once
            out = ew.to_dtype(_shifted_scan(ew.to_dtype(x, _dtype.float64), d, _logaddexp), x.dtype)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        d = ctx.d
        lowest = _LOWEST[x.dtype.name]
        log_g = _TABLE["log"](ew.abs(g))

        def part(selected):
            scanned = flip(logcumsumexp(flip(ew.sub(ew.where(selected, log_g, lowest), out), (d,)), d), (d,))
            return ew.exp(ew.add(scanned, x))
        return ew.sub(part(ew.gt(g, 0)), part(ew.lt(g, 0))), None


def logcumsumexp(input, dim):
    _check_tensor(input, "logcumsumexp")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for "
                                  f"'{_dtype.scalar_type_name(input.dtype)}'")
    if input.ndim == 0:
        _wrap_dim(dim, 0, "logcumsumexp")
        return Logcumsumexp.apply(input.reshape(1), 0).reshape(())
    return Logcumsumexp.apply(input, _wrap_dim(dim, input.ndim, "logcumsumexp"))


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim`` (``prepend``/``append`` joined first)."""
    _check_tensor(input, "diff")
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _wrap_dim(dim, input.ndim, "diff")
    parts = [t for t in (prepend, input, append) if t is not None]
    x = sh.cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        if x.shape[d] == 0:
            break
        later, earlier = x[_along(d, x.ndim, slice(1, None))], x[_along(d, x.ndim, slice(None, -1))]
        x = ew.ne(later, earlier) if x.dtype is _dtype.bool_ else ew.sub(later, earlier)
    return x


def _trapezoid_spacing(y, x, dx, dim, op):
    """(left ends, right ends, the spacing: a number or a tensor broadcasting along ``dim``)."""
    _check_tensor(y, op)
    if x is not None and dx is not None:
        raise TypeError(f"{op}() received an invalid combination of arguments: pass x or dx, not both")
    d = _wrap_dim(dim, y.ndim, op)
    left, right = y[_along(d, y.ndim, slice(None, -1))], y[_along(d, y.ndim, slice(1, None))]
    if x is None:
        return d, left, right, 1 if dx is None else dx
    if x.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise RuntimeError(f"{op}: There must be one `x` value for each sample point")
        step = diff(x).reshape([-1 if k == d else 1 for k in range(y.ndim)])
    else:
        step = diff(x, dim=dim)
    return d, left, right, step


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule along ``dim``, as PyTorch groups it: with a constant spacing
    ``(sum(y) - (y_first + y_last) / 2) * dx``, with sample points ``x`` ``sum(dx * (left + right)) / 2``."""
    if not isinstance(x, type(y)) and x is not None:
        raise TypeError(f"trapezoid() received an invalid combination of arguments - got (Tensor, "
                        f"{type(x).__name__}): x must be a tensor, a constant spacing goes in dx=")
    d, left, right, step = _trapezoid_spacing(y, x, dx, dim, "trapezoid")
    if y.shape[d] == 0:
        return red.sum(y, d)
    if not isinstance(step, type(y)):
        ends = ew.add(y[_along(d, y.ndim, 0)], y[_along(d, y.ndim, -1)])
        return ew.MulByNumber.apply(ew.sub(red.sum(y, d), ew.mul(ends, 0.5)), step)
    return ew.DivByNumber.apply(red.sum(ew.mul(step, ew.add(left, right)), d), 2.0)


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal sums along ``dim`` (one element fewer)."""
    if not isinstance(x, type(y)) and x is not None:
        raise TypeError(f"cumulative_trapezoid() received an invalid combination of arguments - got (Tensor, "
                        f"{type(x).__name__}): x must be a tensor, a constant spacing goes in dx=")
    d, left, right, step = _trapezoid_spacing(y, x, dx, dim, "cumulative_trapezoid")
    if not isinstance(step, type(y)):
        return stats.cumsum(ew.mul(step / 2.0, ew.add(left, right)), d)
    return ew.DivByNumber.apply(stats.cumsum(ew.mul(step, ew.add(left, right)), d), 2.0)


def count_nonzero(input, dim=None):
    _check_tensor(input, "count_nonzero")
    return red.sum(ew.to_dtype(ew.ne(input, 0), _dtype.int64), dim)
