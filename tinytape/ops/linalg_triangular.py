"""Triangular solves and what uses them (``linalg.solve_triangular``, ``cholesky_solve``,
``cholesky_inverse``), ``linalg.matrix_exp``, ``linalg.vander``, and the ``_ex`` forms
``inv_ex``/``solve_ex``.  Forwards on the host through scipy (a ``cuda`` tensor is copied
over and back); backwards as PyTorch's formulas, written with recorded ops."""
import numpy as np
import scipy.linalg as sl

from .. import _creation, _dtype
from ..autograd.function import Function
from . import decompositions as dc
from . import shape as sh
from .linalg_more import _result

inv_ex_result = _result("linalg_inv_ex", ["inverse", "info"])
solve_ex_result = _result("linalg_solve_ex", ["result", "info"])


def _batched_host(fn, *arrays):
    """``fn`` on each matrix of the arrays' common batch."""
    batch = np.broadcast_shapes(*(a.shape[:-2] for a in arrays))
    flat = [np.broadcast_to(a, batch + a.shape[-2:]).reshape((-1,) + a.shape[-2:]) for a in arrays]
    outs = [fn(*mats) for mats in zip(*flat)]
    if not outs:
        return np.zeros(batch + fn(*[np.eye(a.shape[-2], a.shape[-1]) for a in arrays]).shape)
    return np.stack(outs).reshape(batch + outs[0].shape)


def _trtrs(a, b, upper, unit):
    """The triangle of ``a`` (its diagonal ones with ``unit``) solved against ``b`` by numpy's
    LAPACK (scipy's threaded one costs milliseconds a call on a loaded machine); a zero on
    the diagonal gives IEEE's divisions, as PyTorch's unchecked kernel does."""
    tri = np.triu(a) if upper else np.tril(a)
    if unit:
        np.fill_diagonal(tri, 1)
    try:
        return np.linalg.solve(tri, b)
    except np.linalg.LinAlgError:
        with np.errstate(all="ignore"):
            return _substitute(a, b, upper, unit)


def _substitute(a, b, upper, unit):
    n = a.shape[0]
    x = np.array(b, dtype=np.result_type(a, b))
    order = range(n - 1, -1, -1) if upper else range(n)
    for i in order:
        rest = slice(i + 1, n) if upper else slice(0, i)
        x[i] = x[i] - a[i, rest] @ x[rest]
        if not unit:
            x[i] = x[i] / a[i, i]
    return x


def _triangle(A, upper, unitriangular):
    t = A.triu() if upper else A.tril()
    if unitriangular:
        eye = _creation.eye(A.shape[-1], dtype=A.dtype, device=A.device)
        t = t * (1 - eye) + eye
    return t


class LinalgSolveTriangularBackward0(Function):
    grad_fn_name = "LinalgSolveTriangularBackward0"

    @staticmethod
    def forward(ctx, A, B, upper, left, unitriangular):
        def one(a, b):
            if not left:  # X A = B  <=>  A^T X^T = B^T
                return _trtrs(a.T, b.T, not upper, unitriangular).T
            return _trtrs(a, b, upper, unitriangular)
        X = dc._like(A, _batched_host(one, dc._host(A), dc._host(B)))
        ctx.upper, ctx.left, ctx.unit = upper, left, unitriangular
        ctx.save_for_backward(A, X)
        return X

    @staticmethod
    def backward(ctx, g):
        A, X = ctx.saved_tensors
        At = dc._mT(_triangle(A, ctx.upper, ctx.unit))
        gB = solve_triangular(At, g, upper=not ctx.upper, left=ctx.left, unitriangular=ctx.unit)
        gA = -(gB @ dc._mT(X)) if ctx.left else -(dc._mT(X) @ gB)
        gA = gA.triu(1 if ctx.unit else 0) if ctx.upper else gA.tril(-1 if ctx.unit else 0)
        return gA, gB, None, None, None


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    dc.check_matrix(A, "linalg.solve_triangular", square=True)
    dc._check_tensor(B, "linalg.solve_triangular", "B")
    if B.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve_triangular: Expected A and B to have the same dtype, but found A of type "
                           f"{_dtype.scalar_type_name(A.dtype)} and B of type {_dtype.scalar_type_name(B.dtype)} "
                           "instead")
    n = A.shape[-1]
    if B.shape[-2 if left else -1] != n:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({'x'.join(map(str, A.shape[-2:]))} and "
                           f"{'x'.join(map(str, B.shape[-2:]))})")
    return LinalgSolveTriangularBackward0.apply(A, B, bool(upper), bool(left), bool(unitriangular))


