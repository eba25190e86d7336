"""``linalg``'s decompositions and what is built on them: ``svd``/``svdvals``, ``eigh``/
``eigvalsh``, ``qr``, ``cholesky``(``_ex``), ``slogdet`` (and ``logdet``), ``pinv``,
``matrix_rank``, ``lstsq``, ``matrix_power``, ``diagonal``, ``cond``, the singular-value
matrix norms, and ``torch.svd``/``pinverse``/``matrix_power``.  The named tuples print as
PyTorch's ``torch.return_types``."""
import collections

import numpy as np

from .. import _creation, _dtype
from ..autograd.function import Function
from . import decompositions as dc
from . import elementwise as ew
from . import extremes
from . import reduction as red


def _result(name, fields):
    base = collections.namedtuple(name, fields)

    def __repr__(self):
        body = ",\n".join(f"{f}={getattr(self, f)!r}" for f in fields)
        return f"tinytape.return_types.{name}(\n{body})"
    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": "tinytape.return_types"})


svd_result = _result("linalg_svd", ["U", "S", "Vh"])
torch_svd_result = _result("svd", ["U", "S", "V"])
eigh_result = _result("linalg_eigh", ["eigenvalues", "eigenvectors"])
qr_result = _result("linalg_qr", ["Q", "R"])
slogdet_result = _result("linalg_slogdet", ["sign", "logabsdet"])
torch_slogdet_result = _result("slogdet", ["sign", "logabsdet"])
cholesky_ex_result = _result("linalg_cholesky_ex", ["L", "info"])
lstsq_result = _result("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


def svd(A, full_matrices=True, *, driver=None):
    dc.check_matrix(A, "linalg.svd")
    return svd_result(*dc.LinalgSvdBackward0.apply(A, bool(full_matrices), True))


def svdvals(A, *, driver=None):
    dc.check_matrix(A, "linalg.svdvals")
    return dc.LinalgSvdBackward0.apply(A, False, False)


def torch_svd(input, some=True, compute_uv=True):
    """``torch.svd``: U, S and V (not Vh), reduced unless ``some=False``."""
    dc.check_matrix(input, "svd")
    U, S, Vh = dc.LinalgSvdBackward0.apply(input, not some, True)
    if not compute_uv:
        return torch_svd_result(_creation.zeros_like(U), S, _creation.zeros_like(dc._mT(Vh)))
    return torch_svd_result(U, S, dc._mT(Vh))


def eigh(A, UPLO="L"):
    dc.check_matrix(A, "linalg.eigh", square=True)
    _uplo(UPLO, "linalg.eigh")
    return eigh_result(*dc.LinalgEighBackward0.apply(A, UPLO.upper(), True))


def eigvalsh(A, UPLO="L"):
    dc.check_matrix(A, "linalg.eigvalsh", square=True)
    _uplo(UPLO, "linalg.eigvalsh")
    return dc.LinalgEighBackward0.apply(A, UPLO.upper(), False)


def _uplo(uplo, op):
    if not isinstance(uplo, str) or uplo.upper() not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {uplo}")


def qr(A, mode="reduced"):
    dc.check_matrix(A, "linalg.qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                           "'r', or 'complete'")
    return qr_result(*dc.LinalgQrBackward0.apply(A, mode))


def cholesky(A, *, upper=False):
    dc.check_matrix(A, "linalg.cholesky", square=True)
    return dc.LinalgCholeskyExBackward0.apply(A, bool(upper), "linalg.cholesky")


def cholesky_ex(A, *, upper=False, check_errors=False):
    dc.check_matrix(A, "linalg.cholesky_ex", square=True)
    try:
        L = dc.LinalgCholeskyExBackward0.apply(A, bool(upper), "linalg.cholesky_ex")
        info = _creation.zeros(tuple(A.shape[:-2]), dtype=_dtype.int32, device=A.device)
    except RuntimeError as error:
        if check_errors:
            raise
        order = dc._first_failure(dc._host(A))
        L = _creation.zeros_like(A)
        info = _creation.full(tuple(A.shape[:-2]), order, dtype=_dtype.int32, device=A.device)
        del error
    return cholesky_ex_result(L, info)


def torch_cholesky(input, upper=False):
    raise RuntimeError("This function was deprecated since version 1.9 and is now removed. `torch.cholesky` is "
                       "deprecated in favor of `torch.linalg.cholesky`.\nL = torch.cholesky(A) should be replaced "
                       "with:\nL = torch.linalg.cholesky(A)\nU = torch.cholesky(A, upper=True) should be replaced "
                       "with:\nU = torch.linalg.cholesky(A).mH")


def slogdet(A):
    dc.check_matrix(A, "linalg.slogdet", square=True)
    return slogdet_result(*dc.LinalgSlogdetBackward0.apply(A))


def torch_slogdet(input):
    dc.check_matrix(input, "linalg.slogdet", square=True)
    return torch_slogdet_result(*dc.LinalgSlogdetBackward0.apply(input))


def logdet(input):
    """log det A: nan where the determinant is negative, -inf where it is zero."""
    sign, logabs = slogdet(input)
    nan = _creation.full((), float("nan"), dtype=input.dtype, device=input.device)
    return ew.where(ew.lt(sign, 0), nan, logabs)


def pinv(A, *, atol=None, rtol=None, hermitian=False, rcond=None):
    dc.check_matrix(A, "linalg.pinv")
    if rcond is not None:
        rtol = rcond
    return dc.LinalgPinvBackward0.apply(A, atol, rtol, bool(hermitian))


def pinverse(input, rcond=1e-15):
    return pinv(input, rtol=rcond)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None):
    dc.check_matrix(A, "linalg.matrix_rank")
    if tol is not None:
        atol, rtol = tol, 0.0
    a = dc._host(A)
    m, n = A.shape[-2:]
    if a.size == 0:
        return _creation.zeros(tuple(A.shape[:-2]), dtype=_dtype.int64, device=A.device)
    s = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
    smax = s.max(-1, keepdims=True)
    rank = (s > dc._cutoff(smax, atol, rtol, a.dtype, m, n)).sum(-1)
    return dc._like(A, rank, _dtype.int64)


def matrix_power(A, n):
    """PyTorch's binary powering: A^0 = I, A^1 a copy, negative powers of inv(A)."""
    dc._check_tensor(A, "linalg.matrix_power", "A")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.ndim >= 2 else A.ndim} by {A.shape[-1] if A.ndim else 0} matrices")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"linalg_matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    n = int(n)
    if n == 0:
        eye = _creation.eye(A.shape[-1], dtype=A.dtype, device=A.device)
        return ew.add(ew.mul(A, 0), eye) if A.requires_grad else eye.expand(*A.shape).clone()
    if n < 0:
        from .linalg_extra import linalg_inv
        A, n = linalg_inv(A), -n
    if n == 1:
        return A.clone()
    if n == 2:
        return A @ A
    if n == 3:
        return (A @ A) @ A
    z = result = None
    while n > 0:
        bit, n = n % 2, n // 2
        z = A if z is None else z @ z
        if bit:
            result = z if result is None else result @ z
    return result


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return A.diagonal(offset, dim1, dim2)


