"""The "PyTorch: nn" and "PyTorch: optim" examples of "Learning PyTorch with Examples",
run with ``import tinytape as torch`` and with PyTorch itself, from the same numpy data
and weights (loaded through ``load_state_dict``): the losses agree step for step.

Each example body below is the tutorial's code; only the random data and weights come
from shared numpy arrays.  In float32, rounding differences (summation order in the
matrix products) grow once the loss is near its floor, so float32 is compared over the
steps before that and float64 over every step."""
import math

import numpy as np
import pytest

import tinytape
from pytorch_answers import pytorch


def two_layer_data(dtype):
    rng = np.random.default_rng(0)
    N, D_in, H, D_out = 64, 1000, 100, 10
    b1, b2 = 1 / math.sqrt(D_in), 1 / math.sqrt(H)
    arrays = {"x": rng.standard_normal((N, D_in)), "y": rng.standard_normal((N, D_out)),
              "0.weight": rng.uniform(-b1, b1, (H, D_in)), "0.bias": rng.uniform(-b1, b1, H),
              "2.weight": rng.uniform(-b2, b2, (D_out, H)), "2.bias": rng.uniform(-b2, b2, D_out)}
    return {k: v.astype(dtype) for k, v in arrays.items()}


def two_layer(torch, arrays, optimizer_name, lr, steps):
    """The 2-layer net of the "nn" (manual update) and "optim" examples."""
    N, D_in, H, D_out = 64, 1000, 100, 10
    x = torch.from_numpy(arrays["x"])
    y = torch.from_numpy(arrays["y"])
    model = torch.nn.Sequential(
        torch.nn.Linear(D_in, H),
        torch.nn.ReLU(),
        torch.nn.Linear(H, D_out),
    )
    model.to(x.dtype)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items() if "." in k})
    loss_fn = torch.nn.MSELoss(reduction='sum')
    losses = []
    learning_rate = lr
    if optimizer_name is None:
        for t in range(steps):
            y_pred = model(x)
            loss = loss_fn(y_pred, y)
            losses.append(loss.item())
            model.zero_grad()
            loss.backward()
            with torch.no_grad():
                for param in model.parameters():
                    param -= learning_rate * param.grad
    else:
        optimizer = getattr(torch.optim, optimizer_name)(model.parameters(), lr=learning_rate)
        for t in range(steps):
            y_pred = model(x)
            loss = loss_fn(y_pred, y)
            losses.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return np.array(losses)


def polynomial(torch, dtype, optimizer_name, lr, steps):
    """The current tutorial's version: a cubic fitted to sin(x) by Linear(3, 1)."""
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 1),
        torch.nn.Flatten(0, 1)
    )
    model.to(dtype)
    model.load_state_dict({"0.weight": torch.tensor([[0.1, -0.2, 0.3]]), "0.bias": torch.tensor([0.05])})
    loss_fn = torch.nn.MSELoss(reduction='sum')
    learning_rate = lr
    losses = []
    optimizer = getattr(torch.optim, optimizer_name)(model.parameters(), lr=learning_rate) if optimizer_name else None
    for t in range(steps):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        if optimizer is None:
            model.zero_grad()
            loss.backward()
            with torch.no_grad():
                for param in model.parameters():
                    param -= learning_rate * param.grad
        else:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    linear_layer = model[0]
    result = [linear_layer.bias.item()] + [linear_layer.weight[:, i].item() for i in range(3)]
    return np.array(losses), np.array(result)


# (optimizer, lr, steps, float32 steps compared at rtol 1e-5)
TWO_LAYER = [(None, 1e-4, 500, 200), ("Adam", 1e-4, 500, 100), ("RMSprop", 1e-4, 300, 30), ("SGD", 1e-4, 300, 100)]
FIRST_STEPS = 10  # the default run takes each example's first steps; the slow set runs them to the end


@pytest.mark.parametrize("optimizer_name, lr, steps, f32_steps", TWO_LAYER)
def test_two_layer_net_first_losses_match_pytorch(optimizer_name, lr, steps, f32_steps):
    for dtype, rtol in ((np.float32, 1e-5), (np.float64, 1e-8)):
        ours = two_layer(tinytape, two_layer_data(dtype), optimizer_name, lr, FIRST_STEPS)
        theirs = pytorch(lambda torch: two_layer(torch, two_layer_data(dtype), optimizer_name, lr, FIRST_STEPS))
        np.testing.assert_allclose(ours, theirs, rtol=rtol)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer_name, lr, steps, f32_steps", TWO_LAYER)
def test_two_layer_net_losses_match_pytorch(optimizer_name, lr, steps, f32_steps):
    ours = two_layer(tinytape, two_layer_data(np.float32), optimizer_name, lr, f32_steps)
    theirs = pytorch(lambda torch: two_layer(torch, two_layer_data(np.float32), optimizer_name, lr, f32_steps))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    assert theirs[-1] < theirs[0] / 10  # the example trains

    ours = two_layer(tinytape, two_layer_data(np.float64), optimizer_name, lr, steps)
    theirs = pytorch(lambda torch: two_layer(torch, two_layer_data(np.float64), optimizer_name, lr, steps))
    np.testing.assert_allclose(ours, theirs, rtol=1e-8)


POLYNOMIAL = [(None, 1e-6, 2000, 2000), ("RMSprop", 1e-3, 1000, 1000)]


@pytest.mark.parametrize("optimizer_name, lr, steps, f32_steps", POLYNOMIAL)
def test_polynomial_first_losses_match_pytorch(optimizer_name, lr, steps, f32_steps):
    for dtype, rtol in (("float32", 1e-5), ("float64", 1e-8)):
        ours, _ = polynomial(tinytape, getattr(tinytape, dtype), optimizer_name, lr, FIRST_STEPS)
        theirs, _ = pytorch(lambda torch: polynomial(torch, getattr(torch, dtype), optimizer_name, lr, FIRST_STEPS))
        np.testing.assert_allclose(ours, theirs, rtol=rtol)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer_name, lr, steps, f32_steps", POLYNOMIAL)
def test_polynomial_losses_and_coefficients_match_pytorch(optimizer_name, lr, steps, f32_steps):
    ours, _ = polynomial(tinytape, tinytape.float32, optimizer_name, lr, f32_steps)
    theirs, _ = pytorch(lambda torch: polynomial(torch, torch.float32, optimizer_name, lr, f32_steps))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    ours, ours_coefficients = polynomial(tinytape, tinytape.float64, optimizer_name, lr, steps)
    theirs, their_coefficients = pytorch(lambda torch: polynomial(torch, torch.float64, optimizer_name, lr, steps))
    np.testing.assert_allclose(ours, theirs, rtol=1e-8)
    np.testing.assert_allclose(ours_coefficients, their_coefficients, rtol=1e-6, atol=1e-9)
    assert ours[-1] < ours[0] / 100  # the example trains
