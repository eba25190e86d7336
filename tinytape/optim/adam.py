"""Adam and AdamW (Kingma & Ba; Loshchilov & Hutter) with PyTorch's bias correction and
eps placement: p -= lr / (1 - beta1^t) * m / (sqrt(v) / (1 - beta2^t)^0.5 + eps)."""
from .. import _dtype
from .._creation import tensor, zeros_like
from .._grad_mode import no_grad
from .._tensor import Tensor
from ..ops.complex import view_as_real
from .optimizer import (Optimizer, addcdiv_, check_range, check_step_options, divide, first_beta,
                        implementation_options, learning_rate, lerp_, number_like, refuse_sparse, refuse_tensor_betas, scale_,
                        step_count)


class Adam(Optimizer):
    _decoupled = False  # AdamW: weight decay shrinks p directly instead of adding to g

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        check_range("learning rate", lr)  # PyTorch's checks, in its order and words
        check_range("epsilon value", eps)
        for i in (0, 1):
            if not 0.0 <= betas[i] < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
        check_range("weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      **implementation_options(foreach, capturable, differentiable, fused),
                                      decoupled_weight_decay=decoupled_weight_decay))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for g in self.param_groups:
            refuse_tensor_betas(g)
            beta1, beta2 = first_beta(g), g["betas"][1]
            check_step_options(g)
            lr, wd, amsgrad = learning_rate(g), g["weight_decay"], g.get("amsgrad", False)
            decoupled = g.get("decoupled_weight_decay", self._decoupled)  # (Adam's option: AdamW's update)
            for p in g["params"]:
                if p.grad is None:
                    continue
                refuse_sparse(self, p)
                grad = -p.grad if g.get("maximize") else p.grad
                state = self.state[p]
                if not state:
                    state["step"] = tensor(0.0, dtype=_dtype.float32)  # a tensor, as PyTorch's
                    state["exp_avg"] = zeros_like(p)
                    state["exp_avg_sq"] = zeros_like(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = zeros_like(p)
                if not isinstance(state["step"], Tensor):  # a count saved as a number
                    state["step"] = tensor(float(state["step"]), dtype=_dtype.float32)
                state["step"].add_(1)
                if wd and decoupled:
                    scale_(p, 1 - lr * wd)
                elif wd:
                    grad = grad.add(p, alpha=wd)
                # PyTorch's single-tensor loop (the CPU default) op for op: its kernels fuse
                # lerp_ and addcmul_ into one rounding each
                m, v, t = state["exp_avg"], state["exp_avg_sq"], step_count(state)
                param = p
                if p.is_complex():  # PyTorch's: the update runs on the parts, viewed as real numbers
                    param, grad, m, v = (view_as_real(x) for x in (p, grad, m, v))
                lerp_(m, grad, 1 - beta1)
                v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                if amsgrad:
                    most = state["max_exp_avg_sq"]
                    most = view_as_real(most) if p.is_complex() else most
                    most.copy_(most.maximum(v))
                    v = most
                # the scalar factors in float64 (Python's numbers eagerly, 0-d tensors in a trace),
                # each rounded to p's dtype where it meets a tensor
                step_size = lr / number_like(1 - beta1 ** t, lr)
                denom = divide(v.sqrt(), (1 - beta2 ** t) ** 0.5).add_(g["eps"])
                addcdiv_(param, m, denom, -step_size)
        return loss


class AdamW(Adam):
    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 *, maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, foreach=foreach,
                         capturable=capturable, differentiable=differentiable, fused=fused, decoupled_weight_decay=True)
