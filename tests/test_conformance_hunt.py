"""Conformance fixes found by comparing tinytape with PyTorch: losses' edge cases and
error types, softmax of integers, linalg norms."""
import math

import numpy as np
import pytest

import tinytape as tt
import tinytape.nn.functional as F
from pytorch_answers import pytorch

X = np.random.RandomState(0).randn(4, 5).astype(np.float32)
W = np.array([0.5, 1.0, 2.0, 0.1, 1.5], np.float32)


def both(fn):
    """fn(module, functional) -> (value, grad) under tinytape and PyTorch, as numpy."""
    def run(m, f):
        return [g.detach().numpy() if hasattr(g, "detach") else g for g in fn(m, f)]
    return run(tt, F), pytorch(lambda torch: run(torch, torch.nn.functional))


def _ce(target, **kw):
    def run(m, f):
        x = m.tensor(X.tolist(), requires_grad=True)
        kw2 = dict(kw)
        if "weight" in kw2:
            kw2["weight"] = m.tensor(W.tolist())
        loss = f.cross_entropy(x, m.tensor(target), **kw2)
        (loss.sum() if loss.ndim else loss).backward()
        return loss, x.grad
    return run


@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.2}, {"label_smoothing": 0.2, "weight": 1},
                                {"reduction": "sum", "label_smoothing": 0.1}])
def test_cross_entropy_all_targets_ignored_gives_nan_loss_and_zero_gradient(kw):
    (ours, og), (theirs, tg) = both(_ce([-100] * 4, **kw))
    np.testing.assert_allclose(ours, theirs, equal_nan=True)
    assert np.all(np.isfinite(og)) and np.all(og == 0)
    np.testing.assert_array_equal(og, tg)


@pytest.mark.parametrize("kw", [{"ignore_index": 7, "label_smoothing": 0.3, "weight": 1},
                                {"ignore_index": 7}, {"ignore_index": 4, "weight": 1, "label_smoothing": 0.1}])
def test_cross_entropy_ignored_rows_match(kw):
    (ours, og), (theirs, tg) = both(_ce([1, kw["ignore_index"], 4, kw["ignore_index"]], **kw))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    np.testing.assert_allclose(og, tg, rtol=1e-5, atol=1e-7)


def test_nll_loss_gradient_of_ignored_rows_is_zero_with_mean_over_nothing():
    x = tt.tensor(X.tolist(), requires_grad=True)
    loss = F.nll_loss(x, tt.tensor([-100, -100, -100, -100]))
    assert math.isnan(loss.item())
    loss.backward()
    assert np.all(x.grad.numpy() == 0)


def test_cross_entropy_label_smoothing_range():
    x, t = tt.tensor(X.tolist()), tt.tensor([1, 0, 4, 2])
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, t, label_smoothing=1.5)
    # a negative amount is no smoothing, as PyTorch's
    want = pytorch(lambda torch: torch.nn.functional.cross_entropy(torch.tensor(X), torch.tensor([1, 0, 4, 2]),
                                                                   label_smoothing=-0.1).item())
    assert F.cross_entropy(x, t, label_smoothing=-0.1).item() == pytest.approx(want, rel=1e-6)
    assert F.cross_entropy(x, t, label_smoothing=-0.1).item() == pytest.approx(F.cross_entropy(x, t).item())


def test_cross_entropy_probability_target_refuses_ignore_index_and_names_grad_fn():
    x = tt.tensor(X.tolist(), requires_grad=True)
    p = tt.softmax(tt.tensor(X[::-1].tolist()), 1)
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point target"):
        F.cross_entropy(x, p, ignore_index=2)
    F.cross_entropy(x, p, ignore_index=-1)  # a negative one is accepted, as PyTorch's

    def losses(torch):
        xt = torch.tensor(X, requires_grad=True)
        pt = torch.softmax(torch.tensor(X[::-1].copy()), 1)
        out = [torch.nn.functional.cross_entropy(xt, pt, reduction=red) for red in ("mean", "sum", "none")]
        return [(loss, torch.autograd.grad(loss.sum(), xt)[0]) for loss in out]
    for red, (theirs, gt) in zip(("mean", "sum", "none"), pytorch(losses)):
        ours = F.cross_entropy(x, p, reduction=red)
        assert type(ours.grad_fn).__name__ == theirs.grad_fn
        np.testing.assert_allclose(ours.detach().numpy(), theirs.numpy(), rtol=1e-5)
        g, = tt.autograd.grad(ours.sum(), x)
        np.testing.assert_allclose(g.numpy(), gt.numpy(), rtol=1e-5, atol=1e-7)


