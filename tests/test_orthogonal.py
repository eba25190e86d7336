"""``nn.utils.parametrizations.orthogonal`` and ``geqrf`` / ``linalg.householder_product`` against
PyTorch's recorded answers (names and keys exactly; values to LAPACK's rounding: the QR and the
matrix exponential run through other LAPACK/BLAS builds here)."""
import numpy as np
import pytest

import tinytape as tt
from helpers import check_grad
from pytorch_answers import pytorch
from tinytape.nn.orthogonal import _Orthogonal, _OrthMaps

CASES = [((3, 3), None, True), ((4, 3), None, True), ((3, 5), None, True), ((3, 3), "cayley", True),
         ((4, 3), "householder", False), ((4, 4), "matrix_exp", True), ((2, 4), "cayley", True),
         ((3, 3), "householder", True)]


def _parametrized(lib, shape, kind, trivial):
    lib.manual_seed(0)
    m = lib.nn.Linear(shape[1], shape[0])
    lib.nn.utils.parametrizations.orthogonal(m, orthogonal_map=kind, use_trivialization=trivial)
    x = lib.randn(2, shape[1])
    m(x).sum().backward()
    weight = m.weight
    original = m.parametrizations.weight.original
    return {"grad_fn": type(weight.grad_fn).__name__, "keys": sorted(m.state_dict()),
            "weight": weight.detach().numpy(), "grad": original.grad.numpy(),
            "orthogonal": weight.detach().numpy()}


@pytest.mark.parametrize("shape,kind,trivial", CASES)
def test_orthogonal_matches_pytorch(shape, kind, trivial):
    ours = _parametrized(tt, shape, kind, trivial)
    theirs = pytorch(lambda torch: _parametrized(torch, shape, kind, trivial))
    assert ours["grad_fn"] == theirs["grad_fn"] and ours["keys"] == theirs["keys"]
    np.testing.assert_allclose(ours["weight"], theirs["weight"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours["grad"], theirs["grad"], rtol=1e-4, atol=1e-5)
    w = ours["weight"] if shape[0] >= shape[1] else ours["weight"].T
    np.testing.assert_allclose(w.T @ w, np.eye(w.shape[1]), atol=1e-5)


def _assign_and_errors(lib):
    lib.manual_seed(1)
    m = lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3))
    q = lib.linalg.qr(lib.randn(3, 3))[0]
    with lib.no_grad():
        m.weight = q
    errors = []
    for call in (lambda: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), orthogonal_map="qr"),
                 lambda: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(2, 3), orthogonal_map="cayley",
                                                                 use_trivialization=False).__setattr__(
                     "weight", lib.zeros(3, 2))):
        try:
            call()
            errors.append(None)
        except Exception as e:  # noqa: BLE001 - the error is the answer
            errors.append((type(e).__name__, str(e)))
    return m.weight.detach().numpy(), q.numpy(), errors


def test_assigning_an_orthogonal_matrix_and_errors():
    ours = _assign_and_errors(tt)
    theirs = pytorch(_assign_and_errors)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[0], ours[1], atol=1e-6)
    assert ours[2] == theirs[2]


def _qr_parts(lib, a):
    A = lib.tensor(a)
    h, tau = lib.geqrf(A)
    Q = lib.linalg.householder_product(h.requires_grad_(), tau)
    return h.detach().numpy(), tau.numpy(), Q.detach().numpy(), type(Q.grad_fn).__name__


def test_geqrf_and_householder_product_match_pytorch():
    a = np.random.default_rng(2).standard_normal((2, 5, 3))
    ours, theirs = _qr_parts(tt, a), pytorch(_qr_parts, a)
    for x, y in zip(ours[:3], theirs[:3]):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-13)
    assert ours[3] == theirs[3]
    np.testing.assert_allclose(ours[2] @ np.triu(ours[0][:, :3]), a, atol=1e-12)


def test_householder_product_gradients():
    rng = np.random.default_rng(3)
    check_grad(tt.linalg.householder_product, rng.standard_normal((4, 3)), rng.standard_normal(2))
    check_grad(tt.linalg.householder_product, rng.standard_normal((2, 3, 3)), rng.standard_normal((2, 3)))


@pytest.mark.parametrize("kind", ["matrix_exp", "cayley", "householder"])
def test_orthogonal_gradients(kind):
    def weight(original):
        return _Orthogonal(original, getattr(_OrthMaps, kind), use_trivialization=False)(original)
    check_grad(weight, np.random.default_rng(4).standard_normal((4, 3)))
