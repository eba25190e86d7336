"""PyTorch's optimizer options that choose how a step runs (``foreach``, ``fused``,
``capturable``, ``differentiable``) and Adam's ``decoupled_weight_decay``, against PyTorch:
taken, kept in the groups and printed as PyTorch's, the same update, and PyTorch's refusals."""
import pytest

from helpers import check_against_pytorch, check_close_to_pytorch, outcome_of as _outcome


_CASES = [("Adam", {}), ("AdamW", {}), ("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adagrad", {}), ("RMSprop", {})]
_OPTIONS = [dict(foreach=True), dict(foreach=False), dict(fused=True), dict(capturable=True), dict(differentiable=True),
            dict(fused=True, foreach=True), dict(fused=True, differentiable=True)]


@pytest.mark.parametrize("case", range(len(_CASES)))
def test_implementation_options(case):
    name, base = _CASES[case]

    def run(torch):
        out = []
        for options in _OPTIONS:
            if ("fused" in options and name == "RMSprop") or ("capturable" in options and name in ("SGD", "Adagrad")):
                continue
            torch.manual_seed(0)
            p = torch.randn(4, requires_grad=True)

            def make():
                return getattr(torch.optim, name)([p], **base, **options)

            def steps():
                opt = make()
                for _ in range(3):
                    opt.zero_grad()
                    ((p - 1) ** 2).sum().backward()
                    opt.step()
                return [p.detach().clone(), {k: v for k, v in opt.param_groups[0].items() if k != "params"},
                        str(opt)]
            out.append(_outcome(steps))
        return out
    check_close_to_pytorch(run, rtol=1e-6, atol=1e-7)


def test_adam_with_decoupled_weight_decay_is_adamw():
    def run(torch):
        out = []
        for make in (lambda ps: torch.optim.Adam(ps, lr=0.1, weight_decay=0.5, decoupled_weight_decay=True),
                     lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.5),
                     lambda ps: torch.optim.Adam(ps, lr=0.1, weight_decay=0.5)):
            torch.manual_seed(1)
            p = torch.randn(5, requires_grad=True)
            opt = make([p])
            for _ in range(4):
                opt.zero_grad()
                (p ** 3).sum().backward()
                opt.step()
            out += [p.detach(), str(opt), opt.defaults]
        return out
    check_close_to_pytorch(run, rtol=1e-6, atol=1e-7)
