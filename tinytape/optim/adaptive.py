"""Adadelta, ASGD and Rprop, as PyTorch's single-tensor (``foreach=False``) implementations,
op for op; the scalars that change every step follow ``adam_variants``' rule (numbers
eagerly, 0-d float64 tensors in a trace)."""
from .._creation import full_like, zeros_like
from .._grad_mode import no_grad
from .._tensor import Tensor
from ..ops.elementwise import where
from .optimizer import (Optimizer, add_, check_range, learning_rate, like, refuse_sparse, scalar_state,
                        scalar_value, scale_, step_count)


class Adadelta(Optimizer):
    """Zeiler's Adadelta: ``v = rho v + (1 - rho) g^2``, ``d = sqrt(u + eps) / sqrt(v + eps) g``,
    ``u = rho u + (1 - rho) d^2``, ``p -= lr d``."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        check_range("learning rate", lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_range("epsilon value", eps)
        check_range("weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for g in self.param_groups:
            lr, rho, eps = learning_rate(g), g["rho"], g["eps"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                refuse_sparse(self, p)
                state = self.state[p]
                if not state:
                    state["step"] = scalar_state()
                    state["square_avg"] = zeros_like(p)
                    state["acc_delta"] = zeros_like(p)
                state["step"].add_(1)
                grad = -p.grad if g["maximize"] else p.grad
                if g["weight_decay"]:
                    grad = grad.add(p, alpha=g["weight_decay"])
                square_avg, acc_delta = state["square_avg"], state["acc_delta"]
                square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
                std = square_avg.add(eps).sqrt_()
                delta = acc_delta.add(eps).sqrt_()
                delta.div_(std).mul_(grad)
                acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
                add_(p, delta, -lr)
        return loss


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky): a decaying step ``eta = lr / (1 + lambd lr t)^alpha``
    and the running average ``ax`` of the iterates from step ``t0`` on (``eta`` and ``mu``
    are 0-d float32 tensors in the state, as PyTorch's)."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        check_range("learning rate", lr)
        check_range("weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for g in self.param_groups:
            lr, lambd, alpha, t0 = learning_rate(g), g["lambd"], g["alpha"], g["t0"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                refuse_sparse(self, p)
                state = self.state[p]
                if not state:
                    state["step"] = scalar_state()
                    state["eta"] = scalar_state(g["lr"])
                    state["mu"] = scalar_state(1.0)
                    state["ax"] = zeros_like(p)
                state["step"].add_(1)
                grad = -p.grad if g["maximize"] else p.grad
                if g["weight_decay"]:
                    grad = grad.add(p, alpha=g["weight_decay"])
                eta, mu, ax = state["eta"], state["mu"], state["ax"]
                eta_value = scalar_value(eta)
                scale_(p, 1 - lambd * eta_value)
                add_(p, grad, -eta_value)
                if isinstance(eta_value, Tensor):  # in a trace: no host read of mu
                    ax.copy_(where(mu == 1, p, ax + p.sub(ax).mul_(mu)))
                elif mu.item() != 1:
                    ax.add_(p.sub(ax).mul_(mu))
                else:
                    ax.copy_(p)
                step = step_count(state)
                new_eta = lr / ((1 + lambd * lr * step) ** alpha)
                new_mu = 1 / (step - t0).clamp(min=1) if isinstance(step, Tensor) else 1 / max(1, step - t0)
                for target, value in ((eta, new_eta), (mu, new_mu)):
                    target.copy_(value) if isinstance(value, Tensor) else target.fill_(value)
        return loss


class Rprop(Optimizer):
    """Resilient backpropagation (Riedmiller & Braun): each coordinate's step size grows by
    ``etaplus`` while its gradient keeps its sign and shrinks by ``etaminus`` when it flips
    (that step then skipped); only the gradient's sign moves the parameter."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
                 foreach=None, maximize=False, differentiable=False):
        check_range("learning rate", lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for g in self.param_groups:
            learning_rate(g)  # only seeds the step sizes; a program input, so a schedule does not retrace
            etaminus, etaplus = g["etas"]
            step_size_min, step_size_max = g["step_sizes"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                refuse_sparse(self, p)
                state = self.state[p]
                if not state:
                    state["step"] = scalar_state()
                    state["prev"] = zeros_like(p)
                    state["step_size"] = full_like(p, g["lr"])
                state["step"].add_(1)
                grad = -p.grad if g["maximize"] else p.grad
                prev, step_size = state["prev"], state["step_size"]
                sign = grad.mul(prev).sign()
                flipped = sign.lt(0)
                sign = where(sign.gt(0), like(etaplus, sign), where(flipped, like(etaminus, sign),
                                                                     where(sign.eq(0), like(1.0, sign), sign)))
                step_size.mul_(sign).clamp_(step_size_min, step_size_max)
                grad = where(flipped, like(0.0, grad), grad)
                p.addcmul_(grad.sign(), step_size, value=-1)
                prev.copy_(grad)
        return loss
