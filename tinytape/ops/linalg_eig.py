"""``linalg.eig`` and ``linalg.eigvals``: eigenvalues and eigenvectors of a general square
matrix, complex even for a real one (LAPACK's geev through numpy: PyTorch's routine, so the
same order and normalisation, unit-norm eigenvectors whose largest component is real).

The gradient is PyTorch's ``linalg_eig_backward``: with ``E[i, j] = conj(L[j] - L[i])`` (1 on
the diagonal), ``gA = V^-H (diag(gL) + (V^H gV - V^H V diag(Re(diag(V^H gV)))) / E) V^H``, its
real part for a real matrix.  The final solve is numpy's (complex ``linalg.solve`` is not a
tinytape op): a gradient of this gradient is not recorded.
"""
import numpy as np

from .. import _dtype
from ..autograd.function import Function
from . import decompositions as dc
from .complex import _host
from .linalg_more import _result

eig_result = _result("linalg_eig", ["eigenvalues", "eigenvectors"])


def _eig(dtype):
    def compute(a):
        values, vectors = np.linalg.eig(a)
        return values.astype(dtype, copy=False), vectors.astype(dtype, copy=False)
    return compute


def _solve(a, b):
    return np.linalg.solve(a, b)


class LinalgEig(Function):
    grad_fn_name = "LinalgEigBackward0"

    @staticmethod
    def forward(ctx, A):
        values, vectors = _host(A, _eig(A.dtype.to_complex().np), A)
        values, vectors = A._new(values), A._new(vectors)
        ctx.save_for_backward(values, vectors)
        ctx.real_input = not A.dtype.is_complex
        return values, vectors

    @staticmethod
    def backward(ctx, g_values, g_vectors):
        L, V = ctx.saved_tensors
        Vh = V.mT.conj()
        if g_vectors is None:
            inner = g_values.unsqueeze(-1) * Vh
        else:
            VhgV = Vh @ g_vectors
            diagonal = VhgV.diagonal(0, -2, -1)
            if diagonal.imag.abs().max().item() > 1e-4 * max(1.0, diagonal.abs().max().item()):
                raise RuntimeError("linalg_eig_backward: The eigenvectors in the complex case are specified up to "
                                   "multiplication by e^{i phi}. The specified loss function depends on this phase "
                                   "term, making it ill-defined.")
            gA = VhgV - Vh @ (V * diagonal.real.unsqueeze(-2))
            Lconj = L.conj()
            E = Lconj.unsqueeze(-2) - Lconj.unsqueeze(-1)
            n = L.shape[-1]
            eye = V._new(np.eye(n, dtype=bool))
            gA = gA / E.masked_fill(eye, 1)
            if g_values is not None:
                gA = gA + g_values.diag_embed()
            inner = gA @ Vh
        grad = V._new(_host(V, _solve, Vh, inner))
        return grad.real if ctx.real_input else grad


def eig(A):
    _check(A, "linalg.eig")
    return eig_result(*LinalgEig.apply(A))


def eigvals(A):
    _check(A, "linalg.eigvals")
    return LinalgEig.apply(A)[0]


def _check(A, op):
    """``decompositions.check_matrix``'s checks of a square matrix, complex dtypes admitted."""
    dc._check_tensor(A, op, "A")
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if A.dtype not in (_dtype.float32, _dtype.float64, _dtype.complex64, _dtype.complex128):
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{_dtype.scalar_type_name(A.dtype)}")


LINALG = {"eig": eig, "eigvals": eigvals}
