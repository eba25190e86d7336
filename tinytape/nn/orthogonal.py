"""``nn.utils.parametrizations.orthogonal``: the ``matrix_exp``, ``cayley`` and ``householder``
maps, with or without trivialization, as PyTorch's (built on ``ops/householder.py``)."""
from enum import Enum, auto

import numpy as np

from .. import linalg as _linalg
from .._grad_mode import no_grad
from .._tensor import Tensor
from ..ops.householder import geqrf, householder_product
from . import parametrize
from .module import Module


def _root():
    """The package's top level (its functions are read when called: it imports this module)."""
    import tinytape
    return tinytape


def _is_orthogonal(Q):
    n, k = Q.size(-2), Q.size(-1)
    eye = _root().eye(k, dtype=Q.dtype, device=Q.device)
    eps = 10.0 * n * float(np.finfo(Q.dtype.name).eps)
    return bool((Q.transpose(-2, -1) @ Q).allclose(eye, atol=eps))


def _make_orthogonal(A):
    """The Q of A = QR (A tall) with diag(R) non-negative."""
    X, tau = geqrf(A)
    Q = householder_product(X, tau)
    return Q * X.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.size(-2), X.size(-1)
        transposed = n < k
        if transposed:
            X = X.transpose(-2, -1)
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:
                X = _root().cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.transpose(-2, -1)
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = _linalg.matrix_exp(A)
            else:
                eye = _root().eye(n, dtype=A.dtype, device=A.device)
                Q = _linalg.solve(_root().add(eye, A, alpha=-0.5), _root().add(eye, A, alpha=0.5))
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = householder_product(A, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if "base" in self._buffers:
            Q = self.base @ Q
        if transposed:
            Q = Q.transpose(-2, -1)
        return Q

    def right_inverse(self, Q):
        with no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q):
        if Q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {Q.shape}.")
        Q_init = Q
        n, k = Q.size(-2), Q.size(-1)
        transpose = n < k
        if transpose:
            Q = Q.transpose(-2, -1)
            n, k = k, n
        if "base" not in self._buffers:
            if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                raise NotImplementedError("It is not possible to assign to the matrix exponential "
                                          "or the Cayley parametrizations when use_trivialization=False.")
            A, tau = geqrf(Q)
            signs = A.diagonal(dim1=-2, dim2=-1).sign()
            signs = _root().where(tau == 0.0, -signs, signs)  # the diagonal: its signs, flipped where tau is 0
            on_diagonal = _root().eye(n, k, dtype=_root().bool, device=A.device)
            A = _root().where(on_diagonal, signs.unsqueeze(-2), A)
            return A.transpose(-2, -1) if transpose else A
        if n == k:
            Q = _make_orthogonal(Q) if not _is_orthogonal(Q) else Q.clone()
        else:
            N = _root().randn(*(tuple(Q.size()[:-2]) + (n, n - k)), dtype=Q.dtype, device=Q.device)
            Q = _make_orthogonal(_root().cat([Q, N], dim=-1))
        self.base = Q
        return _root().zeros_like(Q_init) - _root().eye(*Q_init.shape[-2:], dtype=Q.dtype, device=Q.device)


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """``module.<name>`` kept orthogonal (unitary): ``matrix_exp`` (the default for square
    matrices), ``cayley`` or ``householder`` (the default otherwise), as PyTorch's."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.size(-2) == weight.size(-1) else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
