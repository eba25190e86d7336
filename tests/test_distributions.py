"""tinytape.distributions against PyTorch 2.14's torch.distributions: seeded samples bit for
bit (each family's own draws: normal_, bernoulli, multinomial, _standard_gamma,
_sample_dirichlet, binomial, poisson, ...), log_prob/entropy/moments/cdf/icdf, gradients
through rsample and log_prob, kl_divergence, shapes, constraints and the errors of
validate_args; log_prob's gradients against finite differences; compiled scoring."""
import warnings

import numpy as np
import pytest

import tinytape as tt
from helpers import check_grad
from pytorch_answers import pytorch

D = tt.distributions


def _build(m, name, dtype):
    """Distribution ``name`` of module ``m`` (torch or tinytape), parameters of ``dtype``, and
    values inside its support to score."""
    d = getattr(m, dtype)
    Dm = m.distributions

    def t(values):
        return m.tensor(values, dtype=d)
    builders = {
        "Normal": lambda: (Dm.Normal(t([0.5, -1.0, 2.0]), t([1.5, 0.3, 2.0])), t([0.1, -0.9, 5.0])),
        "NormalScalar": lambda: (Dm.Normal(t(0.0), t(1.0)), t([0.3, -2.0])),
        "Uniform": lambda: (Dm.Uniform(t([0.0, -1.0]), t([2.0, 5.0])), t([1.5, 4.0])),
        "Laplace": lambda: (Dm.Laplace(t([0.0, 1.0]), t([2.0, 0.5])), t([1.0, -3.0])),
        "Cauchy": lambda: (Dm.Cauchy(t([0.0, 1.0]), t([2.0, 0.5])), t([0.5, 3.0])),
        "Exponential": lambda: (Dm.Exponential(t([0.5, 3.0])), t([1.0, 0.2])),
        "LogNormal": lambda: (Dm.LogNormal(t([0.0, 0.5]), t([0.5, 1.0])), t([1.0, 2.5])),
        "HalfNormal": lambda: (Dm.HalfNormal(t([1.0, 2.0])), t([0.5, 3.0])),
        "Gamma": lambda: (Dm.Gamma(t([0.5, 2.0, 9.0]), t([1.0, 2.0, 0.5])), t([0.3, 1.0, 20.0])),
        "Chi2": lambda: (Dm.Chi2(t([1.0, 4.0])), t([0.5, 3.0])),
        "Beta": lambda: (Dm.Beta(t([0.5, 2.0, 8.0]), t([1.5, 3.0, 7.0])), t([0.3, 0.6, 0.5])),
        "Dirichlet": lambda: (Dm.Dirichlet(t([[0.5, 1.0, 2.0], [3.0, 0.2, 4.0]])), t([0.2, 0.3, 0.5])),
        "StudentT": lambda: (Dm.StudentT(t([3.0, 10.0]), t([0.0, 1.0]), t([1.0, 2.0])), t([0.5, -1.0])),
        "Bernoulli": lambda: (Dm.Bernoulli(probs=t([0.2, 0.7, 0.5])), t([1.0, 0.0, 1.0])),
        "BernoulliLogits": lambda: (Dm.Bernoulli(logits=t([0.2, -3.0])), t([1.0, 0.0])),
        "Categorical": lambda: (Dm.Categorical(probs=t([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]])), m.tensor([2, 0])),
        "CategoricalLogits": lambda: (Dm.Categorical(logits=t([1.0, 2.0, 3.0, 0.5])), m.tensor([3, 1])),
        "OneHotCategorical": lambda: (Dm.OneHotCategorical(probs=t([0.3, 0.3, 0.4])), t([0.0, 1.0, 0.0])),
        "Geometric": lambda: (Dm.Geometric(t([0.3, 0.8])), t([2.0, 0.0])),
        "Poisson": lambda: (Dm.Poisson(t([1.0, 4.0, 15.0])), t([0.0, 3.0, 20.0])),
        "Binomial": lambda: (Dm.Binomial(10, t([0.2, 0.9])), t([2.0, 9.0])),
        "BinomialLarge": lambda: (Dm.Binomial(t([60.0, 200.0]), t([0.4, 0.7])), t([20.0, 150.0])),
        "Multinomial": lambda: (Dm.Multinomial(8, t([0.2, 0.3, 0.5])), t([2.0, 3.0, 3.0])),
        "MVNCovariance": lambda: (Dm.MultivariateNormal(t([1.0, -1.0]), covariance_matrix=t([[2.0, 0.5], [0.5, 1.0]])),
                                  t([[0.0, 0.0], [1.0, 2.0]])),
        "MVNScaleTril": lambda: (Dm.MultivariateNormal(
            t([[0.0, 0.0, 1.0], [1.0, 2.0, 3.0]]), scale_tril=t([[1.0, 0.0, 0.0], [0.5, 2.0, 0.0], [0.1, -0.3, 0.7]])),
                                 t([0.3, 0.1, -0.2])),
        "MVNPrecision": lambda: (Dm.MultivariateNormal(t([0.0, 0.0]), precision_matrix=t([[2.0, 0.5], [0.5, 1.0]])),
                                 t([0.3, 0.4])),
        "Independent": lambda: (Dm.Independent(Dm.Normal(t([[0.0, 1.0, 2.0]]), t([[1.0, 0.5, 2.0]])), 1),
                                t([0.1, 0.2, 0.3])),
        "Transformed": lambda: (Dm.TransformedDistribution(Dm.Normal(t([0.0, 1.0]), t([1.0, 2.0])), [
            Dm.transforms.AffineTransform(1.0, 2.0), Dm.transforms.SigmoidTransform()]), t([0.3, 0.9])),
        "Tanh": lambda: (Dm.TransformedDistribution(Dm.Normal(t([0.0, 1.0]), t([1.0, 0.5])),
                                                    Dm.transforms.TanhTransform()), t([0.3, -0.5])),
        "Gumbel": lambda: (Dm.Gumbel(t([0.0, 1.0]), t([2.0, 0.5])), t([0.5, 3.0])),
        "HalfCauchy": lambda: (Dm.HalfCauchy(t([1.0, 2.0])), t([0.5, 3.0])),
        "Pareto": lambda: (Dm.Pareto(t([1.0, 2.0]), t([3.0, 0.5])), t([1.5, 3.0])),
        "Weibull": lambda: (Dm.Weibull(t([1.0, 2.0]), t([1.5, 0.7])), t([0.5, 3.0])),
        "InverseGamma": lambda: (Dm.InverseGamma(t([3.0, 0.7]), t([1.0, 2.0])), t([0.5, 3.0])),
        "NegativeBinomial": lambda: (Dm.NegativeBinomial(t([3.0, 10.0]), t([0.4, 0.7])), t([2.0, 12.0])),
        "RelaxedBernoulli": lambda: (Dm.RelaxedBernoulli(t(0.5), t([0.3, 0.8])), t([0.2, 0.9])),
        "RelaxedOneHot": lambda: (Dm.RelaxedOneHotCategorical(t(0.7), t([0.2, 0.3, 0.5])), t([0.1, 0.2, 0.7])),
        "ContinuousBernoulli": lambda: (Dm.ContinuousBernoulli(t([0.2, 0.5, 0.9])), t([0.3, 0.6, 0.99])),
        "LowRankMVN": lambda: (Dm.LowRankMultivariateNormal(t([1.0, -1.0, 0.0]), t([[1.0], [0.5], [-0.3]]),
                                                            t([0.5, 1.0, 2.0])), t([0.2, 0.1, -0.5])),
        "Kumaraswamy": lambda: (Dm.Kumaraswamy(t([2.0, 0.7]), t([3.0, 1.5])), t([0.3, 0.6])),
        "FisherSnedecor": lambda: (Dm.FisherSnedecor(t([3.0, 6.0]), t([5.0, 10.0])), t([0.5, 2.0])),
        "LogisticNormal": lambda: (Dm.LogisticNormal(t([0.0, 1.0]), t([1.0, 0.5])), t([0.2, 0.5, 0.3])),
        "VonMises": lambda: (Dm.VonMises(t([0.0, 1.0, -2.0]), t([0.5, 4.0, 1e-6])), t([0.3, 1.5, 3.0])),
        "Mixture": lambda: (Dm.MixtureSameFamily(Dm.Categorical(t([0.3, 0.7])),
                                                 Dm.Normal(t([-1.0, 1.0]), t([0.5, 0.8]))), t([0.0, 1.0])),
    }
    return builders[name]()


