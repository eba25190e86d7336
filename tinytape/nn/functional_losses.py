"""The pointwise losses of ``nn.functional``: ``mse_loss``, ``l1_loss``, ``huber_loss``,
``binary_cross_entropy`` and ``binary_cross_entropy_with_logits``."""
import os
import sys
import warnings

import numpy as np

from .. import _autocast, _dtype
from .._grad_mode import is_grad_enabled
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend.opcodes import DIV, MUL, SUB, SUM
from ..ops import elementwise as ew
from .. import op_table as table
from ..ops.shape import broadcast
from ..ops.softmax import _kernel_dtype_name




_REDUCTIONS = ("mean", "sum", "none")


class _PointwiseLoss(Function):
    """loss_i = f(input_i, target_i) (times weight_i), then reduced.  Subclasses give the
    kernel for f and the derivatives of f as tinytape expressions."""

    @staticmethod
    def pointwise(backend, x, y):
        raise NotImplementedError

    @staticmethod
    def grads(x, y):
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx, x, y, weight, reduction):
        backend = x._backend
        loss = cls.pointwise(backend, x._data, y._data)
        if weight is not None:
            loss = backend.binary(MUL, loss, weight._data)
        ctx.save_for_backward(x, y, weight)
        ctx.reduction, ctx.count = reduction, loss.size
        if reduction == "none":
            return x._new(loss)
        total = backend.reduce(SUM, loss, (), False)
        if reduction == "mean":
            total = backend.binary(DIV, total, backend.scalar(max(loss.size, 1), total.dtype))
        return x._new(total)

    @classmethod
    def backward(cls, ctx, g):
        x, y, weight = ctx.saved_tensors
        if ctx.reduction == "mean":
            g = g / ctx.count
        grad_x, grad_y = cls.grads(x, y)
        if weight is not None:
            grad_x, grad_y = grad_x * weight, grad_y * weight
        return (grad_x * g if ctx.needs_input_grad[0] else None,
                grad_y * g if ctx.needs_input_grad[1] else None, None, None)


class MseLoss(_PointwiseLoss):
    grad_fn_name = "MseLossBackward0"

    @staticmethod
    def pointwise(backend, x, y):
        d = backend.binary(SUB, x, y)
        return backend.binary(MUL, d, d)

    @staticmethod
    def grads(x, y):
        d = 2 * (x - y)
        return d, -d


def _table_loss(name):
    """A loss whose pointwise term is a binary op of the op table: its kernel and its
    declared derivatives (taken at g = 1), its grad_fn name."""
    op = table.BY_NAME[name]
    grad_input, grad_target = op.derivative
    needs_input, needs_target = op.saves

    def pointwise(backend, x, y):
        return backend.binary(op.code, x, y)

    def grads(x, y):
        values = {"a": x, "b": y}
        return (grad_input(*(values[n] for n in needs_input), g=1),
                grad_target(*(values[n] for n in needs_target), g=1))

    return type(op.grad_fn_name[:-len("Backward0")], (_PointwiseLoss,), {
        "grad_fn_name": op.grad_fn_name, "pointwise": staticmethod(pointwise), "grads": staticmethod(grads)})


BinaryCrossEntropy = _table_loss("bce")
BinaryCrossEntropyWithLogits = _table_loss("bce_with_logits")  # stable for any logit magnitude


def _user_level():
    """The ``stacklevel`` of the first caller outside the library, seen from a warning issued
    by the function calling this one (however many of the library's frames lie between)."""
    library = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    frame, level = sys._getframe(2), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(library):
        frame, level = frame.f_back, level + 1
    return level


def _broadcast_target(input, target, op, stacklevel=4):
    """PyTorch's mse_loss / l1_loss / huber_loss: a target of another shape warns, then both
    broadcast.  ``stacklevel`` points the warning at the user's call."""
    if input.shape == target.shape:
        return input, target
    warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                  f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
                  "Please ensure they have the same size.", UserWarning, stacklevel=_user_level())
    ew._check_broadcast(input.shape, target.shape, op)
    shape = np.broadcast_shapes(input.shape, target.shape)
    return broadcast(input, shape), broadcast(target, shape)


