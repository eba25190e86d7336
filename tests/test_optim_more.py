"""RAdam, NAdam, Adamax, Adadelta, ASGD and Rprop against PyTorch: the same trajectories
(float64 to rounding, float32 to a few ulps), state dicts, reprs, errors, and a compiled
step that replays as eager bit for bit under a changing learning rate."""
import warnings

import numpy as np
import pytest

import tinytape as tt
from pytorch_answers import pytorch

rng = np.random.default_rng(5)
GRADS = [rng.standard_normal((3, 4)) for _ in range(10)]
GRADS[3] = -GRADS[2]  # a sign flip (Rprop's backtracking)
GRADS[6] = GRADS[6] * (np.arange(12).reshape(3, 4) % 3 != 0)  # zeros
P0 = rng.standard_normal((3, 4))

OPTIMIZERS = {
    "radam": lambda lib, p: lib.optim.RAdam(p, lr=0.05),
    "radam_decoupled": lambda lib, p: lib.optim.RAdam(p, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
    "radam_decay_maximize": lambda lib, p: lib.optim.RAdam(p, lr=0.01, betas=(0.8, 0.9), weight_decay=0.1,
                                                           maximize=True),
    "nadam": lambda lib, p: lib.optim.NAdam(p, lr=0.05),
    "nadam_decay": lambda lib, p: lib.optim.NAdam(p, lr=0.05, weight_decay=0.1, momentum_decay=0.01),
    "nadam_decoupled": lambda lib, p: lib.optim.NAdam(p, weight_decay=0.2, decoupled_weight_decay=True),
    "adamax": lambda lib, p: lib.optim.Adamax(p, lr=0.05),
    "adamax_decay_maximize": lambda lib, p: lib.optim.Adamax(p, weight_decay=0.1, maximize=True),
    "adadelta": lambda lib, p: lib.optim.Adadelta(p),
    "adadelta_decay": lambda lib, p: lib.optim.Adadelta(p, lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1),
    "asgd": lambda lib, p: lib.optim.ASGD(p, lr=0.05),
    "asgd_averaging": lambda lib, p: lib.optim.ASGD(p, lr=0.05, t0=3, lambd=0.01, weight_decay=0.1),
    "rprop": lambda lib, p: lib.optim.Rprop(p, lr=0.05),
    "rprop_bounds_maximize": lambda lib, p: lib.optim.Rprop(p, etas=(0.3, 1.5), step_sizes=(0.005, 0.02),
                                                            maximize=True),
}


def trajectory(lib, make, dtype):
    p = lib.tensor(P0.astype(dtype), requires_grad=True)
    opt = make(lib, [p])
    out = []
    for g in GRADS:
        p.grad = lib.tensor(g.astype(dtype))
        opt.step()
        out.append(p.detach().numpy().copy())
    return out, opt


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_updates_and_state_match_pytorch(name, dtype):
    ours, opt = trajectory(tt, OPTIMIZERS[name], dtype)

    def answer(torch):
        out, o = trajectory(torch, OPTIMIZERS[name], dtype)
        return out, o.state_dict(), repr(o)
    theirs, state_dict, text = pytorch(answer)
    # float64 to rounding; float32 to a few ulps (PyTorch fuses add(alpha)/addcmul into one fma)
    rtol, atol = (1e-12, 1e-14) if dtype == "float64" else (3e-6, 1e-7)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"step {step}")
    ours_sd = opt.state_dict()
    assert ours_sd["param_groups"] == state_dict["param_groups"]
    assert list(ours_sd["param_groups"][0]) == list(state_dict["param_groups"][0])  # PyTorch's order
    for key, value in ours_sd["state"][0].items():
        expected = state_dict["state"][0][key]
        assert value.dtype.__repr__().split(".")[-1] == expected.dtype and value.shape == expected.shape, key
        np.testing.assert_allclose(value.numpy(), expected.numpy(), rtol=rtol, atol=atol, err_msg=key)
    assert list(ours_sd["state"][0]) == list(state_dict["state"][0])
    assert repr(opt) == text


