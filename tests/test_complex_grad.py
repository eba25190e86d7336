"""Gradients of complex programs: finite differences through the real parts (a complex leaf is a
pair of float64 leaves), PyTorch's recorded ``.grad`` of complex leaves (its conjugate Wirtinger
convention), ``linalg.eig``, optimizers on complex parameters, tutorial-style programs, and the
compiler, which runs complex programs eagerly rather than replaying them."""
import warnings

import numpy as np
import pytest

import tinytape
from helpers import check_close_to_pytorch, check_grad
from pytorch_answers import pytorch
from tinytape.compiler.capture import Unsupported


def _z(re, im):
    return tinytape.complex(re, im)


def _rng(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape)


# each: a function of complex tensors to a complex (or real) result
_UNARY = {
    "exp": lambda z: z.exp(), "log": lambda z: z.log(), "sqrt": lambda z: z.sqrt(), "neg": lambda z: -z,
    "reciprocal": lambda z: z.reciprocal(), "tanh": lambda z: z.tanh(), "sigmoid": lambda z: z.sigmoid(),
    "sin": lambda z: z.sin(), "cos": lambda z: z.cos(), "square": lambda z: z.square(),
    "pow_2": lambda z: z ** 2, "pow_half": lambda z: z ** 0.5, "pow_complex": lambda z: z ** (0.5 - 1j),
    "abs": lambda z: z.abs(), "angle": lambda z: z.angle(), "sgn": lambda z: z.sgn(), "conj": lambda z: z.conj(),
    "conj_physical": lambda z: z.conj_physical(), "real": lambda z: z.real * 1, "imag": lambda z: z.imag * 1,
    "sum": lambda z: z.sum(0), "mean": lambda z: z.mean(), "times_i": lambda z: z * 1j, "rpow": lambda z: 2 ** z,
    "mH_matmul": lambda z: z.mH @ z, "polar_roundtrip": lambda z: tinytape.polar(z.abs(), z.angle()),
    "var": lambda z: z.var(0), "std": lambda z: z.std(), "norm": lambda z: z.norm(), "cumsum": lambda z: z.cumsum(1),
    "vector_norm": lambda z: tinytape.linalg.vector_norm(z, 3, dim=1), "prod": lambda z: z.prod(1),
}
_BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b, "matmul": lambda a, b: a @ b.mT, "dot": lambda a, b: a[0] @ b[0],
    "mv": lambda a, b: a @ b[0], "vecmat": lambda a, b: a[0] @ b.mT, "vdot": lambda a, b: tinytape.vdot(a[0], b[1]),
    "lerp": lambda a, b: tinytape.lerp(a, b, 0.3), "lerp_tensor": lambda a, b: tinytape.lerp(a, b, b.abs() * (1 + 0j)),
    "dist": lambda a, b: tinytape.dist(a, b),
}


def _as_real(out):
    return tinytape.view_as_real(out.resolve_conj()) if out.is_complex() else out


@pytest.mark.parametrize("name", sorted(_UNARY))
def test_unary_gradients_match_finite_differences(name):
    fn = _UNARY[name]
    check_grad(lambda re, im: _as_real(fn(_z(re, im))), _rng(1, 3, 3) + 0.5, _rng(2, 3, 3))


@pytest.mark.parametrize("name", sorted(_BINARY))
def test_binary_gradients_match_finite_differences(name):
    fn = _BINARY[name]
    check_grad(lambda a, b, c, d: _as_real(fn(_z(a, b), _z(c, d))),
               _rng(3, 3, 3) + 1.5, _rng(4, 3, 3), _rng(5, 3, 3) + 1.5, _rng(6, 3, 3))


def test_mixed_real_and_complex_operands_give_a_real_leaf_a_real_gradient():
    check_grad(lambda x, re, im: _as_real(x * _z(re, im) + x.exp() / _z(re, im)),
               _rng(7, 4), _rng(8, 4) + 2, _rng(9, 4))


def test_complex_leaf_grads_are_pytorchs():
    def run(torch):
        torch.manual_seed(0)
        z = torch.randn(4, 3, dtype=torch.cdouble, requires_grad=True)
        w = torch.randn(3, 2, dtype=torch.cdouble, requires_grad=True)
        x = torch.randn(4, dtype=torch.float64, requires_grad=True)
        out = (z @ w).exp() / (1 + z.abs().sum()) + x.unsqueeze(1) * 1j
        loss = out.abs().pow(2).sum() + out.angle().sum() + (z.conj() * z).real.mean() + z.sgn().imag.sum()
        loss.backward()
        return [loss, z.grad, w.grad, x.grad]
    check_close_to_pytorch(run, rtol=1e-10, atol=1e-12)


