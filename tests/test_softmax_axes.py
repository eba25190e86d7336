"""softmax / log_softmax over a dimension other than the last, and their gradients: PyTorch's
CPU kernels' bits (``backend/cpu/softmax_inner.py``), eager and compiled."""
import numpy as np
import pytest

import tinytape as tt
from helpers import assert_same, check_grad
from pytorch_answers import pytorch

# (shape, dim): vectors and tails of both widths, a chunk boundary for log_softmax, inner 1
CASES = [((3, 7, 5), 1), ((2, 40, 37), 1), ((50, 20), 0), ((4, 33, 3, 11), -3), ((17, 300), 0),
         ((6, 5, 40), 0), ((2, 3, 1), 1), ((1, 5, 6600), 1), ((3, 4, 40), 1)]


def _inputs(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 3).astype(dtype), rng.standard_normal(shape).astype(dtype)


@pytest.fixture(autouse=True)
def two_threads():
    """PyTorch's softmax forward splits positions between its threads (the answers were
    recorded with 2): tinytape's kernel follows its own thread count, set to 2 here."""
    before = tt.get_num_threads()
    tt.set_num_threads(2)
    yield
    tt.set_num_threads(before)


def _forward_and_gradient(lib, x, g, dim, fn):
    if lib is not tt:
        lib.set_num_threads(2)
    t = lib.tensor(x, requires_grad=True)
    y = getattr(lib, fn)(t, dim)
    (gx,) = lib.autograd.grad(y, t, lib.tensor(g))
    return y, gx


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,dim", CASES)
def test_matches_pytorch_bit_for_bit(shape, dim, dtype, fn):
    x, g = _inputs(shape, dtype, len(shape) * 100 + shape[-1])
    ours = _forward_and_gradient(tt, x, g, dim, fn)
    assert_same(ours, pytorch(lambda torch, x, g: _forward_and_gradient(torch, x, g, dim, fn), x, g))


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_non_contiguous_input_and_special_values(fn):
    x, g = _inputs((6, 20, 18), "float32", 7)
    x[2, 6, 4], x[0, 10, 17], x[4, 2, 1], x[1, 4, 0] = np.nan, np.inf, -np.inf, np.nan  # vectors and tails

    def run(lib, x, g):
        if lib is not tt:
            lib.set_num_threads(2)
        base = lib.tensor(x, requires_grad=True)
        y = getattr(lib, fn)(base.transpose(0, 1)[::2], 1)  # (10, 6, 18), strided
        return y, lib.autograd.grad(y, base, lib.tensor(g.transpose(1, 0, 2)[:10]))[0]

    assert_same(run(tt, x, g), pytorch(run, x, g))


@pytest.mark.parametrize("fn", [tt.softmax, tt.log_softmax])
def test_gradients_match_finite_differences(fn):
    x = np.random.default_rng(3).standard_normal((3, 4, 18))
    check_grad(lambda t: fn(t, 1), x, second_order=True)
    check_grad(lambda t: fn(t, 0), x)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_compiled_equals_eager(fn):
    w = tt.tensor(np.random.default_rng(5).standard_normal((6, 18)).astype(np.float32), requires_grad=True)

    def step(x):
        y = getattr(tt, fn)(x * w, 0)
        (y * y).sum().backward()
        return y

    compiled = tt.compile(step)
    for seed in range(3):
        x = tt.tensor(np.random.default_rng(seed).standard_normal((6, 18)).astype(np.float32))
        w.grad = None
        eager = step(x)
        eager_grad = w.grad.clone()
        w.grad = None
        assert tt.equal(compiled(x), eager) and tt.equal(w.grad, eager_grad)


@pytest.mark.gpu
@pytest.mark.parametrize("fn", [tt.softmax, tt.log_softmax])
def test_on_the_gpu(fn):
    x = np.random.default_rng(4).standard_normal((3, 5, 4))
    t = tt.tensor(x, device="cuda", requires_grad=True)
    y = fn(t, 1)
    y.backward(tt.ones_like(y))
    c = tt.tensor(x, requires_grad=True)
    yc = fn(c, 1)
    yc.backward(tt.ones_like(yc))
    np.testing.assert_allclose(y.cpu().detach().numpy(), yc.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(t.grad.cpu().numpy(), c.grad.numpy(), rtol=1e-10, atol=1e-12)
