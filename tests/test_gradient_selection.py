"""Gradients that select rather than scale: where an op is flat (relu below 0, clamp
outside its bounds, the branch where() didn't take, maximum's loser, a piecewise-constant
op) the gradient is 0 even when the incoming gradient is inf or nan, and where it passes an
inf stays inf, as PyTorch's formulas give (a product with a 0/1 mask would give nan)."""
import numpy as np
import pytest

import tinytape
from pytorch_answers import pytorch

X = [-2., -0.5, 0., 0.5, 2., 1.0, -1.0]
G = [np.nan, np.inf, -np.inf, np.nan, np.inf, np.nan, np.inf]

CASES = {
    "relu": lambda m, x: x.relu(),
    "clamp": lambda m, x: x.clamp(min=-1, max=1),
    "clamp_min": lambda m, x: x.clamp(min=0),
    "clamp_max": lambda m, x: x.clamp(max=0),
    "clamp_tensor": lambda m, x: x.clamp(min=m.zeros_like(x), max=m.ones_like(x)),
    "maximum": lambda m, x: m.maximum(x, m.zeros_like(x)),
    "minimum": lambda m, x: m.minimum(x, m.zeros_like(x)),
    "where": lambda m, x: m.where(x > 0, x, x * 2),
    "masked_fill": lambda m, x: x.masked_fill(x > 0, 1.0),
    "max_all": lambda m, x: x.max().expand(7),
    "min_all": lambda m, x: x.min().expand(7),
    "leaky_relu": lambda m, x: m.nn.functional.leaky_relu(x, 0.1),
    "sign": lambda m, x: x.sign(),
    "floor": lambda m, x: x.floor(),
    "round": lambda m, x: x.round(),
    "pow0": lambda m, x: x.pow(0),
    "smooth_l1": lambda m, x: m.nn.functional.smooth_l1_loss(x, m.zeros_like(x), reduction="none"),
}

# what PyTorch gives, for a check that needs no PyTorch: relu passes inf/nan only where x > 0
RELU = [0., 0., 0., np.nan, np.inf, np.nan, 0.]


def _grad(m, f, x, g, device=None):
    xt = m.tensor(np.array(x, np.float32), requires_grad=True, **({"device": device} if device else {}))
    y = f(m, xt)
    gt = m.tensor(np.array(g[:y.numel()], np.float32).reshape(tuple(y.shape)), **({"device": device} if device else {}))
    y.backward(gt)
    return np.asarray(xt.grad.cpu().tolist(), np.float32)


def test_relu_keeps_inf_and_nan_gradients_out_where_it_is_flat():
    np.testing.assert_array_equal(_grad(tinytape, CASES["relu"], X, G), np.array(RELU, np.float32))


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
@pytest.mark.parametrize("name", sorted(CASES))
def test_inf_and_nan_gradients_as_pytorch(name, device):
    want = pytorch(lambda torch: _grad(torch, CASES[name], X, G))
    got = _grad(tinytape, CASES[name], X, G, device)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", ["max_all", "smooth_l1", "clamp", "relu"])
def test_nan_and_infinite_inputs_as_pytorch(name):
    """max() of a tensor holding nan gives its gradient to the nans; smooth_l1 is ±1 at ±inf."""
    x = [1., np.nan, 3., np.inf, -np.inf, np.nan, 0.]
    ones = [1.] * 7
    np.testing.assert_array_equal(_grad(tinytape, CASES[name], x, ones),
                                  pytorch(lambda torch: _grad(torch, CASES[name], x, ones)))


def test_second_derivatives_through_the_selections():
    """The selections are recorded ops: create_graph differentiates them (to zeros where flat)."""
    x = tinytape.tensor([-1., 0.5, 2.], requires_grad=True)
    y = (tinytape.maximum(x, tinytape.zeros(3)) ** 2 + x.clamp(min=0, max=1) ** 3).sum()
    (g,) = tinytape.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [0., 2 * 0.5 + 3 * 0.25, 4.])
    (h,) = tinytape.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [0., 2 + 6 * 0.5, 2.])


@pytest.mark.parametrize("dim", [(), 0, 1, (0, 1), -1])
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_share_ties_as_pytorch(name, dim):
    """Unlike max(), amax's gradient is a product with the mask of ties (PyTorch's
    scale_grad_by_count): a nan result gives nan."""
    xs = np.array([[1., 3., 3., np.nan], [2., 2., -1., 0.], [5., 1., 5., 5.]], np.float32)

    def reduced(m, xs):
        x = m.tensor(xs, requires_grad=True)
        y = getattr(x, name)(dim, keepdim=True)
        y.backward(m.full(tuple(y.shape), 2.0))
        return [np.asarray(y.tolist()), np.asarray(x.grad.tolist()), type(y.grad_fn).__name__]
    got, want = reduced(tinytape, xs), pytorch(reduced, xs)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert got[2] == want[2]


# PyTorch 2.14's gradients for X and G above, written out (the check without PyTorch)
WRITTEN = {
    "clamp": [0., np.inf, -np.inf, np.nan, 0., 0., 0.],
    "clamp_min": [0., 0., 0., np.nan, np.inf, np.nan, 0.],
    "maximum": [0., 0., -np.inf, np.nan, np.inf, np.nan, 0.],
    "where": [np.nan, np.inf, -np.inf, np.nan, np.inf, np.nan, np.inf],
    "masked_fill": [np.nan, np.inf, -np.inf, 0., 0., 0., np.inf],
    "sign": [0.] * 7,
}


@pytest.mark.parametrize("name", sorted(WRITTEN))
def test_pytorch_values_written_out(name):
    np.testing.assert_array_equal(_grad(tinytape, CASES[name], X, G), np.array(WRITTEN[name], np.float32))
