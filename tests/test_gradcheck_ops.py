"""Every differentiable op against central finite differences (float64), over drawn
shapes, broadcast pairs and transposed (non-contiguous) inputs."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import check_grad
from strategies import arrays, broadcast_pair, leaf, nonempty_shapes, shapes

import tinytape as tt
import tinytape.nn.functional as F
from tinytape.autograd import gradcheck

UNARY = {
    "neg": (lambda x: -x, None, None),
    "exp": (tt.exp, None, None),
    "log": (tt.log, (0.2, 3.0), None),
    "sqrt": (tt.sqrt, (0.2, 3.0), None),
    "abs": (tt.abs, None, 0.0),
    "sin": (tt.sin, None, None),
    "cos": (tt.cos, None, None),
    "tanh": (tt.tanh, None, None),
    "sigmoid": (tt.sigmoid, None, None),
    "relu": (tt.relu, None, 0.0),
    "clamp_min": (lambda x: x.clamp(min=-0.5), None, -0.5),
    "clamp_max": (lambda x: x.clamp(max=0.5), None, 0.5),
    "clamp": (lambda x: x.clamp(-0.5, 0.5) + x.clamp(-1.5, -0.7), None, None),
    "pow_scalar": (lambda x: x ** 3, None, None),
    "pow_half": (lambda x: x.pow(0.5), (0.2, 3.0), None),
    "rpow": (lambda x: 2 ** x, None, None),
    "rdiv": (lambda x: 1 / x, (0.3, 2.0), None),
    "rsub": (lambda x: 3 - x, None, None),
    "softmax": (lambda x: F.softmax(x, -1), None, None),
    "log_softmax": (lambda x: F.log_softmax(x, 0), None, None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary(name, data):
    fn, bounds, kink = UNARY[name]
    shape = data.draw(nonempty_shapes if "softmax" in name else shapes)
    low, high = bounds or (-2.0, 2.0)
    a = data.draw(arrays(shape, low, high, away_from=kink))
    if name == "clamp":
        for k in (-0.5, 0.5, -1.5, -0.7):
            a[np.abs(a - k) < 0.1] = k + 0.15
    transposed = data.draw(st.booleans())
    x, view = leaf(a, transposed)
    assert gradcheck(lambda _: fn(view), (x,))


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a.abs().add(0.5) ** b,
    "maximum": tt.maximum,
    "minimum": tt.minimum,
    "add_alpha": lambda a, b: tt.add(a, b, alpha=2.5),
    "where": lambda a, b: tt.where(a > 0, a, b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_broadcast(name, data):
    sa, sb = data.draw(broadcast_pair())
    a = data.draw(arrays(sa))
    b = data.draw(arrays(sb, 0.5, 2.0) if name == "div" else arrays(sb))
    if name in ("maximum", "minimum"):
        b = b + 0.3  # ties are a kink (skipped below)
    if name == "where":
        a[np.abs(a) < 0.1] = 0.3
    ta, va = leaf(a, data.draw(st.booleans()))
    tb, vb = leaf(b, data.draw(st.booleans()))
    fn = BINARY[name]
    if name in ("maximum", "minimum"):
        diff = np.broadcast_to(a, np.broadcast_shapes(sa, sb)) - np.broadcast_to(b, np.broadcast_shapes(sa, sb))
        if np.any(np.abs(diff) < 1e-3):
            return  # a tie: the derivative is not defined there
    assert gradcheck(lambda *_: fn(va, vb), (ta, tb))


def test_scalar_operand_and_mixed_broadcast():
    check_grad(lambda x: 2.0 * x - x / 4 + 1, np.random.default_rng(0).normal(size=(3,)))


REDUCTIONS = {
    "sum": lambda x: x.sum(),
    "sum_dim": lambda x: x.sum(0),
    "sum_keepdim": lambda x: x.sum(-1, keepdim=True),
    "sum_tuple": lambda x: x.sum((0, -1) if x.ndim > 1 else (0,)),  # a dim twice is an error, as in PyTorch
    "mean": lambda x: x.mean(),
    "mean_dim": lambda x: x.mean(-1),
    "norm": lambda x: x.norm(),
    "norm_dim": lambda x: x.norm(dim=0),
    "norm_p1": lambda x: x.norm(p=1),
    "norm_p3": lambda x: x.norm(p=3),
    "max": lambda x: x.max(),
    "min": lambda x: x.min(),
    "max_dim": lambda x: x.max(0)[0],
    "min_dim_keep": lambda x: x.min(-1, keepdim=True).values,
    "amax": lambda x: x.amax(),
    "amax_dim": lambda x: x.amax(0),
    "amin_dims_keep": lambda x: tt.amin(x, (0, -1) if x.ndim > 1 else (0,), keepdim=True),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_reduction(name, data):
    shape = data.draw(nonempty_shapes)
    a = data.draw(arrays(shape, away_from=0.0))
    if name.startswith(("max", "min", "amax", "amin")):
        # distinct values: the max is a kink where two elements tie
        a = np.random.default_rng(1).permutation(np.linspace(-2, 2, a.size)).reshape(shape)
    x, view = leaf(a, data.draw(st.booleans()))
    assert gradcheck(lambda _: REDUCTIONS[name](view), (x,))


@given(data=st.data())
def test_matmul_family(data):
    n, k, m, batch = (data.draw(st.integers(1, 4)) for _ in range(4))
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    cases = [
        ((n, k), (k, m)),           # mm
        ((k,), (k,)),               # dot
        ((n, k), (k,)),             # mv
        ((k,), (k, m)),             # vector @ matrix
        ((batch, n, k), (k, m)),    # batched with broadcast
        ((batch, n, k), (batch, k, m)),
        ((1, n, k), (batch, k, m)),
    ]
    for sa, sb in cases:
        ta, va = leaf(rng.normal(size=sa), data.draw(st.booleans()))
        tb, vb = leaf(rng.normal(size=sb), data.draw(st.booleans()))
        assert gradcheck(lambda *_: tt.matmul(va, vb), (ta, tb)), (sa, sb)
    ta, va = leaf(rng.normal(size=(n, k)), True)
    tb, vb = leaf(rng.normal(size=(k, m)), True)
    assert gradcheck(lambda *_: va.mm(vb) + (va @ vb), (ta, tb))


SHAPE_OPS = {
    "reshape": lambda x: x.reshape(-1),
    "view": lambda x: x.contiguous().view(x.numel()),
    "flatten": lambda x: x.flatten(),
    "unsqueeze": lambda x: x.unsqueeze(0) * x.unsqueeze(-1).sum(),
    "squeeze": lambda x: x.unsqueeze(1).squeeze(1).squeeze(),
    "expand": lambda x: x.unsqueeze(0).expand(3, *x.shape),
    "permute": lambda x: x.permute(*reversed(range(x.ndim))),
    "transpose": lambda x: x.transpose(0, -1) * 2,
    "t": lambda x: x.reshape(x.shape[0], -1).t(),
    "T": lambda x: x.T,
    "clone": lambda x: x.clone() * x,
    "index_int": lambda x: x[0],
    "index_slice": lambda x: x[1:] * 3 if x.shape[0] > 1 else x[:],
    "index_step": lambda x: x[::2],
    "index_none_ellipsis": lambda x: x[None, ..., 0],
    "index_list_dupes": lambda x: x[[0, 0, -1]],
    "index_tensor": lambda x: x[tt.tensor([0, 0])],
    "index_mask": lambda x: x[x > 0.5],
    "index_mixed": lambda x: x[..., [0, 0]],
    "stack": lambda x: tt.stack([x, 2 * x], 0),
    "cat": lambda x: tt.cat([x, x * x], -1),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
@given(data=st.data())
def test_shape_and_index(name, data):
    shape = data.draw(nonempty_shapes)
    a = data.draw(arrays(shape))
    a[np.abs(a - 0.5) < 0.05] = 0.6
    x, view = leaf(a, data.draw(st.booleans()))
    assert gradcheck(lambda _: SHAPE_OPS[name](view), (x,))


LOSSES = {
    "mse": lambda x, y: F.mse_loss(x, y),
    "mse_sum": lambda x, y: F.mse_loss(x, y, reduction="sum"),
    "mse_none": lambda x, y: F.mse_loss(x, y, reduction="none"),
    "bce": lambda x, y: F.binary_cross_entropy(x.sigmoid(), y.sigmoid()),
    "bce_logits": lambda x, y: F.binary_cross_entropy_with_logits(x, y.sigmoid()),
    "bce_logits_none": lambda x, y: F.binary_cross_entropy_with_logits(x, y.sigmoid(), reduction="none"),
    "bce_logits_pos_weight": lambda x, y: F.binary_cross_entropy_with_logits(
        x, y.sigmoid(), pos_weight=tt.tensor(2.0, dtype=tt.float64)),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
@given(data=st.data())
def test_pointwise_losses(name, data):
    shape = data.draw(nonempty_shapes)
    a, b = data.draw(arrays(shape)), data.draw(arrays(shape))
    x, vx = leaf(a, data.draw(st.booleans()))
    y, vy = leaf(b)
    assert gradcheck(lambda *_: LOSSES[name](vx, vy), (x, y))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_and_nll(reduction):
    rng = np.random.default_rng(3)
    target = tt.tensor([2, 0, 1, 2, -100])
    weight = tt.tensor([0.5, 1.0, 2.0], dtype=tt.float64)
    check_grad(lambda x: F.cross_entropy(x, target, reduction=reduction), rng.normal(size=(5, 3)))
    check_grad(lambda x: F.cross_entropy(x, target, weight=weight, reduction=reduction), rng.normal(size=(5, 3)))
    check_grad(lambda x: F.nll_loss(F.log_softmax(x, 1), target, reduction=reduction), rng.normal(size=(5, 3)))
    check_grad(lambda x: F.cross_entropy(x, tt.tensor([[0, 1], [2, 2]]), reduction=reduction),
               rng.normal(size=(2, 3, 2)))
    probs = F.softmax(tt.tensor(rng.normal(size=(4, 3))), 1)
    check_grad(lambda x: F.cross_entropy(x, probs, reduction=reduction), rng.normal(size=(4, 3)))


def test_casts_and_to_dtype():
    # through float32 and back: linear, so a coarse step is exact up to float32 rounding
    check_grad(lambda x: x.float().double() * 2, np.random.default_rng(0).normal(size=(3,)), eps=1e-2, atol=1e-4)


@pytest.mark.parametrize("fn", [
    lambda x: (x ** 3).sum(),
    lambda x: (x.tanh() * x.sigmoid()).sum(),
    lambda x: x.exp().log().mul(x).sum(),
    lambda x: (x.mm(x.t()) ** 2).sum(),
    lambda x: F.log_softmax(x, 1).sum(),
    lambda x: F.softmax(x, 0).pow(2).sum(),
    lambda x: x.norm(),
    lambda x: (x.sin() * x.cos()).sum() + x.abs().sum(),
    lambda x: F.binary_cross_entropy_with_logits(x, tt.full_like(x, 0.3)),
])
def test_second_order(fn):
    a = np.random.default_rng(5).uniform(0.3, 1.5, size=(3, 3))
    check_grad(fn, a, second_order=True, atol=1e-4)


# ---------------------------------------------------------------- the same tables on CUDA
# numba's simulator runs every CUDA thread as a Python thread (a gradcheck of one small
# reduction takes seconds there), so on CUDA each row is checked once, on a small fixed
# example, rather than over drawn shapes.


def _fixed(shape, low=-2.0, high=2.0, away_from=None, seed=0):
    a = np.random.default_rng(seed).uniform(low, high, size=shape)
    if away_from is not None:
        a[np.abs(a - away_from) < 0.1] = away_from + 0.15
    return a


def _on_cuda(fn):
    return lambda *xs: fn(*(x.to("cuda") for x in xs))


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_on_cuda(name):
    fn, bounds, kink = UNARY[name]
    a = _fixed((2,), *(bounds or (-2.0, 2.0)), away_from=kink)
    if name == "clamp":
        a = np.array([-1.2, 0.2])
    check_grad(_on_cuda(fn), a)


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_broadcast_on_cuda(name):
    a, b = _fixed((2, 1), away_from=0.0), _fixed((2,), 0.5, 2.0, seed=1)  # broadcast to (2, 2)
    check_grad(_on_cuda(BINARY[name]), a, b)


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_on_cuda(name):
    check_grad(_on_cuda(REDUCTIONS[name]), np.array([[-1.5, 0.7], [0.4, -0.9]]))


@pytest.mark.gpu
def test_matmul_family_on_cuda():
    rng = np.random.default_rng(2)
    for sa, sb in (((2, 2), (2, 2)), ((2,), (2,)), ((2, 1, 2), (2, 2))):
        check_grad(_on_cuda(tt.matmul), rng.normal(size=sa), rng.normal(size=sb))
    check_grad(_on_cuda(lambda a, b: a.t().mm(b.t())), rng.normal(size=(2, 2)), rng.normal(size=(2, 2)))


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_and_index_on_cuda(name):
    check_grad(_on_cuda(SHAPE_OPS[name]), np.array([[-1.5, 0.7], [0.4, -0.9]]))


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_pointwise_losses_on_cuda(name):
    fn = LOSSES[name]
    if name == "bce_logits_pos_weight":  # its pos_weight is made on the CPU
        fn = lambda x, y: F.binary_cross_entropy_with_logits(  # noqa: E731
            x, y.sigmoid(), pos_weight=tt.tensor(2.0, dtype=tt.float64, device="cuda"))
    check_grad(_on_cuda(fn), _fixed((2,)), _fixed((2,), seed=1))
