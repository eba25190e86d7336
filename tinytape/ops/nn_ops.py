"""nn.functional forms built from tinytape's own recorded ops: normalisation,
padding, dropout and losses.  Their gradients and CUDA path are those of the ops they use."""
import math
import numbers

from .. import _autocast, _creation, _dtype, _random
from .._grad_mode import is_grad_enabled
from .._tensor import Tensor
from ..autograd.function import Function
from . import dtype_rules
from . import elementwise as ew
from . import reduction as red
from . import shape as sh
from .padding import pad_copying
from .windows import _check_tensor


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    norms = red.norm(input, p, dim, keepdim=True)
    return ew.div(input, sh.expand(ew.clamp(norms, min=eps), input.shape))


def _layer_norm_parts(input, dims, eps):
    """(centered input, 1 / sqrt(variance + eps)) over ``dims``, biased variance."""
    centered = ew.sub(input, red.mean(input, dims, keepdim=True))
    variance = red.mean(ew.mul(centered, centered), dims, keepdim=True)
    return centered, ew.pow(ew.add(variance, eps), -0.5)


def _data(t):
    return None if t is None else t._data


def _kernel_fits(input, weight, bias):
    """Whether the backend's ``layer_norm`` kernel serves: float32/float64 of one dtype."""
    return (hasattr(input._backend, "layer_norm") and input.dtype in (_dtype.float32, _dtype.float64)
            and input.numel() > 0 and all(t is None or t.dtype is input.dtype for t in (weight, bias)))


