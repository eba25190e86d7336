"""tinytape.special and the elementwise functions beside it (exp2, asinh/acosh/atanh, erfc,
erfinv, lgamma, digamma, polygamma, mvlgamma, the Bessel functions, logit, sinc, logaddexp(2),
hypot, copysign, ldexp, frexp, heaviside, float_power, deg2rad, fmax/fmin, nextafter,
as_strided, unique_consecutive, ...): values, dtypes, gradients and grad_fn names against
PyTorch's recorded answers, gradcheck, in-place forms, and the CUDA path (simulator)."""
import numpy as np
import pytest

import tinytape as tt
from helpers import check_grad
from pytorch_answers import pytorch

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def _a(*shape, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed + 7 * sum(shape) + len(shape)).uniform(low, high, shape)


def _unit(*shape, seed=0):
    return _a(*shape, seed=seed, low=0.05, high=0.95)


def _pos(*shape, seed=0):
    return _a(*shape, seed=seed, low=0.3, high=4.0)


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


S = lambda m: m.special  # noqa: E731
CASES = {
    "exp2": (lambda m, x: m.exp2(x), [_a(5)]),
    "special_exp2": (lambda m, x: S(m).exp2(x), [_a(2, 3)]),
    "asinh": (lambda m, x: m.asinh(x), [_a(5)]),
    "acosh": (lambda m, x: x.acosh(), [_pos(5) + 1]),
    "atanh": (lambda m, x: m.arctanh(x), [_unit(5)]),
    "erfc": (lambda m, x: S(m).erfc(x), [_a(6)]),
    "erfinv": (lambda m, x: m.erfinv(x), [_unit(6) * 2 - 1]),
    "erfcx": (lambda m, x: S(m).erfcx(x), [_a(6)]),
    "lgamma": (lambda m, x: m.lgamma(x), [_a(6, low=0.2, high=5)]),
    "gammaln": (lambda m, x: S(m).gammaln(x), [_pos(4)]),
    "digamma": (lambda m, x: x.digamma(), [_pos(6)]),
    "psi": (lambda m, x: S(m).psi(x), [_pos(3)]),
    "polygamma_1": (lambda m, x: m.polygamma(1, x), [_pos(5)]),
    "polygamma_3": (lambda m, x: S(m).polygamma(3, x), [_pos(5)]),
    "polygamma_method": (lambda m, x: x.polygamma(2), [_pos(4)]),
    "mvlgamma": (lambda m, x: m.mvlgamma(x, 3), [_pos(4) + 1.5]),
    "multigammaln": (lambda m, x: S(m).multigammaln(x, 2), [_pos(4) + 1]),
    "i0": (lambda m, x: m.i0(x), [_a(6)]),
    "i0e": (lambda m, x: S(m).i0e(x), [_a(6)]),
    "i1": (lambda m, x: S(m).i1(x), [_a(6)]),
    "i1e": (lambda m, x: S(m).i1e(x), [_a(6)]),
    "sinc": (lambda m, x: m.sinc(x), [_a(6)]),
    "logit": (lambda m, x: m.logit(x), [_unit(5)]),
    "logit_eps": (lambda m, x: S(m).logit(x, eps=0.3), [_unit(6)]),
    "entr": (lambda m, x: S(m).entr(x), [_unit(5)]),
    "ndtr": (lambda m, x: [S(m).ndtr(x)], [_a(5)]),
    "ndtri": (lambda m, x: S(m).ndtri(x), [_unit(5)]),
    "log_ndtr": (lambda m, x: S(m).log_ndtr(x), [_a(5, low=-6, high=3)]),
    "expit": (lambda m, x: S(m).expit(x), [_a(4)]),
    "special_aliases": (lambda m, x: [S(m).log1p(x.abs()), S(m).expm1(x), S(m).erf(x), S(m).logsumexp(x, 0),
                                      S(m).softmax(x, 0), S(m).log_softmax(x, 0), S(m).sinc(x)], [_a(4)]),
    "xlog1py": (lambda m, x, y: S(m).xlog1py(x, y), [_a(4), _pos(4)]),
    "xlogy": (lambda m, x, y: S(m).xlogy(x, y), [_a(2, 3), _pos(3)]),
    "gammainc_other": (lambda m, a, x: [m.special.gammainc(a.detach(), x), m.special.gammaincc(a.detach(), x)],
                       [_pos(4), _pos(4, seed=1)]),
    "zeta_other": (lambda m, s, q: m.special.zeta(s.detach() + 1.5, q), [_pos(4), _pos(4, seed=1)]),
    "logaddexp": (lambda m, x, y: m.logaddexp(x, y), [_a(2, 3), _a(3, seed=1)]),
    "logaddexp2": (lambda m, x, y: x.logaddexp2(y), [_a(4), _a(4, seed=1)]),
    "hypot": (lambda m, x, y: m.hypot(x, y), [_a(4), _a(4, seed=1)]),
    "copysign": (lambda m, x, y: m.copysign(x, y), [_a(5), _a(5, seed=1)]),
    "copysign_scalar": (lambda m, x: x.copysign(-1.0), [_a(5)]),
    "ldexp": (lambda m, x: m.ldexp(x, m.tensor([1, -2, 3])), [_a(3)]),
    "frexp_mantissa": (lambda m, x: m.frexp(x).mantissa * 1, [_a(4)]),
    "float_power": (lambda m, x, y: m.float_power(x.abs(), y), [_a(4), _a(4, seed=1)]),
    "float_power_scalar": (lambda m, x: x.float_power(3), [_a(4)]),
    "deg2rad": (lambda m, x: m.deg2rad(x), [_a(4) * 90]),
    "rad2deg": (lambda m, x: x.rad2deg(), [_a(4)]),
    "fmax": (lambda m, x, y: m.fmax(x, y), [_a(5), _a(5, seed=1)]),
    "fmin": (lambda m, x, y: m.fmin(x, y), [_a(5), _a(5, seed=1)]),
    "sgn": (lambda m, x: m.sgn(x) * x, [_a(4)]),
    "as_strided": (lambda m, x: m.as_strided(x, (3, 2), (1, 2)), [_a(2, 3)]),
    "as_strided_overlap_offset": (lambda m, x: x.as_strided((2, 3), (2, 1), 1), [_a(7)]),
    "subtract_alpha": (lambda m, x, y: m.subtract(x, y, alpha=2), [_a(3), _a(3, seed=1)]),
    "negative_absolute": (lambda m, x: [m.negative(x), m.absolute(x), m.positive(x) * 2], [_a(3)]),
    "remainder_tensor": (lambda m, x, y: m.remainder(x, y), [_a(5), _pos(5, seed=1) * np.array([1, -1, 1, -1, 1])]),
    "remainder_number": (lambda m, x: x.remainder(-1.5), [_a(5)]),
    "fmod_tensor": (lambda m, x, y: m.fmod(x, y), [_a(5), _pos(5, seed=1) * np.array([1, -1, 1, -1, 1])]),
    "fmod_number": (lambda m, x: x.fmod(1.5), [_a(5)]),
    "special_round": (lambda m, x: S(m).round(x), [_a(5)]),
    "round_decimals_zero": (lambda m, x: m.round(x, decimals=0), [_a(5)]),
    "round_default": (lambda m, x: x.round(), [_a(5)]),
    "inplace": (lambda m, x: [(x * 1).asinh_().detach(), (x * 0.3).atanh_().detach(), (x * 1).exp2_(),
                              (x * 0.2).erfinv_(),
                              (x.abs() + 1).digamma_(), (x.abs() + 1).lgamma_(), (x * 1).sinc_(),
                              (x * 1).deg2rad_(), (x * 1).hypot_(x * 2), (x.abs() + 2).arccosh_().detach()], [_a(4)]),
}
NO_GRADCHECK = {"sgn", "fmax", "fmin"}  # kinks are fine, but sgn(x) * x's derivative is what we check


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch(name):
    fn, arrays = CASES[name]
    got = _run(tt, fn, arrays)
    want = pytorch(lambda torch, *arrays: _run(torch, fn, arrays), *arrays)
    assert got[1] == want[1]  # the grad_fn's name
    for g, w in zip(got[:1] + got[2:], want[:1] + want[2:]):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", ["asinh", "acosh", "erfinv", "lgamma", "digamma", "polygamma_1", "mvlgamma",
                                  "i0e", "i1", "i1e", "sinc", "logit_eps", "entr", "ndtri", "log_ndtr", "xlog1py",
                                  "logaddexp", "logaddexp2", "hypot", "copysign", "as_strided_overlap_offset",
                                  "erfcx", "ldexp"])
