"""More of ``torch.nn``, each composed from recorded ops with PyTorch's formulas, parameters,
initialisation and reprs: losses (``SmoothL1Loss``, ``KLDivLoss``, ``MarginRankingLoss``,
``SoftMarginLoss``), activations (``PReLU``, ``GLU``, ``Softmax2d``, ``Hardshrink``,
``Softshrink``), channel dropout (``Dropout1d/2d/3d``), padding modules, ``Upsample``, with their
functional forms (normalisation, adaptive max pooling and ``Bilinear``: ``norms_pools.py``; the
pixel and channel shuffles: ``shuffling.py``)."""
import numbers
import warnings

from .. import _autocast, _creation, _random
from ..ops import elementwise as ew
from ..ops.composed import xlogy
from ..ops.extras import hardshrink
from . import functional as F
from . import init
from .dropout import Dropout
from .loss import _Loss
from .module import Module
from .parameter import Parameter


def _reduce(loss, reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


# ---------------------------------------------------------------- losses


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """``target * (log(target) - input)`` (0 where target is 0), or with ``log_target``
    ``exp(target) * (target - input)``; 'batchmean' divides the sum by the batch size."""
    if _autocast.state.__dict__:
        input, target = _autocast.float32(input, target)
    if size_average is not None or reduce is not None:
        from .loss import _legacy_reduction
        reduction = _legacy_reduction(size_average, reduce)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=_creation._user_stacklevel())
    if log_target:
        loss = ew.mul(target.exp(), ew.sub(target, input))
    else:
        loss = ew.sub(xlogy(target, target), ew.mul(target, input))
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim != 0 else total
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, "
                           f"target: {tuple(target.shape)} ")
    loss = ew.add(ew.mul(ew.neg(target), ew.sub(input1, input2)), margin).clamp_min(0)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``log1p(exp(-input * target))``, reduced: one recorded entry, PyTorch's SoftMarginLossBackward0."""
    from ..ops.composite_entry import composite_op
    return composite_op("SoftMarginLossBackward0",
                        lambda x, y: _reduce(ew.mul(ew.neg(x), y).exp().log1p(), reduction), input, target)


class SmoothL1Loss(_Loss):
    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class KLDivLoss(_Loss):
    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction if reduction != "batchmean" else "mean")
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input, target):
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MarginRankingLoss(_Loss):
    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    def forward(self, input, target):
        return soft_margin_loss(input, target, reduction=self.reduction)


# ---------------------------------------------------------------- activations


def prelu(input, weight):
    """``input`` where positive, ``weight * input`` elsewhere; ``weight`` per channel (dim 1)."""
    if weight.numel() != 1:
        if input.ndim < 2 and weight.numel() != (input.shape[0] if input.ndim else 1):
            raise RuntimeError("prelu: mismatch of parameter numbers and input channel size")
        channels = input.shape[1] if input.ndim >= 2 else input.shape[0]
        if weight.numel() != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{weight.numel()} and channel size = {channels}.")
        if input.ndim >= 2:
            weight = weight.reshape((channels,) + (1,) * (input.ndim - 2))
    from ..ops.composite_entry import composite_op
    return composite_op("PreluKernelBackward0", lambda x, w: ew.where(ew.gt(x, 0), x, ew.mul(w, x)), input, weight)


def glu(input, dim=-1):
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim % input.ndim
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {input.shape[d]}")
    from ..ops.composite_entry import composite_op

    def compute(x):
        a, b = x.chunk(2, d)
        return ew.mul(a, b.sigmoid())
    return composite_op("GluBackward0", compute, input)


def softshrink(input, lambd=0.5):
    from ..ops.composite_entry import composite_op

    def compute(x):
        # inside the band: x * 0, a zero with x's sign, as PyTorch's kernel
        return ew.where(ew.gt(x, lambd), ew.sub(x, lambd), ew.where(ew.lt(x, -lambd), ew.add(x, lambd), ew.mul(x, 0)))
    return composite_op("SoftshrinkBackward0", compute, input)


