"""A module's full backward hooks (``register_full_backward_hook`` and its pre-hook), as
PyTorch builds them: the module's tensor inputs and outputs pass through identity entries
(``BackwardHookFunctionBackward``) whose backward sees the gradients of the outputs, then of
the inputs, and hands them to the hooks."""
import warnings

from .._tensor import Tensor
from ..autograd.function import Function


class BackwardHookFunction(Function):
    """The identity on several tensors; backward gives their gradients to ``on_grads``
    (which returns the gradients to pass on)."""

    grad_fn_name = "BackwardHookFunctionBackward"

    @staticmethod
    def forward(ctx, on_grads, *tensors):
        ctx.on_grads = on_grads
        out = tuple(t.view(t.shape) for t in tensors)
        return out if len(out) > 1 else out[0]

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.on_grads(grads))


class ModuleBackwardHooks:
    """One call's bookkeeping: which positional arguments were tensors needing grad, and
    the gradients of the outputs, kept until those of the inputs arrive."""

    def __init__(self, module):
        self.module = module
        self.n_args = 0
        self.grad_positions = []  # positions of the arguments that pass through the input entry
        self.grad_output = None

    def wrap_inputs(self, args):
        self.n_args = len(args)
        self.grad_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        if not self.grad_positions:
            return args
        wrapped = BackwardHookFunction.apply(self._input_grads, *[args[i] for i in self.grad_positions])
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        args = list(args)
        for i, t in zip(self.grad_positions, wrapped):
            args[i] = t
        return tuple(args)

    def wrap_outputs(self, output):
        single = isinstance(output, Tensor)
        items = (output,) if single else output
        if not isinstance(items, (tuple, list)):
            return output
        places = [i for i, t in enumerate(items) if isinstance(t, Tensor) and t.requires_grad]
        if not places:
            return output
        wrapped = BackwardHookFunction.apply(self._output_grads, *[items[i] for i in places])
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        if single:
            return wrapped[0]
        items = list(items)
        for i, t in zip(places, wrapped):
            items[i] = t
        return tuple(items) if isinstance(output, tuple) else items

    def _output_grads(self, grads):
        grads = tuple(grads)
        for hook in list(self.module._backward_pre_hooks.values()):
            result = hook(self.module, grads)
            if result is not None:
                grads = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        self.grad_output = grads
        if not self.grad_positions and self.module._backward_hooks:  # no input needs a gradient: None for each
            from .._creation import _user_stacklevel
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module outputs "
                          "since no inputs require gradients. See https://docs.pytorch.org/docs/main/generated/"
                          "torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for more details.",
                          UserWarning, stacklevel=_user_stacklevel())
            self._call_hooks((None,) * self.n_args)
        return grads

    def _input_grads(self, grads):
        grad_input = [None] * self.n_args
        for i, g in zip(self.grad_positions, grads):
            grad_input[i] = g
        grad_input = self._call_hooks(tuple(grad_input))
        return tuple(grad_input[i] for i in self.grad_positions)

    def _call_hooks(self, grad_input):
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                if not isinstance(result, (tuple, list)) or len(result) != len(grad_input):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got "
                                       f"{len(result) if isinstance(result, (tuple, list)) else 1}, but expected "
                                       f"{len(grad_input)}")
                grad_input = tuple(result)
        return grad_input
