"""More of ``linalg``'s matrix functions, built from recorded ops: ``det``, ``inv``, ``solve``,
``cross`` (and ``torch.cross``), and ``cdist``."""
import math

import numpy as np

from .. import _creation, _dtype
from .._tensor import _wrap_dim
from . import dtype_rules
from . import elementwise as ew
from . import extremes
from . import linalg as la
from . import reduction as red
from . import shape as sh
from .composite_entry import composite_op
from .elimination import det as _det, inverse as _inverse
from .stacks import broadcast_tensors
from .windows import _check_tensor


def _square(A, op):
    _check_tensor(A, op, "A")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.{op}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.ndim >= 2 else A.ndim} by {A.shape[-1] if A.ndim else 0} matrices")


def linalg_det(A):
    _square(A, "det")
    return composite_op("LinalgDetBackward0", _det, A)


def linalg_inv(A):
    _square(A, "inv")
    return composite_op("LinalgInvExBackward0", _inverse, A)


def linalg_solve(A, B, *, left=True):
    """The ``X`` with ``A @ X = B`` (``X @ A = B`` with ``left=False``); ``B`` may be a
    vector (or a batch of vectors) when its shape is ``A``'s without the last dimension."""
    _square(A, "solve")
    _check_tensor(B, "linalg.solve", "B")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_dtype.scalar_type_name(A.dtype)} and B of type {_dtype.scalar_type_name(B.dtype)} instead")
    vector = left and (B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1])))
    n = A.shape[-1]
    rows = B.shape[0] if vector and B.ndim == 1 else (B.shape[-1] if vector else B.shape[-2 if left else -1])
    if rows != n:  # a vector B is shown as the column PyTorch makes of it
        shown = (B.shape[-1], 1) if B.ndim == 1 or vector else B.shape[-2:]
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({'x'.join(map(str, A.shape[-2:]))} and "
                           f"{'x'.join(map(str, shown))})")

    def compute(a, b):
        inv = _inverse(a)
        if vector:
            return sh.squeeze(la.matmul(inv, sh.unsqueeze(b, -1)), -1)
        return la.matmul(inv, b) if left else la.matmul(b, inv)
    from ..linalg import LinAlgError
    try:
        return composite_op("LinalgSolveExBackward0", compute, A, B)
    except LinAlgError:  # (the inverse's own words are not solve's)
        raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is singular.") from None


def _cross_parts(a, b, d):
    x = [a[(slice(None),) * d + (i,)] for i in range(3)]
    y = [b[(slice(None),) * d + (i,)] for i in range(3)]
    return sh.stack([ew.sub(ew.mul(x[(i + 1) % 3], y[(i + 2) % 3]), ew.mul(x[(i + 2) % 3], y[(i + 1) % 3]))
                     for i in range(3)], d)


def linalg_cross(input, other, *, dim=-1):
    _check_tensor(input, "linalg.cross", "input")
    _check_tensor(other, "linalg.cross", "other")
    if input.ndim != other.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got {input.ndim} "
                           f"and {other.ndim}")
    d = _wrap_dim(dim, input.ndim, "linalg.cross")
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[d]} "
                           f"and {other.shape[d]}")
    a, b = broadcast_tensors(input, other)
    return composite_op("LinalgCrossBackward0", lambda x, y: _cross_parts(x, y, d), a, b)


def cross(input, other, dim=None):
    """``torch.cross``: over ``dim``, or (deprecated) the first dimension of size 3."""
    dtype_rules.check("cross", input.dtype)
    if dim is None:
        import warnings
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the "
                      "dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to "
                      "agree with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        dim = next((d for d, s in enumerate(np.broadcast_shapes(tuple(input.shape), tuple(other.shape))) if s == 3),
                   None)
        if dim is None:
            raise RuntimeError(f"no dimension of size 3 in input {list(input.shape)}")
    return linalg_cross(input, other, dim=dim)


def _cdist_mm(a, b):
    """PyTorch's Euclidean distances through a matrix product (its choice for more than 25
    rows on either side): sqrt(clamp_min(|a|^2 - 2 a b^T + |b|^2, 0))."""
    a_norm = red.sum(ew.mul(a, a), -1, keepdim=True)
    b_norm = red.sum(ew.mul(b, b), -1, keepdim=True)
    ones_a = _creation.ones_like(a_norm)
    ones_b = _creation.ones_like(b_norm)
    a_aug = sh.cat([ew.mul(a, -2), a_norm, ones_a], -1)
    b_aug = sh.cat([b, ones_b, b_norm], -1)
    return ew.sqrt(ew.clamp(la.matmul(a_aug, sh.transpose(b_aug, -1, -2)), 0))


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The ``p``-norm distance between each row of ``x1`` and each row of ``x2`` (batched)."""
    _check_tensor(x1, "cdist", "x1")
    _check_tensor(x2, "cdist", "x2")
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if not x1.dtype.is_floating_point:
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")
    if compute_mode not in modes:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    r1, r2 = x1.shape[-2], x2.shape[-2]
    use_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or
                         (compute_mode == modes[0] and (r1 > 25 or r2 > 25)))
    if use_mm:  # PyTorch's _euclidean_dist, then a view to the result's shape
        out = composite_op("EuclideanDistBackward0", _cdist_mm, x1, x2)
        return out.view(out.shape)

    def compute(a, b):
        diff = ew.abs(ew.sub(sh.unsqueeze(a, -2), sh.unsqueeze(b, -3)))
        if p == 0:
            return red.sum(ew.to_dtype(ew.ne(diff, 0), a.dtype), -1)
        if math.isinf(p):
            return extremes.amax(diff, -1)
        if p == 1:
            return red.sum(diff, -1)
        if p == 2:
            return ew.sqrt(red.sum(ew.mul(diff, diff), -1))
        return ew.pow(red.sum(ew.pow(diff, p), -1), 1.0 / p)
    return composite_op("CdistBackward0", compute, x1, x2)
