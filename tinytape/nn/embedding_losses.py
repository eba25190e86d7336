"""More losses, as PyTorch's: embedding and margin losses (``CosineEmbeddingLoss``,
``TripletMarginLoss``, ``HingeEmbeddingLoss``, ``MultiMarginLoss``,
``MultiLabelMarginLoss``, ``MultiLabelSoftMarginLoss``), the likelihood losses
(``PoissonNLLLoss``, ``GaussianNLLLoss``) and their functional forms.  Each is composed
from recorded ops in PyTorch's order; where PyTorch records the whole loss as one entry
(``MultiMarginLossBackward0``, ``MultilabelMarginLossBackward0``) it is one entry here too."""
import math

import numpy as np

from .. import _creation
from .._grad_mode import is_grad_enabled, no_grad
from ..ops import elementwise as ew
from ..ops.composite_entry import composite_op
from .distance import pairwise_distance
from .loss import _Loss, _legacy_reduction
from .pointwise import logsigmoid

_REDUCTIONS = ("mean", "sum", "none")


def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """``1 - cos(x1, x2)`` where ``target`` is 1, ``max(0, cos - margin)`` where it is -1
    (PyTorch's cosine: the squared norms each plus 1e-12, then the root of their product)."""
    reduction = _reduction(size_average, reduce, reduction)
    if input1.ndim != input2.ndim or input1.shape != input2.shape:
        raise RuntimeError(f"cosine_embedding_loss: expected input1 and input2 to have the same shape, but got "
                           f"{list(input1.shape)} and {list(input2.shape)}")
    if target.ndim + 1 != input1.ndim or input1.ndim not in (1, 2):
        raise RuntimeError(f"{input1.ndim}D target tensor expects {input1.ndim - 1}D input tensors, but found "
                           f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}."
                           if target.ndim + 1 == input1.ndim else
                           f"{target.ndim}D target tensor expects {target.ndim + 1}D input tensors, but found "
                           f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    dim = 1 if input1.ndim == 2 else 0
    prod_sum = (input1 * input2).sum(dim)
    mag_square1 = (input1 * input1).sum(dim) + 1e-12
    mag_square2 = (input2 * input2).sum(dim) + 1e-12
    cos = prod_sum / (mag_square1 * mag_square2).sqrt()
    for d in range(1, min(cos.ndim, target.ndim) + 1):
        if target.shape[-d] != cos.shape[-d] and 1 not in (target.shape[-d], cos.shape[-d]):
            raise RuntimeError(f"The size of tensor a ({target.shape[-d]}) must match the size of tensor b "
                               f"({cos.shape[-d]}) at non-singleton dimension {target.ndim - d}")
    zeros = _creation.zeros_like(cos)
    pos = 1 - cos
    neg = (cos - margin).clamp_min(0)
    output = ew.where(target == 1, pos, zeros) + ew.where(target == -1, neg, zeros)
    return _reduce(output, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """``x`` where ``target`` is 1, ``max(0, margin - x)`` where it is -1 (others: both)."""
    reduction = _reduction(size_average, reduce, reduction)
    zeros = _creation.zeros_like(input)
    margin_clamp = (margin - input).clamp_min(0)
    output = ew.where(target != 1, margin_clamp, zeros) + ew.where(target != -1, input, zeros)
    return _reduce(output, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the pairwise p-norm distance (with
    ``swap``, ``d(a, n)`` replaced by ``d(p, n)`` where that is smaller)."""
    reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dims = (anchor.ndim, positive.ndim, negative.ndim)
    if len(set(dims)) != 1:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative {dims[2]}D "
                           "inputs")
    dist_pos = pairwise_distance(anchor, positive, p, eps)
    dist_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_neg = ew.minimum(dist_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + dist_pos - dist_neg).clamp_min(0), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """The mean over classes of the binary cross entropies of ``sigmoid(input)``."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    loss = loss.sum(dim=class_dim) / input.shape[class_dim]
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """``exp(x) - t x`` (``log_input``) or ``x - t log(x + eps)``; with ``full`` Stirling's
    term ``t log t - t + log(2 pi t) / 2`` added where ``t > 1``."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not a valid value for reduction")
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """``(log(max(var, eps)) + (x - t)^2 / max(var, eps)) / 2`` (+ ``log(2 pi) / 2`` with
    ``full``); ``var`` one per element, or one per sample (its last dimension left out or 1)."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * _creation.ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(y for x, y in zip(input.shape, var.shape) if x != y) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def _class_targets(input, target, op):
    """``input`` as (N, C) and ``target``'s values on the host (a target is never
    differentiated), checked as PyTorch checks them."""
    if input.ndim > 2 or input.numel() == 0 and input.ndim != 2:
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")
    return input.reshape(1, -1) if input.ndim <= 1 else input, np.asarray(target.detach().cpu().numpy())


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Per sample, ``sum over i != y of max(0, margin - x[y] + x[i])^p (times weight[y]) / C``."""
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    x, labels = _class_targets(input, target, "multi_margin_loss")
    n, c = x.shape
    labels = labels.reshape(-1).astype(np.int64)
    if target.ndim > 1 or labels.size != n:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                           f"samples (batch size). Expected target size [{n}], but got {list(target.shape)}. Input "
                           f"has shape {list(input.shape)}.")
    if labels.size and (labels.min() < 0 or labels.max() >= c):
        raise RuntimeError("target out of range")
    if weight is not None and weight.requires_grad and is_grad_enabled():
        raise RuntimeError("The function 'multi_margin_loss' is not differentiable with respect to argument "
                           "'weight'. This input cannot have requires_grad True.")
    others = _creation.tensor(np.arange(c)[None, :] != labels[:, None], device=input.device)
    index = _creation.tensor(labels[:, None], device=input.device)

    def compute(x):
        z = (margin - x.gather(1, index) + x).clamp_min(0)
        h = z if p == 1 else z * z
        if weight is not None:
            h = h * weight.gather(0, index.reshape(-1)).unsqueeze(1)
        per_sample = ew.where(others, h, _creation.zeros_like(h)).sum(1) / c
        if input.ndim <= 1 and reduction == "none":
            per_sample = per_sample.reshape(())
        return _reduce(per_sample, reduction)
    return composite_op("MultiMarginLossBackward0", compute, x)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Per sample, ``sum over target classes j and non-target classes i of max(0, 1 - (x[j] -
    x[i])) / C``; the target lists class indices, ended by the first -1."""
    reduction = _reduction(size_average, reduce, reduction)
    x, labels = _class_targets(input, target, "multilabel_margin_loss")
    n, c = x.shape
    labels = labels.reshape(n, -1).astype(np.int64)
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}")
    counts = np.zeros((n, c))
    for row, values in enumerate(labels):
        for v in values:
            if v < 0:
                break
            if v >= c:
                raise RuntimeError("argument #2 'target' is out of range")
            counts[row, v] += 1
    pairs = counts[:, :, None] * (counts == 0)[:, None, :]  # (sample, target class j, other class i)
    weights = _creation.tensor(pairs, dtype=input.dtype, device=input.device)

    def compute(x):
        z = (1 - x.unsqueeze(2) + x.unsqueeze(1)).clamp_min(0)
        per_sample = (z * weights).sum((1, 2)) / c
        if input.ndim <= 1 and reduction == "none":
            per_sample = per_sample.reshape(())
        return _reduce(per_sample, reduction)
    return composite_op("MultilabelMarginLossBackward0", compute, x)


class CosineEmbeddingLoss(_Loss):
    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got {margin} instead")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                   swap=self.swap, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


class MultiMarginLoss(_Loss):
    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got {weight.ndim}D instead")
        self.register_buffer("weight", weight)
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                 reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    def forward(self, input, target):
        return multilabel_margin_loss(input, target, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(None, None, reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


MODULES = ["CosineEmbeddingLoss", "HingeEmbeddingLoss", "TripletMarginLoss", "MultiLabelSoftMarginLoss",
           "MultiMarginLoss", "MultiLabelMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss"]
FUNCTIONAL = {
    "cosine_embedding_loss": cosine_embedding_loss, "hinge_embedding_loss": hinge_embedding_loss,
    "triplet_margin_loss": triplet_margin_loss, "multilabel_soft_margin_loss": multilabel_soft_margin_loss,
    "multi_margin_loss": multi_margin_loss, "multilabel_margin_loss": multilabel_margin_loss,
    "poisson_nll_loss": poisson_nll_loss, "gaussian_nll_loss": gaussian_nll_loss,
}
