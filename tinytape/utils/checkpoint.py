"""``torch.utils.checkpoint``: run a piece of a model without keeping its intermediate
values, recomputing them during backward.

``use_reentrant=True`` (PyTorch's default, with its warning when not chosen) is PyTorch's
``CheckpointFunction``: the forward runs under ``no_grad`` and the node recomputes the piece
with grad on when the backward reaches it, replaying the random numbers it drew (dropout)
from the generator state it started with.  ``use_reentrant=False`` records the piece as
usual, so its outputs have the piece's own ``grad_fn``s, as PyTorch's do; the gradients
are the same either way."""
import warnings

from .. import _creation as _random
from .._grad_mode import enable_grad, no_grad
from .._tensor import Tensor
from ..autograd import grad as _grad
from ..autograd.function import Function

_EXPLICIT = ("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in PyTorch "
             "2.9, calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is "
             "recommended, but if you need to preserve the current default behavior, you can pass "
             "use_reentrant=True. Refer to docs for more details on the differences between the two variants.")


class CheckpointFunction(Function):
    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        ctx.run_function, ctx.preserve_rng_state = run_function, preserve_rng_state
        if preserve_rng_state:
            ctx.rng_state = _random.get_rng_state()
        ctx.inputs = args
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grad_outputs):
        detached = [a.detach().requires_grad_(a.requires_grad) if isinstance(a, Tensor) else a for a in ctx.inputs]
        state = _random.get_rng_state() if ctx.preserve_rng_state else None
        try:
            if state is not None:
                _random.set_rng_state(ctx.rng_state)
            with enable_grad():
                outputs = ctx.run_function(*detached)
        finally:
            if state is not None:
                _random.set_rng_state(state)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if isinstance(o, Tensor) and o.requires_grad]
        wanted = [a for a in detached if isinstance(a, Tensor) and a.requires_grad]
        grads = iter(_grad([o for o, _ in pairs], wanted, [g for _, g in pairs], allow_unused=True)
                     if pairs and wanted else ())
        return (None, None, *[next(grads) if isinstance(a, Tensor) and a.requires_grad else None for a in detached])


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)``, its intermediate values recomputed in backward."""
    if use_reentrant is None:
        warnings.warn(_EXPLICIT, stacklevel=2)
        use_reentrant = True
    if not use_reentrant:
        return function(*args, **kwargs)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    return CheckpointFunction.apply(function, preserve_rng_state, *args)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """A ``Sequential`` (or list of modules) run in ``segments`` pieces, each checkpointed
    but the last."""
    if use_reentrant is None:
        warnings.warn(_EXPLICIT, stacklevel=2)
        use_reentrant = True

    def run_function(start, end, functions):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input, use_reentrant=use_reentrant,
                           preserve_rng_state=kwargs.get("preserve_rng_state", True))
    return run_function(end + 1, len(functions) - 1, functions)(input)