class PReLU(Module):
    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(_creation.empty(num_parameters, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class GLU(Module):
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax2d(Module):
    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        return F.softmax(input, -3)


class Hardshrink(Module):
    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return hardshrink(input, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    def forward(self, input):
        return softshrink(input, self.lambd)


# ---------------------------------------------------------------- channel dropout


def _feature_dropout(input, p, training, inplace):
    """PyTorch's feature dropout: one ``bernoulli_(1 - p)`` draw per (sample, channel), in the
    input's dtype, divided by ``1 - p``, multiplied in."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    noise_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    if p == 1.0:
        noise = _creation.zeros(*noise_shape, dtype=input.dtype, device=input.device)
    else:  # dropout's kernel draws it (bernoulli_(1 - p), divided by 1 - p): a compiled step draws anew at each replay
        from .._tensor import Tensor
        from ..backend.cpu import cpu
        mt, ctr = _random.engine()
        drawn = cpu.dropout_noise(mt, ctr, noise_shape, 1.0 - p, input.dtype.np)
        noise = Tensor._make(drawn if input.device.type == "cpu" else input._backend.asarray(drawn),
                             backend=input._backend)
    return input.mul_(noise) if inplace else ew.mul(input, noise)


def dropout1d(input, p=0.5, training=True, inplace=False):
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    if input.ndim == 2:
        return _feature_dropout(input.unsqueeze(0), p, training, inplace).squeeze(0)
    return _feature_dropout(input, p, training, inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this warning, "
                      "please use dropout instead. Note that dropout2d exists to provide channel-wise dropout on "
                      "inputs with 2 spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 3D or 4D inputs).")
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a "
                      "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
                      "please switch to using dropout1d instead.")
    return _feature_dropout(input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will "
                      "result in an error in a future release.")
    if input.ndim == 4:
        return _feature_dropout(input.unsqueeze(0), p, training, inplace).squeeze(0)
    return _feature_dropout(input, p, training, inplace)


class _DropoutNd(Dropout):
    """``Dropout`` (its checks and repr) over whole channels: ``_fn`` draws per channel."""
    _fn = None

    def forward(self, input):
        return type(self)._fn(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    _fn = staticmethod(dropout1d)


class Dropout2d(_DropoutNd):
    _fn = staticmethod(dropout2d)


class Dropout3d(_DropoutNd):
    _fn = staticmethod(dropout3d)


# ---------------------------------------------------------------- padding and resizing


def _pairs(padding, n):
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * (2 * n)
    padding = tuple(padding)
    if len(padding) != 2 * n:
        raise ValueError(f"padding should have {2 * n} values, got {len(padding)}")
    return padding


class _PadNd(Module):
    _dims, _mode = 1, "constant"

    def __init__(self, padding, value=None):
        super().__init__()
        self.padding = _pairs(padding, self._dims)
        if value is not None:
            self.value = value

    def forward(self, input):
        if self._mode == "constant":
            return F.pad(input, self.padding, "constant", getattr(self, "value", 0.0))
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        if type(self).__name__.startswith("Constant"):
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


def _pad_class(name, dims, mode, constant=False):
    def __init__(self, padding, *args):
        _PadNd.__init__(self, padding, (args[0] if args else 0.0) if constant else None)
    if not constant and mode == "constant":  # ZeroPad: value 0, not shown
        def __init__(self, padding):  # noqa: F811
            _PadNd.__init__(self, padding, 0.0)

        def extra_repr(self):
            return f"{self.padding}"
        return type(name, (_PadNd,), {"_dims": dims, "_mode": mode, "__init__": __init__, "extra_repr": extra_repr})
    return type(name, (_PadNd,), {"_dims": dims, "_mode": mode, "__init__": __init__})


ZeroPad1d, ZeroPad2d, ZeroPad3d = (_pad_class(f"ZeroPad{n}d", n, "constant") for n in (1, 2, 3))
ConstantPad1d, ConstantPad2d, ConstantPad3d = (_pad_class(f"ConstantPad{n}d", n, "constant", True) for n in (1, 2, 3))
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = (_pad_class(f"ReflectionPad{n}d", n, "reflect") for n in (1, 2, 3))
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = (_pad_class(f"ReplicationPad{n}d", n, "replicate")
                                                        for n in (1, 2, 3))
CircularPad1d, CircularPad2d, CircularPad3d = (_pad_class(f"CircularPad{n}d", n, "circular") for n in (1, 2, 3))


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return F.interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return F.interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return F.interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


class Upsample(Module):
    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


MODULES = ["SmoothL1Loss", "KLDivLoss", "MarginRankingLoss", "SoftMarginLoss", "PReLU", "GLU", "Softmax2d",
           "Hardshrink", "Softshrink", "Dropout1d", "Dropout2d", "Dropout3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
           "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d", "CircularPad2d",
           "CircularPad3d", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]
FUNCTIONAL = {
    "kl_div": kl_div, "margin_ranking_loss": margin_ranking_loss, "soft_margin_loss": soft_margin_loss,
    "prelu": prelu, "glu": glu, "hardshrink": hardshrink, "softshrink": softshrink, "dropout1d": dropout1d,
    "dropout2d": dropout2d, "dropout3d": dropout3d, "upsample": upsample, "upsample_nearest": upsample_nearest,
    "upsample_bilinear": upsample_bilinear,
}