def test_gradcheck(name):
    fn, arrays = CASES[name]

    def flat(*xs):
        out = fn(tt, *xs)
        return tt.cat([o.reshape(-1) for o in out]) if isinstance(out, (tuple, list)) else out
    check_grad(flat, *arrays)


def test_gradcheck_of_the_second_operand():
    a = tt.tensor(_pos(4), dtype=tt.float64)
    check_grad(lambda x: tt.cat([tt.special.gammainc(a, x), tt.special.gammaincc(a, x)]), _pos(4, seed=1))
    check_grad(lambda q: tt.special.zeta(a + 1.5, q), _pos(4, seed=1))


def test_second_derivatives_match_pytorch():
    def derivatives(m, a, b):
        x = m.tensor(a, requires_grad=True)
        y = m.tensor(b, requires_grad=True)
        out = m.lgamma(x) + m.special.i1e(x) * m.asinh(x) + m.logaddexp(x, y) + m.special.ndtri(y / 9)
        g = m.autograd.grad(out.sum(), [x, y], create_graph=True)
        h = m.autograd.grad((g[0] * g[1]).sum(), [x, y])
        return [t.detach().numpy() for t in g + h]
    arrays = [_pos(5), _pos(5, seed=1)]
    for got, want in zip(derivatives(tt, *arrays), pytorch(derivatives, *arrays)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_float32_and_integer_inputs_and_edges():
    def values(m):
        f = m.tensor(_a(7), dtype=m.float32)
        i = m.tensor([1, 2, 3])
        edges = m.tensor([0.0, -0.0, -1.0, -2.5, 1.0, float("inf"), -float("inf"), float("nan")])
        return [m.exp2(f), m.asinh(f), m.special.erfc(f), m.lgamma(f), m.digamma(f), m.special.i0e(f),
                m.exp2(i), m.lgamma(i), m.asinh(i), m.special.entr(edges), m.lgamma(edges), m.digamma(edges),
                m.erfinv(edges), m.special.ndtri(edges), m.logit(edges), m.special.i1(edges), m.sinc(edges),
                m.logaddexp(edges, edges), m.hypot(edges, f[:8] if False else edges), m.special.log_ndtr(edges),
                m.special.zeta(m.tensor([2.0, 3.0, 4.5]), m.tensor([1.0, 2.0, 0.5])),
                m.special.gammainc(m.tensor([0.5, 2.0]), m.tensor([1.0, 3.0])),
                m.special.gammaincc(m.tensor([0.5, 2.0]), m.tensor([1.0, 3.0])),
                m.special.bessel_j0(f), m.special.bessel_j1(f), m.nextafter(f, m.ones(7)),
                m.heaviside(f.round(), m.tensor([0.5])), *m.frexp(f),
                m.signbit(edges), m.isposinf(edges), m.isneginf(edges), m.gcd(m.tensor([12, 18, -4]), m.tensor(8)),
                m.lcm(m.tensor([4, 6]), m.tensor([6, 4])), m.logical_and(f > 0, i[:1]), m.logical_xor(f, f > 0.5),
                m.logical_or(i, i * 0), m.float_power(i, 2), m.deg2rad(i), m.copysign(f, -0.0),
                *m.unique_consecutive(m.tensor([1, 1, 2, 2, 3, 1, 1]), return_inverse=True, return_counts=True),
                *m.unique_consecutive(m.tensor([[1, 1], [1, 1], [2, 0]]), dim=0, return_counts=True)]
    got, want = values(tt), pytorch(values)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert str(g.dtype).split(".")[-1] == w.dtype and tuple(g.shape) == w.shape
        np.testing.assert_allclose(g.numpy().astype(np.float64), w.numpy().astype(np.float64), rtol=2e-6, atol=1e-6)


def test_errors_match_pytorch():
    def errors(m, kind):
        if kind == "polygamma_negative":
            return m.polygamma(-1, m.ones(2))
        if kind == "heaviside_dtypes":
            return m.heaviside(m.ones(2), m.ones(2, dtype=m.float64))
        if kind == "zeta_backward":
            x = m.ones(2, requires_grad=True)
            return m.special.zeta(x * 2, m.ones(2)).sum().backward()
        if kind == "asinh_inplace_backward":
            x = m.ones(2, requires_grad=True)
            return (x * 1).atanh_().sum().backward()
        if kind == "gcd_float":
            return m.gcd(m.ones(2), m.ones(2))
        if kind == "frexp_int":
            return m.frexp(m.tensor([1, 2]))
        if kind == "as_strided_out_of_bounds":
            return m.as_strided(m.ones(4), (3, 3), (1, 1))
    for kind in ["polygamma_negative", "heaviside_dtypes", "zeta_backward", "asinh_inplace_backward", "gcd_float",
                 "frexp_int", "as_strided_out_of_bounds"]:
        with pytest.raises(Exception) as want:
            pytorch(errors, kind)
        with pytest.raises(want.type):
            errors(tt, kind)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["lgamma", "erfinv", "logaddexp", "as_strided", "i1e", "copysign"])
