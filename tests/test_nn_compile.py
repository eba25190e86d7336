"""Modules and optimizers through ``tinytape.compile``: a compiled training step gives
the eager step's losses and weights."""
import warnings

import numpy as np
import pytest

import tinytape as tt
from tinytape import nn

OPTIMIZERS = {
    "sgd_momentum": lambda p: tt.optim.SGD(p, lr=0.05, momentum=0.9),
    "rmsprop_centered": lambda p: tt.optim.RMSprop(p, lr=0.01, centered=True, momentum=0.5),
    "adam": lambda p: tt.optim.Adam(p, lr=0.01),
}


def training_step(optimizer, device, loss_fn):
    tt.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2)).to(device)
    opt = OPTIMIZERS[optimizer](model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss
    return step, model, opt


# each case compiles a program of its own: SGD in the default run, the other optimizers in the slow set
CASES = [pytest.param(o, "cpu", "mse", marks=() if o.startswith("sgd") else pytest.mark.slow)
         for o in sorted(OPTIMIZERS)] + [("sgd_momentum", "cpu", "bce_logits"),
                                                          pytest.param("rmsprop_centered", "cuda", "mse", marks=pytest.mark.gpu)]


@pytest.mark.parametrize("optimizer, device, loss", CASES)
def test_compiled_training_step_matches_eager(optimizer, device, loss):
    loss_fn = nn.MSELoss() if loss == "mse" else nn.BCEWithLogitsLoss()
    tt.manual_seed(1)
    batches = [(tt.randn(6, 5, device=device), tt.rand(6, 2, device=device)) for _ in range(3)]
    eager, eager_model, _ = training_step(optimizer, device, loss_fn)
    expected = [eager(*batches[i % 3]).item() for i in range(9)]
    step, model, opt = training_step(optimizer, device, loss_fn)
    compiled = tt.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = [compiled(*batches[i % 3]).item() for i in range(9)]
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    for p, q in zip(model.parameters(), eager_model.parameters()):
        np.testing.assert_allclose(p.detach().cpu().numpy(), q.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)
    # every optimizer replays (Adam's step count is a tensor, its bias correction computed
    # from it in the program)
    assert compiled.eager is None and compiled.traces >= 1 and not caught
    if optimizer.startswith(("rmsprop", "adam")):
        assert all(s["step"].item() == 9 for s in opt.state.values())  # the replayed count


def test_compiled_module_forward_and_eval_mode():
    tt.manual_seed(2)
    model = nn.Sequential(nn.Linear(4, 6), nn.Sigmoid(), nn.Flatten(0, 1))
    compiled = tt.compile(model)
    for _ in range(3):
        x = tt.randn(3, 4)
        np.testing.assert_allclose(compiled(x).detach().numpy(), model(x).detach().numpy(), rtol=1e-6, atol=1e-7)
    with tt.no_grad():
        model[0].weight.mul_(2.0)  # the replay reads the parameters' current values
    x = tt.randn(3, 4)
    np.testing.assert_allclose(compiled(x).detach().numpy(), model(x).detach().numpy(), rtol=1e-6, atol=1e-7)
