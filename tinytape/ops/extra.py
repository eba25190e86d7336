"""More of PyTorch's tensor ops, composed from tinytape's recorded ops (flat gathers,
slices, cat, where, elementwise ops): their gradients, higher derivatives and CUDA path
are those of the ops they are made of.  Where PyTorch names the op's grad_fn differently
from what the composition would record, a small Function (a named flat gather, or a
forward composed with recording off and a backward written in tinytape ops) gives the name.

flip, fliplr, flipud, narrow, masked_select, take, cumprod, logcumsumexp, diff,
count_nonzero, clamp_min, clamp_max, fmod, true_divide, div with rounding_mode, round with
decimals, median, nanmedian, kthvalue, var_mean, std_mean, dist.
"""
import math
import numbers
import types

import numpy as np

from .. import _creation, _dtype
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Function
from . import elementwise as ew
from . import reduction as red
from . import shape as sh
from .from_table import FUNCTIONS as _TABLE
from .from_table import floor_divide, remainder
from .reduction import _return_type
from .shape import TakeFlat
from .statistics import var
from .windows import _check_tensor, _constant


def _host(x):
    return x._backend.to_numpy(x._data)


def _dim_list(dims, ndim, op):
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    wrapped = [_wrap_dim(d, ndim, op) for d in dims]
    for d in wrapped:
        if wrapped.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return wrapped


def _along(d, ndim, index):
    return (slice(None),) * d + (index,) + (slice(None),) * (ndim - d - 1)


# ---------------------------------------------------------------- selections


class Flip(TakeFlat):
    grad_fn_name = "FlipBackward0"


class MaskedSelect(TakeFlat):
    grad_fn_name = "MaskedSelectBackward0"


def flip(input, dims):
    """A copy of ``input`` with the order of its elements along ``dims`` reversed."""
    _check_tensor(input, "flip")
    if isinstance(dims, numbers.Integral):
        raise TypeError("flip(): argument 'dims' (position 2) must be tuple of ints, not int")
    wrapped = _dim_list(dims, max(input.ndim, 1), "flip") if input.ndim else []
    ids = np.arange(input.numel()).reshape(input.shape)
    if wrapped:
        ids = np.flip(ids, wrapped)
    return Flip.apply(input, np.array(ids))


def _flip_method(self, *dims):
    """Tensor.flip(0, 1) or Tensor.flip((0, 1))."""
    return flip(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], numbers.Integral) else dims)


