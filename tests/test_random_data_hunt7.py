"""Seeded draws and their errors equal PyTorch's where a program's printed numbers differed:
multinomial without replacement among equal keys (PyTorch's top-k moves ties as libstdc++'s
selection does), draws into a permuted tensor's layout (``*_like``, dropout), poisson of an
infinite rate, ``random_``/``randint`` bounds for each dtype, and the messages of the
sampling ops.  Every expected value is PyTorch's recorded answer."""
import warnings

import numpy as np
import pytest

import tinytape as tt
from helpers import assert_same, check_against_pytorch
from pytorch_answers import pytorch


def outcome(fn):
    """``fn(lib)``'s result, or the exception it raised as [type name, message], and the
    messages of the warnings it gave."""
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = fn(lib)
            except Exception as e:  # noqa: BLE001  (the outcome compared is the exception)
                result = ["raises", type(e).__name__, str(e)]
        return [result, [str(w.message).split(" (Triggered internally")[0] for w in caught]]
    return run


# ------------------------------------------------------------ multinomial without replacement


def _multinomial_ties(lib, seed):
    lib.manual_seed(seed)
    out = []
    for n, k in [(4, 4), (4, 3), (10, 2), (40, 3), (200, 3), (200, 4), (1000, 5), (1000, 900), (17, 17)]:
        w = lib.randint(0, 3, (2, n)).float()
        w[:, 0] = 1
        out += [lib.multinomial(w, k), lib.multinomial(w.half(), k), lib.multinomial(lib.ones(n), k)]
    w = lib.rand(3, 1000, dtype=lib.bfloat16) + 0.01  # bfloat16 keys: many equal ones
    out += [lib.multinomial(w, 1000), lib.multinomial(w, 20), lib.rand(2)]
    return out


@pytest.mark.parametrize("seed", [0, 3])
def test_multinomial_orders_equal_keys_as_pytorch(seed):
    assert_same(_multinomial_ties(tt, seed), pytorch(_multinomial_ties, seed))


