"""Matrix decompositions of ``linalg``: ``svd``, ``eigh``, ``qr``, ``cholesky``, ``slogdet``
and ``pinv``, each one tape entry named as PyTorch names it.

The forward runs LAPACK through numpy on the host (on a GPU tensor too: the matrices are
copied over and the factors copied back), batched over the leading dimensions.  The
backward formulas are PyTorch's (``svd_backward``, ``linalg_eig_backward`` for the
Hermitian case, ``linalg_qr_backward``, ``cholesky_backward``, ``slogdet_backward``,
``pinv_backward`` of ``FunctionsManual.cpp``), written with recorded tinytape ops, so they
run on either backend and give second derivatives.
"""
import numpy as np

from .. import _creation, _dtype
from ..autograd.function import Function
from . import shape as sh
from .windows import _check_tensor


def _host(t):
    return t._backend.to_numpy(t._data)


def _like(t, arr, dtype=None):
    """A new tensor holding the host array ``arr`` on ``t``'s device (``t``'s dtype unless
    ``dtype`` is given)."""
    arr = np.array(arr, dtype=(dtype or t.dtype).np, order="C")
    return t._new(t._backend.asarray(arr))


def check_matrix(A, op, square=False):
    _check_tensor(A, op, "A")
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if A.dtype not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{_dtype.scalar_type_name(A.dtype)}")


def _mT(x):
    return sh.transpose(x, -2, -1)


def _eye_fill(x):
    """``x`` with its diagonal set to 1 (a recorded ``x * (1 - I) + I``)."""
    eye = _creation.eye(x.shape[-1], dtype=x.dtype, device=x.device)
    return x * (1 - eye) + eye


# ------------------------------------------------------------------------------- svd
class LinalgSvdBackward0(Function):
    """(U, S, Vh) of A; ``full_matrices`` and whether U, Vh are wanted are ctx state."""

    grad_fn_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, A, full_matrices, compute_uv):
        a = _host(A)
        m, n = A.shape[-2:]
        if a.size == 0:
            k = min(m, n)
            batch = tuple(A.shape[:-2])
            u = np.zeros(batch + (m, m if full_matrices else k)) + (np.eye(m, m if full_matrices else k) if m else 0)
            vh = np.zeros(batch + (n if full_matrices else k, n)) + (np.eye(n if full_matrices else k, n) if n else 0)
            s = np.zeros(batch + (k,))
        else:
            u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        U, S, Vh = _like(A, u), _like(A, s), _like(A, vh)
        ctx.full_matrices = full_matrices
        ctx.save_for_backward(U, S, Vh)
        if not compute_uv:
            return S
        return U, S, Vh

    @staticmethod
    def backward(ctx, *grads):
        U, S, Vh = ctx.saved_tensors
        if len(grads) == 1:
            gU, gS, gVh = None, grads[0], None
        else:
            gU, gS, gVh = grads
        return svd_backward(gU, gS, gVh, U, S, Vh, ctx.full_matrices), None, None


def svd_backward(gU, gS, gVh, U, S, Vh, full_matrices):
    m, n = U.shape[-2], Vh.shape[-1]
    k = S.shape[-1]
    if full_matrices and m != n:
        U, Vh = U[..., :k], Vh[..., :k, :]
        gU = gU[..., :k] if gU is not None else None
        gVh = gVh[..., :k, :] if gVh is not None else None
    if gU is None and gVh is None:
        return U @ (gS.unsqueeze(-1) * Vh)
    gV = _mT(gVh) if gVh is not None else None
    S2 = S * S
    E = _eye_fill(S2.unsqueeze(-2) - S2.unsqueeze(-1))
    if gU is not None:
        UhgU = _mT(U) @ gU
        UhgU = UhgU - _mT(UhgU)
    if gV is not None:
        VhgV = Vh @ gV
        VhgV = VhgV - _mT(VhgV)
    if gU is not None and gV is not None:
        gA = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E
    elif gU is not None:
        gA = UhgU * (S.unsqueeze(-2) / E)
    else:
        gA = S.unsqueeze(-1) * (VhgV / E)
    if gS is not None:
        gA = gA + gS.diag_embed()
    if m > n and gU is not None:
        gA = U @ gA
        gUSinv = gU / S.unsqueeze(-2)
        gA = gA + gUSinv - U @ (_mT(U) @ gUSinv)
        return gA @ Vh
    if m < n and gV is not None:
        gA = gA @ Vh
        gVSinv = gV / S.unsqueeze(-2)
        gA = gA + _mT(gVSinv) - (_mT(gVSinv) @ _mT(Vh)) @ Vh
        return U @ gA
    return U @ (gA @ Vh) if m >= n else (U @ gA) @ Vh