def fliplr(input):
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def narrow(input, dim, start, length):
    """The view of ``length`` elements along ``dim`` from ``start`` (negative counts from the end)."""
    _check_tensor(input, "narrow")
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, input.ndim, "narrow")
    if isinstance(start, Tensor):
        start = int(start.item())
    size, length = input.shape[d], int(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return input[_along(d, input.ndim, slice(start, start + length))]


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` (bool; the two broadcast) is True, as a vector."""
    _check_tensor(input, "masked_select")
    _check_tensor(mask, "masked_select", "mask")
    if mask.dtype is not _dtype.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    ew._check_broadcast(tuple(mask.shape), tuple(input.shape), "masked_select")
    shape = tuple(np.broadcast_shapes(tuple(input.shape), tuple(mask.shape)))
    x = input if tuple(input.shape) == shape else sh.expand(input, shape)
    keep = np.broadcast_to(_host(mask), shape)
    return MaskedSelect.apply(x, np.flatnonzero(keep))


def take(input, index):
    """``input`` read as a vector at ``index`` (negative positions count from the end)."""
    _check_tensor(input, "take")
    _check_tensor(index, "take", "index")
    if index.dtype is not _dtype.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{_PYTORCH_NAMES.get(index.dtype.name, index.dtype.name)}")
    n = input.numel()
    ids = _host(index).astype(np.int64)
    bad = (ids < -n) | (ids >= n)
    if bad.any():
        raise IndexError(f"out of range: tried to access index {int(ids[bad].ravel()[0])} on a tensor of {n} "
                         f"elements.")
    return sh.take_flat(input, np.where(ids < 0, ids + n, ids))


_PYTORCH_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
                  "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool", "int64": "Long"}


# ---------------------------------------------------------------- scans


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
    if not x.dtype.is_floating_point and x.dtype is not _dtype.int64:
        x = ew.to_dtype(x, _dtype.int64)  # integers and bool accumulate in int64, as PyTorch
    return x


class Cumprod(Function):
    """Running products; the gradient is exact where elements are zero (no division):
    d out_j / d x_k = (prod_{i<k} x_i)(prod_{k<i<=j} x_i), so grad_k = E_k R_k with E the
    exclusive running product and R_k = g_k + x_{k+1} R_{k+1} (a reversed affine scan)."""

    grad_fn_name = "CumprodBackward0"

    @staticmethod
    def forward(ctx, x, d):
        ctx.save_for_backward(x)
        ctx.d = d
        return _shifted_scan(x, d, ew.mul)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d, n, nd = ctx.d, x.shape[ctx.d], x.ndim
        if n == 0:
            return g, None
        ones = _creation.ones_like(x[_along(d, nd, slice(0, 1))])
        running = _shifted_scan(x, d, ew.mul)
        before = sh.cat([ones, running[_along(d, nd, slice(0, n - 1))]], d)  # E
        # R read backwards: S_m = h_m + c_m S_{m-1}, h = flip(g), c_m = flip(x)[m - 1] (c_0 unused)
        h, c = flip(g, (d,)), sh.cat([ones, flip(x, (d,))[_along(d, nd, slice(0, n - 1))]], d)
        shift, acc, coef = 1, h, c
        while shift < n:
            keep, rest, prev = (_along(d, nd, slice(0, shift)), _along(d, nd, slice(shift, n)),
                                _along(d, nd, slice(0, n - shift)))
            acc, coef = (sh.cat([acc[keep], acc[rest] + coef[rest] * acc[prev]], d),
                         sh.cat([coef[keep], coef[rest] * coef[prev]], d))
            shift *= 2
        return before * flip(acc, (d,)), None


def cumprod(input, dim, *, dtype=None):
    x = _scan_input(input, dtype, "cumprod")
    if x.ndim == 0:
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
                                  f"'{_PYTORCH_NAMES.get(input.dtype.name, input.dtype.name)}'")
    if input.ndim == 0:
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


def count_nonzero(input, dim=None):
    _check_tensor(input, "count_nonzero")
    return red.sum(ew.to_dtype(ew.ne(input, 0), _dtype.int64), dim)


# ---------------------------------------------------------------- elementwise


class ClampMin(Function):
    """max(x, min); the gradient goes where x >= min (selected, so NaN inputs get 0)."""

    grad_fn_name = "ClampMinBackward0"
    keep = staticmethod(ew.ge)

    @classmethod
    def forward(cls, ctx, x, bound):
        ctx.save_for_backward(x, bound)
        return ew.clamp(x, **{cls.side: bound})

    @classmethod
    def backward(cls, ctx, g):
        x, bound = ctx.saved_tensors
        kept = cls.keep(x, bound)
        grad_bound = ew.where(kept | ew.ne(x, x), 0.0, g) if ctx.needs_input_grad[1] else None
        return ew.where(kept, g, 0.0), grad_bound


ClampMin.side = "min"


class ClampMinTensor(ClampMin):
    grad_fn_name = "ClampMinBackward1"


class ClampMax(ClampMin):
    grad_fn_name = "ClampMaxBackward0"
    keep = staticmethod(ew.le)
    side = "max"


class ClampMaxTensor(ClampMax):
    grad_fn_name = "ClampMaxBackward1"


def _clamp_one_side(input, bound, scalar_cls, tensor_cls):
    _check_tensor(input, f"clamp_{scalar_cls.side}")
    if isinstance(bound, Tensor):
        return tensor_cls.apply(input, bound)
    out = ew.clamp(input, **{scalar_cls.side: bound})  # the dtype PyTorch's promotion gives
    if not out.dtype.is_floating_point or not input.requires_grad:
        return out
    x = input if input.dtype is out.dtype else ew.to_dtype(input, out.dtype)
    return scalar_cls.apply(x, _constant(x, bound).reshape(()))


def clamp_min(input, min):
    return _clamp_one_side(input, min, ClampMin, ClampMinTensor)


def clamp_max(input, max):
    return _clamp_one_side(input, max, ClampMax, ClampMaxTensor)


def _negative(a):
    """Where ``a``'s sign bit is set (-0.0 included)."""
    if not a.dtype.is_floating_point:
        return ew.lt(a, 0)
    return ew.lt(a, 0) | (ew.eq(a, 0) & ew.lt(ew.div(1.0, a), 0))


class Fmod(Function):
    """C's fmod: the remainder of truncated division, with ``a``'s sign; computed exactly
    as |b|'s Python remainder of |a|, signed.  d/da = 1, d/db = -trunc(a / b), PyTorch's."""

    grad_fn_name = "FmodBackward1"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        r = remainder(ew.abs(a), ew.abs(b))
        return ew.where(_negative(a), ew.neg(r), r)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        grad_b = ew.neg(ew.mul(g, _TABLE["trunc"](ew.div(a, b)))) if ctx.needs_input_grad[1] else None
        return g, grad_b


class FmodScalar(Fmod):
    grad_fn_name = "FmodBackward0"


def fmod(input, other):
    a, b = ew.operands(input, other, "fmod")
    if not b.dtype.is_floating_point and bool(ew.eq(b, 0).any()):
        raise RuntimeError("ZeroDivisionError")
    return (Fmod if isinstance(other, Tensor) else FmodScalar).apply(a, b)


class DivRounded(Function):
    """Division rounded to an integer: its gradient is 0 (PyTorch's DivBackward2)."""

    grad_fn_name = "DivBackward2"

    @staticmethod
    def forward(ctx, a, b, mode):
        if mode == "floor":
            return floor_divide(a, b)
        if a.dtype.is_floating_point:
            return _TABLE["trunc"](ew.div(a, b))
        quotient = floor_divide(a, b)  # integers: the floor, moved up where it rounded away from 0
        inexact = ew.ne(remainder(a, b), 0) & ew.ne(ew.lt(a, 0), ew.lt(b, 0))
        return ew.where(inexact, ew.add(quotient, 1), quotient)

    @staticmethod
    def backward(ctx, g):
        zeros = _creation.zeros_like(g)
        return zeros, zeros, None


def div(input, other, *, rounding_mode=None):
    """``input / other``; ``rounding_mode='trunc'`` rounds toward zero, ``'floor'`` down."""
    if rounding_mode is None:
        return ew.div(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    a, b = ew.operands(input, other, "div")
    if not b.dtype.is_floating_point and bool(ew.eq(b, 0).any()):
        raise RuntimeError("ZeroDivisionError")
    return DivRounded.apply(a, b, rounding_mode)


def true_divide(input, other):
    return ew.div(input, other)


class RoundDecimals(Function):
    """Half-to-even rounding at ``decimals`` digits, as PyTorch's kernel: round(x * 10^d) / 10^d
    (for d < 0, round(x / 10^-d) * 10^-d); the gradient is 0."""

    grad_fn_name = "RoundBackward1"

    @staticmethod
    def forward(ctx, x, decimals):
        scale = 10.0 ** abs(decimals)
        if decimals >= 0:
            return ew.div(_TABLE["round"](ew.mul(x, scale)), scale)
        return ew.mul(_TABLE["round"](ew.div(x, scale)), scale)

    @staticmethod
    def backward(ctx, g):
        return _creation.zeros_like(g), None


def round(input, *, decimals=0):  # noqa: A001  (PyTorch's name)
    if decimals == 0:
        return _TABLE["round"](input)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"round_cpu\" not implemented for "
                           f"'{_PYTORCH_NAMES.get(input.dtype.name, input.dtype.name)}'")
    return RoundDecimals.apply(input, int(decimals))


# ---------------------------------------------------------------- order statistics


median_result, nanmedian_result, kthvalue_result = (_return_type("median"), _return_type("nanmedian"),
                                                    _return_type("kthvalue"))


class MedianAll(Function):
    """median() of every element: the lower middle value; its ties (the NaNs, when it is
    NaN) share the gradient evenly, selected (PyTorch's evenly_distribute_backward)."""

    grad_fn_name = "MedianBackward0"

    @staticmethod
    def forward(ctx, x, flat_id):
        out = sh.take_flat(x, flat_id) if flat_id is not None else _constant(x, np.nan, x.dtype).reshape(())
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        hit = ew.eq(x, out) | (ew.ne(x, x) & ew.ne(out, out))
        return ew.where(hit, ew.div(g, red.sum(hit)), 0.0), None


class NanmedianAll(MedianAll):
    grad_fn_name = "NanmedianBackward0"


class MedianDim(TakeFlat):
    grad_fn_name = "MedianBackward1"


class NanmedianDim(TakeFlat):
    grad_fn_name = "NanmedianBackward1"


class Kthvalue(TakeFlat):
    grad_fn_name = "KthvalueBackward0"


def _order_input(input, op):
    _check_tensor(input, op)
    host = _host(input)
    return host.astype(np.int8) if host.dtype == np.bool_ else host


def _median_all(input, ignore_nan):
    op = "nanmedian" if ignore_nan else "median"
    host = _order_input(input, op).reshape(-1)
    nan = np.isnan(host) if host.dtype.kind == "f" else np.zeros(host.shape, bool)
    count = host.size - int(nan.sum()) if ignore_nan else host.size
    if not count or (nan.any() and not ignore_nan):
        flat_id = np.flatnonzero(nan)[:1].reshape(()) if nan.any() else None
    else:
        order = np.argsort(host, kind="stable")  # NaN last
        flat_id = order[(count - 1) // 2].reshape(())
    return (NanmedianAll if ignore_nan else MedianAll).apply(input, flat_id)


def _select_along(input, dim, keepdim, pick, op, cls, result):
    """Values and indices of the element ``pick(sorted_row, nan_row)`` chooses in each row
    along ``dim``; the order is found on the host (stable, NaN as the largest), the values
    gathered on the tape (the gradient goes to the chosen element)."""
    host = _order_input(input, op)
    if input.ndim == 0:
        host, d = host.reshape(1), 0
    else:
        d = _wrap_dim(dim, input.ndim, op)
    if host.shape[d] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")
    order = np.argsort(host, axis=d, kind="stable")
    ranked = np.take_along_axis(host, order, d)
    nan = np.isnan(ranked) if ranked.dtype.kind == "f" else np.zeros(ranked.shape, bool)
    picked = pick(np.moveaxis(nan, d, -1), np.moveaxis(host, d, -1))
    ranks, overrides = picked if isinstance(picked, tuple) else (picked, ())
    index = np.take_along_axis(np.moveaxis(order, d, -1), np.expand_dims(ranks, -1), -1)
    for row, position in overrides:  # a tie PyTorch's selection resolves its own way
        index[row] = position
    index = np.moveaxis(index, -1, d)  # kept dim
    if input.ndim == 0:
        index = index.reshape(())
    elif not keepdim:
        index = np.squeeze(index, d)
    if input.ndim == 0:
        flat = np.zeros((), np.int64)
    else:
        grid = list(np.indices(index.shape))
        if not keepdim:
            grid.insert(d, index)
        else:
            grid[d] = index
        flat = np.ravel_multi_index(tuple(grid), input.shape)
    values = cls.apply(input, np.array(flat))
    return result(values, _creation.tensor(np.array(index).astype(np.int64), device=input.device))


def _lower_middle(ignore_nan):
    def pick(nan, rows):
        n = nan.shape[-1]
        valid = n - nan.sum(-1)
        if ignore_nan:  # the middle of the numbers; an all-NaN row gives its first NaN
            return np.where(valid > 0, (valid - 1) // 2, 0)
        return np.where(valid < n, valid, (n - 1) // 2)  # a NaN in the row: the (first) NaN
    return pick


def median(input, dim=None, keepdim=False):
    """The lower of the two middle values (NaN if there is one); with ``dim``, values and
    indices along it."""
    if dim is None:
        return _median_all(input, ignore_nan=False)
    return _select_along(input, dim, keepdim, _lower_middle(False), "median", MedianDim, median_result)


def nanmedian(input, dim=None, keepdim=False):
    """median() of the numbers that are not NaN."""
    if dim is None:
        return _median_all(input, ignore_nan=True)
    return _select_along(input, dim, keepdim, _lower_middle(True), "nanmedian", NanmedianDim, nanmedian_result)


def _quick_select(row, k):
    """The index PyTorch's CPU kthvalue picks in ``row``: its quick-select (median-of-three
    pivot, NaN the largest), replayed; only rows whose k-th value is tied need it."""
    values, ids = list(row), list(range(len(row)))

    def greater(a, b):
        return (a != a and b == b) or a > b

    def swap(i, j):
        values[i], values[j] = values[j], values[i]
        ids[i], ids[j] = ids[j], ids[i]

    left, right = 0, len(values) - 1
    while right > left:
        if right == left + 1:
            if greater(values[left], values[right]):
                swap(left, right)
            break
        mid = left + (right - left) // 2
        swap(mid, left + 1)
        if greater(values[left + 1], values[right]):
            swap(left + 1, right)
        if greater(values[left], values[right]):
            swap(left, right)
        if greater(values[left + 1], values[left]):
            swap(left + 1, left)
        i, j, pivot = left + 1, right, values[left]
        while True:
            i += 1
            while greater(pivot, values[i]):
                i += 1
            j -= 1
            while greater(values[j], pivot):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(left, j)
        if j <= k:
            left = i
        if j >= k:
            right = j - 1
    return ids[k]


def _kth_picker(k):
    def pick(nan, rows):
        ranks = np.full(nan.shape[:-1], k - 1)
        return ranks, [(r, _quick_select(rows[r], k - 1)) for r in np.ndindex(ranks.shape) if _tied(rows[r], k - 1)]
    return pick


def _tied(row, rank):
    ordered = np.sort(row)  # NaN last, as a tie of NaNs
    value = ordered[rank]
    same = np.isnan(ordered) if value != value else ordered == value
    return int(same.sum()) > 1


def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest value (1-based, NaN the largest) along ``dim``, and its index."""
    size = input.shape[_wrap_dim(dim, input.ndim, "kthvalue")] if input.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension "
                           f"{_wrap_dim(dim, max(input.ndim, 1), 'kthvalue')}")
    return _select_along(input, dim, keepdim, _kth_picker(k), "kthvalue", Kthvalue, kthvalue_result)


# ---------------------------------------------------------------- statistics


class VarMean(Function):
    """(var, mean) over ``dims`` as one entry, PyTorch's var_mean_backward:
    2 / (n - correction) g_var (x - mean) + g_mean / n."""

    grad_fn_name = "VarMeanBackward0"

    @classmethod
    def forward(cls, ctx, x, dims, correction, keepdim):
        spread = var(x, dims or None, keepdim=keepdim, correction=correction)
        if cls is StdMean:
            spread = _TABLE["sqrt"](spread)
        ctx.dims, ctx.correction, ctx.keepdim = dims, correction, keepdim
        ctx.save_for_backward(x, spread)
        return spread, red.mean(x, dims or None, keepdim)

    @classmethod
    def backward(cls, ctx, g_spread, g_mean):
        x, spread = ctx.saved_tensors
        dims, keepdim = ctx.dims, ctx.keepdim
        if cls is StdMean:  # d std = d var / (2 std); 0 where std is 0, PyTorch's choice
            g_spread = ew.where(ew.eq(spread, 0), 0.0, ew.div(g_spread, ew.mul(spread, 2)))
        every = dims or tuple(range(x.ndim))
        n = math.prod(x.shape[d] for d in every)
        free = n - ctx.correction
        scale = 2.0 / free if free else math.inf
        centred = ew.sub(x, red.mean(x, every, True)) if x.ndim else ew.sub(x, x)
        grad = ew.mul(ew.mul(red._expand_back(g_spread, x.shape, dims, keepdim), centred), scale)
        return ew.add(grad, ew.div(red._expand_back(g_mean, x.shape, dims, keepdim), n)), None, None, None


class StdMean(VarMean):
    grad_fn_name = "StdMeanBackward0"


def _spread_mean(cls, input, dim, unbiased, keepdim, correction, op):
    if isinstance(dim, bool):  # var_mean(x, False): the old positional ``unbiased``
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    x = ew._float_input(input, op)
    return cls.apply(x, red._dims(dim, x.ndim, op), correction, keepdim)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over ``dim`` with Bessel's ``correction`` (1 by default)."""
    return _spread_mean(VarMean, input, dim, unbiased, keepdim, correction, "var_mean")


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over ``dim`` with Bessel's ``correction`` (1 by default)."""
    return _spread_mean(StdMean, input, dim, unbiased, keepdim, correction, "std_mean")


class Dist(Function):
    """The ``p``-norm of ``a - b``: the vector norm's forward and backward on the difference,
    its gradient to ``a`` and, negated, to ``b``; ``p = 0`` counts the differing elements."""

    grad_fn_name = "DistBackward0"

    @staticmethod
    def forward(ctx, a, b, p):
        gap = ew.sub(a, b)
        ctx.p = p
        if p == 0:
            return ew.to_dtype(count_nonzero(gap), gap.dtype)
        out = red.Norm.forward(red._UnrecordedCtx(), gap, float(p), (), False)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        if ctx.p == 0:
            return _creation.zeros_like(g), _creation.zeros_like(g), None
        a, b, out = ctx.saved_tensors
        # the norm's own backward, on the difference recomputed here (recorded under
        # create_graph, so second derivatives see how it depends on a and b)
        norm_ctx = types.SimpleNamespace(saved_tensors=(ew.sub(a, b), out), p=float(ctx.p), dims=(), keepdim=False)
        grad = red.Norm.backward(norm_ctx, g)[0]
        return grad, (ew.neg(grad) if ctx.needs_input_grad[1] else None), None


def dist(input, other, p=2):
    """The ``p``-norm of ``input - other`` (broadcast)."""
    _check_tensor(input, "dist")
    _check_tensor(other, "dist", "other")
    a, b = ew.operands(input, other, "dist")
    a, b = ew._float_input(a, "dist"), ew._float_input(b, "dist")
    return Dist.apply(a, b, p)


TORCH_FUNCTIONS = {
    "flip": flip, "fliplr": fliplr, "flipud": flipud, "narrow": narrow, "masked_select": masked_select,
    "take": take, "cumprod": cumprod, "logcumsumexp": logcumsumexp, "diff": diff, "count_nonzero": count_nonzero,
    "clamp_min": clamp_min, "clamp_max": clamp_max, "fmod": fmod, "true_divide": true_divide,
    "median": median, "nanmedian": nanmedian, "kthvalue": kthvalue, "var_mean": var_mean, "std_mean": std_mean,
    "dist": dist,
}
TENSOR_METHODS = {name: fn for name, fn in TORCH_FUNCTIONS.items() if name not in ("var_mean", "std_mean")}
TENSOR_METHODS["flip"] = _flip_method