def _check_reduction(reduction, op):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _not_differentiable(t, op, arg):
    """PyTorch's losses take no gradient for ``weight``/``pos_weight``: one that requires
    grad (while grad mode is on) is refused, not silently detached."""
    if isinstance(t, Tensor) and t.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{op}' is not differentiable with respect to argument "
                           f"'{arg}'. This input cannot have requires_grad True.")


def _check_unit_interval(t, what):
    """binary_cross_entropy's check that input and target lie in [0, 1] (NaN fails it).
    Read straight from a host array, so a compiled trace is not forced to read values back;
    device arrays are not checked."""
    data = t._data
    if isinstance(data, np.ndarray) and data.size and data.dtype.kind == "f":
        if not bool(np.all((data >= 0) & (data <= 1))):
            raise RuntimeError(f"all elements of {what} should be between 0 and 1")


def _pointwise_loss(cls, input, target, weight, reduction, op, broadcast=False):
    _check_reduction(reduction, op)
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}: expected Tensor input and target, got {type(input).__name__} and {type(target).__name__}")
    if broadcast:
        input, target = _broadcast_target(input, target, op)
    if input.shape != target.shape:  # PyTorch's words, one sentence per loss
        if op == "binary_cross_entropy_with_logits":
            raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) "
                         "is deprecated. Please ensure they have the same size.")
    input = ew._float_input(input, op)
    x, y = ew.operands(input, target, op)
    if weight is not None:
        x, weight = ew.operands(x, weight, op)
        weight = weight.detach().expand(x.shape).contiguous()
    return cls.apply(x, y, weight, reduction)


def mse_loss(input, target, reduction="mean"):
    if _autocast.state.__dict__:
        input, target = _autocast.float32(input, target)
    if (isinstance(input, Tensor) and isinstance(target, Tensor) and not input.dtype.is_floating_point
            and not target.dtype.is_floating_point):
        raise NotImplementedError(f'"mse_cpu" not implemented for \'{_kernel_dtype_name(input.dtype)}\'')
    return _pointwise_loss(MseLoss, input, target, None, reduction, "mse_loss", broadcast=True)


def _weighted(loss, weight, reduction, mean_by_weight=False):
    """PyTorch's Python-side ``weight=`` of l1_loss and huber_loss: the unreduced loss
    times ``weight`` (of the input's shape), then reduced (l1's mean divides by the
    weights' sum)."""
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / weight.sum() if mean_by_weight else loss.mean()


def _check_weight(weight, input):
    if weight is not None and weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """``|input - target|``, reduced (the mean of an integer difference is refused by
    ``mean``, as PyTorch's).  A target of another shape warns, then both broadcast."""
    if _autocast.state.__dict__:
        input, target = _autocast.float32(input, target)
    if size_average is not None or reduce is not None:
        from .loss import _legacy_reduction
        reduction = _legacy_reduction(size_average, reduce)
    _check_reduction(reduction, "l1_loss")
    _check_weight(weight, input)
    input, target = _broadcast_target(input, target, "l1_loss", stacklevel=3)
    loss = (input - target).abs()
    if weight is not None:
        return _weighted(loss, weight, reduction, mean_by_weight=True)
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


