"""A learning-rate schedule stepped inside a compiled training step.

The program reads each group's rate when it starts and the schedule's ``step()`` runs again
in Python after each replay, so a schedule that sets a new rate every call replays one
program.  Whatever the function does with the schedule besides stepping it (reads its
rates, steps it before the optimizer, makes it inside, steps it with a metric), every call
gives eager's numbers bit for bit: losses, parameters, optimizer and schedule state."""
import warnings

import numpy as np
import pytest

import tinytape as tt
import tinytape.nn as nn
import tinytape.nn.functional as F
from tinytape.optim import lr_scheduler as S

CALLS = 9


def _model():
    tt.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))


def _data():
    rng = np.random.default_rng(1)
    return [(tt.tensor(rng.standard_normal((5, 6)).astype(np.float32)), tt.tensor(rng.integers(0, 3, 5)))
            for _ in range(CALLS)]


def _sgd(params):
    return tt.optim.SGD(params, lr=0.1, momentum=0.9)


def _adam(params):
    return tt.optim.Adam(params, lr=0.01)


# schedules whose step sets only the rates: compiled, one program for every call
RATE_ONLY = {
    "StepLR": lambda o: S.StepLR(o, 2, 0.5),
    "MultiStepLR": lambda o: S.MultiStepLR(o, [1, 4], 0.3),
    "ExponentialLR": lambda o: S.ExponentialLR(o, 0.9),
    "CosineAnnealingLR": lambda o: S.CosineAnnealingLR(o, 6, eta_min=1e-4),
    "LambdaLR": lambda o: S.LambdaLR(o, lambda e: 1 / (1 + e)),
    "MultiplicativeLR": lambda o: S.MultiplicativeLR(o, lambda e: 0.95),
    "LinearLR": lambda o: S.LinearLR(o, 0.1, 1.0, 5),
    "ConstantLR": lambda o: S.ConstantLR(o, 0.5, 3),
    "PolynomialLR": lambda o: S.PolynomialLR(o, 7, 2.0),
    "CosineAnnealingWarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(o, 3, 2),
    "SequentialLR": lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.2, 1.0, 3), S.CosineAnnealingLR(o, 5)], [3]),
    "ChainedScheduler": lambda o: S.ChainedScheduler([S.ExponentialLR(o, 0.9), S.StepLR(o, 3, 0.5)]),
    "CyclicLR": lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3, cycle_momentum=False),
    "OneCycleLR": lambda o: S.OneCycleLR(o, 0.1, total_steps=CALLS + 2, cycle_momentum=False),
}


def _state(model, opt, sched, losses):
    """Everything a call leaves, as plain values compared exactly."""
    def plain(v):
        if isinstance(v, tt.Tensor):
            return ("tensor", v.dtype, tuple(v.shape), v.detach().numpy().tobytes())
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items() if not callable(x)}
        if isinstance(v, (list, tuple)):
            return type(v)(plain(x) for x in v if not callable(x))
        if isinstance(v, float):
            return ("float", np.float64(v).tobytes())
        return v if not callable(v) else None
    return plain({"losses": losses, "params": list(model.parameters()), "opt": opt.state_dict(),
                  "sched": sched.state_dict() if sched is not None else None})


def _run(make_step, compiled):
    model = _model()
    step, opt, sched = make_step(model)
    if compiled:
        step = tt.compile(step)
    losses = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, (x, y) in enumerate(_data()):
            out = step(x, y)
            losses.append(out)
    return _state(model, opt, sched, losses), step


def _update(model, opt, x, y, sched=None):
    """One training step on the cross-entropy, then ``sched.step()`` where a schedule is given."""
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    if sched is not None:
        sched.step()
    return loss.detach()


def _plain_step(make_opt, make_sched):
    def make(model):
        opt = make_opt(model.parameters())
        sched = make_sched(opt)

        def step(x, y):
            return _update(model, opt, x, y, sched)
        return step, opt, sched
    return make


@pytest.mark.parametrize("opt_name,make_opt", [("SGD", _sgd), ("Adam", _adam)])
@pytest.mark.parametrize("name", list(RATE_ONLY))
def test_a_schedule_stepped_inside_replays_one_program(name, opt_name, make_opt):
    make = _plain_step(make_opt, RATE_ONLY[name])
    eager, _ = _run(make, compiled=False)
    got, compiled = _run(make, compiled=True)
    assert got == eager
    assert compiled.eager is None and not compiled.eager_signatures
    assert sum(len(v) for v in compiled.programs.values()) == 1 and compiled.traces <= 2