def test_family_on_each_device(name, device):
    fn, arrays = CASES[name]
    want = pytorch(lambda torch, *arrays: _run(torch, fn, arrays), *arrays)
    got = _run(tt, fn, arrays, device)
    assert got[1] == want[1]
    for g, w in zip(got[:1] + got[2:], want[:1] + want[2:]):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-13)


def test_torch_inplace_functions():
    def values(m):
        x = m.tensor(_unit(4))
        outs = []
        for name in ["sin_", "exp_", "arccos_", "arctan_", "fix_", "deg2rad_", "logit_", "erfc_", "exp2_",
                     "asinh_", "sigmoid_", "clamp_"]:
            y = x.clone()
            r = getattr(m, name)(y, 0.3) if name == "clamp_" else getattr(m, name)(y)
            outs += [r.numpy(), y.numpy()]
        return outs
    for g, w in zip(values(tt), pytorch(values)):
        np.testing.assert_allclose(g, w, rtol=2e-6, atol=1e-7)


def test_kernels_check_their_bounds():
    from tinytape.backend.cpu import special as kernels
    for name in ["asinh", "digamma", "trigamma", "sinc"]:
        with pytest.raises(IndexError, match=name):
            kernels.KERNELS[np.dtype(np.float64)][name](np.ones(3), np.empty(2))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scalar_kernels_are_pytorchs_bit_for_bit(dtype):
    """asinh, acosh, sinc, entr, logit, digamma and polygamma(1, x) as PyTorch's scalar CPU kernels."""
    x = _a(64, seed=3, low=-7, high=7)
    x[:3] = [0.0, -3.0, -2.5]

    def values(m, x):
        t = m.tensor(x, dtype=getattr(m, dtype))
        u = m.tensor(np.abs(x) / 7.5, dtype=t.dtype)
        return [m.asinh(t).numpy(), m.acosh(t.abs() + 1).numpy(), m.sinc(t).numpy(), m.special.entr(t).numpy(),
                m.logit(u).numpy(), m.digamma(t).numpy(), m.polygamma(1, t).numpy()]
    for got, want in zip(values(tt, x), pytorch(values, x)):
        np.testing.assert_array_equal(got, want)