def test_multinomial_draws_zero_weights_when_it_runs_out():
    def run(lib):
        lib.manual_seed(0)
        return [lib.multinomial(lib.tensor([0., 1, 1, 0]), 4), lib.multinomial(lib.tensor([0., 1, 0, 0]), 3),
                lib.multinomial(lib.tensor([[0., 1, 1, 0], [1, 1, 1, 1]]), 3),
                lib.multinomial(lib.rand(3000, dtype=lib.float16) * 60000, 3000)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no overflow warning for float16 weights
        check_against_pytorch(run)


def test_multinomial_of_transposed_weights_draws_in_their_memory_order():
    def run(lib):
        lib.manual_seed(0)
        w = lib.rand(6, 4).t()
        return [lib.multinomial(w, 3), lib.multinomial(w, 1), lib.multinomial(w, 5, True), lib.rand(2)]
    check_against_pytorch(run)


def test_fork_rng_restores_the_stream():
    def run(lib):
        lib.manual_seed(4)
        with lib.random.fork_rng():
            inside = lib.randn(20)
        with lib.random.fork_rng(enabled=False):
            lib.rand(3)
        return [inside, lib.randn(20)]
    check_against_pytorch(run)


# ------------------------------------------------------------ draws into a permuted layout


def _permuted(lib):
    lib.manual_seed(0)
    base = lib.randn(3, 4, 5)
    return [base.transpose(0, 2), base.permute(1, 2, 0), base[:, ::2], base[:1].expand(3, 4, 5),
            lib.randn(20, 30).t()]


DRAWS_INTO = {
    "rand_like": lambda lib, x: lib.rand_like(x),
    "randn_like": lambda lib, x: lib.randn_like(x),
    "randn_like_double": lambda lib, x: lib.randn_like(x, dtype=lib.float64),
    "randint_like": lambda lib, x: lib.randint_like(x, 3, 10),
    "empty_like_normal_": lambda lib, x: lib.empty_like(x).normal_(),
    "empty_like_uniform_": lambda lib, x: lib.empty_like(x).uniform_(),
    "dropout": lambda lib, x: lib.nn.functional.dropout(x, 0.3),
    "alpha_dropout": lambda lib, x: lib.nn.functional.alpha_dropout(x, 0.3, True),
    "nn_Dropout": lambda lib, x: lib.nn.Dropout(0.6)(x),
}


@pytest.mark.parametrize("case", sorted(DRAWS_INTO))
def test_draws_fill_a_permuted_layout_in_memory_order(case):
    def run(lib):
        out = []
        for i, x in enumerate(_permuted(lib)):
            lib.manual_seed(10 + i)
            out += [DRAWS_INTO[case](lib, x), lib.rand(2)]
        return out
    check_against_pytorch(run)


def test_like_draws_keep_a_permuted_layout():
    def run(lib):
        return [(lib.rand_like(x).stride(), lib.randn_like(x).stride(), lib.empty_like(x).stride())
                for x in _permuted(lib) if x.dim() == 3 and x.stride()[0] != 0]
    got, want = run(tt), pytorch(run)
    assert [list(map(list, g)) for g in got] == [list(map(list, w)) for w in want]


# ------------------------------------------------------------ poisson of huge rates


def test_poisson_of_an_infinite_rate():
    def run(lib):
        lib.manual_seed(0)
        rates = lib.tensor([0., 0.5, 10., 1e3, 1e6, float("inf")])
        return [lib.poisson(rates.half()), lib.poisson(rates), lib.poisson(rates.double()), lib.rand(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_against_pytorch(run)


# ------------------------------------------------------------ random_ / randint bounds


DTYPES = ["float32", "float64", "bfloat16", "float16", "int32", "int64", "int16", "int8", "uint8", "bool"]
HIGHS = [2, 100, 2 ** 11, 2 ** 12, 2 ** 20, 2 ** 24 + 1, 2 ** 25, 2 ** 31, 2 ** 33]


@pytest.mark.parametrize("dtype", DTYPES)
def test_randint_and_random_bounds(dtype):
    def run(lib):
        dt = getattr(lib, dtype)
        out = []
        for high in HIGHS:
            for low in (0, -5):
                lib.manual_seed(high % 97 + low)
                out.append(outcome(lambda lib: lib.randint(low, high, (5,), dtype=dt))(lib))
                out.append(outcome(lambda lib: lib.empty(20, dtype=dt).random_(low, high)[:5])(lib))
        for low in (0, 5, 2 ** 20, -2 ** 63):
            lib.manual_seed(low % 89)
            out.append(outcome(lambda lib: lib.empty(6, dtype=dt).random_(low, None))(lib))
        lib.manual_seed(1)
        out.append(outcome(lambda lib: [lib.empty(6, dtype=dt).random_(7), lib.empty(6, dtype=dt).random_()])(lib))
        return out
    assert_same(run(tt), pytorch(run))


# ------------------------------------------------------------ the sampling ops' messages


ERRORS = {
    "multinomial_0d": lambda lib: lib.multinomial(lib.tensor(1.), 1),
    "multinomial_int": lambda lib: lib.multinomial(lib.tensor([1, 2]), 1),
    "multinomial_no_samples": lambda lib: lib.multinomial(lib.tensor([1., 1]), 0),
    "multinomial_negative_samples": lambda lib: lib.multinomial(lib.tensor([1., 1]), -1, True),
    "multinomial_too_many": lambda lib: lib.multinomial(lib.ones(3), 4),
    "multinomial_negative": lambda lib: lib.multinomial(lib.tensor([-1., 2.]), 1),
    "multinomial_inf": lambda lib: lib.multinomial(lib.tensor([1., float("inf")]), 1),
    "multinomial_zero": lambda lib: lib.multinomial(lib.zeros(3), 1),
    "multinomial_r_inf": lambda lib: lib.multinomial(lib.tensor([1., float("inf")]), 2, True),
    "multinomial_r_nan": lambda lib: lib.multinomial(lib.tensor([1., float("nan")]), 2, True),
    "multinomial_r_negative": lambda lib: lib.multinomial(lib.tensor([1., -1.]), 2, True),
    "multinomial_r_zero_row": lambda lib: lib.multinomial(lib.tensor([[1., 1], [0, 0]]), 2, True),
    "randperm_negative": lambda lib: lib.randperm(-1),
    "randperm_half": lambda lib: lib.randperm(3000, dtype=lib.float16),
    "randperm_half_overflow": lambda lib: lib.randperm(70000, dtype=lib.float16),
    "randperm_float": lambda lib: lib.randperm(2 ** 24 + 2, dtype=lib.float32),
    "randperm_uint8": lambda lib: lib.randperm(300, dtype=lib.uint8),
    "randperm_int8": lambda lib: lib.randperm(200, dtype=lib.int8),
    "randperm_int16": lambda lib: lib.randperm(70000, dtype=lib.int16),
    "randperm_bool": lambda lib: lib.randperm(3, dtype=lib.bool),
    "bernoulli_p_tensor": lambda lib: lib.bernoulli(lib.tensor([1.5])),
    "bernoulli_p_nan": lambda lib: lib.empty(2).bernoulli_(lib.tensor([float("nan")])),
    "cauchy_int": lambda lib: lib.empty(3, dtype=lib.int64).cauchy_(),
    "cauchy_int32": lambda lib: lib.empty(3, dtype=lib.int32).cauchy_(),
    "normal_shapes": lambda lib: lib.normal(lib.zeros(3), lib.ones(4)),
    "kaiming_mode": lambda lib: lib.nn.init.kaiming_uniform_(lib.empty(3, 4), mode="x"),
    "collate_int_and_str": lambda lib: lib.utils.data.default_collate([1, "a"]),
    "collate_nones": lambda lib: lib.utils.data.default_collate([(1.5, None), (2.5, None)]),
    "tensor_of_str": lambda lib: lib.tensor("abc"),
    "tensor_of_strs": lambda lib: lib.tensor(["a", "b"]),
    "tensor_of_none": lambda lib: lib.tensor([1.5, None]),
    "tensor_of_object": lambda lib: lib.tensor([[1.0], [object()]]),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_in_pytorchs_words(case):
    run = outcome(ERRORS[case])
    assert_same(run(tt), pytorch(run))


def test_zero_element_init_warns_at_the_callers_line():
    with pytest.warns(UserWarning, match="zero-element") as caught:
        tt.nn.init.kaiming_uniform_(tt.empty(0, 3))
    assert caught[0].filename == __file__


# ------------------------------------------------------------ generators


def test_generator_clone_state_and_the_methods_a_cpu_generator_refuses():
    def run(lib):
        g = lib.Generator().manual_seed(3)
        lib.rand(5, generator=g)
        twin = g.clone_state()
        out = [twin is g, twin.initial_seed(), lib.rand(4, generator=twin), lib.rand(4, generator=g)]
        for call in (g.get_offset, lambda: g.set_offset(3), g.graphsafe_get_state,
                     lambda: g.graphsafe_set_state(lib.Generator())):
            out.append(outcome(lambda lib: call())(lib)[0])
        return out
    assert_same(run(tt), pytorch(run))


# ------------------------------------------------------------ distributions PyTorch has


def _generalized_pareto(lib):
    D = lib.distributions
    lib.manual_seed(0)
    out = []
    for args in [(0., 1., 0.), (0.1, 2., 0.4),
                 (lib.tensor([0., 1.]), lib.tensor([1., 2.]), lib.tensor([-0.5, 0.3])),
                 (lib.zeros(3), 1., lib.tensor([0., 1e-9, -1.]))]:
        d = D.GeneralizedPareto(*args)
        s = d.rsample((4,))
        out += [s, d.cdf(s), d.log_survival_function(s), d.icdf(lib.full(tuple(d.batch_shape), 0.3)), d.mean,
                d.variance, d.entropy(), d.mode, d.expand((2,) + tuple(d.batch_shape)).sample(), list(d.batch_shape)]
    d = D.GeneralizedPareto(lib.zeros(2), lib.tensor([1., 2.]), lib.tensor([0.2, 0.3]))
    out.append(d.log_prob(d.sample((3,))))
    scale = lib.tensor([0.5, 1.5], requires_grad=True)
    D.GeneralizedPareto(lib.zeros(2), scale, lib.tensor([0.2, -0.3])).rsample().sum().backward()
    return out + [scale.grad]


def test_generalized_pareto():
    assert_same(_generalized_pareto(tt), pytorch(_generalized_pareto))


def _lkj(lib):
    D = lib.distributions
    lib.manual_seed(0)
    out = []
    # float64, and rows short enough that a sum of squares is one rounding order: the draws,
    # not float32 sqrt's or a long sum's last bit, are what is compared
    for dim, concentration in [(2, 1.0), (3, 0.5), (4, [0.5, 2.0]), (4, 3.0)]:
        d = D.LKJCholesky(dim, lib.tensor(concentration, dtype=lib.float64))
        s = d.sample((3,))
        out += [d.sample(), s, D.constraints.corr_cholesky.check(s), list(d.batch_shape), list(d.event_shape),
                d.expand((2,) + tuple(d.batch_shape)).sample()]
    return out + [D.constraints.positive_semidefinite.check(lib.tensor([[[1., 0.], [0., 0.]], [[1., 2.], [2., 1.]]]))]


def test_lkj_cholesky():
    assert_same(_lkj(tt), pytorch(_lkj))


def test_corr_cholesky_transform():
    def run(lib):
        D = lib.distributions
        t = D.biject_to(D.constraints.corr_cholesky)
        lib.manual_seed(0)
        x = lib.randn(2, 6, dtype=lib.float64)
        y = t(x)
        return [[v.tolist() for v in (y, t.inv(y), t.log_abs_det_jacobian(x, y))], type(t).__name__,
                list(t.forward_shape((2, 6))), list(t.inverse_shape((2, 4, 4)))]
    ours, theirs = run(tt), pytorch(run)
    for a, b in zip(ours[0], theirs[0]):  # tanh's and sqrt's last bit may differ; the transform may not
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    assert ours[1:] == theirs[1:]


def _wishart(lib):
    D = lib.distributions
    lib.manual_seed(0)
    out = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for df, kw in [(lib.tensor(4.), dict(covariance_matrix=lib.eye(2))),
                       (3., dict(scale_tril=lib.tensor([[1., 0.], [0.5, 2.]]))),
                       (lib.tensor([3., 5.]), dict(precision_matrix=lib.eye(3) * 2)),
                       (1.5, dict(covariance_matrix=lib.eye(2)))]:
            d = D.Wishart(df, **kw)
            s = d.rsample((3,))
            # (log_prob of the near-singular samples df < p gives is a determinant's rounding)
            values = [d.sample(), s, d.log_prob(s) if d.df.min() >= 2 else s, d.mean, d.variance, d.entropy(), d.precision_matrix,
                      d.expand((2,) + tuple(d.batch_shape)).sample()]
            out.append([[v.tolist() for v in values], list(d.batch_shape), list(d.event_shape), lib.rand(2)])
    return out, [str(w.message) for w in caught]


def test_wishart_draws_and_warns_as_pytorch():
    (ours, our_warnings), (theirs, their_warnings) = _wishart(tt), pytorch(_wishart)
    assert our_warnings == their_warnings
    for mine, want in zip(ours, theirs):
        for a, b in zip(mine[0], want[0]):  # a matrix product's last bit may differ; the draws may not
            np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-6)
        assert_same(mine[1:], want[1:])


def _structural_transforms(lib):
    D = lib.distributions
    T, C = D.transforms, D.constraints
    lib.manual_seed(0)
    x = lib.randn(4, 5, dtype=lib.float64)
    # affine pieces: exactly rounded both ways (an exp's last bit is not what is compared here)
    cat = T.CatTransform([T.AffineTransform(0., 3.), T.identity_transform, T.AffineTransform(1., 2.)], dim=1,
                         lengths=[2, 2, 1])
    stack = T.StackTransform([T.AffineTransform(0., 3.), T.AffineTransform(1., 2.), T.identity_transform,
                              T.AffineTransform(-1., 0.5), T.identity_transform], dim=1)
    reshape = T.ReshapeTransform((5,), (5, 1))
    cdf = T.CumulativeDistributionTransform(D.Normal(0., 1.))
    out = []
    for t in (cat, stack, reshape):
        y = t(x)
        out += [y, t.inv(y), t.log_abs_det_jacobian(x, y), t.bijective]
    probabilities = [v.tolist() for v in (cdf(x), cdf.inv(cdf(x)), cdf.log_abs_det_jacobian(x, cdf(x)))]
    out += [cdf.sign, list(reshape.forward_shape((4, 5))), list(reshape.inverse_shape((4, 5, 1))), cat.event_dim, cat.length]
    joined = C.cat([C.positive, C.real], 0, [2, 3])
    stacked = C.stack([C.positive, C.real], 0)
    out += [joined.check(lib.tensor([1., -1., -2., 3., 4.])), joined.event_dim,
            stacked.check(lib.tensor([[1., -1.], [-2., 3.]])), stacked.event_dim,
            D.biject_to(joined)(lib.zeros(5)), D.transform_to(stacked)(lib.zeros(2, 3))]
    for bad in (lambda: cat(lib.zeros(4, 4)), lambda: stack(lib.zeros(4, 4)), lambda: cat.inv(lib.zeros(4, 4)),
                lambda: T.ReshapeTransform((2, 3), (5,)), lambda: reshape.forward_shape(()),
                lambda: T.CatTransform([T.identity_transform], lengths=[1, 2])):
        out.append(outcome(lambda lib: bad())(lib)[0])
    return out, probabilities


def test_cat_stack_reshape_and_cdf_transforms():
    (ours, our_cdf), (theirs, their_cdf) = _structural_transforms(tt), pytorch(_structural_transforms)
    assert_same(ours, theirs)
    for a, b in zip(our_cdf, their_cdf):  # erf's last bit may differ
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


# ------------------------------------------------------------ stochastic weight averaging


def _swa(lib):
    nn, swa_utils = lib.nn, lib.optim.swa_utils
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2)).double()
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    averaged = [swa_utils.AveragedModel(model), swa_utils.AveragedModel(model, avg_fn=swa_utils.get_ema_avg_fn(0.8)),
                swa_utils.AveragedModel(model, avg_fn=swa_utils.get_ema_avg_fn(0.8), use_buffers=True)]
    schedules = [swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=3)]
    other = lib.optim.SGD([nn.Parameter(lib.ones(1))], lr=0.01)
    schedules.append(swa_utils.SWALR(other, [0.5], anneal_epochs=0, anneal_strategy="linear"))
    X, Y = lib.randn(64, 4, dtype=lib.float64), lib.randint(0, 2, (64,))
    loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(X, Y), batch_size=16, shuffle=True)
    rates = []
    for _ in range(5):
        for xb, yb in loader:
            loss = nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        for m in averaged:
            m.update_parameters(model)
        other.step()
        for s in schedules:
            s.step()
        rates.append([s.get_last_lr() for s in schedules])
    swa_utils.update_bn(loader, averaged[0])
    sums = [[float(t.detach().sum()) for t in list(m.parameters()) + list(m.buffers())] for m in averaged]
    return rates, sums, sorted(schedules[0].state_dict()), averaged[0].module[1].momentum


def test_swa_utils():
    (rates, sums, keys, momentum), want = _swa(tt), pytorch(_swa)
    assert rates == want[0] and keys == want[2] and momentum == want[3]
    np.testing.assert_allclose(sums, want[1], rtol=1e-9)  # a float64 matrix product's last bits may differ


def test_distributed_sampler():
    def run(lib):
        data = lib.utils.data
        ds = data.TensorDataset(lib.arange(11))
        out = []
        for kw in [dict(num_replicas=3, rank=0), dict(num_replicas=3, rank=2, shuffle=False),
                   dict(num_replicas=3, rank=1, drop_last=True), dict(num_replicas=4, rank=3, seed=7),
                   dict(num_replicas=30, rank=29)]:
            s = data.DistributedSampler(ds, **kw)
            first = list(s)
            s.set_epoch(3)
            out.append([len(s), first, list(s), [b[0].tolist() for b in data.DataLoader(ds, batch_size=2, sampler=s)]])
        for bad in (lambda: data.DistributedSampler(ds), lambda: data.DistributedSampler(ds, num_replicas=2, rank=2)):
            out.append(outcome(lambda lib: bad())(lib)[0])
        return out
    assert_same(run(tt), pytorch(run))
