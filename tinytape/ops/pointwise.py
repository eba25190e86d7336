"""Pointwise ops outside the op table: clamp_min/clamp_max (PyTorch's ClampMin/Max names),
fmod, true_divide, div with rounding_mode, round with decimals."""


from .. import _creation
from .. import _dtype
from .._tensor import Tensor
from ..autograd.function import Function
from . import dtype_rules
from . import elementwise as ew
from .from_table import FUNCTIONS as _TABLE
from .from_table import _refuse_integer_zero, floor_divide_checked, remainder_checked
from .windows import _check_tensor, _constant


class ClampMin(Function):
    """max(x, min); the gradient goes where x > min, as PyTorch's (none at the bound itself;
    selected, so NaN inputs get 0)."""

    grad_fn_name = "ClampMinBackward0"
    keep = staticmethod(ew.gt)

    @classmethod
    def forward(cls, ctx, x, bound):
        ctx.save_for_backward(x, bound)
        return ew.clamp(x, **{cls.side: bound})

    @classmethod
    def backward(cls, ctx, g):
        x, bound = ctx.saved_tensors
        kept = cls.keep(x, bound)
        grad_bound = ew.where(kept | ew.ne(x, x), 0.0, g) if ctx.needs_input_grad[1] else None
        return ew.where(kept, g, 0.0), grad_bound


ClampMin.side = "min"


class ClampMinTensor(ClampMin):
    """A tensor bound: PyTorch's maximum/minimum gradient (ties share it half and half; a NaN
    passes it to both)."""
    grad_fn_name = "ClampMinBackward1"
    loses = staticmethod(ew.lt)  # where x loses to the bound (x < min), x gets nothing

    @classmethod
    def backward(cls, ctx, g):
        x, bound = ctx.saved_tensors
        shared = ew.where(ew.eq(x, bound), ew.div(g, 2), g)
        grad_x = ew.where(cls.loses(x, bound), 0.0, shared) if ctx.needs_input_grad[0] else None
        grad_bound = ew.where(cls.loses(bound, x), 0.0, shared) if ctx.needs_input_grad[1] else None
        return grad_x, grad_bound


class ClampMax(ClampMin):
    grad_fn_name = "ClampMaxBackward0"
    keep = staticmethod(ew.lt)
    side = "max"


class ClampMaxTensor(ClampMinTensor):
    grad_fn_name = "ClampMaxBackward1"
    loses = staticmethod(ew.gt)
    side = "max"


def _clamp_one_side(input, bound, scalar_cls, tensor_cls):
    _check_tensor(input, f"clamp_{scalar_cls.side}")
    if isinstance(bound, Tensor):
        return tensor_cls.apply(input, bound)
    out = ew.clamp(input, **{scalar_cls.side: bound})  # the dtype PyTorch's promotion gives
    if not out.dtype.is_floating_point or not input.requires_grad:
        return out
    x = input if input.dtype is out.dtype else ew.to_dtype(input, out.dtype)
    return scalar_cls.apply(x, _constant(x, bound).reshape(()))


def clamp_min(input, min):
    return _clamp_one_side(input, min, ClampMin, ClampMinTensor)


def clamp_max(input, max):
    return _clamp_one_side(input, max, ClampMax, ClampMaxTensor)


def _negative(a):
    """Where ``a``'s sign bit is set (-0.0 included)."""
    if not a.dtype.is_floating_point:
        return ew.lt(a, 0)
    return ew.lt(a, 0) | (ew.eq(a, 0) & ew.lt(ew.div(1.0, a), 0))


class Fmod(Function):
    """C's fmod: the remainder of truncated division, with ``a``'s sign; computed exactly
    as |b|'s Python remainder of |a|, signed.  d/da = 1, d/db = -trunc(a / b), PyTorch's."""

    grad_fn_name = "FmodBackward1"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        r = remainder_checked(ew.abs(a), ew.abs(b))
        return ew.where(_negative(a), ew.neg(r), r)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        grad_b = ew.neg(ew.mul(g, _TABLE["trunc"](ew.div(a, b)))) if ctx.needs_input_grad[1] else None
        return g, grad_b


class FmodScalar(Fmod):
    grad_fn_name = "FmodBackward0"


def fmod(input, other):
    a, b = ew.operands(input, other, "fmod")
    dtype_rules.check("fmod", a.dtype)
    _refuse_integer_zero(b, other)
    return (Fmod if isinstance(other, Tensor) else FmodScalar).apply(a, b)


class DivRounded(Function):
    """Division rounded to an integer: its gradient is 0 (PyTorch's DivBackward2)."""

    grad_fn_name = "DivBackward2"

    @staticmethod
    def forward(ctx, a, b, mode):
        if mode == "floor":
            return floor_divide_checked(a, b)
        if a.dtype.is_floating_point:
            return _TABLE["trunc"](ew.div(a, b))
        quotient = floor_divide_checked(a, b)  # integers: the floor, moved up where it rounded away from 0
        inexact = ew.ne(remainder_checked(a, b), 0) & ew.ne(ew.lt(a, 0), ew.lt(b, 0))
        return ew.where(inexact, ew.add(quotient, 1), quotient)

    @staticmethod
    def backward(ctx, g):
        zeros = _creation.zeros_like(g)
        return zeros, zeros, None


def div(input, other, *, rounding_mode=None):
    """``input / other``; ``rounding_mode='trunc'`` rounds toward zero, ``'floor'`` down."""
    if rounding_mode is None:
        return ew.div(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    a, b = ew.operands(input, other, "div")
    _refuse_integer_zero(b, other)
    return DivRounded.apply(a, b, rounding_mode)


def true_divide(input, other):
    return ew.div(input, other)


class RoundDecimals(Function):
    """Half-to-even rounding at ``decimals`` digits, as PyTorch's kernel: round(x * 10^d) / 10^d
    (for d < 0, round(x / 10^-d) * 10^-d); the gradient is 0."""

    grad_fn_name = "RoundBackward1"

    @staticmethod
    def forward(ctx, x, decimals):
        scale = 10.0 ** abs(decimals)
        if decimals >= 0:
            return ew.div(_TABLE["round"](ew.mul(x, scale)), scale)
        return ew.mul(_TABLE["round"](ew.div(x, scale)), scale)

    @staticmethod
    def backward(ctx, g):
        return _creation.zeros_like(g), None


def round(input, *, decimals=0):  # noqa: A001  (PyTorch's name)
    if decimals == 0 and not input.dtype.is_floating_point:
        return _TABLE["round"](input)  # from_table's round, which sends a given ``decimals`` here
    if decimals == 0:  # given explicitly: PyTorch's decimals overload (RoundBackward1), the same values
        return RoundDecimals.apply(input, 0)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"round_cpu\" not implemented for "
                           f"'{_dtype.scalar_type_name(input.dtype)}'")
    return RoundDecimals.apply(input, int(decimals))
