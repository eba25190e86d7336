"""Learning-rate schedules against PyTorch 2.14: every schedule's rates (and cycled
momentum/beta1) step for step over 50-120 steps, with SGD and Adam and two parameter
groups; state dicts (PyTorch's keys and values, and resuming through tinytape.save/load);
Tensor rates; the warnings; the errors for bad arguments; and the optimizers' reprs."""
import io
import math
import warnings

import numpy as np
import pytest
from pytorch_answers import pytorch

import tinytape as tt


class Halve:
    """A callable object: its attributes go into the state dict."""

    def __init__(self):
        self.factor = 0.5

    def __call__(self, epoch):
        return self.factor ** (epoch // 7)


class Shrink:
    def __init__(self):
        self.rate = 0.97

    def __call__(self, epoch):
        return self.rate


class Wave:
    """A custom CyclicLR scale_fn."""

    def __init__(self):
        self.depth = 0.3

    def __call__(self, x):
        return 1 - self.depth * math.sin(x / 5) ** 2


# name -> (make(lr_scheduler, optimizer), steps); PyTorch's side runs the same code
CONFIGS = {
    "lambda": (lambda s, o: s.LambdaLR(o, lambda e: 1 / (1 + 0.1 * e)), 60),
    "lambda_per_group": (lambda s, o: s.LambdaLR(o, [lambda e: 0.95 ** e, Halve()]), 60),
    "multiplicative": (lambda s, o: s.MultiplicativeLR(o, lambda e: 0.95), 60),
    "multiplicative_per_group": (lambda s, o: s.MultiplicativeLR(o, [lambda e: 1 - 0.01 * (e % 3), Shrink()]), 60),
    "step": (lambda s, o: s.StepLR(o, step_size=3, gamma=0.5), 60),
    "step_slow": (lambda s, o: s.StepLR(o, step_size=7, gamma=0.9), 60),
    "multistep": (lambda s, o: s.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3), 60),
    "multistep_late": (lambda s, o: s.MultiStepLR(o, milestones=[30, 10], gamma=0.5), 60),
    "constant": (lambda s, o: s.ConstantLR(o), 50),
    "constant_half": (lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=10), 50),
    "linear": (lambda s, o: s.LinearLR(o), 50),
    "linear_warmup": (lambda s, o: s.LinearLR(o, start_factor=0.05, end_factor=0.8, total_iters=40), 60),
    "linear_decay": (lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=20), 50),
    "exponential": (lambda s, o: s.ExponentialLR(o, gamma=0.9), 60),
    "exponential_slow": (lambda s, o: s.ExponentialLR(o, gamma=0.99), 120),
    "polynomial": (lambda s, o: s.PolynomialLR(o), 50),
    "polynomial_square": (lambda s, o: s.PolynomialLR(o, total_iters=30, power=2.0), 50),
    "polynomial_root": (lambda s, o: s.PolynomialLR(o, total_iters=40, power=0.5), 50),
    "cosine": (lambda s, o: s.CosineAnnealingLR(o, T_max=8), 60),
    "cosine_eta_min": (lambda s, o: s.CosineAnnealingLR(o, T_max=20, eta_min=0.01), 100),
    "warm_restarts": (lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=5), 60),
    "warm_restarts_mult": (lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=1e-3), 100),
    "cyclic": (lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5), 60),
    "cyclic_triangular2": (lambda s, o: s.CyclicLR(o, 0.001, [0.1, 0.2], step_size_up=4, step_size_down=6,
                                                   mode="triangular2", base_momentum=[0.8, 0.7]), 80),
    "cyclic_exp_range": (lambda s, o: s.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=6, mode="exp_range",
                                                 gamma=0.98), 80),
    "cyclic_scale_fn": (lambda s, o: s.CyclicLR(o, 0.01, 0.05, step_size_up=3, scale_fn=Wave(),
                                                scale_mode="iterations", cycle_momentum=False), 60),
    "onecycle": (lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=100), 100),
    "onecycle_epochs": (lambda s, o: s.OneCycleLR(o, max_lr=[0.5, 2.0], epochs=6, steps_per_epoch=10, pct_start=0.25,
                                                  div_factor=10.0, final_div_factor=100.0,
                                                  base_momentum=[0.8, 0.85], max_momentum=0.9), 60),
    "onecycle_three_phase": (lambda s, o: s.OneCycleLR(o, max_lr=0.3, total_steps=90, three_phase=True), 90),
    "onecycle_linear": (lambda s, o: s.OneCycleLR(o, max_lr=0.3, total_steps=77, anneal_strategy="linear",
                                                  pct_start=0.4, cycle_momentum=False), 77),
    "sequential": (lambda s, o: s.SequentialLR(o, [s.LinearLR(o, start_factor=0.1, total_iters=5),
                                                   s.ExponentialLR(o, gamma=0.9)], milestones=[5]), 60),
    "sequential_three": (lambda s, o: s.SequentialLR(o, [s.ConstantLR(o, factor=0.5, total_iters=3),
                                                         s.CosineAnnealingLR(o, T_max=10),
                                                         s.StepLR(o, step_size=4, gamma=0.5)],
                                                     milestones=[3, 20]), 60),
    "chained": (lambda s, o: s.ChainedScheduler([s.ConstantLR(o, factor=0.1, total_iters=2),
                                                 s.ExponentialLR(o, gamma=0.9)]), 60),
    "chained_three": (lambda s, o: s.ChainedScheduler([s.LinearLR(o, start_factor=0.2, total_iters=10),
                                                       s.StepLR(o, step_size=6, gamma=0.7),
                                                       s.MultiplicativeLR(o, lambda e: 0.99)], optimizer=o), 60),
    "plateau": (lambda s, o: s.ReduceLROnPlateau(o, patience=3), 80),
    "plateau_max_abs": (lambda s, o: s.ReduceLROnPlateau(o, mode="max", factor=0.5, patience=2, threshold=0.01,
                                                         threshold_mode="abs", cooldown=4), 80),
    "plateau_min_lr": (lambda s, o: s.ReduceLROnPlateau(o, factor=0.3, patience=1, min_lr=[0.004, 0.02],
                                                        cooldown=1), 80),
    "plateau_eps": (lambda s, o: s.ReduceLROnPlateau(o, factor=0.5, patience=0, eps=0.02, threshold=0.05), 60),
}


