"""The API tutorials call next, against PyTorch: values, gradients (the shared
gradcheck), and CUDA matching the checked CPU gradients."""
import numpy as np
import pytest

import tinytape as tt
import tinytape.autograd.functional as AF
import tinytape.nn.functional as F
from helpers import check_grad
from pytorch_answers import Recorded, pytorch

DEVICES = ["cpu", "cuda"]
_rng = np.random.default_rng(3)
A = _rng.standard_normal((3, 4))
A[1, 2] = 0.0  # a zero for prod


def _idx(m, x, rows):
    """An index tensor of library ``m``, on ``x``'s device."""
    return m.tensor(rows, device=x.device)


# name -> function of (module, x); every one differentiable in x
DIFFERENTIABLE = {
    "var": lambda m, x: x.var(),
    "var dim keepdim": lambda m, x: x.var(1, keepdim=True),
    "var correction=0": lambda m, x: m.var(x, 0, correction=0),
    "std dim": lambda m, x: x.std(0),
    "std unbiased=False": lambda m, x: x.std(unbiased=False),
    "prod": lambda m, x: x.prod(),
    "prod dim": lambda m, x: x.prod(1),
    "prod dim keepdim": lambda m, x: m.prod(x, 0, keepdim=True),
    "cumsum": lambda m, x: x.cumsum(1),
    "cumsum dim 0": lambda m, x: m.cumsum(x, 0),
    "logsumexp": lambda m, x: x.logsumexp(1),
    "logsumexp dims": lambda m, x: m.logsumexp(x, (0, 1)),
    "sort": lambda m, x: x.sort(1)[0],
    "sort descending": lambda m, x: x.sort(0, descending=True).values,
    "topk": lambda m, x: x.topk(2)[0],
    "topk smallest dim 0": lambda m, x: m.topk(x, 2, dim=0, largest=False).values,
    "gather": lambda m, x: x.gather(1, _idx(m, x, [[0, 0], [3, 1], [2, 2]])),
    "masked_fill": lambda m, x: x.masked_fill(_idx(m, x, [True, False, True, False]), -1.0),
    "Tensor.softmax": lambda m, x: x.softmax(0),
    "Tensor.log_softmax": lambda m, x: x.log_softmax(dim=1),
    "F.leaky_relu": lambda m, x: m.nn.functional.leaky_relu(x + 0.05, 0.2),  # away from the kink
    "F.linear": lambda m, x: m.nn.functional.linear(x, x[:2] * 1, x[0, :2] * 1),
    "linalg.norm": lambda m, x: m.linalg.norm(x),
    "linalg.norm dim": lambda m, x: m.linalg.norm(x, dim=1),
    "linalg.vector_norm ord=3": lambda m, x: m.linalg.vector_norm(x, ord=3, dim=0),
    "range index": lambda m, x: x[range(3), _idx(m, x, [0, 3, 1])],
    "axis keepdims": lambda m, x: x.sum(axis=1, keepdims=True) * x.mean(axis=0),
    "max of 0-d": lambda m, x: x[0, 0].max(0)[0] * x,
}


def _value_and_gradient(m, case, a):
    """DIFFERENTIABLE[case] of ``a`` in library ``m``, and the gradient of a weighted sum of it."""
    x = m.tensor(a, requires_grad=True)
    out = DIFFERENTIABLE[case](m, x)
    weights = np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape))
    (out * m.tensor(weights)).sum().backward()
    return out.detach(), x.grad


