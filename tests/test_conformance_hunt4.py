"""Differences from PyTorch found by running tutorial-style programs under both (Learning
PyTorch with Examples, the classifier and nn tutorials, d2l's softmax, MLP and attention
chapters, makemore's manual backprop, nanoGPT's attention bits, reference-page examples):
softmax and log_softmax to the last bit, float32 powers to the last bit, indexing that
mixes integers with tensors, the trapezoidal rule, the printer's options module and a set
of small API differences.  Each test runs one program under tinytape and compares it with
PyTorch's recorded answer for the same program."""
import math
import warnings

import numpy as np
import pytest

import tinytape
from helpers import check_against_pytorch, check_grad


check = check_against_pytorch


def _outcome(f):
    """f()'s value, or the type and message of what it raised."""
    try:
        return f()
    except Exception as e:  # noqa: BLE001 - the error is the answer
        return f"{type(e).__name__}: {e}"


# ---------------------------------------------------------------- softmax, bit for bit


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_and_log_softmax_along_the_last_dim_and_their_gradients_are_pytorchs_bits(dtype):
    def run(torch):
        g = torch.Generator().manual_seed(0)
        out = []
        for n in (1, 5, 15, 16, 17, 27, 33, 100):
            x = (torch.randn(3, n, generator=g, dtype=getattr(torch, dtype)) * 4).requires_grad_()
            up = torch.randn(3, n, generator=g, dtype=getattr(torch, dtype))
            for f in (lambda t: torch.softmax(t, -1), lambda t: torch.log_softmax(t, 1)):
                x.grad = None
                y = f(x)
                y.backward(up)
                out += [y, x.grad]
        return out
    check(run)


def test_cross_entropy_and_the_makemore_manual_backprop_check_agree_with_pytorch_exactly():
    def run(torch):
        F = torch.nn.functional
        g = torch.Generator().manual_seed(2147483647)
        n, vocab = 32, 27
        h = torch.randn(n, 64, generator=g) * 0.5  # (products and tanh: the BLAS and MKL decide their last bits)
        W = (torch.randn(n, vocab, generator=g) * 0.5).requires_grad_()
        b2 = (torch.randn(vocab, generator=g) * 0.1).requires_grad_()
        Yb = torch.randint(0, vocab, (n,), generator=g)
        logits = h[:, :vocab] * 3 + W + b2
        logits.retain_grad()
        loss = F.cross_entropy(logits, Yb)
        loss.backward()
        dlogits = F.softmax(logits, 1)
        dlogits[range(n), Yb] -= 1
        dlogits /= n
        probs = F.softmax(logits.detach(), dim=1)
        return [loss, logits.grad, dlogits, torch.all(dlogits == logits.grad).item(),
                (dlogits - logits.grad).abs().max().item(), probs, F.log_softmax(logits.detach(), 1),
                F.nll_loss(F.log_softmax(logits.detach(), 1), Yb)]
    check(run)


# ---------------------------------------------------------------- float32 powers


def test_float32_powers_of_a_number_are_pytorchs_sleef_pow_bits():
    def run(torch):
        x = torch.linspace(-math.pi, math.pi, 2000)
        r = torch.rand(1000, generator=torch.Generator().manual_seed(3)) * 10
        special = torch.tensor([0., -0., float("inf"), -float("inf"), float("nan"), 1., -1., 2., -2., 1e-40, 3e38] * 3)
        out = [x ** e for e in (4, 5, 1.5, 0.25, 2.5, 7, -3, 10, 1.0001)]
        out += [r ** 2.7, r.pow(-1.5), torch.pow(r, 0.3333)]
        out += [special ** e for e in (0.0, 1.0, -1.5, 2.5, 3.0, 4.0, float("inf"), -float("inf"), float("nan"), 1e30)]
        w = (torch.rand(40, generator=torch.Generator().manual_seed(4)) * 3).requires_grad_()
        y = (w ** 4.5).sum()
        y.backward()
        return out + [y, w.grad]
    check(run)


