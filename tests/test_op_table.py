"""The elementwise op table, on every backend: each declared op's values against
PyTorch (IEEE special values included) and its gradient against finite differences;
every op code through every kernel entry point; codes no kernel serves refused.

Adding an op to ``tinytape/op_table.py`` needs one row in ``DOMAIN`` (unary) or
``BINARY_DOMAIN`` (binary) below."""
import math

import numpy as np
import pytest

from helpers import check_grad
from pytorch_answers import pytorch

import tinytape as tt
import tinytape.nn.functional as F
from tinytape.autograd import grad
from tinytape.backend import for_device, opcodes, scalar_ops
from tinytape.backend.cpu import elementwise as cpu_kernels
from tinytape import op_table as table
from tinytape.ops.from_table import FUNCTIONS

DEVICES = ["cpu", "cuda"]  # cuda: numba's simulator where there is no GPU (conftest)

# unary op -> the interval its gradient is checked on (None: not differentiable)
DOMAIN = {
    "neg": (-2, 2), "abs": (0.2, 2), "sqrt": (0.2, 3), "relu": (0.2, 2), "sign": (0.2, 2),
    "reciprocal": (0.3, 2), "exp": (-2, 2), "log": (0.2, 3), "tanh": (-2, 2), "sigmoid": (-3, 3),
    "sin": (-3, 3), "cos": (-3, 3), "square": (-2, 2), "log1p": (-0.5, 2), "expm1": (-2, 2),
    "log2": (0.2, 3), "log10": (0.2, 3), "rsqrt": (0.2, 3), "erf": (-2, 2), "tan": (-1, 1),
    "atan": (-2, 2), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "sinh": (-2, 2), "cosh": (-2, 2),
    "floor": (0.1, 0.9), "ceil": (0.1, 0.9), "trunc": (0.1, 0.9), "round": (0.1, 0.4),
    "softplus": (-3, 3), "silu": (-3, 3), "gelu": (-3, 3), "bitwise_not": None,
    "logsigmoid": (-3, 3), "elu": (-3, 3), "mish": (-3, 3), "gelu_tanh": (-3, 3),
}

UNARY = table.of_kind("unary")
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 1e-3, 30.0, -30.0, 1000.0, -1000.0,
           math.inf, -math.inf, math.nan]


def _call(op, x):
    """The op through its public name: function, else Tensor method, else nn.functional."""
    fn = FUNCTIONS.get(op.name) or getattr(F, op.name)
    return fn(x)


def test_every_unary_op_has_a_test_row():
    assert sorted(DOMAIN) == sorted(op.name for op in UNARY)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", [op for op in UNARY if DOMAIN[op.name]], ids=lambda op: op.name)
def test_unary_gradient(op, device):
    low, high = DOMAIN[op.name]
    a = np.random.default_rng(len(op.name)).uniform(low, high, size=(2, 3))
    check_grad(lambda x: _call(op, x.to(device)), a, second_order=op.name in ("log1p", "gelu", "tanh"), atol=1e-4)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", [op for op in UNARY if op.name != "bitwise_not"], ids=lambda op: op.name)
def test_unary_values_match_pytorch(op, device):
    def values(torch, name, x):
        if name == "gelu_tanh":
            return torch.nn.functional.gelu(torch.tensor(x), approximate="tanh").numpy()
        return (getattr(torch, name, None) or getattr(torch.nn.functional, name))(torch.tensor(x)).numpy()
    for dtype in ("float32", "float64"):
        x = np.array(SPECIAL, dtype)
        got = _call(op, tt.tensor(x, device=device))
        expected = pytorch(values, op.name, x)
        if op.name == "gelu" and device != "cpu":  # PyTorch's float32 CPU kernel (oneDNN's) gives nan
            expected[x == math.inf] = math.inf    # at +inf; its CUDA one, and float64, inf
        assert got.dtype == getattr(tt, dtype)
        # (gelu_tanh's 1 + tanh(inner) cancels near -1: PyTorch's float32 kernel keeps a float32
        # tanh's error there, absolute; the CUDA kernel, simulated in float64, does not)
        atol = 2e-7 if op.name == "gelu_tanh" and dtype == "float32" and device != "cpu" else 1e-30
        np.testing.assert_allclose(got.cpu().numpy(), expected, rtol=2e-6 if dtype == "float32" else 1e-12,
                                   atol=atol, equal_nan=True, err_msg=f"{op.name} {dtype} on {device}")
        # signs of zeros and infinities too
        assert (np.signbit(got.cpu().numpy()) == np.signbit(expected))[np.isfinite(expected) | np.isinf(expected)].all() \
            or op.name in ("round", "ceil", "trunc", "relu", "sign", "square", "abs")


