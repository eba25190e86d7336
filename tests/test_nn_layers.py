"""Layers, losses, init and gradient clipping: values and gradients against PyTorch
(same weights, same inputs), finite-difference gradients through the shared gradcheck,
on both backends (cuda = numba's simulator where there is no GPU)."""
import math

import numpy as np
import pytest

import tinytape as tt
from helpers import check_grad
from pytorch_answers import pytorch
from tinytape import nn
from tinytape.autograd import gradcheck

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def on_devices(names, cuda_names):
    """(name, device) pairs: every name on the CPU, a few on cuda (the simulator is slow)."""
    return [(n, "cpu") for n in names] + [pytest.param(n, "cuda", marks=pytest.mark.gpu) for n in cuda_names]


def _rng():
    """Each test's own random numbers: the same whatever ran before it."""
    return np.random.default_rng(5)


# name -> (module factory taking the library, input shape)
LAYERS = {
    "linear": (lambda lib: lib.nn.Linear(4, 3), (5, 4)),
    "linear_no_bias": (lambda lib: lib.nn.Linear(4, 3, bias=False), (5, 4)),
    "linear_batched": (lambda lib: lib.nn.Linear(4, 2), (2, 3, 4)),
    "linear_vector": (lambda lib: lib.nn.Linear(4, 2), (4,)),
    "linear_tiny": (lambda lib: lib.nn.Linear(2, 2), (2, 2)),
    "relu": (lambda lib: lib.nn.ReLU(), (3, 4)),
    "tanh": (lambda lib: lib.nn.Tanh(), (3, 4)),
    "sigmoid": (lambda lib: lib.nn.Sigmoid(), (3, 4)),
    "softmax": (lambda lib: lib.nn.Softmax(dim=1), (3, 4)),
    "log_softmax": (lambda lib: lib.nn.LogSoftmax(dim=-1), (3, 4)),
    "flatten": (lambda lib: lib.nn.Flatten(), (2, 3, 4)),
    "flatten_0_1": (lambda lib: lib.nn.Flatten(0, 1), (2, 3, 4)),
    "identity": (lambda lib: lib.nn.Identity(7, key="ignored"), (3,)),
    "dropout_eval": (lambda lib: lib.nn.Dropout(0.5).eval(), (3, 4)),
    "mlp": (lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 6), lib.nn.Tanh(), lib.nn.Linear(6, 6), lib.nn.ReLU(),
                                          lib.nn.Linear(6, 2), lib.nn.Sigmoid()), (5, 4)),
}


@pytest.mark.parametrize("name, device", on_devices(sorted(LAYERS), ["linear_batched", "mlp", "flatten_0_1"]))
def test_layer_values_and_gradients_match_pytorch(name, device):
    rng = _rng()
    make, shape = LAYERS[name]
    ours = make(tt).to(device, tt.float64)
    state = {k: rng.standard_normal(tuple(v.shape)) for k, v in ours.state_dict().items()}  # the same in both
    ours.load_state_dict({k: tt.tensor(v) for k, v in state.items()})
    x_np = rng.standard_normal(shape)
    x = tt.tensor(x_np, device=device, requires_grad=True)
    out = ours(x)
    weights = rng.standard_normal(tuple(out.shape))
    (out * tt.tensor(weights, device=device)).sum().backward()

    def answer(torch, state, x_np, weights):
        theirs = make(torch).double()
        theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
        xt = torch.tensor(x_np, requires_grad=True)
        expected = theirs(xt)
        (expected * torch.tensor(weights)).sum().backward()
        return expected, xt.grad, [q.grad for _, q in theirs.named_parameters()]
    expected, expected_grad, parameter_grads = pytorch(answer, state, x_np, weights)
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad.cpu().numpy(), expected_grad.numpy(), rtol=1e-10, atol=1e-12)
    assert len(parameter_grads) == len(list(ours.parameters()))
    for (n, p), q in zip(ours.named_parameters(), parameter_grads):
        np.testing.assert_allclose(p.grad.cpu().numpy(), q.numpy(), rtol=1e-10, atol=1e-12, err_msg=n)


@pytest.mark.parametrize("name, device", on_devices(["linear", "linear_batched", "mlp", "softmax", "flatten"], ["linear_tiny"]))
def test_layer_gradcheck(name, device):
    """Finite differences through the module, for the input and every parameter."""
    make, shape = LAYERS[name]
    model = make(tt).to(device, tt.float64)
    params = list(model.parameters())
    x = tt.tensor(_rng().standard_normal(shape), device=device, requires_grad=True)
    assert gradcheck(lambda x, *ps: model(x), (x, *params))


