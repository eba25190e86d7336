"""Selections PyTorch has beyond indexing: flip, fliplr, flipud, narrow, masked_select,
take; each a named flat gather, so its gradient is a scatter."""
import numbers

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap_dim
from . import elementwise as ew
from . import shape as sh
from ..backend.layout import elementwise_order
from .shape import TakeFlat, TakeInLayout
from .windows import _check_tensor


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


class Flip(TakeInLayout):  # (laid out as its input)
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
    order = elementwise_order(input._data.shape, (input._data,)) if input.ndim > 1 else None
    if order is not None:  # PyTorch's flip keeps its input's memory order
        ids = np.transpose(ids, order)
    return Flip.apply(input, np.array(ids), order)


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
                           f"{_dtype.scalar_type_name(index.dtype)}")
    n = input.numel()
    ids = _host(index).astype(np.int64)
    bad = (ids < -n) | (ids >= n)
    if bad.any():
        raise IndexError(f"out of range: tried to access index {int(ids[bad].ravel()[0])} on a tensor of {n} "
                         f"elements.")
    return sh.take_flat(input, np.where(ids < 0, ids + n, ids))


