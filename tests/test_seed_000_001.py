"""Seeds 000 and 001 (the STAT 453 autograd example): every printed value."""
from helpers import normalize

import tinytape as torch
from tinytape.autograd import grad
import tinytape.nn.functional as F


def build():
    x = torch.tensor([3.])
    w = torch.tensor([2.], requires_grad=True)
    b = torch.tensor([1.], requires_grad=True)
    return x, w, b


def my_relu(z):
    if z > 0.:
        return z
    else:
        z[:] = 0.
        return z


def test_relu_graph_prints_and_grads():
    x, w, b = build()
    a = F.relu(x * w + b)
    assert repr(a) == "tensor([7.], grad_fn=<ReluBackward0>)"
    assert repr(grad(a, w, retain_graph=True)) == "(tensor([3.]),)"
    assert repr(grad(a, b)) == "(tensor([1.]),)"


def test_my_relu_positive_branch():
    x, w, b = build()
    a = my_relu(x * w + b)
    assert repr(grad(a, w)) == "(tensor([3.]),)"


def test_my_relu_zero_branch_writes_through_setitem():
    # the branch the seeds define but never take: z[:] = 0. on a recorded tensor
    x = torch.tensor([-3.])
    w = torch.tensor([2.], requires_grad=True)
    b = torch.tensor([1.], requires_grad=True)
    a = my_relu(x * w + b)
    assert repr(a) == "tensor([0.], grad_fn=<CopySlices>)"
    assert repr(grad(a, w)) == "(tensor([-0.]),)"  # 0 (overwritten) times x = -3


def test_relu_at_zero_gives_negative_zero():
    x = torch.tensor([-1.])
    w = torch.tensor([1.], requires_grad=True)
    b = torch.tensor([1.], requires_grad=True)
    a = F.relu(x * w + b)
    (gw,) = grad(a, w, retain_graph=False)
    assert repr((gw,)) == "(tensor([-0.]),)"
    assert str(gw.item()) == "-0.0"


def test_grad_fn_repr_names_the_node():
    x, w, b = build()
    a = F.relu(x * w + b)
    assert normalize(repr(a.grad_fn)) == "<ReluBackward0 object at 0x...>"
