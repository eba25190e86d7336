"""The classic autodiff traps."""
import gc
import weakref

import numpy as np
import pytest

import tinytape as tt
from tinytape.autograd import grad


def test_reused_non_leaf():
    a = tt.tensor([2.0], requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.tolist() == [4.0]
    x = tt.tensor(3.0, requires_grad=True)
    y = x * x
    z = y * y + y  # y used three times
    z.backward()
    assert x.grad.item() == pytest.approx(4 * 27 + 6)


@pytest.mark.slow
def test_deep_chain_100k_ops():
    x = tt.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_backward_twice_raises_then_retain_graph_allows():
    x = tt.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [2 * 3, 4 * 3]  # the refused backward added nothing


def test_scalar_vs_row_broadcasting():
    s = tt.tensor(2.0, requires_grad=True)        # shape ()
    row = tt.ones(1, 3, requires_grad=True)       # shape (1, 3)
    m = tt.ones(4, 3)
    out = (m * s + row * m).sum()
    out.backward()
    assert s.grad.shape == () and s.grad.item() == 12.0
    assert row.grad.shape == (1, 3) and row.grad.tolist() == [[4.0, 4.0, 4.0]]
    v = tt.tensor([1.0, 2.0, 3.0], requires_grad=True)  # (3,) against (1, 3)
    (v * row).sum().backward()
    assert v.grad.shape == (3,) and v.grad.tolist() == [1.0, 1.0, 1.0]


def test_second_derivative_of_cube():
    x = tt.tensor(2.0, requires_grad=True)
    (dy,) = grad(x ** 3, x, create_graph=True)
    assert dy.item() == 12.0
    (d2y,) = grad(dy, x, create_graph=True)
    assert d2y.item() == 12.0
    (d3y,) = grad(d2y, x)
    assert d3y.item() == 6.0
    x.grad = None
    (x ** 3).backward(create_graph=True)
    x.grad.backward()
    assert x.grad.item() == 12.0 + 12.0  # dy/dx accumulated, then d2y/dx added


def test_transposed_inputs():
    w = tt.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    out = w.t().mm(w).sum()
    out.backward()
    expected = 2 * np.arange(6.0).reshape(2, 3).sum(1, keepdims=True).repeat(3, 1)
    np.testing.assert_allclose(w.grad.numpy(), expected)


def test_inplace_on_saved_tensor_is_refused():
    x = tt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y  # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: \[tinytape.FloatTensor \[2\]\], which is output 0 of Add"):
        z.sum().backward()


def test_leaf_requiring_grad_refuses_inplace_outside_no_grad():
    w = tt.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1)
    with tt.no_grad():
        w.sub_(1)
    assert w.tolist() == [0.0, 0.0, 0.0]
    w.data -= 1  # through .data: not tracked
    assert w.tolist() == [-1.0, -1.0, -1.0] and w.grad_fn is None


def test_graph_is_freed_when_the_loss_is_dropped():
    w = tt.randn(10, requires_grad=True)
    loss = (w.exp() * w).sum()
    node = weakref.ref(loss.grad_fn)
    loss.backward()
    del loss
    gc.collect()
    assert node() is None


def test_saved_output_does_not_make_a_reference_cycle():
    gc.disable()
    try:
        w = tt.randn(10, requires_grad=True)
        y = w.exp()  # Exp saves its own output
        node = weakref.ref(y.grad_fn)
        del y
        assert node() is None  # freed by reference counting alone
    finally:
        gc.enable()


def test_grad_of_shared_gradient_is_not_aliased():
    a = tt.tensor([1.0], requires_grad=True)
    b = tt.tensor([2.0], requires_grad=True)
    (a + b).backward(tt.tensor([1.0]))
    a.grad.zero_()
    assert b.grad.tolist() == [1.0]
    g = tt.tensor([5.0])
    c = tt.tensor([1.0], requires_grad=True)
    (c + 0).backward(g)
    c.grad.add_(1)
    assert g.tolist() == [5.0]


def test_accumulating_into_a_grad_that_came_from_a_broadcast():
    x = tt.ones(3, requires_grad=True)
    x.sum().backward()   # sum's backward hands out a broadcast view
    x.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    w = tt.ones(2, 3, requires_grad=True)
    for _ in range(2):
        (w.view(6) * 2).sum().backward()
        w.t().sum().backward()
    assert w.grad.tolist() == [[6.0] * 3] * 2
