"""flip, narrow, masked_select, take, cumprod, logcumsumexp, diff, count_nonzero, clamp_min/max,
fmod, true_divide, div with rounding_mode, round with decimals, median, nanmedian, kthvalue,
var_mean, std_mean, dist: values, dtypes, gradients and grad_fn names against PyTorch (the
same code runs on both), gradcheck, and one tiny CUDA case per family."""
import numpy as np
import pytest

import tinytape as tt
from tinytape.autograd import gradcheck
from pytorch_answers import pytorch
from tinytape.ops import composite

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def _a(*shape, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed + sum(shape)).uniform(low, high, shape)


def _run(m, fn, arrays, device="cpu"):
    """fn's output and its vector-Jacobian products with a fixed cotangent, in module ``m``."""
    kwargs = {"device": device} if m is tt else {}
    leaves = [m.tensor(a, dtype=m.float64, requires_grad=True, **kwargs) for a in arrays]
    out = fn(m, *leaves)
    cot = m.tensor(np.linspace(-1.0, 1.5, out.numel()), dtype=out.dtype, **kwargs).reshape(out.shape)
    grads = m.autograd.grad(out, leaves, cot, allow_unused=True)
    return [out.detach().cpu().numpy()] + [g.cpu().numpy() if g is not None else 0.0 for g in grads]


def _zeros_in(a, *where):
    a = a.copy()
    for w in where:
        a[w] = 0.0
    return a


TIES = np.array([[3.0, 1.0, 3.0, 1.0, 2.0], [0.5, 0.5, 0.5, -1.0, 7.0], [4.0, 4.0, 4.0, 4.0, 4.0]])

