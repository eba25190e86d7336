"""``clamp`` with number bounds (ClampBackward1) and tensor bounds (ClampBackward0)."""
from .. import _dtype
from .._grad_mode import _state
from .._tensor import Tensor
from . import dtype_rules
from ..autograd.function import Function
from ..backend.opcodes import GT, LT, MAXIMUM, MINIMUM
from .elementwise import operands, to_dtype, where


class Clamp(Function):
    grad_fn_name = "ClampBackward1"
    _forward_runs_kernels_only = True

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        data = x._data
        if lo is not None:
            data = x._backend.binary(MAXIMUM, data, x._backend.scalar(lo, data.dtype))
        if hi is not None:
            data = x._backend.binary(MINIMUM, data, x._backend.scalar(hi, data.dtype))
        return x._new(data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        # the gradient passes where lo < x < hi and is 0 elsewhere (at a bound, and where x
        # is nan), selected, not multiplied by a mask (g may be inf or nan): PyTorch's values
        backend = x._backend
        bounds = [(GT, ctx.lo)] if ctx.lo is not None else []
        bounds += [(LT, ctx.hi)] if ctx.hi is not None else []
        if not _state.enabled:  # no graph of the gradient kept: the kernels directly
            data, zero = g._data, backend.scalar(0, g._data.dtype)
            for code, bound in bounds:
                data = backend.where(backend.compare(code, x._data, backend.scalar(bound, x._data.dtype)),
                                     data, zero)
            return g._new(data), None, None
        for code, bound in bounds:
            inside = x._new(backend.compare(code, x._data, backend.scalar(bound, x._data.dtype)))
            g = where(inside, g, 0.0)
        return g, None, None


class ClampTensor(Function):
    """clamp with tensor bounds: max(x, lo) then min(., hi), ties splitting the gradient
    evenly as PyTorch's maximum and minimum do."""
    grad_fn_name = "ClampBackward0"

    @staticmethod
    def forward(ctx, x, lo, hi):
        backend, data = x._backend, x._data
        mid = data if lo is None else backend.binary(MAXIMUM, data, lo._data)
        ctx.save_for_backward(x, lo, hi, x._new(mid))
        return x._new(mid if hi is None else backend.binary(MINIMUM, mid, hi._data))

    @staticmethod
    def backward(ctx, g):
        x, lo, hi, mid = ctx.saved_tensors
        grad_lo = grad_hi = None
        if hi is not None:
            half = where(mid == hi, g / 2, g)  # selected, as maximum's and minimum's gradients
            grad_hi, g = half.masked_fill(mid < hi, 0.0), half.masked_fill(mid > hi, 0.0)
        if lo is not None:
            half = where(x == lo, g / 2, g)
            grad_lo, g = half.masked_fill(x > lo, 0.0), half.masked_fill(x < lo, 0.0)
        return g, grad_lo, grad_hi


def clamp(x, min=None, max=None):
    if isinstance(x, Tensor) and x._data.dtype.kind == "c":
        dtype_rules.check("clamp", x.dtype)
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lo = hi = None
        if min is not None:
            x, lo = operands(x, min, "clamp")
        if max is not None:
            x, hi = operands(x, max, "clamp")
            if lo is not None and lo.dtype is not x.dtype:
                lo = to_dtype(lo, x.dtype)
        return ClampTensor.apply(x, lo, hi)
    if x._data.dtype.kind != "f" and not x.dtype.is_floating_point:
        target = x.dtype  # PyTorch's result type with the bounds as numbers (np.float32 included)
        for bound in (min, max):
            if bound is not None:
                target = _dtype.promote_scalar(target, bound)
        if target is not x.dtype:
            x = to_dtype(x, target)
    return Clamp.apply(x, min, max)
