"""``repeat``: tile a tensor, one gather forward; backward as PyTorch's ``repeat_backward``
(the gradient reshaped to ``(r0, s0, r1, s1, ...)`` and summed over the repeat dimensions,
so its sums round as PyTorch's)."""
import math

import numpy as np

from ..autograd.function import Function
from . import reduction as red
from . import shape as sh


def _sizes(input, sizes):
    sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    out_shape = [int(r) * s for r, s in zip(sizes, (1,) * (len(sizes) - input.ndim) + tuple(input.shape))]
    negative = next((n for n in out_shape if n < 0), None)
    if negative is not None:
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative}: {out_shape}")
    return sizes


class Repeat(Function):
    grad_fn_name = "RepeatBackward0"

    @staticmethod
    def forward(ctx, input, sizes):
        ctx.sizes, ctx.input_shape = sizes, tuple(input.shape)
        shape = (1,) * (len(sizes) - input.ndim) + tuple(input.shape)
        out_shape = tuple(r * s for r, s in zip(sizes, shape))
        if not math.prod(out_shape):
            ids = np.zeros(out_shape, np.int64)  # nothing is read
        else:
            ids = np.ravel_multi_index(tuple(i % s for i, s in zip(np.indices(out_shape), shape)), shape)
        return sh.take_flat(sh.reshape(input, shape), ids)  # one gather, whatever the rank

    @staticmethod
    def backward(ctx, g):
        sizes, input_shape = ctx.sizes, ctx.input_shape
        if 0 in sizes:
            return g.new_zeros(input_shape), None
        for _ in range(len(sizes) - len(input_shape)):
            g = red.sum(g, 0)
        grad_size, sum_dims = [], []
        for repeat, size in zip(sizes[len(sizes) - len(input_shape):], input_shape):
            if repeat != 1:
                grad_size.append(repeat)
                sum_dims.append(len(grad_size) - 1)
            grad_size.append(size)
        if sum_dims:
            g = red.sum(sh.reshape(g, tuple(grad_size)), tuple(sum_dims))
        return g, None


def repeat(input, *sizes):
    """Tile ``input``: ``sizes[i]`` copies along dimension ``i`` (leading sizes add dimensions)."""
    return Repeat.apply(input, _sizes(input, sizes))


def tile(input, dims):
    """``repeat`` with ``dims`` padded with leading 1s to ``input``'s rank (numpy's ``tile``)."""
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def tile_method(self, *dims):
    return tile(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims)


tile_method.__name__ = tile_method.__qualname__ = "tile"