# ---------------------------------------------------------------- indexing


def test_an_index_mixing_integers_and_tensors_selects_the_integers_first():
    def run(torch):
        x = torch.arange(60).reshape(3, 4, 5)
        got = [x[1, 1:3, [0, 3]], x[1, :, [0, 4]], x[:, 2, [1, 3]], x[[0, 2], 1, :2], x[2, [1, 3], [0, 4]],
               x[..., 1, [2, 3]], x[0, 1:, [[0], [4]]], x[1, torch.tensor([0, 3]), 1:3], x[None, 1, 1:, [0]],
               x[1, x[0] > 5]]
        y = torch.zeros(3, 4, 5, dtype=torch.long)
        y[1, :, [0, 4]] = torch.arange(8).view(4, 2)
        y[2, [0, 1], 1:3] = torch.tensor([[7, 8], [9, 10]])
        w = torch.arange(60.).reshape(3, 4, 5).requires_grad_()
        v = w[2, 1:3, [0, 1]]
        (v * torch.tensor([[1., 2.], [3., 4.]])).sum().backward()
        z = torch.zeros(2, 3, 4, requires_grad=True) * 1
        z[1, 1:3, [0, 3]] = torch.tensor([[1., 2.], [3., 4.]])
        return got + [y, v, w.grad, z]
    check(run)


def test_basic_indexing_records_the_step_pytorch_takes_last():
    def run(torch):
        x = torch.ones(2, 3, 4, requires_grad=True)
        views = [x[0, :, :4], x[0, 0:3], x[:, :, 0:4:1], x[0, :, 1:], x[:1], x[..., :4], x[0, None, :],
                 x[0][None, :3], x[:, 0, :], x[-1:], x[:], x[...], x[:, :10], x[0, ..., 0:4], x[None],
                 x[:, None, :, :4]]
        return [v.grad_fn.name() for v in views] + [v.shape for v in views]
    check(run)


# ---------------------------------------------------------------- trapezoid


def test_trapezoid_trapz_and_cumulative_trapezoid():
    def run(torch):
        y = torch.tensor([[1., 2., 5.], [0., 3., 4.]], requires_grad=True)
        x = torch.tensor([0., 0.5, 2.])
        out = [torch.trapezoid(y), torch.trapezoid(y, dx=0.5), torch.trapezoid(y, x), torch.trapezoid(y, dim=0),
               torch.trapz(y, x), torch.cumulative_trapezoid(y), torch.cumulative_trapezoid(y, x),
               torch.cumulative_trapezoid(y, dx=2.), torch.trapezoid(torch.tensor([1, 2, 4])),
               torch.trapezoid(torch.zeros(2, 0)), torch.trapezoid(torch.tensor([3.]))]
        torch.trapezoid(y, x).sum().backward()
        return out + [y.grad]
    check(run)


def test_trapezoid_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    y, x = rng.standard_normal((3, 5)), np.sort(rng.standard_normal(5))
    check_grad(lambda t: tinytape.trapezoid(t, dx=0.3), y, second_order=True)
    check_grad(lambda t, s: tinytape.trapezoid(t, s, dim=1), y, x)
    check_grad(lambda t, s: tinytape.cumulative_trapezoid(t, s), y, x)
    check_grad(lambda t: tinytape.cumulative_trapezoid(t, dx=2.0, dim=0), y)


def test_float32_power_kernel_checks_gradient_and_python_floats():
    rng = np.random.default_rng(1)
    check_grad(lambda t: t ** 4.5, rng.random(6) + 0.5, second_order=True)
    check_grad(lambda t: t.float() ** 2.5, rng.random(6) + 0.5, atol=1e-3, rtol=1e-2, eps=1e-3)


# ---------------------------------------------------------------- printing


