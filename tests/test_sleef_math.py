"""exp, log, tanh, sigmoid, log1p, expm1 and the activations built on them, against PyTorch's
CPU kernels bit for bit (``backend/sleef.py``), in eager and compiled code alike.

PyTorch's answers are recorded as the result's bytes (base64), for a few hundred inputs per
function and dtype: special values, random bit patterns (every exponent) and ordinary
magnitudes.  The counts are multiples of 32, so every element goes through PyTorch's
vectorised loop (its last ``n % 32`` float32 elements take a scalar C-library path in some
kernels: sigmoid, silu, softplus, logsigmoid)."""
import base64
import math

import numpy as np
import pytest

import tinytape as tt
import tinytape.nn.functional as F
from tinytape.backend import sleef
from tinytape.autograd import grad
from pytorch_answers import pytorch

DTYPES = ("float32", "float64")


def _inputs(name, dtype, n=448):
    dt = np.dtype(dtype)
    fi = np.finfo(dt)
    special = [0.0, -0.0, math.inf, -math.inf, math.nan, fi.tiny, -fi.tiny, fi.smallest_subnormal,
               -fi.smallest_subnormal, fi.max, -fi.max, 1.0, -1.0, 0.5, -0.5, 1e-8, -1e-8, 20.0, 20.5, -20.0,
               88.72283, 88.7229, -87.3365, -103.9, -104.5, 100.5, 709.78, 709.79, -745.1, -1000.5, -16.6, -16.7,
               -36.7, -36.8, 0.02, -0.02, -0.999, -0.9999999, 1e38, 2e38, 1e307, 1e308, 3.0, -3.0, 9.0, -9.0,
               0.75, 1.5, 1.3333334, 0.6931472, -0.6931472, 10.0, -10.0, 1e-3, -1e-3, 2.0, -2.0, 5.0, -5.0, 40.0,
               -40.0, 1e5, -1e5, 1e-20]
    rng = np.random.default_rng(sum(map(ord, name + dtype)))
    width = np.uint32 if dt.itemsize == 4 else np.uint64
    bits = rng.integers(0, np.iinfo(width).max, n // 2, dtype=width, endpoint=True).view(dt)
    ordinary = (rng.standard_normal(n - n // 2) * (8 if name != "log1p" else 2)).astype(dt)
    with np.errstate(over="ignore"):
        x = np.concatenate([np.array(special, dt), bits, ordinary])
    if name == "log":
        x = np.abs(x)
    return x


# name -> tinytape's call, PyTorch's (on a tensor); each bit for bit equal
EXACT = {
    "sigmoid": (lambda x: x.sigmoid(), lambda torch, x: torch.sigmoid(x)),
    "silu": (lambda x: F.silu(x), lambda torch, x: torch.nn.functional.silu(x)),
    "softplus": (lambda x: F.softplus(x), lambda torch, x: torch.nn.functional.softplus(x)),
    "logsigmoid": (lambda x: F.logsigmoid(x), lambda torch, x: torch.nn.functional.logsigmoid(x)),
    "log1p": (lambda x: x.log1p(), lambda torch, x: torch.log1p(x)),
    "expm1": (lambda x: x.expm1(), lambda torch, x: torch.expm1(x)),
}
# PyTorch's exp, log and tanh are MKL's (closed) routines: float32 here is the correctly
# rounded value, which MKL's is in all but this share of the elements, never more than 1 ulp off
NEAR = {
    "exp": (lambda x: x.exp(), lambda torch, x: torch.exp(x)),
    "log": (lambda x: x.log(), lambda torch, x: torch.log(x)),
    "tanh": (lambda x: x.tanh(), lambda torch, x: torch.tanh(x)),
}
NEAR_SHARE = {("exp", "float32"): 0.03, ("log", "float32"): 0.01, ("tanh", "float32"): 0.02,
              ("tanh", "float64"): 0.1, ("exp", "float64"): 0.0, ("log", "float64"): 0.0}


def _pytorch_bits(torch_call, x):
    def answer(torch, x):
        return base64.b64encode(torch_call(torch, torch.from_numpy(x)).numpy().tobytes()).decode()
    return np.frombuffer(base64.b64decode(pytorch(answer, x)), x.dtype)


def _differing(got, want):
    """Where two arrays differ in their bits (any nan equals any nan)."""
    width = np.uint32 if got.dtype.itemsize == 4 else np.uint64
    return (got.view(width) != want.view(width)) & ~(np.isnan(got) & np.isnan(want))


def _ulps(got, want):
    width = np.int32 if got.dtype.itemsize == 4 else np.int64
    a, b = got.view(width).astype(np.float64), want.view(width).astype(np.float64)
    return np.abs(a - b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(EXACT))
def test_bit_for_bit_pytorch(name, dtype):
    ours, theirs = EXACT[name]
    x = _inputs(name, dtype)
    assert x.size % 32 == 0
    got = ours(tt.tensor(x)).numpy()
    want = _pytorch_bits(theirs, x)
    bad = _differing(got, want)
    assert not bad.any(), (x[bad][:5], got[bad][:5], want[bad][:5])


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_bit_for_bit_pytorch(dtype):
    x = _inputs("bce", dtype)
    y = np.random.default_rng(3).uniform(0, 1, x.size).astype(dtype)
    got = F.binary_cross_entropy_with_logits(tt.tensor(x), tt.tensor(y), reduction="none").numpy()

    def answer(torch, x, y):
        out = torch.nn.functional.binary_cross_entropy_with_logits(torch.from_numpy(x), torch.from_numpy(y),
                                                                   reduction="none")
        return base64.b64encode(out.numpy().tobytes()).decode()
    want = np.frombuffer(base64.b64decode(pytorch(answer, x, y)), x.dtype)
    assert not _differing(got, want).any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(NEAR))
def test_mkl_functions_within_an_ulp(name, dtype):
    ours, theirs = NEAR[name]
    x = _inputs(name, dtype)
    got = ours(tt.tensor(x)).numpy()
    want = _pytorch_bits(theirs, x)
    bad = _differing(got, want)
    assert bad.mean() <= NEAR_SHARE[name, dtype], bad.mean()
    assert (_ulps(got[bad], want[bad]) <= 1).all(), (x[bad][:5], got[bad][:5], want[bad][:5])


def test_float32_exp_log_tanh_are_correctly_rounded():
    """float32 exp, log and tanh equal float64's value rounded once (float64's agrees with
    the exact one to far below a float32 ulp)."""
    for name in ("exp", "log", "tanh"):
        x = _inputs(name, "float32", n=4096)
        got = getattr(tt.tensor(x), name)().numpy()
        with np.errstate(all="ignore"):
            want = getattr(np, name)(x.astype(np.float64)).astype(np.float32)
        assert not _differing(got, want).any(), name


_SLOW = pytest.mark.slow  # numba compiles each loop afresh (1-2 s): two of them in the default run
SLEEF_FUNCTIONS = [(sleef.expf_u10, "float32"), (sleef.log1pd_u10, "float64"),
                   *(pytest.param(fn, dtype, marks=_SLOW) for fn, dtype in (
                       (sleef.expd_u10, "float64"), (sleef.log1pf_u10, "float32"), (sleef.expm1f_u10, "float32"),
                       (sleef.expm1d_u10, "float64"), (sleef._exp_f32, "float32"), (sleef._log_f32, "float32"),
                       (sleef._tanh_f32, "float32")))]


@pytest.mark.parametrize("fn,dtype", SLEEF_FUNCTIONS, ids=lambda v: getattr(v, "__name__", v))
def test_plain_python_equals_the_compiled_function(fn, dtype):
    """The functions run as Python too (numpy scalars, an exact fma): the same bits as numba's."""
    from numba import njit

    @njit(error_model="numpy")
    def run(x, out):
        for i in range(x.size):
            out[i] = fn(x[i])
    x = _inputs(fn.__name__, dtype)[::7]
    out = np.empty_like(x)
    run(x, out)
    with np.errstate(all="ignore"):
        python = np.array([fn(v) for v in x], x.dtype)
    assert not _differing(python, out).any()


def test_fma_rounds_once():
    assert sleef.fma(1.0 + 2.0 ** -30, 1.0 - 2.0 ** -30, -1.0) == -(2.0 ** -60)  # a * b + c exactly, then rounded
    a = np.float32(1.0 + 2.0 ** -12)
    assert sleef.fma(a, a, np.float32(-1.0)) == np.float32(2.0 ** -11 + 2.0 ** -24)
    assert type(sleef.fma(a, a, np.float32(-1.0))) is np.float32


def _program(x):
    ys = [x.exp(), x.abs().log(), x.tanh(), x.sigmoid(), F.silu(x), F.softplus(x), F.logsigmoid(x),
          x.abs().log1p(), x.expm1()]
    loss = sum((y * y).sum() for y in ys)
    return (loss.detach(),) + tuple(y.detach() for y in ys) + grad(loss, (x,))


@pytest.mark.parametrize("dtype", DTYPES)
def test_compiled_equals_eager_bit_for_bit(dtype):
    compiled = tt.compile(_program, fullgraph=True)
    rng = np.random.default_rng(5)
    for _ in range(3):  # traces, then replays
        x = tt.tensor((rng.standard_normal((7, 9)) * 4).astype(dtype), requires_grad=True)
        for got, want in zip(compiled(x), _program(x)):
            assert not _differing(got.numpy(), want.numpy()).any()
    (entry,) = next(iter(compiled.programs.values()))
    assert entry.kind == "fused"


def test_float32_transcendentals_fuse_without_host_calls():
    """float32 exp, log, tanh... are in the fused loops, not parts of their own calling numpy."""
    from tinytape.compiler.segments import _host_call
    compiled = tt.compile(_program, fullgraph=True)
    compiled(tt.tensor(np.linspace(-3, 3, 40, dtype=np.float32).reshape(5, 8), requires_grad=True))
    (entry,) = next(iter(compiled.programs.values()))
    assert entry.kind == "fused" and getattr(entry.program, "not_fused", None) is None
    assert not any(_host_call(entry.program, c) for c in entry.program.capture.calls)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gradients(dtype):
    from helpers import check_grad
    a = np.random.default_rng(1).uniform(-2, 2, (2, 3))
    check_grad(lambda x: x.exp() + x.tanh() + x.sigmoid() + F.silu(x) + F.softplus(x) + F.logsigmoid(x)
               + x.expm1() + (x.abs() + 0.5).log() + (x.abs() + 0.5).log1p(), a, second_order=True, atol=1e-4)


@pytest.mark.gpu
def test_cuda_runs_them():
    """On the CUDA backend (numba's simulator without a GPU) the math library's versions run:
    close to the CPU's, as PyTorch's CUDA kernels are to its CPU ones."""
    x = np.random.default_rng(2).uniform(-5, 5, 64)
    for dtype in DTYPES:
        cpu = tt.tensor(x.astype(dtype))
        gpu = cpu.to("cuda")
        for fn in (lambda t: t.exp(), lambda t: t.abs().log(), lambda t: t.tanh(), lambda t: t.sigmoid(), F.silu,
                   F.softplus, F.logsigmoid, lambda t: t.abs().log1p(), lambda t: t.expm1()):
            np.testing.assert_allclose(fn(gpu).cpu().numpy(), fn(cpu).numpy(), rtol=1e-6, atol=1e-30)