def singular_norm(A, ord, dim, keepdim):
    """ord 2 / -2: the largest / smallest singular value; 'nuc': their sum (PyTorch's order:
    the two dims permuted last; with ``keepdim``, the result permuted back)."""
    d0, d1 = (d % A.ndim for d in dim)
    perm = [d for d in range(A.ndim) if d not in (d0, d1)] + [d0, d1]
    s = svdvals(A.permute(*perm))
    reduce = extremes.amax if ord == 2 else extremes.amin if ord == -2 else red.sum
    if not keepdim:
        return reduce(s, -1)
    return reduce(s, -1, True).unsqueeze(-1).permute(*np.argsort(perm).tolist())


def cond(A, p=None):
    """The condition number: s_max / s_min for p None or 2 (s_min / s_max for -2); other
    norms as norm(A, p) * norm(inv(A), p)."""
    from ..linalg import matrix_norm
    from .linalg_extra import linalg_inv
    dc.check_matrix(A, "linalg.cond")
    if p in (None, 2, -2):
        s = svdvals(A)
        big, small = s[..., :1], s[..., -1:]
        return ew.div(big, small).squeeze(-1) if p != -2 else ew.div(small, big).squeeze(-1)
    return ew.mul(matrix_norm(A, p), matrix_norm(linalg_inv(A), p))