# binary op -> the intervals its operands are drawn from for the gradient check (None: not
# differentiable), and below, how an op is called where it is not ``tinytape.<name>``
BINARY_DOMAIN = {
    "add": ((-2, 2), (-2, 2)), "sub": ((-2, 2), (-2, 2)), "mul": ((-2, 2), (-2, 2)), "div": ((-2, 2), (0.5, 2)),
    "pow": ((0.5, 2), (-2, 2)), "maximum": ((-2, 2), (-2, 2)), "minimum": ((-2, 2), (-2, 2)),
    "bce_with_logits": ((-3, 3), (0, 1)), "bce": ((0.1, 0.9), (0, 1)), "floor_divide": None,
    "remainder": ((0.1, 0.9), (1.2, 2)), "bitwise_and": None, "bitwise_or": None, "bitwise_xor": None,
    "atan2": ((-2, 2), (0.5, 2)), "gelu_backward": ((-2, 2), (-3, 3)), "xlogy": ((-2, 2), (0.5, 2)),
    "xlog1py": ((-2, 2), (-0.5, 2)), "silu_backward": ((-2, 2), (-3, 3)), "mish_backward": ((-2, 2), (-3, 3)),
    "gelu_tanh_backward": ((-2, 2), (-3, 3)), "softplus_backward": ((-2, 2), (-3, 3)), "mul_exp": ((-2, 2), (-3, 1)),
}


def _activation_backward(name, torch_version):
    """An activation's gradient kernel (dy, x): the table's op here, PyTorch's kernel or formula there."""
    def call(lib, a, b):
        if lib is tt:
            from tinytape.ops.from_table import CLASSES
            return CLASSES[name].apply(a, b)
        return torch_version(lib, a, b)
    return call

def _gelu_backward(lib, grad, x):
    """GELU's derivative as an op of its own: ``torch.ops.aten.gelu_backward``; here the
    table's op (nn.functional.gelu's backward)."""
    if lib is tt:
        from tinytape.ops.from_table import CLASSES
        return CLASSES["gelu_backward"].apply(grad, x)
    return lib.ops.aten.gelu_backward(grad, x)


BINARY_CALLS = {
    "gelu_backward": _gelu_backward,
    # (PyTorch's silu_backward and mish_backward kernels have no derivative: their formulas)
    "silu_backward": _activation_backward("silu_backward", lambda lib, a, b: a * b.sigmoid() * (
        1 + b * (1 - b.sigmoid()))),
    "mish_backward": _activation_backward("mish_backward", lambda lib, a, b: a * (
        b.exp().log1p().tanh() + b * b.sigmoid() * (1 - b.exp().log1p().tanh() ** 2))),
    "gelu_tanh_backward": _activation_backward(
        "gelu_tanh_backward", lambda lib, a, b: lib.ops.aten.gelu_backward(a, b, approximate="tanh")),
    "softplus_backward": _activation_backward("softplus_backward", lambda lib, a, b: a * b.exp() / (b.exp() + 1)),
    "mul_exp": _activation_backward("mul_exp", lambda lib, a, b: a * b.exp()),
    "xlog1py": lambda lib, a, b: lib.special.xlog1py(a, b),
    "bce": lambda lib, a, b: lib.nn.functional.binary_cross_entropy(a, b, reduction="none"),
    "bce_with_logits": lambda lib, a, b: lib.nn.functional.binary_cross_entropy_with_logits(a, b, reduction="none"),
}
BINARY = table.of_kind("binary")


