"""Determinant and inverse of small matrices by Gaussian elimination with partial pivoting,
written with recorded ops (row arithmetic on tensors; the pivot choice is made on the
host), so both have gradients and higher derivatives on either backend.  Each matrix of a
batch is eliminated on its own: meant for the small matrices of tutorial code."""
import numpy as np

from .. import _creation, _dtype
from . import elementwise as ew
from . import shape as sh
from .windows import _check_tensor


def _square(a, op):
    _check_tensor(a, op, "A")
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.{op}: A must be batches of square matrices, but they are "
                           f"{a.shape[-2] if a.ndim >= 2 else a.ndim} by {a.shape[-1] if a.ndim else 0} matrices")
    if not a.dtype.is_floating_point:
        raise RuntimeError(f"linalg.{op}: Expected a floating point or complex tensor as input. "
                           f"Got {_dtype.scalar_type_name(a.dtype)}")


def _batched(a, one):
    """``one`` applied to every matrix of ``a``'s batch, stacked back into its batch shape."""
    if a.ndim == 2:
        return one(a)
    batch = tuple(a.shape[:-2])
    flat = sh.reshape(a, (-1,) + tuple(a.shape[-2:]))
    results = [one(flat[i]) for i in range(flat.shape[0])]
    stacked = sh.stack(results) if results else _creation.zeros(0, dtype=a.dtype, device=a.device)
    return sh.reshape(stacked, batch + tuple(stacked.shape[1:]))


def _pivot(rows, k):
    column = np.abs([r[k].item() for r in rows[k:]])
    return k + int(np.argmax(column)), column.max(initial=0.0)


def _det(a):
    n = a.shape[0]
    rows = [a[i] for i in range(n)]
    det, sign = _creation.ones((), dtype=a.dtype, device=a.device), 1.0
    for k in range(n):
        p, size = _pivot(rows, k)
        if size == 0.0:
            return ew.mul(det, 0.0)  # exactly singular
        if p != k:
            rows[k], rows[p], sign = rows[p], rows[k], -sign
        pivot = rows[k][k]
        det = ew.mul(det, pivot)
        for i in range(k + 1, n):
            rows[i] = ew.sub(rows[i], ew.mul(rows[k], ew.div(rows[i][k], pivot)))
    return ew.mul(det, sign)


def _inverse(a):
    n = a.shape[0]
    eye = _creation.eye(n, dtype=a.dtype, device=a.device)
    rows = [sh.cat([a[i], eye[i]]) for i in range(n)]  # Gauss-Jordan on [A | I]
    for k in range(n):
        p, size = _pivot(rows, k)
        if size == 0.0:
            from ..linalg import LinAlgError
            raise LinAlgError(f"linalg.inv: The diagonal element {k + 1} is zero, the inversion could not be "
                               "completed because the input matrix is singular.")
        rows[k], rows[p] = rows[p], rows[k]
        rows[k] = ew.div(rows[k], rows[k][k])
        for i in range(n):
            if i != k:
                rows[i] = ew.sub(rows[i], ew.mul(rows[k], rows[i][k]))
    return sh.stack([r[n:] for r in rows])


def det(A):
    _square(A, "det")
    return _batched(A, _det)


def inverse(A):
    _square(A, "inv")
    return _batched(A, _inverse)
