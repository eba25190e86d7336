"""Muon (Jordan et al.): momentum SGD whose update of each 2-D parameter is orthogonalized by
a Newton-Schulz iteration in bfloat16, as PyTorch's ``Muon``."""
import math

from .. import _dtype
from .._creation import zeros_like
from .._grad_mode import no_grad
from .._tensor import Tensor
from ..ops.linalg import addmm
from .optimizer import Optimizer, add_, learning_rate, scale_

_ADJUST_LR_FNS = ("original", "match_rms_adamw", "spectral_unclamped")


def _orthogonalize(grad, ns_coefficients, ns_steps, eps):
    """Newton-Schulz's quintic iteration toward U V^T of grad = U S V^T, in bfloat16 (the
    iteration tolerates its rounding, and PyTorch runs it so), on the wide orientation."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    tall = grad.size(0) > grad.size(1)
    x = grad.to(_dtype.bfloat16)
    if tall:
        x = x.T
    x = x.div(x.float().norm().to(x.dtype).clamp(min=eps))  # the norm summed in float32, rounded once
    for _ in range(ns_steps):
        gram = x @ x.T
        x = addmm(x, addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    return x.T if tall else x


def _adjusted_lr(lr, adjust_lr_fn, shape):
    """The learning rate scaled to the parameter's shape (fan-out A, fan-in B)."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * (0.2 * math.sqrt(max(rows, cols)))
    return lr * math.sqrt(rows / cols)  # spectral_unclamped


class Muon(Optimizer):
    """buf = lerp(buf, g, 1 - momentum); the update lerp(g, buf, momentum) (Nesterov) or buf,
    orthogonalized; p *= 1 - lr * weight_decay; p -= adjusted lr * update."""

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:  # PyTorch's checks, in its order and words
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in _ADJUST_LR_FNS:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                                      ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                                      adjust_lr_fn=adjust_lr_fn))
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: "
                                     f"{p.size()}")

    @no_grad()
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for g in self.param_groups:
            lr, momentum = learning_rate(g), g["momentum"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                if p.is_complex():
                    raise RuntimeError("Muon does not support complex parameters")
                grad, state = p.grad, self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = zeros_like(grad)
                buf = state["momentum_buffer"]
                buf.lerp_(grad, 1 - momentum)
                update = grad.lerp(buf, momentum) if g["nesterov"] else buf
                update = _orthogonalize(update, g["ns_coefficients"], g["ns_steps"], g["eps"])
                scale_(p, 1 - lr * g["weight_decay"])
                add_(p, update, -_adjusted_lr(lr, g["adjust_lr_fn"], p.shape))
        return loss
