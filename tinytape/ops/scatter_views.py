"""``slice_scatter``, ``select_scatter`` and ``diagonal_scatter``: a copy of ``input`` with ``src``
written into one of its views (a slice, an index along a dimension, a diagonal).  Each is one
tape entry under PyTorch's name, composed from a clone and a copy into the view, so the
gradient is ``grad`` with the view zeroed for ``input`` and the view of ``grad`` for ``src``."""
import math

from .._tensor import Tensor, _wrap_dim
from .composite_entry import composite_op


def _check(input, src, view, op):
    for name, t in (("input", input), ("src", src)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument '{name}' (position {1 if name == 'input' else 2}) must be Tensor, "
                            f"not {type(t).__name__}")
    if tuple(src.shape) != tuple(view.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(view.shape)}")


def _scatter_into(input, src, take, name):
    def compute(x, s):
        out = x.clone()
        take(out).copy_(s)
        return out
    _check(input, src, take(input), name.lower())
    return composite_op(name, compute, input, src)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """``input`` with ``input[..., start:end:step, ...] = src`` along ``dim``, as a new tensor."""
    if not isinstance(input, Tensor):
        _check(input, src, input, "slice_scatter")
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    d = _wrap_dim(dim, input.ndim, "slice_scatter")
    index = (slice(None),) * d + (slice(start, end, step),)
    return _scatter_into(input, src, lambda t: t[index], "SliceScatterBackward0")


def select_scatter(input, src, dim, index):
    """``input`` with ``src`` written at ``index`` along ``dim``, as a new tensor."""
    if not isinstance(input, Tensor):
        _check(input, src, input, "select_scatter")
    d = _wrap_dim(dim, input.ndim, "select_scatter")
    if not -input.shape[d] <= index < input.shape[d]:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} "
                         f"at dimension {dim}")
    return _scatter_into(input, src, lambda t: t.select(d, index), "SelectScatterBackward0")


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """``input`` with ``src`` written on its diagonal (``offset``, ``dim1``, ``dim2``: as ``diagonal``)."""
    if not isinstance(input, Tensor):
        _check(input, src, input, "diagonal_scatter")
    d1, d2 = _wrap_dim(dim1, input.ndim, "diagonal"), _wrap_dim(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    shape = tuple(input.shape)
    strides = [math.prod(shape[i + 1:]) for i in range(len(shape))]  # of the contiguous clone
    length = max(0, min(shape[d1], shape[d2] - offset) if offset >= 0 else min(shape[d1] + offset, shape[d2]))
    start = offset * strides[d2] if offset >= 0 else -offset * strides[d1]
    others = [i for i in range(len(shape)) if i not in (d1, d2)]
    size = tuple(shape[i] for i in others) + (length,)
    stride = tuple(strides[i] for i in others) + (strides[d1] + strides[d2],)
    return _scatter_into(input, src, lambda t: t.as_strided(size, stride, start if length else 0),
                         "DiagonalScatterBackward0")


FUNCTIONS = {"slice_scatter": slice_scatter, "select_scatter": select_scatter, "diagonal_scatter": diagonal_scatter}
METHODS = dict(FUNCTIONS)