# ------------------------------------------------------------------------------ eigh
class LinalgEighBackward0(Function):
    """(L, V) of the symmetric matrix in A's lower (``UPLO='L'``) or upper triangle."""

    grad_fn_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx, A, uplo, compute_v):
        a = _host(A)
        if a.size == 0:
            w, v = np.zeros(a.shape[:-1]), np.zeros(a.shape)
        else:
            w, v = np.linalg.eigh(a, UPLO=uplo)
        L, V = _like(A, w), _like(A, v)
        ctx.save_for_backward(L, V)
        return (L, V) if compute_v else L

    @staticmethod
    def backward(ctx, *grads):
        L, V = ctx.saved_tensors
        gL, gV = (grads[0], None) if len(grads) == 1 else grads
        if gV is None:
            return V @ (gL.unsqueeze(-1) * _mT(V)), None, None
        VhgV = _mT(V) @ gV
        VhgV = 0.5 * (VhgV - _mT(VhgV))
        ret = VhgV / _eye_fill(L.unsqueeze(-2) - L.unsqueeze(-1))
        eye = _creation.eye(L.shape[-1], dtype=L.dtype, device=L.device)
        ret = ret * (1 - eye)  # the diagonal is gL's (zero without it)
        if gL is not None:
            ret = ret + gL.diag_embed()
        return V @ (ret @ _mT(V)), None, None


# -------------------------------------------------------------------------------- qr
class LinalgQrBackward0(Function):
    """(Q, R) of A, ``mode`` 'reduced', 'complete' or 'r'."""

    grad_fn_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, A, mode):
        a = _host(A)
        m, n = A.shape[-2:]
        k = min(m, n)
        if a.size == 0:
            cols = m if mode == "complete" else k
            q = np.zeros(a.shape[:-2] + (m, cols)) + (np.eye(m, cols) if m and cols else 0)
            r = np.zeros(a.shape[:-2] + (cols if mode != "r" else k, n))
        else:
            q, r = np.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
        Q, R = _like(A, q), _like(A, r)
        ctx.mode = mode
        ctx.save_for_backward(Q, R)
        if mode == "r":
            return _like(A, np.zeros((0,))), R
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        Q, R = ctx.saved_tensors
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
                               "through linalg.qr.")
        m, n = Q.shape[-2], R.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and "
                               "nrows > ncols.")
        if m >= n:
            return _qr_backward_tall(gQ, gR, Q, R), None
        # A = [X | Y] with X square: X = Q U, Y = Q V
        U, V = R[..., :m], R[..., m:]
        gU = gR[..., :m] if gR is not None else None
        gV = gR[..., m:] if gR is not None else None
        Y = Q @ V
        gQ2 = gQ
        if gV is not None:
            gQ2 = Y @ _mT(gV) if gQ is None else gQ + Y @ _mT(gV)
        gX = _qr_backward_tall(gQ2, gU, Q, U)
        gY = Q @ gV if gV is not None else (Y * 0)
        return sh.cat([gX, gY], -1), None


def _qr_backward_tall(gQ, gR, Q, R):
    """m >= n: gA = (gQ + Q copyltu(M)) R^{-T}, M = R gR^T - gQ^T Q."""
    from .linalg_extra import linalg_inv
    if gQ is not None and gR is not None:
        M = R @ _mT(gR) - _mT(gQ) @ Q
    elif gQ is not None:
        M = -(_mT(gQ) @ Q)
    else:
        M = R @ _mT(gR)
    low = M.tril(-1)
    sym = low + _mT(low) + (M * _creation.eye(M.shape[-1], dtype=M.dtype, device=M.device))
    b = Q @ sym
    if gQ is not None:
        b = b + gQ
    return b @ _mT(linalg_inv(R))