def test_create_graph_through_complex_ops():
    def run(torch):
        z = torch.tensor([1 + 2j, -0.5 + 1j], dtype=torch.cdouble, requires_grad=True)
        loss = (z * z * z).abs().sum()
        (g,) = torch.autograd.grad(loss, z, create_graph=True)
        (gg,) = torch.autograd.grad(g.abs().sum(), z)
        return [g, gg]
    check_close_to_pytorch(run, rtol=1e-10, atol=1e-12, grad_fn=False)


def test_linalg_eig_and_eigvals_values_and_gradients():
    def run(torch):
        torch.manual_seed(0)
        A = torch.randn(4, 4, dtype=torch.float64, requires_grad=True)
        r = torch.linalg.eig(A)
        W, U = torch.randn(4, dtype=torch.cdouble), torch.randn(4, 4, dtype=torch.float64)
        (r.eigenvalues * W).real.sum().add((r.eigenvectors.abs() * U).sum()).backward()
        B = torch.randn(2, 3, 3, dtype=torch.cdouble, requires_grad=True)
        v = torch.linalg.eigvals(B)
        (v.abs() ** 2).sum().backward()
        return [r, A.grad, v, B.grad, torch.linalg.eigvals(torch.tensor([[0.0, 1.0], [-1.0, 0.0]]))]
    check_close_to_pytorch(run, rtol=1e-8, atol=1e-10)


def test_complex_weighted_least_squares_by_gradient_descent():
    # a tutorial program: fit complex weights to noisy complex observations with SGD (momentum)
    def run(torch):
        torch.manual_seed(0)
        X = torch.randn(50, 3, dtype=torch.cfloat)
        w_true = torch.tensor([1 + 2j, -0.5j, 3])
        y = X @ w_true + 0.01 * torch.randn(50, dtype=torch.cfloat)
        w = torch.zeros(3, dtype=torch.cfloat, requires_grad=True)
        opt = torch.optim.SGD([w], lr=0.05, momentum=0.9)
        losses = []
        for _ in range(60):
            opt.zero_grad()
            loss = (X @ w - y).abs().pow(2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.detach())
        return [w.detach(), w.grad, torch.stack(losses)]
    check_close_to_pytorch(run, rtol=2e-4, atol=1e-5)


def test_adam_on_complex_parameters_updates_their_parts():
    def run(torch):
        torch.manual_seed(1)
        X = torch.randn(30, 2, dtype=torch.cdouble)
        y = X @ torch.tensor([0.5 - 1j, 2j], dtype=torch.cdouble)
        v = torch.zeros(2, dtype=torch.cdouble, requires_grad=True)
        opt = torch.optim.Adam([v], lr=0.1, amsgrad=True)
        for _ in range(25):
            opt.zero_grad()
            loss = (X @ v - y).abs().pow(2).mean()
            loss.backward()
            opt.step()
        return [v.detach(), loss.detach(), opt.state[v]["exp_avg"], opt.state[v]["exp_avg_sq"]]
    check_close_to_pytorch(run, rtol=1e-9, atol=1e-12)


def test_manual_update_of_a_complex_leaf_under_no_grad():
    def run(torch):
        z = torch.tensor([1 + 1j, -2 + 0.5j], requires_grad=True)
        target = torch.tensor([0.5j, 1 - 1j])
        for _ in range(20):
            loss = (z - target).abs().pow(2).sum()
            loss.backward()
            with torch.no_grad():
                z -= 0.1 * z.grad
                z.grad.zero_()
        return z.detach()
    check_close_to_pytorch(run, rtol=1e-6, atol=1e-7)


def _complex_step(z, w):
    loss = (z * w).abs().pow(2).sum() + (z.conj() @ w).real
    loss.backward()
    return loss


def test_compile_runs_a_complex_program_eagerly_with_eager_values():
    def make():
        torch = tinytape
        torch.manual_seed(0)
        return torch.randn(5, dtype=torch.cfloat, requires_grad=True), torch.randn(5, dtype=torch.cfloat)
    z, w = make()
    compiled = tinytape.compile(_complex_step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        losses = [compiled(z, w) for _ in range(3)]
    assert any("complex" in str(c.message) or "numpy" in str(c.message) for c in caught)
    compiled_grad = z.grad.clone()
    z2, w2 = make()
    eager = [_complex_step(z2, w2) for _ in range(3)]
    for a, b in zip(losses, eager):
        assert a.item() == b.item()
    np.testing.assert_array_equal(compiled_grad.numpy(), z2.grad.numpy())


def test_compile_fullgraph_refuses_complex_arithmetic():
    z = tinytape.tensor([1 + 1j, 2j])
    with pytest.raises(Unsupported, match="complex"):
        tinytape.compile(lambda a: (a * a).sum(), fullgraph=True)(z)


def test_compile_of_a_real_program_is_untouched():
    x = tinytape.tensor([1.0, 2.0, 3.0])
    f = tinytape.compile(lambda a: (a * a).sum(), fullgraph=True)
    assert f(x).item() == 14.0 and pytorch(lambda torch: (torch.tensor([1.0, 2.0, 3.0]) ** 2).sum().item()) == 14.0
