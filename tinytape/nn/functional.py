"""Activations and losses, as ``torch.nn.functional`` names them (the pointwise
activations live in ``nn/pointwise.py``)."""
import functools
import math
import warnings

import numpy as np

from .. import _dtype
from .._grad_mode import is_grad_enabled
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend.opcodes import DIV, MUL, NE, SUB, SUM
from ..ops import elementwise as ew
from ..ops.elementwise import silu  # noqa: F401  (declared in the op table)
from ..ops import table
from ..ops.linalg import addmm as _addmm
from ..ops.shape import scatter_flat
from ..ops.normalization import batch_norm  # noqa: F401
from ..ops.pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, avg_pool1d, max_pool1d  # noqa: F401
from ..ops.softmax import (  # noqa: F401
    LogSoftmax, Softmax, _kernel_dtype_name, _softmax_dim, _softmax_input, log_softmax, softmax)
from .distance import _ClampMinKeepGradient, cosine_similarity, pairwise_distance  # noqa: F401
from .pointwise import (  # noqa: F401  (the pointwise activations, composed from tensor ops)
    celu, celu_, elu, elu_, gelu, hardsigmoid, hardswish, hardtanh, hardtanh_, leaky_relu, leaky_relu_, logsigmoid,
    mish, relu6, selu, selu_, softplus, softsign, tanhshrink, threshold, threshold_)


def relu(input, inplace=False):
    return input.relu_() if inplace else ew.relu(input)


def relu_(input):
    return input.relu_()


def sigmoid(input):
    return ew.sigmoid(input)


def tanh(input):
    return ew.tanh(input)


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``, recorded as PyTorch records it: one ``addmm`` for a
    2-D input, and for a contiguous input of another rank (3-D, or with a 1-D bias) a view
    to rows, the ``addmm`` and a view back; else a product and an add."""
    if bias is not None and isinstance(input, Tensor) and weight.ndim == 2 and input.ndim >= 1:
        if input.ndim == 2:
            return _addmm(bias, input, weight.t())
        if input.is_contiguous() and (input.ndim == 3 or bias.ndim == 1):
            rows = input.reshape(math.prod(input.shape[:-1]), input.shape[-1])
            out = _addmm(bias, rows, weight.t())
            return out.view(*input.shape[:-1], out.shape[1])
    out = input.matmul(weight.t() if weight.ndim == 2 else weight)
    return out if bias is None else out + bias


def one_hot(tensor, num_classes=-1):
    """int64 rows with a 1 at each class index (classes counted from the data when -1)."""
    if tensor.dtype is not _dtype.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    ids = tensor._backend.to_numpy(tensor._data)
    if num_classes == -1:
        if ids.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(ids.max()) + 1
    if ids.size and (ids.min() < 0 or ids.max() >= num_classes):
        raise RuntimeError(f"one_hot: Class values must be in [0, {num_classes}), got {int(ids.min())}..{int(ids.max())}")
    out = np.zeros(ids.shape + (num_classes,), np.int64)
    np.put_along_axis(out, ids[..., None], 1, axis=-1)
    from .._creation import tensor as _tensor
    return _tensor(out, device=tensor.device)


# ---------------------------------------------------------------- pointwise losses


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


def _broadcast_target(input, target, op, stacklevel=4):
    """PyTorch's mse_loss / l1_loss / huber_loss: a target of another shape warns, then both
    broadcast.  ``stacklevel`` points the warning at the user's call."""
    if input.shape == target.shape:
        return input, target
    warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                  f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
                  "Please ensure they have the same size.", UserWarning, stacklevel=stacklevel)
    try:
        shape = np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise RuntimeError(f"{op}: The size of input {list(input.shape)} and target {list(target.shape)} "
                           "must match or broadcast") from None
    return input.expand(shape), target.expand(shape)


def _check_reduction(reduction, op):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction (mean, sum, none)")


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
    if input.shape != target.shape:
        raise ValueError(f"{op}: Using a target size ({list(target.shape)}) that is different to the "
                         f"input size ({list(input.shape)}) is not supported. Please ensure they have the same size.")
    input = ew._float_input(input, op)
    x, y = ew.operands(input, target, op)
    if weight is not None:
        x, weight = ew.operands(x, weight, op)
        weight = weight.detach().expand(x.shape).contiguous()
    return cls.apply(x, y, weight, reduction)


