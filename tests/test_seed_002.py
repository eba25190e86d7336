"""Seed 002 (the PyTorch tutorial's autograd page), all cells but the view-write one."""
import numpy as np

from helpers import normalize

import tinytape as torch


def test_one_layer_network(capsys):
    x = torch.ones(5)
    y = torch.zeros(3)
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3)
    b.requires_grad_(True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    print(f"Gradient function for z = {z.grad_fn}")
    print(f"Gradient function for loss = {loss.grad_fn}")
    out = normalize(capsys.readouterr().out)
    assert out == ("Gradient function for z = <AddBackward0 object at 0x...>\n"
                   "Gradient function for loss = <BinaryCrossEntropyWithLogitsBackward0 object at 0x...>\n")

    loss.backward()
    # d loss / dz_j = sigmoid(z_j) / 3; every row of w.grad is that vector (x is ones)
    zj = np.ones(5, np.float64) @ w.detach().numpy().astype(np.float64) + b.detach().numpy()
    expected = 1 / (1 + np.exp(-zj)) / 3
    np.testing.assert_allclose(b.grad.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), np.tile(expected, (5, 1)), rtol=1e-6)
    print(w.grad)
    print(b.grad)
    text = capsys.readouterr().out.splitlines()
    row = "[" + ", ".join(f"{v:.4f}" for v in b.grad.tolist()) + "]"
    assert text[0] == "tensor([" + row + ","
    assert text[4] == "        " + row + "])"
    assert text[5] == "tensor(" + row + ")"


def test_requires_grad_no_grad_and_detach():
    x = torch.ones(5)
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    z = torch.matmul(x, w) + b
    assert z.requires_grad is True
    with torch.no_grad():
        z = torch.matmul(x, w) + b
    assert z.requires_grad is False
    z = torch.matmul(x, w) + b
    assert z.detach().requires_grad is False


def test_jacobian_product_accumulates(capsys):
    inp = torch.eye(5, requires_grad=True)
    out = (inp + 1).pow(2)
    out.backward(torch.ones_like(inp), retain_graph=True)
    print(f"First call\n{inp.grad}")
    out.backward(torch.ones_like(inp), retain_graph=True)
    print(f"\nSecond call\n{inp.grad}")
    inp.grad.zero_()
    out.backward(torch.ones_like(inp), retain_graph=True)
    print(f"\nCall after zeroing gradients\n{inp.grad}")
    assert capsys.readouterr().out == """First call
tensor([[4., 2., 2., 2., 2.],
        [2., 4., 2., 2., 2.],
        [2., 2., 4., 2., 2.],
        [2., 2., 2., 4., 2.],
        [2., 2., 2., 2., 4.]])

Second call
tensor([[8., 4., 4., 4., 4.],
        [4., 8., 4., 4., 4.],
        [4., 4., 8., 4., 4.],
        [4., 4., 4., 8., 4.],
        [4., 4., 4., 4., 8.]])

Call after zeroing gradients
tensor([[4., 2., 2., 2., 2.],
        [2., 4., 2., 2., 2.],
        [2., 2., 4., 2., 2.],
        [2., 2., 2., 4., 2.],
        [2., 2., 2., 2., 4.]])
"""


def test_write_through_a_view_of_the_output(capsys):
    inp = torch.eye(5, requires_grad=True)

    def fx(input):
        output = (input + 3).pow(2)
        output[0][0] = input[0][0] ** 3 + 2 * input[0][0] ** 2
        return output

    out = fx(inp)
    print(inp.grad)
    out.backward(inp)
    print(inp.grad)
    assert capsys.readouterr().out == """None
tensor([[7., 0., 0., 0., 0.],
        [0., 8., 0., 0., 0.],
        [0., 0., 8., 0., 0.],
        [0., 0., 0., 8., 0.],
        [0., 0., 0., 0., 8.]])
"""
    assert out[0, 0].item() == 3.0 and out[1, 1].item() == 16.0
