"""Stochastic gradient descent, with (Nesterov) momentum, as PyTorch's ``SGD``."""
from .._grad_mode import no_grad
from .._tensor import Tensor
from .optimizer import (Optimizer, add_, check_range, check_step_options, implementation_options, learning_rate,
                        momentum_of, scale_)


class SGD(Optimizer):
    """p -= lr * d, d = g + weight_decay p, through the momentum buffer when momentum > 0:
    buf = momentum buf + (1 - dampening) d  (the first step: buf = d).  PyTorch's op
    sequence (its single-tensor loop, the CPU default), each ``alpha=`` one fused rounding."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        check_range("learning rate", lr)  # PyTorch's checks, in its order and words
        check_range("momentum value", momentum)
        check_range("weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        options = implementation_options(foreach, False, differentiable, fused)
        del options["capturable"]  # (SGD has none)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, **options))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for g in self.param_groups:
            check_step_options(g)
            lr, momentum, dampening = learning_rate(g), g["momentum"], g["dampening"]
            buffer_decay = momentum_of(g)  # (the momentum; in a trace, an input of the program)
            for p in g["params"]:
                if p.grad is None:
                    continue
                d_p = -p.grad if g.get("maximize") else p.grad
                if g["weight_decay"]:
                    d_p = d_p.add(p, alpha=g["weight_decay"])
                if momentum:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = d_p.clone()
                    else:
                        scale_(buf, buffer_decay).add_(d_p, alpha=1 - dampening)
                    if not g["nesterov"]:
                        d_p = buf
                    elif isinstance(buffer_decay, Tensor):  # (traced: add(alpha=)'s one rounding, in place)
                        d_p = add_(d_p.clone(), buf, buffer_decay)
                    else:
                        d_p = d_p.add(buf, alpha=buffer_decay)
                add_(p, d_p, -lr)
        return loss