def mse_loss(input, target, reduction="mean"):
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
    _not_differentiable(weight, "binary_cross_entropy", "weight")
    if isinstance(input, Tensor) and isinstance(target, Tensor) and input.shape == target.shape:
        _check_unit_interval(input, "input")
        _check_unit_interval(target, "target")
    return _pointwise_loss(BinaryCrossEntropy, input, target, weight, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    _not_differentiable(weight, "binary_cross_entropy_with_logits", "weight")
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
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction (mean, sum, none)")
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


# ---------------------------------------------------------------- class-index losses


@functools.lru_cache(maxsize=64)
def _class_plan(n, c):
    """(each row's first flat position, the row each reads): read-only, per (rows, classes)."""
    rows, where = np.arange(n, dtype=np.int64) * c, np.arange(n, dtype=np.int64)
    rows.flags.writeable = where.flags.writeable = False
    return rows, where


class NllLoss(Function):
    """-log_prob[i, target_i] (times the class weight), reduced; rows whose target is
    ``ignore_index`` count for nothing."""

    grad_fn_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, logp, target, weight, ignore_index, reduction):
        # on the backend, from the targets' values (no host read: a compiled step follows
        # new targets); a target out of range is the kernel's IndexError
        backend = logp._backend
        n, c = logp.shape
        dtype = logp._data.dtype
        t = target._data
        valid = backend.compare(NE, t, backend.scalar(ignore_index, t.dtype))
        safe_t = backend.where(valid, t, backend.scalar(0, t.dtype))
        rows, where = _class_plan(n, c)
        ids = backend.positions(rows, safe_t, where, 1, c,
                                False, (False, "nll_loss: Target ", f" is out of bounds for {c} classes"))
        w = backend.astype(valid, dtype)
        if weight is not None:
            w = backend.binary(MUL, w, backend.gather(weight._data, safe_t))
        neg_w = backend.binary(MUL, w, backend.scalar(-1, dtype))
        losses = backend.binary(MUL, backend.gather(logp._data, ids), neg_w)
        ctx.ids, ctx.w, ctx.shape, ctx.reduction = ids, logp._new(neg_w), logp.shape, reduction
        # rows whose target is ignore_index get no gradient at all, even when the mean's
        # denominator (the targets' total weight) is 0 and the loss is nan: PyTorch's kernel
        # only writes the other rows
        ctx.valid = logp._new(valid)
        if reduction == "none":
            return logp._new(losses)
        total = backend.reduce(SUM, losses, (), False)
        if reduction == "mean":
            denominator = backend.reduce(SUM, w, (), False)
            ctx.denominator = logp._new(denominator)
            total = backend.binary(DIV, total, denominator)
        return logp._new(total)

    @staticmethod
    def backward(ctx, g):
        if ctx.reduction == "mean":
            g = g / ctx.denominator
        grad = ctx.w * g
        grad = ew.where(ctx.valid, grad, 0.0)
        return scatter_flat(grad, ctx.ids, ctx.shape), None, None, None, None


class NllLoss2d(NllLoss):
    """The same loss over (N, C, d1, ...) inputs, named as PyTorch's."""

    grad_fn_name = "NllLoss2DBackward0"


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean", _op=NllLoss):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"nll_loss: {reduction!r} is not a valid value for reduction (mean, sum, none)")
    if target.dtype is not _dtype.int64:
        raise RuntimeError(f"nll_loss: expected target dtype to be Long (class indices), but got {target.dtype}")
    classes = input.shape[0 if input.ndim == 1 else 1] if input.ndim else 1
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != classes):
        raise RuntimeError(f"nll_loss: weight tensor should be defined either for all {classes} classes or "
                           f"no classes but got weight tensor of shape: {list(weight.shape)}")
    if weight is not None:
        if weight.dtype is not input.dtype:
            raise RuntimeError(f"expected scalar type {_kernel_dtype_name(input.dtype)} but found "
                               f"{_kernel_dtype_name(weight.dtype)}")
        _not_differentiable(weight, "nll_loss_forward", "weight")
    if input.ndim == 1:  # one unbatched sample
        return nll_loss(input.unsqueeze(0), target.reshape(1), weight, ignore_index, reduction).reshape(
            () if reduction != "none" else ())
    if input.ndim > 2:  # (N, C, d1, ...): classes along dim 1
        c = input.shape[1]
        moved = input.permute((0,) + tuple(range(2, input.ndim)) + (1,)).reshape(-1, c)
        out = nll_loss(moved, target.reshape(-1), weight, ignore_index, reduction, _op=NllLoss2d)
        return out.reshape(target.shape) if reduction == "none" else out
    if target.shape != (input.shape[0],):
        raise ValueError(f"nll_loss: Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0] if target.ndim else 'scalar'}); target shape {list(target.shape)}")
    return _op.apply(input, target, weight, ignore_index, reduction)


