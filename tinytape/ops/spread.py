"""var_mean and std_mean (one Function each, PyTorch's names and gradients) and dist."""
import math
import types

from .. import _creation
from ..autograd.function import Function
from . import dtype_rules
from . import elementwise as ew
from . import reduction as red
from .from_table import FUNCTIONS as _TABLE
from .scans import count_nonzero
from .statistics import Var, warn_degrees_of_freedom
from .windows import _check_tensor


class VarMean(Function):
    """(var, mean) over ``dims`` as one entry, PyTorch's var_mean_backward:
    2 / (n - correction) g_var (x - mean) + g_mean / n."""

    grad_fn_name = "VarMeanBackward0"

    @classmethod
    def forward(cls, ctx, x, dims, correction, keepdim):
        spread = Var.apply(x, dims or None, correction, keepdim)  # var's checks are this op's (and its warning)
        if cls is StdMean:
            spread = _TABLE["sqrt"](spread)
        ctx.dims, ctx.correction, ctx.keepdim = dims, correction, keepdim
        ctx.save_for_backward(x, spread)
        return spread, red.mean(x, dims or None, keepdim)

    @classmethod
    def backward(cls, ctx, g_spread, g_mean):
        x, spread = ctx.saved_tensors
        dims, keepdim = ctx.dims, ctx.keepdim
        if cls is StdMean:  # d std = d var / (2 std); 0 where std is 0, PyTorch's choice
            g_spread = ew.where(ew.eq(spread, 0), 0.0, ew.div(g_spread, ew.mul(spread, 2)))
        every = dims or tuple(range(x.ndim))
        n = math.prod(x.shape[d] for d in every)
        free = n - ctx.correction
        scale = 2.0 / free if free else math.inf
        centred = ew.sub(x, red.mean(x, every, True)) if x.ndim else ew.sub(x, x)
        grad = ew.mul(ew.mul(red._expand_back(g_spread, x.shape, dims, keepdim), centred), scale)
        return ew.add(grad, ew.div(red._expand_back(g_mean, x.shape, dims, keepdim), n)), None, None, None


class StdMean(VarMean):
    grad_fn_name = "StdMeanBackward0"


def _spread_mean(cls, input, dim, unbiased, keepdim, correction, op):
    if isinstance(dim, bool):  # var_mean(x, False): the old positional ``unbiased``
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    x = ew._float_input(input, op)
    dims = red._dims(dim, x.ndim, op)
    warn_degrees_of_freedom(op, x, dims or None, correction)
    return cls.apply(x, dims, correction, keepdim)


@red.numpy_aliases
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over ``dim`` with Bessel's ``correction`` (1 by default)."""
    dtype_rules.check("var_mean", input.dtype)
    return _spread_mean(VarMean, input, dim, unbiased, keepdim, correction, "var_mean")


@red.numpy_aliases
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over ``dim`` with Bessel's ``correction`` (1 by default)."""
    dtype_rules.check("std_mean", input.dtype)
    return _spread_mean(StdMean, input, dim, unbiased, keepdim, correction, "std_mean")


class Dist(Function):
    """The ``p``-norm of ``a - b``: the vector norm's forward and backward on the difference,
    its gradient to ``a`` and, negated, to ``b``; ``p = 0`` counts the differing elements."""

    grad_fn_name = "DistBackward0"

    @staticmethod
    def forward(ctx, a, b, p):
        gap = ew.sub(a, b)
        ctx.p = p
        if p == 0:
            return ew.to_dtype(count_nonzero(gap), gap.dtype)
        out = red.Norm.forward(red._UnrecordedCtx(), gap, float(p), (), False)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        if ctx.p == 0:
            return _creation.zeros_like(g), _creation.zeros_like(g), None
        a, b, out = ctx.saved_tensors
        # the norm's own backward, on the difference recomputed here (recorded under
        # create_graph, so second derivatives see how it depends on a and b)
        norm_ctx = types.SimpleNamespace(saved_tensors=(ew.sub(a, b), out), p=float(ctx.p), dims=(), keepdim=False)
        grad = red.Norm.backward(norm_ctx, g)[0]
        return grad, (ew.neg(grad) if ctx.needs_input_grad[1] else None), None


def dist(input, other, p=2):
    """The ``p``-norm of ``input - other`` (broadcast)."""
    _check_tensor(input, "dist")
    _check_tensor(other, "dist", "other")
    a, b = ew.operands(input, other, "dist")
    if a.dtype.is_complex:  # the norm of the difference's moduli
        from .composite_entry import composite_op
        return composite_op("DistBackward0", lambda x, y: red.norm(ew.sub(x, y), p), a, b)
    a, b = ew._float_input(a, "dist"), ew._float_input(b, "dist")
    return Dist.apply(a, b, p)
