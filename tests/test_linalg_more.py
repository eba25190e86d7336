"""linalg's decompositions and what is built on them (svd, svdvals, eigh, eigvalsh, qr,
cholesky, slogdet, logdet, pinv, matrix_rank, matrix_power, lstsq, diagonal, cond, the
singular-value matrix norms, torch.svd): values, gradients and grad_fn names against
PyTorch's recorded answers, gradcheck, error types, and the CUDA path (simulator).

Singular and eigenvectors are unique up to sign and LAPACK builds differ in the sign they
pick (PyTorch's MKL and numpy's OpenBLAS do in about a third of random matrices), so the
cases compare them with each column's sign fixed by its first entry."""
import numpy as np
import pytest

import tinytape as tt
from helpers import check_grad
from pytorch_answers import pytorch

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]
# torch.lu, lu_solve and triangular_solve warn that they are deprecated, in PyTorch as here
pytestmark = pytest.mark.filterwarnings("ignore:torch.(lu|lu_solve|triangular_solve) is deprecated:UserWarning")


def _a(*shape, seed=0):
    return np.random.default_rng(seed + 7 * sum(shape) + len(shape)).uniform(-2.0, 2.0, shape)


def _cols(U):
    """U with each column's sign made that of its first entry's."""
    return U * U[..., :1, :].sign()


def _rows(Vh):
    return Vh * Vh[..., :, :1].sign()


def _svd(m, x, full):
    U, S, Vh = m.linalg.svd(x, full_matrices=full)
    k = S.shape[-1]
    return [S, _cols(U[..., :k]), _rows(Vh[..., :k, :])]


def _sym(x):
    return x + x.mT


def _spd(m, x):
    return x @ x.mT + 3 * m.eye(x.shape[-1], dtype=x.dtype, device=x.device)


def _run(m, fn, arrays, device="cpu"):
    kwargs = {"device": device} if m is tt else {}
    leaves = [m.tensor(a, dtype=m.float64, requires_grad=True, **kwargs) for a in arrays]
    out = fn(m, *leaves)
    if isinstance(out, (tuple, list)):
        out = m.cat([o.reshape(-1) for o in out])
    cot = m.tensor(np.linspace(-1.0, 1.5, out.numel()), dtype=out.dtype, **kwargs).reshape(out.shape)
    grads = m.autograd.grad(out, leaves, cot, allow_unused=True)
    return ([out.detach().cpu().numpy(), out.grad_fn.name() if out.grad_fn else None]
            + [g.cpu().numpy() if g is not None else 0.0 for g in grads])


