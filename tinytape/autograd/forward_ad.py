"""Forward-mode AD (``torch.autograd.forward_ad``): dual tensors carry a tangent through
the ops run on them, giving Jacobian-vector products in the forward pass.

An op on dual tensors computes its outputs' tangents from its own backward, as the
vector-Jacobian product of a vector-Jacobian product: with ``u`` a stand-in output gradient,
``backward(u)`` is ``J^T u``, linear in ``u``, and the gradient of ``<J^T u, t>`` with respect
to ``u`` is ``J t``.  One derivative per op, the one backward already has; a custom Function
gives its own ``jvp``."""
import functools
from collections import namedtuple

from .._grad_mode import _state as _grad_state, enable_grad, no_grad
from .._tensor import Tensor
from .._dual import clear, set_tangent, state, tangent_of
from .function import Function, _forward_then_setup, _record

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual", "dual_level"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


def enter_dual_level():
    """Enter the forward-AD level (0): one at a time, as PyTorch 2.14 allows."""
    if state.level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    state.level = 0
    return state.level


def exit_dual_level(*, level=None):
    """Leave the level (the current one by default): its dual tensors lose their tangents."""
    level = state.level if level is None else level
    if level != state.level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. "
                           "This is not supported.")
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    clear()
    state.level = -1


class dual_level:
    """``with dual_level():`` (or ``@dual_level()``): dual tensors made inside lose their
    tangents on exit."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()

    def __call__(self, fn):
        @functools.wraps(fn)
        def in_a_level(*args, **kwargs):
            with dual_level():
                return fn(*args, **kwargs)
        return in_a_level


class _Identity(Function):
    grad_fn_name = "Identity"

    @staticmethod
    def forward(ctx, x):
        return x._alias()

    @staticmethod
    def backward(ctx, grad):
        return grad


def make_dual(tensor, tangent, *, level=None):
    """A view of ``tensor`` carrying ``tangent`` (as it is where the layouts agree, else a copy)."""
    level = state.level if level is None else level
    if level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    if level != 0:  # (the one level there can be)
        raise RuntimeError("Invalid level given to _make_dual")
    if state.level < 0:
        raise RuntimeError("Trying to access a forward AD level with an invalid index. This index was either "
                           "not created or is already deleted.")
    if tangent_of(tensor) is not None:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward gradient at the "
                           "same level 0 is not supported.")
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original Tensor, this "
            f"is not supported. Tensor is of size {list(tensor.shape)} while the given forward gradient is of "
            f"size {list(tangent.shape)}.")
    was, state.active = state.active, False
    try:
        dual = tensor.view(tuple(tensor.shape))
        if tangent.stride() != tensor.stride():  # copied into the primal's layout
            tangent = tangent.contiguous() if tensor.is_contiguous() else tangent.clone()
    finally:
        state.active = was
    set_tangent(dual, tangent)
    return dual


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)``: a view of ``tensor`` without its tangent, and the tangent (None)."""
    level = state.level if level is None else level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    tangent = tangent_of(tensor)
    if tangent is not None and level != state.level:
        raise RuntimeError("Invalid level given to _fw_primal")
    was, state.active = state.active, False
    try:
        primal = _Identity.apply(tensor)
    finally:
        state.active = was
    return UnpackedDualTensor(primal, tangent)


def run_dual(cls, args, state_dict):
    """``cls.apply(*args)`` where some argument carries a tangent: the op as usual (its entry
    built even where nothing records it, for its saved tensors), then its outputs' tangents."""
    enabled = _grad_state.enabled
    tangents = [tangent_of(a) if isinstance(a, Tensor) else None for a in args]
    record = enabled and any(isinstance(a, Tensor) and a._requires_grad for a in args)
    ctx = cls._backward_cls()
    ctx.needs_input_grad = tuple(isinstance(a, Tensor) and ((enabled and a._requires_grad) or t is not None)
                                 for a, t in zip(args, tangents))
    if state_dict:
        ctx.__dict__.update(state_dict)
    state.active, _grad_state.enabled = False, False  # the op's insides neither record nor propagate
    try:
        outputs = cls.forward(ctx, *args) if not cls._setup_context_style else _forward_then_setup(cls, ctx, args)
    finally:
        state.active, _grad_state.enabled = True, enabled
    if record:
        outputs = _record(ctx, args, outputs)
    else:  # saved tensors kept on the entry; the outputs stay off the tape
        _record(ctx, args, tuple(o._alias() if isinstance(o, Tensor) else o for o in outputs)
                if type(outputs) is tuple else (outputs._alias() if isinstance(outputs, Tensor) else outputs))
    outs = outputs if type(outputs) is tuple else (outputs,)
    state.active = False
    try:
        if cls.__module__.startswith("tinytape"):
            out_tangents = _jvp_by_two_vjps(cls, ctx, args, tangents, outs, record)
        else:
            out_tangents = _user_jvp(cls, ctx, args, tangents, record)
    finally:
        state.active = bool(state.tangents)
    for o, t in zip(outs, out_tangents):
        if isinstance(o, Tensor) and t is not None and (o.is_floating_point() or o.is_complex()):
            set_tangent(o, t)
    return outputs


def _user_jvp(cls, ctx, args, tangents, record):
    from .._creation import zeros_like
    with enable_grad() if record else no_grad():
        result = cls.jvp(ctx, *[t if t is not None else (zeros_like(a) if isinstance(a, Tensor) else None)
                                for a, t in zip(args, tangents)])
    return result if isinstance(result, tuple) else (result,)


def _jvp_by_two_vjps(cls, ctx, args, tangents, outs, record):
    from .._creation import zeros_like
    from . import grad
    with enable_grad():
        stand_ins = [zeros_like(o).requires_grad_() if isinstance(o, Tensor) and (
            o.is_floating_point() or o.is_complex()) else (zeros_like(o) if isinstance(o, Tensor) else None)
            for o in outs]
        grads_in = cls.backward(ctx, *stand_ins)
        grads_in = grads_in if isinstance(grads_in, tuple) else (grads_in,)
        total = None
        for g, t in zip(grads_in, tangents):
            if g is not None and t is not None:
                term = (g * t).sum()
                total = term if total is None else total + term
        wrt = [u for u in stand_ins if u is not None and u.requires_grad]
        if total is None or not total.requires_grad:
            return [None if u is None or not u.requires_grad else zeros_like(u).detach() for u in stand_ins]
        found = iter(grad(total, wrt, allow_unused=True, materialize_grads=True, create_graph=record))
    return [next(found) if u is not None and u.requires_grad else None for u in stand_ins]