# name -> (function of (module, *leaves), arrays, differentiable, on cuda)
CASES = {
    "flip": (lambda m, x: m.flip(x, (0, -1)) * x.flip(1) + x.flip(0, 2) * x.flip([-2]), [_a(2, 3, 4)]),
    "flip_empty_dims": (lambda m, x: m.flip(x, []), [_a(2, 3)]),
    "fliplr_flipud": (lambda m, x: m.fliplr(x) + x.flipud(), [_a(3, 3)]),
    "narrow": (lambda m, x: x.narrow(1, -3, 2) * m.narrow(x, 0, 1, 1)[:, 1:3], [_a(3, 4)]),
    "masked_select": (lambda m, x: x.masked_select(x > 0) * 2, [_a(3, 4)]),
    "masked_select_broadcast": (lambda m, x: m.masked_select(x, m.tensor([True, False, True])), [_a(2, 1)]),
    "take": (lambda m, x: m.take(x, m.tensor([[0, -1], [5, 5]])), [_a(2, 3)]),
    "cumprod": (lambda m, x: m.cumprod(x, 1) + x.cumprod(-2), [_a(3, 5)]),
    "cumprod_one_zero": (lambda m, x: x.cumprod(1), [_zeros_in(_a(2, 6), (0, 2), (1, 5))]),
    "cumprod_two_zeros": (lambda m, x: x.cumprod(0), [_zeros_in(_a(7, 2), (1, 0), (4, 0), (0, 1), (6, 1))]),
    "logcumsumexp": (lambda m, x: m.logcumsumexp(x, 1) * x.logcumsumexp(0), [_a(5, 3)]),
    "logcumsumexp_wide": (lambda m, x: m.logcumsumexp(x * 400, 0), [_a(6)]),
    "diff": (lambda m, x, p: m.diff(x, 2, 0, prepend=p) + x.diff(dim=0, n=1), [_a(4, 3), _a(1, 3)]),
    "diff_append": (lambda m, x, q: m.diff(x, append=q), [_a(2, 3), _a(2, 2)]),
    "clamp_min_max": (lambda m, x: m.clamp_min(x, 0.5) * x.clamp_max(-0.25), [_a(3, 4)]),
    "clamp_min_tensor": (lambda m, x, y: x.clamp_min(y), [_a(3, 4), _a(4)]),
    "fmod": (lambda m, x, y: m.fmod(x * 3, y) + x.fmod(0.75), [_a(3, 4), _a(3, 4, seed=1)]),
    "true_divide": (lambda m, x, y: m.true_divide(x, y) * x.true_divide(2), [_a(2, 3), _a(2, 3, low=0.5)]),
    "median_all": (lambda m, x: m.median(x) * x.nanmedian(), [_a(3, 5)]),
    "median_all_ties": (lambda m, x: x.median(), [TIES]),
    "median_dim": (lambda m, x: m.median(x, 1).values + x.median(0, keepdim=True)[0].sum(), [_a(4, 5)]),
    "nanmedian_dim": (lambda m, x: m.nanmedian(x, -1, True).values, [_a(3, 4)]),
    "kthvalue": (lambda m, x: m.kthvalue(x, 2, 1).values * x.kthvalue(3, 0, keepdim=True)[0].sum(), [_a(3, 4)]),
    "var_mean": (lambda m, x: m.var_mean(x, 1)[0] * m.var_mean(x, 1, correction=0)[1], [_a(3, 4)]),
    "std_mean": (lambda m, x: m.std_mean(x, (0, 1), keepdim=True)[0] + m.std_mean(x)[1], [_a(3, 4)]),
    "var_std_mean_each": (lambda m, x: m.var_mean(x, -1, keepdim=True)[0] * m.std_mean(x, 0, unbiased=False)[0]
                          + m.std_mean(x, 1)[1].unsqueeze(1), [_a(3, 4)]),
    "var_mean_only_mean": (lambda m, x: m.var_mean(x, 0)[1] * 2, [_a(3, 4)]),
    "dist": (lambda m, x, y: m.dist(x, y) + x.dist(y, 1) * m.dist(x, y, 3.5) + x.dist(y, float("inf")),
             [_a(3, 4), _a(4, seed=1)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch(name):
    fn, arrays = CASES[name]
    for got, want in zip(_run(tt, fn, arrays), pytorch(lambda torch, *arrays: _run(torch, fn, arrays), *arrays)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name):
    fn, arrays = CASES[name]
    leaves = tuple(tt.tensor(a, dtype=tt.float64, requires_grad=True) for a in arrays)
    if name == "median_all_ties":  # a tie's derivative is a one-sided one: not finite differences'
        return
    assert gradcheck(lambda *xs: fn(tt, *xs), leaves)


def test_second_derivatives_match_pytorch():
    for fn, arrays in [(lambda m, x: (m.cumprod(x, 1) ** 2).sum(), [_zeros_in(_a(2, 5), (0, 1))]),
                       (lambda m, x: m.logcumsumexp(x, 0).exp().sum(), [_a(5)]),
                       (lambda m, x: (m.median(x, 0).values ** 3).sum(), [_a(3, 2)]),
                       (lambda m, x: (m.logcumsumexp(x, 1) ** 2).sum(), [_a(2, 4)]),
                       (lambda m, x: m.dist(x, x.sin(), 3) + (m.std_mean(x, 1)[0] ** 2).sum(), [_a(2, 3)])]:
        def derivatives(m, a):
            x = m.tensor(a, dtype=m.float64, requires_grad=True)
            (g,) = m.autograd.grad(fn(m, x), x, create_graph=True)
            (h,) = m.autograd.grad((g * g).sum(), x)
            return g.detach().numpy(), h.numpy()
        for got, want in zip(derivatives(tt, arrays[0]), pytorch(derivatives, arrays[0])):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


# one tiny case per family, on each device: the same values and gradients as the CPU's
FAMILY = {
    "selections": (lambda m, x: m.flip(x, [0])[:, :1] * m.take(x, m.tensor([[4], [1]]))
                   + x.masked_select(x > 0).sum() + x.narrow(1, 1, 1), [_a(2, 3)]),
    "scans": (lambda m, x: m.cumprod(x, 1) + m.logcumsumexp(x, 1) + m.diff(x, prepend=x[:, :1]),
              [_zeros_in(_a(2, 3), (0, 1))]),
    "elementwise": (lambda m, x, y: m.fmod(x, y) + m.clamp_min(x, 0.1) * m.true_divide(x, y.abs() + 1),
                    [_a(2, 2), _a(2, 2, seed=1)]),
    "order": (lambda m, x: m.median(x, 1).values + m.kthvalue(x, 1, 1).values + m.median(x), [_a(2, 3)]),
    "statistics": (lambda m, x: m.var_mean(x, 1)[0] + m.std_mean(x, 1)[1] + m.dist(x, x * 0), [_a(2, 3)]),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("family", sorted(FAMILY))
def test_family_on_each_device(family, device):
    fn, arrays = FAMILY[family]
    want = pytorch(lambda torch, *arrays: _run(torch, fn, arrays), *arrays)
    for got, ref in zip(_run(tt, fn, arrays, device), want):
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- grad_fn names and dtypes


@pytest.mark.parametrize("call", [
    lambda m, x: m.flip(x, (0,)), lambda m, x: m.fliplr(x), lambda m, x: x.narrow(0, 0, 1),
    lambda m, x: x.masked_select(x > 0), lambda m, x: x.take(m.tensor([1])), lambda m, x: x.cumprod(0),
    lambda m, x: x.clamp_min(0.0), lambda m, x: x.clamp_max(0.0), lambda m, x: m.fmod(x, 2.0),
    lambda m, x: m.fmod(x, x), lambda m, x: m.true_divide(x, 2), lambda m, x: x.median(),
    lambda m, x: x.median(0)[0], lambda m, x: x.nanmedian(), lambda m, x: x.nanmedian(1)[0],
    lambda m, x: x.kthvalue(1, 0)[0], lambda m, x: m.diff(x), lambda m, x: m.logcumsumexp(x, 1),
    lambda m, x: m.dist(x, x * 2), lambda m, x: m.dist(x, x * 2, 0), lambda m, x: m.var_mean(x, 1)[0],
    lambda m, x: m.var_mean(x)[1], lambda m, x: m.std_mean(x, 0)[0], lambda m, x: m.std_mean(x, 0, keepdim=True)[1],
    lambda m, x: m.clamp_min(x, x[0]), lambda m, x: m.clamp_max(x, x[0]),
])
def test_grad_fn_names_are_pytorchs(call):
    got = call(tt, tt.ones(2, 3, requires_grad=True))
    assert got.grad_fn.name() == pytorch(lambda torch: call(torch, torch.ones(2, 3, requires_grad=True)).grad_fn.name())


def _result_dtypes(m):
    ints = m.tensor([[3, 0, 2], [1, 5, 5]])
    return [str(dtype).split(".")[1] for dtype in (
        m.cumprod(ints, 1).dtype, m.cumprod(m.tensor([True, False, True]), 0).dtype,
        m.cumprod(ints, 1, dtype=m.float64).dtype, m.count_nonzero(ints).dtype, m.median(ints, 1).indices.dtype,
        m.fmod(ints, 2).dtype)]


def test_results_are_pytorchs_types():
    assert _result_dtypes(tt) == pytorch(_result_dtypes) == ["int64", "int64", "float64", "int64", "int64", "int64"]
    pairs = [
        lambda m: m.cumprod(m.tensor([[3, 0, 2], [1, -5, 5]]), 1),
        lambda m: m.count_nonzero(m.tensor([[0.0, 1.0], [2.0, 0.0], [0.0, 0.0]]), 0),
        lambda m: m.count_nonzero(m.tensor([[0.0, 1.0], [2.0, 0.0], [0.0, 0.0]]), (0, 1)),
        lambda m: m.median(m.tensor([[4, 1, 3, 2], [9, 7, 7, 8]]), 1),
        lambda m: m.median(m.tensor([4, 1, 3, 2])),
        lambda m: m.kthvalue(m.tensor([[4, 1, 3, 2], [9, 7, 7, 8]]), 3),
        lambda m: m.fmod(m.tensor([7, -7, 7, -7]), m.tensor([3, 3, -3, -3])),
        lambda m: m.fmod(m.tensor([5.5, -5.5, -0.0, 0.0, 1e-20, -3.0, 2.0]),
                         m.tensor([2.0, 2.0, 1.0, -1.0, 1.0, float("inf"), 0.0])),
        lambda m: m.true_divide(m.tensor([1, 2]), 4),
        lambda m: m.diff(m.tensor([True, False, False, True])),
        lambda m: m.diff(m.tensor([1, 4, 9, 16]), 2),
        lambda m: m.flip(m.tensor(3.0), ()),
        lambda m: m.narrow(m.arange(6), 0, m.tensor(2), 3),
        lambda m: m.take(m.tensor(5.0), m.tensor([0, -1])),
        lambda m: m.median(m.tensor(5.0), 0),
        lambda m: m.kthvalue(m.tensor(5.0), 1),
        lambda m: m.median(m.ones(0)),
        lambda m: m.cumprod(m.ones(0, 3), 0),
        lambda m: m.logcumsumexp(m.tensor([-float("inf"), -float("inf"), 0.0, float("inf"), 1.0]), 0),
        lambda m: m.logcumsumexp(m.tensor([1.0, float("nan"), 2.0]), 0),
        lambda m: m.logcumsumexp(m.tensor([[1.0, 2.0, 3.0]], dtype=m.float32), 1),
        lambda m: m.dist(m.tensor([1.0, 2.0, 3.0]), m.tensor([1.0, 0.0, 5.0]), 0),
        lambda m: m.var_mean(m.tensor([[1.0, 2.0], [4.0, 8.0]]), 0, unbiased=False),
        lambda m: m.std_mean(m.tensor([1, 2, 4]).double()),
        lambda m: m.clamp_min(m.tensor([1, -2, 3]), 0),
        lambda m: m.clamp_max(m.tensor([1.0, float("nan"), 3.0]), 2.0),
    ]
    for case, want in zip(pairs, pytorch(lambda torch: [case(torch) for case in pairs])):
        _same(case(tt), want)


def _same(got, want):
    """tinytape's tensor (or tuple of them) against PyTorch's recorded one."""
    if isinstance(want, tuple):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
        return
    assert got.dtype.name == want.dtype
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    if want.is_floating_point:  # signed zeros too (a NaN's sign is the kernel's)
        number = ~np.isnan(want.numpy())
        np.testing.assert_array_equal(np.signbit(got.numpy())[number], np.signbit(want.numpy())[number])


# ---------------------------------------------------------------- order statistics: ties and NaN


@pytest.mark.parametrize("rows", [
    TIES,
    np.array([[1.0, np.nan, 3.0, np.nan], [np.nan, np.nan, np.nan, np.nan], [2.0, 1.0, 2.0, 1.0]]),
    np.array([[5.0, 5.0, 1.0, 5.0, 5.0, 1.0, 1.0, 5.0]]),
])
def test_median_and_kthvalue_ties_and_nan(rows):
    calls = [("median", (1,)), ("median", (0, True)), ("nanmedian", (1,)), ("nanmedian", (0,)),
             ("kthvalue", (2, 1)), ("kthvalue", (1, 0))]
    wants = pytorch(lambda torch, rows: [getattr(torch, op)(torch.tensor(rows), *args) for op, args in calls]
                    + [getattr(torch, op)(torch.tensor(rows)) for op in ("median", "nanmedian")], rows)
    for (op, args), want in zip(calls, wants):
        got = getattr(tt, op)(tt.tensor(rows), *args)
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
        # the index names an element of that value (PyTorch's choice among ties is its
        # selection algorithm's; small rows agree with it)
        dim = args[1] if op == "kthvalue" else args[0]
        keep = len(args) > (2 if op == "kthvalue" else 1) and args[-1] is True
        idx = got.indices.numpy() if keep else np.expand_dims(got.indices.numpy(), dim)
        picked = np.take_along_axis(rows, idx, dim)
        np.testing.assert_array_equal(picked, got.values.numpy() if keep else np.expand_dims(got.values.numpy(), dim))
    for op, want in zip(("median", "nanmedian"), wants[len(calls):]):
        np.testing.assert_array_equal(getattr(tt, op)(tt.tensor(rows)).numpy(), want.numpy())


def test_median_gradients_with_ties_and_nan():
    def gradient(m, rows, op):
        x = m.tensor(rows, requires_grad=True)
        getattr(m, op)(x).mul(3.0).backward()
        return x.grad.numpy()
    for rows in (TIES, np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 2.0, 0.0, 1.0]])):
        for op in ("median", "nanmedian"):
            np.testing.assert_array_equal(gradient(tt, rows, op), pytorch(gradient, rows, op))
    x = tt.tensor([[2.0, 1.0, 2.0]], requires_grad=True)  # median(dim): to the chosen element only
    out = x.median(1)
    out.values.backward(tt.tensor([float("inf")]))
    assert out.indices.tolist() == [0] and x.grad.tolist() == [[float("inf"), 0.0, 0.0]]


def test_ties_pick_pytorchs_indices():
    """median breaks ties by position; kthvalue's index is its quick-select's (replayed)."""
    rng = np.random.default_rng(0)
    cases = []
    for n in (1, 2, 3, 5, 8, 11):
        for trial in range(6):
            rows = rng.integers(0, 3, (3, n)).astype(float)
            if trial % 2:
                rows[rows == 2] = np.nan
            for op, args in [("median", (1,)), ("kthvalue", (int(rng.integers(1, n + 1)), 1)), ("nanmedian", (1,))]:
                if op == "nanmedian" and np.isnan(rows).all(1).any():
                    continue  # an all-NaN row: PyTorch's index is nth_element's accident
                cases.append((rows, op, args))
    wants = pytorch(lambda torch, cases: [getattr(torch, op)(torch.tensor(rows), *args) for rows, op, args in cases],
                    cases)
    for (rows, op, args), want in zip(cases, wants):
        got = getattr(tt, op)(tt.tensor(rows), *args)
        assert got.indices.tolist() == want.indices.tolist(), (rows, op, args)
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())


