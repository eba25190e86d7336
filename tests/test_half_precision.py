"""float16 tensors compute as PyTorch's do on the CPU: each kernel runs in float32 and
rounds its result to float16 (numba compiles no float16 arithmetic), on both backends.
Values are compared bit for bit against PyTorch; gradients within one float16 rounding
(a derivative written as tensor ops rounds after each of them, PyTorch's fused
backward kernels once)."""
import numpy as np
import pytest

import tinytape as tt
from pytorch_answers import pytorch

DEVICES = ["cpu", "cuda"]  # cuda: numba's simulator where there is no GPU (conftest)

CASES = {
    "add": lambda m, x, y: x + y[:1],
    "mul_scalar": lambda m, x, y: x * 3,
    "div": lambda m, x, y: x / (y[:1].abs() + 1),
    "pow": lambda m, x, y: x.abs().pow(1.5),
    "mm": lambda m, x, y: x @ y.T,
    "sum_dim": lambda m, x, y: x.sum(1),
    "mean": lambda m, x, y: x.mean(),
    "max_dim": lambda m, x, y: x.max(1)[0],
    "argmax": lambda m, x, y: x.argmax(1),
    "softmax": lambda m, x, y: m.softmax(x, 1),
    "relu": lambda m, x, y: m.relu(x),
    "exp": lambda m, x, y: x.exp(),
    "tanh": lambda m, x, y: x.tanh(),
    "sigmoid": lambda m, x, y: x.sigmoid(),
    "gt": lambda m, x, y: x > y,
    "where": lambda m, x, y: m.where(x > 0, x, y),
    "clamp": lambda m, x, y: x.clamp(min=-0.5, max=0.5),
    "index": lambda m, x, y: x[[0, 2]],
    "gather": lambda m, x, y: x.gather(1, m.tensor([[0], [1], [3]])),
}


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((3, 4)).astype(np.float16), rng.standard_normal((3, 4)).astype(np.float16)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_pytorch_bitwise(name, device):
    a, b = _data()
    got = CASES[name](tt, tt.tensor(a, device=device), tt.tensor(b, device=device))
    want = pytorch(lambda torch, a, b: CASES[name](torch, torch.tensor(a), torch.tensor(b)), a, b)
    assert got.dtype.name == want.dtype
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_gradients_match_pytorch_bitwise(device):
    a, b = _data()
    x = tt.tensor(a, device=device, requires_grad=True)
    ((x * tt.tensor(b, device=device)).tanh() @ x.T).sum().backward()

    def gradient(torch, a, b):
        xt = torch.tensor(a, requires_grad=True)
        ((xt * torch.tensor(b)).tanh() @ xt.T).sum().backward()
        return xt.grad
    xt = pytorch(gradient, a, b)
    assert x.grad.dtype is tt.float16 and xt.dtype == "float16"
    np.testing.assert_allclose(x.grad.cpu().numpy().astype(np.float32), xt.numpy().astype(np.float32),
                               rtol=2 ** -10, atol=2 ** -14)


def test_in_place_update_stays_float16_and_rounds():
    a, b = _data()
    x = tt.tensor(a)
    with tt.no_grad():
        x -= 0.1 * tt.tensor(b)

    def updated(torch, a, b):
        xt = torch.tensor(a)
        xt -= 0.1 * torch.tensor(b)
        return xt
    xt = pytorch(updated, a, b)
    assert x.dtype is tt.float16 and xt.dtype == "float16"
    np.testing.assert_array_equal(x.numpy(), xt.numpy())
