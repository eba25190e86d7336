"""The breadth of nn / optim against PyTorch: activations (values, gradients, grad_fn names,
special values and the bounds of piecewise ops, an inf or nan incoming gradient, second
order), huber / l1 / cosine losses, module reprs, ParameterList / ParameterDict,
trunc_normal_, and Adagrad's trajectories and state dict."""
import io
import math
import warnings

import numpy as np
import pytest

import tinytape as tt
from helpers import check_grad
from pytorch_answers import pytorch
from tinytape import nn

INF, NAN = math.inf, math.nan
# every bound of the piecewise ops below (+-1, 0, 6, +-3, the threshold 0.5, softplus's 20 / beta)
SPECIAL = [-INF, -25.0, -20.0, -6.0, -3.0, -2.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, 3.0, 6.0, 10.0, 20.0, 25.0,
           INF, NAN, 1e-3, -1e-3, 2.9, -2.9, 3.1, -3.1, 5.9, 6.1, 0.9, -0.9]

# name -> how each library calls it
ACTIVATIONS = {
    "hardtanh": lambda m, x: m.nn.functional.hardtanh(x),
    "hardtanh_bounds": lambda m, x: m.nn.functional.hardtanh(x, -2.0, 3.0),
    "relu6": lambda m, x: m.nn.functional.relu6(x),
    "elu": lambda m, x: m.nn.functional.elu(x),
    "elu_alpha": lambda m, x: m.nn.functional.elu(x, alpha=0.7),
    "selu": lambda m, x: m.nn.functional.selu(x),
    "celu": lambda m, x: m.nn.functional.celu(x),
    "celu_alpha": lambda m, x: m.nn.functional.celu(x, alpha=0.5),
    "logsigmoid": lambda m, x: m.nn.functional.logsigmoid(x),
    "hardsigmoid": lambda m, x: m.nn.functional.hardsigmoid(x),
    "hardswish": lambda m, x: m.nn.functional.hardswish(x),
    "threshold": lambda m, x: m.nn.functional.threshold(x, 0.5, -4.0),
    "softsign": lambda m, x: m.nn.functional.softsign(x),
    "tanhshrink": lambda m, x: m.nn.functional.tanhshrink(x),
    "mish": lambda m, x: m.nn.functional.mish(x),
    "softplus": lambda m, x: m.nn.functional.softplus(x),
    "softplus_beta": lambda m, x: m.nn.functional.softplus(x, beta=2.0, threshold=10.0),
    "gelu": lambda m, x: m.nn.functional.gelu(x),
    "gelu_tanh": lambda m, x: m.nn.functional.gelu(x, approximate="tanh"),
    "leaky_relu": lambda m, x: m.nn.functional.leaky_relu(x, 0.2),
}
# flat or kinked somewhere: the finite-difference check stays away from those points
SMOOTH = {"elu", "elu_alpha", "selu", "celu", "celu_alpha", "logsigmoid", "softsign", "tanhshrink", "mish",
          "softplus", "softplus_beta", "gelu", "gelu_tanh"}


def _rng():
    """Each test's own random numbers: the same whatever ran before it."""
    return np.random.default_rng(11)


def _grad_fn_name(lib, y):
    return y.grad_fn.name() if lib is tt and hasattr(y.grad_fn, "name") else type(y.grad_fn).__name__


def _activation(lib, name, data, dtype, grad):
    x = lib.tensor(data.astype(dtype), requires_grad=True)
    y = ACTIVATIONS[name](lib, x)
    (gx,) = lib.autograd.grad(y, x, lib.tensor(grad.astype(dtype)))
    return y.detach().numpy(), gx.numpy(), _grad_fn_name(lib, y)


