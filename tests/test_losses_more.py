"""The embedding, margin and likelihood losses and alpha dropout against PyTorch: values,
gradients, grad_fn names, errors, reprs and seeded draws; gradients against finite
differences."""
import numpy as np
import pytest

import tinytape as tt
from helpers import check_grad
from pytorch_answers import pytorch

rng = np.random.default_rng(0)
X, Y, Z = (rng.standard_normal((4, 5)) for _ in range(3))
SIGNS = np.array([1.0, -1.0, 1.0, -1.0])
LABELS = np.array([1, 0, 4, 2])
MULTI = np.array([[3, 0, -1, 1, 1], [1, 2, 3, 4, -1], [0, -1, 2, 2, 2], [-1, 0, 0, 0, 0]])
POSITIVE = np.abs(Z) + 0.1

LOSSES = {  # name -> (loss(lib, *tensors), differentiable inputs, other inputs as numpy)
    "cosine_embedding": (lambda F, a, b, t: F.cosine_embedding_loss(a, b, t, margin=0.2, **R), (X, Y), (SIGNS,)),
    "hinge_embedding": (lambda F, a, t: F.hinge_embedding_loss(a, t, margin=0.5, **R), (X,), (np.sign(Y),)),
    "triplet_swap": (lambda F, a, b, c: F.triplet_margin_loss(a, b, c, margin=1.5, swap=True, **R), (X, Y, Z), ()),
    "triplet_p1": (lambda F, a, b, c: F.triplet_margin_loss(a, b, c, p=1, **R), (X, Y, Z), ()),
    "multilabel_soft_margin": (lambda F, a, t, w: F.multilabel_soft_margin_loss(a, t, weight=w, **R), (X,),
                               ((Y > 0) * 1.0, POSITIVE[0])),
    "multi_margin": (lambda F, a, t: F.multi_margin_loss(a, t, **R), (X,), (LABELS,)),
    "multi_margin_p2_weight": (lambda F, a, t, w: F.multi_margin_loss(a, t, p=2, margin=0.7, weight=w, **R), (X,),
                               (LABELS, POSITIVE[0])),
    "multilabel_margin": (lambda F, a, t: F.multilabel_margin_loss(a, t, **R), (X,), (MULTI,)),
    "poisson_nll": (lambda F, a, t: F.poisson_nll_loss(a, t, **R), (X,), (POSITIVE * 3,)),
    "poisson_nll_full": (lambda F, a, t: F.poisson_nll_loss(a, t, log_input=False, full=True, **R), (POSITIVE,),
                         (np.abs(Y) * 3,)),
    "gaussian_nll_full": (lambda F, a, t, v: F.gaussian_nll_loss(a, t, v, full=True, **R), (X, Z + 5), (POSITIVE,)),
    "gaussian_nll_per_sample_var": (lambda F, a, t, v: F.gaussian_nll_loss(a, t, v, **R), (X,), (Y, POSITIVE[:, 0])),
}
R = {}


def _run(lib, name, reduction, dtype="float64"):
    fn, diff, other = LOSSES[name]
    R["reduction"] = reduction

    def cast(a):
        return a.astype(dtype) if a.dtype.kind == "f" else a
    leaves = [lib.tensor(cast(a), requires_grad=True) for a in diff]
    out = fn(lib.nn.functional, *leaves, *[lib.tensor(cast(a)) for a in other])
    out.sum().backward()
    return out, [t.grad for t in leaves]


@pytest.mark.parametrize("reduction, dtype", [("mean", "float64"), ("sum", "float64"), ("none", "float64"),
                                             ("mean", "float32"), ("none", "float32")])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_values_gradients_and_grad_fn_match_pytorch(name, reduction, dtype):
    out, grads = _run(tt, name, reduction, dtype)
    theirs, their_grads = pytorch(lambda torch: _run(torch, name, reduction, dtype))
    assert out.grad_fn.name() == theirs.grad_fn and tuple(out.shape) == theirs.shape
    assert str(out.dtype).split(".")[-1] == theirs.dtype
    # float32: to a few ulps (summation orders; the log/exp of logsigmoid and pairwise_distance)
    rtol, atol = (1e-12, 1e-14) if dtype == "float64" else (2e-6, 1e-7)
    np.testing.assert_allclose(out.detach().numpy(), theirs.numpy(), rtol=rtol, atol=atol)
    for g, h in zip(grads, their_grads):
        np.testing.assert_allclose(g.numpy(), h.numpy(), rtol=rtol * 10, atol=atol * 10)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gradients_match_finite_differences(name):
    fn, diff, other = LOSSES[name]
    R["reduction"] = "none"
    check_grad(lambda *t: fn(tt.nn.functional, *t, *[tt.tensor(a) for a in other]), *diff)


