"""Values PyTorch gives at the edges, where tinytape once gave another answer without a
word: reductions over dims that are not adjacent, in-place results that don't fit the
tensor's dtype, gradients at zeros and constant data, byte masks."""
import warnings

import numpy as np
import pytest

import tinytape as tt
from pytorch_answers import pytorch


def _both(f, data, **kw):
    """f's value and the gradient of its sum, under PyTorch and tinytape."""
    def run(m, data, **kw):
        x = m.tensor(data, requires_grad=True, **kw)
        y = f(m, x)
        y.sum().backward()
        return np.asarray(y.detach().cpu().tolist()), np.asarray(x.grad.cpu().tolist()), type(y.grad_fn).__name__
    return [pytorch(run, data), run(tt, data, **kw)]


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
@pytest.mark.parametrize("dims", [(0, 2), (2, 0), (0, 1), (1,), (-1, 0)])
def test_two_norm_over_any_dims(dims, device):
    """Each run of adjacent dims is reduced in turn; the runs after the first add up the
    squares (they once squared the partial sums again)."""
    want, got = _both(lambda m, x: x.norm(dim=dims), np.arange(24.).reshape(2, 3, 4).tolist(), device=device)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)


@pytest.mark.parametrize("op", [
    lambda m: m.tensor([1, 2, 3]).add_(1.5),
    lambda m: m.tensor([True, False]).add_(1),
    lambda m: m.tensor([1, 2]).div_(2),
    lambda m: m.tensor([1, 2]).mul_(m.tensor([1.5, 2.])),
    lambda m: m.tensor([1, 2]).pow_(0.5),
    lambda m: m.tensor([1, 2]).exp_(),
    lambda m: m.tensor([1, 2]).clamp_(0.5),
], ids=["add_float", "bool_add_int", "div", "mul_float_tensor", "pow", "exp", "clamp"])
def test_in_place_results_that_do_not_fit_are_refused(op):
    with pytest.raises(RuntimeError) as theirs:
        pytorch(op)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type") as ours:
        op(tt)
    assert str(ours.value).split(" can't")[0] == str(theirs.value).split(" can't")[0]  # "result type Float"


def _fitting_in_place_results(m):
    x = m.tensor([1, 2], dtype=m.int32)
    x.add_(m.tensor([1, 2]))
    b = m.tensor([True, False])
    b.add_(True)
    return x, b


def test_in_place_results_that_fit_are_written():
    (x, b), (tx, tb) = _fitting_in_place_results(tt), pytorch(_fitting_in_place_results)
    assert x.tolist() == tx.tolist() == [2, 4] and b.tolist() == tb.tolist() == [True, True]
    assert (x.dtype.name, b.dtype.name) == (tx.dtype, tb.dtype) == ("int32", "bool")


@pytest.mark.parametrize("f", [
    lambda m, x: x.std(), lambda m, x: x.std(1), lambda m, x: x.var(0, keepdim=True),
    lambda m, x: x.var(1, correction=0), lambda m, x: x.std((0, 1)), lambda m, x: x.std(0, unbiased=False),
], ids=["std", "std_dim", "var_keepdim", "var_correction0", "std_dims", "std_biased"])
def test_var_std_values_gradients_and_names(f):
    """Constant rows included: std's gradient is 0 there, not inf * 0."""
    want, got = _both(f, [[3., 3., 3.], [1., 2., 4.]])
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    assert got[2] == want[2]


@pytest.mark.parametrize("p", [0.5, 1.5, 3.0])
def test_p_norm_gradient_at_zero_elements(p):
    want, got = _both(lambda m, x: x.norm(p), [0., 1., -2., 0.])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    assert not np.isnan(got[1]).any()


def _atan2_gradients(m):
    a = m.tensor([0., 1., 0., 1e-30, 0.3], requires_grad=True)
    b = m.tensor([0., 0., -0., 0., 0.7], requires_grad=True)
    m.atan2(a, b).backward(m.tensor([1., 1., 1., 1., 3.3]))
    return np.asarray(a.grad.tolist()), np.asarray(b.grad.tolist())


