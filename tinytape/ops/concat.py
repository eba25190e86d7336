"""``cat`` and ``stack``: one recorded entry each (CatBackward0, StackBackward0), the
operands promoted to one dtype on one device."""
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Function
from . import elementwise as ew


class Cat(Function):
    grad_fn_name = "CatBackward0"

    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.dim, ctx.sizes = dim, [t.shape[dim] for t in tensors]
        first = tensors[0]
        return first._new(first._backend.concatenate([t._data for t in tensors], dim))

    @staticmethod
    def backward(ctx, g):
        grads, start = [None], 0
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad[1:]):
            index = (slice(None),) * ctx.dim + (slice(start, start + size),)
            grads.append(g[index] if needed else None)
            start += size
        return tuple(grads)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if isinstance(t, Tensor) and t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    legacy_empty = [t for t in tensors if t.ndim == 1 and t.shape[0] == 0]
    if legacy_empty and len(legacy_empty) < len(tensors):
        # PyTorch skips 1-D empty tensors (``torch.tensor([])``, an accumulator's start) whatever
        # the others' shapes; they still take part in the result's dtype
        dtype = tensors[0].dtype
        for t in tensors[1:]:
            dtype = ew._dtype.promote(dtype, t.dtype)
        tensors = [t if t.dtype is dtype else ew.to_dtype(t, dtype)
                   for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)]
    first = tensors[0]
    d = _wrap_dim(dim, first.ndim, "cat")
    for n, t in enumerate(tensors[1:], 1):
        ew._check_device(first, t, "cat")
        if t.ndim != first.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {first.ndim} and {t.ndim}")
        for i, (a, b) in enumerate(zip(first.shape, t.shape)):
            if i != d and a != b:  # PyTorch's words
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size {a} but "
                                   f"got size {b} for tensor number {n} in the list.")
    return Cat.apply(d, *_common_dtype(tensors, "cat"))


def _common_dtype(tensors, op):
    first = tensors[0]
    dtype = first.dtype
    for t in tensors[1:]:
        ew._check_device(first, t, op)
        dtype = ew._dtype.promote(dtype, t.dtype)
    return [t if t.dtype is dtype else ew.to_dtype(t, dtype) for t in tensors]


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0].shape
    for n, t in enumerate(tensors[1:], 1):
        if t.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                               f"and {list(t.shape)} at entry {n}")
    d = _wrap_dim(dim, len(shape) + 1, "stack")
    return Stack.apply(d, *_common_dtype(tensors, "stack"))


class Stack(Function):
    grad_fn_name = "StackBackward0"

    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.dim = dim
        first = tensors[0]
        backend = first._backend
        return first._new(backend.concatenate([backend.expand_dims(t._data, dim) for t in tensors], dim))

    @staticmethod
    def backward(ctx, g):
        index = (slice(None),) * ctx.dim
        return (None,) + tuple(g[index + (i,)] if needed else None
                               for i, needed in enumerate(ctx.needs_input_grad[1:]))
