"""sigmoid, silu, softplus, elu and selu bit for bit PyTorch's, the elements its CPU kernel computes in its
scalar loop included: the last ``n % 32`` (float32; ``n % 16`` float64) of each inner loop of
TensorIterator, every element of an inner loop over a stepped operand, and the ends of the
threads' parts above ``GRAIN_SIZE`` elements; eager and compiled (fused loops) alike."""
import numba
import numpy as np
import pytest

import tinytape
from helpers import assert_same
from pytorch_answers import pytorch
from tinytape.autograd import grad
from tinytape.backend.layout import GRAIN_SIZE, scalar_loop_layout

SIZES = (1, 2, 7, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 1000, 1023)
DTYPES = ("float32", "float64")

OPS = {
    "sigmoid": lambda t, x: t.sigmoid(x),
    "silu": lambda t, x: t.nn.functional.silu(x),
    "softplus": lambda t, x: t.nn.functional.softplus(x),
    "elu": lambda t, x: t.nn.functional.elu(x),
    "elu_alpha": lambda t, x: t.nn.functional.elu(x, alpha=0.7),
    "selu": lambda t, x: t.nn.functional.selu(x),
}
# the ops whose gradient's kernel has the same two loops (softplus's gradient formula is another matter)
WITH_GRADIENT = ("sigmoid", "silu")

LAYOUTS = {  # views of a (13, 67) tensor
    "contiguous": lambda x: x,
    "transposed": lambda x: x.t(),
    "narrow": lambda x: x[:, :45],
    "offset_narrow": lambda x: x[1:, 3:],
    "stepped": lambda x: x[:, ::2],
    "broadcast_row": lambda x: x[:1].expand(5, 67),
    "broadcast_column": lambda x: x[:, :1].expand(13, 37),
    "number": lambda x: x[2, 3],
    "permuted_3d": lambda x: x[:, :48].contiguous().reshape(13, 16, 3).permute(2, 0, 1),
    "narrow_3d": lambda x: x[:, :48].contiguous().reshape(13, 16, 3)[:, 1:, :],
}


def _values(t, shape, dtype, seed):
    t.manual_seed(seed)
    x = t.randn(*shape, dtype=getattr(t, dtype)) * 6  # (softplus: some beyond its threshold of 20)
    return x


def _with_gradient(t, name, x):
    """The op's values and, for ``WITH_GRADIENT``, its gradient against random weights laid out
    as the values are (``y * 0 + w`` follows ``y``'s memory order), so that PyTorch's gradient
    kernel sees the gradient and the input in one order, as in a network's backward pass."""
    x = x.detach().requires_grad_()
    y = OPS[name](t, x)
    if name not in WITH_GRADIENT:
        return [y.detach()]
    t.manual_seed(99)
    weights = y.detach() * 0 + t.randn(tuple(y.shape), dtype=y.dtype)
    differentiate = grad if t is tinytape else t.autograd.grad
    return [y.detach(), differentiate((y * weights).sum(), x)[0]]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(OPS))
def test_every_size_bitwise(name, dtype):
    def run(t):
        t.set_num_threads(1)
        return [r for n in SIZES for r in _with_gradient(t, name, _values(t, (n,), dtype, n))]
    threads = tinytape.get_num_threads()
    try:
        assert_same(run(tinytape), pytorch(run))
    finally:
        tinytape.set_num_threads(threads)


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(OPS))
def test_every_layout_bitwise(name, dtype, layout):
    def run(t):
        return _with_gradient(t, name, LAYOUTS[layout](_values(t, (13, 67), dtype, 3)))
    assert_same(run(tinytape), pytorch(run))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", list(OPS))
def test_thread_parts_above_the_grain_bitwise(name, threads, monkeypatch):
    """Above ``GRAIN_SIZE`` elements each of PyTorch's threads runs its part as an inner loop of
    its own, with a scalar end (the answer depends on the thread count: it is set on both sides)."""
    def run(t):
        if t is not tinytape:
            t.set_num_threads(threads)
        out = [OPS[name](t, _values(t, (n,), "float32", n)) for n in (GRAIN_SIZE + 17, 70001, 100003)]
        out.append(OPS[name](t, _values(t, (301, 300), "float32", 5)[:, 1:]))  # rows cut by the parts
        return out
    monkeypatch.setattr(numba, "get_num_threads", lambda: threads)  # the backend's thread count: the split alone
    assert_same(run(tinytape), pytorch(run))


def test_scalar_loop_layout_follows_tensor_iterator():
    f32 = 4
    assert scalar_loop_layout((13, 67), (268, 4), f32, 1) == (871, 871, 32)  # coalesced into one loop
    assert scalar_loop_layout((13, 45), (268, 4), f32, 1) == (45, 585, 32)  # a narrow: loops of a row
    assert scalar_loop_layout((13, 34), (268, 8), f32, 1) == (34, 442, 0)  # stepped: all scalar
    assert scalar_loop_layout((5, 67), (0, 4), f32, 1) == (67, 335, 32)  # broadcast rows
    assert scalar_loop_layout((1, 40017), (0, 4), f32, 2) == (40017, 20009, 32)
    assert scalar_loop_layout((40017,), (4,), f32, 1) == (40017, 40017, 32)
    assert scalar_loop_layout((), (), 8, 2) == (1, 1, 16)


# ---- compiled: the fused loops split where the eager kernel does


def _compiled_case(name, dtype, shape, view):
    def f(x, w):
        y = OPS[name](tinytape, view(x) * w[0])
        z = OPS[name](tinytape, view(x))  # the view itself (a strided operand's inner loops)
        if name not in WITH_GRADIENT:
            return y.detach(), z.detach()
        out = y.sum() + z.sum() + (y * y).sum()
        return (y.detach(), z.detach()) + grad(out, (x, w))
    return f


COMPILED = [("plain", (5, 37), lambda x: x), ("narrow", (7, 50), lambda x: x[:, 1:]),
            ("stepped", (6, 40), lambda x: x[:, ::2]), ("transposed", (9, 35), lambda x: x.t()),
            ("3d", (2, 3, 33), lambda x: x), ("vector", (1023,), lambda x: x)]


@pytest.mark.parametrize("case", COMPILED, ids=[c[0] for c in COMPILED])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(OPS))
def test_compiled_equals_eager_bitwise(name, dtype, case):
    _, shape, view = case
    f = _compiled_case(name, dtype, shape, view)
    compiled = tinytape.compile(f, fullgraph=True)
    for seed in range(3):  # the first call traces, the others replay
        rng = np.random.default_rng(seed)
        x = tinytape.tensor(rng.standard_normal(shape).astype(dtype) * 6, requires_grad=True)
        w = tinytape.tensor(rng.standard_normal(3).astype(dtype), requires_grad=True)
        for got, want in zip(compiled(x, w), f(x, w)):
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    entry = next(iter(compiled.programs.values()))[0]
    assert entry.kind == "fused" and "unary_scalar_loop_" in entry.source


def test_compiled_sigmoid_equals_pytorch_bitwise():
    def run(t):
        t.manual_seed(7)
        x = t.randn(5, 37) * 6
        return [t.sigmoid(x), t.nn.functional.silu(x[:, 1:]), t.nn.functional.softplus(x.t())]
    compiled = tinytape.compile(lambda x: [
        tinytape.sigmoid(x), tinytape.nn.functional.silu(x[:, 1:]), tinytape.nn.functional.softplus(x.t())])
    tinytape.manual_seed(7)
    x = tinytape.randn(5, 37) * 6
    theirs = pytorch(run)
    for _ in range(2):
        assert_same(compiled(x), theirs)