@pytest.mark.parametrize("case", sorted(DIFFERENTIABLE))
def test_values_and_gradients_match_pytorch(case):
    got, got_grad = _value_and_gradient(tt, case, A)
    want, want_grad = pytorch(lambda torch, a: _value_and_gradient(torch, case, a), A)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(got_grad.numpy(), want_grad.numpy(), rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("case", sorted(DIFFERENTIABLE))
def test_gradcheck(case):
    check_grad(lambda x: DIFFERENTIABLE[case](tt, x), A)


@pytest.mark.gpu
@pytest.mark.parametrize("case", sorted(DIFFERENTIABLE))
def test_cuda_matches_cpu(case):
    fn = DIFFERENTIABLE[case]
    results = []
    for device in ("cpu", "cuda"):
        x = tt.tensor(A, device=device, requires_grad=True)
        out = fn(tt, x)
        out.backward(tt.ones_like(out))
        results.append((out.detach().cpu().numpy(), x.grad.cpu().numpy()))
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


SORTS = (lambda m, a: m.tensor(a).sort(1), lambda m, a: m.tensor(a).sort(0, descending=True),
         lambda m, a: m.tensor(a).topk(2, 0), lambda m, a: m.tensor([3.0, 1.0, 2.0]).sort())


def test_sort_topk_indices_and_printing_match_pytorch():
    wants = pytorch(lambda torch, a: [(call(torch, a).indices, repr(call(torch, a))) for call in SORTS], A)
    for call, (indices, printed) in zip(SORTS, wants):
        got = call(tt, A)
        assert got.indices.tolist() == indices.tolist()
        assert repr(got).replace("tinytape.", "torch.") == printed


COMPARISONS = {
    "isclose": lambda m: m.isclose(m.tensor([1.0, float("inf"), float("nan"), 1.0]),
                                   m.tensor([1.0 + 1e-9, float("inf"), float("nan"), 1.1])),
    "isclose equal_nan": lambda m: m.isclose(m.tensor([float("nan")]), m.tensor([float("nan")]), equal_nan=True),
    "allclose": lambda m: m.allclose(m.ones(3), m.ones(3) + 1e-9),
    "allclose not": lambda m: m.allclose(m.ones(3), m.ones(3) * 2),
    "equal": lambda m: m.ones(2).equal(m.ones(2)),
    "equal shapes": lambda m: m.equal(m.ones(2), m.ones(3)),
    "one_hot": lambda m: m.nn.functional.one_hot(m.tensor([0, 2, 1])),
    "one_hot classes": lambda m: m.nn.functional.one_hot(m.tensor([[0], [1]]), 4),
    "int32 arithmetic": lambda m: m.ones(2, dtype=m.int32) * 3 + 1,
    "int8 + uint8": lambda m: m.ones(2, dtype=m.int8) + m.ones(2, dtype=m.uint8),
    "casts": lambda m: m.tensor([1.7, -2.2]).int(),
    "byte": lambda m: m.tensor([3.0, 200.0]).byte(),
    "half storage": lambda m: m.tensor([1.5, 2.25]).half().float(),
    "randn size=()": lambda m: m.randn(size=(), requires_grad=True).shape,
    "zeros size=": lambda m: m.zeros(size=(2, 3)).shape,
}


@pytest.mark.parametrize("case", sorted(COMPARISONS))
def test_non_differentiable_api_matches_pytorch(case):
    got, want = COMPARISONS[case](tt), pytorch(lambda torch: COMPARISONS[case](torch))
    if isinstance(want, Recorded):
        assert got.tolist() == want.tolist() and got.dtype.name == want.dtype
    else:
        assert got == want


def test_random_api():
    tt.manual_seed(0)
    p = tt.randperm(10)
    assert sorted(p.tolist()) == list(range(10)) and p.dtype is tt.int64
    n = tt.normal(2.0, 0.5, size=(2000,))
    assert abs(n.mean().item() - 2.0) < 0.05 and abs(n.std().item() - 0.5) < 0.05
    mean = tt.zeros(3, requires_grad=True)
    std = tt.ones(3, requires_grad=True)
    sample = tt.normal(mean, std)
    sample.sum().backward()
    assert mean.grad.tolist() == [1.0, 1.0, 1.0] and np.allclose(std.grad.numpy(), sample.detach().numpy())


def test_softmax_without_dim_warns_and_picks_pytorchs_dim():
    rng = np.random.default_rng(4)
    for shape in [(3,), (2, 3), (2, 3, 4)]:
        x = rng.standard_normal(shape)
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            got = F.softmax(tt.tensor(x))
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            want = pytorch(lambda torch, x: torch.nn.functional.softmax(torch.tensor(x)), x)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_inference_mode_and_printoptions():
    x = tt.ones(2, requires_grad=True)
    with tt.inference_mode():
        assert tt.is_inference_mode_enabled() and not (x * 2).requires_grad
    with tt.inference_mode(False):
        assert (x * 2).requires_grad
    assert not tt.is_inference_mode_enabled()
    assert _printed_with_options(tt) == pytorch(_printed_with_options)


def _printed_with_options(m):
    printed = []
    try:
        for options in [{"precision": 2}, {"sci_mode": True}, {"precision": 6, "sci_mode": False}]:
            m.set_printoptions(**options)
            printed += [repr(m.tensor(values)) for values in ([1.23456789, 2.0], [1e-5, 3.0], [1.0, 2.0])]
    finally:
        m.set_printoptions(profile="default")
    return printed


def _f(m):
    return lambda x: (x * x).sum() * x[:2] + x[1:].exp()


def _scalar(m):
    return lambda x: (x.exp() * x).sum() + (x[0] * x[1]) ** 2


def _pair(m):
    return lambda x, y: (x * y.sum(), x.exp())


V2, V3 = _rng.standard_normal(2), _rng.standard_normal(3)
FUNCTIONAL = {
    "jacobian": lambda M, m: M.jacobian(_f(m), m.tensor(A[0, :3])),
    "jacobian of pairs": lambda M, m: M.jacobian(_pair(m), (m.tensor(A[0, :3]), m.tensor(A[1, :3]))),
    "hessian": lambda M, m: M.hessian(_scalar(m), m.tensor(A[0, :3])),
    "vjp": lambda M, m: M.vjp(_f(m), m.tensor(A[0, :3]), m.tensor(V2)),
    "jvp": lambda M, m: M.jvp(_f(m), m.tensor(A[0, :3]), m.tensor(V3)),
    "hvp": lambda M, m: M.hvp(_scalar(m), m.tensor(A[0, :3]), m.tensor(V3)),
    "vhp": lambda M, m: M.vhp(_scalar(m), m.tensor(A[0, :3]), m.tensor(V3)),
}


def _flat(x):
    out = []
    for t in (x if isinstance(x, (tuple, list)) else [x]):
        out += _flat(t) if isinstance(t, (tuple, list)) else [t.detach().numpy()]
    return out


@pytest.mark.parametrize("case", sorted(FUNCTIONAL))
def test_autograd_functional_matches_pytorch(case):
    got = _flat(FUNCTIONAL[case](AF, tt))
    want = pytorch(lambda torch: _flat(FUNCTIONAL[case](torch.autograd.functional, torch)))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_functional_create_graph_is_differentiable():
    x = tt.tensor(A[0, :3], requires_grad=True)
    hess = AF.hessian(_scalar(tt), x, create_graph=True)
    assert hess.requires_grad
    check_grad(lambda x: AF.jacobian(_f(tt), x, create_graph=True), A[0, :3])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["int32", "int16", "int8", "uint8", "float16"])
def test_storage_dtypes_hold_cast_and_print(dtype, device):
    values = [1.5, 2.5, 7.0]
    got = tt.tensor(values, device=device).to(getattr(tt, dtype))

    def held(torch):
        t = torch.tensor(values).to(getattr(torch, dtype))
        return t, repr(t), t.float(), t * 3 + 1, t.sum().item()
    want, printed, widened, computed, total = pytorch(held)
    assert got.dtype is getattr(tt, dtype) and got.tolist() == want.tolist()
    assert repr(got.cpu()).replace("tinytape.", "torch.") == printed
    assert got.float().tolist() == widened.tolist()
    if dtype != "float16":  # integers compute in their own type, as PyTorch
        assert (got * 3 + 1).cpu().tolist() == computed.tolist() and (got * 3).dtype is got.dtype
        assert got.sum().item() == total
