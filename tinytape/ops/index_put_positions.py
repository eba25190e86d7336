"""``x[index] = value`` for an index holding integer tensors, with the positions it writes
computed on the backend (``_tensor_positions``: each tensor's values times its dim's
stride, checked against the dim's size in the kernel), so a compiled step writes where
each replay's indices say, with no host read.  Eagerly the numpy assignment of
``indexing.setitem`` writes the same elements (a position named twice takes the last
value, in both)."""
import numpy as np

from .._grad_mode import _state
from .._mirror_views import MIRRORED, after_write
from .._tensor import Tensor
from . import elementwise as ew
from . import overlap_writes
from .index_messages import _show
from .index_order import _torch_order
from .shape import broadcast


def put_at_positions(x, index, value, positions, copy_slices):
    """``x[index] = value`` through the flat ``positions`` (``_tensor_positions``; recorded by
    autograd as ``copy_slices``, the ``CopySlices`` entry) when
    ``index`` (normalized, its tensors kept) holds integer tensors and nothing read on the
    host; False where it does not apply (the caller's numpy assignment then runs)."""
    if not any(isinstance(i, Tensor) for i in index) or any(isinstance(i, (np.ndarray, bool)) for i in index) \
            or _torch_order(index) is not None or overlap_writes.repeats(x):
        return False
    if not isinstance(x._data, np.ndarray) or not x._data.flags.c_contiguous or not x._data.flags.writeable:
        return False
    overlap_writes.check_index_put_dtypes(x, index, value)
    value = value_of(x, value)
    ids = positions(x, index)
    value = shaped_as(value, ids, x, index)
    if _state.enabled and (x._requires_grad or value._requires_grad):
        x._inplace("setitem", lambda base, ids, value: copy_slices.apply(base, ids, value), ids, value)
        return True
    x._check_inplace("setitem")
    x._backend.setitem(x._data.reshape(-1), ids.reshape(-1), x._backend.contiguous(value._data).reshape(-1))
    x._version_counter[0] += 1
    if MIRRORED:  # (conjugate/negative views of this memory follow)
        after_write(x)
    return True


def value_of(x, value):
    """What ``x[index] = value`` writes: a tensor of ``x``'s dtype."""
    if not isinstance(value, Tensor):
        return Tensor._make(x._backend.scalar(value, x._data.dtype), backend=x._backend)
    return value if value.dtype is x.dtype else ew.to_dtype(value, x.dtype)


def shaped_as(value, ids, x, index):
    """``value`` broadcast to the positions ``ids`` the index selects (numpy's rule: its
    leading size-1 dims drop out first); PyTorch's RuntimeError where it can't be."""
    while value.ndim > ids.ndim and value.shape[0] == 1:
        value = value.squeeze(0)
    try:
        return broadcast(value, ids.shape)
    except RuntimeError:
        raise RuntimeError(f"setitem: can't assign a value of shape {list(value.shape)} to index "
                           f"{_show(index)} of a tensor of shape {list(x.shape)} (selects {list(ids.shape)})") from None
