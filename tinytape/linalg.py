"""``tinytape.linalg``: norms (and the matrix functions of ``ops.composite``)."""
import math

from . import _dtype
from ._tensor import _wrap_dim
from .autograd.function import Function
from .backend.opcodes import ABS, MAX, MIN
from .ops import reduction as reduction_ops



class _NormMinMax(Function):
    """max |x| (ord=inf) or min |x| (ord=-inf) over ``dims`` (() = all).  As PyTorch's
    backward: the gradient is shared evenly by the elements that attain it, times sign(x)."""

    grad_fn_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, code, dims, keepdim):
        backend = x._backend
        a = backend.unary(ABS, x._data)
        kept = backend.reduce(code, a, dims, True)
        ctx.save_for_backward(x, x._new(kept))
        ctx.dims = dims
        return x._new(kept if keepdim else backend.reduce(code, a, dims, False))

    @staticmethod
    def backward(ctx, g):
        x, m = ctx.saved_tensors
        g = g.reshape(m.shape)
        hit = x.abs() == m
        count = hit.sum(ctx.dims, keepdim=True) if ctx.dims else hit.sum()
        return g * x.sign() * hit / count, None, None, None


class _NormZero(Function):
    """ord=0: the number of non-zero elements; its gradient is zero."""

    grad_fn_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.save_for_backward(x)
        a = (x != 0).to(x.dtype)
        return a.sum(dims, keepdim=keepdim) if dims else (a.sum().reshape((1,) * x.ndim) if keepdim else a.sum())

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return x * 0, None, None


class _NormNegative(Function):
    """A negative ord: (sum |x|^ord)^(1/ord).  PyTorch's backward for ord < 1:
    sgn(x) |x|^(ord-1) (0 where x is 0) * g * norm^(1-ord)."""

    grad_fn_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, ord, dims, keepdim):
        norm = x._new(x._backend.vector_norm(x._data, ord, dims, True))
        ctx.ord = ord
        ctx.save_for_backward(x, norm)
        if keepdim:
            return norm
        return norm.reshape(tuple(n for i, n in enumerate(x.shape) if dims and i not in dims))

    @staticmethod
    def backward(ctx, g):
        x, norm = ctx.saved_tensors
        p = ctx.ord
        scaled = (x.sign() * x.abs().pow(p - 1)).masked_fill(x == 0, 0.0)
        return scaled * g.reshape(norm.shape) * norm.pow(1 - p), None, None, None


def _float_only(x, op):
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{_dtype.scalar_type_name(x.dtype)}")


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """sum(|x|^ord)^(1/ord) over ``dim`` (all dims when None); ord=inf/-inf: max/min |x|;
    ord=0: the number of non-zero elements."""
    if x.dtype.is_complex:  # the norm of the moduli
        x = x.abs()
    _float_only(x, "linalg.vector_norm")  # PyTorch checks the input, before dtype= converts it
    if dtype is not None:
        x = x.to(dtype)
    if isinstance(ord, str) or not isinstance(ord, (int, float)):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    dims = reduction_ops._dims(dim, x.ndim, "linalg.vector_norm")
    if ord > 0:
        return reduction_ops.norm(x, ord, dim, keepdim)
    if x.numel() == 0 and ord < 0:
        raise RuntimeError("linalg.vector_norm cannot compute the -inf norm on an empty tensor because "
                           "the operation does not have an identity" if math.isinf(ord) else
                           f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because "
                           "the operation does not have an identity")
    if ord == -math.inf:
        return _NormMinMax.apply(x, MIN, dims, keepdim)
    if ord == 0:  # the number of non-zeros: recorded, with a zero gradient, as PyTorch's
        return _NormZero.apply(x, dims, keepdim)
    return _NormNegative.apply(x, ord, dims, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """'fro', or the induced norms ord=1/-1 (max/min column abs sum) and inf/-inf (max/min
    row abs sum) of the matrices in dims ``dim``; 'nuc' and 2/-2 from the singular values."""
    _float_only(A, "linalg.matrix_norm")
    if dtype is not None:
        A = A.to(dtype)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    d0, d1 = (_wrap_dim(d, A.ndim, "linalg.matrix_norm") for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({d0}, {d1})")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        summed, over = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = A.abs().sum(summed, keepdim=True)
        out = _NormMinMax.apply(s, MAX if ord > 0 else MIN, (over,), True)
        if keepdim:
            return out
        return out.reshape(tuple(n for i, n in enumerate(A.shape) if i not in (d0, d1)))
    if ord in (2, -2, "nuc"):
        from .ops.linalg_more import singular_norm
        return singular_norm(A, ord, (d0, d1), keepdim)
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """As PyTorch's: with ``ord`` None, the 2-norm of everything (``dim`` None) or over
    ``dim``; a vector norm when ``dim`` is an int (or A is 1-D); a matrix norm when ``dim``
    is a pair (or A is 2-D and ``dim`` None)."""
    if dim is not None and not isinstance(dim, int):
        dim = tuple(dim)
        if len(dim) == 1:
            dim = dim[0]
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if isinstance(dim, tuple) and len(dim) == 2 or (dim is None and A.ndim == 2):
        return matrix_norm(A, ord, dim if dim is not None else (-2, -1), keepdim, dtype=dtype)
    if isinstance(dim, int) or (dim is None and A.ndim == 1):
        if isinstance(ord, str):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2 and a "
                               f"string ord ({ord!r}) needs 2 dims")
        return vector_norm(A, ord, dim, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                       f"Got {A.ndim}D.")


class LinAlgError(RuntimeError):
    """A matrix that a decomposition cannot factor (PyTorch's ``torch.linalg.LinAlgError``, whose
    class is named ``_LinAlgError``)."""


LinAlgError.__name__ = LinAlgError.__qualname__ = "_LinAlgError"
_LinAlgError = LinAlgError  # (the name its pickles look up)


def __getattr__(name):
    from .ops import assorted, composed, linalg_eig, linalg_legacy, linalg_lu, linalg_more, linalg_triangular
    from .ops.linalg import matmul
    if name == "matmul":
        return matmul
    for table in (assorted.LINALG, composed.LINALG, linalg_more.LINALG, linalg_triangular.LINALG, linalg_lu.LINALG,
                  linalg_legacy.LINALG, linalg_eig.LINALG):
        if name in table:
            return table[name]
    raise AttributeError(f"module 'tinytape.linalg' has no attribute '{name}'")
