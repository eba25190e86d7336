"""``masked_fill``: ``value`` where a boolean mask is True (MaskedFillBackward0 for a number,
MaskedFillBackward1 for a 0-d tensor); ``where``: one of two values by a condition."""
import numbers
import warnings

import numpy as np

from .. import _dtype
from .._creation import _user_stacklevel
from .._tensor import Tensor
from ..autograd.function import Function
from . import elementwise as ew
from .linalg import _C_NAMES


def masked_fill(input, mask, value):
    """``input`` with ``value`` where ``mask`` (bool, broadcast to ``input``) is True."""
    if not isinstance(mask, Tensor) or mask.dtype.name != "bool":
        shown = _C_NAMES.get(mask.dtype.name, mask.dtype.name) if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {shown}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor "
                               f"with {value.ndim} dimension(s).")
        value = ew.to_dtype(value, input.dtype) if value.dtype is not input.dtype else value
    ew._check_broadcast(mask.shape, input.shape, "masked_fill")
    if np.broadcast_shapes(mask.shape, input.shape) != input.shape:
        raise RuntimeError(f"masked_fill: the mask of shape {list(mask.shape)} can't be broadcast to "
                           f"the input's shape {list(input.shape)}")
    if not isinstance(value, Tensor):
        return MaskedFill.apply(input, mask, Tensor._make(input._backend.scalar(value, input._data.dtype),
                                                          backend=input._backend))
    return MaskedFillTensor.apply(input, mask, value)


class MaskedFill(Function):
    """``input`` with ``value`` where ``mask``; the gradient is selected (0 under the mask,
    whatever g holds there), as PyTorch's ``grad.masked_fill(mask, 0)``."""
    grad_fn_name = "MaskedFillBackward0"

    @staticmethod
    def forward(ctx, input, mask, value):
        ctx.save_for_backward(mask)
        backend = input._backend
        out = backend.where(mask._data, value._data, input._data)
        # C-contiguous whatever the operands' order: PyTorch fills a contiguous clone
        return input._new(out if backend._flat(out) else backend.contiguous(out))

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        grad_value = None
        if ctx.needs_input_grad[2]:  # the sum of g under the mask
            grad_value = ew.where(mask, g, 0.0).sum()
        return (masked_fill(g, mask, 0.0) if ctx.needs_input_grad[0] else None), None, grad_value


class MaskedFillTensor(MaskedFill):
    grad_fn_name = "MaskedFillBackward1"


def masked_fill_(self, mask, value):
    from . import overlap_writes
    if overlap_writes.repeats(self):
        return overlap_writes.masked_fill_into_repeats(self, mask, value, masked_fill)
    return self._inplace("masked_fill_", masked_fill, mask, value)


# ---------------------------------------------------------------- where


class Where(Function):
    grad_fn_name = "WhereBackward0"

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return a._new(a._backend.where(cond._data, a._data, b._data))

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        # 0, not g * 0: the branch not taken gets 0 even where g is inf or nan (PyTorch's)
        return (None,
                where(cond, g, 0.0) if ctx.needs_input_grad[1] else None,
                where(cond, 0.0, g) if ctx.needs_input_grad[2] else None)


_NOTHING = object()


def where(cond, a=_NOTHING, b=_NOTHING):
    """``a`` where ``cond`` holds, else ``b`` (scalars allowed for either); with ``cond``
    alone, ``nonzero(cond, as_tuple=True)``."""
    if not isinstance(cond, Tensor):
        raise TypeError(f"where(): argument 'condition' must be Tensor, not {type(cond).__name__}")
    if a is _NOTHING and b is _NOTHING:
        from .sampling import nonzero
        return nonzero(cond, as_tuple=True)
    if a is _NOTHING or b is _NOTHING:
        raise TypeError("where() takes 1 or 3 arguments (condition[, input, other])")
    if cond.dtype is _dtype.uint8:  # PyTorch still reads a byte mask, with a warning
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated and will be removed in "
                      "a future version of PyTorch. Use a boolean condition instead.", UserWarning, stacklevel=_user_stacklevel())
        cond = ew.ne(cond, 0)
    elif cond.dtype is not _dtype.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{_dtype.scalar_type_name(cond.dtype)}")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):  # two numbers: the first as a 0-d tensor
        if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
            a = cond._new(cond._backend.scalar(a, _dtype.promote_scalar(_dtype.promote_scalar(
                _dtype.bool_, a), b).np))
    shape_a = a.shape if isinstance(a, Tensor) else ()
    ew._check_broadcast(cond.shape, shape_a, "where")  # condition and input, then their shape and other
    ew._check_broadcast(np.broadcast_shapes(cond.shape, shape_a), b.shape if isinstance(b, Tensor) else (), "where")
    a, b = ew.operands(a, b, "where")
    ew._check_device(cond, a, "where")
    return Where.apply(cond, a, b)