def metric(i):
    """A loss that improves, stalls and wobbles: ReduceLROnPlateau's input."""
    return 1 / (1 + 0.2 * min(i, 15)) + 0.01 * ((i * 7) % 5) / 5


def make_optimizer(lib, kind, lr=0.1):
    params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.3}]
    if kind == "sgd":
        return lib.optim.SGD(groups, lr=lr, momentum=0.9)
    return lib.optim.Adam(groups, lr=lr, betas=(0.9, 0.99))


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group["momentum"]


def run(lib, name, kind, steps=None, sched_and_opt=None):
    """Rates, momenta, get_last_lr() and last_epoch after construction and each step."""
    make, n = CONFIGS[name]
    if sched_and_opt is None:
        opt = make_optimizer(lib, kind)
        sched = make(lib.optim.lr_scheduler, opt)
    else:
        sched, opt = sched_and_opt
    plateau = isinstance(sched, lib.optim.lr_scheduler.ReduceLROnPlateau)
    start = getattr(sched, "last_epoch", 0)
    out = {"lr": [], "momentum": [], "last_lr": [], "epoch": []}

    def record():
        out["lr"].append([g["lr"] for g in opt.param_groups])
        out["momentum"].append([momentum_of(g) for g in opt.param_groups])
        out["last_lr"].append(list(sched.get_last_lr()))
        out["epoch"].append(getattr(sched, "last_epoch", None))

    record()
    for i in range(n if steps is None else steps):
        opt.step()
        if plateau:
            sched.step(metric(start + i))
        else:
            sched.step()
        record()
    return out