def cholesky_solve(B, L, upper=False):
    """X with A X = B, A = L L^T (U^T U with ``upper``), recorded as CholeskySolveBackward0."""
    from .composite_entry import composite_op

    def compute(b, lower):
        if upper:
            lower = dc._mT(lower)
        y = solve_triangular(lower, b, upper=False)
        return solve_triangular(dc._mT(lower), y, upper=True)
    return composite_op("CholeskySolveBackward0", compute, B, L)


def cholesky_inverse(L, upper=False):
    from .composite_entry import composite_op
    eye = _creation.eye(L.shape[-1], dtype=L.dtype, device=L.device)
    return composite_op("CholeskyInverseBackward0",
                        lambda lower: cholesky_solve(eye.expand(*lower.shape), lower, upper), L)


class LinalgMatrixExpBackward0(Function):
    """exp(A) by scipy's Pade approximant; the gradient is the upper-right block of
    exp([[A^T, G], [0, A^T]]) (PyTorch's formula), itself a recorded matrix_exp."""

    grad_fn_name = "LinalgMatrixExpBackward0"

    @staticmethod
    def forward(ctx, A):
        ctx.save_for_backward(A)
        return dc._like(A, _batched_host(sl.expm, dc._host(A)))

    @staticmethod
    def backward(ctx, g):
        A, = ctx.saved_tensors
        n = A.shape[-1]
        At = dc._mT(A)
        top = sh.cat([At, g], -1)
        bottom = sh.cat([_creation.zeros_like(At), At], -1)
        return matrix_exp(sh.cat([top, bottom], -2))[..., :n, n:]


def matrix_exp(A):
    dc.check_matrix(A, "linalg.matrix_exp", square=True)
    return LinalgMatrixExpBackward0.apply(A)


def vander(x, *, N=None):
    """Columns x^0, x^1, ..., x^(N-1): PyTorch's ones and a cumulative product, concatenated."""
    dc._check_tensor(x, "linalg.vander", "x")
    if x.ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension")
    n = x.shape[-1] if N is None else int(N)
    if n < 1:
        raise RuntimeError("linalg.vander: N must be greater than 1.")
    ones = _creation.ones(tuple(x.shape) + (1,), dtype=x.dtype, device=x.device)
    if n == 1:
        return ones
    powers = x.unsqueeze(-1).expand(*x.shape, n - 1).cumprod(-1)
    return sh.cat([ones, powers], -1)


def inv_ex(A, *, check_errors=False):
    from .linalg_extra import linalg_inv
    info = _creation.zeros(tuple(A.shape[:-2]), dtype=_dtype.int32, device=A.device)
    return inv_ex_result(linalg_inv(A), info)


def solve_ex(A, B, *, left=True, check_errors=False):
    from .linalg_extra import linalg_solve
    out = linalg_solve(A, B, left=left)
    return solve_ex_result(out, _creation.zeros(tuple(A.shape[:-2]), dtype=_dtype.int32, device=A.device))


LINALG = {"solve_triangular": solve_triangular, "matrix_exp": matrix_exp, "vander": vander, "inv_ex": inv_ex,
          "solve_ex": solve_ex}
FUNCTIONS = {"cholesky_solve": cholesky_solve, "cholesky_inverse": cholesky_inverse, "matrix_exp": matrix_exp}
METHODS = dict(FUNCTIONS)