class LinalgLstsqBackward0(Function):
    """The least-squares solution X (and, for gelsd/gelss/gels with m > n and full rank,
    the squared residuals); rank and singular values are not differentiable."""

    grad_fn_name = "LinalgLstsqBackward0"

    @staticmethod
    def forward(ctx, A, B, rcond, driver, vector):
        a, b = dc._host(A), dc._host(B)
        if vector:
            b = b[..., None]
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a2 = np.broadcast_to(a, batch + a.shape[-2:]).reshape((-1,) + a.shape[-2:])
        b2 = np.broadcast_to(b, batch + b.shape[-2:]).reshape((-1,) + b.shape[-2:])
        m, n = a.shape[-2:]
        rc = rcond if rcond is not None else np.finfo(a.dtype).eps * max(m, n)
        sols, ranks, svals = [], [], []
        for x, y in zip(a2, b2):
            sol, _, rank, sv = np.linalg.lstsq(x, y, rcond=rc)
            sols.append(sol), ranks.append(rank), svals.append(sv)
        sol = np.array(sols).reshape(batch + (n, b.shape[-1])) if sols else np.zeros(batch + (n, b.shape[-1]))
        full = bool(ranks) and all(r == n for r in ranks)
        if driver != "gelsy" and m > n and full:
            resid = ((a @ sol - b) ** 2).sum(-2)
        else:
            resid = np.zeros((0,))
        X = dc._like(A, sol[..., 0] if vector else sol)
        ctx.vector = vector
        ctx.save_for_backward(A, B, X)
        rank = dc._like(A, np.array(ranks).reshape(batch) if driver != "gels" else np.zeros((0,)), _dtype.int64)
        sv = np.array(svals).reshape(batch + (min(m, n),)) if driver in ("gelsd", "gelss") else np.zeros((0,))
        out = (X, dc._like(A, resid), rank, dc._like(A, sv))
        ctx.mark_non_differentiable(out[2], out[3])
        return out

    @staticmethod
    def backward(ctx, gX, gR, grank, gsv):
        A, B, X = ctx.saved_tensors
        if ctx.vector:
            B, X = B.unsqueeze(-1), X.unsqueeze(-1)
            gX = gX.unsqueeze(-1) if gX is not None else None
        gA = gB = None
        if gX is not None:
            P = pinv(A)
            gB = dc._mT(P) @ gX
            gA = dc.LinalgPinvBackward0.backward(_Ctx(A, P), gX @ dc._mT(B))[0]
        if gR is not None and gR.numel():
            r = A @ X - B
            gAr, gBr = 2 * r * gR.unsqueeze(-2) @ dc._mT(X), -2 * r * gR.unsqueeze(-2)
            gA = gAr if gA is None else gA + gAr
            gB = gBr if gB is None else gB + gBr
        if ctx.vector and gB is not None:
            gB = gB.squeeze(-1)
        return gA, gB, None, None, None


class _Ctx:
    def __init__(self, *saved):
        self.saved_tensors = saved


def lstsq(A, B, rcond=None, *, driver=None):
    dc.check_matrix(A, "linalg.lstsq")
    dc._check_tensor(B, "linalg.lstsq", "B")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
                           f"input's dtype {A.dtype} and other's dtype {B.dtype}")
    drivers = ("gels", "gelsy", "gelsd", "gelss")
    if driver is not None and driver not in drivers:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    vector = B.ndim == A.ndim - 1
    if B.shape[-1 if vector else -2] != A.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    return lstsq_result(*LinalgLstsqBackward0.apply(A, B, rcond, driver or "gelsy", vector))


LINALG = {
    "svd": svd, "svdvals": svdvals, "eigh": eigh, "eigvalsh": eigvalsh, "qr": qr, "cholesky": cholesky,
    "cholesky_ex": cholesky_ex, "slogdet": slogdet, "pinv": pinv, "matrix_rank": matrix_rank,
    "matrix_power": matrix_power, "diagonal": diagonal, "lstsq": lstsq, "cond": cond,
}
FUNCTIONS = {
    "svd": torch_svd, "slogdet": torch_slogdet, "logdet": logdet, "pinverse": pinverse,
    "matrix_power": matrix_power, "cholesky": torch_cholesky,
}
METHODS = {
    "svd": torch_svd, "slogdet": torch_slogdet, "logdet": logdet, "pinverse": pinverse,
    "matrix_power": matrix_power, "cholesky": torch_cholesky,
}
