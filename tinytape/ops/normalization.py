"""Batch normalisation as PyTorch's ``native_batch_norm``: one tape entry
(``NativeBatchNormBackward0``) for the normalisation, the scale and the shift.

Training normalises by the batch's mean and biased variance over every dim but the
channels (dim 1) and moves the running statistics towards them in place, the variance
with Bessel's correction (PyTorch's choice); evaluation normalises by the running ones.
"""
import math

from .._dtype import float32, float64
from .._grad_mode import is_grad_enabled, no_grad
from .._tensor import Tensor
from ..autograd.function import Function
from . import elementwise as ew
from . import reduction as red
from . import shape as sh


def _kernel_fits(x, *others):
    """Whether the backend's batch-norm kernels serve: float32/float64 operands of one dtype,
    (N, C) or (N, C, L...) inputs."""
    return (hasattr(x._backend, "batch_norm") and x.dtype in (float32, float64) and x.ndim >= 2
            and x.numel() > 0 and all(t is None or t.dtype is x.dtype for t in others))


def _kernel_forward(x, weight, bias, running_mean, running_var, training, momentum, eps):
    """(out, mean, invstd) by the backend's ``batch_norm`` (PyTorch's CPU kernel: the
    statistics, their rounding and the running update), the running statistics updated."""
    out, mean, invstd, new_mean, new_var = x._backend.batch_norm(
        x._data, *(None if t is None else t._data for t in (weight, bias, running_mean, running_var)),
        training, momentum, eps)
    if training:
        with no_grad():
            for running, new in ((running_mean, new_mean), (running_var, new_var)):
                if running is not None:
                    running.copy_(x._new(new))
    return x._new(out), x._new(mean), x._new(invstd)


def _per_channel(t, ndim):
    return sh.reshape(t, (1, -1) + (1,) * (ndim - 2))


class NativeBatchNorm(Function):
    grad_fn_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        dims = (0,) + tuple(range(2, x.ndim))
        if _kernel_fits(x, weight, bias, running_mean, running_var):
            out, mean, invstd = _kernel_forward(x, weight, bias, running_mean, running_var, training, momentum, eps)
            ctx.training, ctx.eps, ctx.dims, ctx.kernel = training, eps, dims, True
            ctx.running_var = None if training else running_var  # evaluation's gradient: invstd in float64
            ctx.save_for_backward(x, weight, mean, invstd)
            return out
        ctx.kernel = False
        if training:
            mean = red.mean(x, dims)
            centred = ew.sub(x, _per_channel(mean, x.ndim))
            var = red.mean(centred.square(), dims)
            if running_mean is not None or running_var is not None:
                n = x.numel() // x.shape[1]
                with no_grad():
                    if running_mean is not None:
                        running_mean.mul_(1 - momentum).add_(ew.mul(mean, momentum).to(running_mean.dtype))
                    if running_var is not None:
                        unbiased = ew.mul(var, momentum * n / (n - 1) if n > 1 else math.nan)
                        running_var.mul_(1 - momentum).add_(unbiased.to(running_var.dtype))
        else:
            mean, var = running_mean.to(x.dtype), running_var.to(x.dtype)
            centred = ew.sub(x, _per_channel(mean, x.ndim))
        invstd = ew.add(var, eps).rsqrt()
        scale = invstd if weight is None else ew.mul(invstd, weight)  # per channel: one pass over x below
        out = ew.mul(centred, _per_channel(scale, x.ndim))
        if bias is not None:
            out = ew.add(out, _per_channel(bias, x.ndim))
        ctx.training, ctx.eps, ctx.dims = training, eps, dims
        ctx.save_for_backward(x, weight, mean, invstd)
        return out

    @staticmethod
    def backward(ctx, g):
        """With x^ the normalised input and n the values per channel:
        dx = invstd * w * (g - sum(g) / n - x^ * sum(g x^) / n) in training (the batch
        statistics depend on x), invstd * w * g in evaluation; dw = sum(g x^), db = sum(g)."""
        x, weight, mean, invstd = ctx.saved_tensors
        dims, training, ndim = ctx.dims, ctx.training, x.ndim
        if ctx.kernel and not is_grad_enabled() and g.dtype is x.dtype:  # PyTorch's CPU kernel
            running_var = None if ctx.running_var is None else ctx.running_var._data
            parts = x._backend.batch_norm_backward(g._data, x._data, None if weight is None else weight._data,
                                                   mean._data, invstd._data, running_var, training, ctx.eps)
            wants = (ctx.needs_input_grad[0], weight is not None and ctx.needs_input_grad[1], ctx.needs_input_grad[2])
            return tuple(x._new(p) if want else None for p, want in zip(parts, wants)) + (None,) * 5
        if training and is_grad_enabled():  # create_graph: the batch statistics as functions of x
            mean = red.mean(x, dims)
            invstd = ew.add(red.mean(ew.sub(x, _per_channel(mean, ndim)).square(), dims), ctx.eps).rsqrt()
        wants_x, wants_w, wants_b = ctx.needs_input_grad[:3]
        normalised = ew.mul(ew.sub(x, _per_channel(mean, ndim)), _per_channel(invstd, ndim))
        sum_g = red.sum(g, dims) if wants_b or (wants_x and training) else None
        sum_gx = red.sum(ew.mul(g, normalised), dims) if wants_w or (wants_x and training) else None
        grad_x = None
        if wants_x:
            scale = _per_channel(invstd if weight is None else ew.mul(invstd, weight), ndim)
            if training:
                n = x.numel() // x.shape[1]
                centred = ew.sub(g, _per_channel(ew.div(sum_g, n), ndim))
                grad_x = ew.mul(ew.sub(centred, ew.mul(normalised, _per_channel(ew.div(sum_gx, n), ndim))), scale)
            else:
                grad_x = ew.mul(g, scale)
        return grad_x, sum_gx if wants_w else None, sum_g if wants_b else None, None, None, None, None, None


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise ``input`` (N, C, ...) per channel, then scale by ``weight`` and shift by
    ``bias``; see the module docstring for the statistics."""
    for name, t in (("input", input), ("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and not isinstance(t, Tensor) or (name == "input" and t is None):
            raise TypeError(f"batch_norm(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input with at least 2 dims (N, C, ...), got shape "
                         f"{list(input.shape)}")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"batch_norm: expected a floating point input, got {input.dtype}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {t.numel()}")
    if training:
        if input.numel() // channels == 1 if channels else False:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{input.shape}")
    elif running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var must be defined in evaluation mode")
    return NativeBatchNorm.apply(input, weight, bias, running_mean, running_var, bool(training),
                                 float(momentum) if momentum is not None else 0.0, float(eps))