@pytest.mark.parametrize("make, error", [
    (lambda lib, p: lib.optim.RAdam(p, lr=-1), "Invalid learning rate: -1"),
    (lambda lib, p: lib.optim.NAdam(p, betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    (lambda lib, p: lib.optim.NAdam(p, momentum_decay=-1), "Invalid momentum_decay value: -1"),
    (lambda lib, p: lib.optim.Adamax(p, eps=-1), "Invalid epsilon value: -1"),
    (lambda lib, p: lib.optim.Adadelta(p, rho=1.5), "Invalid rho value: 1.5"),
    (lambda lib, p: lib.optim.ASGD(p, weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (lambda lib, p: lib.optim.Rprop(p, etas=(1.5, 2.0)), "Invalid eta values: 1.5, 2.0"),
])
def test_invalid_options_raise_as_pytorch(make, error):
    def message(lib):
        try:
            make(lib, [lib.ones(2, requires_grad=True)])
        except ValueError as e:
            return str(e)
    assert pytorch(message) == error
    with pytest.raises(ValueError, match=f"^{error}$"):
        make(tt, [tt.ones(2, requires_grad=True)])


@pytest.mark.parametrize("name", ["NAdam", "Rprop", *(pytest.param(n, marks=pytest.mark.slow)
                                                     for n in ("RAdam", "Adamax", "Adadelta", "ASGD"))])
def test_compiled_step_replays_as_eager_under_a_schedule(name):
    options = {"ASGD": dict(t0=2), "RAdam": dict(weight_decay=0.1)}.get(name, {})

    def run(compiled):
        tt.manual_seed(0)
        w, x = tt.randn(5, 3, requires_grad=True), tt.randn(4, 5)
        opt = getattr(tt.optim, name)([w], lr=0.1, **options)
        sched = tt.optim.lr_scheduler.ExponentialLR(opt, 0.9)

        def step():
            opt.zero_grad()
            loss = (x @ w).tanh().sum()
            loss.backward()
            opt.step()
            return loss
        f = tt.compile(step) if compiled else step
        losses = []
        for _ in range(8):  # RAdam: past its rho_t > 5 switch (step 6)
            losses.append(f().item())
            sched.step()
        return losses, w.detach().numpy(), f, opt
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no eager fallback
        eager, compiled = run(False), run(True)
    assert eager[0] == compiled[0] and np.array_equal(eager[1], compiled[1])
    assert compiled[2].traces == 2  # the first call fills the optimizer's state
    for key, value in eager[3].state_dict()["state"][0].items():
        np.testing.assert_array_equal(value.numpy(), compiled[3].state_dict()["state"][0][key].numpy())


LBFGS_CASES = {
    "fixed_step": dict(),
    "strong_wolfe": dict(line_search_fn="strong_wolfe"),
    "short_history": dict(lr=0.5, history_size=3, max_iter=7),
}


def lbfgs_run(lib, options):
    a, b = lib.tensor(A_LBFGS), lib.tensor(B_LBFGS)
    w, v = (lib.tensor(x, requires_grad=True) for x in W_LBFGS)
    opt = lib.optim.LBFGS([w, v], **options)

    def closure():
        opt.zero_grad()
        r = a.matmul(w) - b
        loss = (r * r).sum() + (v * v * v * v).sum() * 0.1 + v.matmul(w).tanh().sum()
        loss.backward()
        return loss
    losses = [float(opt.step(closure).detach()) for _ in range(3)]
    state = opt.state[w]
    return (losses, w.detach().numpy(), v.detach().numpy(), state["func_evals"], state["n_iter"], repr(opt),
            sorted(state), [list(g) for g in opt.state_dict()["param_groups"]])


A_LBFGS, B_LBFGS = rng.standard_normal((4, 3)), rng.standard_normal(4)
W_LBFGS = [rng.standard_normal(3), rng.standard_normal((2, 3))]


@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")  # PyTorch's float(loss) warns too
@pytest.mark.parametrize("name", sorted(LBFGS_CASES))
def test_lbfgs_matches_pytorch(name):
    # float64: the dot products' summation order (BLAS's against ours) shows at ~1e-14 and the
    # line search's decisions amplify it a little; the counts of evaluations agree exactly
    ours, theirs = lbfgs_run(tt, LBFGS_CASES[name]), pytorch(lambda torch: lbfgs_run(torch, LBFGS_CASES[name]))
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10)
    for a, b in zip(ours[1:3], theirs[1:3]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
    assert ours[3:] == theirs[3:]


def test_lbfgs_refuses_groups_and_unknown_line_searches():
    w = tt.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        tt.optim.LBFGS([{"params": [w]}, {"params": [tt.ones(1, requires_grad=True)]}])
    opt = tt.optim.LBFGS([w], line_search_fn="armijo")

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)
