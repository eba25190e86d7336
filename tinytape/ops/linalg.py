"""Matrix products: mm, mv, dot, matmul (1-D, 2-D and batched with broadcasting)."""
from .._grad_mode import _state
from .._tensor import Tensor
from ..autograd.function import Function
from . import elementwise as ew
from .shape import View


class UnsafeView(View):
    grad_fn_name = "UnsafeViewBackward0"


def _check(a, b, op):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{op}(): expected Tensor arguments, got {type(a).__name__} and {type(b).__name__}")
    ew._check_device(a, b, op)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{op}: expected both operands to have the same dtype, but got "
                           f"{a.dtype} and {b.dtype}")


class Mm(Function):
    grad_fn_name = "MmBackward0"
    _forward_runs_kernels_only = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return a._new(a._backend.matmul(a._data, b._data))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        if g.ndim == 2 and not _state.enabled:
            # no graph of the gradient to build (the common case): the backend multiplies
            # by the transposed storage directly, without two recorded transposes and checks
            backend = g._backend
            return ((g._new(backend.matmul(g._data, backend.swapaxes(b._data, 0, 1))) if b is not None else None),
                    (g._new(backend.matmul(backend.swapaxes(a._data, 0, 1), g._data)) if a is not None else None))
        # the transposes are views: the backend multiplies by them without copying; for a
        # batched product the engine sums the gradient over broadcast batch dims
        return (matmul(g, b.mT) if b is not None else None), (matmul(a.mT, g) if a is not None else None)


class Bmm(Mm):
    """The batched product (rank > 2, batch dims broadcast)."""

    grad_fn_name = "BmmBackward0"


class Dot(Function):
    grad_fn_name = "DotBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        n = a.shape[0]
        return a._new(a._backend.matmul(a._data.reshape(1, n), b._data.reshape(n, 1)).reshape(()))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return (g * b if b is not None else None), (g * a if a is not None else None)


class Mv(Function):
    grad_fn_name = "MvBackward0"

    @staticmethod
    def forward(ctx, m, v):
        ctx.save_for_backward(m if ctx.needs_input_grad[1] else None,
                              v if ctx.needs_input_grad[0] else None)
        return m._new(m._backend.matmul(m._data, v._data.reshape(-1, 1)).reshape(-1))

    @staticmethod
    def backward(ctx, g):
        m, v = ctx.saved_tensors
        grad_m = g.unsqueeze(1).mm(v.unsqueeze(0)) if v is not None else None
        grad_v = m.t().mv(g) if m is not None else None
        return grad_m, grad_v


def mm(a, b):
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        x, y = a._data, b._data
        if (a._backend is b._backend and x.dtype is y.dtype and x.ndim == 2 and y.ndim == 2
                and x.shape[1] == y.shape[0]):
            return Mm.apply(a, b)  # the common case, checked in a few reads (numpy's dtypes are singletons)
    _check(a, b, "mm")
    if a._data.ndim != 2 or b._data.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {a.ndim}-D {list(a.shape)} and {b.ndim}-D {list(b.shape)}")
    return _mm(a, b)


def _mm(a, b):
    """mm of operands already checked for type, device and dtype."""
    if a._data.shape[1] != b._data.shape[0]:
        raise RuntimeError(f"mm: mat1 and mat2 shapes cannot be multiplied "
                           f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    return Mm.apply(a, b)


def mv(m, v):
    _check(m, v, "mv")
    if m.ndim != 2 or v.ndim != 1 or m.shape[1] != v.shape[0]:
        raise RuntimeError(f"mv: size mismatch, got input ({list(m.shape)}) and vec ({list(v.shape)})")
    return Mv.apply(m, v)


def dot(a, b):
    _check(a, b, "dot")
    if a.ndim != 1 or b.ndim != 1 or a.shape[0] != b.shape[0]:
        raise RuntimeError(f"dot: expected 1-D tensors of the same size, got {list(a.shape)} and {list(b.shape)}")
    return Dot.apply(a, b)


def bmm(a, b):
    _check(a, b, "bmm")
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got {list(a.shape)} and {list(b.shape)}")
    return matmul(a, b)


def matmul(a, b):
    """PyTorch's matmul: dot, mv, mm, or a batched product with broadcast batch dims."""
    _check(a, b, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError("matmul: both arguments need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    if a.ndim == 1 and b.ndim == 1:
        return dot(a, b)
    if a.ndim == 2 and b.ndim == 1:
        return mv(a, b)
    if a.ndim == 1 and b.ndim == 2:
        if a.shape[0] != b.shape[0]:
            raise RuntimeError(f"matmul: size mismatch, got {list(a.shape)} @ {list(b.shape)}")
        return _mm(a.unsqueeze(0), b).squeeze(0)
    if a.ndim == 2 and b.ndim == 2:
        return _mm(a, b)
    if a.ndim > 2 and b.ndim == 2:  # PyTorch folds the batch into rows: one mm, then a view
        if a.shape[-1] != b.shape[0]:
            raise RuntimeError(f"matmul: size mismatch, got {list(a.shape)} @ {list(b.shape)}")
        out = _mm(a.reshape(-1, a.shape[-1]), b)
        return UnsafeView.apply(out, a.shape[:-1] + (b.shape[1],), False)
    squeeze_a, squeeze_b = a.ndim == 1, b.ndim == 1
    if squeeze_a:
        a = a.unsqueeze(0)
    if squeeze_b:
        b = b.unsqueeze(-1)
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(f"matmul: size mismatch, got {list(a.shape)} @ {list(b.shape)}")
    try:
        out = Bmm.apply(a, b)
    except ValueError:
        raise RuntimeError(f"matmul: batch dimensions of {list(a.shape)} and {list(b.shape)} "
                           "are not broadcastable") from None
    if squeeze_a:
        out = out.squeeze(-2)
    if squeeze_b:
        out = out.squeeze(-1)
    return out