def test_nll_loss_weight_must_match_dtype_and_take_no_gradient():
    x, t = tt.tensor(X.tolist()), tt.tensor([1, 0, 4, 2])
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        F.cross_entropy(x, t, weight=tt.ones(5, dtype=tt.float64))
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        F.nll_loss(x, t, weight=tt.ones(5, requires_grad=True))


def test_bce_weights_take_no_gradient():
    x, y = tt.tensor([0.3, 0.6], requires_grad=True), tt.tensor([1., 0.])
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        F.binary_cross_entropy(x, y, weight=tt.ones(2, requires_grad=True))
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'pos_weight'"):
        F.binary_cross_entropy_with_logits(x, y, pos_weight=tt.ones(2, requires_grad=True))
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        F.binary_cross_entropy_with_logits(x, y, weight=tt.ones(2, requires_grad=True))
    with tt.no_grad():  # no graph: nothing to refuse
        F.binary_cross_entropy(x, y, weight=tt.ones(2, requires_grad=True))


@pytest.mark.parametrize("x,y,what", [([1.5], [1.], "input"), ([-1e-4], [1.], "input"),
                                      ([float("nan")], [1.], "input"), ([0.5], [1.5], "target")])
def test_bce_refuses_values_outside_unit_interval(x, y, what):
    with pytest.raises(RuntimeError, match=f"all elements of {what} should be between 0 and 1"):
        F.binary_cross_entropy(tt.tensor(x), tt.tensor(y))
    with pytest.raises(RuntimeError, match=f"all elements of {what} should be between 0 and 1"):
        pytorch(lambda torch: torch.nn.functional.binary_cross_entropy(torch.tensor(x), torch.tensor(y)))


def test_bce_at_the_ends_of_the_interval_matches():
    (ours, og), (theirs, tg) = both(lambda m, f: (lambda x: (f.binary_cross_entropy(x, m.tensor([1., 0., 1., 0.])),
                                                            m.autograd.grad(f.binary_cross_entropy(x, m.tensor([1., 0., 1., 0.])), x)[0]))(
        m.tensor([0., 1., 1., 0.], requires_grad=True)))
    np.testing.assert_allclose(ours, theirs)
    np.testing.assert_allclose(og, tg)


def test_l1_loss_is_in_functional():
    def losses(m):
        x = m.tensor([[1., -2.], [0.5, 3.]], requires_grad=True)
        out = [m.nn.functional.l1_loss(x, m.tensor([[1., 0.], [0., 0.]]), reduction=red)
               for red in ("mean", "sum", "none")]
        return [(loss.detach().numpy(), m.autograd.grad(loss.sum(), x)[0].numpy()) for loss in out]
    for (ours, g), (theirs, gt) in zip(losses(tt), pytorch(losses)):
        np.testing.assert_allclose(ours, theirs)
        np.testing.assert_allclose(g, gt)
    x = tt.tensor([[1., -2.], [0.5, 3.]], requires_grad=True)
    assert tt.nn.L1Loss(reduction="sum")(x, tt.zeros(2, 2)).item() == pytest.approx(6.5)


def test_mse_of_two_integer_tensors_is_refused():
    with pytest.raises(NotImplementedError, match="mse_cpu"):
        F.mse_loss(tt.tensor([1, 2]), tt.tensor([1, 3]))
    assert F.mse_loss(tt.tensor([1, 2]), tt.tensor([1., 3.])).item() == pytest.approx(0.5)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_of_integers_needs_a_dtype(fn):
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        getattr(F, fn)(tt.tensor([1, 2]), 0)
    with pytest.raises(NotImplementedError):
        pytorch(lambda torch: getattr(torch.nn.functional, fn)(torch.tensor([1, 2]), 0))
    with pytest.raises(NotImplementedError, match="'Bool'"):
        getattr(F, fn)(tt.tensor([True]), 0)
    ours = getattr(F, fn)(tt.tensor([1, 2]), 0, dtype=tt.float64)
    theirs = pytorch(lambda torch: getattr(torch.nn.functional, fn)(torch.tensor([1, 2]), 0, dtype=torch.float64))
    assert ours.dtype is tt.float64
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