class _DivByNumber(Function):
    """``x / n`` for a Python number ``n``: PyTorch's ``div(Tensor, Scalar)``, whose grad_fn
    is DivBackward1 (cross_entropy's mean over probability targets ends with it)."""

    grad_fn_name = "DivBackward1"

    @staticmethod
    def forward(ctx, x, n):
        ctx.n = n
        return x._new(x._backend.binary(DIV, x._data, x._backend.scalar(n, x._data.dtype)))

    @staticmethod
    def backward(ctx, g):
        return g / ctx.n, None


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """log_softmax over dim 1 (dim 0 for one sample) then nll_loss; a floating target of
    the input's shape is read as class probabilities."""
    _check_reduction(reduction, "cross_entropy")
    if label_smoothing > 1.0:  # PyTorch's check; a negative amount is treated as none
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.ndim == 1 else 1
    logp = log_softmax(input, class_dim)
    if target.dtype.is_floating_point:
        if target.shape != input.shape:
            raise RuntimeError(f"cross_entropy: expected target dtype to be Long (class indices) or a "
                               f"probability target of the input's shape {list(input.shape)}, but got "
                               f"{target.dtype} of shape {list(target.shape)}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if weight is not None and (weight.ndim != 1 or weight.shape[0] != input.shape[class_dim]):
            raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all "
                               f"{input.shape[class_dim]} classes or no classes but got weight tensor "
                               f"of shape: {list(weight.shape)}")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / input.shape[class_dim]
        terms = logp * target
        if weight is not None:
            terms = terms * weight.reshape((-1,) + (1,) * (input.ndim - class_dim - 1))
        # PyTorch's composite: -(sum) / (numel / classes), -(sum), -(sum over classes)
        if reduction == "mean":
            return _DivByNumber.apply(-terms.sum(), input.numel() / input.shape[class_dim] if input.numel() else 0.0)
        if reduction == "sum":
            return -terms.sum()
        return -terms.sum(class_dim)
    if label_smoothing > 0:
        c = input.shape[class_dim]
        nll = nll_loss(logp, target, weight, ignore_index, reduction)
        smooth = -(logp if weight is None else logp * weight.reshape((-1,) + (1,) * (input.ndim - class_dim - 1))).sum(class_dim)
        ignored = target == ignore_index
        # masked_fill, not a product with the mask: with every target ignored the mean divides
        # by 0, and the ignored rows' gradient must stay 0, not 0 * inf
        smooth = smooth.masked_fill(ignored, 0.0)
        if reduction == "mean":
            # the same denominator as the weighted nll's mean: the targets' total weight
            valid = ~ignored
            count = (valid.sum() if weight is None else (weight[target.masked_fill(ignored, 0)] * valid).sum()).detach()
            # no target counts (all ignored): the nll term's 0 / 0 makes the loss nan, as
            # PyTorch's; dividing this 0 by 1 keeps its gradient 0 (PyTorch's 0 / 0 is masked
            # away by its masked_fill backward, and an inf here would turn into nan on the way)
            smooth = smooth.sum() / ew.where(count == 0, 1, count)
        else:
            smooth = _reduce(smooth, reduction, "cross_entropy")
        return (1 - label_smoothing) * nll + label_smoothing / c * smooth
    return nll_loss(logp, target, weight, ignore_index, reduction)


from .sparse import embedding  # noqa: E402,F401  (the lookup and its EmbeddingBackward0)
from .activation import softmin  # noqa: E402,F401
from .attention import multi_head_attention_forward  # noqa: E402,F401


def _attach_composites():
    from ..ops import composite
    for name, fn in composite.FUNCTIONAL.items():  # this module's own definitions win
        globals().setdefault(name, fn)


_attach_composites()