def _variant(kind):
    """Steps that do something else with the schedule: each must give eager's numbers."""
    def make(model):
        opt = _sgd(model.parameters())
        sched = S.ExponentialLR(opt, 0.8)
        count = [0]

        def step(x, y):
            nonlocal sched
            if kind == "made_inside":
                sched = S.StepLR(opt, 2, 0.5)
            if kind == "before_optimizer":
                sched.step()
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            if kind == "reads_last_epoch":
                loss = loss * (1.0 + 0.01 * sched.last_epoch)
            if kind == "reads_rate_in_code":
                loss = loss * opt.param_groups[0]["lr"]
            loss.backward()
            opt.step()
            if kind == "every_other_call":
                count[0] += 1
                if count[0] % 2:
                    sched.step()
            elif kind == "plateau":
                pass
            elif kind != "before_optimizer":
                sched.step()
            if kind == "returns_rates":
                return loss.detach(), sched.get_last_lr()[0], sched.last_epoch
            if kind == "returns_state_dict":
                return loss.detach(), sched.state_dict()["last_epoch"]
            return loss.detach()
        return step, opt, sched
    return make


VARIANTS = ["made_inside", "before_optimizer", "reads_last_epoch", "reads_rate_in_code", "every_other_call",
            "returns_rates", "returns_state_dict"]


@pytest.mark.parametrize("kind", VARIANTS)
def test_whatever_else_the_step_does_with_the_schedule_gives_eagers_numbers(kind):
    eager, _ = _run(_variant(kind), compiled=False)
    got, _ = _run(_variant(kind), compiled=True)
    assert got == eager


def _outside(kind):
    """The schedule changed between calls, outside the function."""
    def make(model):
        opt = _adam(model.parameters())
        sched = S.LambdaLR(opt, lambda e: 0.9 ** e)
        calls = [0]

        def step(x, y):
            return _update(model, opt, x, y, sched)

        def driver(x, y):
            calls[0] += 1
            if calls[0] == 4 and kind == "base_lrs":
                sched.base_lrs = [0.5 * r for r in sched.base_lrs]
            if calls[0] == 4 and kind == "rewound":
                sched.load_state_dict(saved[0])
            if calls[0] == 2:
                saved[0] = dict(sched.state_dict())
            if calls[0] == 5 and kind == "rate_set":
                opt.param_groups[0]["lr"] = 0.003
            return driver.step(x, y)
        saved = [None]
        driver.step = step
        return driver, opt, sched
    return make


@pytest.mark.parametrize("kind", ["base_lrs", "rewound", "rate_set"])
def test_a_schedule_changed_between_calls_moves_on_from_there(kind):
    eager, _ = _run(_outside(kind), compiled=False)
    model = _model()
    driver, opt, sched = _outside(kind)(model)
    driver.step = tt.compile(driver.step)
    losses = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x, y in _data():
            losses.append(driver(x, y))
    assert _state(model, opt, sched, losses) == eager
    assert driver.step.eager is None


def test_a_schedule_stepped_on_a_metric_gives_eagers_numbers():
    """ReduceLROnPlateau steps on a metric (a value read): it runs eagerly, with eager's numbers."""
    def plateau(model):
        opt = _sgd(model.parameters())
        sched = S.ReduceLROnPlateau(opt, patience=0, factor=0.5)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            sched.step(loss)
            return loss.detach()
        return step, opt, sched
    eager, _ = _run(plateau, compiled=False)
    got, _ = _run(plateau, compiled=True)
    assert got == eager


def test_a_tensor_rate_is_filled_by_the_schedule_as_eager_fills_it():
    make = _plain_step(lambda p: tt.optim.Adam(p, lr=tt.tensor(0.01)), lambda o: S.ExponentialLR(o, 0.9))
    eager, _ = _run(make, compiled=False)
    got, _ = _run(make, compiled=True)
    assert got == eager


TENSOR_RATE_OPTIMIZERS = {
    "Adam": lambda p, lr: tt.optim.Adam(p, lr=lr),
    "AdamW": lambda p, lr: tt.optim.AdamW(p, lr=lr, amsgrad=True),
    "Adamax": lambda p, lr: tt.optim.Adamax(p, lr=lr),
    "NAdam": lambda p, lr: tt.optim.NAdam(p, lr=lr),
    "RAdam": lambda p, lr: tt.optim.RAdam(p, lr=lr),
    "Adagrad": lambda p, lr: tt.optim.Adagrad(p, lr=lr, lr_decay=0.01),
    "SGD": lambda p, lr: tt.optim.SGD(p, lr=lr, momentum=0.9, weight_decay=0.01),
    "RMSprop": lambda p, lr: tt.optim.RMSprop(p, lr=lr, momentum=0.5),
}


@pytest.mark.parametrize("name", list(TENSOR_RATE_OPTIMIZERS))
def test_a_tensor_rate_meets_the_traced_step_count_as_a_number(name):
    """``lr=torch.tensor(0.01)``: eagerly ``lr / (1 - beta1 ** t)`` rounds the Python number to
    float32; in a trace the count is a 0-d float64 tensor, which must be rounded the same way
    (two 0-d tensors would divide in float64: other bits from the first call on)."""
    make = _plain_step(lambda p: TENSOR_RATE_OPTIMIZERS[name](p, tt.tensor(0.01)), lambda o: S.ConstantLR(o, 1.0, 1))
    eager, _ = _run(make, compiled=False)
    got, compiled = _run(make, compiled=True)
    assert got == eager


