"""RAdam, NAdam and Adamax: Adam's moment estimates with a rectified, a Nesterov or an
infinity-norm step, as PyTorch's single-tensor (``foreach=False``) implementations, op for op.

Scalars that change every step (the learning rate, the step count and what follows from
them) are Python numbers eagerly and 0-d float64 tensors inside a ``tinytape.compile`` trace,
so one program replays every step; ``like``/``scale`` round them to the parameter's dtype
where they meet it, as a Python number is rounded."""
from .._creation import zeros_like
from .._grad_mode import no_grad
from .._tensor import Tensor
from ..ops.elementwise import where
from .optimizer import (Optimizer, addcdiv_, check_range, divide, first_beta, learning_rate, lerp_, number_like,
                        refuse_sparse, refuse_tensor_betas, scalar_state, scalar_value, scale, scale_, step_count)


def _check_adam_options(lr, betas, eps, weight_decay):
    check_range("learning rate", lr)
    check_range("epsilon value", eps)
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
    check_range("weight_decay value", weight_decay)


class _AdamVariant(Optimizer):
    _STATE = ("exp_avg", "exp_avg_sq")

    def _state(self, p):
        state = self.state[p]
        if not state:
            state["step"] = scalar_state()
            for key in self._STATE:
                state[key] = scalar_state(1.0) if key == "mu_product" else zeros_like(p)
        return state

    @no_grad()
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for g in self.param_groups:
            refuse_tensor_betas(g)
            lr = learning_rate(g)
            for p in g["params"]:
                if p.grad is None:
                    continue
                refuse_sparse(self, p)
                state = self._state(p)
                state["step"].add_(1)
                grad = -p.grad if g["maximize"] else p.grad
                self._update(p, grad, state, g, lr, step_count(state))
        return loss


class RAdam(_AdamVariant):
    """Adam with the variance of its adaptive rate rectified (Liu et al.): while the
    approximated SMA length ``rho_t`` is at most 5 the step is plain momentum."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check_adam_options(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable))

    def _update(self, p, grad, state, g, lr, step):
        beta1, beta2 = first_beta(g), g["betas"][1]
        wd, eps = g["weight_decay"], g["eps"]
        if wd:
            if g["decoupled_weight_decay"]:
                scale_(p, 1 - lr * wd)
            else:
                grad = grad.add(p, alpha=wd)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        bias_corrected_exp_avg = divide(exp_avg, bias_correction1)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        momentum_step = scale(lr, bias_corrected_exp_avg)

        def rectified_step():
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            # a number over a tensor: PyTorch's __rtruediv__, reciprocal(t) * number
            adaptive_lr = scale(bias_correction2 ** 0.5, exp_avg_sq.sqrt().add_(eps).reciprocal())
            return scale(rect, momentum_step * adaptive_lr)
        if isinstance(rho_t, Tensor):  # in a trace: both branches, chosen by the replayed step count
            p.sub_(where(rho_t > 5.0, rectified_step(), momentum_step))
        elif rho_t > 5.0:
            p.sub_(rectified_step())
        else:
            p.sub_(momentum_step)


class NAdam(_AdamVariant):
    """Adam with Nesterov momentum (Dozat), its momentum decaying as ``mu_t = beta1 (1 -
    0.5 * 0.96^(t momentum_decay))``; the running product of the ``mu_t`` is kept in
    ``state['mu_product']`` (a 0-d float32 tensor, as PyTorch's)."""
    _STATE = ("mu_product", "exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_adam_options(lr, betas, eps, weight_decay)
        check_range("momentum_decay value", momentum_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def _update(self, p, grad, state, g, lr, step):
        beta1, beta2 = first_beta(g), g["betas"][1]
        wd, eps, momentum_decay = g["weight_decay"], g["eps"], g["momentum_decay"]
        bias_correction2 = 1 - beta2 ** step
        if wd:
            if g["decoupled_weight_decay"]:
                scale_(p, 1 - lr * wd)
            else:
                grad = grad.add(p, alpha=wd)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product = state["mu_product"]
        scale_(mu_product, mu)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = divide(exp_avg_sq, bias_correction2).sqrt()
        product = scalar_value(mu_product)
        mu_product_next = product * mu_next
        denom.add_(eps)
        # (the helper: a traced step size meets a half-precision parameter as eager's number does, in float32)
        addcdiv_(p, grad, denom, -lr * number_like(1.0 - mu, lr) / number_like(1.0 - product, lr))
        addcdiv_(p, exp_avg, denom, (-lr * number_like(mu_next, lr)) / number_like(1.0 - mu_product_next, lr))


class Adamax(_AdamVariant):
    """Adam with the infinity norm (Kingma & Ba, section 7): ``u = max(beta2 u, |g| + eps)``,
    ``p -= lr / (1 - beta1^t) * m / u``."""
    _STATE = ("exp_avg", "exp_inf")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None,
                 *, maximize=False, differentiable=False, capturable=False):
        _check_adam_options(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _update(self, p, grad, state, g, lr, step):
        beta1, beta2 = first_beta(g), g["betas"][1]
        if g["weight_decay"]:
            grad = grad.add(p, alpha=g["weight_decay"])
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        lerp_(exp_avg, grad, 1 - beta1)
        exp_inf.copy_(exp_inf.mul_(beta2).maximum(grad.abs().add_(g["eps"])))
        clr = lr / number_like(1 - beta1 ** step, lr)
        addcdiv_(p, exp_avg, exp_inf, -clr)  # (as NAdam's: a traced step size rounded as eager's number)