# ---------------------------------------------------------------- cumprod with zeros, fmod, div, round


def test_cumprod_gradient_with_zeros():
    def gradient(m, row):
        x = m.tensor(row, requires_grad=True)
        x.cumprod(0).backward(m.linspace(-1.0, 2.0, len(row)))
        return x.grad.numpy()
    for row in ([2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 0.0, 0.0], [1.5, -2.0, 0.0], [0.0], [0.0, 4.0, -1.0, 2.0, 0.5]):
        np.testing.assert_allclose(gradient(tt, row), pytorch(gradient, row), rtol=1e-6, equal_nan=True)


def test_div_rounding_modes():
    for a, b in [([7.0, -7.0, 7.5, -7.5, 0.0, 1.0, -1.0, 5.0], [2.0, 2.0, -2.0, -2.0, 3.0, 0.0, 0.0, float("inf")]),
                 ([7, -7, 7, -7, 0, 6], [2, 2, -2, -2, 3, -3])]:
        wants = pytorch(lambda torch, a, b: [torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode)
                                             for mode in (None, "trunc", "floor")]
                        + [torch.div(torch.tensor(a), 3, rounding_mode="trunc")], a, b)
        for mode, want in zip((None, "trunc", "floor"), wants):
            _same(tt.div(tt.tensor(a), tt.tensor(b), rounding_mode=mode), want)
        _same(tt.div(tt.tensor(a), 3, rounding_mode="trunc"), wants[-1])
    x = tt.tensor([1.5, -2.5], requires_grad=True)
    out = tt.div(x, 2.0, rounding_mode="floor")
    assert out.grad_fn.name() == "DivBackward2"
    out.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="rounding_mode to be one of None, 'trunc', or 'floor'"):
        tt.div(x, 2.0, rounding_mode="up")
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        tt.div(tt.tensor([1]), tt.tensor([0]), rounding_mode="trunc")