class HuberLoss(Function):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), d = input - target, reduced;
    one tape entry, as PyTorch's."""

    grad_fn_name = "HuberLossBackward0"

    @staticmethod
    def forward(ctx, x, y, reduction, delta):
        ctx.save_for_backward(x, y)
        ctx.reduction, ctx.delta = reduction, delta
        z = (x - y).abs()
        loss = ew.where(z >= delta, (z - 0.5 * delta) * delta, z * 0.5 * z)
        return _reduce(loss, reduction, "huber_loss")

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        delta = ctx.delta
        norm = 1.0 / x.numel() if ctx.reduction == "mean" else 1.0
        d = x - y
        grad = ew.where(d <= -delta, -delta, ew.where(d >= delta, delta, d)) * norm * g  # PyTorch's order
        need = ctx.needs_input_grad
        return grad if need[0] else None, -grad if need[1] else None, None, None


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Squared error within ``delta`` of the target, absolute error (times ``delta``)
    beyond it; a target of another shape warns, then both broadcast."""
    if _autocast.state.__dict__:
        input, target = _autocast.float32(input, target)
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    input, target = _broadcast_target(input, target, "huber_loss", stacklevel=3)
    x, y = ew.operands(ew._float_input(input, "huber_loss"), target, "huber_loss")
    if weight is None:
        return HuberLoss.apply(x, y, reduction, delta)
    _check_weight(weight, x)
    return _weighted(HuberLoss.apply(x, y, "none", delta), weight, reduction)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    if _autocast.state.__dict__:
        input, target = _autocast.float32(input, target)
    _not_differentiable(weight, "binary_cross_entropy", "weight")
    if isinstance(input, Tensor) and isinstance(target, Tensor) and target.dtype is not input.dtype:
        # PyTorch's kernel takes the target in the input's dtype only (integer labels need .float())
        raise RuntimeError(f"Found dtype {_dtype.scalar_type_name(target.dtype)} but expected "
                           f"{_dtype.scalar_type_name(input.dtype)}")
    if isinstance(input, Tensor) and isinstance(target, Tensor) and input.shape == target.shape:
        _check_unit_interval(input, "input")
        _check_unit_interval(target, "target")
    return _pointwise_loss(BinaryCrossEntropy, input, target, weight, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    if _autocast.state.__dict__:
        input, target = _autocast.float32(input, target)
    _not_differentiable(weight, "binary_cross_entropy_with_logits", "weight")
    if isinstance(target, Tensor) and not target.dtype.is_floating_point:
        if target.dtype is _dtype.bool_:  # PyTorch's formula starts with 1 - target
            ew.check_bool_sub(target, target)
        raise RuntimeError(f"result type {_dtype.scalar_type_name(input.dtype)} can't be cast to the desired "
                           f"output type {_dtype.scalar_type_name(target.dtype)}")
    _not_differentiable(pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    if pos_weight is not None:
        _check_reduction(reduction, "binary_cross_entropy_with_logits")
        if input.shape != target.shape:
            raise ValueError(f"binary_cross_entropy_with_logits: Target size ({list(target.shape)}) must be "
                             f"the same as input size ({list(input.shape)})")
        return BinaryCrossEntropyWithLogitsPosWeight.apply(input, target, weight, pos_weight, reduction)
    return _pointwise_loss(BinaryCrossEntropyWithLogits, input, target, weight, reduction,
                           "binary_cross_entropy_with_logits")


def _softplus_neg(x):
    """log(1 + exp(-x)), stable for any magnitude."""
    return ew.relu(-x) + (-(x.abs())).exp().add(1).log()


class BinaryCrossEntropyWithLogitsPosWeight(Function):
    """(1 - y) x + (1 + (pw - 1) y) log(1 + e^-x), times weight, reduced."""

    grad_fn_name = "BinaryCrossEntropyWithLogitsBackward0"

    @staticmethod
    def forward(ctx, x, y, weight, pos_weight, reduction):
        ctx.save_for_backward(x, y, weight, pos_weight)
        ctx.reduction = reduction
        loss = (1 - y) * x + (1 + (pos_weight - 1) * y) * _softplus_neg(x)
        if weight is not None:
            loss = loss * weight
        return _reduce(loss, reduction, "binary_cross_entropy_with_logits")

    @staticmethod
    def backward(ctx, g):
        x, y, weight, pw = ctx.saved_tensors
        if ctx.reduction == "mean":
            g = g / x.numel()
        w = g if weight is None else g * weight
        sp = _softplus_neg(x)
        need = ctx.needs_input_grad
        grad_x = ((1 - y) - (1 + (pw - 1) * y) * (-x).sigmoid()) * w if need[0] else None
        grad_y = ((pw - 1) * sp - x) * w if need[1] else None
        grad_weight = ((1 - y) * x + (1 + (pw - 1) * y) * sp) * g if weight is not None and need[2] else None
        grad_pw = y * sp * w if need[3] else None
        return grad_x, grad_y, grad_weight, grad_pw, None


def _reduce(loss, reduction, op):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss

