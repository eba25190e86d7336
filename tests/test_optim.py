"""Optimizers and learning-rate schedules against PyTorch: the same updates step for
step (float64), parameter groups, state dicts (through tinytape.save/load), resuming."""
import io
import warnings

import numpy as np
import pytest

import tinytape as tt
from pytorch_answers import pytorch
from tinytape import nn, optim
from tinytape.optim import lr_scheduler

rng = np.random.default_rng(17)
A = rng.standard_normal((4, 3))
B = rng.standard_normal(4)
W0 = [rng.standard_normal(3), rng.standard_normal((2, 3))]


def objective(lib, w, v):
    """A smooth non-quadratic loss of two parameters of different shapes."""
    a, b = lib.tensor(A), lib.tensor(B)
    r = a.matmul(w) - b
    return (r * r).sum() + (v * v * v * v).sum() * 0.1 + (v.matmul(w)).tanh().sum()


def trajectory(lib, make, steps=6, groups=False):
    params = [lib.tensor(x, requires_grad=True) for x in W0]
    opt = make(lib, [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.003}] if groups else params)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        objective(lib, *params).backward()
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out, opt


OPTIMIZERS = {
    "sgd": lambda lib, p: lib.optim.SGD(p, lr=0.01),
    "sgd_momentum": lambda lib, p: lib.optim.SGD(p, lr=0.01, momentum=0.9, dampening=0.1),
    "sgd_nesterov_decay": lambda lib, p: lib.optim.SGD(p, lr=0.01, momentum=0.8, nesterov=True, weight_decay=0.1),
    "sgd_maximize": lambda lib, p: lib.optim.SGD(p, lr=0.001, momentum=0.5, maximize=True),
    "adam": lambda lib, p: lib.optim.Adam(p, lr=0.05),
    "adam_decay_betas": lambda lib, p: lib.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    "adam_amsgrad": lambda lib, p: lib.optim.Adam(p, lr=0.05, amsgrad=True),
    "adam_maximize": lambda lib, p: lib.optim.Adam(p, lr=0.01, maximize=True),
    "adamw": lambda lib, p: lib.optim.AdamW(p, lr=0.05),
    "adamw_amsgrad": lambda lib, p: lib.optim.AdamW(p, lr=0.05, weight_decay=0.3, amsgrad=True),
    "rmsprop": lambda lib, p: lib.optim.RMSprop(p),
    "rmsprop_momentum": lambda lib, p: lib.optim.RMSprop(p, lr=0.01, momentum=0.9),
    "rmsprop_centered": lambda lib, p: lib.optim.RMSprop(p, lr=0.01, centered=True, alpha=0.9),
    "rmsprop_centered_momentum_decay": lambda lib, p: lib.optim.RMSprop(p, lr=0.01, centered=True, momentum=0.5,
                                                                       weight_decay=0.2, eps=1e-4),
    "rmsprop_maximize": lambda lib, p: lib.optim.RMSprop(p, lr=0.001, maximize=True),
}


@pytest.mark.parametrize("groups", [False, True])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_updates_match_pytorch(name, groups):
    ours, ours_opt = trajectory(tt, OPTIMIZERS[name], groups=groups)
    def trajectory_and_state(torch):
        out, opt = trajectory(torch, OPTIMIZERS[name], groups=groups)
        return out, opt.state_dict()
    theirs, theirs_sd = pytorch(trajectory_and_state)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for p, q in zip(a, b):
            np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14, err_msg=f"step {step}")
    # the same state entries per parameter, and the group options PyTorch has
    ours_sd = ours_opt.state_dict()
    assert {k: set(v) for k, v in ours_sd["state"].items()} == {k: set(v) for k, v in theirs_sd["state"].items()}
    for g, h in zip(ours_sd["param_groups"], theirs_sd["param_groups"]):
        assert g["params"] == h["params"]
        assert all(g[k] == h[k] for k in g), set(g) - set(h)
    for i, entries in ours_sd["state"].items():
        for key, value in entries.items():
            expected = theirs_sd["state"][i][key]
            if key == "step":  # a count: a 0-d tensor (RMSprop, as PyTorch) or a number (Adam)
                assert float(value) == expected.item()
            else:
                np.testing.assert_allclose(value.numpy(), expected.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["sgd_momentum", "adam_amsgrad", "rmsprop_centered_momentum_decay", "adamw"])
def test_resume_from_a_saved_state_dict_continues_the_same_trajectory(name):
    make = OPTIMIZERS[name]
    straight, _ = trajectory(tt, make, steps=6, groups=True)
    params = [tt.tensor(x, requires_grad=True) for x in W0]
    opt = make(tt, [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.003}])
    for _ in range(3):
        opt.zero_grad()
        objective(tt, *params).backward()
        opt.step()
    buffer = io.BytesIO()
    tt.save({"params": [p.detach() for p in params], "optim": opt.state_dict()}, buffer)
    buffer.seek(0)
    saved = tt.load(buffer)
    params = [tt.tensor(p.numpy(), requires_grad=True) for p in saved["params"]]
    opt = make(tt, [{"params": [params[0]]}, {"params": [params[1]]}])  # group lr comes from the state dict
    opt.load_state_dict(saved["optim"])
    assert opt.param_groups[1]["lr"] == 0.003
    for _ in range(3):
        opt.zero_grad()
        objective(tt, *params).backward()
        opt.step()
    for p, q in zip(params, straight[-1]):
        np.testing.assert_array_equal(p.detach().numpy(), q)


def test_load_state_dict_casts_state_to_the_parameters_and_refuses_a_mismatch():
    w = tt.ones(3, requires_grad=True)
    opt = optim.Adam([w])
    (w * w).sum().backward()
    opt.step()
    sd = opt.state_dict()
    w64 = tt.ones(3, dtype=tt.float64, requires_grad=True)
    other = optim.Adam([w64])
    other.load_state_dict(sd)
    assert other.state[w64]["exp_avg"].dtype is tt.float64 and other.state[w64]["step"] == 1
    assert other.state[w64]["exp_avg"] is not opt.state[w]["exp_avg"]  # copied
    with pytest.raises(ValueError, match="loaded state dict has a different number of parameter groups"):
        optim.Adam([{"params": [w]}, {"params": [w64]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.Adam([w, w64]).load_state_dict(sd)


@pytest.mark.parametrize("params, error, message", [
    (lambda: tt.ones(2, requires_grad=True), TypeError, "should be an iterable of Tensors or dicts, but got tinytape.FloatTensor"),
    (lambda: [], ValueError, "optimizer got an empty parameter list"),
    (lambda: [tt.ones(2, requires_grad=True) * 2], ValueError, "can't optimize a non-leaf Tensor"),
    (lambda: [1.0], TypeError, "optimizer can only optimize Tensors"),
    (lambda: [{"params": {tt.ones(1)}}], TypeError, "ordering of tensors in sets will change"),
])
def test_constructor_errors(params, error, message):
    with pytest.raises(error, match=message):
        optim.SGD(params(), lr=0.1)


def test_param_groups_add_group_and_duplicates():
    a, b = tt.ones(2, requires_grad=True), tt.ones(3, requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.5)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01] and opt.param_groups[1]["momentum"] == 0.5
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})
    assert repr(opt).startswith("SGD (\nParameter Group 0\n    dampening: 0\n")


def test_repr_matches_pytorch_for_the_shared_options():
    ours = repr(optim.SGD([tt.ones(1, requires_grad=True)], lr=0.5, momentum=0.9)).splitlines()
    theirs = pytorch(lambda torch: repr(torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=0.5, momentum=0.9))
                     .splitlines())
    assert ours[:2] == theirs[:2] and set(ours[2:]) <= set(theirs[2:])


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_and_closure(set_to_none):
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = tt.randn(4, 3), tt.randn(4, 1)

    def closure():
        opt.zero_grad(set_to_none=set_to_none)
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss

    first = opt.step(closure).item()
    for _ in range(20):
        last = opt.step(closure).item()
    assert last < first
    opt.zero_grad(set_to_none=set_to_none)
    assert all((p.grad is None) if set_to_none else p.grad.abs().sum().item() == 0 for p in model.parameters())


@pytest.mark.gpu
def test_rmsprop_on_cuda_matches_cpu():
    results = []
    for device in ("cpu", "cuda"):
        w = tt.tensor([0.5, -1.0, 2.0], dtype=tt.float64, device=device, requires_grad=True)
        opt = optim.RMSprop([w], lr=0.1, momentum=0.5, centered=True)
        for _ in range(3):
            opt.zero_grad()
            (w ** 3).sum().backward()
            opt.step()
        assert opt.state[w]["square_avg"].device.type == device
        results.append(w.detach().cpu().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12)


# ---------------------------------------------------------------- schedules


class Halve:
    """A callable object: its attributes go into LambdaLR's state dict."""

    def __init__(self):
        self.factor = 0.5

    def __call__(self, epoch):
        return self.factor ** (epoch // 3)


SCHEDULES = {
    "step": lambda s, o: s.StepLR(o, step_size=3, gamma=0.5),
    "multistep": lambda s, o: s.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3),
    "exponential": lambda s, o: s.ExponentialLR(o, gamma=0.9),
    "cosine": lambda s, o: s.CosineAnnealingLR(o, T_max=8),
    "cosine_eta_min": lambda s, o: s.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
    "lambda": lambda s, o: s.LambdaLR(o, lambda epoch: 1 / (1 + epoch)),
    "lambda_per_group": lambda s, o: s.LambdaLR(o, [lambda e: 0.9 ** e, Halve()]),
}


def schedule_values(lib, make, steps=25, chained=None):
    params = [lib.zeros(1, requires_grad=True), lib.zeros(1, requires_grad=True)]
    opt = lib.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.3}], lr=0.1)
    schedulers = [make(lib.optim.lr_scheduler, opt)] + ([chained(lib.optim.lr_scheduler, opt)] if chained else [])
    values = [schedulers[0].get_last_lr()]
    for _ in range(steps):
        opt.step()
        for s in schedulers:
            s.step()
        values.append([g["lr"] for g in opt.param_groups])
        assert schedulers[-1].get_last_lr() == values[-1]
    return np.array(values), schedulers[0], opt


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_values_match_pytorch(name):
    ours, _, _ = schedule_values(tt, SCHEDULES[name])
    theirs = pytorch(lambda torch: schedule_values(torch, SCHEDULES[name])[0])
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-16)


def test_chained_schedules_match_pytorch():
    ours, _, _ = schedule_values(tt, SCHEDULES["cosine"], chained=SCHEDULES["step"])
    theirs = pytorch(lambda torch: schedule_values(torch, SCHEDULES["cosine"], chained=SCHEDULES["step"])[0])
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)


@pytest.mark.parametrize("name", ["step", "exponential", "cosine", "multistep"])
def test_explicit_epoch_uses_the_closed_form(name):
    def at_epoch_7(lib):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.2)
        sched = SCHEDULES[name](lib.optim.lr_scheduler, opt)
        opt.step()
        sched.step(7)
        return sched.get_last_lr()
    warning = "epoch parameter in `scheduler.step\\(\\)` was not necessary"
    with pytest.warns(UserWarning, match=warning):
        ours = at_epoch_7(tt)
    with pytest.warns(UserWarning, match=warning):
        theirs = pytorch(at_epoch_7)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_state_dict_resumes(name):
    straight, _, _ = schedule_values(tt, SCHEDULES[name], steps=12)
    first, sched, opt = schedule_values(tt, SCHEDULES[name], steps=5)
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 5 and state["base_lrs"] == [0.1, 0.3]
    if name.startswith("lambda"):  # functions are not saved, callable objects' attributes are
        assert all(fn is None or fn == {"factor": 0.5} for fn in state["lr_lambdas"])
    buffer = io.BytesIO()
    tt.save({"optim": opt.state_dict(), "sched": state}, buffer)
    buffer.seek(0)
    saved = tt.load(buffer)
    params = [tt.zeros(1, requires_grad=True), tt.zeros(1, requires_grad=True)]
    fresh = tt.optim.SGD([{"params": [params[0]]}, {"params": [params[1]]}], lr=1.0)
    fresh.load_state_dict(saved["optim"])
    resumed = SCHEDULES[name](lr_scheduler, fresh)
    resumed.load_state_dict(saved["sched"])
    assert resumed.get_last_lr() == list(first[-1])
    values = []
    for _ in range(7):
        fresh.step()
        resumed.step()
        values.append(resumed.get_last_lr())
    np.testing.assert_allclose(np.array(values), straight[6:], rtol=1e-13)
    with pytest.warns(UserWarning, match="epoch parameter"):
        resumed.step(20)  # the closed form still works on the loaded state
    assert len(resumed.get_last_lr()) == 2


def test_scheduler_warnings_and_errors():
    opt = optim.SGD([tt.zeros(1, requires_grad=True)], lr=0.1)
    sched = lr_scheduler.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before `optimizer.step\\(\\)`"):
        sched.step()
    opt2 = optim.SGD([tt.zeros(1, requires_grad=True)], lr=0.1)
    sched2 = lr_scheduler.ExponentialLR(opt2, 0.5)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()
    assert sched2.get_last_lr() == [0.05] and opt2.param_groups[0]["initial_lr"] == 0.1
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\]"):
        lr_scheduler.StepLR(optim.SGD([tt.zeros(1, requires_grad=True)], lr=0.1), 2, last_epoch=3)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lr_scheduler.StepLR([], 2)
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1, lambda e: 1])
