"""Seed 003 (the autograd tutorial notebook): its cells and what they print."""
import re

import numpy as np
import pytest

from helpers import normalize

import tinytape as torch


def test_tracking_and_grad_fns(capsys):
    x = torch.ones(2, 2, requires_grad=True)
    print(x)
    y = x - 4
    print(y.grad_fn)
    z = y * y * 5
    out = z.mean()
    print(z)
    print(out)
    assert normalize(capsys.readouterr().out) == (
        "tensor([[1., 1.],\n        [1., 1.]], requires_grad=True)\n"
        "<SubBackward0 object at 0x...>\n"
        "tensor([[45., 45.],\n        [45., 45.]], grad_fn=<MulBackward0>)\n"
        "tensor(45., grad_fn=<MeanBackward0>)\n")

    out.backward()
    print(x.grad)
    assert capsys.readouterr().out == "tensor([[-7.5000, -7.5000],\n        [-7.5000, -7.5000]])\n"
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert y.grad is None
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert z.grad is None


def test_requires_grad_in_place_flag(capsys):
    a = torch.randn(2, 2)
    a = ((a * 3) / (a - 1))
    print(a.requires_grad)
    b = (a * a).sum()
    print(b.grad_fn)
    print('----')
    a.requires_grad_(True)
    print(a.requires_grad)
    b = (a * a).sum()
    print(b)
    out = capsys.readouterr().out.splitlines()
    assert out[:4] == ["False", "None", "----", "True"]
    assert re.fullmatch(r"tensor\(-?\d+\.\d{4}, grad_fn=<SumBackward0>\)|tensor\(-?\d\.\d{4}e[+-]\d\d, grad_fn=<SumBackward0>\)", out[4])


def test_vector_jacobian_product(capsys):
    x = torch.randn(3, requires_grad=True)
    y = x * 2
    doublings = 1
    while y.data.norm() < 1000:
        print(f'L2 norm: {y.data.norm()}')
        y = y * 2
        doublings += 1
    lines = capsys.readouterr().out.splitlines()
    norms = [float(line.split(": ")[1]) for line in lines]
    assert all(line.startswith("L2 norm: ") for line in lines)
    expected = np.linalg.norm(x.detach().numpy().astype(np.float64))
    for k, n in enumerate(norms):
        assert n == pytest.approx(expected * 2 ** (k + 1), rel=1e-5)
    assert repr(y).endswith("grad_fn=<MulBackward0>)")

    v = torch.tensor([0.1, 1.0, 0.00001], dtype=torch.float)
    y.backward(v)
    np.testing.assert_array_equal(x.grad.numpy(), v.numpy() * np.float32(2 ** doublings))
    print(x.grad)
    assert re.fullmatch(r"tensor\(\[\d\.\d{4}e\+\d\d, \d\.\d{4}e\+\d\d, \d\.\d{4}e[+-]\d\d\]\)\n",
                        capsys.readouterr().out)


def test_stop_tracking(capsys):
    x = torch.randn(3, requires_grad=True)
    print(x.requires_grad)
    print((2 * x).requires_grad)
    print('-----')
    with torch.no_grad():
        print((2 * x).requires_grad)
    print('-----')
    detached = x.detach()
    print(detached.requires_grad)
    print((detached == x))
    assert capsys.readouterr().out == "True\nTrue\n-----\nFalse\n-----\nFalse\ntensor([True, True, True])\n"


def test_exercise_scalars():
    x = torch.tensor(1., requires_grad=True)
    w = torch.tensor(0.27, requires_grad=True)
    b = torch.tensor(3., requires_grad=True)
    y = w * x + b
    y.backward()
    assert (x.grad.item(), w.grad.item(), b.grad.item()) == pytest.approx((0.27, 1.0, 1.0))
    for t in (x, w, b):
        t.grad = None
    z = w * (x ** 2 - b)
    z.backward()
    assert (x.grad.item(), w.grad.item(), b.grad.item()) == pytest.approx((2 * 0.27, 1 - 3, -0.27))
    assert repr(z) == "tensor(-0.5400, grad_fn=<MulBackward0>)"
