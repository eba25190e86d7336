"""Programs as a peer library's tests write them on PyTorch's side, against PyTorch's answers:
``add``/``sub`` with ``alpha`` across dtypes (in place too), ``addmm``/``baddbmm``/``addbmm`` of
float16 and bfloat16, the ``Muon`` optimizer, the gradients of ``fmax``/``fmin`` at ties and
NaN and of ``logit`` outside [0, 1], and the errors of ``reshape``/``view`` and of ``repeat``
with a negative size."""
import math

import numpy as np
import pytest

import tinytape
from helpers import check_against_pytorch, outcome_of as _outcome
from pytorch_answers import Recorded, pytorch


def _close(ours, theirs, path="result", rtol=1e-6, atol=1e-6):
    if isinstance(theirs, Recorded):
        assert str(ours.dtype).split(".")[1] == theirs.dtype and tuple(ours.shape) == theirs.shape, path
        np.testing.assert_allclose(ours.detach().numpy(), theirs.numpy(), rtol=rtol, atol=atol, err_msg=path)
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _close(a, b, f"{path}[{i}]", rtol, atol)
    else:
        assert ours == theirs, path


_DTYPES = ("float32", "bfloat16", "float16", "float64", "int32")


@pytest.mark.parametrize("first", _DTYPES)
def test_add_and_sub_with_alpha_promote_first_and_round_once(first):
    # a + alpha * b: both in the result dtype first (24 elements: PyTorch's scalar loop throughout, which
    # for float16/bfloat16 rounds alpha and the product to the dtype)
    def run(torch):
        torch.manual_seed(0)
        a = (torch.randn(24) * 3).to(getattr(torch, first))
        out = []
        for second in _DTYPES:
            b = (torch.randn(24) * 3).to(getattr(torch, second))
            for alpha in (-1.1, 3):
                if isinstance(alpha, float) and not (a.dtype.is_floating_point or b.dtype.is_floating_point):
                    continue
                out += [torch.add(a, b, alpha=alpha), torch.sub(a, b, alpha=alpha)]
                if torch.promote_types(a.dtype, b.dtype) == a.dtype:  # (else the in-place op refuses)
                    out += [a.clone().add_(b, alpha=alpha), a.clone().sub_(b, alpha=alpha)]
        return [t.float() if t.dtype == torch.bfloat16 else t for t in out]
    check_against_pytorch(run)


def test_add_with_alpha_records_its_grad_fn_and_gradients():
    def run(torch):
        torch.manual_seed(1)
        a = torch.randn(5, requires_grad=True)
        b = torch.randn(5).to(torch.bfloat16).requires_grad_()
        out = torch.add(a, b, alpha=-1.1)
        ga, gb = torch.autograd.grad(out.sum(), [a, b])
        return out, ga, gb.float()
    check_against_pytorch(run)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_add_product_ops_of_narrow_dtypes_round_once(dtype):
    def run(torch):
        torch.manual_seed(2)
        dt = getattr(torch, dtype)
        c, a, b = torch.randn(3, 4).to(dt), torch.randn(3, 5).to(dt), torch.randn(5, 4).to(dt)
        c3, b1, b2 = torch.randn(2, 3, 4).to(dt), torch.randn(3, 3, 5).to(dt), torch.randn(3, 5, 4).to(dt)
        out = []
        for beta, alpha in ((-4.775, 2.0315), (1, 1), (0.5, 3.0), (0, 2.0)):
            out += [torch.addmm(c, a, b, beta=beta, alpha=alpha), torch.baddbmm(c3, b1[:2], b2[:2], beta=beta, alpha=alpha),
                    torch.addbmm(c, b1, b2, beta=beta, alpha=alpha),
                    torch.addbmm(c, b1[:0], b2[:0], beta=beta, alpha=alpha)]
        return [t.float() for t in out]
    check_against_pytorch(run)


def _muon_run(kwargs, steps, teeny=False):
    def run(torch):
        rng = np.random.RandomState(1337)
        x_init, w_init, m_init = (rng.randn(*s).astype(np.float32) for s in ((1, 4), (4, 4), (1, 4)))
        w = torch.tensor(w_init, requires_grad=True)
        x, m = torch.tensor(x_init), torch.tensor(m_init)
        opt = torch.optim.Muon([w], **kwargs)
        for _ in range(steps):
            out = (x * w).sum() if teeny else x.matmul(w).relu().log_softmax(1).mul(m).add(m).sum()
            opt.zero_grad()
            out.backward()
            opt.step()
        return w.detach(), sorted(opt.state[w]), opt.param_groups[0]["adjust_lr_fn"]
    return run


