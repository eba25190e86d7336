"""amax/amin (every element equal to the extreme shares the gradient, as PyTorch's) and
aminmax (both in one entry)."""
import collections

from ..autograd.function import Function
from ..backend.opcodes import MAX, MIN
from .reduction import _dims, _kept_shape, numpy_aliases


class Amax(Function):
    """amax()/amin() over ``dims``: every element equal to the result gets an even share
    of the gradient, as PyTorch's."""

    grad_fn_name = "AmaxBackward0"

    @staticmethod
    def forward(ctx, x, code, dims, keepdim):
        out = x._new(x._backend.reduce(code, x._data, dims, keepdim))
        ctx.save_for_backward(x, out)
        ctx.dims, ctx.keepdim = dims, keepdim
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if not ctx.keepdim:
            kept = _kept_shape(x.shape, ctx.dims)
            out, g = out.reshape(kept), g.reshape(kept)
        # PyTorch's scale_grad_by_count: a product with the mask of the ties (so a nan
        # result, which nothing equals, gives nan), unlike max()'s selection
        hit = x == out
        return g / hit.sum(ctx.dims or None, keepdim=True) * hit, None, None, None


class Amin(Amax):
    grad_fn_name = "AminBackward0"


def _amax_amin(x, dim, keepdim, code):
    name = "amax" if code == MAX else "amin"
    dims = _dims(dim, x.ndim, name)  # () or None: every dim
    for d in dims or range(x.ndim):
        if x.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    return (Amax if code == MAX else Amin).apply(x, code, dims, keepdim)


aminmax_result = collections.namedtuple("aminmax", ["min", "max"])
aminmax_result.__repr__ = aminmax_result.__str__ = lambda self: (
    f"tinytape.return_types.aminmax(\nmin={self.min!r},\nmax={self.max!r})")


class Aminmax(Function):
    """aminmax(): amin and amax in one entry, each result's gradient shared by its ties."""

    grad_fn_name = "AminmaxBackward0"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        low, high = (x._new(x._backend.reduce(code, x._data, dims, keepdim)) for code in (MIN, MAX))
        ctx.save_for_backward(x, low, high)
        ctx.dims, ctx.keepdim = dims, keepdim
        return low, high

    @staticmethod
    def backward(ctx, g_low, g_high):
        x, low, high = ctx.saved_tensors
        grad = None
        for out, g in ((low, g_low), (high, g_high)):
            if g is None:
                continue
            share = Amax.backward(_Saved(x, out, ctx.dims, ctx.keepdim), g)[0]
            grad = share if grad is None else grad + share
        return grad, None, None


class _Saved:
    """What Amax.backward reads from its context."""

    def __init__(self, x, out, dims, keepdim):
        self.saved_tensors, self.dims, self.keepdim = (x, out), dims, keepdim


@numpy_aliases
def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over ``dim`` (every element when None) as ``return_types.aminmax``."""
    dims = _dims(dim, input.ndim, "aminmax")
    for d in dims or range(input.ndim):
        if input.shape[d] == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation "
                               "has no identity.")
    if input.numel() == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation "
                           "has no identity.")
    return aminmax_result(*Aminmax.apply(input, dims, keepdim))


def amax(x, dim=(), keepdim=False):
    """The largest values over ``dim`` (every dim by default), ties sharing the gradient."""
    return _amax_amin(x, dim, keepdim, MAX)


def amin(x, dim=(), keepdim=False):
    """The smallest values over ``dim`` (every dim by default), ties sharing the gradient."""
    return _amax_amin(x, dim, keepdim, MIN)
