"""``composite_op``: one tape entry for an op that tinytape computes from several recorded ops.

Where PyTorch records one entry under its own name (``LerpBackward0``, ``LinalgDetBackward0``)
and tinytape computes the op from several recorded ops, ``composite_op`` gives it that one
entry: forward runs the composition with nothing recorded; backward runs it again, recorded,
and differentiates it (so ``create_graph=True`` and every backend work as for the parts).
"""
from .._grad_mode import _state
from ..autograd.function import Function
from . import elementwise as ew


class _Composite(Function):
    """``compute(*tensors)`` as one tape entry.  ``compute`` is the first argument (a
    closure holding the op's non-tensor arguments); its tensor arguments follow."""

    @staticmethod
    def forward(ctx, compute, *tensors):
        ctx.compute = compute
        ctx.save_for_backward(*tensors)
        out = compute(*tensors)  # grad mode is off here: nothing is recorded
        return out.detach() if out.grad_fn is not None or out.requires_grad else out

    @staticmethod
    def backward(ctx, g):
        from ..autograd import grad as _grad
        from .._grad_mode import enable_grad
        inputs = ctx.saved_tensors
        wanted = [i for i, x in enumerate(inputs) if ctx.needs_input_grad[i + 1]]
        create_graph = _state.enabled
        # a first derivative from the op's own kernel, where ``compute`` has one (``first_grads``:
        # one gradient per input, or None)
        first = getattr(ctx.compute, "first_grads", None)
        first = first(g, *inputs) if first is not None and not create_graph else None
        if first is not None:
            return (None,) + tuple(gi if ctx.needs_input_grad[i + 1] else None for i, gi in enumerate(first))
        with enable_grad():
            # for a first derivative, fresh leaves keep the inner graph away from the inputs' own
            leaves = list(inputs) if create_graph else [
                x.detach().requires_grad_(True) if i in wanted else x for i, x in enumerate(inputs)]
            out = ctx.compute(*leaves)
            grads = _grad(out, [leaves[i] for i in wanted], g, allow_unused=True, create_graph=create_graph)
        result = [None] * (len(inputs) + 1)
        for i, gi in zip(wanted, grads):
            result[i + 1] = gi if gi is not None else ew.mul(inputs[i].detach(), 0)
        return tuple(result)


_COMPOSITES = {}


def composite_op(grad_fn_name, compute, *tensors):
    """Run ``compute(*tensors)`` recorded as one entry named ``grad_fn_name``."""
    cls = _COMPOSITES.get(grad_fn_name)
    if cls is None:
        cls = _COMPOSITES[grad_fn_name] = type(grad_fn_name[:-len("Backward0")], (_Composite,),
                                               {"grad_fn_name": grad_fn_name})
    return cls.apply(compute, *tensors)