NAMES = ["Normal", "NormalScalar", "Uniform", "Laplace", "Cauchy", "Exponential", "LogNormal", "HalfNormal", "Gamma",
         "Chi2", "Beta", "Dirichlet", "StudentT", "Bernoulli", "BernoulliLogits", "Categorical", "CategoricalLogits",
         "OneHotCategorical", "Geometric", "Poisson", "Binomial", "BinomialLarge", "Multinomial", "MVNCovariance",
         "MVNScaleTril", "MVNPrecision", "Independent", "Transformed", "Tanh", "Mixture", "Gumbel", "HalfCauchy",
         "Pareto", "Weibull", "InverseGamma", "NegativeBinomial", "RelaxedBernoulli", "RelaxedOneHot",
         "ContinuousBernoulli", "LowRankMVN", "Kumaraswamy", "FisherSnedecor", "LogisticNormal", "VonMises"]
PROPERTIES = ["mean", "variance", "stddev", "mode", "entropy", "cdf", "icdf"]


def _answers(m, name, dtype, seed):
    """Samples under ``seed`` (two sample shapes, then the stream's next draws), log_prob,
    and each property PyTorch defines (or the exception type it raises)."""
    dist, value = _build(m, name, dtype)
    m.manual_seed(seed)
    out = {"batch_shape": list(dist.batch_shape), "event_shape": list(dist.event_shape),
           "sample": dist.sample(), "samples": dist.sample((4,)), "after": m.rand(3, dtype=m.float64),
           "log_prob": dist.log_prob(value)}
    expanded = dist.expand((2,) + tuple(dist.batch_shape))
    out.update(expanded_log_prob=expanded.log_prob(value), expanded_shape=list(expanded.sample().shape),
               expanded_batch_shape=list(expanded.batch_shape))
    for prop in PROPERTIES:
        try:
            if prop == "cdf":
                got = dist.cdf(value)
            elif prop == "icdf":
                got = dist.icdf(m.full(tuple(value.shape), 0.3, dtype=getattr(m, dtype)))
            elif prop == "entropy":
                got = dist.entropy()
            else:
                got = getattr(dist, prop)
        except NotImplementedError:
            got = "NotImplementedError"
        out[prop] = got.detach() if hasattr(got, "detach") else got
    return out


# samples computed through a matmul, tanh or sigmoid from the draws: equal to a float32 ulp
ROUNDED_SAMPLES = {"MVNCovariance", "MVNScaleTril", "MVNPrecision", "Tanh", "RelaxedBernoulli", "RelaxedOneHot",
                   "LowRankMVN", "LogisticNormal", "ContinuousBernoulli"}


def _compare(got, want, name, exact):
    assert got.keys() == want.keys()
    for key, w in want.items():
        g = got[key]
        if isinstance(w, (str, list)):
            assert (g if isinstance(g, (str, list)) else "value") == w, (name, key)
            continue
        assert isinstance(g, tt.Tensor), (name, key, g)
        assert g.dtype.name == w.dtype and tuple(g.shape) == tuple(w.shape), (name, key, g.dtype, g.shape, w)
        if exact or key == "after" or key in ("sample", "samples") and name not in ROUNDED_SAMPLES:
            np.testing.assert_array_equal(g.detach().numpy(), w.numpy(), err_msg=f"{name}.{key}")
        else:
            np.testing.assert_allclose(g.detach().double().numpy(), w.numpy(), rtol=2e-6, atol=1e-6,
                                       err_msg=f"{name}.{key}")


