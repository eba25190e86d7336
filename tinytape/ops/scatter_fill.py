"""Fills and scatters built from recorded ops: ``index_fill``, ``masked_scatter``,
``scatter_reduce``, ``index_reduce`` (with their in-place forms) and ``argwhere``."""

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap_dim
from . import elementwise as ew
from . import shape as sh
from .composite_entry import composite_op
from .sampling import nonzero
from .windows import _check_tensor, _constant


def _index_mask(input, dim, index, op):
    _check_tensor(index, op, "index")
    if index.dtype is not _dtype.int64:  # PyTorch's words, which name the in-place form
        raise IndexError(f"{op}_(): Expected dtype int64 for index.")
    if index.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    d = _wrap_dim(dim, input.ndim, op)
    n = input.shape[d] if input.ndim else 1
    ids = index.cpu().numpy().reshape(-1)
    if ((ids < -n) | (ids >= n)).any():
        bad = int(ids[(ids < -n) | (ids >= n)][0])
        raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {n}")
    along = np.zeros(n, bool)
    along[ids % n if n else ids] = True
    shape = [1] * input.ndim
    if input.ndim:
        shape[d] = n
    return _constant(input, np.broadcast_to(along.reshape(shape), tuple(input.shape)).copy(), _dtype.bool_)


def index_fill(input, dim, index, value):
    """``input`` with the slices at ``index`` along ``dim`` set to ``value``."""
    _check_tensor(input, "index_fill", "self")
    mask = _index_mask(input, dim, index, "index_fill")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        return composite_op("IndexFillBackward1",
                            lambda x, v: ew.where(mask, ew.to_dtype(v, x.dtype), x), input, value)
    return composite_op("IndexFillBackward0", lambda x: ew.where(mask, _constant(x, np.asarray(value), x.dtype), x),
                        input)


def index_fill_(self, dim, index, value):
    from . import overlap_writes
    if overlap_writes.repeats(self):
        return overlap_writes.index_fill_into_repeats(self, dim, index, value, index_fill)
    return self._inplace("index_fill_", index_fill, dim, index, value)


def masked_scatter(input, mask, source):
    """``input`` with the elements where ``mask`` (broadcast) is True taken, in order, from
    ``source``'s first elements."""
    _check_tensor(input, "masked_scatter", "self")
    _check_tensor(mask, "masked_scatter", "mask")
    _check_tensor(source, "masked_scatter", "source")
    if mask.dtype is not _dtype.bool_:
        raise RuntimeError(f"masked_scatter_: expected BoolTensor for mask, got {mask.dtype}")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got "
                           f"{input.dtype} and {source.dtype}")
    shape = np.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    picks = np.broadcast_to(mask.cpu().numpy(), shape).reshape(-1)
    count = int(picks.sum())
    if count > source.numel():
        raise RuntimeError(f"masked_scatter: expected source to have at least {count} elements, got {source.numel()}")
    keep = _constant(input, ~picks.reshape(shape), _dtype.bool_)
    targets = np.nonzero(picks)[0]

    def compute(x, src):
        placed = sh.scatter_flat(sh.take_flat(src, np.arange(count)), targets, shape)
        return ew.where(keep, x, placed)
    return composite_op("MaskedScatterBackward0", compute, input, source)


def masked_scatter_(self, mask, source):
    return self._inplace("masked_scatter_", masked_scatter, mask, source)


