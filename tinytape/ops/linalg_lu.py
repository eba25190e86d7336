"""LU with partial pivoting: ``linalg.lu_factor``/``lu_factor_ex``, ``linalg.lu``,
``linalg.lu_solve`` and ``lu_unpack``.  The factorisation runs on the host (the row
elimination of LAPACK's ``getf2``: each column's largest entry as pivot, pivots numbered
from 1 as LAPACK's); the backward is PyTorch's ``linalg_lu_backward`` for square matrices,
written with recorded ops; ``lu_solve`` is triangular solves, recorded."""
import numpy as np

from .. import _creation, _dtype
from ..autograd.function import Function
from . import decompositions as dc
from .linalg_more import _result
from .linalg_triangular import solve_triangular

lu_factor_result = _result("linalg_lu_factor", ["LU", "pivots"])
lu_factor_ex_result = _result("linalg_lu_factor_ex", ["LU", "pivots", "info"])
lu_result = _result("linalg_lu", ["P", "L", "U"])
lu_unpack_result = _result("lu_unpack", ["P", "L", "U"])


def _getf2(a):
    """(LU packed, 1-based pivots, info) of one matrix."""
    lu = np.array(a, dtype=a.dtype, copy=True)
    m, n = lu.shape
    k = min(m, n)
    piv = np.empty(k, np.int32)
    info = 0
    for j in range(k):
        p = j + int(np.argmax(np.abs(lu[j:, j])))
        piv[j] = p + 1
        if lu[p, j] != 0:
            if p != j:
                lu[[j, p]] = lu[[p, j]]
            lu[j + 1:, j] /= lu[j, j]
        elif info == 0:
            info = j + 1
        lu[j + 1:, j + 1:] -= np.outer(lu[j + 1:, j], lu[j, j + 1:])
    return lu, piv, info


def _factor(a):
    flat = a.reshape((-1,) + a.shape[-2:])
    k = min(a.shape[-2:])
    results = [_getf2(mat) for mat in flat]
    lu = np.stack([r[0] for r in results]).reshape(a.shape) if results else np.zeros(a.shape, a.dtype)
    piv = np.stack([r[1] for r in results]).reshape(a.shape[:-2] + (k,)) if results else \
        np.zeros(a.shape[:-2] + (k,), np.int32)
    info = np.array([r[2] for r in results], np.int32).reshape(a.shape[:-2])
    return lu, piv, info


def _permutation(piv, m, dtype):
    """P (m x m, batched) with A = P L U, from LAPACK's 1-based row swaps."""
    flat = piv.reshape(-1, piv.shape[-1])
    mats = []
    for swaps in flat:
        order = np.arange(m)
        for i, p in enumerate(swaps):
            order[[i, p - 1]] = order[[p - 1, i]]
        mats.append(np.eye(m, dtype=dtype)[order].T)
    return np.stack(mats).reshape(piv.shape[:-1] + (m, m)) if mats else np.zeros(piv.shape[:-1] + (m, m), dtype)


def _unpack(LU):
    m, n = LU.shape[-2:]
    k = min(m, n)
    eye = _creation.eye(m, k, dtype=LU.dtype, device=LU.device)
    return LU[..., :, :k].tril(-1) + eye, LU[..., :k, :].triu()


def _lu_backward(gL, gU, P, L, U):
    m, n = L.shape[-2], U.shape[-1]
    if m != n:
        raise NotImplementedError("linalg.lu: the derivative is implemented for square matrices only")
    phi = 0
    if gL is not None:
        phi = (dc._mT(L) @ gL).tril(-1)
    if gU is not None:
        phi = phi + (gU @ dc._mT(U)).triu()
    gA = solve_triangular(dc._mT(L), phi, upper=True, unitriangular=True)
    gA = solve_triangular(dc._mT(U), gA, upper=False, left=False)
    return P @ gA


