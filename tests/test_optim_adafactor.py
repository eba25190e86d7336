"""``optim.Adafactor`` against PyTorch: parameters and state after several steps (matrices,
3-D and 1-D and 0-d parameters, float64 and float32), each option, the state_dict layout, a
save/load round trip mid-run and the refusals."""
import pytest

import tinytape
from helpers import assert_close_to, check_against_pytorch, check_close_to_pytorch
from pytorch_answers import pytorch


def _outcome(f):
    try:
        f()
        return "no error"
    except Exception as e:  # noqa: BLE001 - the error is the answer
        return f"{type(e).__name__}: {e}"


def _params(torch, dtype):
    torch.manual_seed(0)
    return [torch.randn(4, 3, dtype=dtype, requires_grad=True), torch.randn(2, 3, 5, dtype=dtype, requires_grad=True),
            torch.randn(6, dtype=dtype, requires_grad=True), torch.randn((), dtype=dtype, requires_grad=True),
            torch.zeros(3, 2, dtype=dtype, requires_grad=True)]


def _loss(torch, params, k):
    return sum(((p - 0.3 * k) ** 2 * (1 + i)).sum() + p.sum() ** 3 * 0.01 for i, p in enumerate(params))


_OPTIONS = [{}, {"lr": 0.1}, {"lr": 0.5, "weight_decay": 0.1}, {"beta2_decay": -0.5, "d": 2.0},
            {"eps": (1e-6, 1e-2), "maximize": True}, {"eps": (None, 0.0)}, {"lr": "tensor"}, {"foreach": False}]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("options", range(len(_OPTIONS)))
def test_adafactor_steps_as_pytorch(dtype, options):
    def run(torch):
        kwargs = dict(_OPTIONS[options])
        if kwargs.get("lr") == "tensor":
            kwargs["lr"] = torch.tensor(0.05)
        params = _params(torch, getattr(torch, dtype))
        opt = torch.optim.Adafactor(params, **kwargs)
        out = []
        for k in range(6):
            opt.zero_grad()
            _loss(torch, params, k).backward()
            opt.step()
            out.append([p.detach().clone() for p in params])
        sd = opt.state_dict()
        out += [sorted(sd["param_groups"][0]), [sorted(s) for s in sd["state"].values()],
                [[sd["state"][i][k] for k in sorted(sd["state"][i])] for i in sorted(sd["state"])]]
        return out
    tol = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=2e-5, atol=2e-6)}[dtype]
    check_close_to_pytorch(run, **tol)


def test_adafactor_state_dict_round_trip_and_closure():
    def run(torch):
        params = _params(torch, torch.float64)
        opt = torch.optim.Adafactor(params, lr=0.2)
        for k in range(3):
            opt.zero_grad()
            _loss(torch, params, k).backward()
            opt.step()
        copies = [p.detach().clone().requires_grad_() for p in params]
        twin = torch.optim.Adafactor(copies, lr=0.2)
        twin.load_state_dict(opt.state_dict())

        def closure():
            twin.zero_grad()
            loss = _loss(torch, copies, 7)
            loss.backward()
            return loss
        loss = twin.step(closure)
        params[0].grad = None  # a parameter without a gradient is skipped
        opt.zero_grad(set_to_none=False)
        params[0].grad = None
        _loss(torch, params[1:], 7).backward()
        opt.step()
        return [loss, copies, [p.detach() for p in params], twin.state_dict()["state"][0]["step"],
                opt.state_dict()["state"][0]["step"], opt.state_dict()["state"][1]["step"]]
    check_close_to_pytorch(run, rtol=1e-10, atol=1e-12)


def test_adafactor_repr_defaults_and_refusals():
    def run(torch):
        p = torch.ones(2, 2, requires_grad=True)
        return [str(torch.optim.Adafactor([p])), torch.optim.Adafactor([p]).defaults,
                _outcome(lambda: torch.optim.Adafactor([p], lr=-1.0)),
                _outcome(lambda: torch.optim.Adafactor([p], lr=torch.ones(2))),
                _outcome(lambda: torch.optim.Adafactor([p], beta2_decay=0.5)),
                _outcome(lambda: torch.optim.Adafactor([p], eps=(-1.0, 1e-3))),
                _outcome(lambda: torch.optim.Adafactor([p], eps=(None, -1e-3))),
                _outcome(lambda: torch.optim.Adafactor([p], d=0.5)),
                _outcome(lambda: torch.optim.Adafactor([p], weight_decay=-0.5))]
    check_against_pytorch(run)


def test_adafactor_is_listed():
    assert "Adafactor" in tinytape.optim.__all__
    assert_close_to(tinytape.optim.Adafactor.__name__, pytorch(lambda torch: torch.optim.Adafactor.__name__))


def test_load_state_dict_shares_matching_state_tensors_as_pytorch():
    # PyTorch casts the loaded state with .to(): tensors already of the parameter's dtype and
    # device (and every step count) are shared, not copied, so two optimizers loaded from one
    # state_dict advance one state
    def run(torch):
        out = []
        for make in (lambda ps: torch.optim.Adam(ps), lambda ps: torch.optim.Adafactor(ps),
                     lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)):
            p = torch.ones(2, 3, requires_grad=True)
            opt = make([p])
            p.grad = torch.ones(2, 3)
            opt.step()
            q = torch.ones(2, 3, requires_grad=True)
            twin = make([q])
            twin.load_state_dict(opt.state_dict())
            q.grad = torch.full((2, 3), 2.0)
            twin.step()
            out.append(opt.state_dict()["state"][0])
        return out
    check_against_pytorch(run)


def test_compiled_adafactor_step_runs_eagerly_and_equals_eager():
    # the step reads values on the host (the step count, RMS(p), RMS(u)) as PyTorch's does:
    # the compiler refuses it with its warning and runs it eagerly
    def run(compiled):
        tinytape.manual_seed(0)
        w, x = tinytape.randn(5, 3, requires_grad=True), tinytape.randn(4, 5)
        b = tinytape.randn(3, requires_grad=True)
        opt = tinytape.optim.Adafactor([w, b], lr=0.1)

        def step():
            opt.zero_grad()
            loss = (x @ w + b).tanh().sum()
            loss.backward()
            opt.step()
            return loss
        f = tinytape.compile(step) if compiled else step
        return [f().item() for _ in range(4)], w.detach().numpy(), b.detach().numpy()
    eager = run(False)
    with pytest.warns(RuntimeWarning, match=r"\.item\(\) reads a tensor's value"):
        compiled = run(True)
    assert eager[0] == compiled[0]
    assert (eager[1] == compiled[1]).all() and (eager[2] == compiled[2]).all()