def _close(got, expected, dtype, what, **tol):
    tol = tol or (dict(rtol=3e-6, atol=2e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13))
    np.testing.assert_allclose(got, expected, equal_nan=True, err_msg=what, **tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_values_and_gradients_match_pytorch(name, dtype):
    # 64 elements: PyTorch's CPU kernels run them all on the vectorised path (its scalar
    # tail differs from it at a few points, e.g. hardswish at 3)
    rng = _rng()
    data = np.resize(np.array(SPECIAL + list(rng.uniform(-8, 8, 34))), 64)
    loose = name == "gelu" and dtype == "float32"
    if loose:  # the op table's gelu, README's documented difference: PyTorch's float32 kernel is
        data = data[data != INF]  # nan at +inf and approximates erf (1e-4 relative near -3)
    grads = [grad[:data.size] for grad in (np.ones(64), rng.standard_normal(64), np.full(64, INF), np.full(64, NAN),
                                           np.full(64, -INF)) if not (loose and not np.isfinite(grad[0]))]

    def answers(torch, data, grads):  # the value once, the gradient for each incoming one
        runs = [_activation(torch, name, data, dtype, grad) for grad in grads]
        return runs[0][0], [gx for _, gx, _ in runs], runs[0][2]
    theirs, their_grads, their_name = pytorch(answers, data, grads)
    for grad, their_grad in zip(grads, their_grads):
        ours, our_grad, our_name = _activation(tt, name, data, dtype, grad)
        assert ours.dtype == theirs.dtype
        tol = dict(rtol=2e-4, atol=1e-6) if loose else {}
        _close(ours, theirs, dtype, f"{name} value", **tol)
        _close(our_grad, their_grad, dtype, f"{name} gradient, incoming {grad[0]}", **tol)
        assert our_name == their_name


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_activation_gradients_by_finite_differences(name):
    x = _rng().uniform(-3, 3, size=(3, 4))
    check_grad(lambda t: ACTIVATIONS[name](tt, t), x, second_order=True)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_create_graph_gradient_is_differentiable_as_pytorch(name):
    """d/dx and d/dg of sum(v * dy/dx g): the gradient, kept on the tape, differentiates
    as PyTorch's (0 where its double backward is 0: the piecewise linear ops in x)."""
    rng = _rng()
    data = rng.uniform(-4, 4, 40)
    data = data[np.abs(np.abs(data) - 3) > 1e-3]  # off the kinks at +-3
    g0, v0 = rng.standard_normal(data.size), rng.standard_normal(data.size)

    def second_derivatives(lib, data, g0, v0):
        x, g = lib.tensor(data, requires_grad=True), lib.tensor(g0, requires_grad=True)
        (gx,) = lib.autograd.grad(ACTIVATIONS[name](lib, x), x, g, create_graph=True)
        if lib is not tt and name == "hardsigmoid":  # PyTorch has no double backward for it
            slope = np.where(np.abs(data) < 3, np.float32(1) / np.float32(6), 0.0)
            return gx.requires_grad, [np.zeros(data.size), v0 * slope]
        second = lib.autograd.grad((gx * lib.tensor(v0)).sum(), (x, g), allow_unused=True)
        return gx.requires_grad, [np.zeros(data.size) if s is None else s.detach().numpy() for s in second]
    (ours_kept, ours), (theirs_kept, theirs) = (second_derivatives(tt, data, g0, v0),
                                                pytorch(second_derivatives, data, g0, v0))
    assert ours_kept and theirs_kept
    for ours, theirs in zip(ours, theirs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("name", ["hardtanh", "relu6", "elu", "selu", "celu", "hardsigmoid", "hardswish", "mish",
                                  "leaky_relu", "threshold"])
def test_inplace_activations(name):
    fn = {"threshold": lambda m, x, **kw: m.nn.functional.threshold(x, 0.5, -4.0, **kw),
          "leaky_relu": lambda m, x, **kw: m.nn.functional.leaky_relu(x, 0.2, **kw)}.get(
        name, lambda m, x, **kw: getattr(m.nn.functional, name)(x, **kw))
    data = _rng().uniform(-5, 5, 16)

    def in_place(lib, data):
        leaf = lib.tensor(data, requires_grad=True)
        x = leaf * 1.5
        y = fn(lib, x, inplace=True)
        y.sum().backward()
        return y is x, x.detach().numpy(), leaf.grad.numpy()
    (ours_same, *ours), (theirs_same, *theirs) = in_place(tt, data), pytorch(in_place, data)
    assert ours_same and theirs_same
    for ours, theirs in zip(ours, theirs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    with pytest.raises(RuntimeError, match="leaf"):
        fn(tt, tt.tensor(data, requires_grad=True), inplace=True)


def _signatures(lib):
    """Each function's parameter names and defaults (a default that is not a plain value as its repr)."""
    import inspect
    out = {}
    for name in ["hardtanh", "relu6", "elu", "selu", "celu", "hardsigmoid", "hardswish", "threshold", "mish",
                 "softsign", "tanhshrink", "leaky_relu", "huber_loss", "l1_loss"]:
        parameters = inspect.signature(getattr(lib.nn.functional, name)).parameters.values()
        out[name] = [(p.name, p.default if p.default is None or isinstance(p.default, (bool, int, float, str))
                      else repr(p.default)) for p in parameters]
    return out


def _integer_results(lib):
    results = []
    for name in ["hardtanh", "relu6", "threshold", "leaky_relu", "softplus", "elu", "selu", "hardsigmoid",
                 "logsigmoid", "softsign", "mish", "hardswish"]:
        fn = getattr(lib.nn.functional, name)
        try:
            out = fn(lib.tensor([-2, 0, 5]), 1, 7) if name == "threshold" else fn(lib.tensor([-2, 0, 5]))
            results.append((name, str(out.dtype).split(".")[-1], out.tolist()))
        except NotImplementedError as e:
            results.append((name, str(e)))
    return results


def test_signatures_and_errors_match_pytorch():
    assert _signatures(tt) == pytorch(_signatures)
    F = tt.nn.functional
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh."):
        F.gelu(tt.ones(2), approximate="exact")
    with pytest.raises(RuntimeError, match="alpha cannot be 0 for CELU"):
        F.celu(tt.ones(2), 0.0)
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(tt.ones(2), 2.0, 1.0)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        F.huber_loss(tt.ones(2), tt.ones(2), delta=0.0)
    assert F.softplus(tt.tensor([1.0]), beta=2).grad_fn is None
    # integers: the clamping ones keep them, the others are refused with PyTorch's message
    for ours, theirs in zip(_integer_results(tt), pytorch(_integer_results)):
        assert ours == theirs


# ---------------------------------------------------------------- losses


def _loss_pair(fn, *arrays, grads=True):
    """fn(lib, *tensors) in both libraries: values and the gradients of every input."""
    def run(lib, *arrays):
        ts = [lib.tensor(a, requires_grad=grads) for a in arrays]
        y = fn(lib, *ts)
        gs = lib.autograd.grad(y.sum(), ts) if grads else []
        return y.detach().numpy(), [g.numpy() for g in gs], _grad_fn_name(lib, y)
    return [run(tt, *arrays), pytorch(run, *arrays)]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("delta", [1.0, 0.5, 2.5])
def test_huber_loss_matches_pytorch(reduction, delta):
    rng = _rng()
    x = np.concatenate([rng.standard_normal(20) * 3, [delta, -delta, 0.0, 2 * delta, INF, -INF, NAN, 1e30]])
    y = np.concatenate([rng.standard_normal(20), [0.0, 0.0, 0.0, delta, 0.0, 1.0, 0.0, 0.0]])
    # 0 + delta and 0 - delta: the difference sits exactly on each bound
    for dtype in ("float32", "float64"):
        (ours, our_grads, our_name), (theirs, their_grads, their_name) = _loss_pair(
            lambda m, a, b: m.nn.functional.huber_loss(a, b, reduction=reduction, delta=delta),
            x.astype(dtype), y.astype(dtype))
        assert our_name == their_name == "HuberLossBackward0"
        _close(ours, theirs, dtype, "huber value")
        for a, b in zip(our_grads, their_grads):
            _close(a, b, dtype, "huber gradient")
    module = nn.HuberLoss(reduction=reduction, delta=delta)
    assert repr(module) == pytorch(lambda torch: repr(torch.nn.HuberLoss(reduction=reduction, delta=delta))) \
        == "HuberLoss()"
    finite = rng.standard_normal(12) * 2
    check_grad(lambda a: tt.nn.functional.huber_loss(a, tt.tensor(finite[::-1].copy()), reduction=reduction,
                                                     delta=delta), finite, second_order=True)


def test_huber_and_l1_loss_broadcast_with_a_warning_and_take_weights():
    rng = _rng()
    x, y, w = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.uniform(0.5, 2, (3, 4))

    def losses(lib, op, reduction, x, y, w):
        a = lib.tensor(x, requires_grad=True)
        loss = getattr(lib.nn.functional, op)(a, lib.tensor(y), reduction=reduction)  # warns
        (g,) = lib.autograd.grad(loss.sum(), a)
        weighted = getattr(lib.nn.functional, op)(a, lib.tensor(x * 0.5), reduction=reduction, weight=lib.tensor(w))
        (gw,) = lib.autograd.grad(weighted.sum(), a)
        return [loss.detach().numpy(), g.numpy(), weighted.detach().numpy(), gw.numpy()]
    broadcast = r"Using a target size .* different to the input size"
    for op in ("huber_loss", "l1_loss"):
        for reduction in ("mean", "sum", "none"):
            with pytest.warns(UserWarning, match=broadcast) as rec:
                ours = losses(tt, op, reduction, x, y, w)
            assert rec[0].filename == __file__  # pointed at the caller
            with pytest.warns(UserWarning, match=broadcast):
                theirs = pytorch(losses, op, reduction, x, y, w)
            for ours, theirs in zip(ours, theirs):
                np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14, err_msg=f"{op} {reduction}")
        with pytest.raises(ValueError, match="Weights and input must have the same size."):
            getattr(tt.nn.functional, op)(tt.ones(2, 3), tt.ones(2, 3), weight=tt.ones(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tt.nn.functional.l1_loss(tt.ones(2), tt.ones(2))  # same shape: no warning
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        assert nn.L1Loss(reduce=False)(tt.ones(2), tt.zeros(2)).shape == (2,)
    assert tt.nn.functional.l1_loss(tt.ones(2), tt.zeros(2), reduce=False).shape == (2,)


@pytest.mark.parametrize("case", ["rows", "dim0", "broadcast", "tiny", "zero", "last_dim"])
def test_cosine_similarity_matches_pytorch(case):
    rng = _rng()
    a, b, kw = {
        "rows": (rng.standard_normal((4, 5)), rng.standard_normal((4, 5)), {}),
        "dim0": (rng.standard_normal((3, 2)), rng.standard_normal((3, 2)), {"dim": 0}),
        "broadcast": (rng.standard_normal((4, 3, 5)), rng.standard_normal((3, 5)), {"dim": -1}),
        # norms below eps: clamped in the division, not in the norm's own derivative
        "tiny": (np.array([[1e-10, -2e-10, 0.5], [1e-9, 0.0, 0.0]]), rng.standard_normal((2, 3)), {"dim": 1}),
        "zero": (np.zeros((2, 3)), rng.standard_normal((2, 3)), {}),
        "last_dim": (rng.standard_normal(6), rng.standard_normal(6), {"dim": 0, "eps": 1e-3}),
    }[case]
    for dtype in ("float32", "float64"):
        (ours, our_grads, our_name), (theirs, their_grads, their_name) = _loss_pair(
            lambda m, x, y: m.nn.functional.cosine_similarity(x, y, **kw), a.astype(dtype), b.astype(dtype))
        assert our_name == their_name == "SumBackward1"
        tol = dict(rtol=2e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours, theirs, **tol)
        for g, h in zip(our_grads, their_grads):
            np.testing.assert_allclose(g, h, err_msg=case, **tol)
    mod = nn.CosineSimilarity(**{k: v for k, v in kw.items()})
    assert repr(mod) == "CosineSimilarity()"
    np.testing.assert_allclose(
        mod(tt.tensor(a), tt.tensor(b)).numpy(),
        pytorch(lambda torch, a, b: torch.nn.CosineSimilarity(**kw)(torch.tensor(a), torch.tensor(b)), a, b).numpy(),
        rtol=1e-12)


@pytest.mark.parametrize("p,keepdim", [(2.0, False), (1.0, True), (3.0, False)])
def test_pairwise_distance_matches_pytorch(p, keepdim):
    rng = _rng()
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    b[0] = a[0]  # a zero difference (the eps keeps the norm's gradient finite)
    (ours, our_grads, _), (theirs, their_grads, _) = _loss_pair(
        lambda m, x, y: m.nn.functional.pairwise_distance(x, y, p=p, keepdim=keepdim), a, b)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    for g, h in zip(our_grads, their_grads):
        np.testing.assert_allclose(g, h, rtol=1e-10, atol=1e-12)
    assert repr(nn.PairwiseDistance(p, keepdim=keepdim)) == pytorch(
        lambda torch: repr(torch.nn.PairwiseDistance(p, keepdim=keepdim)))


# ---------------------------------------------------------------- modules


MODULES = [
    "Hardtanh()", "Hardtanh(-2.0, 3.0)", "Hardtanh(-2, 3, True)", "ReLU6()", "ReLU6(inplace=True)", "ELU()",
    "ELU(alpha=0.5, inplace=True)", "SELU()", "SELU(True)", "CELU()", "CELU(0.3)", "LogSigmoid()", "Hardsigmoid()",
    "Hardsigmoid(inplace=True)", "Hardswish()", "Hardswish(True)", "Threshold(0.1, 20.0)", "Threshold(1, 2, True)",
    "Softsign()", "Tanhshrink()", "Mish()", "Mish(inplace=True)", "Softplus()", "Softplus(beta=2, threshold=5)",
    "GELU()", "GELU(approximate='tanh')", "GELU('tanh')", "LeakyReLU()", "LeakyReLU(0.2, True)", "SiLU()",
    "CosineSimilarity(dim=0, eps=1e-3)", "PairwiseDistance()", "HuberLoss(delta=2.0)",
]


@pytest.mark.parametrize("spec", MODULES)
def test_module_repr_and_forward_match_pytorch(spec):
    forward = not spec.startswith(("CosineSimilarity", "PairwiseDistance", "HuberLoss"))
    data = _rng().uniform(-7, 7, 30)

    def module(lib, data):
        m = eval("lib.nn." + spec)
        return repr(m), m(lib.tensor(data) * 1) if forward else None  # a non-leaf: an in-place module may write it
    (ours, ours_out), (theirs, theirs_out) = module(tt, data), pytorch(module, data)
    assert ours == theirs
    if forward:
        np.testing.assert_allclose(ours_out.numpy(), theirs_out.numpy(), rtol=1e-12, atol=1e-14)


def test_hardtanh_module_checks_and_deprecated_names():
    with pytest.raises(AssertionError, match=r"max_val \(1\) must be greater than min_val \(1\)"):
        nn.Hardtanh(1, 1)
    with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
        assert nn.Hardtanh(min_value=-2.0).min_val == -2.0


def _torch_repr(text):
    return text.replace("torch.", "tinytape.")


def _parameter_list(lib):
    class M(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.ps = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.ones(2)])
            self.lin = lib.nn.Linear(2, 2)
    return M()


def _parameter_list_facts(lib):
    m = _parameter_list(lib)
    facts = [repr(m), [n for n, _ in m.named_parameters()], list(m.state_dict())]
    m.ps.append(lib.zeros(4))
    m.ps.append(3)
    return facts + [repr(m.ps)]


def test_parameter_list_matches_pytorch():
    theirs = pytorch(_parameter_list_facts)
    ours = _parameter_list(tt)
    assert repr(ours) == _torch_repr(theirs[0])
    assert [n for n, _ in ours.named_parameters()] == theirs[1] == ["ps.0", "ps.1", "lin.weight", "lin.bias"]
    assert list(ours.state_dict()) == theirs[2]
    pl = ours.ps
    pl.append(tt.zeros(4))
    pl.append(3)
    assert repr(pl) == _torch_repr(theirs[3])
    assert len(pl) == 4 and isinstance(pl[-2], nn.Parameter) and pl[3] == 3 and pl[-1] == 3
    assert isinstance(pl[1:3], nn.ParameterList) and len(pl[1:3]) == 2
    assert [type(p).__name__ for p in pl] == ["Parameter", "Parameter", "Parameter", "int"]
    pl[0] = tt.ones(1)
    assert isinstance(pl[0], nn.Parameter) and pl[0].shape == (1,)
    with pytest.raises(IndexError, match="index 5 is out of range"):
        pl[5]
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable, but got Tensor"):
        pl.extend(tt.ones(2))
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        pl(1)
    assert repr(nn.ParameterList()) == "ParameterList()"
    # an optimizer over it trains the parameters it holds
    params = nn.ParameterList([tt.ones(3)])
    opt = tt.optim.SGD(params.parameters(), lr=0.5)
    (params[0] * params[0]).sum().backward()
    opt.step()
    np.testing.assert_allclose(params[0].detach().numpy(), np.zeros(3))


def test_parameter_dict_matches_pytorch():
    def build(lib):
        return lib.nn.ParameterDict({"b": lib.nn.Parameter(lib.ones(2)), "a": lib.ones(3, dtype=lib.float64)})

    def facts(lib):
        d = build(lib)
        return repr(d), list(d.keys()), [n for n, _ in d.named_parameters()]
    ours = build(tt)
    theirs = pytorch(facts)
    assert repr(ours) == _torch_repr(theirs[0])
    assert list(ours.keys()) == theirs[1] == ["a", "b"]  # a plain dict: sorted, as PyTorch
    assert [n for n, _ in ours.named_parameters()] == theirs[2]
    from collections import OrderedDict
    od = nn.ParameterDict(OrderedDict([("z", tt.ones(1)), ("y", tt.ones(2))]))
    assert list(od) == ["z", "y"] and "z" in od and len(od) == 2
    od["x"] = tt.zeros(1)
    assert isinstance(od["x"], nn.Parameter) and list(od.keys())[-1] == "x"
    assert od.pop("z").shape == (1,) and list(od) == ["y", "x"]
    assert od.get("missing", 7) == 7 and od.setdefault("w", 5) == 5
    assert od.popitem()[0] == "w"
    assert list(reversed(od)) == ["x", "y"] and list(od.copy().keys()) == ["y", "x"]
    od.update([("v", tt.ones(2))])
    assert [k for k, _ in od.items()] == ["y", "x", "v"] and len(list(od.values())) == 3
    with pytest.raises(TypeError, match="not a string"):
        od[1]
    with pytest.raises(ValueError, match="has length 1; 2 is required"):
        od.update([("a",)])
    od.clear()
    assert len(od) == 0 and repr(od) == "ParameterDict()"


def test_trunc_normal_bounds_moments_and_generator():
    t = tt.empty(200_000)
    assert nn.init.trunc_normal_(t, mean=1.0, std=2.0, a=-1.0, b=3.0) is t
    values = t.numpy()
    assert values.min() >= -1.0 and values.max() <= 3.0
    def moments(torch):
        torch.manual_seed(0)
        ref = torch.nn.init.trunc_normal_(torch.empty(200_000), mean=1.0, std=2.0, a=-1.0, b=3.0).numpy()
        return float(ref.mean()), float(ref.std())
    mean, std = pytorch(moments)
    assert abs(values.mean() - mean) < 0.02 and abs(values.std() - std) < 0.02
    g1, g2 = tt.Generator().manual_seed(3), tt.Generator().manual_seed(3)
    a, b = nn.init.trunc_normal_(tt.empty(5), generator=g1), nn.init.trunc_normal_(tt.empty(5), generator=g2)
    assert np.array_equal(a.numpy(), b.numpy()) and np.all(np.abs(a.numpy()) <= 2)
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        nn.init.trunc_normal_(tt.empty(3), mean=10.0)
    w = nn.Parameter(tt.empty(2, 2, dtype=tt.float64))
    nn.init.trunc_normal_(w, std=0.02, a=-0.03, b=0.03)  # a and b are values, not standard deviations
    assert w.dtype == tt.float64 and w.grad_fn is None and np.all(np.abs(w.detach().numpy()) <= 0.03)


# ---------------------------------------------------------------- Adagrad

_adagrad_rng = np.random.default_rng(12)
W0 = [_adagrad_rng.standard_normal(3), _adagrad_rng.standard_normal((2, 3))]
A = _adagrad_rng.standard_normal((4, 3))


def _objective(lib, w, v):
    r = lib.tensor(A).to(w.dtype).matmul(w) - 1
    return (r * r).sum() + (v * v * v * v).sum() * 0.1 + v.matmul(w).tanh().sum()


ADAGRAD = {
    "default": {},
    "lr": {"lr": 0.1},
    "lr_decay": {"lr": 0.1, "lr_decay": 0.05},
    "weight_decay": {"lr": 0.05, "weight_decay": 0.3},
    "initial_accumulator": {"lr": 0.2, "initial_accumulator_value": 0.7, "eps": 1e-6},
    "maximize": {"lr": 0.01, "maximize": True, "lr_decay": 0.01, "weight_decay": 0.1},
}


def _adagrad_run(lib, kw, steps, dtype="float64", groups=False, opt=None, params=None):
    params = params or [lib.tensor(w.astype(dtype), requires_grad=True) for w in W0]
    if opt is None:
        spec = [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.003, "lr_decay": 0.2}] if groups else params
        opt = lib.optim.Adagrad(spec, **kw)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        _objective(lib, *params).backward()
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out, opt, params


@pytest.mark.parametrize("groups", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ADAGRAD)
def test_adagrad_matches_pytorch_over_ten_steps(name, dtype, groups):
    ours, opt, _ = _adagrad_run(tt, ADAGRAD[name], 10, dtype, groups)

    def run(torch):
        steps, topt, _ = _adagrad_run(torch, ADAGRAD[name], 10, dtype, groups)
        return steps, topt.state_dict()
    theirs, their_state = pytorch(run)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for p, q in zip(a, b):
            np.testing.assert_allclose(p, q, err_msg=f"step {step + 1}", **tol)
    state = opt.state_dict()
    for i in their_state["state"]:
        assert float(state["state"][i]["step"]) == their_state["state"][i]["step"].item() == 10
        assert state["state"][i]["step"].dtype == tt.float32
        np.testing.assert_allclose(state["state"][i]["sum"].numpy(), their_state["state"][i]["sum"].numpy(), **tol)
    assert list(state["param_groups"][0].items()) == list(their_state["param_groups"][0].items())


def test_adagrad_state_exists_before_the_first_step_as_pytorch():
    p = tt.tensor([1.0, 2.0], requires_grad=True)
    opt = tt.optim.Adagrad([p], initial_accumulator_value=0.5)
    theirs = pytorch(lambda torch: torch.optim.Adagrad([torch.tensor([1.0, 2.0], requires_grad=True)],
                                                       initial_accumulator_value=0.5).state_dict()["state"][0])
    ours = opt.state_dict()["state"][0]
    assert sorted(ours) == sorted(theirs) == ["step", "sum"]
    assert float(ours["step"]) == 0.0 and ours["sum"].tolist() == theirs["sum"].tolist() == [0.5, 0.5]


def test_adagrad_state_dict_round_trip_resumes_the_same_trajectory():
    kw = ADAGRAD["lr_decay"]
    straight, _, _ = _adagrad_run(tt, kw, 10)
    first, opt, params = _adagrad_run(tt, kw, 5)
    buf = io.BytesIO()
    tt.save({"optim": opt.state_dict(), "params": [p.detach() for p in params]}, buf)
    buf.seek(0)
    saved = tt.load(buf)
    fresh = [tt.tensor(p.numpy(), requires_grad=True) for p in saved["params"]]
    resumed = tt.optim.Adagrad(fresh, **kw)
    resumed.load_state_dict(saved["optim"])
    assert float(resumed.state[fresh[0]]["step"]) == 5
    second, _, _ = _adagrad_run(tt, kw, 5, opt=resumed, params=fresh)
    for a, b in zip(straight, first + second):
        for p, q in zip(a, b):
            np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("kw,message", [
    ({"lr": -1}, "Invalid learning rate: -1"), ({"lr_decay": -0.1}, "Invalid lr_decay value: -0.1"),
    ({"weight_decay": -1}, "Invalid weight_decay value: -1"), ({"eps": -1}, "Invalid epsilon value: -1"),
    ({"initial_accumulator_value": -1}, "Invalid initial_accumulator_value value: -1")])
def test_adagrad_constructor_errors_match_pytorch(kw, message):
    with pytest.raises(ValueError, match=message):
        tt.optim.Adagrad([tt.ones(1, requires_grad=True)], **kw)
    with pytest.raises(ValueError, match=message):
        pytorch(lambda torch: torch.optim.Adagrad([torch.ones(1, requires_grad=True)], **kw))


# ---------------------------------------------------------------- devices and compile


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["hardtanh", "elu", "logsigmoid", "hardswish", "softplus_beta", "gelu_tanh", "mish"])
def test_activations_on_cuda_match_cpu(name):
    data = np.array([-INF, -3.0, -1.0, 0.0, 1.0, 3.0, 25.0, NAN, 0.3, -0.7], np.float32)
    results = []
    for device in ("cpu", "cuda"):
        x = tt.tensor(data, requires_grad=True, device=device)
        y = ACTIVATIONS[name](tt, x)
        (g,) = tt.autograd.grad(y, x, tt.ones(data.size, device=device))
        results.append((y.detach().cpu().numpy(), g.cpu().numpy()))
    for ours, cpu in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, cpu, rtol=1e-6, atol=1e-6, equal_nan=True)  # an ulp of tanh, cancelling


