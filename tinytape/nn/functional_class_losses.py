"""The class-index losses of ``nn.functional``: ``nll_loss`` and ``cross_entropy``."""
import functools

import numpy as np

from .. import _autocast, _dtype
from ..autograd.function import Function
from ..backend.opcodes import DIV, MUL, NE
from ..ops import elementwise as ew
from ..ops.shape import scatter_flat
from ..ops.softmax import _kernel_dtype_name, log_softmax
from .functional_losses import _check_reduction, _not_differentiable, _reduce


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
        ctx.shape, ctx.reduction = logp.shape, reduction
        if weight is None and reduction != "none" and ew.fuses(logp) and type(ignore_index) is int \
                and -2 ** 63 <= ignore_index < 2 ** 63:  # the kernels below as one
            fused = ew.cpu_fused.nll_forward(logp._data, t, ignore_index, reduction == "mean")
            if fused is not None:
                ctx.ids, neg_w, valid, total, denominator = fused
                ctx.w, ctx.valid = logp._new(neg_w), logp._new(valid)
                if denominator is not None:
                    ctx.denominator = logp._new(denominator)
                return logp._new(total)
        valid = backend.compare(NE, t, backend.scalar(ignore_index, t.dtype))
        safe_t = backend.where(valid, t, backend.scalar(0, t.dtype))
        rows, where = _class_plan(n, c)
        ids = backend.positions(rows, safe_t, where, 1, c,
                                False, (False, "Target ", " is out of bounds."))
        w = backend.astype(valid, dtype)
        if weight is not None:
            w = backend.binary(MUL, w, backend.gather(weight._data, safe_t))
        neg_w = backend.binary(MUL, w, backend.scalar(-1, dtype))
        losses = backend.binary(MUL, backend.gather(logp._data, ids), neg_w)
        ctx.ids, ctx.w = ids, logp._new(neg_w)
        # rows whose target is ignore_index get no gradient at all, even when the mean's
        # denominator (the targets' total weight) is 0 and the loss is nan: PyTorch's kernel
        # only writes the other rows
        ctx.valid = logp._new(valid)
        if reduction == "none":
            return logp._new(losses)
        # PyTorch's kernel adds the rows whose target is not ignore_index, in its order
        total = backend.nll_sum(losses, valid)
        if reduction == "mean":
            denominator = backend.nll_sum(w, valid)
            ctx.denominator = logp._new(denominator)
            total = backend.binary(DIV, total, denominator)
        return logp._new(total)

    @staticmethod
    def backward(ctx, g):
        if ew.kernels_serve(g, ctx.w):  # the kernels of the ops below, in their order, without the ops
            backend, grad = g._backend, g._data
            if ew.fuses(g):
                fused = ew.cpu_fused.nll_backward(grad, ctx.denominator._data if ctx.reduction == "mean" else None,
                                                  ctx.w._data, ctx.valid._data, ctx.ids, ctx.shape)
                if fused is not None:
                    return g._new(fused), None, None, None, None
            if ctx.reduction == "mean":
                grad = backend.binary(DIV, grad, ctx.denominator._data)
            grad = backend.binary(MUL, ctx.w._data, grad)
            grad = backend.where(ctx.valid._data, grad, backend.scalar(0.0, grad.dtype))
            return scatter_flat(g._new(grad), ctx.ids, ctx.shape), None, None, None, None
        if ctx.reduction == "mean":
            g = g / ctx.denominator
        grad = ctx.w * g
        grad = ew.where(ctx.valid, grad, 0.0)
        return scatter_flat(grad, ctx.ids, ctx.shape), None, None, None, None


class NllLoss2d(NllLoss):
    """The same loss over (N, C, d1, ...) inputs, named as PyTorch's."""

    grad_fn_name = "NllLoss2DBackward0"


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean", _op=NllLoss):
    if _autocast.state.__dict__:
        input, = _autocast.float32(input)
    _check_reduction(reduction, "nll_loss")
    _check_nll_target(input, target)
    if target.dtype is _dtype.uint8:  # PyTorch's kernels read Byte targets as class indices too
        target = target.to(_dtype.int64)
    classes = input.shape[0 if input.ndim == 1 else 1] if input.ndim else 1
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != classes):
        raise RuntimeError(f"weight tensor should be defined either for all {classes} classes or "
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
    return _op.apply(input, target, weight, ignore_index, reduction)


def _check_nll_target(input, target):
    """PyTorch's checks of class-index targets, in its order and words: the batch sizes, the
    target's rank (its shape for inputs of more dims), then its dtype."""
    batch = target.shape[0] if target.ndim else 0
    if input.ndim == 1 and target.ndim == 1 and target.shape[0] != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}")
    if input.ndim > 1 and input.shape[0] != batch:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({batch}).")
    if input.ndim <= 2 and target.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input.ndim > 2 and tuple(target.shape) != (input.shape[0],) + tuple(input.shape[2:]):
        raise RuntimeError(f"Expected target size {[input.shape[0], *input.shape[2:]]}, got {list(target.shape)}")
    if target.dtype is not _dtype.int64 and target.dtype is not _dtype.uint8:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_kernel_dtype_name(target.dtype)}")


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """log_softmax over dim 1 (dim 0 for one sample) then nll_loss; a floating target of
    the input's shape is read as class probabilities."""
    if _autocast.state.__dict__:
        input, = _autocast.float32(input)
    _check_reduction(reduction, "cross_entropy")
    if label_smoothing > 1.0:  # PyTorch's check; a negative amount is treated as none
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.ndim == 1 else 1
    if target.shape == input.shape and not target.dtype.is_floating_point:
        # a target of the input's shape is read as class probabilities, whatever its dtype
        raise RuntimeError(f"Expected floating point type for target with class probabilities, "
                           f"got {_kernel_dtype_name(target.dtype)}")
    logp = log_softmax(input, class_dim)
    if target.dtype.is_floating_point:
        if target.shape != input.shape:  # read as class indices, as PyTorch does, and refused there
            _check_nll_target(input, target)
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if weight is not None and (weight.ndim != 1 or weight.shape[0] != input.shape[class_dim]):
            raise RuntimeError(f"weight tensor should be defined either for all "
                               f"{input.shape[class_dim]} classes or no classes but got weight tensor "
                               f"of shape: {list(weight.shape)}")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / input.shape[class_dim]
        terms = logp * target
        if weight is not None:
            terms = terms * weight.reshape((-1,) + (1,) * (input.ndim - class_dim - 1))
        # PyTorch's composite: -(sum) / (numel / classes), -(sum), -(sum over classes)
        if reduction == "mean":
            return ew.DivByNumber.apply(-terms.sum(), input.numel() / input.shape[class_dim] if input.numel() else 0.0)
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