def _call_binary(lib, name, a, b):
    call = BINARY_CALLS.get(name)
    return call(lib, a, b) if call else getattr(lib, name)(a, b)


def test_every_binary_op_has_a_test_row():
    assert sorted(BINARY_DOMAIN) == sorted(op.name for op in BINARY)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", [op for op in BINARY if BINARY_DOMAIN[op.name]], ids=lambda op: op.name)
def test_binary_gradient(op, device):
    """Both operands' gradients (and second derivatives), operands of one shape and broadcast."""
    rng = np.random.default_rng(len(op.name))
    (lo_a, hi_a), (lo_b, hi_b) = BINARY_DOMAIN[op.name]
    a, b = rng.uniform(lo_a, hi_a, (2, 3)), rng.uniform(lo_b, hi_b, (2, 3))
    fn = lambda x, y: _call_binary(tt, op.name, x.to(device), y.to(device))  # noqa: E731
    check_grad(fn, a, b, second_order=True, atol=1e-4)
    if not op.name.startswith("bce"):  # the losses take operands of one shape
        check_grad(fn, a, b[:1], atol=1e-4)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", [op for op in BINARY if BINARY_DOMAIN[op.name]], ids=lambda op: op.name)
def test_binary_gradient_matches_pytorch_where_one_operand_requires_grad(op, device):
    """Each operand alone: the op saves what that operand's derivative reads, nothing more."""
    rng = np.random.default_rng(7)
    (lo_a, hi_a), (lo_b, hi_b) = BINARY_DOMAIN[op.name]
    a, b = rng.uniform(lo_a, hi_a, 4), rng.uniform(lo_b, hi_b, 4)

    def gradient(lib, name, a, b, which, **kw):
        xs = [lib.tensor(v, requires_grad=(i == which), **kw) for i, v in enumerate((a, b))]
        _call_binary(lib, name, *xs).sum().backward()
        return np.asarray(xs[which].grad.tolist())
    for which in (0, 1):
        np.testing.assert_allclose(gradient(tt, op.name, a, b, which, device=device),
                                   pytorch(gradient, op.name, a, b, which), rtol=1e-12,
                                   err_msg=f"{op.name} operand {which}")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", [op for op in BINARY if not op.name.startswith("bitwise")], ids=lambda op: op.name)
def test_binary_values_match_pytorch(op, device):
    """Every pair of special values (signed zeros, infinities, nan) in float32 and float64."""
    values = SPECIAL if op.name != "bce" else [0.0, 1e-3, 0.25, 0.5, 1.0]  # PyTorch refuses p outside [0, 1]
    a, b = (np.array(v, np.float64) for v in zip(*[(x, y) for x in values for y in values]))
    for dtype in ("float32", "float64"):
        got = _call_binary(tt, op.name, tt.tensor(a.astype(dtype), device=device),
                           tt.tensor(b.astype(dtype), device=device))
        expected = pytorch(lambda torch, name, a, b: _call_binary(torch, name, torch.tensor(a), torch.tensor(b)).numpy(),
                           op.name, a.astype(dtype), b.astype(dtype))
        assert got.dtype == getattr(tt, dtype)
        close = dict(rtol=2e-6 if dtype == "float32" else 1e-12, atol=1e-30)
        if op.name == "gelu_tanh_backward" and dtype == "float32" and device != "cpu":
            close = dict(rtol=5e-6, atol=2e-7)  # (as gelu_tanh's values below: 1 + tanh cancels near -1)
        if op.name == "bce_with_logits" and dtype == "float32":
            # PyTorch's float32 kernel rounds (1 - y) x and log_sigmoid(x) before subtracting
            # them; the kernels here round once: the two differ by an ulp of x
            close = dict(rtol=2e-6, atol=1e-4)
        np.testing.assert_allclose(got.cpu().numpy(), expected, equal_nan=True, err_msg=f"{op.name} {dtype} on {device}",
                                   **close)
        if not op.name.startswith("bce"):  # signed zeros and infinities as PyTorch's (a nan's sign is noise)
            numbers = ~np.isnan(expected)
            np.testing.assert_array_equal(np.signbit(got.cpu().numpy())[numbers], np.signbit(expected)[numbers],
                                          err_msg=f"{op.name} {dtype} on {device}: signs")