@pytest.mark.parametrize("name", NAMES)
def test_samples_and_values_match_pytorch(name):
    """float32: samples bit for bit, values to a few float32 ulps (lgamma, exp and matmul
    round differently from PyTorch's vectorised kernels in the last bit)."""
    got = _answers(tt, name, "float32", 0)
    _compare(got, pytorch(_answers, name, "float32", 0), name, exact=False)


@pytest.mark.parametrize("name", ["Normal", "Uniform", "Laplace", "Exponential", "Gamma", "Beta", "Dirichlet",
                                  "StudentT", "Bernoulli", "Categorical", "Geometric", "Poisson", "BinomialLarge",
                                  "Multinomial", "MVNScaleTril", "Mixture"])
def test_float64_samples_and_values_match_pytorch(name):
    got = _answers(tt, name, "float64", 7)
    _compare(got, pytorch(_answers, name, "float64", 7), name, exact=False)


def _large_draws(m, seed):
    """Enough draws to take every sampler's branches: gamma below and above 1 (and its
    rejections), binomial by inversion and by BTRS on either side of p = 0.5."""
    m.manual_seed(seed)
    Dm = m.distributions
    alpha = m.tensor([0.05, 0.3, 0.9, 1.0, 1.5, 4.0, 30.0, 200.0]).repeat(8)
    gammas = Dm.Gamma(alpha, m.ones(64)).sample()
    counts = m.tensor([3.0, 12.0, 40.0, 100.0, 1000.0, 7.0]).repeat(6)
    probs = m.tensor([0.05, 0.3, 0.5, 0.6, 0.95, 0.999]).repeat_interleave(6)
    binomials = Dm.Binomial(counts, probs).sample((2,))
    dirichlet = Dm.Dirichlet(m.tensor([[0.01, 0.5, 3.0, 12.0]], dtype=m.float64)).sample((5,))
    return [gammas, binomials, dirichlet, m.rand(2, dtype=m.float64)]


def _many_draws(m, dtype, seed):
    """Sample shapes of 16 elements and more (PyTorch's vectorised normal fill, its
    multinomial with replacement for many samples), each family in turn on one stream."""
    m.manual_seed(seed)
    Dm, d = m.distributions, getattr(m, dtype)
    loc, scale = m.tensor([0.5, -1.0, 2.0], dtype=d), m.tensor([1.5, 0.3, 2.0], dtype=d)
    probs = m.tensor([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], dtype=d)
    dists = [Dm.Normal(loc, scale), Dm.Laplace(loc, scale), Dm.Cauchy(loc, scale), Dm.Uniform(loc, loc + scale),
             Dm.Exponential(scale), Dm.HalfNormal(scale), Dm.StudentT(scale + 1, loc, scale), Dm.Geometric(probs[0]),
             Dm.Bernoulli(probs), Dm.Categorical(probs), Dm.OneHotCategorical(probs), Dm.Poisson(scale * 5),
             Dm.Chi2(scale), Dm.Multinomial(30, probs)]
    out = [dist.sample((7,)) for dist in dists]
    out += [Dm.Normal(loc, scale).rsample((2, 9)), Dm.Categorical(probs[1]).sample((40,))]
    return out + [m.rand(3, dtype=m.float64)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_many_draws_match_pytorch_bit_for_bit(dtype):
    got, want = _many_draws(tt, dtype, 5), pytorch(_many_draws, dtype, 5)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.dtype.name == w.dtype and tuple(g.shape) == tuple(w.shape), i
        np.testing.assert_array_equal(g.numpy(), w.numpy(), err_msg=str(i))


def test_gamma_binomial_dirichlet_draws_match_pytorch_bit_for_bit():
    for seed in (0, 3):
        got, want = _large_draws(tt, seed), pytorch(_large_draws, seed)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w.numpy())


