"""mish, gelu(approximate='tanh'), silu, softplus and the elu family bit for bit PyTorch's on the
CPU, values and gradients: SLEEF's tanh (``backend/sleef_tanh.py``) and exp in PyTorch's vector
loops, the C library's in its scalar loop (the last ``n % 32`` float32 / ``n % 16`` float64
elements of each inner loop, every element of an inner loop over a stepped operand, the ends of
the threads' parts); a gradient kernel's inner loops are those of its two operands, the incoming
gradient and the input, laid out alike or not.  Eager and compiled (fused loops) alike."""
import numba
import numpy as np
import pytest

import tinytape
from helpers import assert_same, check_grad
from pytorch_answers import pytorch
from tinytape.autograd import grad
from tinytape.backend.layout import GELU_THREADING, GRAIN_SIZE

SIZES = (1, 2, 7, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 1000, 1023)
DTYPES = ("float32", "float64")

OPS = {
    "mish": lambda t, x: t.nn.functional.mish(x),
    "gelu_tanh": lambda t, x: t.nn.functional.gelu(x, approximate="tanh"),
    "silu": lambda t, x: t.nn.functional.silu(x),
    "softplus": lambda t, x: t.nn.functional.softplus(x),
    # (beta x computed apart: the kernels see its contiguous result where PyTorch's sees x, so
    # only contiguous operands are PyTorch's bit for bit)
    "softplus_beta": lambda t, x: t.nn.functional.softplus(x, beta=2.0, threshold=3.0),
    "elu": lambda t, x: t.nn.functional.elu(x),
    "elu_alpha": lambda t, x: t.nn.functional.elu(x, alpha=0.7),
    "selu": lambda t, x: t.nn.functional.selu(x),
}
MODULES = {"mish": lambda t: t.nn.Mish(), "gelu_tanh": lambda t: t.nn.GELU(approximate="tanh")}

LAYOUTS = {  # views of a (13, 67) tensor
    "contiguous": lambda x: x,
    "transposed": lambda x: x.t(),
    "narrow": lambda x: x[:, :45],
    "stepped": lambda x: x[:, ::2],
    "broadcast_row": lambda x: x[:1].expand(5, 67),
    "number": lambda x: x[2, 3],
    "permuted_3d": lambda x: x[:, :48].contiguous().reshape(13, 16, 3).permute(2, 0, 1),
}


def _values(t, shape, dtype, seed):
    t.manual_seed(seed)
    return t.randn(*shape, dtype=getattr(t, dtype)) * 6  # (softplus: some beyond its threshold of 20)


def _with_gradient(t, name, x, gradient_layout="follows", op=None):
    """The op's values and its gradient against random weights, laid out as the values are
    (``y * 0 + w`` follows ``y``'s memory order: a network's backward pass) or C-contiguous
    whatever the values' order (the gradient kernel's operands then step differently)."""
    x = x.detach().requires_grad_()
    y = (op or OPS[name])(t, x)
    t.manual_seed(99)
    w = t.randn(tuple(y.shape), dtype=y.dtype).to(y.device)
    weights = y.detach() * 0 + w if gradient_layout == "follows" else w
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


