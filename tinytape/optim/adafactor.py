"""Adafactor (Shazeer & Stern), as PyTorch's ``torch.optim.Adafactor`` (2.5+): the second
moment of a matrix-shaped gradient kept as a row and a column factor, a relative step size
``max(eps2, RMS(p)) * min(lr, 1/sqrt(t))`` and the update clipped to RMS ``d``."""
from .. import _dtype
from .._creation import zeros, zeros_like
from .._grad_mode import no_grad
from .._tensor import Tensor
from ..ops.composed import finfo
from .optimizer import Optimizer


class Adafactor(Optimizer):
    """t += 1;  beta = t^beta2_decay (the weight of the new squared gradient);
    rho = min(lr, 1/sqrt(t));  alpha = max(eps2, RMS(p)) rho;  p *= 1 - lr weight_decay;
    matrices: R = lerp(R, mean_cols(g^2), beta), C = lerp(C, mean_rows(g^2), beta),
    v = R C / max(mean(R), eps1); vectors: v = lerp(v, g^2, beta);
    u = g / sqrt(max(v, eps1^2));  p -= alpha / max(1, RMS(u) / d) u.
    State: ``step`` (a float32 0-d tensor) and ``row_var``/``col_var`` (the gradient's shape
    with the last / second-to-last axis 1) or ``variance``, as PyTorch's."""

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:  # PyTorch's checks, in its order and words
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
                                  "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize})

    def _init_state(self, p):
        state = self.state[p]
        if getattr(p.dtype, "is_complex", False):  # (no complex dtypes here yet)
            raise RuntimeError("Adafactor does not support complex parameters")
        if getattr(p.grad, "is_sparse", False):
            raise RuntimeError("Adafactor does not support sparse gradients")
        if not state:
            state["step"] = zeros((), dtype=_dtype.float32)
            if p.grad.dim() > 1:
                row_shape, col_shape = list(p.grad.shape), list(p.grad.shape)
                row_shape[-1], col_shape[-2] = 1, 1
                state["row_var"] = p.grad.new_zeros(row_shape)
                state["col_var"] = p.grad.new_zeros(col_shape)
            else:
                state["variance"] = zeros_like(p.grad)
        return state

    @no_grad()
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group):
        eps1, eps2 = group["eps"]
        lr = group["lr"]  # a tensor lr stays one: the step size is then rounded to its dtype, as PyTorch's
        if isinstance(lr, Tensor) and lr.dim() != 0:
            lr = lr.squeeze()
        d, beta2_decay, weight_decay = group["d"], group["beta2_decay"], group["weight_decay"]
        params = [p for p in group["params"] if p.grad is not None]
        states = [self._init_state(p) for p in params]  # (all checked before any parameter moves)
        for param, state in zip(params, states):
            grad = -param.grad if group["maximize"] else param.grad
            if eps1 is None:  # the first parameter's dtype's, for the group (as PyTorch's loop)
                eps1 = finfo(param.dtype).eps
            state["step"] += 1
            step = state["step"].item()
            one_minus_beta2_t = step ** beta2_decay
            rho_t = min(lr, 1 / (step ** 0.5))
            alpha = max(eps2, param.norm(2).item() / (param.numel() ** 0.5)) * rho_t
            if weight_decay != 0:
                param.mul_(1 - lr * weight_decay)
            if grad.dim() > 1:
                row_var, col_var = state["row_var"], state["col_var"]
                # (g * g).mean(-1) and .mean(-2), as the squared norms PyTorch computes them by
                row_mean = grad.norm(dim=-1, keepdim=True).square_().div_(grad.size(-1))
                row_var.lerp_(row_mean, one_minus_beta2_t)
                col_mean = grad.norm(dim=-2, keepdim=True).square_().div_(grad.size(-2))
                col_var.lerp_(col_mean, one_minus_beta2_t)
                var_estimate = row_var @ col_var
                var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
            else:
                variance = state["variance"]
                variance.lerp_(grad * grad, one_minus_beta2_t)
                var_estimate = variance.clone()
            update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()  # eps1 squared: the root keeps its size
            update.mul_(grad)
            denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d))
            alpha = -alpha / denom
            param.add_(update, alpha=alpha.item() if isinstance(alpha, Tensor) else alpha)