POLYNOMIALS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
               "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
               "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
               "laguerre_polynomial_l", "legendre_polynomial_p"]


def test_undifferentiated_special_functions():
    """Bessel J/Y/K, Airy Ai, spherical j0 and the polynomials: values (PyTorch's to rounding),
    dtypes, and no history (PyTorch does not differentiate them)."""
    def values(m):
        x = m.tensor(_a(5, low=-1, high=1), dtype=m.float64, requires_grad=True)
        n = m.tensor([0.0, 1.0, 2.0, 5.0, -1.0], dtype=m.float64)
        out = [getattr(m.special, f)(x, n) for f in POLYNOMIALS] + [getattr(m.special, f)(x, 3) for f in POLYNOMIALS]
        out += [m.special.chebyshev_polynomial_t(0.25, n), m.special.hermite_polynomial_he(m.tensor([1, 2]), 3)]
        pos = x.abs() + 0.1
        out += [m.special.bessel_j0(x), m.special.bessel_j1(x), m.special.bessel_y0(pos), m.special.bessel_y1(pos),
                m.special.modified_bessel_k0(pos), m.special.modified_bessel_k1(pos),
                m.special.scaled_modified_bessel_k0(pos), m.special.scaled_modified_bessel_k1(pos),
                m.special.airy_ai(x), m.special.spherical_bessel_j0(x), m.special.modified_bessel_i0(x)]
        return [(t.detach().numpy(), str(t.dtype).split(".")[-1], t.grad_fn is None and not t.requires_grad
                 if t.grad_fn is None else "recorded") for t in out]
    got, want = values(tt), pytorch(values)
    assert len(got) == len(want)
    for (g, gd, gh), (w, wd, wh) in zip(got[:-1], want[:-1]):
        assert gd == wd and gh == wh
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
