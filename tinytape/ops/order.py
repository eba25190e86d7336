"""Order statistics: median, nanmedian, kthvalue (indices chosen on the host, as sort and
topk; ties resolved as PyTorch resolves them), gradients to the chosen elements."""

import numpy as np

from .. import _creation
from .._tensor import _wrap_dim
from ..autograd.function import Function
from . import dtype_rules
from . import elementwise as ew
from . import reduction as red
from . import shape as sh
from .reduction import _return_type, keepdim_needs_dim
from .shape import TakeFlat
from .windows import _check_tensor, _constant
from .selection import _host


mode_result = _return_type("mode")
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


class Mode(TakeFlat):
    grad_fn_name = "ModeBackward0"


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


@keepdim_needs_dim(dim_may_be_none=False)
def median(input, dim=None, keepdim=False):
    """The lower of the two middle values (NaN if there is one); with ``dim``, values and
    indices along it."""
    dtype_rules.check("median", input.dtype)
    if dim is None:
        return _median_all(input, ignore_nan=False)
    return _select_along(input, dim, keepdim, _lower_middle(False), "median", MedianDim, median_result)


@keepdim_needs_dim(dim_may_be_none=False)
def nanmedian(input, dim=None, keepdim=False):
    """median() of the numbers that are not NaN."""
    dtype_rules.check("nanmedian", input.dtype)
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
    dtype_rules.check("kthvalue", input.dtype)
    size = input.shape[_wrap_dim(dim, input.ndim, "kthvalue")] if input.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension "
                           f"{_wrap_dim(dim, max(input.ndim, 1), 'kthvalue')}")
    return _select_along(input, dim, keepdim, _kth_picker(k), "kthvalue", Kthvalue, kthvalue_result)


def _mode_picker(nan, rows):
    """The most frequent value's last place in the sorted row: the smallest value among the
    most frequent ones, its last occurrence (a stable sort keeps occurrences in order); NaNs
    are never equal, so each counts once."""
    ranks = np.zeros(rows.shape[:-1], np.int64)
    for r in np.ndindex(ranks.shape):
        ordered = np.sort(rows[r], kind="stable")
        best, best_count, start = 0, 0, 0
        for i in range(1, len(ordered) + 1):
            if i == len(ordered) or not ordered[i] == ordered[i - 1]:
                if i - start > best_count:
                    best, best_count = i - 1, i - start
                start = i
        ranks[r] = best
    return ranks


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest of ties) and its last index, as PyTorch."""
    return _select_along(input, dim, keepdim, _mode_picker, "mode", Mode, mode_result)