_SCATTER_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """``input`` with ``src``'s elements reduced (sum, prod, mean, amax, amin) into the
    positions ``index`` names along ``dim``."""
    from .scatter import _scatter_ids
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # accepted by PyTorch as the same
    if reduce not in _SCATTER_REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    _check_tensor(src, "scatter_reduce", "src")
    if src.dtype is not input.dtype:
        raise RuntimeError(f"scatter_reduce(): Expected self.dtype to be equal to src.dtype "
                           f"({input.dtype} and {src.dtype})")
    targets = _scatter_ids(input, dim, index, "scatter_reduce")
    src_ids = (np.ravel_multi_index(np.unravel_index(np.arange(len(targets)), tuple(index.shape)), tuple(src.shape))
               if src.ndim else np.zeros(len(targets), np.int64))
    size = max(input.numel(), 1)
    touched = np.zeros(size, bool)
    touched[targets] = True
    hits = np.bincount(targets, minlength=size)
    order = np.argsort(targets, kind="stable")  # the sources of each target, in order
    rank = np.empty(len(targets), np.int64)  # how many sources of its target come before each
    rank[order] = np.arange(len(targets)) - np.searchsorted(targets[order], targets[order], side="left")
    ranks = int(rank.max()) + 1 if len(rank) else 0
    flat_shape = (size,)

    def compute(x, s):
        flat = sh.reshape(x, flat_shape)
        values = sh.take_flat(s, src_ids)
        own = _constant(x, touched, _dtype.bool_)
        if reduce in ("sum", "mean"):
            total = sh.scatter_flat(values, targets, flat_shape)
            if include_self:
                total = ew.add(flat, total)
            if reduce == "mean":
                count = hits + (1 if include_self else 0)
                divisor = _constant(x, np.maximum(count, 1), x.dtype)
                total = (ew.div(total, divisor) if x.dtype.is_floating_point
                         else ew.div(total, divisor, rounding_mode="floor"))  # integers: floored, as PyTorch
            out = ew.where(own, total, flat)
        else:  # fold in the sources of every target one rank (first, second, ...) at a time
            combine = {"prod": ew.mul, "amax": ew.maximum, "amin": ew.minimum}[reduce]
            out = flat
            for k in range(ranks):
                pick = np.nonzero(rank == k)[0]
                hit = np.zeros(size, bool)
                hit[targets[pick]] = True
                vals = sh.scatter_flat(sh.take_flat(values, pick), targets[pick], flat_shape)
                first = k == 0 and not include_self  # without the element, a first source stands alone
                out = ew.where(_constant(x, hit, _dtype.bool_), vals if first else combine(out, vals), out)
        return sh.reshape(out, tuple(x.shape))
    return composite_op("ScatterReduceBackward0", compute, input, src)


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    return self._inplace("scatter_reduce_", lambda x, *a: scatter_reduce(x, *a, include_self=include_self),
                         dim, index, src, reduce)


_INDEX_REDUCE_WARNED = False


def index_reduce(input, dim, index, source, reduce, *, include_self=True, _op="index_reduce"):
    """``input`` with the slices of ``source`` along ``dim`` reduced (prod, mean, amax, amin)
    into the slices ``index`` names: ``scatter_reduce`` with ``index`` spread over ``source``."""
    global _INDEX_REDUCE_WARNED
    if not _INDEX_REDUCE_WARNED:  # PyTorch's TORCH_WARN_ONCE
        _INDEX_REDUCE_WARNED = True
        import warnings
        from .._creation import _user_stacklevel
        warnings.warn("index_reduce() is in beta and the API may change at any time.", UserWarning,
                      stacklevel=_user_stacklevel())
    _check_tensor(index, _op, "index")
    _check_tensor(source, _op, "source")
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    if index.ndim > 1:
        raise IndexError(f"index_reduce_(): Index is supposed to be a vector, but got dim: {index.ndim} with type: "
                         f"{_dtype.scalar_type_name(index.dtype)} and size: {list(index.shape)}")
    if index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"index_reduce_(): Expected dtype int32/int64 for index but got: "
                           f"{_dtype.scalar_type_name(index.dtype)}")
    d = _wrap_dim(dim, max(input.ndim, 1), _op)
    along = source.shape[d] if source.ndim else 1
    if index.numel() != along:
        raise RuntimeError(f"index_reduce_(): Number of indices ({index.numel()}) should be equal to "
                           f"source.size(dim): ({along}), for dim: {dim}")
    ids = index.cpu().numpy().reshape(-1).astype(np.int64)
    n = input.shape[d] if input.ndim else 1
    if ((ids < 0) | (ids >= n)).any():
        raise IndexError("index out of range in self")
    shape = [1] * source.ndim
    if source.ndim:
        shape[d] = along
    spread = np.broadcast_to(ids.reshape(shape), tuple(source.shape)).copy()
    idx = _constant(source, spread, _dtype.int64)
    return composite_op("IndexReduceBackward0",
                        lambda x, s: scatter_reduce(x, d, idx, s, reduce, include_self=include_self), input, source)


def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    return self._inplace("index_reduce_", lambda x, *a: index_reduce(x, *a, include_self=include_self,
                                                                     _op="index_reduce_"),
                         dim, index, source, reduce)


def argwhere(input):
    _check_tensor(input, "argwhere", "input")
    return nonzero(input)