@pytest.mark.parametrize("gradient_layout", ["follows", "contiguous"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", [name for name in OPS if name != "softplus_beta"])
def test_every_layout_bitwise(name, dtype, layout, gradient_layout):
    def run(t):
        return _with_gradient(t, name, LAYOUTS[layout](_values(t, (13, 67), dtype, 3)), gradient_layout)
    assert_same(run(tinytape), pytorch(run))


@pytest.mark.parametrize("name", list(MODULES))
def test_modules_bitwise(name):
    def run(t):
        module = MODULES[name](t)
        return [r for dtype in DTYPES for x in (_values(t, (7, 45), dtype, 5), _values(t, (45, 7), dtype, 6).t())
                for r in _with_gradient(t, name, x, op=lambda t, x: module(x))]
    assert_same(run(tinytape), pytorch(run))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", ["mish", "gelu_tanh", "silu", "softplus", "elu"])
def test_thread_parts_above_the_grain_bitwise(name, threads, monkeypatch):
    """Above ``GRAIN_SIZE`` elements (gelu: above ``GELU_THREADING``, in equal parts) each of
    PyTorch's threads runs its part as an inner loop of its own, with a scalar end; the
    gradient kernels too (the answer depends on the thread count: it is set on both sides)."""
    def run(t):
        if t is not tinytape:
            t.set_num_threads(threads)
        sizes = (GELU_THREADING + 1, 20001, GRAIN_SIZE + 17, 70001)
        return [r for n in sizes for r in _with_gradient(t, name, _values(t, (n,), "float32", n))]
    monkeypatch.setattr(numba, "get_num_threads", lambda: threads)  # the backend's thread count: the split alone
    assert_same(run(tinytape), pytorch(run))


# ---- compiled: the fused loops split where the eager kernels do


def _compiled_case(name, view):
    def f(x, w):
        y = OPS[name](tinytape, view(x) * w[0])
        z = OPS[name](tinytape, view(x))  # the view itself (a strided operand's inner loops)
        out = y.sum() + z.sum() + (y * y).sum()
        return (y.detach(), z.detach()) + grad(out, (x, w))
    return f


COMPILED = [("plain", (5, 37), lambda x: x), ("stepped", (6, 40), lambda x: x[:, ::2]),
            ("transposed", (9, 35), lambda x: x.t()), ("vector", (1023,), lambda x: x)]


@pytest.mark.parametrize("case", COMPILED, ids=[c[0] for c in COMPILED])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["mish", "gelu_tanh", "silu", "softplus", "elu_alpha"])
def test_compiled_equals_eager_bitwise(name, dtype, case):
    _, shape, view = case
    f = _compiled_case(name, view)
    compiled = tinytape.compile(f, fullgraph=True)
    for seed in range(3):  # the first call traces, the others replay
        rng = np.random.default_rng(seed)
        x = tinytape.tensor(rng.standard_normal(shape).astype(dtype) * 6, requires_grad=True)
        w = tinytape.tensor(rng.standard_normal(3).astype(dtype), requires_grad=True)
        for got, want in zip(compiled(x, w), f(x, w)):
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    entry = next(iter(compiled.programs.values()))[0]
    assert entry.kind == "fused" and "binary_scalar_loop_" in entry.source


def test_compiled_equals_pytorch_bitwise():
    def run(t):
        t.manual_seed(7)
        x = (t.randn(5, 37) * 6).requires_grad_()
        y = [t.nn.functional.mish(x), t.nn.functional.gelu(x[:, 1:], approximate="tanh"),
             t.nn.functional.silu(x.t())]
        differentiate = grad if t is tinytape else t.autograd.grad
        return [v.detach() for v in y] + list(differentiate(sum((v * v).sum() for v in y), x))

    def step(x):
        y = [tinytape.nn.functional.mish(x), tinytape.nn.functional.gelu(x[:, 1:], approximate="tanh"),
             tinytape.nn.functional.silu(x.t())]
        return [v.detach() for v in y] + list(grad(sum((v * v).sum() for v in y), x))
    compiled = tinytape.compile(step)
    tinytape.manual_seed(7)
    x = (tinytape.randn(5, 37) * 6).requires_grad_()
    theirs = pytorch(run)
    for _ in range(2):
        assert_same(compiled(x), theirs)


@pytest.mark.parametrize("name", ["mish", "gelu_tanh", "softplus_beta", "elu_alpha", "selu"])
def test_gradcheck(name):
    a = np.random.default_rng(len(name)).uniform(-3, 3, size=(3, 4))
    a[np.abs(a) < 0.05] = 0.3  # (elu: not at its kink)
    check_grad(lambda x: OPS[name](tinytape, x), a, second_order=True, atol=1e-4)


def test_sleef_tanh_in_python_equals_compiled():
    """The port runs as plain Python too (numpy scalars round as float32 arithmetic does): the
    same bits as the compiled kernels', edge values included."""
    from tinytape.backend.sleef_tanh import tanhd_u10, tanhf_u10

    @numba.njit
    def compiled_f32(x, out):
        for i in range(x.size):
            out[i] = tanhf_u10(x[i])

    @numba.njit
    def compiled_f64(x, out):
        for i in range(x.size):
            out[i] = tanhd_u10(x[i])
    rng = np.random.default_rng(0)
    edges = [0.0, -0.0, 1e-30, -1e-30, 0.3, 8.664339742, 8.6643, 9.0, 18.714973875, 19.0, np.inf, -np.inf, np.nan]
    for dtype, f, compiled in ((np.float32, tanhf_u10, compiled_f32), (np.float64, tanhd_u10, compiled_f64)):
        x = np.concatenate([rng.standard_normal(200) * s for s in (0.01, 1.0, 6.0)] + [edges]).astype(dtype)
        out = np.empty_like(x)
        compiled(x, out)
        python = np.array([f(v) for v in x], dtype)
        np.testing.assert_array_equal(python.view(np.uint8), out.view(np.uint8))
        # within SLEEF's 1 ulp of the exact value (float64's tanh: within an ulp itself)
        np.testing.assert_allclose(out, np.tanh(x.astype(np.float64)), rtol=2 * np.finfo(dtype).eps, atol=0,
                                   equal_nan=True)


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["mish", "gelu_tanh", "silu", "softplus", "elu_alpha"])
def test_cuda_values_and_gradients_close_to_pytorch(name):
    """The CUDA kernels compute the same formulas with CUDA's math library (PyTorch's CUDA
    kernels do likewise): close, not bitwise."""
    def run(t, device="cpu"):
        x = _values(t, (3, 17), "float64", 4).to(device)
        return [r.cpu() for r in _with_gradient(t, name, x)]
    for got, want in zip(run(tinytape, "cuda"), pytorch(run)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)
