"""Memory formats (``torch.contiguous_format``, ``preserve_format``, ``channels_last``,
``channels_last_3d``) as ``clone`` and ``contiguous`` take them, ``repeat_interleave`` with
its one-argument form, and ``torch.gradient`` (PyTorch's central differences, step by step)."""
import numpy as np

from .. import _creation
from .._tensor import Tensor, _wrap_dim
from . import shape as sh


class memory_format:
    __module__ = "tinytape"  # printed as PyTorch prints its class: <class 'torch.memory_format'>

    def __init__(self, name, rank=None):
        self.name, self.rank = name, rank

    def __repr__(self):
        return f"torch.{self.name}"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last", 4)
channels_last_3d = memory_format("channels_last_3d", 5)


def _channels_last_copy(x, fmt):
    """A copy of ``x`` laid out with the channels (dim 1) innermost, PyTorch's strides for ``fmt``."""
    if x.ndim != fmt.rank:
        raise RuntimeError(f"required rank {fmt.rank} tensor to use {fmt.name} format")
    last = (0,) + tuple(range(2, x.ndim)) + (1,)
    back = [last.index(d) for d in range(x.ndim)]
    from .composite_entry import composite_op
    return composite_op("CloneBackward0", lambda t: sh.contiguous(t.permute(*last)).permute(*back), x)


def clone(self, *, memory_format=None):
    if memory_format is None or memory_format is preserve_format or memory_format is contiguous_format:
        return sh.clone(self)
    return _channels_last_copy(self, memory_format)


def contiguous(self, memory_format=contiguous_format):
    if memory_format is contiguous_format or memory_format is None or memory_format is preserve_format:
        return sh.contiguous(self)
    if is_contiguous(self, memory_format):
        return self
    return _channels_last_copy(self, memory_format)


def is_contiguous(self, memory_format=contiguous_format):
    if memory_format is contiguous_format or memory_format is None:
        return bool(self._data.flags.c_contiguous) if isinstance(self._data, np.ndarray) else \
            self._data.is_contiguous()
    if memory_format.rank is None or self.ndim != memory_format.rank:
        return False
    last = (0,) + tuple(range(2, self.ndim)) + (1,)
    expected, step = {}, 1
    for d in reversed(last):
        expected[d], step = step, step * max(self.shape[d], 1)
    strides = self.stride()
    return all(strides[d] == expected[d] or self.shape[d] == 1 for d in range(self.ndim))


# ---------------------------------------------------------------- repeat_interleave


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """``repeat_interleave(repeats)`` alone: each index repeated its count's times; with an input,
    each element (slice along ``dim``) repeated, recorded as PyTorch records it (a view of an
    expanded copy for a number of repeats, an index_select for a tensor of them)."""
    from .composite import check_repeats_tensor, repeat_interleave as by_index
    if isinstance(repeats if repeats is not None else input, Tensor):
        check_repeats_tensor(repeats if repeats is not None else input)
    if repeats is None:
        counts = input
        return repeat_interleave(_creation.arange(counts.numel(), device=counts.device), counts, 0)
    if isinstance(repeats, Tensor) and repeats.numel() != 1:
        from .composite_entry import composite_op
        return composite_op("IndexSelectBackward0", lambda x: by_index(x, repeats, dim), input)
    from .composite_entry import composite_op
    return composite_op("ViewBackward0", lambda x: by_index(x, int(repeats), dim), input)


# ---------------------------------------------------------------- gradient


def _edges_and_center(f, d, center, prepend, append):
    return sh.cat([prepend, center, append], d)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Central differences of ``input`` along each of ``dim`` (all dims by default), one-sided
    (``edge_order`` 1 or 2) at the ends, as PyTorch's: uniform steps given by numbers, or the
    coordinates' own steps given by 1-D tensors."""
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = list(range(input.ndim)) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    dims = [_wrap_dim(d, input.ndim, "gradient") for d in dims]
    if isinstance(spacing, (list, tuple)):
        steps = list(spacing)
        if len(steps) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and "
                               f"dim arguments to have the same length, but got a spacing argument of length "
                               f"{len(steps)} and a dim argument of length {len(dims)}.")
    else:
        steps = [spacing] * len(dims)
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")

    def part(d, start, stop=None):
        return input[(slice(None),) * d + (slice(start, stop),)]
    result = []
    for d, h in zip(dims, steps):
        if isinstance(h, Tensor):
            result.append(_gradient_coordinates(input, d, h, edge_order, part))
            continue
        center = (part(d, 2) - part(d, 0, -2)) / h
        if edge_order == 1:
            prepend = (part(d, 1, 2) - part(d, 0, 1)) / h
            append = (part(d, -1) - part(d, -2, -1)) / h
        else:
            prepend = (-1.5 * part(d, 0, 1) + 2 * part(d, 1, 2) - 0.5 * part(d, 2, 3)) / h
            append = (0.5 * part(d, -3, -2) - 2 * part(d, -2, -1) + 1.5 * part(d, -1)) / h
        result.append(_edges_and_center(input, d, center / 2, prepend, append))
    return tuple(result)


def _gradient_coordinates(input, d, coordinates, edge_order, part):
    shape = [1] * input.ndim
    shape[d] = -1
    dx = coordinates.diff(1, 0)
    dx1, dx2 = dx[:-1], dx[1:]
    a = (-dx2 / (dx1 * (dx1 + dx2))).reshape(shape)
    b = ((dx2 - dx1) / (dx1 * dx2)).reshape(shape)
    c = (dx1 / (dx2 * (dx1 + dx2))).reshape(shape)
    center = a * part(d, 0, -2) + b * part(d, 1, -1) + c * part(d, 2)
    if edge_order == 1:
        prepend = (part(d, 1, 2) - part(d, 0, 1)) / dx[0]
        append = (part(d, -1) - part(d, -2, -1)) / dx[-1]
    else:
        a = -(2.0 * dx[0] + dx[1]) / (dx[0] * (dx[0] + dx[1]))
        b = (dx[0] + dx[1]) / (dx[0] * dx[1])
        c = (-dx[0]) / (dx[1] * (dx[0] + dx[1]))
        prepend = a * part(d, 0, 1) + b * part(d, 1, 2) + c * part(d, 2, 3)
        a = dx[-1] / (dx[-2] * (dx[-1] + dx[-2]))
        b = -(dx[-1] + dx[-2]) / (dx[-1] * dx[-2])
        c = (2 * dx[-1] + dx[-2]) / (dx[-1] * (dx[-1] + dx[-2]))
        append = a * part(d, -3, -2) + b * part(d, -2, -1) + c * part(d, -1)
    return _edges_and_center(input, d, center, prepend, append)


FUNCTIONS = {"contiguous_format": contiguous_format, "preserve_format": preserve_format,
             "channels_last": channels_last, "channels_last_3d": channels_last_3d, "memory_format": memory_format,
             "repeat_interleave": repeat_interleave, "gradient": gradient}
METHODS = {"clone": clone, "contiguous": contiguous, "is_contiguous": is_contiguous,
           "repeat_interleave": repeat_interleave}