def _implicit_gradients(m, dtype):
    """_standard_gamma_grad and _dirichlet_grad over a grid that takes each of their branches
    (series near 0 and near 1, saddle point for large concentrations, rational fits)."""
    d = getattr(m, dtype)
    alpha = m.tensor([0.05, 0.3, 0.9, 2.0, 5.0, 7.5, 12.0, 40.0, 300.0], dtype=d)
    x = m.tensor([0.01, 0.2, 0.7, 0.95, 1.5, 6.0, 11.0, 45.0, 310.0], dtype=d)
    a, v = alpha.repeat(9), x.repeat_interleave(9)
    gamma = m._standard_gamma_grad(a, v)
    u = m.tensor([0.001, 0.05, 0.3, 0.5, 0.62, 0.9, 0.999], dtype=d).repeat_interleave(9)
    c = alpha.repeat(7)
    total = c + m.tensor([0.2, 1.0, 3.0, 8.0, 20.0, 0.7, 9.0, 2.5, 100.0], dtype=d).repeat(7)
    return [gamma, m._dirichlet_grad(u, c, total)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_implicit_gradients_match_pytorch_bit_for_bit(dtype):
    for g, w in zip(_implicit_gradients(tt, dtype), pytorch(_implicit_gradients, dtype)):
        np.testing.assert_array_equal(g.numpy(), w.numpy())


def _edge_draws(m, dtype):
    """The samplers at their edges: zero, negative, NaN, infinite and tiny concentrations,
    probabilities 0, 1 and NaN (PyTorch's clamps and std::max semantics)."""
    d = getattr(m, dtype)
    m.manual_seed(0)
    nan, inf = float("nan"), float("inf")
    return [m._standard_gamma(m.tensor([0.0, -1.0, nan, inf, 1e-30, 1e-3], dtype=d)),
            m._sample_dirichlet(m.tensor([[0.0, 1.0], [nan, 2.0], [1e-30, 1e-30], [1e-3, 5.0]], dtype=d)),
            m.binomial(m.tensor([0.0, 5.0, 5.0, 5.0, 7.0], dtype=d), m.tensor([0.5, 0.0, 1.0, nan, 0.5], dtype=d)),
            m.rand(2, dtype=m.float64)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sampler_edges_match_pytorch(dtype):
    for g, w in zip(_edge_draws(tt, dtype), pytorch(_edge_draws, dtype)):
        np.testing.assert_array_equal(g.numpy(), w.numpy())


def _rsample_grads(m, name, dtype):
    """A seeded rsample's gradient with respect to every parameter that requires grad."""
    d = getattr(m, dtype)
    Dm = m.distributions

    def leaf(values):
        return m.tensor(values, dtype=d, requires_grad=True)
    a, b = leaf([0.7, 2.5, 9.0]), leaf([1.5, 0.4, 3.0])
    dist = {"Normal": lambda: Dm.Normal(a, b), "Uniform": lambda: Dm.Uniform(a, a + b),
            "Laplace": lambda: Dm.Laplace(a, b), "Cauchy": lambda: Dm.Cauchy(a, b),
            "Exponential": lambda: Dm.Exponential(b), "LogNormal": lambda: Dm.LogNormal(a, b),
            "HalfNormal": lambda: Dm.HalfNormal(b), "Gamma": lambda: Dm.Gamma(a, b),
            "Beta": lambda: Dm.Beta(a, b), "StudentT": lambda: Dm.StudentT(a + 2, b, b),
            "Dirichlet": lambda: Dm.Dirichlet(a), "Chi2": lambda: Dm.Chi2(a),
            "MVN": lambda: Dm.MultivariateNormal(a, scale_tril=m.diag(b)),
            "Transformed": lambda: Dm.TransformedDistribution(
                Dm.Normal(a, b), [Dm.transforms.ExpTransform(), Dm.transforms.AffineTransform(1.0, 3.0)])}[name]()
    m.manual_seed(1)
    x = dist.rsample((5,))
    weights = m.linspace(-1, 2, x.numel(), dtype=d).reshape(x.shape)
    (x * weights).sum().backward()
    return [x.detach(), a.grad if a.grad is not None else "none", b.grad if b.grad is not None else "none"]


@pytest.mark.parametrize("name", ["Normal", "Uniform", "Laplace", "Cauchy", "Exponential", "LogNormal", "HalfNormal",
                                  "Gamma", "Beta", "StudentT", "Dirichlet", "Chi2", "MVN", "Transformed"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_rsample_gradients_match_pytorch(name, dtype):
    """Bit for bit, but for float32's exp/log/tanh and the matmul's backward (an ulp or two)."""
    got, want = _rsample_grads(tt, name, dtype), pytorch(_rsample_grads, name, dtype)
    exact = dtype == "float64" and name != "MVN" or name in ("Gamma", "Beta", "Dirichlet", "Chi2", "Normal", "Uniform")
    for g, w in zip(got, want):
        if isinstance(w, str):
            assert g == w
        elif exact:
            np.testing.assert_array_equal(g.numpy(), w.numpy())
        else:
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6, atol=1e-7)


def _log_prob_fns():
    """(parameters, value, log_prob as a function of them) per family, float64."""
    P = D
    return {
        "Normal": ([[0.5, -1.0], [1.5, 0.3]], [0.1, 0.4], lambda l, s, x: P.Normal(l, s).log_prob(x)),
        "Laplace": ([[0.5, -1.0], [1.5, 0.3]], [0.1, 0.4], lambda l, s, x: P.Laplace(l, s).log_prob(x)),
        "Cauchy": ([[0.5, -1.0], [1.5, 0.3]], [0.1, 0.4], lambda l, s, x: P.Cauchy(l, s).log_prob(x)),
        "LogNormal": ([[0.5, -1.0], [1.5, 0.3]], [0.7, 0.4], lambda l, s, x: P.LogNormal(l, s).log_prob(x)),
        "StudentT": ([[3.5, 5.0], [0.2, 1.0], [1.5, 0.3]], [0.1, 0.4],
                     lambda df, l, s, x: P.StudentT(df, l, s).log_prob(x)),
        "Gamma": ([[0.7, 3.0], [1.5, 0.3]], [0.5, 2.0], lambda c, r, x: P.Gamma(c, r).log_prob(x)),
        "Beta": ([[0.7, 3.0], [1.5, 2.3]], [0.5, 0.2], lambda a, b, x: P.Beta(a, b).log_prob(x)),
        "Exponential": ([[0.7, 3.0]], [0.5, 2.0], lambda r, x: P.Exponential(r).log_prob(x)),
        "Dirichlet": ([[0.7, 3.0, 1.2]], [0.2, 0.5, 0.3],  # off the simplex between differences
                      lambda c, x: P.Dirichlet(c, validate_args=False).log_prob(x)),
        "Bernoulli": ([[-0.3, 2.0]], [1.0, 0.0], lambda l, x: P.Bernoulli(logits=l).log_prob(x)),
        "Categorical": ([[0.3, -1.0, 2.0]], None, lambda l: P.Categorical(logits=l).log_prob(tt.tensor([0, 2]))),
        "Poisson": ([[0.7, 3.0]], [1.0, 4.0], lambda r, x: P.Poisson(r).log_prob(x)),
        "Binomial": ([[0.3, -1.2]], [3.0, 7.0], lambda l, x: P.Binomial(10, logits=l).log_prob(x)),
        "MVN": ([[0.5, -1.0], [[1.0, 0.0], [0.4, 2.0]]], [0.1, 0.4],
                lambda l, L, x: P.MultivariateNormal(l, scale_tril=L.tril()).log_prob(x)),
        "MVNCovariance": ([[0.5, -1.0], [[2.0, 0.3], [0.3, 1.0]]], [0.1, 0.4],
                          lambda l, C, x: P.MultivariateNormal(l, covariance_matrix=(C + C.mT) / 2).log_prob(x)),
    }


@pytest.mark.parametrize("name", list(_log_prob_fns()))
def test_log_prob_gradients_match_finite_differences(name):
    params, value, fn = _log_prob_fns()[name]
    inputs = [np.array(p, np.float64) for p in params] + ([np.array(value, np.float64)] if value is not None else [])
    if name in ("Categorical", "Bernoulli", "Poisson", "Binomial"):  # discrete values are not differentiated
        if value is not None:
            fixed = tt.tensor(value, dtype=tt.float64)
            check_grad(lambda *p: fn(*p, fixed), *inputs[:-1])
        else:
            check_grad(fn, *inputs)
    else:
        check_grad(fn, *inputs)


@pytest.mark.parametrize("name", ["Normal", "Gamma", "Beta", "Dirichlet", "StudentT", "MVN"])
def test_entropy_gradients_match_finite_differences(name):
    params, _, _ = _log_prob_fns()[name]
    make = {"Normal": lambda l, s: D.Normal(l, s), "Gamma": lambda c, r: D.Gamma(c, r),
            "Beta": lambda a, b: D.Beta(a, b), "Dirichlet": lambda c: D.Dirichlet(c),
            "StudentT": lambda df, l, s: D.StudentT(df, l, s),
            "MVN": lambda l, L: D.MultivariateNormal(l, scale_tril=L.tril())}[name]
    check_grad(lambda *p: make(*p).entropy(), *[np.array(p, np.float64) for p in params])


def _kl_pairs(m):
    Dm = m.distributions
    t = m.tensor
    pairs = [
        (Dm.Normal(t([0.0, 1.0]), t([1.0, 2.0])), Dm.Normal(t([1.0, -1.0]), t([2.0, 0.5]))),
        (Dm.Bernoulli(t([0.3, 0.0])), Dm.Bernoulli(t([0.6, 0.2]))),
        (Dm.Categorical(t([[0.3, 0.7], [0.5, 0.5]])), Dm.Categorical(t([0.6, 0.4]))),
        (Dm.OneHotCategorical(t([0.2, 0.3, 0.5])), Dm.OneHotCategorical(t([0.1, 0.1, 0.8]))),
        (Dm.Uniform(t([0.0, 0.0]), t([1.0, 1.0])), Dm.Uniform(t([-1.0, 0.5]), t([2.0, 2.0]))),
        (Dm.MultivariateNormal(t([1.0, -1.0]), covariance_matrix=t([[2.0, 0.5], [0.5, 1.0]])),
         Dm.MultivariateNormal(t([[0.0, 0.0], [1.0, 1.0]]), precision_matrix=t([[1.0, 0.2], [0.2, 3.0]]))),
        (Dm.Gamma(t([0.5, 2.0]), t([1.0, 3.0])), Dm.Gamma(t([1.0, 1.0]), t([2.0, 1.0]))),
        (Dm.Beta(t([0.5, 2.0]), t([1.5, 3.0])), Dm.Beta(t([1.0, 1.0]), t([1.0, 4.0]))),
        (Dm.Dirichlet(t([0.5, 2.0, 1.0])), Dm.Dirichlet(t([1.0, 1.0, 3.0]))),
        (Dm.Exponential(t([0.5])), Dm.Exponential(t([2.0]))),
        (Dm.Laplace(t([0.0]), t([1.0])), Dm.Laplace(t([1.0]), t([2.0]))),
        (Dm.Poisson(t([2.0])), Dm.Poisson(t([3.0]))),
        (Dm.Geometric(t([0.3])), Dm.Geometric(t([0.6]))),
        (Dm.Binomial(10, t([0.3])), Dm.Binomial(10, t([0.6]))),
        (Dm.Independent(Dm.Normal(t([[0.0, 1.0]]), t([[1.0, 2.0]])), 1),
         Dm.Independent(Dm.Normal(t([[1.0, 0.0]]), t([[2.0, 1.0]])), 1)),
        (Dm.LogNormal(t([0.0]), t([1.0])), Dm.LogNormal(t([1.0]), t([0.5]))),
        (Dm.HalfNormal(t([1.0])), Dm.HalfNormal(t([2.0]))),
        (Dm.Normal(t([0.0]), t([1.0])), Dm.Laplace(t([1.0]), t([2.0]))),
        (Dm.Normal(t([0.0]), t([1.0])), Dm.Uniform(t([0.0]), t([1.0]))),
        (Dm.Uniform(t([0.0]), t([1.0])), Dm.Normal(t([1.0]), t([2.0]))),
        (Dm.Gamma(t([2.0]), t([1.0])), Dm.Normal(t([1.0]), t([2.0]))),
        (Dm.Cauchy(t([0.0]), t([1.0])), Dm.Cauchy(t([1.0]), t([3.0]))),
        (Dm.Beta(t([2.0]), t([3.0])), Dm.Exponential(t([1.5]))),
        (Dm.Beta(t([2.0]), t([3.0])), Dm.Gamma(t([2.0]), t([1.5]))),
        (Dm.Beta(t([2.0, 0.5]), t([3.0, 1.0])), Dm.Uniform(t([0.0, 0.2]), t([1.0, 1.0]))),
        (Dm.Exponential(t([2.0])), Dm.Normal(t([1.0]), t([2.0]))),
        (Dm.Exponential(t([2.0])), Dm.Gamma(t([2.0]), t([1.0]))),
        (Dm.Gamma(t([2.0]), t([1.0])), Dm.Exponential(t([3.0]))),
        (Dm.Gamma(t([2.0]), t([1.0])), Dm.Uniform(t([0.0]), t([5.0]))),
        (Dm.Laplace(t([0.5]), t([1.0])), Dm.Normal(t([1.0]), t([2.0]))),
        (Dm.Uniform(t([0.2]), t([0.7])), Dm.Beta(t([2.0]), t([3.0]))),
        (Dm.Uniform(t([0.2, -1.0]), t([0.7, 1.0])), Dm.Gamma(t([2.0, 2.0]), t([3.0, 1.0]))),
        (Dm.Uniform(t([0.2]), t([0.7])), Dm.Exponential(t([2.0]))),
        (Dm.Gumbel(t([0.2]), t([0.7])), Dm.Gumbel(t([1.0]), t([2.0]))),
        (Dm.Pareto(t([1.0, 2.0]), t([3.0, 2.0])), Dm.Pareto(t([1.5, 1.0]), t([2.0, 1.0]))),
        (Dm.Poisson(t([2.0])), Dm.Bernoulli(t([0.3]))),
        (Dm.Bernoulli(t([0.3])), Dm.Poisson(t([2.0]))),
        (Dm.Beta(t([2.0]), t([3.0])), Dm.Normal(t([1.0]), t([2.0]))),
    ]
    return [Dm.kl_divergence(p, q) for p, q in pairs]


def test_kl_divergence_matches_pytorch():
    got, want = _kl_pairs(tt), pytorch(_kl_pairs)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=2e-6, atol=1e-6)


def test_kl_gradient_flows_and_register_kl_dispatches():
    loc = tt.tensor([0.3, -0.2], dtype=tt.float64, requires_grad=True)
    kl = D.kl_divergence(D.Normal(loc, 1.0), D.Normal(0.0, 2.0)).sum()
    kl.backward()
    np.testing.assert_allclose(loc.grad.numpy(), [0.3 / 4, -0.2 / 4])

    class MyNormal(D.Normal):
        pass

    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0)).item() == 0.0

    @D.register_kl(MyNormal, D.Normal)
    def _mine(p, q):
        return tt.tensor(42.0)
    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0)).item() == 42.0