@pytest.mark.parametrize("device", DEVICES)
def test_ieee_results_instead_of_errors(device):
    t = lambda v, **kw: tt.tensor(v, device=device, **kw)  # noqa: E731
    assert t([1.]).div(t([0.])).tolist() == [math.inf]
    assert math.isnan((t([0.]) / t([0.])).item())
    assert (t([-1.]) / t([0.])).tolist() == [-math.inf]
    assert (t(2.) / t([0., -0.])).tolist() == [math.inf, -math.inf]
    x = tt.zeros(2, requires_grad=True, device=device)
    x.sqrt().sum().backward()
    assert x.grad.tolist() == [math.inf, math.inf]
    x = t([0., 2.], requires_grad=True)
    tt.where(x > 0, x.log(), tt.zeros_like(x)).sum().backward()
    assert math.isnan(x.grad[0].item()) and x.grad[1].item() == 0.5
    x = t([0., 2.], requires_grad=True)
    (x ** t([0.])).sum().backward()
    assert x.grad.tolist() == [0., 0.]
    assert (t([-7.]) // t([2.])).tolist() == [-4.] and (t([-7.]) % t([2.])).tolist() == [1.]
    assert (t([5.]) // t([0.])).tolist() == [math.inf] and math.isnan((t([5.]) % t([0.])).item())
    for expr in (lambda: t([1]) // t([0]), lambda: t([1]) % t([0])):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            expr()


@pytest.mark.parametrize("device", DEVICES)
def test_integer_and_bitwise_operators(device):
    t = lambda v: tt.tensor(v, device=device)  # noqa: E731
    assert (t([7, -7]) // t([2, 2])).tolist() == [3, -4]
    assert (t([7, -7]) % t([3, 3])).tolist() == [1, 2]
    assert (t([3, 12]) & t([5, 10])).tolist() == [1, 8]
    assert (t([3, 12]) | t([5, 1])).tolist() == [7, 13]
    assert (t([3]) ^ t([5])).tolist() == [6]
    assert (~t([3, -1])).tolist() == [-4, 0]
    assert (~t([True, False])).tolist() == [False, True]
    assert (t([True, False]) & t([True, True])).tolist() == [True, False]
    assert (t([True, False]) | t([False, False])).tolist() == [True, False]
    with pytest.raises(RuntimeError, match="bitwise_and"):
        t([1.]) & t([1.])


@pytest.mark.parametrize("device", DEVICES)
def test_grad_fn_names(device):
    x = tt.tensor([1., -2.], requires_grad=True, device=device)
    bound = tt.tensor([0., 0.], device=device)
    names = {
        "RsubBackward1": 1 - x, "PowBackward2": 2 ** x, "MulBackward0": 2 / x,
        "ClampBackward1": x.clamp(min=0), "ClampBackward0": x.clamp(min=bound, max=bound + 1),
        "PowBackward0": x.square(), "Log1PBackward0": x.log1p(), "Log2Backward0": x.log2(),
        "RemainderBackward0": x % 2, "SoftplusBackward0": F.softplus(x),
    }
    assert {k: type(v.grad_fn).__name__ if not hasattr(v.grad_fn, "name") else v.grad_fn.name()
            for k, v in names.items()} == {k: k for k in names}


@pytest.mark.parametrize("device", DEVICES)
def test_clamp_with_tensor_bounds_against_pytorch(device):
    data = ([0., 2., 1., -1., 3.], [0., 0., 0., 0., 0.], [2., 2., 2., 2., 2.])

    def gradients(lib, **kw):
        x, lo, hi = (lib.tensor(v, requires_grad=True, **kw) for v in data)
        x.clamp(lo, hi).sum().backward()
        return [np.asarray(v.grad.tolist()) for v in (x, lo, hi)]
    for ours, theirs in zip(gradients(tt, device=device), pytorch(gradients)):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["relu", "abs", "exp", "sigmoid", "log1p", "silu"])
def test_backward_is_differentiable(name, device):
    x = tt.tensor([1., -2., 0.5], requires_grad=True, device=device)
    fn = getattr(F, name, None) or getattr(tt, name)
    (g,) = grad(fn(x).sum(), x, create_graph=True)
    assert g.requires_grad
    (gg,) = grad(g.sum(), x)
    assert gg.shape == x.shape


# ---------------------------------------------------------------- dispatch


def _sample(kind, code, dtype):
    rng = np.random.default_rng(code)
    a = rng.uniform(0.5, 2.0, 6).astype(dtype)
    b = rng.uniform(0.5, 2.0, 6).astype(dtype)
    if np.dtype(dtype).kind in "iub":
        a, b = np.array([1, 2, 3, 4, 5, 6], dtype), np.array([2, 1, 3, 1, 2, 5], dtype)
    return a, b


def _expected(kind, code, a, b, out_dtype):
    fn = {"unary": lambda x, y: scalar_ops.unary_op(code, x), "binary": lambda x, y: scalar_ops.binary_op(code, x, y),
          "compare": lambda x, y: scalar_ops.compare_op(code, x, y)}[kind]
    with np.errstate(all="ignore"):
        return np.array([fn(x, y) for x, y in zip(a.tolist(), b.tolist())]).astype(out_dtype)


# each dtype compiles every entry point of every op: the default run takes float64 (the integer
# ops through their operators below), the slow set float32 and int64 too
@pytest.mark.parametrize("dtype", [pytest.param("float32", marks=pytest.mark.slow), "float64",
                                   pytest.param("int64", marks=pytest.mark.slow)])
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", ["unary", "binary", "compare"])
def test_every_code_through_every_entry_point(kind, device, dtype):
    backend = for_device(tt.device(device))
    for op in table.of_kind(kind):
        if dtype == "int64" and (op.float_only or op.name in ("div", "pow", "bce", "bce_with_logits")):
            continue
        if dtype != "int64" and op.name.startswith("bitwise"):
            continue
        a, b = _sample(kind, op.code, dtype)
        out_dtype = np.bool_ if kind == "compare" else a.dtype
        want = _expected(kind, op.code, a, b, out_dtype)
        close = dict(rtol=1e-5 if dtype == "float32" else 1e-12, equal_nan=True, err_msg=f"{op.name} {dtype}")
        A, Bm = backend.asarray(a), backend.asarray(b)
        if kind == "unary":
            np.testing.assert_allclose(backend.to_numpy(backend.unary(op.code, A)), want, **close)
            continue
        entry = backend.binary if kind == "binary" else backend.compare
        np.testing.assert_allclose(backend.to_numpy(entry(op.code, A, Bm)), want, **close)
        # broadcast and transposed operands: the strided (nd) kernels
        a2, b_row = a.reshape(2, 3), b[:3]
        got = entry(op.code, backend.asarray(a2), backend.asarray(b_row))
        pairs = (a2.reshape(-1), np.tile(b_row, 2))
        np.testing.assert_allclose(backend.to_numpy(got).reshape(-1), _expected(kind, op.code, *pairs, out_dtype), **close)
        got = entry(op.code, backend.asarray(a.reshape(3, 2)), backend.permute(backend.asarray(b.reshape(2, 3)), (1, 0)))
        pairs = (a, b.reshape(2, 3).T.reshape(-1))
        np.testing.assert_allclose(backend.to_numpy(got).reshape(-1), _expected(kind, op.code, *pairs, out_dtype), **close)
        for scalar_first in (False, True):
            s = backend.scalar(b[0].item(), a.dtype)
            got = entry(op.code, s, A) if scalar_first else entry(op.code, A, s)
            pairs = (np.full_like(a, b[0]), a) if scalar_first else (a, np.full_like(a, b[0]))
            np.testing.assert_allclose(backend.to_numpy(got), _expected(kind, op.code, *pairs, out_dtype), **close)
        if kind == "binary":
            target = backend.asarray(a.copy())
            assert backend.binary(op.code, target, Bm, out=target) is target
            np.testing.assert_allclose(backend.to_numpy(target), want, **close)


@pytest.mark.parametrize("device", DEVICES)
def test_reduction_codes_through_the_backend(device):
    backend = for_device(tt.device(device))
    x = np.arange(12.0).reshape(3, 4) - 5
    X = backend.asarray(x)
    for code, ref in ((opcodes.SUM, np.sum), (opcodes.MAX, np.max), (opcodes.MIN, np.min),
                      (opcodes.SUMSQ, lambda v, axis: np.sum(v * v, axis))):
        np.testing.assert_allclose(backend.to_numpy(backend.reduce(code, X, (1,), False)), ref(x, axis=1))
    for code, ref in ((opcodes.MAX, np.argmax), (opcodes.MIN, np.argmin)):
        np.testing.assert_array_equal(backend.to_numpy(backend.argreduce(code, X, 0, False)[1]), ref(x, axis=0))


@pytest.mark.parametrize("device", DEVICES)
def test_unknown_codes_are_refused_before_any_kernel(device):
    backend = for_device(tt.device(device))
    x = backend.asarray(np.ones(3))
    calls = {
        "unary": lambda c: backend.unary(c, x), "binary": lambda c: backend.binary(c, x, x),
        "compare": lambda c: backend.compare(c, x, x), "reduce": lambda c: backend.reduce(c, x, (0,), False),
        "argreduce": lambda c: backend.argreduce(c, x, 0, False),
    }
    for name, call in calls.items():
        for code in (-1, 999, opcodes.SUMSQ + 1 if name == "argreduce" else 500):
            with pytest.raises(ValueError, match=name):
                call(code)


def test_cpu_kernels_refuse_unknown_codes_themselves():
    x, out = np.ones(3), np.empty(3)
    for kernel, args in ((cpu_kernels.unary, (x, out)), (cpu_kernels.binary, (x, x, out)),
                         (cpu_kernels.binary_inplace, (out, x)), (cpu_kernels.binary_scalar, (x, 1.0, out, False)),
                         (cpu_kernels.compare, (x, x, np.empty(3, bool))),
                         (cpu_kernels.compare_scalar, (x, 1.0, np.empty(3, bool), False))):
        with pytest.raises(ValueError, match="op code"):
            kernel(999, *args)
    with pytest.raises(ValueError, match="op code"):
        scalar_ops.unary_op(999, 1.0)


def _gelu_and_gradient(torch, x, g):
    xt = torch.tensor(x, requires_grad=True)
    y = torch.nn.functional.gelu(xt)
    y.backward(torch.tensor(g))
    return y.detach().numpy(), xt.grad.numpy()


def test_gelu_float32_is_pytorchs_bit_for_bit():
    """A contiguous float32 GELU and its gradient as PyTorch's CPU kernels give them (oneDNN's
    polynomials), every element, including the polynomials' interval ends and the extremes."""
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.standard_normal(2048) * 3, rng.standard_normal(512) * 0.01,
                        np.linspace(-12, 12, 1024), [0.0, -0.0, 1e-30, -1e-30, 5.54, -5.54, 40, -40,
                                                     math.inf, -math.inf, math.nan]]).astype(np.float32)
    g = rng.standard_normal(len(x)).astype(np.float32)
    got = _gelu_and_gradient(tt, x, g)
    expected = pytorch(_gelu_and_gradient, x, g)
    for a, b in zip(got, expected):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a.view(np.int32)[~np.isnan(b)], b.view(np.int32)[~np.isnan(b)])
        assert (np.isnan(a) == np.isnan(b)).all()