@pytest.mark.parametrize("call", [
    lambda lib, F: F.multi_margin_loss(lib.tensor(X), lib.tensor(7)),
    lambda lib, F: F.multi_margin_loss(lib.tensor(X), lib.tensor([1, 0, 5, 2])),
    lambda lib, F: F.multi_margin_loss(lib.randn(2, 3, 4), lib.tensor([1, 0])),
    lambda lib, F: F.multi_margin_loss(lib.tensor(X), lib.tensor(LABELS), p=3),
    lambda lib, F: F.multi_margin_loss(lib.tensor(X), lib.tensor(LABELS), weight=lib.ones(5, requires_grad=True)),
    lambda lib, F: F.multilabel_margin_loss(lib.tensor(X), lib.tensor([[5, 0, 0, 0, 0]] * 4)),
    lambda lib, F: F.multilabel_margin_loss(lib.tensor(X), lib.tensor([[1, 0, 0, 0]] * 4)),
    lambda lib, F: F.cosine_embedding_loss(lib.tensor(X), lib.tensor(Y), lib.tensor([1.0, 1.0])),
    lambda lib, F: F.triplet_margin_loss(lib.tensor(X), lib.tensor(Y), lib.tensor(Z[0])),
    lambda lib, F: F.triplet_margin_loss(lib.tensor(X), lib.tensor(Y), lib.tensor(Z), margin=0),
    lambda lib, F: F.gaussian_nll_loss(lib.tensor(X), lib.tensor(Y), -lib.tensor(POSITIVE)),
    lambda lib, F: F.gaussian_nll_loss(lib.tensor(X), lib.tensor(Y), lib.tensor(POSITIVE[:, :2])),
    lambda lib, F: F.poisson_nll_loss(lib.tensor(X), lib.tensor(Y), reduction="avg"),
    lambda lib, F: F.feature_alpha_dropout(lib.ones(3), 0.5, True),
    lambda lib, F: F.alpha_dropout(lib.ones(3), 1.5, True),
])
def test_errors_match_pytorch(call):
    def error(lib):
        try:
            call(lib, lib.nn.functional)
        except Exception as e:  # noqa: BLE001 - the type and message are the answer
            return type(e).__name__, str(e)
    kind, message = pytorch(error)
    assert error(tt) == (kind, message)