def test_atan2_gradient_at_the_origin_is_zero():
    for ours, theirs in zip(_atan2_gradients(tt), pytorch(_atan2_gradients)):
        np.testing.assert_array_equal(ours, theirs)  # bits and signs of zeros


@pytest.mark.parametrize("f", [lambda m: m.tensor([1, 2]).var(), lambda m: m.tensor([1, 2]).std(),
                               lambda m: m.tensor([1, 2]).norm()], ids=["var", "std", "norm"])
def test_integer_var_std_norm_are_refused(f):
    with pytest.raises(RuntimeError) as theirs:
        pytorch(f)
    with pytest.raises(RuntimeError) as ours:
        f(tt)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("dtype", ["int32", "int16", "uint8", "bool"])
def test_integer_products_are_int64(dtype):
    assert tt.tensor([1, 1], dtype=getattr(tt, dtype)).prod().dtype is tt.int64
    assert tt.tensor([[1, 1]], dtype=getattr(tt, dtype)).prod(1).dtype is tt.int64


def test_a_byte_tensor_index_is_a_mask():
    x = tt.tensor([[1., 2.], [3., 4.], [5., 6.]])
    with pytest.warns(UserWarning, match="uint8 is now deprecated"):
        got = x[tt.tensor([1, 0, 1], dtype=tt.uint8)]
    np.testing.assert_array_equal(got.numpy(), [[1., 2.], [5., 6.]])


def test_a_graph_that_saved_nothing_runs_backward_again():
    x = tt.ones(3, requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2., 2., 2.])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_no_warning_for_boolean_masks():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tt.ones(3)[tt.tensor([True, False, True])]


@pytest.mark.parametrize("f", [
    lambda m: -m.tensor([True]), lambda m: m.tensor([True]) - m.tensor([False]),
    lambda m: m.tensor([1.5]) & 1, lambda m: m.tensor([1.5]) | m.tensor([1.0]),
    lambda m: m.bitwise_xor(m.tensor([1.5]), 1), lambda m: m.bitwise_not(m.tensor([1.5])),
], ids=["neg_bool", "sub_bool", "and_float", "or_float", "xor_float", "not_float"])
def test_unsupported_dtype_ops_raise_not_implemented_error(f):
    with pytest.raises(NotImplementedError) as theirs:
        pytorch(f)
    with pytest.raises(NotImplementedError) as ours:
        f(tt)
    assert str(ours.value).split("'")[-2:] == str(theirs.value).split("'")[-2:] or \
        str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("a,b", [(1, 0.), (1, 0), (True, False), (1.5, 2), (True, 3)])
def test_where_of_two_numbers(a, b):
    want = pytorch(lambda torch: torch.where(torch.tensor([True, False]), a, b))
    got = tt.where(tt.tensor([True, False]), a, b)
    assert got.tolist() == want.tolist() and got.dtype.name == want.dtype


# ---- the same classes by hand: the values PyTorch gives, written out


def test_two_norm_over_separate_dims_against_numpy():
    a = np.arange(24.).reshape(2, 3, 4)
    x = tt.tensor(a, requires_grad=True)
    y = x.norm(dim=(0, 2))
    want = np.sqrt((a * a).sum(axis=(0, 2)))
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), a / want[None, :, None], rtol=1e-12)


def test_in_place_float_into_int_is_refused_by_name():
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        tt.tensor([1, 2, 3]).add_(1.5)
    with pytest.raises(RuntimeError, match="result type Long can't be cast to the desired output type Bool"):
        tt.tensor([True, False]).add_(1)


