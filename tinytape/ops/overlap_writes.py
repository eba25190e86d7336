"""Writes into a tensor whose elements repeat memory (an ``expand``ed view), as PyTorch makes
them.  Most in-place ops refuse such a tensor; ``masked_fill_``, ``index_put_`` (and advanced
``x[index] = v``) and ``index_fill_`` warn that the use is deprecated and write element by
element in index order, so the last write to a memory location wins (``accumulate=True``
adds each one); ``tril_``/``triu_`` write their zeros the same way, without a warning."""
import warnings

import numpy as np

from .. import _dtype
from .._grad_mode import _state
from .._tensor import Tensor
from .._memory import writable_alias, repeats_elements
from .._mirror_views import MIRRORED, after_write
from ..backend.cpu import cpu as _CPU

_DEPRECATED = ("Use of {op} on expanded tensors is deprecated. Please clone() the tensor before performing this "
               "operation. This also applies to advanced indexing e.g. tensor[{index}] = {value}")
_EXAMPLES = {"masked_fill_": ("mask", "scalar"), "index_put_": ("indices", "tensor"), "index_fill_": ("mask", "scalar")}


def repeats(x):
    """Whether ``x`` (untracked, on the CPU) is an expanded view whose elements repeat memory:
    the tensors these writes are for."""
    data = x._data
    return (x._backend is _CPU and x._view is not None and data.size > 0 and repeats_elements(data)
            and not (_state.enabled and x._requires_grad))


def warn_deprecated(op):
    index, value = _EXAMPLES[op]
    warnings.warn(_DEPRECATED.format(op=op, index=index, value=value), UserWarning, stacklevel=4)


def positions_of(x, index):
    """The row-major positions in ``x`` that ``x[index]`` selects, in the order it selects them."""
    from .indexing import getitem
    ids = Tensor._make(np.arange(x.numel(), dtype=np.int64).reshape(tuple(x.shape)), backend=x._backend)
    return np.asarray(getitem(ids, index)._data).reshape(-1)


def write_at(x, positions, values, accumulate=False):
    """Write ``values[k]`` at row-major position ``positions[k]`` of ``x``, in order (added with
    ``accumulate``); memory that repeats takes the last write (or every addition)."""
    target = x._data if x._data.flags.writeable else writable_alias(x._data)  # (as_strided: writeable)
    where = np.unravel_index(np.asarray(positions, np.int64), x._data.shape)
    values = np.asarray(values, x._data.dtype)
    if accumulate:
        np.add.at(target, where, values)
    else:
        for k in range(len(positions)):  # one by one: numpy does not promise an order to fancy writes
            target[tuple(w[k] for w in where)] = values[k]
    x._version_counter[0] += 1
    if MIRRORED:  # (conjugate/negative views of this memory follow)
        after_write(x)
    return x


def write_result(x, result, positions):
    """The elements of ``result`` (``x`` as the op leaves it when nothing repeats) at ``positions``."""
    return write_at(x, positions, np.asarray(result._data).reshape(-1)[positions])


def dispatches_to_masked_fill(x, index, value):
    """PyTorch's canDispatchToMaskedFill: one bool (or byte) mask among the advanced indices and a
    one-element value — ``index_put_`` then runs ``masked_fill_`` (which casts the value)."""
    items = index if isinstance(index, tuple) else (index,)
    advanced = [i for i in items if isinstance(i, (Tensor, list, np.ndarray, bool))]
    if len(advanced) != 1 or not isinstance(advanced[0], Tensor) or advanced[0].dtype.name not in ("bool", "uint8"):
        return False
    return not isinstance(value, Tensor) or value.numel() == 1


def check_index_put_dtypes(x, index, value):
    """``index_put_`` takes a tensor value of the destination's dtype only (as PyTorch's), unless it
    dispatches to ``masked_fill_``."""
    if isinstance(value, Tensor) and value.dtype is not x.dtype and not dispatches_to_masked_fill(x, index, value):
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_dtype.scalar_type_name(x.dtype)} for the destination and "
                           f"{_dtype.scalar_type_name(value.dtype)} for the source.")


def setitem_into_repeats(x, index, value):
    """``x[index] = value`` (an advanced index) on an expanded ``x``."""
    warn_deprecated("index_put_")
    if dispatches_to_masked_fill(x, index, value):
        warn_deprecated("masked_fill_")
    check_index_put_dtypes(x, index, value)
    result = x.clone()
    result[index] = value  # PyTorch's refusals, and the values each position takes
    return write_result(x, result, positions_of(x, index))


def masked_fill_into_repeats(x, mask, value, fill):
    warn_deprecated("masked_fill_")
    result = fill(x, mask, value)
    keep = np.broadcast_to(np.asarray(mask._backend.to_numpy(mask._data), bool), tuple(x.shape))
    return write_result(x, result, np.flatnonzero(keep))


def index_fill_into_repeats(x, dim, index, value, fill):
    warn_deprecated("index_fill_")
    result = fill(x, dim, index, value)
    ids = Tensor._make(np.arange(x.numel(), dtype=np.int64).reshape(tuple(x.shape)), backend=x._backend)
    return write_result(x, result, np.asarray(ids.index_select(dim, index)._data).reshape(-1))


def triangle_into_repeats(x, diagonal, lower):
    """``tril_``/``triu_``: zeros written where the triangle ends, row by row."""
    rows, cols = x.shape[-2], x.shape[-1]
    kept = np.tril(np.ones((rows, cols), bool), diagonal) if lower else np.triu(np.ones((rows, cols), bool), diagonal)
    cleared = np.flatnonzero(np.broadcast_to(~kept, tuple(x.shape)))
    return write_at(x, cleared, np.zeros(len(cleared)))