class LinalgLuFactorExBackward0(Function):
    grad_fn_name = "LinalgLuFactorExBackward0"

    @staticmethod
    def forward(ctx, A):
        lu, piv, info = _factor(dc._host(A))
        LU = dc._like(A, lu)
        ctx.save_for_backward(LU)
        ctx.pivots = piv
        pivots, infos = dc._like(A, piv, _dtype.int32), dc._like(A, info, _dtype.int32)
        ctx.mark_non_differentiable(pivots, infos)
        return LU, pivots, infos

    @staticmethod
    def backward(ctx, gLU, gpiv, ginfo):
        LU, = ctx.saved_tensors
        L, U = _unpack(LU)
        P = dc._like(LU, _permutation(ctx.pivots, LU.shape[-2], LU.dtype.np))
        return _lu_backward(gLU.tril(-1), gLU.triu(), P, L, U)


class LinalgLuBackward0(Function):
    grad_fn_name = "LinalgLuBackward0"

    @staticmethod
    def forward(ctx, A):
        lu, piv, _ = _factor(dc._host(A))
        m, n = A.shape[-2:]
        k = min(m, n)
        L = np.tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=lu.dtype)
        U = np.triu(lu[..., :k, :])
        P = dc._like(A, _permutation(piv, m, lu.dtype))
        L, U = dc._like(A, L), dc._like(A, U)
        ctx.mark_non_differentiable(P)
        ctx.save_for_backward(P, L, U)
        return P, L, U

    @staticmethod
    def backward(ctx, gP, gL, gU):
        P, L, U = ctx.saved_tensors
        return _lu_backward(gL, gU, P, L, U)


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    dc.check_matrix(A, "linalg.lu_factor_ex")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    LU, pivots, info = LinalgLuFactorExBackward0.apply(A)
    if check_errors and bool((info > 0).any()):
        raise RuntimeError(f"torch.linalg.lu_factor_ex: U[{int(info.max())},{int(info.max())}] is zero and "
                           "using it on lu_solve would result in a division by zero. If you still want to "
                           "perform the factorization, consider calling linalg.lu(A, pivot) or "
                           "linalg.lu_factor_ex(A, pivot)")
    return lu_factor_ex_result(LU, pivots, info)


def lu_factor(A, *, pivot=True):
    dc.check_matrix(A, "linalg.lu_factor")
    LU, pivots, info = lu_factor_ex(A, pivot=pivot)
    if bool((info > 0).any()):
        k = int(info.reshape(-1)[int((info > 0).reshape(-1).int().argmax())].item())
        raise RuntimeError(f"torch.linalg.lu_factor: U[{k},{k}] is zero and using it on lu_solve would result "
                           "in a division by zero. If you still want to perform the factorization, consider "
                           "calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    return lu_factor_result(LU, pivots)


def lu(A, *, pivot=True):
    dc.check_matrix(A, "linalg.lu")
    if not pivot:
        raise RuntimeError("linalg.lu: LU without pivoting is not implemented on the CPU")
    return lu_result(*LinalgLuBackward0.apply(A))


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    L, U = _unpack(LU_data)
    P = dc._like(LU_data, _permutation(dc._host(LU_pivots), LU_data.shape[-2], LU_data.dtype.np))
    return lu_unpack_result(P if unpack_pivots else None, L if unpack_data else None, U if unpack_data else None)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B (A^T X = B with ``adjoint``; X A = B with ``left=False``), A = P L U."""
    from .composite_entry import composite_op
    dc.check_matrix(LU, "linalg.lu_solve", square=True)
    P = dc._like(LU, _permutation(dc._host(pivots), LU.shape[-2], LU.dtype.np))

    def solve(lu, b, transposed):
        L, U = _unpack(lu)
        if not transposed:  # A X = B: X = U^-1 L^-1 P^T B
            y = solve_triangular(L, dc._mT(P) @ b, upper=False, unitriangular=True)
            return solve_triangular(U, y, upper=True)
        y = solve_triangular(dc._mT(U), b, upper=False)  # A^T X = B: X = P L^-T U^-T B
        return P @ solve_triangular(dc._mT(L), y, upper=True, unitriangular=True)

    def compute(lu, b):
        if left:
            return solve(lu, b, adjoint)
        return dc._mT(solve(lu, dc._mT(b), not adjoint))
    return composite_op("LinalgLuSolveBackward0", compute, LU, B)


LINALG = {"lu_factor": lu_factor, "lu_factor_ex": lu_factor_ex, "lu": lu, "lu_solve": lu_solve}
FUNCTIONS = {"lu_unpack": lu_unpack}
