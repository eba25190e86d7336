"""Adagrad (Duchi, Hazan & Singer), as PyTorch's: each coordinate's step is scaled by the
root of its summed squared gradients."""
from .. import _dtype
from .._creation import full_like, zeros
from .._grad_mode import no_grad
from .optimizer import Optimizer, addcdiv_, check_step_options, implementation_options, learning_rate, number_like, step_count


class Adagrad(Optimizer):
    """t += 1;  g += weight_decay p;  clr = lr / (1 + (t - 1) lr_decay);
    s += g^2;  p -= clr g / (sqrt(s) + eps).  The state (``step``, a float32 0-d tensor, and
    ``sum``, filled with ``initial_accumulator_value``) exists from construction, as PyTorch's."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        for name, value in (("learning rate", lr), ("lr_decay value", lr_decay), ("weight_decay value", weight_decay),
                            ("initial_accumulator_value value", initial_accumulator_value),
                            ("epsilon value", eps)):
            if not 0.0 <= value:
                raise ValueError(f"Invalid {name}: {value}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize,
                                      foreach=foreach, differentiable=differentiable, fused=fused))
        implementation_options(foreach, False, differentiable, fused)  # (PyTorch checks after the groups)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        if not state:
            state["step"] = zeros((), dtype=_dtype.float32)
            with no_grad():
                state["sum"] = full_like(p, group["initial_accumulator_value"])
        return state

    @no_grad()
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for g in self.param_groups:
            check_step_options(g)
            lr, lr_decay, wd, eps = learning_rate(g), g["lr_decay"], g["weight_decay"], g["eps"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                if wd and getattr(p.grad, "is_sparse", False):
                    raise RuntimeError("weight_decay option is not compatible with sparse gradients")
                state = self._init_state(p, g)
                state["step"].add_(1)
                grad = -p.grad if g.get("maximize") else p.grad
                if wd:
                    grad = grad.add(p, alpha=wd)
                # the step count only when it matters (lr_decay 0: clr is lr exactly)
                clr = lr / number_like(1 + (step_count(state) - 1) * lr_decay, lr) if lr_decay else lr
                state["sum"].addcmul_(grad, grad, value=1)  # one rounding, as PyTorch's kernel
                std = state["sum"].sqrt().add_(eps)
                addcdiv_(p, grad, std, -clr)  # (value g) / std, PyTorch's order
        return loss