class NativeLayerNorm(Function):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` over the trailing ``dims``: one
    tape entry for input, weight and bias, as PyTorch's ``NativeLayerNormBackward0``.
    The backward recomputes mean and rstd from the saved input with recorded ops, so
    second derivatives see their dependence on it."""
    grad_fn_name = "NativeLayerNormBackward0"

    @staticmethod
    def forward(ctx, input, weight, bias, dims, eps):
        ctx.moments = None
        if _kernel_fits(input, weight, bias):  # PyTorch's CPU kernel, bit for bit
            cols = math.prod(input.shape[input.ndim - len(dims):])
            out, mean, rstd = input._backend.layer_norm(input._data, _data(weight), _data(bias), cols, eps)
            ctx.save_for_backward(input, weight)
            ctx.dims, ctx.eps, ctx.moments, ctx.cols = dims, eps, (mean, rstd), cols
            return input._new(out)
        centered, rstd = _layer_norm_parts(input, dims, eps)
        result = ew.mul(centered, rstd)
        ctx.save_for_backward(input, weight)
        ctx.dims, ctx.eps = dims, eps
        if weight is not None:
            result = ew.mul(result, weight)
        return result if bias is None else ew.add(result, bias)

    @staticmethod
    def backward(ctx, grad):
        input, weight = ctx.saved_tensors
        dims = ctx.dims
        if ctx.moments is not None and not is_grad_enabled() and grad.dtype is input.dtype:
            wants = (ctx.needs_input_grad[0], weight is not None and ctx.needs_input_grad[1], ctx.needs_input_grad[2])
            parts = input._backend.layer_norm_backward(grad._data, input._data, _data(weight), *ctx.moments,
                                                       ctx.cols, wants)
            trailing = tuple(input.shape[input.ndim - len(dims):])
            return tuple(input._new(p.reshape(shape)) if want else None for p, shape, want in
                         zip(parts, (tuple(input.shape), trailing, trailing), wants)) + (None, None)
        centered, rstd = _layer_norm_parts(input, dims, ctx.eps)
        normalized = ew.mul(centered, rstd)
        lead = tuple(range(input.ndim - len(dims)))
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            g = grad if weight is None else ew.mul(grad, weight)
            mean_g = red.mean(g, dims, keepdim=True)
            mean_gx = red.mean(ew.mul(g, normalized), dims, keepdim=True)
            grad_input = ew.mul(ew.sub(ew.sub(g, mean_g), ew.mul(normalized, mean_gx)), rstd)
        if weight is not None and ctx.needs_input_grad[1]:
            grad_weight = ew.mul(grad, normalized)
            grad_weight = red.sum(grad_weight, lead) if lead else grad_weight
        if ctx.needs_input_grad[2]:
            grad_bias = red.sum(grad, lead) if lead else grad
        return grad_input, grad_weight, grad_bias, None, None


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    _check_tensor(input, "layer_norm")
    dtype_rules.check("layer_norm", input.dtype)
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    if not shape or tuple(input.shape[input.ndim - len(shape):]) != shape or len(shape) > input.ndim:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got "
                               f"{name} of shape {list(value.shape)} and normalized_shape = {list(shape)}")
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    return NativeLayerNorm.apply(input, weight, bias, dims, eps)


class SmoothL1Loss(Function):
    """The loss from its pointwise terms; the gradient by PyTorch's formula,
    ``-g`` / ``x g / beta`` / ``g`` for ``x = input - target`` below ``-beta`` / within
    ``beta`` / above it: finite where ``x`` is infinite and nan where it is nan, which the
    derivative of the composite (through ``abs`` and ``where``) would not give."""
    grad_fn_name = "SmoothL1LossBackward0"

    @staticmethod
    def forward(ctx, input, target, beta, reduction):
        x = ew.sub(input, target)
        ctx.save_for_backward(input, target)
        ctx.beta, ctx.reduction, ctx.count = beta, reduction, x.numel()
        diff = ew.abs(x)
        loss = ew.where(ew.lt(diff, beta), ew.div(ew.mul(ew.mul(diff, diff), 0.5), beta), ew.sub(diff, 0.5 * beta))
        if reduction == "none":
            return loss
        return red.mean(loss) if reduction == "mean" else red.sum(loss)

    @staticmethod
    def backward(ctx, g):
        input, target = ctx.saved_tensors
        x = ew.sub(input, target)  # recorded under create_graph: the gradient depends on it
        if ctx.reduction == "mean":
            g = ew.div(g, ctx.count)
        beta = ctx.beta
        grad = ew.where(ew.lt(x, -beta), ew.neg(g), ew.where(ew.gt(x, beta), g, ew.div(ew.mul(x, g), beta)))
        if grad.shape != x.shape:
            grad = sh.expand(grad, x.shape)
        return (grad if ctx.needs_input_grad[0] else None,
                ew.neg(grad) if ctx.needs_input_grad[1] else None, None, None)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    if _autocast.state.__dict__:
        input, target = _autocast.float32(input, target)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if isinstance(target, Tensor) and target.dtype is _dtype.bool_ and isinstance(input, Tensor):
        target = target.to(input.dtype)  # PyTorch's kernel reads a bool target as numbers
    if beta == 0:  # PyTorch's l1_loss, as its smooth_l1_loss does
        loss = ew.abs(ew.sub(input, target))
        return loss if reduction == "none" else red.mean(loss) if reduction == "mean" else red.sum(loss)
    return SmoothL1Loss.apply(input, target, beta, reduction)


def pad(input, pad, mode="constant", value=None):
    """``input`` widened by ``pad = (left, right, top, bottom, ...)`` elements of the last
    dimensions (negative amounts crop), filled with ``value`` (``mode='constant'``) or
    with copies of its own elements ('reflect', 'replicate', 'circular': padding.py)."""
    _check_tensor(input, "pad")
    if mode in ("reflect", "replicate", "circular"):
        if value:
            raise RuntimeError(f"pad: Padding mode \"{mode}\" doesn't take in value argument")
        if len(pad) % 2:
            raise RuntimeError(f"pad: Padding length must be divisible by 2, got {len(pad)}")
        return pad_copying(input, pad, mode)
    if mode != "constant":
        raise NotImplementedError(f"pad: Unrecognised padding mode {mode}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise RuntimeError(f"pad: Padding length must be divisible by 2 and at most twice the input's dimensions "
                           f"({input.ndim}), got {len(pad)}")
    return ConstantPadNd.apply(input, tuple(int(p) for p in pad), 0.0 if value is None else value)


class ConstantPadNd(Function):
    """Crops (negative amounts) then concatenates blocks of ``value``, dim by dim; the
    gradient is the same op with the amounts negated (padding and cropping swap)."""

    grad_fn_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, input, pad, value):
        ctx.pad = pad
        out = input
        for k in range(len(pad) // 2):
            d = input.ndim - 1 - k
            before, after = pad[2 * k], pad[2 * k + 1]
            lead = (slice(None),) * d
            out = out[lead + (slice(max(-before, 0), out.shape[d] - max(-after, 0)),)]
            pieces = []
            for amount in (before, None, after):
                if amount is None:
                    pieces.append(out)
                elif amount > 0:
                    shape = tuple(out.shape[:d]) + (amount,) + tuple(out.shape[d + 1:])
                    pieces.append(_creation.full(shape, value, dtype=out.dtype, device=out.device))
            out = sh.cat(pieces, d) if len(pieces) > 1 else out
        return sh.clone(out) if out is input or out._view is not None else out  # a new tensor, never a view

    @staticmethod
    def backward(ctx, g):
        return ConstantPadNd.apply(g, tuple(-p for p in ctx.pad), 0.0), None, None


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    dtype_rules.check("dropout", input.dtype)
    if p == 1.0:
        return input * 0.0
    # PyTorch's CPU dropout: noise = bernoulli_(1 - p) in the input's dtype, divided by 1 - p
    # (rounded to the dtype), then multiplied in; drawn by a kernel of the CPU backend, so a
    # compiled step draws fresh numbers from the generator at every replay
    from ..backend.cpu import cpu
    mt, ctr = _random.engine()
    noise = cpu.dropout_noise(mt, ctr, tuple(input.shape), 1.0 - p, input.dtype.np, _random.dense_order(input))
    if input.device.type != "cpu":
        noise = input._backend.asarray(noise)
    mask = Tensor._make(noise, backend=input._backend)
    if inplace:
        return input.mul_(mask)
    return input * mask