def test_one_sample_inputs_and_module_reprs():
    def answer(lib):
        F = lib.nn.functional
        x = lib.tensor(X[0])
        return (F.multi_margin_loss(x, lib.tensor(2), reduction="none"),
                F.multilabel_margin_loss(x, lib.tensor(MULTI[0]), reduction="none"),
                F.cosine_embedding_loss(x, lib.tensor(Y[0]), lib.tensor(-1.0), margin=-0.5),
                [repr(m) for m in (lib.nn.AlphaDropout(0.2), lib.nn.FeatureAlphaDropout(), lib.nn.MultiMarginLoss(),
                                   lib.nn.TripletMarginLoss(margin=2.0), lib.nn.GaussianNLLLoss(full=True),
                                   lib.nn.PoissonNLLLoss(), lib.nn.CosineEmbeddingLoss(0.1),
                                   lib.nn.MultiLabelSoftMarginLoss(), lib.nn.MultiLabelMarginLoss(),
                                   lib.nn.HingeEmbeddingLoss())],
                lib.nn.MultiMarginLoss(p=2, weight=lib.ones(5)).state_dict().keys().__len__())
    ours, theirs = answer(tt), pytorch(answer)
    for a, b in zip(ours[:3], theirs[:3]):
        assert tuple(a.shape) == b.shape and a.grad_fn is None
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    assert ours[3:] == theirs[3:]


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_draws_as_pytorch(feature):
    def answer(lib):
        lib.manual_seed(3)
        x = lib.randn(4, 6, 3, requires_grad=True)
        fn = lib.nn.functional.feature_alpha_dropout if feature else lib.nn.functional.alpha_dropout
        out = fn(x, 0.3, True)
        out.sum().backward()
        module = (lib.nn.FeatureAlphaDropout if feature else lib.nn.AlphaDropout)(0.3).eval()
        return out, x.grad, module(x) is x, fn(x, 0.3) is x, fn(x, 1.0, True)
    ours, theirs = answer(tt), pytorch(answer)
    assert ours[0].grad_fn.name() == theirs[0].grad_fn
    for a, b in zip(ours[:2] + ours[4:], theirs[:2] + theirs[4:]):
        np.testing.assert_allclose(a.detach().numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
    assert ours[2:4] == theirs[2:4] == (True, True)


CTC_LOGITS = np.random.default_rng(4).standard_normal((12, 4, 6))
CTC_TARGETS = np.array([[1, 2, 2, 3, 0], [4, 4, 4, 1, 1], [5, 1, 2, 0, 0], [3, 3, 1, 2, 5]])
CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS = [12, 10, 12, 7], [4, 3, 0, 5]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("concatenated", [False, True])
@pytest.mark.parametrize("reduction, zero_infinity", [("mean", False), ("sum", True), ("none", False),
                                                      ("none", True)])
def test_ctc_loss_matches_pytorch(reduction, zero_infinity, concatenated, dtype):
    def answer(lib):
        log_probs = lib.tensor(CTC_LOGITS.astype(dtype)).log_softmax(2).detach().requires_grad_()
        targets = (np.concatenate([CTC_TARGETS[b, :n] for b, n in enumerate(CTC_TARGET_LENGTHS)]) if concatenated
                   else CTC_TARGETS)
        input_lengths = list(CTC_INPUT_LENGTHS)
        input_lengths[3] = 4 if zero_infinity else 7  # 4 steps cannot hold 5 labels: an infinite loss
        loss = lib.nn.CTCLoss(blank=0, reduction=reduction, zero_infinity=zero_infinity)(
            log_probs, lib.tensor(targets), lib.tensor(input_lengths), lib.tensor(CTC_TARGET_LENGTHS))
        loss.sum().backward()
        return loss, log_probs.grad  # PyTorch's gradient formula: through a log-softmax
    ours, theirs = answer(tt), pytorch(answer)
    assert ours[0].grad_fn.name() == theirs[0].grad_fn
    tol = dict(rtol=1e-12, atol=1e-13) if dtype == "float64" else dict(rtol=1e-5, atol=1e-5)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.numpy(), **tol)


def test_ctc_loss_gradient_through_log_softmax_matches_finite_differences():
    targets = tt.tensor(CTC_TARGETS[:2, :3])
    check_grad(lambda x: tt.nn.functional.ctc_loss(x.log_softmax(2), targets, [5, 4], [3, 2], reduction="none"),
               CTC_LOGITS[:5, :2])


@pytest.mark.gpu
def test_cuda_path_gives_the_cpu_values_and_gradients():
    def run(device):
        x = tt.tensor(X, device=device, requires_grad=True)
        y, z = tt.tensor(Y, device=device), tt.tensor(Z, device=device)
        F = tt.nn.functional
        loss = (F.cosine_embedding_loss(x, y, tt.tensor(SIGNS, device=device))
                + F.triplet_margin_loss(x, y, z, swap=True)
                + F.multi_margin_loss(x, tt.tensor(LABELS, device=device), p=2)
                + F.multilabel_margin_loss(x, tt.tensor(MULTI, device=device))
                + F.gaussian_nll_loss(x, y, tt.tensor(POSITIVE, device=device))
                + F.ctc_loss(x.reshape(5, 4, 1).expand(5, 4, 3).log_softmax(2), tt.tensor(MULTI[:, :2] % 2 + 1,
                             device=device), [5, 5, 4, 3], [2, 2, 1, 2]))
        loss.backward()
        return loss.item(), x.grad.cpu().numpy()
    cpu, cuda = run("cpu"), run("cuda")
    np.testing.assert_allclose(cpu[0], cuda[0], rtol=1e-10)
    np.testing.assert_allclose(cpu[1], cuda[1], rtol=1e-10, atol=1e-12)
