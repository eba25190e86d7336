"""The CPU's fused eager kernels (backend/cpu/fused.py) equal the kernel sequences they
stand in for, bit for bit: each case runs once plainly (fused) and once inside an open
``Tape`` (which makes the formulas run their kernel sequences, as a trace sees them)."""
import numpy as np
import pytest

import tinytape as torch
import tinytape.nn.functional as F
from tinytape.autograd.tape import Tape

SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 88.0, -104.0, 1e30]


def _values(shape, dtype, seed, specials=True):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    if specials:
        flat = x.reshape(-1)
        picks = rng.choice(flat.size, min(flat.size // 3, len(SPECIALS)), replace=False)
        flat[picks] = np.array(SPECIALS[:len(picks)], dtype)
    return x


def _bits(a):
    """The values' bits, every nan as one (which operand's payload a sum of two nans
    propagates is the compiler's choice: LLVM may swap a commutative add's operands)."""
    a = np.array(a)
    if a.dtype.kind == "f":
        a[np.isnan(a)] = np.nan
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64 if a.dtype == np.float64 else a.dtype)


def _both(run):
    """run() plainly and with a Tape open: the two results' arrays."""
    fused = run()
    with Tape():
        sequence = run()
    return fused, sequence


def _assert_same(fused, sequence):
    for f, s in zip(fused, sequence):
        if f is None:
            assert s is None
            continue
        f, s = f.detach().numpy(), s.detach().numpy()
        assert f.dtype == s.dtype and f.shape == s.shape
        np.testing.assert_array_equal(_bits(f), _bits(s))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("ignore_index", [-100, 3])
@pytest.mark.parametrize("specials", [False, True])
def test_cross_entropy_forward_and_backward(dtype, reduction, ignore_index, specials):
    logits = _values((37, 11), dtype, 1, specials)
    target = np.random.default_rng(2).integers(0, 11, 37)
    target[::5] = ignore_index if ignore_index >= 0 else -100

    def run():
        x = torch.tensor(logits, requires_grad=True)
        loss = F.cross_entropy(x, torch.tensor(target), ignore_index=ignore_index, reduction=reduction)
        (loss * 1.5).backward()
        return loss, x.grad

    _assert_same(*_both(run))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_nll_loss_with_every_target_ignored(reduction):
    def run():
        x = torch.tensor(_values((4, 3), np.float32, 3, False), requires_grad=True)
        loss = F.nll_loss(x, torch.tensor([-100, -100, -100, -100]), reduction=reduction)
        loss.backward()
        return loss, x.grad

    fused, sequence = _both(run)
    _assert_same(fused, sequence)
    assert np.isnan(fused[0].item()) == (reduction == "mean")  # 0 / 0: PyTorch's nan


def test_nll_loss_target_out_of_range_in_pytorchs_words():
    x = torch.randn(4, 3, requires_grad=True)
    for target in ([0, 1, 3, 0], [0, -1, 2, 0]):
        words = rf"^Target {target[2] if target[2] == 3 else -1} is out of bounds\.$"
        with pytest.raises(IndexError, match=words):
            F.nll_loss(x, torch.tensor(target))
        with Tape(), pytest.raises(IndexError, match=words):
            F.nll_loss(x, torch.tensor(target))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["tanh", "sigmoid"])
def test_tanh_and_sigmoid_backward(dtype, op):
    grad = _values((9, 31), dtype, 7)

    def run():
        x = torch.tensor(_values((9, 31), dtype, 6), requires_grad=True)
        getattr(torch, op)(x).backward(torch.tensor(grad))
        return (x.grad,)

    _assert_same(*_both(run))


def test_strided_gradients_take_the_sequence():
    """A transposed gradient is not a layout the fused kernels take: the result is the
    sequence's either way."""
    def run():
        x = torch.tensor(_values((6, 8), np.float32, 8), requires_grad=True)
        y = torch.tensor(_values((6, 8), np.float32, 9), requires_grad=True)
        (torch.sigmoid(x) * torch.tensor(_values((8, 6), np.float32, 10)).t()).sum().backward()
        (torch.tanh(y) * torch.tensor(_values((8, 6), np.float32, 11)).t()).sum().backward()
        return x.grad, y.grad

    _assert_same(*_both(run))