def _errors(m, case):
    """PyTorch's errors: validate_args, parameter choice, shapes, KL pairs it lacks."""
    Dm, t = m.distributions, m.tensor
    if case == "negative_scale":
        Dm.Normal(t([0.0, 1.0]), t([1.0, -2.0]))
    elif case == "probs_out_of_range":
        Dm.Bernoulli(probs=t([0.5, 1.5]))
    elif case == "both_probs_and_logits":
        Dm.Categorical(probs=t([0.5, 0.5]), logits=t([0.0, 0.0]))
    elif case == "neither":
        Dm.Bernoulli()
    elif case == "scalar_categorical":
        Dm.Categorical(probs=t(1.0))
    elif case == "value_outside_support":
        Dm.Exponential(t([1.0, 2.0])).log_prob(t([1.0, -1.0]))
    elif case == "value_wrong_event_shape":
        Dm.MultivariateNormal(t([0.0, 0.0]), t([[1.0, 0.0], [0.0, 1.0]])).log_prob(t([1.0, 2.0, 3.0]))
    elif case == "value_not_broadcastable":
        Dm.Normal(t([0.0, 1.0]), t([1.0, 1.0])).log_prob(t([1.0, 2.0, 3.0]))
    elif case == "value_not_tensor":
        Dm.Normal(t([0.0]), t([1.0])).log_prob(0.5)
    elif case == "mvn_two_matrices":
        Dm.MultivariateNormal(t([0.0]), covariance_matrix=t([[1.0]]), scale_tril=t([[1.0]]))
    elif case == "mvn_not_positive_definite":
        Dm.MultivariateNormal(t([0.0, 0.0]), covariance_matrix=t([[1.0, 2.0], [2.0, 1.0]]))
    elif case == "no_kl":
        Dm.kl_divergence(Dm.Normal(0.0, 1.0), Dm.Bernoulli(t(0.3)))
    elif case == "independent_too_many":
        Dm.Independent(Dm.Normal(t([0.0]), t([1.0])), 2)
    elif case == "bad_argument_type":
        Dm.Normal("a", 1.0)
    elif case == "uniform_bounds":
        Dm.Uniform(t([2.0]), t([1.0]))
    elif case == "dirichlet_scalar":
        Dm.Dirichlet(t(1.0))
    elif case == "inhomogeneous":
        Dm.Binomial(t([3.0, 4.0]), t([0.2, 0.3])).entropy()
    elif case == "validate_off":
        return Dm.Normal(t([0.0]), t([-1.0]), validate_args=False).log_prob(t([0.5]))
    return "no error"