def test_linear_function_gradcheck_through_the_shared_helper():
    from tinytape.nn.layers import linear
    rng = _rng()
    check_grad(lambda x, w, b: linear(x, w, b).tanh(), rng.standard_normal((3, 4)), rng.standard_normal((2, 4)),
               rng.standard_normal(2), second_order=True)
    with pytest.raises(RuntimeError, match=r"^mat1 and mat2 shapes cannot be multiplied \(3x5 and 4x2\)$"):
        linear(tt.ones(3, 5), tt.ones(2, 4))


def test_linear_default_init_is_pytorchs_distribution():
    """Weight and bias uniform on (-1/sqrt(in), 1/sqrt(in)): bounds, mean and variance."""
    tt.manual_seed(0)
    m = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (m.weight, m.bias):
        v = p.detach().numpy()
        assert v.dtype == np.float32 and np.abs(v).max() <= bound
        assert abs(v.mean()) < 4 * bound / math.sqrt(3 * v.size)  # four standard errors
        assert abs(v.var() / (bound ** 2 / 3) - 1) < 4 * math.sqrt(0.8 / v.size)
    tt.manual_seed(0)
    assert np.array_equal(nn.Linear(400, 300).weight.detach().numpy(), m.weight.detach().numpy())  # seeded
    assert nn.Linear(2, 3, dtype=tt.float64).weight.dtype is tt.float64
    assert nn.Linear(2, 3, device="cuda").bias.device.type == "cuda"


@pytest.mark.parametrize("device", DEVICES)
def test_dropout_train_and_eval(device):
    tt.manual_seed(3)
    x = tt.ones(200, 50, device=device, requires_grad=True)
    drop = nn.Dropout(0.3)
    out = drop(x)
    values = out.detach().cpu().numpy()
    kept = values != 0
    np.testing.assert_allclose(values[kept], 1 / 0.7, rtol=1e-6)
    assert abs(kept.mean() - 0.7) < 0.02
    out.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), kept / 0.7, rtol=1e-6)  # gradient through the same mask
    assert drop.eval()(x) is x
    assert nn.Dropout(0.0)(x) is x and nn.Dropout(1.0)(x).abs().sum().item() == 0
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


# name -> (loss factory taking the library, input shape, target maker (taking a numpy Generator))
def _probabilities(shape):
    return lambda rng: rng.uniform(0.05, 0.95, shape)


def _classes(n, c, ignore=None):
    def labels(rng):
        drawn = rng.integers(0, c, n)
        if ignore is not None:
            drawn[1] = ignore
        return drawn
    return labels


LOSSES = {}
for reduction in ("mean", "sum", "none"):
    LOSSES[f"mse_{reduction}"] = (lambda lib, r=reduction: lib.nn.MSELoss(reduction=r), (4, 3),
                                  lambda rng: rng.standard_normal((4, 3)))
    LOSSES[f"l1_{reduction}"] = (lambda lib, r=reduction: lib.nn.L1Loss(reduction=r), (4, 3),
                                 lambda rng: rng.standard_normal((4, 3)))
    LOSSES[f"cross_entropy_{reduction}"] = (lambda lib, r=reduction: lib.nn.CrossEntropyLoss(reduction=r), (5, 4),
                                            _classes(5, 4))
    LOSSES[f"nll_{reduction}"] = (lambda lib, r=reduction: lib.nn.NLLLoss(reduction=r), (5, 4), _classes(5, 4))
    LOSSES[f"bce_logits_{reduction}"] = (lambda lib, r=reduction: lib.nn.BCEWithLogitsLoss(reduction=r), (4, 3),
                                         _probabilities((4, 3)))
LOSSES.update({
    "cross_entropy_weighted_ignore": (
        lambda lib: lib.nn.CrossEntropyLoss(weight=lib.tensor([0.5, 1.0, 2.0, 1.5]), ignore_index=2),
        (6, 4), _classes(6, 4, ignore=2)),
    "cross_entropy_smoothing": (lambda lib: lib.nn.CrossEntropyLoss(label_smoothing=0.2), (5, 4), _classes(5, 4)),
    "cross_entropy_probabilities": (lambda lib: lib.nn.CrossEntropyLoss(), (3, 4),
                                    lambda rng: rng.dirichlet(np.ones(4), 3)),
    "cross_entropy_spatial": (lambda lib: lib.nn.CrossEntropyLoss(), (2, 3, 4),
                              lambda rng: rng.integers(0, 3, (2, 4))),
    "nll_weighted": (lambda lib: lib.nn.NLLLoss(weight=lib.tensor([1.0, 3.0, 0.5])), (4, 3), _classes(4, 3)),
    "bce_logits_pos_weight": (lambda lib: lib.nn.BCEWithLogitsLoss(pos_weight=lib.tensor([1.0, 2.0, 0.5])),
                              (4, 3), _probabilities((4, 3))),
    "bce_logits_weight": (lambda lib: lib.nn.BCEWithLogitsLoss(weight=lib.tensor([1.0, 2.0, 0.5])),
                          (4, 3), _probabilities((4, 3))),
    "bce_mean": (lambda lib: lib.nn.BCELoss(), (4, 3), _probabilities((4, 3))),
    "bce_weighted_sum": (lambda lib: lib.nn.BCELoss(weight=lib.tensor([1.0, 2.0, 0.5]), reduction="sum"),
                         (4, 3), _probabilities((4, 3))),
    "mse_legacy_size_average": (lambda lib: lib.nn.MSELoss(size_average=False), (4, 3),
                                lambda rng: rng.standard_normal((4, 3))),
})
_PROBABILITY_INPUT = {"bce_mean", "bce_weighted_sum"}


