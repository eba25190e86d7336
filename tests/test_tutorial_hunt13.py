"""Programs from PyTorch's "How to save memory by fusing the optimizer step into the backward
pass" tutorial and the optimizer's hook API, run with ``import tinytape as torch``: optimizers
built with ``foreach=``/``fused=``/``capturable=`` (kept in their groups), per-parameter
optimizers stepped from post-accumulate-grad hooks, step and state-dict hooks."""
from helpers import check_against_pytorch, check_close_to_pytorch, error_of as _error


def test_optimizer_step_in_backward_tutorial():
    def run(torch):
        nn = torch.nn
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        optimizers = {p: torch.optim.Adam([p], foreach=False) for p in model.parameters()}

        def optimizer_hook(parameter):
            optimizers[parameter].step()
            optimizers[parameter].zero_grad()
        for p in model.parameters():
            p.register_post_accumulate_grad_hook(optimizer_hook)
        x = torch.randn(3, 4)
        losses = []
        for _ in range(3):
            loss = model(x).pow(2).sum()
            loss.backward()
            losses.append(loss.detach())
        return losses + [model[0].weight.grad is None, model[2].bias.detach(),
                         optimizers[model[2].bias].param_groups[0]["foreach"]]
    check_close_to_pytorch(run)


def test_optimizers_take_pytorchs_implementation_keywords():
    def run(torch):
        p = [torch.nn.Parameter(torch.ones(2))]
        made = [torch.optim.SGD(p, lr=0.1, foreach=True), torch.optim.SGD(p, fused=True),
                torch.optim.Adam(p, foreach=False, capturable=True), torch.optim.Adam(p, fused=True),
                torch.optim.Adam(p, weight_decay=0.1, decoupled_weight_decay=True),
                torch.optim.AdamW(p, fused=False, foreach=False),
                torch.optim.RMSprop(p, 0.01, 0.99, 1e-8, 0, 0, False, True),
                torch.optim.Adagrad(p, 0.1, 0, 0, 0, 1e-10, True, fused=False)]
        out = [o.param_groups[0] | {"params": None} for o in made]
        decoupled, reference = torch.optim.Adam([torch.nn.Parameter(torch.ones(2))], lr=0.1, weight_decay=0.5,
                                                decoupled_weight_decay=True), None
        w = torch.nn.Parameter(torch.ones(2))
        reference = torch.optim.AdamW([w], lr=0.1, weight_decay=0.5)
        for opt in (decoupled, reference):
            q = opt.param_groups[0]["params"][0]
            (q * torch.tensor([1., -2.])).sum().backward()
            opt.step()
        return out + [decoupled.param_groups[0]["params"][0].detach(), w.detach(),
                      _error(lambda: torch.optim.Adam(p, foreach=True, fused=True))]
    check_against_pytorch(run)


def test_optimizer_hooks():
    def run(torch):
        torch.manual_seed(0)
        m = torch.nn.Linear(3, 2)
        opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        log = []
        h1 = opt.register_step_pre_hook(lambda o, args, kwargs: log.append(("pre", len(args), args[0] is o, kwargs)))
        h2 = opt.register_step_post_hook(lambda o, args, kwargs: log.append(("post", len(o.state))))
        m(torch.ones(1, 3)).sum().backward()
        opt.step()
        h1.remove()
        h2.remove()
        opt.step()
        registries = [dict(opt._optimizer_step_pre_hooks), dict(opt._optimizer_step_post_hooks)]
        opt.register_state_dict_pre_hook(lambda o: log.append("state_dict pre"))
        opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
        keys = sorted(opt.state_dict())
        opt.register_load_state_dict_pre_hook(lambda o, sd: {k: v for k, v in sd.items() if k != "extra"})
        opt.register_load_state_dict_post_hook(lambda o: log.append("load post"))
        opt.load_state_dict(opt.state_dict())
        opt.register_step_pre_hook(lambda o, args, kwargs: (args, {"closure": lambda: torch.tensor(7.)}))
        return [log, registries, keys, opt.step(), m.weight.detach()]
    check_against_pytorch(run)
