"""bfloat16 tensors as PyTorch's on the CPU: held as ml_dtypes' bfloat16 (uint16 bits on
the CUDA backend), each kernel run in float32 and its result rounded to nearest even, on
both backends.  Values are compared bit for bit against PyTorch's bfloat16 results;
gradients within one bfloat16 rounding (a derivative written as tensor ops rounds after
each of them, PyTorch's fused backward kernels once).  The tests without PyTorch pin the
rounding and the dtype rules by hand."""
import io

import numpy as np
import pytest
from ml_dtypes import bfloat16 as BF16

import tinytape as tt
from pytorch_answers import pytorch

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]  # cuda: numba's simulator without a GPU

CASES = {
    "add": lambda m, x, y: x + y[:1],
    "sub_scalar": lambda m, x, y: 1.25 - x,  # numbers bfloat16 holds: see test_python_float_operand
    "mul_scalar": lambda m, x, y: x * 3.125,
    "div": lambda m, x, y: x / (y[:1].abs() + 1),
    "pow": lambda m, x, y: x.abs().pow(1.5),
    "mm": lambda m, x, y: x @ y.T,
    "matmul_batched": lambda m, x, y: x.reshape(3, 2, 2) @ y.reshape(3, 2, 2),
    "sum": lambda m, x, y: x.sum(),
    "sum_dim": lambda m, x, y: x.sum(1),
    "mean": lambda m, x, y: x.mean(),
    "max_dim": lambda m, x, y: x.max(1)[0],
    "argmax": lambda m, x, y: x.argmax(1),
    "softmax": lambda m, x, y: m.softmax(x, 1),
    "relu": lambda m, x, y: m.relu(x),
    "exp": lambda m, x, y: x.exp(),
    "log": lambda m, x, y: x.abs().log(),
    "tanh": lambda m, x, y: x.tanh(),
    "sigmoid": lambda m, x, y: x.sigmoid(),
    "sqrt": lambda m, x, y: x.abs().sqrt(),
    "gt": lambda m, x, y: x > y,
    "eq_scalar": lambda m, x, y: x == x[0, 0].item(),
    "where": lambda m, x, y: m.where(x > 0, x, y),
    "clamp": lambda m, x, y: x.clamp(min=-0.5, max=0.5),
    "index": lambda m, x, y: x[[0, 2]],
    "slice_t": lambda m, x, y: x.T[1:] * 2,
    "gather": lambda m, x, y: x.gather(1, m.tensor([[0], [1], [3]])),
    "cat": lambda m, x, y: m.cat([x, y], 1),
    "to_float32": lambda m, x, y: x.float() / 3,
    "to_float16": lambda m, x, y: x.half(),
    "to_int64": lambda m, x, y: (x * 4).long(),
    "to_bool": lambda m, x, y: (x > 0.5).float().bfloat16().bool(),
    "with_float16": lambda m, x, y: x + y.half(),
    "with_float32": lambda m, x, y: x + y.float(),
    "with_int": lambda m, x, y: x + (y * 4).long(),
}


def _data():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((3, 4)).astype(np.float32).astype(BF16),
            rng.standard_normal((3, 4)).astype(np.float32).astype(BF16))


def _f32(arr):
    """The bfloat16 data as float32 (exactly): what PyTorch's side is given."""
    return np.asarray(arr, np.float32)


def _torch(torch, arr):
    return torch.tensor(_f32(arr)).to(torch.bfloat16)


def _host(t):
    """Values as float32 (bfloat16 widens exactly; numpy() refuses bfloat16, as PyTorch's)."""
    t = t.detach().cpu()
    return t.float().numpy() if t.dtype.is_floating_point else t.numpy()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_pytorch_bitwise(name, device):
    a, b = _data()
    got = CASES[name](tt, tt.tensor(a, device=device), tt.tensor(b, device=device))
    want = pytorch(lambda torch, a, b: CASES[name](torch, _torch(torch, a), _torch(torch, b)), _f32(a), _f32(b))
    assert repr(got.dtype).split(".")[-1] == want.dtype
    np.testing.assert_array_equal(_host(got), want.numpy())