@pytest.mark.parametrize("name, device", on_devices(sorted(LOSSES), ["mse_sum", "cross_entropy_weighted_ignore",
                                                                   "bce_logits_pos_weight", "nll_none"]))
def test_loss_values_and_gradients_match_pytorch(name, device):
    rng = _rng()
    make, shape, target = LOSSES[name]
    x_np = rng.uniform(0.05, 0.95, shape) if name in _PROBABILITY_INPUT else rng.standard_normal(shape)
    y_np = target(rng)  # float64 or int64: the same target in both
    x = tt.tensor(x_np, device=device, requires_grad=True)
    ours = make(tt).to(device, tt.float64)
    out = ours(x, tt.tensor(y_np, device=device))
    out.sum().backward()

    def answer(torch, x_np, y_np):
        xt = torch.tensor(x_np, requires_grad=True)
        expected = make(torch).double()(xt, torch.tensor(y_np))
        expected.sum().backward()
        return expected, xt.grad
    expected, expected_grad = pytorch(answer, x_np, y_np)
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad.cpu().numpy(), expected_grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["mse_mean", "l1_sum", "cross_entropy_weighted_ignore", "bce_logits_pos_weight",
                                  "bce_mean", "nll_none"])
def test_loss_gradcheck(name):
    rng = _rng()
    make, shape, target = LOSSES[name]
    y = tt.tensor(target(rng))
    x = rng.uniform(0.1, 0.9, shape) if name in _PROBABILITY_INPUT else rng.standard_normal(shape) + 0.01
    loss = make(tt).double()
    check_grad(lambda x: loss(x, y), x)


def test_loss_reprs_and_bad_reduction():
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss()"
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        assert nn.MSELoss(reduce=False).reduction == "none" and nn.L1Loss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning, match="Using a target size"):  # PyTorch's: warns, then broadcasts
        assert nn.L1Loss()(tt.ones(2, 3), tt.zeros(3)).item() == 1.0
    with pytest.raises(RuntimeError, match="^The size of tensor a"):
        with pytest.warns(UserWarning):
            nn.L1Loss()(tt.ones(2, 3), tt.ones(2))
    assert [n for n, _ in nn.CrossEntropyLoss(weight=tt.ones(3)).named_buffers()] == ["weight"]


# ---------------------------------------------------------------- init


def test_calculate_gain_matches_pytorch():
    cases = [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",), ("leaky_relu", 0.2),
             ("leaky_relu", 3), ("selu",)]
    for args, theirs in zip(cases, pytorch(lambda torch: [torch.nn.init.calculate_gain(*args) for args in cases])):
        assert nn.init.calculate_gain(*args) == pytest.approx(theirs, rel=1e-15)
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        nn.init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        nn.init.calculate_gain("leaky_relu", True)


SHAPE = (300, 200)  # fan_in 200, fan_out 300
# initialiser -> (expected mean, expected std, (low, high) bounds or None)
INITS = {
    "uniform_": (lambda t: nn.init.uniform_(t, -2.0, 3.0), 0.5, 5 / math.sqrt(12), (-2.0, 3.0)),
    "normal_": (lambda t: nn.init.normal_(t, 1.0, 0.5), 1.0, 0.5, None),
    "xavier_uniform_": (lambda t: nn.init.xavier_uniform_(t, gain=2.0), 0.0, 2.0 * math.sqrt(2 / 500),
                        (-2.0 * math.sqrt(6 / 500), 2.0 * math.sqrt(6 / 500))),
    "xavier_normal_": (lambda t: nn.init.xavier_normal_(t), 0.0, math.sqrt(2 / 500), None),
    "kaiming_uniform_": (lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"), 0.0, math.sqrt(2 / 200),
                         (-math.sqrt(6 / 200), math.sqrt(6 / 200))),
    "kaiming_uniform_fan_out": (lambda t: nn.init.kaiming_uniform_(t, a=math.sqrt(5), mode="fan_out"), 0.0,
                                math.sqrt(1 / 3 / 300) * math.sqrt(1), (-1 / math.sqrt(300), 1 / math.sqrt(300))),
    "kaiming_normal_": (lambda t: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), 0.0,
                        math.sqrt(2 / 300), None),
}