A = np.array([[1., -3., 2.], [3., 0., -1.], [-2., 3., 1.]], np.float32)
A3 = np.random.RandomState(1).randn(2, 3, 4).astype(np.float32)
INF = float("inf")
NORMS = {
    "vector -inf": (A, lambda m, x: m.linalg.vector_norm(x, -INF)),
    "vector -inf dim": (A, lambda m, x: m.linalg.vector_norm(x, -INF, dim=1)),
    "vector -inf keepdim": (A, lambda m, x: m.linalg.vector_norm(x, -INF, dim=0, keepdim=True)),
    "vector -1": (A + 5, lambda m, x: m.linalg.vector_norm(x, -1, dim=1)),
    "vector 2 over dims 0 and 2": (A3, lambda m, x: m.linalg.vector_norm(x, dim=(0, 2))),
    "vector 2 over dims 2 and 0 keepdim": (A3, lambda m, x: m.linalg.vector_norm(x, dim=(2, 0), keepdim=True)),
    "norm fro over dims 0 and 2": (A3, lambda m, x: m.linalg.norm(x, "fro", dim=(0, 2))),
    "matrix 1": (A, lambda m, x: m.linalg.norm(x, 1)),
    "matrix -1": (A, lambda m, x: m.linalg.norm(x, -1)),
    "matrix inf (tied rows)": (A, lambda m, x: m.linalg.norm(x, INF)),
    "matrix -inf keepdim": (A, lambda m, x: m.linalg.matrix_norm(x, -INF, keepdim=True)),
    "batched matrix 1": (A3, lambda m, x: m.linalg.matrix_norm(x, 1)),
    "matrix inf over dims 0 and 2": (A3, lambda m, x: m.linalg.matrix_norm(x, INF, dim=(0, 2))),
}


@pytest.mark.parametrize("name", list(NORMS))
def test_linalg_norms_match_pytorch_with_gradients(name):
    data, fn = NORMS[name]

    def norm_and_gradient(m, data):
        x = m.tensor(data.tolist(), requires_grad=True)
        y = fn(m, x)
        go = m.tensor(np.linspace(0.5, 1.5, y.numel()).reshape(tuple(y.shape)).astype(np.float32).tolist())
        g, = m.autograd.grad(y, x, go)
        return tuple(y.shape), y.detach().numpy(), g.numpy()
    (s1, v1, g1), (s2, v2, g2) = norm_and_gradient(tt, data), pytorch(norm_and_gradient, data)
    assert s1 == s2
    np.testing.assert_allclose(v1, v2, rtol=1e-5)
    np.testing.assert_allclose(g1, g2, rtol=1e-5, atol=1e-6)


def test_linalg_norm_refuses_integer_input():
    for call in (lambda m: m.linalg.vector_norm(m.tensor([1, 2])), lambda m: m.linalg.norm(m.tensor([1, 2])),
                 lambda m: m.linalg.vector_norm(m.tensor([1, 2]), dtype=m.float64)):
        with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"):
            call(tt)
        with pytest.raises(RuntimeError):
            pytorch(call)


def test_module_dict_matches_pytorch():
    def build(m):
        d = m.nn.ModuleDict({"b": m.nn.Linear(1, 1), "a": m.nn.ReLU()})
        d["c"] = m.nn.Tanh()
        d.update([("e", m.nn.Sigmoid())])
        popped = type(d.pop("a")).__name__
        return (list(d.keys()), list(d.state_dict().keys()), "b" in d, "a" in d, len(d),
                [n for n, _ in d.named_modules()], popped, list(d), repr(d))
    ours, theirs = build(tt), pytorch(build)
    assert ours == theirs