def test_round_with_decimals():
    values = [1.2345, -1.2355, 2.5, 1234.5678, -0.0001, float("nan"), float("inf"), 0.125]
    cases = [(dtype, decimals) for dtype in ("float64", "float32") for decimals in (0, 1, 2, 3, -1, -2)]
    wants = pytorch(lambda torch: [torch.round(torch.tensor(values, dtype=getattr(torch, dtype)), decimals=decimals)
                                   for dtype, decimals in cases])
    for (dtype, decimals), want in zip(cases, wants):
        _same(tt.round(tt.tensor(values, dtype=getattr(tt, dtype)), decimals=decimals), want)
    x = tt.tensor([1.26], requires_grad=True)
    out = tt.round(x, decimals=1)
    assert out.grad_fn.name() == "RoundBackward1"
    out.backward(tt.tensor([1.0]))
    assert x.grad.tolist() == [0.0]
    with pytest.raises(NotImplementedError):
        tt.round(tt.tensor([1, 2]), decimals=1)


def _fmod_gradients(m):
    a = m.tensor([5.5, -5.5, 0.0, 3.0], requires_grad=True)
    b = m.tensor([2.0, 2.0, 1.5, -4.0], requires_grad=True)
    m.fmod(a, b).backward(m.tensor([1.0, 2.0, 3.0, 4.0]))
    return a.grad.numpy(), b.grad.numpy()


