"""The order PyTorch applies an index's items in: its integers first (as selects), then the
rest, where numpy counts integers among the advanced indices."""
import numpy as np

from .._tensor import Tensor

_FULL = slice(None)


def _torch_order(index):
    """PyTorch applies an index's integers first, as selects, then its tensors (numpy counts
    the integers among the advanced indices, which changes where the indexed dims land:
    ``x[1, 1:3, [0, 3]]``).  For a normalized index holding both, (the selects' index, the
    rest's index); else None."""
    ints = any(type(i) is int for i in index)
    arrays = any(isinstance(i, (np.ndarray, Tensor)) for i in index)
    if not (ints and arrays) or any(isinstance(i, bool) for i in index):
        return None
    first, rest = [], []
    for item in index:
        if type(item) is int:
            first.append(item)
        elif item is None:
            first.append(None)
            rest.append(_FULL)
        elif item is Ellipsis:
            first.append(Ellipsis)
            rest.append(Ellipsis)
        elif isinstance(item, slice):
            first.append(_FULL)
            rest.append(item)
        else:
            width = item.ndim if isinstance(item, np.ndarray) and item.dtype == np.bool_ else 1
            first.extend([_FULL] * width)
            rest.append(item)
    return tuple(first), tuple(rest)
