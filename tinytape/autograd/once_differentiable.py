"""``@once_differentiable``: a custom backward that autograd cannot differentiate again.

The backward runs with recording off; where its gradients would need a graph (grad mode on
and some gradient input requiring grad), its outputs come out of an ``Error`` entry whose
backward raises, so a second differentiation fails where it happens, not silently."""
import functools

from .._grad_mode import _state, no_grad
from .._tensor import Tensor
from .function import Function

ONCE_DIFFERENTIABLE = "trying to differentiate twice a function that was marked with @once_differentiable"


class DelayedError(Function):
    grad_fn_name = "Error"

    @staticmethod
    def forward(ctx, *tensors):
        return tensors if len(tensors) != 1 else tensors[0]

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(ONCE_DIFFERENTIABLE)


def once_differentiable(fn):
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not _state.enabled or not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        # each tensor re-attached as a leaf requiring grad, so the Error entry is recorded
        held = [o.detach().requires_grad_(True) if isinstance(o, Tensor) else o for o in outs]
        tensors = [o for o in held if isinstance(o, Tensor)]
        wired = DelayedError.apply(*tensors)
        wired = iter((wired,) if isinstance(wired, Tensor) else wired)
        result = tuple(next(wired) if isinstance(o, Tensor) else o for o in held)
        return result[0] if single else result
    return wrapper
