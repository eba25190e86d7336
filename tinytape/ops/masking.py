"""``masked_fill``: ``value`` where a boolean mask is True (MaskedFillBackward0 for a number,
MaskedFillBackward1 for a 0-d tensor)."""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from . import elementwise as ew


def masked_fill(input, mask, value):
    """``input`` with ``value`` where ``mask`` (bool, broadcast to ``input``) is True."""
    if not isinstance(mask, Tensor) or mask.dtype.name != "bool":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{getattr(mask, 'dtype', type(mask).__name__)}")
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