@pytest.mark.parametrize("kwargs,steps,teeny", [
    (dict(lr=0.001), 1, False), (dict(lr=1.1), 2, True), (dict(lr=0.001, weight_decay=0.01), 10, False),
    (dict(lr=0.001, nesterov=False), 10, False), (dict(lr=0.001, ns_steps=3), 1, False),
    (dict(lr=0.001, ns_coefficients=(2.0, -1.5, 0.5)), 1, False),
    (dict(lr=0.02, adjust_lr_fn="match_rms_adamw"), 3, False), (dict(lr=0.02, adjust_lr_fn="spectral_unclamped"), 3, False)])
def test_muon_steps_as_pytorch(kwargs, steps, teeny):
    run = _muon_run(kwargs, steps, teeny)
    _close(run(tinytape), pytorch(run), rtol=1e-5, atol=1e-6)


def test_muon_refusals():
    def run(torch):
        p2 = torch.ones(2, 2, requires_grad=True)
        return [_outcome(lambda: torch.optim.Muon([torch.ones(3, requires_grad=True)])),
                _outcome(lambda: torch.optim.Muon([p2], adjust_lr_fn="other")),
                _outcome(lambda: torch.optim.Muon([p2], lr=-1.0)),
                _outcome(lambda: torch.optim.Muon([p2], momentum=-0.5)),
                _outcome(lambda: torch.optim.Muon([p2], weight_decay=-0.1)),
                sorted(torch.optim.Muon([p2]).defaults)]
    ours, theirs = run(tinytape), pytorch(run)
    assert [o.replace("tinytape", "torch") for o in ours[:5]] == theirs[:5]
    assert ours[5] == theirs[5]


def test_fmax_and_fmin_gradients_at_ties_and_nan():
    def run(torch):
        a = torch.tensor([-2., -0., 0., 1., math.nan, 1., math.nan, 3.], requires_grad=True)
        b = torch.tensor([-2., 0., -0., math.nan, 1., 1., math.nan, 2.], requires_grad=True)
        return [list(torch.autograd.grad(f(a, b).sum(), [a, b])) for f in (torch.fmax, torch.fmin)]
    check_against_pytorch(run)


def test_logit_gradient_outside_the_unit_interval_and_at_zero():
    def run(torch):
        x = torch.tensor([-2.0, -0.0, 0.0, 0.5, 1.0, 2.0, math.inf, -math.inf, math.nan], requires_grad=True)
        return [torch.autograd.grad(x.logit().sum(), x)[0], torch.autograd.grad(x.logit(eps=0.1).sum(), x)[0]]
    check_against_pytorch(run)


def test_reshape_and_view_errors_in_pytorchs_words():
    def run(torch):
        return [_outcome(lambda: torch.zeros(0, 3).reshape(-1, 0)), _outcome(lambda: torch.zeros(0).view(-1, 0, 2)),
                _outcome(lambda: torch.zeros(6).reshape(-1, 4)), _outcome(lambda: torch.zeros(6).view(4, 2)),
                _outcome(lambda: torch.zeros(6).reshape(-1, -1)), _outcome(lambda: torch.zeros(6).reshape(-2, 3)),
                _outcome(lambda: torch.zeros(6).view(-1, -2)), _outcome(lambda: torch.zeros(6).reshape(-1, 0)),
                _outcome(lambda: torch.zeros(0).reshape(-1, -1, 0)), torch.zeros(0, 3).reshape(-1, 3).shape]
    ours, theirs = run(tinytape), pytorch(run)
    assert ours[:-1] == theirs[:-1]
    assert tuple(ours[-1]) == tuple(theirs[-1])


def test_negative_sizes_name_the_first_negative():
    def run(torch):
        return [_outcome(lambda: torch.tensor([1, 2, 3]).repeat(-1, 2)), _outcome(lambda: torch.zeros(2, 3).repeat(-1, -2)),
                _outcome(lambda: torch.zeros(2, 3).repeat(1, -1)), _outcome(lambda: torch.tensor([1, 2, 3]).tile(-1)),
                _outcome(lambda: torch.empty(1, -1, -6)), _outcome(lambda: torch.ones(2, -1, -6))]
    assert run(tinytape) == pytorch(run)


def test_embedding_refuses_a_negative_index():
    def run(torch):
        m = torch.nn.Embedding(10, 4)
        return [_outcome(lambda: m(torch.tensor([-1])).shape).split(" (")[0], tuple(m(torch.tensor([9])).shape)]
    assert run(tinytape) == pytorch(run)


def test_tensor_of_negative_ints_as_an_unsigned_type_wraps():
    def run(torch):
        return [torch.tensor([-3, 2], dtype=torch.uint8), torch.tensor(-1, dtype=torch.uint8),
                torch.tensor([[-255, 255]], dtype=torch.uint8),
                _outcome(lambda: torch.tensor([-256], dtype=torch.uint8)).split(" (")[0],
                _outcome(lambda: torch.tensor([-1.0], dtype=torch.uint8)).split(" (")[0]]
    check_against_pytorch(run)