ERRORS = ["negative_scale", "probs_out_of_range", "both_probs_and_logits", "neither", "scalar_categorical",
          "value_outside_support", "value_wrong_event_shape", "value_not_broadcastable", "value_not_tensor",
          "mvn_two_matrices", "mvn_not_positive_definite", "no_kl", "independent_too_many", "bad_argument_type",
          "uniform_bounds", "dirichlet_scalar", "inhomogeneous", "validate_off"]


def _normalise(text):
    return text.replace("tinytape.Size", "torch.Size")


@pytest.mark.parametrize("case", ERRORS)
def test_errors_match_pytorch(case):
    try:
        want = pytorch(_errors, case)
    except Exception as error:  # noqa: BLE001 - PyTorch's error is the answer
        with pytest.raises(type(error)) as got:
            _errors(tt, case)
        assert _normalise(str(got.value)) == str(error)
    else:
        got = _errors(tt, case)
        if isinstance(want, str):
            assert got == want
        else:
            np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_shapes_expand_and_constraints():
    n = D.Normal(tt.zeros(3), tt.ones(3))
    assert n.batch_shape == (3,) and n.event_shape == ()
    assert n.sample((2, 4)).shape == (2, 4, 3)
    e = n.expand((5, 3))
    assert e.batch_shape == (5, 3) and e.sample().shape == (5, 3) and e.loc.shape == (5, 3)
    mvn = D.MultivariateNormal(tt.zeros(2, 3), scale_tril=tt.eye(3))
    assert (mvn.batch_shape, mvn.event_shape) == ((2,), (3,)) and mvn.rsample((4,)).shape == (4, 2, 3)
    assert mvn.expand((6, 2)).batch_shape == (6, 2)
    c = D.Categorical(logits=tt.zeros(4, 5))
    assert c.sample((2,)).shape == (2, 4) and c.enumerate_support().shape == (5, 4)
    assert D.Bernoulli(0.3).batch_shape == () and D.Bernoulli(0.3).sample().shape == ()
    assert repr(D.constraints.independent(D.constraints.real, 1)) == "IndependentConstraint(Real(), 1)"
    assert repr(D.Normal(0.0, 1.0).support) == "Real()" and D.Categorical(tt.ones(3)).support.upper_bound == 2
    assert D.constraints.simplex.check(tt.tensor([[0.5, 0.5], [0.7, 0.7]])).tolist() == [True, False]
    assert D.constraints.positive_definite.check(tt.tensor([[2.0, 0.5], [0.5, 1.0]])).item()
    assert D.Normal.has_rsample and not D.Bernoulli.has_rsample and D.Gamma.has_rsample
    with pytest.raises(NotImplementedError):
        D.Categorical(tt.ones(3)).rsample()