@pytest.mark.parametrize("name, device", on_devices(sorted(INITS), []))
def test_init_distributions(name, device):
    fill, mean, std, bounds = INITS[name]
    t = tt.empty(*SHAPE, device=device)
    assert fill(t) is t
    v = t.cpu().numpy().astype(np.float64)
    assert abs(v.mean() - mean) < 5 * std / math.sqrt(v.size)
    assert abs(v.std() / std - 1) < 0.03
    if bounds is not None:
        assert bounds[0] <= v.min() and v.max() <= bounds[1]


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["uniform_", "kaiming_uniform_", "xavier_normal_"])
def test_init_on_cuda_gives_the_cpu_values(name):
    values = []
    for device in ("cpu", "cuda"):
        tt.manual_seed(4)
        values.append(INITS[name][0](tt.empty(6, 5, device=device)).cpu().numpy())
    np.testing.assert_array_equal(values[1], values[0])


def test_init_constants_and_errors():
    t = nn.Parameter(tt.empty(2, 3))
    assert nn.init.zeros_(t) is t and t.abs().sum().item() == 0 and t.requires_grad and t.is_leaf
    assert nn.init.ones_(t).sum().item() == 6 and nn.init.constant_(t, 0.5).tolist() == [[0.5] * 3] * 2
    assert nn.init.eye_(tt.empty(2, 3)).tolist() == [[1, 0, 0], [0, 1, 0]]
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor with fewer than 2"):
        nn.init.xavier_uniform_(tt.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        nn.init.kaiming_normal_(tt.empty(2, 2), mode="fan_avg")
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        nn.init.kaiming_uniform_(tt.empty(0, 3))
    g = tt.Generator().manual_seed(7)
    a = nn.init.normal_(tt.empty(4), generator=g).tolist()
    assert nn.init.normal_(tt.empty(4), generator=tt.Generator().manual_seed(7)).tolist() == a


# ---------------------------------------------------------------- gradient clipping


CLIPS = [(1.0, 2.0), (100.0, 2.0), (0.5, 1.0), (0.3, float("inf")), (2.0, 3)]


@pytest.mark.parametrize("max_norm, norm_type, device", [(*c, "cpu") for c in CLIPS] + [
    pytest.param(*c, "cuda", marks=pytest.mark.gpu) for c in (CLIPS[0], CLIPS[3])])
def test_clip_grad_norm_matches_pytorch(max_norm, norm_type, device):
    rng = _rng()
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    ours = [tt.zeros(g.shape, dtype=tt.float64, device=device, requires_grad=True) for g in grads]
    for p, g in zip(ours, grads):
        p.grad = tt.tensor(g, device=device)
    extra = tt.zeros(2, requires_grad=True, device=device)  # no gradient: skipped
    total = nn.utils.clip_grad_norm_(ours + [extra], max_norm, norm_type)

    def clipped(torch, grads):
        theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for q, g in zip(theirs, grads):
            q.grad = torch.tensor(g)
        return torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type), [q.grad for q in theirs]
    expected, expected_grads = pytorch(clipped, grads)
    assert total.shape == () and total.item() == pytest.approx(expected.item(), rel=1e-12)
    for p, q in zip(ours, expected_grads):
        np.testing.assert_allclose(p.grad.cpu().numpy(), q.numpy(), rtol=1e-12)


def test_clip_grad_norm_edges():
    p = tt.zeros(3, requires_grad=True)
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0  # no gradients at all
    p.grad = tt.tensor([3.0, 4.0, 0.0])
    assert nn.utils.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)  # a single tensor
    assert p.grad.norm().item() == pytest.approx(1.0, rel=1e-5)
    p.grad = tt.tensor([float("inf"), 1.0, 0.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    p.grad = tt.tensor([3.0, -4.0, 0.5])
    nn.utils.clip_grad_value_([p], 1.0)
    assert p.grad.tolist() == [1.0, -1.0, 0.5]


def test_parameters_to_vector_round_trip():
    m = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(m.parameters())
    assert vec.shape == (8,)
    nn.utils.vector_to_parameters(vec * 0 + 1, m.parameters())
    assert m.weight.tolist() == [[1.0] * 3] * 2 and m.bias.tolist() == [1.0, 1.0]
