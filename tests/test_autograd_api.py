"""backward / grad / hooks / grad modes / custom Functions / errors."""
import threading

import numpy as np
import pytest

import tinytape as tt
from tinytape.autograd import Function, grad


def test_backward_of_non_scalar_needs_gradient():
    x = tt.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        (x * 2).backward()
    (x * 2).backward(tt.tensor([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(tt.ones(2))


def test_grad_errors():
    x = tt.ones(2, requires_grad=True)
    c = tt.ones(2)
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        c.sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        grad((x * 2).sum(), c)
    y = tt.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="not have been used in the graph"):
        grad((x * 2).sum(), [x, y])
    gx, gy = grad((x * 2).sum(), [x, y], allow_unused=True)
    assert gx.tolist() == [2.0, 2.0] and gy is None
    assert x.grad is None  # grad() leaves .grad alone


def test_autograd_backward_function_and_grad_tensors():
    x = tt.ones(2, requires_grad=True)
    a, b = x * 2, x * 3
    tt.autograd.backward([a, b], [tt.ones(2), tt.tensor([1.0, 0.0])])
    assert x.grad.tolist() == [5.0, 2.0]


def test_grad_wrt_non_leaf_and_multiple_outputs():
    x = tt.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    out = (h * 3).sum()
    (gh, gx) = grad(out, [h, x])
    assert gh.tolist() == [3.0, 3.0] and gx.tolist() == [6.0, 12.0]


def test_hooks_and_retain_grad():
    x = tt.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.tolist()))
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 10)  # replaces the gradient flowing on
    y.sum().backward()
    assert y.grad.tolist() == [10.0, 10.0]  # retained after the hooks ran, as PyTorch
    assert x.grad.tolist() == [20.0, 20.0] and seen == [[20.0, 20.0]]
    handle.remove()
    (x * 1).sum().backward()
    assert seen == [[20.0, 20.0]]


def test_no_grad_enable_grad_set_grad_enabled():
    x = tt.ones(2, requires_grad=True)
    with tt.no_grad():
        assert not (x * 2).requires_grad
        with tt.enable_grad():
            assert (x * 2).requires_grad
    assert tt.is_grad_enabled()

    @tt.no_grad()
    def f():
        return x * 2
    assert not f().requires_grad
    tt.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    tt.set_grad_enabled(True)
    with tt.set_grad_enabled(False):
        assert not tt.is_grad_enabled()
    assert tt.is_grad_enabled()


def test_grad_mode_is_per_thread():
    results = {}
    ready, done = threading.Event(), threading.Event()

    def worker():
        ready.wait()
        results["worker"] = tt.is_grad_enabled()
        done.set()

    t = threading.Thread(target=worker)
    t.start()
    with tt.no_grad():
        ready.set()
        done.wait()
        results["main"] = tt.is_grad_enabled()
    t.join()
    assert results == {"worker": True, "main": False}


class Cube(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x ** 3 * scale

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2 * ctx.scale, None


def test_custom_function():
    x = tt.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "CubeBackward"
    assert repr(y.grad_fn).startswith("<tinytape.autograd.function.CubeBackward object at 0x")  # as PyTorch
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]


def test_wrong_gradient_count_or_shape_is_reported():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    class BadShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return tt.ones(5)

    x = tt.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match=r"BadShapeBackward returned an invalid gradient at index 0 - got \[5\]"):
        BadShape.apply(x).sum().backward()


def test_explain_prints_the_tape_and_its_adjoints():
    x = tt.tensor([1.0, 2.0], requires_grad=True)
    w = tt.tensor([3.0, -4.0], requires_grad=True)
    loss = (x * w).relu().sum()
    quiet = open("/dev/null", "w")
    assert tt.explain(loss, file=quiet).splitlines() == [
        "v0 = leaf [2] requires_grad",
        "v1 = leaf [2] requires_grad",
        "v2 = MulBackward0(v0, v1) -> [2]",
        "v3 = ReluBackward0(v2) -> [2]",
        "v4 = SumBackward0(v3) -> []",
    ]
    assert tt.explain(loss, backward=True, file=quiet).splitlines() == [
        "v0 = leaf [2] requires_grad   adjoint tensor([3., -0.])",
        "v1 = leaf [2] requires_grad   adjoint tensor([1., 0.])",
        "v2 = MulBackward0(v0, v1) -> [2]   adjoint tensor([1., 0.])",
        "v3 = ReluBackward0(v2) -> [2]   adjoint tensor([1., 1.])",
        "v4 = SumBackward0(v3) -> []   adjoint tensor(1.)",
    ]
    assert x.grad is None  # explain's backward leaves .grad alone
    loss.backward()
    text = tt.explain(loss, file=quiet).splitlines()
    assert text[0] == "v0 = leaf [2] requires_grad   .grad tensor([3., -0.])"
    assert text[-2] == "v3 = ReluBackward0(v2) -> [2]  (freed)"  # its saved output released
    assert text[-1] == "v4 = SumBackward0(v3) -> []"  # saved nothing: nothing to free, as PyTorch's


def test_gradcheck_detects_a_wrong_derivative():
    class WrongSin(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.sin()  # should be cos

    x = tt.tensor(np.linspace(0.1, 1, 4), requires_grad=True)
    assert tt.autograd.gradcheck(WrongSin.apply, (x,), raise_exception=False) is False
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        tt.autograd.gradcheck(WrongSin.apply, (x,))


class SplitScale(Function):
    """Two outputs, a non-tensor argument, and needs_input_grad honoured."""

    @staticmethod
    def forward(ctx, x, y, factor):
        ctx.save_for_backward(x, y)
        ctx.factor = factor
        ctx.seen_needs = ctx.needs_input_grad
        return x * y * factor, x + y

    @staticmethod
    def backward(ctx, g_prod, g_sum):
        x, y = ctx.saved_tensors
        gx = g_prod * y * ctx.factor + g_sum if ctx.needs_input_grad[0] else None
        gy = g_prod * x * ctx.factor + g_sum if ctx.needs_input_grad[1] else None
        return gx, gy, None


def test_custom_function_several_outputs_and_needs_input_grad():
    x = tt.tensor([1.0, 2.0], dtype=tt.float64, requires_grad=True)
    y = tt.tensor([3.0, 4.0], dtype=tt.float64)
    prod, total = SplitScale.apply(x, y, 2.0)
    assert prod.grad_fn is total.grad_fn and prod.grad_fn.seen_needs == (True, False, False)
    (prod.sum() + 3 * total.sum()).backward()
    assert x.grad.tolist() == [2 * 3 + 3, 2 * 4 + 3]
    prod, _ = SplitScale.apply(x, y, 2.0)
    x.grad = None
    prod.sum().backward()  # the unused output's gradient arrives as zeros
    assert x.grad.tolist() == [6.0, 8.0]
    yy = tt.tensor([3.0, 4.0], dtype=tt.float64, requires_grad=True)
    assert tt.autograd.gradcheck(lambda a, b: SplitScale.apply(a, b, 1.5), (x, yy))


def test_custom_function_without_grad_mode_records_nothing():
    x = tt.ones(2, requires_grad=True)
    with tt.no_grad():
        out = Cube.apply(x, 1.0)
    assert out.grad_fn is None and not out.requires_grad