def _transforms(m):
    """Each transform forward, inverse and log |det J|, composed, inverted and cached."""
    T = m.distributions.transforms
    x = m.tensor([[-1.5, 0.2, 0.9], [0.4, -0.3, 2.0]], dtype=m.float64)
    out = []
    affine = T.AffineTransform(m.tensor([0.5, 1.0, 2.0], dtype=m.float64), m.tensor([2.0, 3.0, -1.0], dtype=m.float64),
                               event_dim=1)
    for t in (T.ExpTransform(), T.AffineTransform(1.0, -2.0), affine,
              T.SigmoidTransform(), T.TanhTransform(), T.SoftplusTransform(),
              T.ComposeTransform([T.AffineTransform(0.5, 2.0), T.ExpTransform()]),
              T.ExpTransform().inv, T.IndependentTransform(T.SigmoidTransform(), 1)):
        y = t(x if not isinstance(t, type(T.ExpTransform().inv)) else x.exp())
        source = x if not isinstance(t, type(T.ExpTransform().inv)) else x.exp()
        sign = t.sign if isinstance(t.sign, int) else "tensor"
        out += [y, t.inv(y), t.log_abs_det_jacobian(source, y), repr(t), sign]
    p = T.PowerTransform(m.tensor(3.0, dtype=m.float64))
    out += [p(x.abs()), p.log_abs_det_jacobian(x.abs(), p(x.abs())), T.SoftmaxTransform()(x), T.AbsTransform()(x)]
    cached = T.ExpTransform().with_cache()
    y = cached(x)
    out += [cached.inv(y) is x, T.ExpTransform() == T.ExpTransform(),
            T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0)]
    return out


def test_transforms_match_pytorch():
    got, want = _transforms(tt), pytorch(_transforms)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if isinstance(w, (str, bool, int)):
            assert g == w
        else:
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12, atol=1e-15)


def _constrained(m):
    """biject_to / transform_to onto each registered constraint, forward and back."""
    C, Dm = m.distributions.constraints, m.distributions
    x = m.tensor([[-1.5, 0.2, 0.9], [0.4, -0.3, 2.0]], dtype=m.float64)
    square = m.tensor([[0.3, -1.0], [0.5, 0.2]], dtype=m.float64)
    out = []
    for c in (C.real, C.positive, C.greater_than(2.0), C.less_than(-1.0), C.unit_interval, C.interval(-2.0, 3.0),
              C.simplex, C.independent(C.positive, 1)):
        for registry in (Dm.biject_to, Dm.transform_to):
            t = registry(c)
            y = t(x)
            out += [y, t.inv(y), c.check(y)]
            if t.bijective:
                out.append(t.log_abs_det_jacobian(x, y))
    for c in (C.lower_cholesky, C.positive_definite):
        t = Dm.transform_to(c)
        out += [t(square), t.inv(t(square)), c.check(t(square))]
    return out


def test_biject_to_and_transform_to_match_pytorch():
    got, want = _constrained(tt), pytorch(_constrained)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype.name == w.dtype
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12, atol=1e-15)
    with pytest.raises(NotImplementedError, match="Cannot transform _Boolean constraints"):
        D.biject_to(D.constraints.boolean)


def test_pytorch_module_paths():
    from tinytape.distributions.categorical import Categorical
    from tinytape.distributions.multivariate_normal import MultivariateNormal
    from tinytape.distributions.normal import Normal
    assert (Normal, Categorical, MultivariateNormal) == (D.Normal, D.Categorical, D.MultivariateNormal)
    assert tt.distributions.one_hot_categorical.OneHotCategorical is D.OneHotCategorical