# -------------------------------------------------------------------------- cholesky
class LinalgCholeskyExBackward0(Function):
    grad_fn_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx, A, upper, op):
        a = _host(A)
        try:
            low = np.linalg.cholesky(a) if a.size else a.copy()
        except np.linalg.LinAlgError:
            order = _first_failure(a)
            raise _linalg_error(f"{op}: The factorization could not be completed because the input is not "
                                f"positive-definite (the leading minor of order {order} is not "
                                "positive-definite).") from None
        L = _like(A, np.swapaxes(low, -1, -2) if upper else low)
        ctx.upper = upper
        ctx.save_for_backward(L)
        return L

    @staticmethod
    def backward(ctx, gL):
        from .linalg_extra import linalg_inv
        L, = ctx.saved_tensors
        if ctx.upper:
            L, gL = _mT(L), _mT(gL)
        gA = (_mT(L) @ gL).tril()
        gA = 0.5 * (gA + _mT(gA.tril(-1)))
        Linv = linalg_inv(L)
        return _mT(Linv) @ gA @ Linv, None, None


def _first_failure(a):
    flat = a.reshape((-1,) + a.shape[-2:])
    for mat in flat:
        for k in range(1, mat.shape[-1] + 1):
            try:
                np.linalg.cholesky(mat[:k, :k])
            except np.linalg.LinAlgError:
                return k
    return 1


def _linalg_error(message):
    from ..linalg import LinAlgError
    return LinAlgError(message)


# --------------------------------------------------------------------------- slogdet
class LinalgSlogdetBackward0(Function):
    grad_fn_name = "LinalgSlogdetBackward0"

    @staticmethod
    def forward(ctx, A):
        sign, logabs = np.linalg.slogdet(_host(A))
        ctx.save_for_backward(A)
        return _like(A, sign), _like(A, logabs)

    @staticmethod
    def backward(ctx, gsign, glogabs):
        from .linalg_extra import linalg_inv
        A, = ctx.saved_tensors
        if glogabs is None:
            return A * 0
        return glogabs.unsqueeze(-1).unsqueeze(-1) * _mT(linalg_inv(A))


# ------------------------------------------------------------------------------ pinv
class LinalgPinvBackward0(Function):
    grad_fn_name = "LinalgPinvBackward0"

    @staticmethod
    def forward(ctx, A, atol, rtol, hermitian):
        a = _host(A).astype(np.float64 if A.dtype is _dtype.float64 else np.float32)
        m, n = A.shape[-2:]
        if a.size == 0:
            p = np.zeros(a.shape[:-2] + (n, m))
        elif hermitian:
            w, v = np.linalg.eigh(a)
            keep = np.abs(w) > _cutoff(np.abs(w).max(-1, keepdims=True), atol, rtol, a.dtype, m, n)
            winv = np.where(keep, 1 / np.where(keep, w, 1), 0).astype(a.dtype)
            p = (v * winv[..., None, :]) @ np.swapaxes(v, -1, -2)
        else:
            u, s, vh = np.linalg.svd(a, full_matrices=False)
            keep = s > _cutoff(s[..., :1], atol, rtol, a.dtype, m, n)
            sinv = np.where(keep, 1 / np.where(keep, s, 1), 0).astype(a.dtype)
            p = np.swapaxes(vh, -1, -2) @ (sinv[..., :, None] * np.swapaxes(u, -1, -2))
        P = _like(A, p)
        ctx.save_for_backward(A, P)
        return P

    @staticmethod
    def backward(ctx, grad):
        A, pinvA = ctx.saved_tensors
        m, n = A.shape[-2:]
        pinvAh, gradh = _mT(pinvA), _mT(grad)
        if m <= n:
            K = gradh @ pinvA
            KpinvAh = K @ pinvAh
            gA = -_mT(pinvA @ K) + KpinvAh - (A @ pinvA) @ KpinvAh + (pinvAh @ pinvA) @ (gradh - K @ A)
        else:
            K = pinvA @ gradh
            pinvAhK = pinvAh @ K
            gA = -_mT(K @ pinvA) + (gradh - A @ K) @ pinvA @ pinvAh + pinvAhK - pinvAhK @ pinvA @ A
        return gA, None, None, None


def _cutoff(smax, atol, rtol, dtype, m, n):
    """PyTorch's threshold: max(atol, rtol * smax), rtol = eps * max(m, n) when neither
    tolerance is given (0 when only atol is)."""
    atol_v = 0.0 if atol is None else float(atol)
    if rtol is None:
        rtol_v = np.finfo(dtype).eps * max(m, n) if atol is None or atol_v <= 0 else 0.0
    else:
        rtol_v = float(rtol)
    return np.maximum(atol_v, rtol_v * smax)