MOMENTUM_OPTIMIZERS = {
    "SGD": lambda p: tt.optim.SGD(p, lr=0.1, momentum=0.9),
    "SGD_nesterov": lambda p: tt.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "RMSprop": lambda p: tt.optim.RMSprop(p, lr=0.01, momentum=0.5),
    "Adam": lambda p: tt.optim.Adam(p, lr=0.01),
    "AdamW_amsgrad": lambda p: tt.optim.AdamW(p, lr=0.01, amsgrad=True),
    "NAdam": lambda p: tt.optim.NAdam(p, lr=0.01),
    "RAdam": lambda p: tt.optim.RAdam(p, lr=0.01),
    "Adamax": lambda p: tt.optim.Adamax(p, lr=0.01),
}
CYCLES = {
    "OneCycleLR": lambda o: S.OneCycleLR(o, 0.1, total_steps=CALLS + 2),
    "CyclicLR": lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3),
}


def _stepped_outside(make_opt, make_sched):
    def make(model):
        opt = make_opt(model.parameters())
        sched = make_sched(opt)

        def step(x, y):
            return _update(model, opt, x, y)

        def driver(x, y):
            out = driver.step(x, y)
            sched.step()
            return out
        driver.step = step
        return driver, opt, sched
    return make


@pytest.mark.parametrize("where", ["inside", "outside"])
@pytest.mark.parametrize("cycle", list(CYCLES))
@pytest.mark.parametrize("name", list(MOMENTUM_OPTIMIZERS))
def test_a_cycled_momentum_or_first_beta_is_a_program_input(name, cycle, where):
    """OneCycleLR and CyclicLR move the momentum (SGD, RMSprop) or the first beta (the Adam
    family) with the rate, every step: both are read by each replay, one program serves."""
    wrap = _plain_step if where == "inside" else _stepped_outside
    make = wrap(MOMENTUM_OPTIMIZERS[name], CYCLES[cycle])
    eager, _ = _run(make, compiled=False)
    model = _model()
    step, opt, sched = make(model)
    compiled = tt.compile(step if where == "inside" else step.step)
    if where == "inside":
        step = compiled
    else:
        step.step = compiled
    losses = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x, y in _data():
            losses.append(step(x, y))
    assert _state(model, opt, sched, losses) == eager
    assert compiled.eager is None and sum(len(v) for v in compiled.programs.values()) == 1


def _edited(kind):
    """The momentum or the betas edited between calls, outside the function."""
    def make(model):
        opt = (_sgd if kind.startswith("momentum") else _adam)(model.parameters())
        calls = [0]

        def step(x, y):
            return _update(model, opt, x, y)

        def driver(x, y):
            calls[0] += 1
            group = opt.param_groups[0]
            if kind == "momentum_to_zero" and calls[0] == 4:
                group["momentum"] = 0.0
            if kind == "momentum_back" and calls[0] in (4, 6):
                group["momentum"] = 0.0 if calls[0] == 4 else 0.5
            if kind == "second_beta" and calls[0] == 4:
                group["betas"] = (group["betas"][0], 0.99)
            if kind == "betas_list" and calls[0] == 4:
                group["betas"] = [0.8, 0.999]
            return driver.step(x, y)
        driver.step = step
        return driver, opt, None
    return make


@pytest.mark.parametrize("kind", ["momentum_to_zero", "momentum_back", "second_beta", "betas_list"])
def test_a_momentum_or_betas_edited_between_calls_gives_eagers_numbers(kind):
    """Only the number is a program input: a momentum set to 0 (another program: no buffer
    update), a new second beta, a list in place of the tuple are changes the guards see."""
    eager, _ = _run(_edited(kind), compiled=False)
    model = _model()
    driver, opt, _ = _edited(kind)(model)
    driver.step = tt.compile(driver.step)
    losses = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x, y in _data():
            losses.append(driver(x, y))
    assert _state(model, opt, None, losses) == eager


@pytest.mark.parametrize("name", ["Adam", "AdamW", "NAdam", "RAdam", "Adamax"])
def test_tensor_betas_refuse_and_the_refused_trace_computes_as_eager(name):
    """Eagerly a tensor beta is raised to the step count as a number; traced, the count is a
    tensor and another kernel rounds the power: refused, and the call that traced computes
    with the numbers themselves."""
    make = _plain_step(lambda p: getattr(tt.optim, name)(p, lr=0.01, betas=(tt.tensor(0.9), tt.tensor(0.999))),
                       lambda o: S.ConstantLR(o, 1.0, 1))
    eager, _ = _run(make, compiled=False)
    got, compiled = _run(make, compiled=True)
    assert got == eager
    assert "tensor betas" in compiled.eager