CASES = {
    "svd_tall": (lambda m, x: _svd(m, x, False), [_a(4, 3)]),
    "svd_wide": (lambda m, x: _svd(m, x, False), [_a(3, 5)]),
    "svd_full_tall": (lambda m, x: _svd(m, x, True), [_a(5, 3)]),
    "svd_full_wide": (lambda m, x: _svd(m, x, True), [_a(2, 4)]),
    "svd_batched": (lambda m, x: _svd(m, x, False), [_a(2, 3, 3)]),
    "svd_values_only_used": (lambda m, x: m.linalg.svd(x)[1], [_a(4, 3)]),
    "svdvals": (lambda m, x: m.linalg.svdvals(x), [_a(2, 3, 4)]),
    "torch_svd": (lambda m, x: [_cols(m.svd(x).U), m.svd(x).S, _cols(m.svd(x).V)], [_a(4, 3)]),
    "eigh": (lambda m, x: [m.linalg.eigh(_sym(x)).eigenvalues, _cols(m.linalg.eigh(_sym(x))[1])], [_a(4, 4)]),
    "eigh_upper_batched": (lambda m, x: [_cols(m.linalg.eigh(_sym(x), UPLO="U")[1]), m.linalg.eigh(_sym(x))[0]],
                           [_a(2, 3, 3)]),
    "eigvalsh": (lambda m, x: m.linalg.eigvalsh(_sym(x)), [_a(4, 4)]),
    "qr_tall": (lambda m, x: list(m.linalg.qr(x)), [_a(5, 3)]),
    "qr_wide": (lambda m, x: list(m.linalg.qr(x)), [_a(3, 5)]),
    "qr_square_complete": (lambda m, x: list(m.linalg.qr(x, mode="complete")), [_a(3, 3)]),
    "qr_batched_r_used": (lambda m, x: m.linalg.qr(x)[1], [_a(2, 4, 3)]),
    "qr_q_used": (lambda m, x: m.linalg.qr(x).Q, [_a(4, 2)]),
    "cholesky": (lambda m, x: m.linalg.cholesky(_spd(m, x)), [_a(4, 4)]),
    "cholesky_upper_batched": (lambda m, x: m.linalg.cholesky(_spd(m, x), upper=True), [_a(2, 3, 3)]),
    "cholesky_ex": (lambda m, x: m.linalg.cholesky_ex(_spd(m, x)).L, [_a(3, 3)]),
    "slogdet": (lambda m, x: list(m.linalg.slogdet(x)), [_a(2, 3, 3)]),
    "slogdet_torch": (lambda m, x: m.slogdet(x)[1] * 2, [_a(4, 4)]),
    "logdet": (lambda m, x: m.logdet(_spd(m, x)), [_a(3, 3)]),
    "logdet_method": (lambda m, x: x.logdet(), [_a(3, 3)]),
    "pinv_tall": (lambda m, x: m.linalg.pinv(x), [_a(4, 3)]),
    "pinv_wide_batched": (lambda m, x: m.linalg.pinv(x), [_a(2, 2, 4)]),
    "pinv_hermitian": (lambda m, x: m.linalg.pinv(_spd(m, x), hermitian=True), [_a(3, 3)]),
    "pinverse": (lambda m, x: m.pinverse(x), [_a(3, 2)]),
    "matrix_power": (lambda m, x: [m.linalg.matrix_power(x, k) for k in (0, 1, 2, 3, 5, 6)], [_a(3, 3)]),
    "matrix_power_negative": (lambda m, x: m.linalg.matrix_power(x, -3), [_a(3, 3) + 3 * np.eye(3)]),
    "matrix_power_method": (lambda m, x: x.matrix_power(4), [_a(3, 3) * 0.5]),
    "matrix_power_batched": (lambda m, x: [m.linalg.matrix_power(x, 3)], [_a(2, 3, 3) * 0.5]),
    "torch_matrix_power": (lambda m, x: m.matrix_power(x, 2), [_a(3, 3)]),
    "lstsq": (lambda m, a, b: m.linalg.lstsq(a, b).solution, [_a(5, 3), _a(5, 2)]),
    "lstsq_gelsd_residuals": (lambda m, a, b: list(m.linalg.lstsq(a, b, driver="gelsd")[:2]), [_a(6, 3), _a(6, 2)]),
    "lstsq_batched_square": (lambda m, a, b: m.linalg.lstsq(a, b).solution, [_a(2, 3, 3), _a(2, 3, 1)]),
    "linalg_diagonal": (lambda m, x: m.linalg.diagonal(x, offset=1), [_a(2, 3, 4)]),
    "matrix_norm_2": (lambda m, x: m.linalg.matrix_norm(x, 2), [_a(2, 3, 4)]),
    "matrix_norm_minus_2": (lambda m, x: m.linalg.matrix_norm(x, -2), [_a(4, 3)]),
    "matrix_norm_nuc": (lambda m, x: m.linalg.matrix_norm(x, "nuc"), [_a(3, 4)]),
    "matrix_norm_nuc_dims_keepdim": (lambda m, x: m.linalg.matrix_norm(x, "nuc", dim=(0, 2), keepdim=True),
                                     [_a(3, 2, 4)]),
    "norm_ord_2": (lambda m, x: m.linalg.norm(x, 2), [_a(3, 3)]),
    "norm_nuc_dims": (lambda m, x: m.linalg.norm(x, "nuc", dim=(1, 0)), [_a(4, 3)]),
    "cond": (lambda m, x: m.linalg.cond(x), [_a(3, 3)]),
    "torch_norm_nuc": (lambda m, x: m.norm(x, p="nuc"), [_a(3, 4)]),
    "tensor_norm_nuc_keepdim": (lambda m, x: x.norm(p="nuc", dim=(2, 0), keepdim=True), [_a(3, 2, 4)]),
    "solve_triangular_upper": (lambda m, a, b: m.linalg.solve_triangular(
        a.triu() + 3 * m.eye(3, dtype=a.dtype, device=a.device), b, upper=True), [_a(3, 3), _a(3, 2)]),
    "solve_triangular_lower_right_unit": (lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False, left=False,
                                                                                  unitriangular=True),
                                          [_a(2, 3, 3), _a(2, 4, 3)]),
    "cholesky_solve": (lambda m, b, x: m.cholesky_solve(b, m.linalg.cholesky(_spd(m, x))), [_a(3, 2), _a(3, 3)]),
    "cholesky_solve_upper": (lambda m, b, x: m.cholesky_solve(b, m.linalg.cholesky(_spd(m, x), upper=True), True),
                             [_a(3, 2), _a(3, 3)]),
    "cholesky_inverse": (lambda m, x: m.cholesky_inverse(m.linalg.cholesky(_spd(m, x))), [_a(3, 3)]),
    "matrix_exp": (lambda m, x: m.linalg.matrix_exp(x), [_a(3, 3)]),
    "matrix_exp_batched": (lambda m, x: m.matrix_exp(x * 0.5), [_a(2, 2, 2)]),
    "vander": (lambda m, x: m.linalg.vander(x), [_a(4)]),
    "vander_n": (lambda m, x: m.linalg.vander(x, N=2), [_a(2, 3)]),
    "inv_ex": (lambda m, x: m.linalg.inv_ex(x).inverse, [_a(3, 3) + 3 * np.eye(3)]),
    "solve_ex": (lambda m, a, b: m.linalg.solve_ex(a, b)[0], [_a(3, 3) + 3 * np.eye(3), _a(3, 2)]),
    "lu_factor": (lambda m, x: m.linalg.lu_factor(x).LU, [_a(4, 4)]),
    "lu": (lambda m, x: list(m.linalg.lu(x)[1:]), [_a(2, 3, 3)]),
    "lu_solve": (lambda m, x, b: m.linalg.lu_solve(*m.linalg.lu_factor(x), b), [_a(3, 3), _a(3, 2)]),
    "lu_solve_adjoint_right": (lambda m, x, b: [m.linalg.lu_solve(*m.linalg.lu_factor(x), b, adjoint=True),
                                                m.linalg.lu_solve(*m.linalg.lu_factor(x), b.mT, left=False)],
                               [_a(3, 3), _a(3, 2)]),
    "torch_lu_and_lu_solve": (lambda m, x, b: m.lu_solve(b, *m.lu(x)), [_a(3, 3), _a(3, 2)]),
    "triangular_solve": (lambda m, a, b: [m.triangular_solve(b, a.triu() + 3 * m.eye(3, dtype=a.dtype), upper=True)[0],
                                          m.triangular_solve(b, a.tril() + 3 * m.eye(3, dtype=a.dtype), upper=False,
                                                             transpose=True).solution], [_a(3, 3), _a(3, 2)]),
    "tensorinv": (lambda m, x: [m.linalg.tensorinv(x.reshape(2, 3, 6) + m.eye(6, dtype=x.dtype).reshape(2, 3, 6) * 3,
                                                   ind=2)], [_a(36)]),
    "tensorsolve": (lambda m, x, b: m.linalg.tensorsolve(x.reshape(6, 2, 3) + m.eye(6, dtype=x.dtype).reshape(6, 2, 3)
                                                         * 3, b), [_a(36), _a(6)]),
    "vector_norm_ord0": (lambda m, x: m.linalg.vector_norm(x, 0, 1), [_a(3, 4) * (_a(3, 4, seed=1) > 0)]),
    "vector_norm_negative": (lambda m, x: m.linalg.vector_norm(x, -1.5, (0,), keepdim=True), [_a(3, 4)]),
    "vector_norm_negative_with_zero": (lambda m, x: m.linalg.vector_norm(x * m.tensor([0.0, 1, 1]), -1),
                                       [_a(2, 3)]),
    "vector_norm_orders": (lambda m, x: [m.linalg.vector_norm(x, o, 1) for o in (2, 1, 3, 0.5, float("inf"),
                                                                                 -float("inf"))], [_a(3, 4)]),
}
NO_GRADCHECK = {"cholesky_ex"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch(name):
    fn, arrays = CASES[name]
    got = _run(tt, fn, arrays)
    want = pytorch(lambda torch, *arrays: _run(torch, fn, arrays), *arrays)
    assert got[1] == want[1]  # the grad_fn's name
    for g, w in zip(got[:1] + got[2:], want[:1] + want[2:]):
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", ["svd_tall", "svd_full_wide", "svdvals", "eigh", "qr_tall", "qr_wide",
                                  "cholesky", "slogdet", "pinv_tall", "pinv_wide_batched", "lstsq_gelsd_residuals",
                                  "matrix_power_negative", "matrix_norm_nuc", "vector_norm_negative",
                                  "solve_triangular_upper", "solve_triangular_lower_right_unit", "cholesky_solve",
                                  "cholesky_inverse", "matrix_exp", "vander", "lu_factor", "lu",
                                  "lu_solve_adjoint_right"])
