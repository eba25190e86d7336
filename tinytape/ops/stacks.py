"""Splits and stacks built from recorded ops: ``tensor_split``, ``atleast_1d/2d/3d``,
``hstack``, ``vstack``, ``row_stack``, ``dstack``, ``column_stack``, ``broadcast_tensors``
and ``broadcast_shapes``."""
import numbers

import numpy as np

from .._tensor import Tensor, _wrap_dim
from . import shape as sh
from .windows import _check_tensor


def tensor_split(input, indices_or_sections, dim=0):
    """Views along ``dim``: ``n`` nearly equal parts (the first ``size % n`` one longer), or
    the parts between the listed indices."""
    _check_tensor(input, "tensor_split", "input")
    d = _wrap_dim(dim, input.ndim, "tensor_split")
    size = input.shape[d]
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        if spec.dtype.is_floating_point or spec.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have integral dtype and be "
                               f"0-D or 1-D, but got {spec.dtype} of {spec.ndim} dims")
        spec = spec.item() if spec.ndim == 0 else spec.tolist()
    if isinstance(spec, numbers.Integral):
        n = int(spec)
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        bounds, start = [], 0
        for k in range(n):
            stop = start + size // n + (1 if k < size % n else 0)
            bounds.append((start, stop))
            start = stop
    else:
        cuts = [int(i) for i in spec]
        edges = [0] + cuts + [size]
        bounds = []
        for a, b in zip(edges[:-1], edges[1:]):
            a = min(max(a + size if a < 0 else a, 0), size)
            b = min(max(b + size if b < 0 else b, 0), size)
            bounds.append((a, max(a, b)))
    lead = (slice(None),) * d
    return tuple(input[lead + (slice(a, b),)] for a, b in bounds)


def _atleast(tensors, rank, op):
    tensors = tuple(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = []
    for t in tensors:
        _check_tensor(t, op)
        if t.ndim < rank:
            if rank == 3 and t.ndim == 2:
                t = sh.unsqueeze(t, -1)
            elif rank == 3 and t.ndim == 1:
                t = sh.reshape(t, (1, t.shape[0], 1))
            else:
                t = sh.reshape(t, (1,) * (rank - max(t.ndim, 1)) + tuple(t.shape or (1,)))
        out.append(t)
    return out


def atleast_1d(*tensors):
    out = _atleast(tensors, 1, "atleast_1d")
    return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else tuple(out)


def atleast_2d(*tensors):
    out = _atleast(tensors, 2, "atleast_2d")
    return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else tuple(out)


def atleast_3d(*tensors):
    out = _atleast(tensors, 3, "atleast_3d")
    return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else tuple(out)


def _nonempty(tensors, op):
    if not len(tensors):
        raise RuntimeError(f"{op} expects a non-empty TensorList")
    return tensors


def hstack(tensors):
    tensors = _atleast(_nonempty(tensors, "hstack"), 1, "hstack")
    return sh.cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return sh.cat(_atleast(_nonempty(tensors, "vstack"), 2, "vstack"), 0)


def row_stack(tensors):
    return vstack(tensors)


def dstack(tensors):
    return sh.cat(_atleast(_nonempty(tensors, "dstack"), 3, "dstack"), 2)


def column_stack(tensors):
    tensors = _nonempty(tensors, "column_stack")
    cols = [sh.reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in tensors]
    return sh.cat(cols, 1)


def broadcast_tensors(*tensors):
    tensors = tuple(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    for t in tensors:
        _check_tensor(t, "broadcast_tensors")
    try:
        shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    except ValueError:
        _refuse_pairwise([tuple(t.shape) for t in tensors])
    return tuple(t if tuple(t.shape) == shape else sh.expand(t, shape) for t in tensors)


def _refuse_pairwise(shapes):
    """PyTorch's error for shapes that do not broadcast: the first pair (the shape so far, the
    next one) that disagrees, and the output dimension where."""
    sofar = shapes[0]
    for shape in shapes[1:]:
        n = max(len(sofar), len(shape))
        a, b = (1,) * (n - len(sofar)) + sofar, (1,) * (n - len(shape)) + shape
        for d in range(n):
            if a[d] != b[d] and a[d] != 1 and b[d] != 1:
                raise RuntimeError(f"The size of tensor a ({a[d]}) must match the size of tensor b ({b[d]}) at "
                                   f"non-singleton dimension {d}")
        sofar = tuple(max(x, y) if min(x, y) != 0 else 0 for x, y in zip(a, b))


def broadcast_shapes(*shapes):
    """The shape ``shapes`` broadcast to, checked as PyTorch's: one shape after the other
    against the dims found so far."""
    from .._tensor import Size
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    result = [1] * max((len(s) for s in shapes), default=0)
    for index, shape in enumerate(shapes):
        for i in range(-1, -1 - len(shape), -1):
            if shape[i] < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension ({shape[i]}): ({shape[i]})")
            if shape[i] == 1 or shape[i] == result[i]:
                continue
            if result[i] != 1:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {shape[i]} at {i}! Mismatching "
                                   f"argument at index {index} had {shape}; but expected shape should be "
                                   f"broadcastable to {result}")
            result[i] = shape[i]
    return Size(result)
