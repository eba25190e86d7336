"""The pre-``linalg`` matrix functions of ``torch``: ``torch.lu``, ``lu_solve`` and
``triangular_solve`` (deprecated, still there), the removed ones (``qr``, ``lstsq``,
``symeig``, ``eig``, ``matrix_rank``, ``solve``: each raises PyTorch's RuntimeError, which
says what to use instead), and ``linalg.tensorinv``/``tensorsolve``."""
import math
import warnings

from . import decompositions as dc
from .linalg_lu import lu_factor_ex, lu_solve as linalg_lu_solve
from .linalg_more import _result
from .linalg_triangular import solve_triangular

triangular_solve_result = _result("triangular_solve", ["solution", "cloned_coefficient"])

_REMOVED = "This function was deprecated since version 1.9 and is now removed. "
_MESSAGES = {
    "lstsq": "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n`torch.linalg.lstsq` has reversed "
             "arguments and does not return the QR decomposition in the returned tuple (although it returns other "
             "information about the problem).\n\nTo get the QR decomposition consider using `torch.linalg.qr`.\n\n"
             "The returned solution in `torch.lstsq` stored the residuals of the solution in the last m - n columns "
             "of the returned value whenever m > n. In torch.linalg.lstsq, the residuals are in the field "
             "'residuals' of the returned named tuple.\n\nThe unpacking of the solution, as in\nX, _ = "
             "torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced with:\nX = torch.linalg.lstsq(A, B).solution",
    "symeig": "The default behavior has changed from using the upper triangular portion of the matrix by default "
              "to using the lower triangular portion.\n\nL, _ = torch.symeig(A, upper=upper) should be replaced "
              "with:\nL = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand\n\nL, V = torch.symeig(A, "
              "eigenvectors=True) should be replaced with:\nL, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')",
    "eig": "`torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than real tensors "
           "mimicking complex tensors.\n\nL, _ = torch.eig(A) should be replaced with:\nL_complex = "
           "torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, eigenvectors=True) should be replaced with:\n"
           "L_complex, V_complex = torch.linalg.eig(A)",
    "matrix_rank": "\nPlease use the `torch.linalg.matrix_rank` function instead. The parameter 'symmetric' was "
                   "renamed in `torch.linalg.matrix_rank()` to 'hermitian'.",
    "solve": "`torch.solve` is deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` has its arguments "
             "reversed and does not return the LU factorization.\n\nTo get the LU factorization see `torch.lu`, "
             "which can be used with `torch.lu_solve` or `torch.lu_unpack`.\nX = torch.solve(B, A).solution should "
             "be replaced with:\nX = torch.linalg.solve(A, B)",
}


def _removed(name):
    def fn(*args, **kwargs):
        text = _MESSAGES[name]
        raise RuntimeError((_REMOVED.rstrip(" ") if text.startswith("\n") else _REMOVED) + text)
    fn.__name__ = name
    return fn


def qr(input, some=True):
    raise RuntimeError(_REMOVED + "`torch.qr` is deprecated in favor of `torch.linalg.qr` and the boolean parameter "
                       "`some` has been replaced with a string parameter `mode`.\n\nQ, R = torch.qr(A) should be "
                       "replaced with:\nQ, R = torch.linalg.qr(A, mode='reduced')\n\nand\n\nQ, R = torch.qr(A, "
                       "some=False) should be replaced with:\nQ, R = torch.linalg.qr(A, mode='complete')\n\nSince "
                       f"`some` was set to {some}, use mode='{'reduced' if some else 'complete'}'.")


def lu(A, pivot=True, get_infos=False):
    warnings.warn("torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will "
                  "be removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\nshould be "
                  "replaced with\nLU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = "
                  "torch.lu(A, compute_pivots, get_infos=True)\nshould be replaced with\nLU, pivots, info = "
                  "torch.linalg.lu_factor_ex(A, compute_pivots)", UserWarning, stacklevel=2)
    LU, pivots, info = lu_factor_ex(A, pivot=pivot)
    return (LU, pivots, info) if get_infos else (LU, pivots)


def lu_solve(b, LU_data, LU_pivots):
    warnings.warn("torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future "
                  "PyTorch release.\nNote that torch.linalg.lu_solve has its arguments reversed.\nX = "
                  "torch.lu_solve(B, LU, pivots)\nshould be replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)",
                  UserWarning, stacklevel=2)
    return linalg_lu_solve(LU_data, LU_pivots, b)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    warnings.warn("torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will be "
                  "removed in a future PyTorch release.\ntorch.linalg.solve_triangular has its arguments reversed "
                  "and does not return a copy of one of the inputs.\nX = torch.triangular_solve(B, A).solution\n"
                  "should be replaced with\nX = torch.linalg.solve_triangular(A, B).", UserWarning, stacklevel=2)
    from .composite_entry import composite_op

    def compute(rhs, a):
        coefficient = dc._mT(a) if transpose else a
        return solve_triangular(coefficient, rhs, upper=upper != transpose, unitriangular=unitriangular)
    return triangular_solve_result(composite_op("TriangularSolveBackward0", compute, b, A), A.clone())


def tensorinv(A, ind=2):
    """The inverse of A as a map from its first ``ind`` dimensions to the rest."""
    from .linalg_extra import linalg_inv
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    n = math.prod(rows)
    if n != math.prod(cols):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {math.prod(cols)} != {n}")
    return linalg_inv(A.reshape(n, n)).reshape(*(cols + rows))


def tensorsolve(A, B, dims=None):
    """The X with tensordot(A, X, X.ndim) = B."""
    from .linalg_extra import linalg_solve
    if dims is not None:
        moved = [d % A.ndim for d in dims]
        A = A.permute(*[d for d in range(A.ndim) if d not in moved], *moved)
    rest = tuple(A.shape[B.ndim:])
    n = math.prod(B.shape)
    return linalg_solve(A.reshape(n, -1), B.reshape(n)).reshape(*rest)


FUNCTIONS = {"qr": qr, "lstsq": _removed("lstsq"), "symeig": _removed("symeig"), "eig": _removed("eig"),
             "matrix_rank": _removed("matrix_rank"), "solve": _removed("solve"), "lu": lu, "lu_solve": lu_solve,
             "triangular_solve": triangular_solve}
METHODS = {"qr": qr, "lstsq": lambda self, A: _removed("lstsq")(), "symeig": _removed("symeig"),
           "eig": _removed("eig"), "solve": _removed("solve"), "lu": lu,
           "lu_solve": lambda self, LU_data, LU_pivots: lu_solve(self, LU_data, LU_pivots),
           "triangular_solve": triangular_solve}
LINALG = {"tensorinv": tensorinv, "tensorsolve": tensorsolve}