def test_gradcheck(name):
    fn, arrays = CASES[name]

    def flat(*xs):
        out = fn(tt, *xs)
        return tt.cat([o.reshape(-1) for o in out]) if isinstance(out, (tuple, list)) else out
    check_grad(flat, *arrays)


@pytest.mark.parametrize("name", ["svd_tall", "eigh", "cholesky", "pinv_tall", "matrix_exp", "solve_triangular_upper"])
def test_second_derivatives_match_pytorch(name):
    fn, arrays = CASES[name]

    def derivatives(m, *arrays):
        xs = [m.tensor(a, dtype=m.float64, requires_grad=True) for a in arrays]
        out = fn(m, *xs)
        out = m.cat([o.reshape(-1) for o in out]) if isinstance(out, (tuple, list)) else out
        gs = m.autograd.grad((out * out).sum(), xs, create_graph=True)
        hs = m.autograd.grad(sum((g * g).sum() for g in gs), xs)
        return [g.detach().numpy() for g in gs] + [h.numpy() for h in hs]
    for got, want in zip(derivatives(tt, *arrays), pytorch(derivatives, *arrays)):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)


def test_float32_values_dtypes_and_reprs():
    def values(m):
        a = m.tensor(_a(3, 3), dtype=m.float32)
        spd = a @ a.mT + 3 * m.eye(3)
        L = m.linalg.cholesky(spd)
        rank = [m.linalg.matrix_rank(a), m.linalg.matrix_rank(m.ones(2, 3, 3)),
                m.linalg.matrix_rank(a, hermitian=True), m.linalg.matrix_rank(m.ones(3, 4), atol=0.5)]
        fit = m.linalg.lstsq(a, a[:, :2], driver="gelsd")
        return [m.linalg.svdvals(a), m.linalg.eigvalsh(spd), L, m.linalg.slogdet(a).logabsdet, *rank,
                fit.rank, fit.singular_values, m.linalg.cond(a, "fro"), m.linalg.cond(a, 1), m.linalg.cond(a, -2),
                *m.linalg.lu_factor(a), *m.lu_unpack(*m.linalg.lu_factor(a)), *m.linalg.lu_factor_ex(a),
                m.linalg.lstsq(a, a[:, :2]).residuals, repr(m.linalg.slogdet(spd))]
    got = values(tt)
    want = pytorch(values)
    for g, w in zip(got[:-1], want[:-1]):
        assert g.dtype.__str__().split(".")[-1] == w.dtype
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=2e-6, atol=1e-6)
    assert got[-1] == want[-1].replace("torch", "tinytape")