def test_zero_gradients_where_pytorch_defines_them():
    x = tt.tensor([3., 3., 3.], requires_grad=True)
    x.std().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0., 0., 0.])
    x = tt.tensor([0., 1., -2., 0.], requires_grad=True)
    x.norm(0.5).backward()
    assert x.grad.numpy()[0] == 0 and x.grad.numpy()[3] == 0 and np.isfinite(x.grad.numpy()).all()
    a, b = tt.tensor([0.], requires_grad=True), tt.tensor([0.], requires_grad=True)
    tt.atan2(a, b).backward(tt.ones(1))
    assert a.grad.item() == 0 and b.grad.item() == 0


INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize("row, want", [  # PyTorch 2.14's gradients of cumprod(x).sum(), written out
    ([3.0, 0.0, INF], [1.0, INF, 0.0]),  # only the terms before the first zero reach x_0
    ([INF, 2.0, 0.0], [NAN, INF, INF]),  # (sum of out * g) / x: inf / inf
    ([INF, 2.0], [NAN, INF]),
    ([2.0, -INF, 0.0, 0.0], [-INF, NAN, -INF, 0.0]),
    ([0.0, INF, 2.0, 0.0, INF], [NAN, 0.0, 0.0, 0.0, 0.0]),
    ([2.0, 0.0, 3.0, 0.0, 5.0], [1.0, 8.0, 0.0, 0.0, 0.0]),
])
def test_cumprod_gradient_at_infinities_and_zeros_is_pytorchs(row, want):
    x = tt.tensor(row, dtype=tt.float64, requires_grad=True)
    x.cumprod(0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.array(want))
    def gradient(torch):
        t = torch.tensor(row, dtype=torch.float64, requires_grad=True)
        t.cumprod(0).sum().backward()
        return t.grad
    np.testing.assert_array_equal(pytorch(gradient).numpy(), np.array(want))  # the values written out are PyTorch's


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def test_cumsum_accumulates_as_pytorch(device):
    """PyTorch keeps a float32 running sum in float64 and a float16 one in float32, rounding
    each output: [1e8, 1, 1, -1e8] ends at 2 (a float32 running sum, or a tree of float32
    adds, ends at 0)."""
    out = tt.cumsum(tt.tensor([1e8, 1.0, 1.0, -1e8], device=device), 0)
    np.testing.assert_array_equal(out.cpu().numpy(), np.array([1e8, 1e8, 1e8, 2.0], np.float32))
    half = tt.cumsum(tt.tensor([2048.0, 1.0, 1.0, -2048.0], dtype=tt.float16, device=device), 0)
    np.testing.assert_array_equal(half.cpu().numpy(), np.array([2048, 2048, 2050, 2], np.float16))
    big = tt.tensor([[2 ** 62, 2 ** 62 - 1], [1, 1]], device=device).cumsum(1)  # int64: exact
    assert big.cpu().tolist() == [[2 ** 62, 2 ** 63 - 1], [1, 2]]
    x = tt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device=device, requires_grad=True)
    y = x.cumsum(1)
    assert y.grad_fn.name() == "CumsumBackward0"
    y.backward(tt.tensor([[1.0, 10.0, 100.0], [1.0, 1.0, 1.0]], device=device))
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [[111.0, 110.0, 100.0], [3.0, 2.0, 1.0]])


def test_logsumexp_is_one_entry_with_pytorchs_backward():
    x = tt.tensor([[0.0, np.log(3.0)], [-np.inf, -np.inf]], dtype=tt.float64, requires_grad=True)
    out = tt.logsumexp(x, 1)
    assert out.grad_fn.name() == "LogsumexpBackward0"
    assert out[1].item() == -np.inf  # a row of -inf stays -inf (its maximum shifts by 0)
    out.backward(tt.tensor([2.0, 1.0], dtype=tt.float64))
    np.testing.assert_allclose(x.grad.numpy()[0], [0.5, 1.5], rtol=1e-15)  # g * exp(x - out)
    assert np.isnan(x.grad.numpy()[1]).all()  # exp(-inf - -inf), as PyTorch's formula gives
    y = tt.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert tt.logsumexp(y, (0, 1), keepdim=True).shape == (1, 1)