CASES = [(name, kind) for name in CONFIGS for kind in ("sgd", "adam")]


@pytest.mark.parametrize("name,kind", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_rates_match_pytorch(name, kind):
    ours = run(tt, name, kind)
    theirs = pytorch(lambda torch, name, kind: run(torch, name, kind), name, kind)
    assert ours["epoch"] == theirs["epoch"]
    for key in ("lr", "momentum", "last_lr"):  # the same operations on floats: bit for bit
        np.testing.assert_array_equal(np.array(ours[key]), np.array(theirs[key]), err_msg=key)
    assert all(type(v) is float or type(v) is int for row in ours["lr"] for v in row)


# ---------------------------------------------------------------- state dicts


def plain(value):
    """A state dict's values as data (functions and other objects by type name)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return type(value).__name__


def state_after(lib, name, kind, steps):
    make, _ = CONFIGS[name]
    opt = make_optimizer(lib, kind)
    sched = make(lib.optim.lr_scheduler, opt)
    run(lib, name, kind, steps, (sched, opt))
    state = sched.state_dict()
    return {"keys": list(state), "state": plain(state),
            "sub_keys": [list(s) for s in state.get("_schedulers", [])]}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_state_dict_matches_pytorch(name):
    ours = state_after(tt, name, "adam", 13)
    theirs = pytorch(lambda torch, name: state_after(torch, name, "adam", 13), name)
    assert ours["keys"] == theirs["keys"] and ours["sub_keys"] == theirs["sub_keys"]
    assert ours["state"] == theirs["state"]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_state_dict_resumes(name):
    """Stop after 13 steps, save optimizer and scheduler with tinytape.save, build both
    afresh, load, and go on: the same rates as without stopping."""
    kind = "sgd" if "plateau" in name else "adam"
    straight = run(tt, name, kind)
    make, n = CONFIGS[name]
    opt = make_optimizer(tt, kind)
    sched = make(tt.optim.lr_scheduler, opt)
    run(tt, name, kind, 13, (sched, opt))
    buffer = io.BytesIO()
    tt.save({"optim": opt.state_dict(), "sched": sched.state_dict()}, buffer)
    buffer.seek(0)
    saved = tt.load(buffer)
    fresh = make_optimizer(tt, kind, lr=1.0)
    resumed = make(tt.optim.lr_scheduler, fresh)
    fresh.load_state_dict(saved["optim"])
    resumed.load_state_dict(saved["sched"])
    assert resumed.get_last_lr() == straight["last_lr"][13]
    rest = run(tt, name, kind, n - 13, (resumed, fresh))
    assert rest["lr"] == straight["lr"][13:] and rest["momentum"] == straight["momentum"][13:]
    assert rest["epoch"] == straight["epoch"][13:]


def test_lambda_state_dict_keeps_callable_objects_and_the_callers_dict():
    opt = make_optimizer(tt, "sgd")
    halve = Halve()
    sched = tt.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1.0, halve])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"factor": 0.5}]
    state["lr_lambdas"][1]["factor"] = 0.25
    sched.load_state_dict(state)
    assert halve.factor == 0.25 and "lr_lambdas" in state  # the caller's dict is left whole


# ---------------------------------------------------------------- closed forms: step(epoch)

CLOSED = ["step", "multistep", "constant_half", "linear_warmup", "exponential", "polynomial_square", "cosine",
          "lambda", "warm_restarts_mult", "cyclic"]


def at_epochs(lib, name):
    """``step(epoch)`` jumps (the closed form where the schedule has one)."""
    make, _ = CONFIGS[name]
    opt = make_optimizer(lib, "sgd")
    sched = make(lib.optim.lr_scheduler, opt)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in (7, 3, 12, 12, 40, 0, 5.5 if "restarts" in name else 5):
            opt.step()
            sched.step(epoch)
            out.append([sched.last_epoch, *sched.get_last_lr()])
    return out


@pytest.mark.parametrize("name", CLOSED)
def test_explicit_epochs_match_pytorch(name):
    assert at_epochs(tt, name) == pytorch(lambda torch, name: at_epochs(torch, name), name)


def test_epoch_argument_is_deprecated():
    opt = make_optimizer(tt, "sgd")
    sched = tt.optim.lr_scheduler.StepLR(opt, 3)
    opt.step()
    with pytest.warns(UserWarning) as ours:
        sched.step(4)
    plateau = tt.optim.lr_scheduler.ReduceLROnPlateau(opt)
    with pytest.warns(UserWarning) as ours_plateau:
        plateau.step(1.0, 3)

    def theirs_fn(torch):
        opt = make_optimizer(torch, "sgd")
        sched = torch.optim.lr_scheduler.StepLR(opt, 3)
        opt.step()
        sched.step(4)
        torch.optim.lr_scheduler.ReduceLROnPlateau(opt).step(1.0, 3)
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        pytorch(theirs_fn)
    assert [str(w.message) for w in theirs] == [str(ours[0].message), str(ours_plateau[0].message)]
    assert "closed form is used" in str(ours[0].message)


# ---------------------------------------------------------------- Tensor rates

TENSOR_CONFIGS = ["step", "exponential", "cosine", "linear_warmup", "lambda", "onecycle", "cyclic", "plateau",
                  "sequential", "warm_restarts"]


def tensor_rates(lib, name):
    """An optimizer whose lr is a 0-d Tensor: the scheduler fills that Tensor."""
    make, n = CONFIGS[name]
    w = lib.zeros(2, requires_grad=True)
    opt = lib.optim.SGD([w], lr=lib.tensor(0.1), momentum=0.9)
    lr = opt.param_groups[0]["lr"]
    sched = make(lib.optim.lr_scheduler, opt)
    plateau = isinstance(sched, lib.optim.lr_scheduler.ReduceLROnPlateau)
    values = []
    for i in range(min(n, 40)):
        opt.step()
        if plateau:
            sched.step(metric(i))
        else:
            sched.step()
        last = sched.get_last_lr()[0]
        values.append(float(last))
    group = opt.param_groups[0]
    return {"values": values, "same_tensor": group["lr"] is lr, "last_is_tensor": isinstance(last, lib.Tensor),
            "last_is_a_copy": last is not group["lr"], "lr_dtype": str(group["lr"].dtype).split(".")[-1],
            "base_is_tensor": isinstance(getattr(sched, "base_lrs", [lr])[0], lib.Tensor)}


@pytest.mark.parametrize("name", TENSOR_CONFIGS)
def test_tensor_lr_stays_a_tensor(name):
    ours = tensor_rates(tt, name)
    theirs = pytorch(lambda torch, name: tensor_rates(torch, name), name)
    assert ours["same_tensor"] and ours["last_is_tensor"] and ours["last_is_a_copy"]
    assert {k: v for k, v in ours.items() if k != "values"} == {k: v for k, v in theirs.items() if k != "values"}
    np.testing.assert_allclose(ours["values"], theirs["values"], rtol=2e-7, atol=1e-12)  # float32 arithmetic


# ---------------------------------------------------------------- warnings


def warnings_given(lib, case):
    opt = make_optimizer(lib, "sgd")
    S = lib.optim.lr_scheduler
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if case == "scheduler_first":
            sched = S.StepLR(opt, 2)
            sched.step()
            sched.step()  # warned once only
        elif case == "optimizer_first":
            sched = S.ExponentialLR(opt, 0.5)
            opt.step()
            sched.step()
        elif case == "optimizer_replaced":
            sched = S.StepLR(opt, 2)
            opt.step = lambda closure=None: None
            opt.step()
            sched.step()
        elif case == "get_lr_outside_step":
            sched = S.StepLR(opt, 2)
            sched.get_lr()
        elif case == "warm_restarts_never_warn":
            sched = S.CosineAnnealingWarmRestarts(opt, 3)
            sched.step()
            sched.step()
        elif case == "two_schedulers_one_wrap":
            a, b = S.StepLR(opt, 2), S.ExponentialLR(opt, 0.9)
            opt.step()
            a.step()
            b.step()
    return [(w.category.__name__, str(w.message)) for w in caught]


@pytest.mark.parametrize("case", ["scheduler_first", "optimizer_first", "optimizer_replaced", "get_lr_outside_step",
                                  "warm_restarts_never_warn", "two_schedulers_one_wrap"])
def test_warnings_match_pytorch(case):
    ours = warnings_given(tt, case)
    with warnings.catch_warnings(record=True):
        theirs = pytorch(lambda torch, case: warnings_given(torch, case), case)
    assert ours == [tuple(w) for w in theirs]
    if case == "scheduler_first":
        assert len(ours) == 1 and "before `optimizer.step()`" in ours[0][1]
    if case in ("optimizer_first", "warm_restarts_never_warn", "two_schedulers_one_wrap"):
        assert ours == []


# ---------------------------------------------------------------- bad arguments

BAD = {
    "not_an_optimizer": lambda S, o, lib: S.StepLR([], 2),
    "plateau_not_an_optimizer": lambda S, o, lib: S.ReduceLROnPlateau(None),
    "resume_without_initial_lr": lambda S, o, lib: S.StepLR(o, 2, last_epoch=3),
    "verbose_is_gone": lambda S, o, lib: S.StepLR(o, 2, verbose=True),
    "lambdas_count": lambda S, o, lib: S.LambdaLR(o, [lambda e: 1]),
    "multiplicative_not_callable": lambda S, o, lib: S.MultiplicativeLR(o, 0.9),
    "constant_factor": lambda S, o, lib: S.ConstantLR(o, factor=1.5),
    "linear_start": lambda S, o, lib: S.LinearLR(o, start_factor=0),
    "linear_end": lambda S, o, lib: S.LinearLR(o, end_factor=1.2),
    "sequential_empty": lambda S, o, lib: S.SequentialLR(o, [], []),
    "sequential_milestones": lambda S, o, lib: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 3)], [1, 2]),
    "sequential_plateau": lambda S, o, lib: S.SequentialLR(o, [S.StepLR(o, 2), S.ReduceLROnPlateau(o)], [3]),
    "sequential_other_optimizer": lambda S, o, lib: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(
        lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.5), 2)], [3]),
    "sequential_not_a_scheduler": lambda S, o, lib: S.SequentialLR(o, [object()], []),
    "chained_empty": lambda S, o, lib: S.ChainedScheduler([]),
    "chained_plateau": lambda S, o, lib: S.ChainedScheduler([S.StepLR(o, 2), S.ReduceLROnPlateau(o)]),
    "plateau_factor": lambda S, o, lib: S.ReduceLROnPlateau(o, factor=1.0),
    "plateau_mode": lambda S, o, lib: S.ReduceLROnPlateau(o, mode="lowest"),
    "plateau_threshold_mode": lambda S, o, lib: S.ReduceLROnPlateau(o, threshold_mode="ratio"),
    "plateau_min_lrs": lambda S, o, lib: S.ReduceLROnPlateau(o, min_lr=[0.1]),
    "cyclic_mode": lambda S, o, lib: S.CyclicLR(o, 0.01, 0.1, mode="sawtooth"),
    "cyclic_max_lr_count": lambda S, o, lib: S.CyclicLR(o, 0.01, [0.1, 0.2, 0.3]),
    "cyclic_no_momentum": lambda S, o, lib: S.CyclicLR(lib.optim.Adagrad([lib.zeros(1, requires_grad=True)]), 0.01, 0.1),
    "restarts_T_0": lambda S, o, lib: S.CosineAnnealingWarmRestarts(o, T_0=0),
    "restarts_T_0_float": lambda S, o, lib: S.CosineAnnealingWarmRestarts(o, T_0=2.0),
    "restarts_T_mult": lambda S, o, lib: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
    "restarts_eta_min": lambda S, o, lib: S.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="0"),
    "restarts_negative_epoch": lambda S, o, lib: S.CosineAnnealingWarmRestarts(o, T_0=2).step(-1),
    "onecycle_no_length": lambda S, o, lib: S.OneCycleLR(o, 0.1),
    "onecycle_total_steps": lambda S, o, lib: S.OneCycleLR(o, 0.1, total_steps=0),
    "onecycle_total_steps_float": lambda S, o, lib: S.OneCycleLR(o, 0.1, total_steps=10.0),
    "onecycle_epochs": lambda S, o, lib: S.OneCycleLR(o, 0.1, epochs=-1, steps_per_epoch=3),
    "onecycle_steps_per_epoch": lambda S, o, lib: S.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=0),
    "onecycle_pct_start": lambda S, o, lib: S.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.5),
    "onecycle_pct_start_int": lambda S, o, lib: S.OneCycleLR(o, 0.1, total_steps=10, pct_start=0),
    "onecycle_anneal": lambda S, o, lib: S.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp"),
    "onecycle_max_lr_count": lambda S, o, lib: S.OneCycleLR(o, [0.1], total_steps=10),
    "onecycle_momentum_count": lambda S, o, lib: S.OneCycleLR(o, 0.1, total_steps=10, max_momentum=[0.9, 0.9, 0.9]),
    "onecycle_past_the_end": lambda S, o, lib: [s.step() for s in [S.OneCycleLR(o, 0.1, total_steps=5)] * 6],
}


def raise_bad(lib, case):
    opt = make_optimizer(lib, "sgd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        BAD[case](lib.optim.lr_scheduler, opt, lib)


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_arguments_raise_as_pytorch(case):
    with pytest.raises(Exception) as theirs:
        pytorch(raise_bad, case)
    with pytest.raises(theirs.type) as ours:
        raise_bad(tt, case)
    assert str(ours.value) == str(theirs.value)


def test_onecycle_past_the_end_names_the_step():
    opt = make_optimizer(tt, "sgd")
    sched = tt.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=3)
    for _ in range(3):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
        sched.step()


def test_plateau_new_group_with_per_group_min_lr():
    opt = make_optimizer(tt, "sgd")
    sched = tt.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0, 0.0])
    opt.add_param_group({"params": [tt.zeros(1, requires_grad=True)]})
    sched.step(1.0)
    with pytest.raises(RuntimeError, match=r"The number of param groups in the `optimizer` \(3\) differs"):
        sched.step(2.0)


# ---------------------------------------------------------------- optimizer reprs


def reprs(lib):
    w, v = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    o = lib.optim
    made = [o.SGD([w], lr=0.1), o.SGD([{"params": [w]}, {"params": [v], "lr": 0.3}], lr=0.1, momentum=0.9,
                                      nesterov=True, weight_decay=1e-4),
            o.Adam([w], lr=0.1), o.Adam([w], amsgrad=True, maximize=True), o.AdamW([w], lr=0.01, betas=(0.8, 0.9)),
            o.RMSprop([w], lr=0.1, centered=True, momentum=0.5), o.Adagrad([w], lr=0.1, lr_decay=0.01)]
    out = [repr(opt) for opt in made]
    sgd = o.SGD([{"params": [w]}, {"params": [v], "lr": 0.3}], lr=0.1, momentum=0.9)
    o.lr_scheduler.OneCycleLR(sgd, [0.5, 1.0], total_steps=10)
    adam = o.Adam([w], lr=0.1)
    o.lr_scheduler.CyclicLR(adam, 0.01, 0.1)
    return out + [repr(sgd), repr(adam), str(made[0])]


def test_optimizer_reprs_match_pytorch():
    ours = reprs(tt)
    assert ours == pytorch(reprs)
    assert "foreach: None" in ours[0] and "initial_lr: 0.02" in ours[-3]
