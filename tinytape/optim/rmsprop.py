"""RMSprop (Hinton), as PyTorch's: a running mean of squared gradients scales each step."""
from .. import _dtype
from .._creation import zeros, zeros_like
from .._grad_mode import no_grad
from .optimizer import (Optimizer, add_, addcdiv_, check_range, check_step_options, learning_rate, momentum_of,
                        refuse_sparse, scale_)


class RMSprop(Optimizer):
    """v = alpha v + (1 - alpha) g^2;  avg = sqrt(v) + eps  (centered: sqrt(v - m^2) + eps
    with m = alpha m + (1 - alpha) g);  p -= lr g / avg, or through a momentum buffer
    b = momentum b + g / avg, p -= lr b."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_range("learning rate", lr)  # PyTorch's checks, in its order and words
        check_range("epsilon value", eps)
        check_range("momentum value", momentum)
        check_range("weight_decay value", weight_decay)
        check_range("alpha value", alpha)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                                      foreach=foreach, differentiable=differentiable))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for g in self.param_groups:
            check_step_options(g)
            lr, alpha, eps, momentum = learning_rate(g), g["alpha"], g["eps"], g["momentum"]
            buffer_decay = momentum_of(g) if momentum > 0 else momentum
            for p in g["params"]:
                if p.grad is None:
                    continue
                refuse_sparse(self, p)
                grad = -p.grad if g.get("maximize") else p.grad
                if g["weight_decay"]:
                    grad = grad.add(p, alpha=g["weight_decay"])
                state = self.state[p]
                if not state:
                    # a tensor, as PyTorch keeps it: counted by a kernel, so a compiled step replays it
                    state["step"] = zeros((), dtype=_dtype.float32)
                    state["square_avg"] = zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = zeros_like(p)
                    if g["centered"]:
                        state["grad_avg"] = zeros_like(p)
                state["step"].add_(1)
                # PyTorch's single-tensor loop (the CPU default) op for op: its kernels fuse
                # addcmul_, lerp_ and add_(alpha=) into one rounding each
                square_avg = state["square_avg"]
                square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
                if g["centered"]:
                    grad_avg = state["grad_avg"]
                    grad_avg.lerp_(grad, 1 - alpha)
                    avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
                else:
                    avg = square_avg.sqrt()
                avg = avg.add_(eps)
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    scale_(buf, buffer_decay).addcdiv_(grad, avg)
                    add_(p, buf, -lr)
                else:
                    addcdiv_(p, grad, avg, -lr)
        return loss
