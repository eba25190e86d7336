"""The optimizers' hooks against PyTorch: step pre/post hooks (per optimizer and global, their
order, replaced arguments, removal), state_dict and load_state_dict pre/post hooks (``prepend``,
returned dicts replacing the dict), with subclasses that share a ``step``."""
import importlib

from helpers import check_against_pytorch, outcome_of as _outcome


def _optimizer_module(torch):
    return importlib.import_module(torch.__name__ + ".optim.optimizer")


def test_step_hooks_order_arguments_and_removal():
    def run(torch):
        calls = []
        p = torch.ones(2, requires_grad=True)
        opts = [torch.optim.SGD([p], lr=0.1), torch.optim.Adam([p], lr=0.1), torch.optim.AdamW([p], lr=0.1)]
        handles = [_optimizer_module(torch).register_optimizer_step_pre_hook(
                       lambda o, a, k: calls.append(("global pre", type(o).__name__, len(a), sorted(k)))),
                   _optimizer_module(torch).register_optimizer_step_post_hook(
                       lambda o, a, k: calls.append(("global post", type(o).__name__)))]
        try:
            for opt in opts:
                opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", type(o).__name__)))
                opt.register_step_post_hook(lambda o, a, k: calls.append(("post", type(o).__name__)))
            first = opts[0].register_step_pre_hook(lambda o, a, k: (a, {"closure": lambda: torch.tensor(7.)}))
            for opt in opts:
                p.grad = torch.ones(2)
                calls.append(("loss", _outcome(lambda: opt.step())))
            first.remove()
            calls.append(("loss", _outcome(lambda: opts[0].step())))
            bad = opts[1].register_step_pre_hook(lambda o, a, k: 3)
            calls.append(_outcome(lambda: opts[1].step()).split(" must return")[1])
            bad.remove()
        finally:
            for h in handles:
                h.remove()
        calls.append(("after removal", _outcome(lambda: opts[2].step())))
        return [list(map(str, c)) if isinstance(c, tuple) else c for c in calls] + [p.detach()]
    check_against_pytorch(run)


def test_state_dict_hooks():
    def run(torch):
        calls = []
        p = torch.ones(2, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
        p.grad = torch.ones(2)
        opt.step()
        opt.register_state_dict_pre_hook(lambda o: calls.append("pre"))
        opt.register_state_dict_pre_hook(lambda o: calls.append("pre first"), prepend=True)
        opt.register_state_dict_post_hook(lambda o, sd: calls.append(("post", sorted(sd))))
        opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
        sd = opt.state_dict()
        twin = torch.optim.SGD([torch.ones(2, requires_grad=True)], lr=0.5, momentum=0.9)

        def change(o, state_dict):
            calls.append(("load pre", sorted(state_dict)))
            groups = [{**g, "lr": 0.25} for g in state_dict["param_groups"]]
            return {"state": state_dict["state"], "param_groups": groups}
        twin.register_load_state_dict_pre_hook(change)
        twin.register_load_state_dict_post_hook(lambda o: calls.append(("load post", o.param_groups[0]["lr"])))
        handle = twin.register_load_state_dict_post_hook(lambda o: calls.append("removed"))
        handle.remove()
        twin.load_state_dict(sd)
        return [list(map(str, c)) if isinstance(c, tuple) else c for c in calls] + [sorted(sd), sd["extra"]]
    check_against_pytorch(run)
