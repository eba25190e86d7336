"""nn.functional values against direct numpy formulas (float64)."""
import numpy as np
import pytest

import tinytape as tt
import tinytape.nn.functional as F

rng = np.random.default_rng(7)


def t64(a, **kw):
    return tt.tensor(np.asarray(a, np.float64), **kw)


def test_activations():
    a = rng.normal(size=(3, 4)) * 3
    np.testing.assert_allclose(F.relu(t64(a)).numpy(), np.maximum(a, 0))
    np.testing.assert_allclose(F.sigmoid(t64(a)).numpy(), 1 / (1 + np.exp(-a)))
    np.testing.assert_allclose(F.tanh(t64(a)).numpy(), np.tanh(a))
    e = np.exp(a - a.max(1, keepdims=True))
    np.testing.assert_allclose(F.softmax(t64(a), dim=1).numpy(), e / e.sum(1, keepdims=True))
    np.testing.assert_allclose(F.log_softmax(t64(a), dim=1).numpy(), np.log(e / e.sum(1, keepdims=True)))
    e0 = np.exp(a - a.max(0, keepdims=True))
    np.testing.assert_allclose(F.softmax(t64(a), dim=0).numpy(), e0 / e0.sum(0, keepdims=True))
    # far out, no NaN: float32 underflows to 0 (as PyTorch's 1 / (1 + exp(100))), float64 keeps a value
    assert F.sigmoid(tt.tensor([-100.0])).item() == 0.0
    assert 0 < F.sigmoid(tt.tensor([-100.0], dtype=tt.float64)).item() < 1e-43


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses(reduction):
    x, y = rng.normal(size=(5, 3)), rng.uniform(size=(5, 3))
    p = 1 / (1 + np.exp(-x))
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
    np.testing.assert_allclose(F.mse_loss(t64(x), t64(y), reduction=reduction).numpy(), reduce((x - y) ** 2))
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(F.binary_cross_entropy(t64(p), t64(y), reduction=reduction).numpy(), reduce(bce))
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(t64(x), t64(y), reduction=reduction).numpy(),
                               reduce(bce))
    target = np.array([0, 2, 1, 1, 0])
    logp = np.log(np.exp(x) / np.exp(x).sum(1, keepdims=True))
    ce = -logp[np.arange(5), target]
    np.testing.assert_allclose(F.cross_entropy(t64(x), tt.tensor(target), reduction=reduction).numpy(), reduce(ce))


def test_bce_with_logits_is_stable_for_large_logits():
    x = tt.tensor([1000.0, -1000.0, 100.0, -100.0, 30.0])
    y = tt.tensor([0.0, 1.0, 1.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    tail = np.log1p(np.exp(-100.0))
    np.testing.assert_allclose(loss.numpy(), [1000.0, 1000.0, tail, tail, np.log1p(np.exp(-30.0))], rtol=1e-5, atol=1e-40)
    x.requires_grad_()
    F.binary_cross_entropy_with_logits(x, y, reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0, 0.0, 0.0, -np.exp(-30.0) / (1 + np.exp(-30.0))],
                               atol=1e-7)
    # binary_cross_entropy clamps its logs at -100, as PyTorch does
    assert F.binary_cross_entropy(tt.tensor([0.0, 1.0]), tt.tensor([1.0, 0.0])).item() == 100.0


def test_cross_entropy_weight_and_ignore_index():
    x = rng.normal(size=(4, 3))
    target = np.array([0, 2, -100, 1])
    w = np.array([1.0, 2.0, 0.5])
    logp = np.log(np.exp(x) / np.exp(x).sum(1, keepdims=True))
    keep = target != -100
    picked = -logp[np.arange(4)[keep], target[keep]] * w[target[keep]]
    got = F.cross_entropy(t64(x), tt.tensor(target), weight=t64(w))
    np.testing.assert_allclose(got.item(), picked.sum() / w[target[keep]].sum())


def test_loss_errors_name_the_op():
    with pytest.warns(UserWarning, match="different to the input size"), \
            pytest.raises(RuntimeError, match=r"^The size of tensor a \(3\) must match the size of tensor b \(2\) at "
                                              r"non-singleton dimension 0 \(mse_loss: shapes \[3\] and \[2\]\)$"):
        F.mse_loss(tt.ones(3), tt.ones(2))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(tt.ones(3), tt.ones(3), reduction="avg")
    with pytest.raises(RuntimeError, match=r"^expected target dtype to be Long or Byte, but got Float$"):
        F.cross_entropy(tt.ones(2, 3), tt.ones(2))
    with pytest.raises(RuntimeError, match="^expected target dtype to be Long or Byte, but got Float$"):
        F.nll_loss(tt.ones(2, 3), tt.ones(2))


@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_label_smoothing(weighted):
    x = rng.normal(size=(5, 3))
    target = np.array([0, 2, 1, -100, 2])
    w = np.array([0.5, 1.0, 2.0]) if weighted else np.ones(3)
    eps = 0.1
    logp = np.log(np.exp(x) / np.exp(x).sum(1, keepdims=True))
    keep = target != -100
    rows, t = np.arange(5)[keep], target[keep]
    denominator = w[t].sum()
    nll = (-logp[rows, t] * w[t]).sum() / denominator
    smooth = (-(logp[rows] * w).sum(1)).sum() / denominator
    expected = (1 - eps) * nll + eps / 3 * smooth
    got = F.cross_entropy(t64(x), tt.tensor(target), weight=t64(w) if weighted else None, label_smoothing=eps)
    np.testing.assert_allclose(got.item(), expected)