@pytest.mark.slow  # numba compiles the generated ten-layer step in about 2 minutes, peaking at 14 GB
def test_compiled_training_step_with_the_new_layers_and_adagrad_matches_eager():
    def training_step():
        tt.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 8), nn.Hardtanh(-0.5, 0.5), nn.Linear(8, 8), nn.ELU(), nn.Mish(),
                              nn.Softplus(2.0), nn.GELU("tanh"), nn.Hardswish(), nn.LogSigmoid(), nn.Linear(8, 2))
        opt = tt.optim.Adagrad(model.parameters(), lr=0.05, weight_decay=0.01)
        loss_fn = nn.HuberLoss(delta=0.5)

        def step(x, y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return step, model, opt

    tt.manual_seed(1)
    batches = [(tt.randn(6, 5), tt.rand(6, 2)) for _ in range(3)]
    eager, eager_model, _ = training_step()
    expected = [eager(*batches[i % 3]).item() for i in range(6)]
    step, model, opt = training_step()
    compiled = tt.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = [compiled(*batches[i % 3]).item() for i in range(6)]
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    for p, q in zip(model.parameters(), eager_model.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert compiled.eager is None and not caught  # lr_decay 0: Adagrad never reads its step count back
    assert all(s["step"].item() == 6 for s in opt.state.values())
