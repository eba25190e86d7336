"""``geqrf`` (LAPACK's compact QR, through scipy) and ``linalg.householder_product`` (the product
of the reflectors: one tape entry, ``LinalgHouseholderProductBackward0``, differentiated
through its composition)."""
import numpy as np
import scipy.linalg

from .. import _creation
from .._tensor import Tensor
from .composite_entry import composite_op


def geqrf(input):
    """LAPACK's QR factorisation in its compact form: ``(a, tau)``, R on and above the diagonal of
    ``a``, the Householder vectors below it (nothing recorded: PyTorch has no derivative for it)."""
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise RuntimeError(f"geqrf: input must have at least 2 dimensions, got {getattr(input, 'shape', input)}")
    if input.dtype.name not in ("float32", "float64"):
        raise RuntimeError(f"geqrf: expected a float32 or float64 tensor, got {input.dtype}")
    data = input.detach().cpu().numpy()
    m, n = data.shape[-2:]
    batch = data.reshape((-1, m, n))
    lapack = scipy.linalg.get_lapack_funcs("geqrf", (batch,))
    a = np.empty_like(batch)
    tau = np.empty((batch.shape[0], min(m, n)), data.dtype)
    for i, matrix in enumerate(batch):
        qr, t, _, _ = lapack(np.asfortranarray(matrix))
        a[i], tau[i] = qr, t[:min(m, n)]
    device = input.device
    return (_creation.tensor(a.reshape(data.shape), device=device),
            _creation.tensor(tau.reshape(data.shape[:-2] + (min(m, n),)), device=device))


def householder_product(A, tau):
    """The first ``n`` columns of ``H_1 ... H_k`` for ``H_i = I - tau_i v_i v_i^H`` with ``v_i`` the
    ``i``-th column of ``A`` below the diagonal (1 on it): LAPACK's ``orgqr``."""
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.householder_product: input must have at least 2 dimensions.")
    m, n = A.shape[-2:]
    k = tau.shape[-1]
    if m < n:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if n < k:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    if tau.shape[:-1] != A.shape[:-2]:
        raise RuntimeError(f"torch.linalg.householder_product: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {list(tau.shape[:-1])}")

    def compute(A, tau):
        eye = _creation.eye(m, n, dtype=A.dtype, device=A.device)
        V = A.tril(-1) + eye  # unit lower trapezoid: the reflectors' vectors
        Q = eye.expand(A.shape[:-2] + (m, n))
        for i in reversed(range(k)):
            v = V[..., :, i:i + 1]
            Q = Q - (tau[..., i:i + 1].unsqueeze(-1) * v) @ (v.transpose(-2, -1) @ Q)
        return Q

    return composite_op("LinalgHouseholderProductBackward0", compute, A, tau)
