"""``slice_scatter``, ``select_scatter`` and ``diagonal_scatter``: a copy of ``input`` with ``src``
written into one of its views (a slice, an index along a dimension, a diagonal).  Each is one
tape entry under PyTorch's name, composed from a clone and a copy into the view, so the
gradient is ``grad`` with the view zeroed for ``input`` and the view of ``grad`` for ``src``."""
import math

import numpy as np

from .. import _creation
from .._tensor import Tensor, _wrap_dim
from . import elementwise as ew
from . import shape as sh
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
    positions = np.full([shape[i] for i in others] + [length], start if length else 0, np.int64)
    for k, (n, step) in enumerate([(shape[i], strides[i]) for i in others] + [(length, strides[d1] + strides[d2])]):
        along = [1] * positions.ndim
        along[k] = n
        positions = positions + (np.arange(n, dtype=np.int64) * step).reshape(along)
    _check(input, src, _Shaped(positions.shape), "diagonal_scatter")
    # each element of the result: from ``src`` on the diagonal (``reads``: which one), else ``input``
    on_diagonal = np.zeros(math.prod(shape), bool)
    on_diagonal[positions.reshape(-1)] = True
    reads = np.zeros(math.prod(shape), np.int64)
    reads[positions.reshape(-1)] = np.arange(positions.size)
    mask = _creation.tensor(on_diagonal.reshape(shape), device=input.device)
    reads = reads.reshape(shape)

    def compute(x, s):
        return ew.where(mask, ew.to_dtype(sh.take_flat(s, reads), x.dtype), x)
    return composite_op("DiagonalScatterBackward0", compute, input, src)


class _Shaped:
    """Something with a shape, for the size check."""

    def __init__(self, shape):
        self.shape = tuple(shape)


FUNCTIONS = {"slice_scatter": slice_scatter, "select_scatter": select_scatter, "diagonal_scatter": diagonal_scatter}
METHODS = dict(FUNCTIONS)