SCALAR_OPERANDS = {
    "mul": lambda m, x: x * 3.1, "rmul": lambda m, x: 3.1 * x, "div": lambda m, x: x / 0.7,
    "rdiv": lambda m, x: 0.7 / x, "add": lambda m, x: x + 3.1, "sub": lambda m, x: x - 0.7,
    "rsub": lambda m, x: 0.7 - x, "mul_0d": lambda m, x: x * m.tensor(3.1, device=x.device),
    "mul_0d_double": lambda m, x: x * m.tensor(3.1, dtype=m.float64, device=x.device), "div_int": lambda m, x: x / 3,
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_number_operands_as_pytorch(dtype, device):
    """mul and div read a number (or 0-d tensor) operand in float32, add and sub round it to
    the tensor's dtype first: PyTorch's CPU kernels' two rules, bit for bit, with the
    gradient and the in-place forms."""
    a = np.random.default_rng(1).standard_normal(64).astype(np.float32)
    in_place = (("mul_", 3.1), ("div_", 0.7), ("add_", 3.1), ("sub_", 0.7))

    def answers(torch, a):
        out = {}
        for name, fn in SCALAR_OPERANDS.items():
            xt = torch.tensor(a).to(getattr(torch, dtype)).requires_grad_(True)
            want = fn(torch, xt)
            want.sum().backward()
            out[name] = (want, xt.grad)
        for method, value in in_place:
            out[method] = getattr(torch.tensor(a).to(getattr(torch, dtype)), method)(value)
        return out
    theirs = pytorch(answers, a)
    ours = getattr(tt, dtype)
    for name, fn in SCALAR_OPERANDS.items():
        x = tt.tensor(a, device=device).to(ours).requires_grad_(True)
        got = fn(tt, x)
        want, want_grad = theirs[name]
        np.testing.assert_array_equal(_host(got), want.numpy(), err_msg=name)
        got.sum().backward()
        np.testing.assert_array_equal(_host(x.grad), want_grad.numpy(), err_msg=f"{name} gradient")
    for method, value in in_place:
        x = tt.tensor(a, device=device).to(ours)
        getattr(x, method)(value)
        np.testing.assert_array_equal(_host(x), theirs[method].numpy(), err_msg=method)


@pytest.mark.parametrize("device", DEVICES)
def test_number_operand_of_mul_is_not_rounded_first(device):
    """Without a reference: 1.5 * 3.1 is 4.65 in float32, 4.65625 in bfloat16; with 3.1
    rounded to bfloat16 first (3.09375) it would be 4.625."""
    x = tt.tensor([1.5], dtype=tt.bfloat16, device=device)
    assert (x * 3.1).item() == 4.65625
    assert (x.mul_(3.1)).item() == 4.65625


@pytest.mark.parametrize("device", DEVICES)
def test_log_softmax_within_one_rounding(device):
    """PyTorch's CPU log_softmax rounds an intermediate of its reduced-precision kernel (as
    for float16): one rounding apart, where tinytape rounds the float32 result once."""
    a, _ = _data()
    got = tt.log_softmax(tt.tensor(a, device=device), 1)
    assert got.dtype is tt.bfloat16
    want = pytorch(lambda torch, a: torch.log_softmax(_torch(torch, a), 1), _f32(a))
    np.testing.assert_allclose(_host(got), want.numpy(), rtol=2 ** -7, atol=0)


@pytest.mark.parametrize("device", DEVICES)
def test_gradients_match_pytorch(device):
    a, b = _data()
    x = tt.tensor(a, device=device, requires_grad=True)
    ((x * tt.tensor(b, device=device)).tanh() @ x.T).sum().backward()

    def gradient(torch, a, b):
        xt = _torch(torch, a).requires_grad_(True)
        ((xt * _torch(torch, b)).tanh() @ xt.T).sum().backward()
        return xt.grad
    want = pytorch(gradient, _f32(a), _f32(b))
    assert x.grad.dtype is tt.bfloat16 and x.grad.device == x.device and want.dtype == "bfloat16"
    np.testing.assert_allclose(_host(x.grad), want.numpy(), rtol=2 ** -7, atol=2 ** -10)


@pytest.mark.parametrize("device", DEVICES)
def test_simple_gradients_are_exact(device):
    x = tt.tensor([1.5, -2.0, 0.25], dtype=tt.bfloat16, device=device, requires_grad=True)
    (x * x * 3).sum().backward()
    assert x.grad.dtype is tt.bfloat16
    assert x.grad.tolist() == [9.0, -12.0, 1.5]


@pytest.mark.parametrize("device", DEVICES)
def test_rounding_to_nearest_even_and_specials(device):
    ulp = 2.0 ** -7  # bfloat16 spacing at 1: 7 stored mantissa bits
    values = [1 + ulp / 2, 1 + 1.5 * ulp, 1 + ulp / 2 + 2 ** -20, 3.4e38, -1e39, float("nan"), 1e-40, -0.0]
    for source in (tt.float64, tt.float32):
        x = tt.tensor(values, dtype=source, device=device).bfloat16()
        got = x.tolist()
        assert got[:5] == [1.0, 1 + 2 * ulp, 1 + ulp, float("inf"), float("-inf")]
        assert np.isnan(got[5]) and got[6] == 9.183549615799121e-41 and str(got[7]) == "-0.0"
        assert all(type(v) is float for v in got)
    direct = tt.tensor(values, dtype=tt.bfloat16, device=device).tolist()
    assert direct[:3] == [1.0, 1 + 2 * ulp, 1 + ulp]


def test_double_rounds_through_float32_as_pytorch():
    """A double just above a bfloat16 tie rounds up directly but to even through float32:
    PyTorch converts double -> float -> bfloat16, so tinytape does too."""
    v = 1 + 2.0 ** -8 + 2.0 ** -30
    assert float(np.float64(v).astype(BF16)) == 1 + 2.0 ** -7  # ml_dtypes alone rounds directly
    assert tt.tensor([v], dtype=tt.bfloat16).item() == 1.0
    assert tt.full((1,), v, dtype=tt.bfloat16).item() == 1.0
    assert tt.tensor([v], dtype=tt.float64).to(tt.bfloat16).item() == 1.0
    assert (tt.zeros(1, dtype=tt.bfloat16) + v).item() == 1.0
    assert pytorch(lambda torch: torch.tensor([v], dtype=torch.float64).to(torch.bfloat16).item()) == 1.0


@pytest.mark.parametrize("device", DEVICES)
def test_dtype_rules(device):
    x = tt.ones(2, dtype=tt.bfloat16, device=device)
    assert x.dtype is tt.bfloat16 and repr(tt.bfloat16) == "tinytape.bfloat16"
    assert tt.bfloat16.is_floating_point and x.element_size() == 2 and x.is_cuda == (device == "cuda")
    assert (x + tt.ones(2, dtype=tt.float16, device=device)).dtype is tt.float32
    assert (x + tt.ones(2, device=device)).dtype is tt.float32
    assert (x + tt.ones(2, dtype=tt.float64, device=device)).dtype is tt.float64
    assert (x + tt.ones(2, dtype=tt.int64, device=device)).dtype is tt.bfloat16
    assert (x + tt.ones(2, dtype=tt.bool, device=device)).dtype is tt.bfloat16
    assert (x * 0.5).dtype is tt.bfloat16 and (x + 1).dtype is tt.bfloat16
    assert (x + tt.tensor(2.0, device=device)).dtype is tt.bfloat16  # a 0-d float32 doesn't widen it
    assert (x > 0).dtype is tt.bool
    assert tt.tensor([1.0], device=device).bfloat16().dtype is tt.bfloat16
    assert tt.tensor([1.0], device=device).to(tt.bfloat16).dtype is tt.bfloat16
    assert tt.tensor([1.0], device=device).type(tt.bfloat16).dtype is tt.bfloat16
    assert tt.tensor([1.0], device=device).type("torch.BFloat16Tensor").dtype is tt.bfloat16
    assert x.type() == ("tinytape.cuda.BFloat16Tensor" if device == "cuda" else "tinytape.BFloat16Tensor")
    for make in (tt.zeros, tt.ones, tt.empty, tt.randn, tt.rand):
        assert make(2, 3, dtype=tt.bfloat16, device=device).dtype is tt.bfloat16
    assert tt.arange(3, dtype=tt.bfloat16, device=device).tolist() == [0.0, 1.0, 2.0]
    assert tt.zeros_like(x).dtype is tt.bfloat16 and tt.full_like(x, 3).tolist() == [3.0, 3.0]
    assert x.requires_grad_().requires_grad


@pytest.mark.parametrize("device", DEVICES)
def test_conversions_to_python_and_numpy(device):
    x = tt.tensor([[1.5, -2.0], [0.1, 3.0]], dtype=tt.bfloat16, device=device)
    assert x.tolist() == [[1.5, -2.0], [0.10009765625, 3.0]] and type(x.tolist()[0][0]) is float
    assert x[1, 0].item() == 0.10009765625 and type(x[1, 0].item()) is float and float(x[0, 0]) == 1.5
    with pytest.raises(TypeError, match="Got unsupported ScalarType BFloat16"):
        x.cpu().numpy()
    assert x.float().cpu().numpy().dtype == np.float32
    from_bits = tt.tensor(np.array([1.5, 0.1], np.float32).astype(BF16), device=device)
    assert from_bits.dtype is tt.bfloat16 and from_bits.tolist() == [1.5, 0.10009765625]
    assert tt.tensor(x).dtype is tt.bfloat16 and tt.tensor(x, dtype=tt.float32).dtype is tt.float32


@pytest.mark.parametrize("device", DEVICES)
def test_printing(device):
    x = tt.tensor([1.5, 2.0], dtype=tt.bfloat16, device=device)
    suffix = ", device='cuda:0'" if device == "cuda" else ""
    assert repr(x) == f"tensor([1.5000, 2.0000]{suffix}, dtype=tinytape.bfloat16)"
    a, _ = _data()
    printed = pytorch(lambda torch, a: [repr(_torch(torch, a) * 100), repr(_torch(torch, a).sum())], _f32(a))
    for got, want in zip((tt.tensor(a, device=device) * 100, tt.tensor(a, device=device).sum()), printed):
        expected = want.replace("torch.", "tinytape.")
        if device == "cuda":  # PyTorch's own cuda repr needs a GPU: compare the cpu one, device suffix added
            expected = expected.replace(", dtype", ", device='cuda:0', dtype", 1)
        assert " ".join(repr(got).split()) == " ".join(expected.split())


@pytest.mark.parametrize("device", DEVICES)
def test_in_place_update_stays_bfloat16_and_rounds(device):
    a, b = _data()
    x = tt.tensor(a, device=device)
    with tt.no_grad():
        x -= 0.1 * tt.tensor(b, device=device)
        x[0] = 7.3

    def updated(torch, a, b):
        xt = _torch(torch, a)
        xt -= 0.1 * _torch(torch, b)
        xt[0] = 7.3
        return xt
    want = pytorch(updated, _f32(a), _f32(b))
    assert x.dtype is tt.bfloat16 and want.dtype == "bfloat16"
    np.testing.assert_array_equal(_host(x), want.numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_save_and_load_keep_bfloat16(device):
    x = tt.tensor([1.5, 0.1, -3.0], dtype=tt.bfloat16, device=device)
    buffer = io.BytesIO()
    tt.save({"x": x}, buffer)
    buffer.seek(0)
    y = tt.load(buffer)["x"]
    assert y.dtype is tt.bfloat16 and y.device == x.device and y.tolist() == x.tolist()


@pytest.mark.gpu
def test_cuda_storage_is_bits():
    """numba.cuda holds no bfloat16 arrays: the device buffer is uint16, the DArray says bfloat16."""
    x = tt.tensor([1.0, -2.0], dtype=tt.bfloat16, device="cuda")
    assert x._data.buf.dtype == np.uint16 and x._data.dtype == np.dtype(BF16)
    assert list(x._data.buf.copy_to_host()) == [0x3F80, 0xC000]
    assert tt.cuda.is_bf16_supported()




@pytest.mark.parametrize("device", DEVICES)
def test_compiled_function_replays_bfloat16_op_by_op(device):
    """numba compiles no bfloat16, so a compiled function holding some runs unfused, eagerly's values."""
    a = tt.tensor([[0.5, -1.25], [2.0, 0.1]], dtype=tt.bfloat16, device=device)
    f = tt.compile(lambda x, y: (x * y).tanh().sum(1))
    want = (a * a).tanh().sum(1).tolist()
    assert f(a, a).tolist() == want and f(a, a).tolist() == want and f(a, a).dtype is tt.bfloat16