class _Policy(tt.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = tt.nn.Linear(4, 3)

    def forward(self, x):
        return D.Categorical(logits=self.net(x))


def test_reinforce_and_vae_steps():
    """The two tutorial patterns: a policy gradient through Categorical.log_prob, and a VAE
    loss through Normal.rsample and kl_divergence; gradients reach the parameters."""
    tt.manual_seed(0)
    policy = _Policy()
    dist = policy(tt.randn(5, 4))
    actions = dist.sample()
    loss = -(dist.log_prob(actions) * tt.linspace(-1, 1, 5)).sum() - 0.01 * dist.entropy().sum()
    loss.backward()
    assert policy.net.weight.grad is not None and policy.net.weight.grad.abs().sum().item() > 0
    mu = tt.zeros(3, 2, requires_grad=True)
    log_var = tt.zeros(3, 2, requires_grad=True)
    q = D.Normal(mu, (0.5 * log_var).exp())
    z = q.rsample()
    kl = D.kl_divergence(q, D.Normal(tt.zeros_like(mu), tt.ones_like(mu))).sum()
    (z.pow(2).sum() + kl).backward()
    assert mu.grad.shape == (3, 2) and log_var.grad.abs().sum().item() > 0


def _tutorial_loops(m):
    """Three tutorial loops: a Gaussian mixture fitted by Adam, Bayesian linear regression by
    reparameterised variational inference, REINFORCE on a Categorical policy."""
    Dm = m.distributions
    m.manual_seed(0)
    x = m.cat([m.randn(50) * 0.5 - 2, m.randn(50) * 0.8 + 1.5])
    logits, mu, log_scale = m.zeros(2, requires_grad=True), m.tensor([-1.0, 1.0], requires_grad=True), \
        m.zeros(2, requires_grad=True)
    opt = m.optim.Adam([logits, mu, log_scale], lr=0.05)
    for _ in range(12):
        gmm = Dm.MixtureSameFamily(Dm.Categorical(logits=logits), Dm.Normal(mu, log_scale.exp()))
        loss = -gmm.log_prob(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    out = [loss.detach(), mu.detach().clone()]
    X = m.randn(40, 3)
    y = X @ m.tensor([1.0, -2.0, 0.5]) + 0.1 * m.randn(40)
    q_mean, q_log_scale = m.zeros(3, requires_grad=True), m.full((3,), -1.0, requires_grad=True)
    opt = m.optim.Adam([q_mean, q_log_scale], lr=0.05)
    for _ in range(12):
        q = Dm.Normal(q_mean, q_log_scale.exp())
        w = q.rsample((4,))
        elbo = (Dm.Normal(w @ X.T, 0.1).log_prob(y).sum(-1).mean()
                - Dm.kl_divergence(q, Dm.Normal(m.zeros(3), m.ones(3))).sum())
        opt.zero_grad()
        (-elbo).backward()
        opt.step()
    out += [elbo.detach(), q_mean.detach().clone()]
    W = m.zeros(4, 2, requires_grad=True)
    opt = m.optim.SGD([W], lr=0.1)
    for _ in range(5):
        s = m.randn(8, 4)
        policy = Dm.Categorical(logits=s @ W)
        a = policy.sample()
        r = (a == (s[:, 0] > 0).long()).float()
        loss = -(policy.log_prob(a) * (r - r.mean())).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return out + [a, W.detach().clone()]


def test_tutorial_loops_match_pytorch():
    got, want = _tutorial_loops(tt), pytorch(_tutorial_loops)
    for g, w in zip(got, want):
        assert g.dtype.name == w.dtype
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5, atol=1e-6)


def test_compiled_log_prob_equals_eager():
    x = tt.tensor([0.3, -1.2, 2.0, 0.7])

    def score(loc, scale):
        # validation reads values (a compiled function cannot depend on them): off, as under torch.compile
        lp = (D.Normal(loc, scale, validate_args=False).log_prob(x)
              + D.Laplace(loc, scale, validate_args=False).log_prob(x)
              + D.Categorical(logits=loc * scale, validate_args=False).log_prob(tt.tensor([3, 0, 1, 2])))
        loss = -lp.sum()
        loss.backward()
        return loss

    compiled = tt.compile(score)
    warnings.simplefilter("error")  # a trace that falls back to eager warns
    for step in range(3):
        loc = tt.tensor([0.1, 0.2, -0.3, 0.4 + step], requires_grad=True)
        scale = tt.tensor([1.0, 0.5, 2.0, 1.5 + step], requires_grad=True)
        eager = score(loc, scale)
        g_loc, g_scale = loc.grad.clone(), scale.grad.clone()
        loc.grad, scale.grad = None, None
        got = compiled(loc, scale)
        assert got.item() == eager.item()
        np.testing.assert_array_equal(loc.grad.numpy(), g_loc.numpy())
        np.testing.assert_array_equal(scale.grad.numpy(), g_scale.numpy())


def _on_device(device):
    """Draws, scores and rsample gradients of several families with parameters on ``device``."""
    def t(values):
        return tt.tensor(values, dtype=tt.float64, device=device, requires_grad=True)
    loc, scale, alpha = t([0.5, -1.0]), t([1.5, 0.3]), t([0.5, 2.0, 1.0])
    tril = t([[2.0, 0.0], [0.3, 1.0]])
    out = []
    tt.manual_seed(0)
    normal = D.Normal(loc, scale)
    x = normal.rsample((3,))
    samples = [x, D.Gamma(scale, loc.exp()).rsample((2,)), D.Dirichlet(alpha).rsample((2,)),
               D.Beta(scale, alpha[:2]).rsample(), D.MultivariateNormal(loc, scale_tril=tril).rsample((2,)),
               D.StudentT(scale + 2).rsample((2,)), D.Laplace(loc, scale).rsample((2,))]
    drawn = [D.Binomial(tt.tensor([10.0, 30.0], dtype=tt.float64, device=device), scale.detach() / 2).sample((2,)),
             D.Bernoulli(scale.detach() / 2).sample((2,)), D.Poisson(scale.detach() * 3).sample((2,)),
             D.Categorical(alpha.detach()).sample((3,)), D.Multinomial(5, alpha.detach()).sample(),
             D.Geometric(scale.detach() / 2).sample((3,))]
    scores = [normal.log_prob(x.detach()), D.Categorical(logits=loc).log_prob(tt.tensor([1, 0], device=device)),
              D.MultivariateNormal(loc, scale_tril=tril).log_prob(x.detach()[:, :2]),
              D.kl_divergence(D.MultivariateNormal(loc, scale_tril=tril),
                              D.MultivariateNormal(loc.detach(), covariance_matrix=tril.detach() @ tril.detach().mT))]
    total = sum(v.sum() for v in samples + scores)
    total.backward()
    for v in samples + drawn + scores + [loc.grad, scale.grad, alpha.grad, tril.grad]:
        assert v.device.type == device
        out.append(v.detach().cpu().numpy())
    return out


@pytest.mark.gpu
def test_distributions_on_cuda_equal_cpu():
    for a, b in zip(_on_device("cpu"), _on_device("cuda")):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_exponential_family_entropy_is_the_bregman_form():
    """ExponentialFamily.entropy (autograd of the log normaliser) equals the closed forms."""
    for dist in (D.Normal(tt.tensor([0.5, 1.0], dtype=tt.float64), tt.tensor([2.0, 0.3], dtype=tt.float64)),
                 D.Gamma(tt.tensor([0.5, 3.0], dtype=tt.float64), tt.tensor([2.0, 0.3], dtype=tt.float64)),
                 D.Exponential(tt.tensor([0.5, 3.0], dtype=tt.float64))):
        np.testing.assert_allclose(D.ExponentialFamily.entropy(dist).detach().numpy(), dist.entropy().numpy(),
                                   rtol=1e-12)