def test_fmod_gradient():
    for got, want in zip(_fmod_gradients(tt), pytorch(_fmod_gradients)):
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------- errors, PyTorch's types


BAD_CALLS = [
    (lambda m: m.flip(m.ones(2, 3), (0, -2)), RuntimeError, "dim 0 appears multiple times"),
    (lambda m: m.flip(m.ones(2, 3), (2,)), IndexError, "Dimension out of range"),
    (lambda m: m.flip(m.ones(2, 3), 1), TypeError, "must be tuple of ints, not int"),
    (lambda m: m.fliplr(m.ones(3)), RuntimeError, "Input must be >= 2-d"),
    (lambda m: m.flipud(m.ones(())), RuntimeError, "Input must be >= 1-d"),
    (lambda m: m.ones(3, 4).narrow(1, 5, 1), IndexError, "start out of range"),
    (lambda m: m.ones(3, 4).narrow(1, 2, 3), RuntimeError, r"start \(2\) \+ length \(3\) exceeds dimension size \(4\)"),
    (lambda m: m.ones(3, 4).narrow(1, 1, -1), RuntimeError, "length must be non-negative"),
    (lambda m: m.ones(3).masked_select(m.ones(3, dtype=m.int64)), RuntimeError, "expected BoolTensor for mask"),
    (lambda m: m.ones(3).masked_select(m.ones(2, dtype=m.bool)), RuntimeError,
     r"The size of tensor a \(2\) must match the size of tensor b \(3\) at non-singleton dimension 0"),
    (lambda m: m.ones(2, 3).take(m.tensor([6])), IndexError, "out of range: tried to access index 6"),
    (lambda m: m.ones(2, 3).take(m.tensor([-7])), IndexError, "out of range: tried to access index -7"),
    (lambda m: m.ones(2, 3).take(m.tensor([1.0])), RuntimeError, "Expected a long tensor for index, but got Float"),
    (lambda m: m.ones(2, 3).cumprod(2), IndexError, "Dimension out of range"),
    (lambda m: m.fmod(m.tensor([3]), m.tensor([0])), RuntimeError, "ZeroDivisionError"),
    (lambda m: m.ones(2, 3).kthvalue(4), RuntimeError, "selected number k out of range for dimension 1"),
    (lambda m: m.ones(2, 3).kthvalue(0, 0), RuntimeError, "selected number k out of range for dimension 0"),
    (lambda m: m.ones(0, 3).median(0), IndexError, "Expected reduction dim 0 to have non-zero size"),
    (lambda m: m.ones(2, 3).median(-3), IndexError, "Dimension out of range"),
    (lambda m: m.diff(m.tensor(1.0)), RuntimeError, "diff expects input to be at least one-dimensional"),
    (lambda m: m.diff(m.ones(3), -1), RuntimeError, "order must be non-negative but got -1"),
    (lambda m: m.logcumsumexp(m.tensor([1, 2]), 0), NotImplementedError, "not implemented for 'Long'"),
]


@pytest.mark.parametrize("k", range(len(BAD_CALLS)))
def test_bad_arguments_raise_pytorchs_errors(k):
    call, error, message = BAD_CALLS[k]
    with pytest.raises(error, match=message):
        pytorch(call)
    with pytest.raises(error, match=message):
        call(tt)


def test_a_length_one_scan_is_a_new_entry():
    x = tt.tensor([[2.0], [3.0]], requires_grad=True)
    for out in (x.cumprod(1), tt.logcumsumexp(x, 1), tt.cumprod(x[0, 0], 0)):
        assert out is not x and out.grad_fn is not None
    assert x.grad_fn is None and x.cumprod(0).tolist() == [[2.0], [6.0]]


def test_exported_as_functions_and_methods():
    theirs = pytorch(lambda torch, names: {name: (hasattr(torch, name), hasattr(torch.Tensor, name)) for name in names},
                     sorted(composite._BREADTH))
    for name in composite._BREADTH:
        function, method = theirs[name]
        assert getattr(tt, name) is not None and function
        if method:
            assert hasattr(tt.Tensor, name), name