def test_errors_match_pytorch():
    def errors(m, kind):
        a = m.tensor(_a(3, 3))
        if kind == "cholesky_not_pd":
            return m.linalg.cholesky(-m.eye(3))
        if kind == "torch_cholesky":
            return m.cholesky(a)
        if kind == "svd_1d":
            return m.linalg.svd(a[0])
        if kind == "eigh_not_square":
            return m.linalg.eigh(a[:2])
        if kind == "qr_mode":
            return m.linalg.qr(a, mode="full")
        if kind == "slogdet_int":
            return m.linalg.slogdet(m.ones(2, 2, dtype=m.int64))
        if kind == "matrix_power_not_square":
            return m.linalg.matrix_power(a[:2], 2)
        if kind == "norm_ord":
            return m.linalg.matrix_norm(a, 3)
        if kind == "solve_triangular_vector":
            return m.linalg.solve_triangular(a, a[0], upper=True)
        if kind == "lu_factor_singular":
            return m.linalg.lu_factor(m.ones(3, 3))
        if kind in ("qr", "lstsq", "symeig", "eig", "matrix_rank", "solve"):
            return getattr(m, kind)(a) if kind not in ("lstsq", "solve") else getattr(m, kind)(a, a)
        if kind == "qr_r_backward":
            x = m.tensor(_a(3, 3), requires_grad=True)
            return m.linalg.qr(x, mode="r")[1].sum().backward()
    for kind in ["cholesky_not_pd", "torch_cholesky", "svd_1d", "eigh_not_square", "qr_mode", "slogdet_int",
                 "matrix_power_not_square", "norm_ord", "qr_r_backward", "solve_triangular_vector",
                 "lu_factor_singular", "qr", "lstsq", "symeig", "eig", "matrix_rank", "solve"]:
        with pytest.raises(Exception) as want:
            pytorch(errors, kind)
        with pytest.raises(want.type) as got:
            errors(tt, kind)
        if kind in ("torch_cholesky", "qr", "lstsq", "symeig", "eig", "matrix_rank", "solve", "lu_factor_singular"):
            assert str(got.value) == str(want.value)
    with pytest.raises(tt.linalg.LinAlgError, match="positive-definite"):
        tt.linalg.cholesky(-tt.eye(3))
    assert tt.linalg.cholesky_ex(-tt.eye(3)).info.item() == pytorch(
        lambda m: m.linalg.cholesky_ex(-m.eye(3)).info.item())


FAMILY = ["svd_tall", "eigh", "qr_wide", "cholesky", "slogdet", "pinv_tall", "matrix_norm_nuc", "lstsq",
          "solve_triangular_upper", "matrix_exp", "lu", "lu_solve"]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", FAMILY)
def test_family_on_each_device(name, device):
    fn, arrays = CASES[name]
    want = pytorch(lambda torch, *arrays: _run(torch, fn, arrays), *arrays)
    got = _run(tt, fn, arrays, device)
    assert got[1] == want[1]
    for g, w in zip(got[:1] + got[2:], want[:1] + want[2:]):
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10)