def test_print_options_through_torch_tensor_str():
    def run(torch):
        PRINT_OPTS, get_printoptions, printoptions = (torch._tensor_str.PRINT_OPTS, torch._tensor_str.get_printoptions,
                                                      torch._tensor_str.printoptions)
        first = [PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth,
                 PRINT_OPTS.sci_mode]
        with printoptions(precision=2, sci_mode=True):
            inside = repr(torch.tensor([1.23456, 2.0]))
        after = repr(torch.tensor([1.23456]))
        PRINT_OPTS.precision = 6
        six = repr(torch.tensor([1 / 3]))
        PRINT_OPTS.precision = 4
        return first + [inside, after, six, get_printoptions()]
    check(run)


def test_printing_values_whose_ratio_overflows_gives_no_warning():
    def run(torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            text = repr(torch.tensor([1e300, 1e-300], dtype=torch.float64))
        return [text, [str(w.message) for w in caught]]
    check(run)


# ---------------------------------------------------------------- small API differences


def test_small_api_differences_found_by_the_tutorials(monkeypatch):
    # x.T's warning comes once a process, as PyTorch's: as it comes in a fresh one
    monkeypatch.setattr(tinytape._tensor_math, "_T_WARNED", False)

    def run(torch):
        x = torch.arange(6.).view(2, 3)
        base = [x.view(6)._base is x, x._base is None, x.t()[0]._base is x]
        a = torch.arange(6.).view(2, 3)
        a.apply_(lambda v: v * 2)
        a.map_(torch.tensor([1., 2., 3.]), lambda p, q: p - q)
        ints = torch.tensor([1, 2]).apply_(lambda v: v * 2.7)
        lazy = torch.nn.LazyLinear(3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.ones(2, 3, 4).T
        return base + [a, ints, a._version,
                       _outcome(lambda: torch.ones(2, requires_grad=True).apply_(lambda v: v)),
                       _outcome(lambda: ~torch.ones(2)), _outcome(lambda: torch.linalg.inv(torch.zeros(2, 2))[0]),
                       type(_raised(lambda: torch.linalg.inv(torch.zeros(2, 2)))).__name__,
                       _outcome(lambda: torch.cat([torch.ones(2, 3), torch.ones(3)])),
                       _outcome(lambda: torch.cat([torch.ones(2, 3), torch.ones(2, 3), torch.ones(2, 4)], 0)),
                       _outcome(lambda: torch.cat([torch.ones(2, 3), torch.ones(3, 4)], 1)),
                       _outcome(lambda: torch.stack([torch.ones(2), torch.ones(2), torch.ones(3)])),
                       _outcome(lambda: torch.ones(3).expand(2, 3).add_(1)),
                       _outcome(lambda: lazy.weight.shape), type(lazy.weight).__name__,
                       [str(w.message)[:60] for w in caught]]
    check(run)


def _raised(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001
        return e
    return None


def test_the_version_counter_error_ends_with_pytorchs_hint():
    def run(torch):
        a = torch.randn(3, requires_grad=True, generator=torch.Generator().manual_seed(0))
        c = a.exp()
        c.add_(1)
        return _outcome(lambda: c.sum().backward())
    check(run)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_soft_margin_loss_records_one_entry_as_pytorch(reduction):
    def run(torch):
        x = torch.randn(3, 5, generator=torch.Generator().manual_seed(0)).requires_grad_()
        y = torch.randn(3, 5, generator=torch.Generator().manual_seed(1)).sign()
        loss = torch.nn.functional.soft_margin_loss(x, y, reduction=reduction)
        loss.backward(torch.ones_like(loss))
        # (its exp is MKL's in PyTorch: the values to float32 rounding, the entries exactly)
        return [loss.grad_fn.name(), torch.nn.SoftMarginLoss(reduction=reduction)(x, y).grad_fn.name(),
                [round(v, 5) for v in loss.detach().reshape(-1).tolist()], [round(v, 5) for v in x.grad.reshape(-1).tolist()]]
    check(run)


def test_soft_margin_loss_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    check_grad(lambda t: tinytape.nn.functional.soft_margin_loss(t, tinytape.tensor([1., -1., 1.], dtype=tinytape.float64)),
               rng.standard_normal(3), second_order=True)
