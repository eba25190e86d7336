"""SparseAdam, as PyTorch's ``torch.optim.SparseAdam``: Adam's update for sparse gradients
(``Embedding(sparse=True)``), applied only to the rows the gradient names — the moments of
the other rows neither decay nor move."""
import math

from .._creation import zeros_like
from .._grad_mode import no_grad
from .._tensor import Tensor
from .optimizer import Optimizer


class SparseAdam(Optimizer):
    """For the coalesced gradient's rows g (their moments m, v):  m += (1 - beta1)(g - m);
    v += (1 - beta2)(g^2 - v);  p -= lr sqrt(1 - beta2^t) / (1 - beta1^t) m / (sqrt(v) + eps).
    State: ``step`` (an int, as PyTorch's), ``exp_avg`` and ``exp_avg_sq`` (dense)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:  # PyTorch's checks, in its order and words
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize})
        sparse_params = [[i, j] for i, group in enumerate(self.param_groups) for j, p in enumerate(group["params"])
                         if getattr(p, "is_sparse", False)]
        if sparse_params:
            raise ValueError(f"Sparse params at indices {sparse_params}: SparseAdam requires dense parameter tensors")

    @no_grad()
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group):
        beta1, beta2 = group["betas"]
        lr, eps = group["lr"], group["eps"]
        if isinstance(lr, Tensor) and lr.dim() != 0:
            lr = lr.squeeze()
        updates = []
        for p in group["params"]:  # (every gradient checked and every step counted before any update)
            if p.grad is None:
                continue
            if not getattr(p.grad, "is_sparse", False):
                raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = zeros_like(p)
                state["exp_avg_sq"] = zeros_like(p)
            state["step"] += 1
            updates.append((p, state))
        for param, state in updates:
            grad = -param.grad if group.get("maximize", False) else param.grad
            grad = grad.coalesce()  # the update is not linear: each row once
            rows = tuple(grad._indices())
            grad_values = grad._values()
            if grad_values.numel() == 0:
                continue
            exp_avg, exp_avg_sq, step = state["exp_avg"], state["exp_avg_sq"], state["step"]
            # old += (1 - b) (new - old), on the named rows only
            old_exp_avg_values = exp_avg[rows]
            exp_avg_update_values = grad_values.sub(old_exp_avg_values).mul_(1 - beta1)
            exp_avg[rows] = old_exp_avg_values + exp_avg_update_values
            old_exp_avg_sq_values = exp_avg_sq[rows]
            exp_avg_sq_update_values = grad_values.pow(2).sub_(old_exp_avg_sq_values).mul_(1 - beta2)
            exp_avg_sq[rows] = old_exp_avg_sq_values + exp_avg_sq_update_values
            numer = exp_avg_update_values.add_(old_exp_avg_values)
            exp_avg_sq_update_values.add_(old_exp_avg_sq_values)
            denom = exp_avg_sq_update_values.sqrt_().add_(eps)
            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            step_size = lr * math.sqrt(bias_correction2) / bias_correction1
            param[rows] = param[rows] + (-step_size * numer.div_(denom))
