"""``nn.utils.prune`` against PyTorch: PyTorch's Pruning Tutorial (LeNet) cell by cell, each
method's masks (seeded random ones included), containers, ``importance_scores``, ``remove``,
``global_unstructured``, a custom method, the state_dict layout and the errors."""
import importlib
import re

import pytest

import tinytape
from helpers import assert_close_to, check_against_pytorch, check_close_to_pytorch
from pytorch_answers import pytorch


def _prune(torch):
    return importlib.import_module(torch.__name__ + ".nn.utils.prune")  # (PyTorch imports it on demand)


def _lenet(torch):
    nn, F = torch.nn, torch.nn.functional

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 3)
            self.conv2 = nn.Conv2d(6, 16, 3)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.view(-1, int(x.nelement() / x.shape[0]))
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)
    return LeNet()


def _names(pairs):
    return [name for name, _ in pairs]


def _masks_text(text):
    """A printed object list without its addresses."""
    return re.sub(r" at 0x[0-9a-f]+", "", str(text)).replace("tinytape", "torch")


def _outcome(f):
    try:
        f()
        return "no error"
    except Exception as e:  # noqa: BLE001 - the error is the answer
        return f"{type(e).__name__}: {_masks_text(e)}"


def test_tutorial_one_module_random_then_l1_then_ln_structured():
    def run(torch):
        prune = _prune(torch)
        torch.manual_seed(0)
        model = _lenet(torch)
        module = model.conv1
        out = [_names(module.named_parameters()), _names(module.named_buffers())]
        returned = prune.random_unstructured(module, name="weight", amount=0.3)
        out += [returned is module, _names(module.named_parameters()), _names(module.named_buffers()),
                module.weight, module.weight_mask, str(module.weight)]
        out += [[type(h).__name__ for h in module._forward_pre_hooks.values()]]
        prune.l1_unstructured(module, name="bias", amount=3)
        out += [_names(module.named_parameters()), _names(module.named_buffers()), module.bias, module.bias_mask]
        prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
        out += [module.weight, module.weight_mask]
        for hook in module._forward_pre_hooks.values():
            if hook._tensor_name == "weight":
                break
        out += [type(hook).__name__, [type(m).__name__ for m in hook], len(hook), type(hook[1]).__name__]
        out += [list(model.state_dict().keys()), prune.is_pruned(model)]
        x = torch.randn(2, 1, 28, 28)
        out += [model(x)]
        with torch.no_grad():
            module.weight_orig.add_(1.0)  # the pre-hook recomputes weight = mask * orig
        out += [model(x), module.weight]
        prune.remove(module, "weight")
        out += [_names(module.named_parameters()), _names(module.named_buffers()), module.weight,
                type(module.weight).__name__, module.weight.requires_grad, len(module._forward_pre_hooks)]
        prune.remove(module, "bias")
        out += [prune.is_pruned(model), list(model.state_dict().keys())]
        return out
    check_close_to_pytorch(run, rtol=1e-5, atol=1e-6)


def test_tutorial_iterative_and_global_pruning_and_custom_method():
    def run(torch):
        prune = _prune(torch)
        torch.manual_seed(1)
        new_model = _lenet(torch)
        for _, module in new_model.named_modules():
            if isinstance(module, torch.nn.Conv2d):
                prune.l1_unstructured(module, name="weight", amount=0.2)
            elif isinstance(module, torch.nn.Linear):
                prune.l1_unstructured(module, name="weight", amount=0.4)
        out = [list(dict(new_model.named_buffers()).keys())]
        out += [float(m.weight_mask.sum()) for m in (new_model.conv1, new_model.fc1)]
        model = _lenet(torch)
        parameters_to_prune = ((model.conv1, "weight"), (model.conv2, "weight"), (model.fc1, "weight"),
                               (model.fc2, "weight"), (model.fc3, "weight"))
        prune.global_unstructured(parameters_to_prune, pruning_method=prune.L1Unstructured, amount=0.2)
        for m in (model.conv1, model.conv2, model.fc1, model.fc2, model.fc3):
            out.append("{:.2f}%".format(100. * float(torch.sum(m.weight == 0)) / float(m.weight.nelement())))
        total = sum(float(torch.sum(m.weight == 0)) for m, _ in parameters_to_prune)
        out.append("{:.2f}%".format(100. * total / sum(m.weight.nelement() for m, _ in parameters_to_prune)))
        out += [model.conv1.weight_mask, [type(h).__name__ for h in model.fc3._forward_pre_hooks.values()]]
        prune.global_unstructured(parameters_to_prune, pruning_method=prune.RandomUnstructured, amount=100)
        out += [model.fc3.weight_mask, model.conv1.weight_mask,
                [type(m).__name__ for m in list(model.conv1._forward_pre_hooks.values())[0]]]

        class FooBarPruningMethod(prune.BasePruningMethod):
            PRUNING_TYPE = "unstructured"

            def compute_mask(self, t, default_mask):
                mask = default_mask.clone()
                mask.view(-1)[::2] = 0
                return mask

        def foobarbar_unstructured(module, name):
            FooBarPruningMethod.apply(module, name)
            return module
        model = _lenet(torch)
        foobarbar_unstructured(model.fc3, name="bias")
        out += [model.fc3.bias_mask, model.fc3.bias]
        return out
    check_close_to_pytorch(run)


@pytest.mark.parametrize("amount", [0.0, 0.25, 0.5, 3, 0])
def test_each_method_mask_seeded(amount):
    def run(torch):
        prune = _prune(torch)
        torch.manual_seed(2)
        out = []
        for make in (lambda: prune.RandomUnstructured(amount), lambda: prune.L1Unstructured(amount),
                     lambda: prune.RandomStructured(amount, dim=1), lambda: prune.RandomStructured(amount),
                     lambda: prune.LnStructured(amount, n=1, dim=0),
                     lambda: prune.LnStructured(amount, n="fro", dim=-1),
                     lambda: prune.LnStructured(amount, n=float("inf"), dim=1),
                     lambda: prune.LnStructured(amount, n="nuc", dim=0)):
            t = torch.randn(4, 5, 3)
            method = make()
            out += [method.compute_mask(t, torch.ones_like(t)), method.prune(t)]
        return out
    check_close_to_pytorch(run, rtol=1e-6, atol=0)


def test_masks_on_masks_in_containers_structured_after_unstructured():
    def run(torch):
        prune = _prune(torch)
        torch.manual_seed(3)
        lin = torch.nn.Linear(6, 5)
        prune.random_unstructured(lin, "weight", amount=0.3)
        prune.ln_structured(lin, "weight", amount=2, n=1, dim=0)
        prune.random_structured(lin, "weight", amount=0.34, dim=1)
        prune.l1_unstructured(lin, "weight", amount=4)
        prune.identity(lin, "weight")
        scores = torch.randn(5)
        prune.l1_unstructured(lin, "bias", amount=2, importance_scores=scores)
        mask = torch.tensor([1, 0, 1, 1, 0], dtype=torch.bool)
        prune.custom_from_mask(lin, "bias", mask=mask)
        hook = [h for h in lin._forward_pre_hooks.values() if h._tensor_name == "weight"][0]
        out = [lin.weight_mask, lin.weight, lin.bias_mask, lin.bias, [type(m).__name__ for m in hook],
               lin.weight_mask.dtype == lin.weight.dtype, lin.bias_mask.dtype == lin.bias.dtype]
        y = lin(torch.randn(3, 6))
        y.sum().backward()
        out += [y, lin.weight_orig.grad, lin.bias_orig.grad, list(lin.state_dict().keys())]
        sd = lin.state_dict()
        lin2 = torch.nn.Linear(6, 5)
        prune.identity(lin2, "weight")
        prune.identity(lin2, "bias")
        lin2.load_state_dict(sd)
        out += [lin2(torch.ones(1, 6)), lin2.weight]
        return out
    check_close_to_pytorch(run, rtol=1e-5, atol=1e-6)


def test_prune_with_default_mask_and_importance_scores_and_container_built_by_hand():
    def run(torch):
        prune = _prune(torch)
        torch.manual_seed(4)
        t = torch.randn(3, 4)
        scores = torch.randn(3, 4)
        default = (torch.rand(3, 4) > 0.3).float()
        a = prune.L1Unstructured(0.5)
        a._tensor_name = "w"
        b = prune.LnStructured(1, n=2, dim=0)
        b._tensor_name = "w"
        container = prune.PruningContainer(a)
        container.add_pruning_method(b)
        out = [_outcome(lambda: prune.PruningContainer(a, b)),
               a.prune(t, default_mask=default, importance_scores=scores), container.compute_mask(t, default),
               len(container), isinstance(container[0], prune.L1Unstructured)]
        single = prune.PruningContainer(a)
        out += [single._tensor_name, len(single), single.compute_mask(t, default)]
        return out
    check_close_to_pytorch(run)


def test_errors():
    def run(torch):
        prune = _prune(torch)
        torch.manual_seed(5)
        lin = torch.nn.Linear(3, 2)
        out = [_outcome(lambda: prune.L1Unstructured(-1)), _outcome(lambda: prune.L1Unstructured(1.5)),
               _outcome(lambda: prune.L1Unstructured("a")), _outcome(lambda: prune.l1_unstructured(lin, "bias", 3)),
               _outcome(lambda: prune.ln_structured(lin, "bias", 1, n=2, dim=0)),
               _outcome(lambda: prune.ln_structured(lin, "weight", 1, n=2, dim=2)),
               _outcome(lambda: prune.remove(lin, "weight")),
               _outcome(lambda: prune.global_unstructured(3, prune.L1Unstructured, amount=1)),
               _outcome(lambda: prune.global_unstructured([(lin, "weight")], prune.RandomStructured, amount=1)),
               _outcome(lambda: prune.global_unstructured([(lin, "weight")], prune.L1Unstructured,
                                                          importance_scores=[1], amount=1)),
               _outcome(lambda: prune.l1_unstructured(lin, "weight", 1, importance_scores=torch.ones(3))),
               _outcome(lambda: prune.custom_from_mask(lin, "weight", torch.ones(3)))]
        # after the failures the parameters are where they were
        out += [_names(lin.named_parameters()), _names(lin.named_buffers()), prune.is_pruned(lin)]
        a = prune.L1Unstructured(1)
        a._tensor_name = "w"
        c = prune.PruningContainer(a)
        b = prune.L1Unstructured(1)
        b._tensor_name = "v"
        out += [_outcome(lambda: c.add_pruning_method(b)).split(" to PruningContainer")[0],
                _outcome(lambda: c.add_pruning_method(3))]
        return out
    check_against_pytorch(run)


def test_module_hook_keys_are_counting_ids():
    lin = tinytape.nn.Linear(2, 2)
    first = lin.register_forward_pre_hook(lambda m, a: None)
    second = lin.register_forward_hook(lambda m, a, o: None)
    assert isinstance(first.id, int) and second.id == first.id + 1
    assert list(lin._forward_pre_hooks) == [first.id]
    first.remove()
    assert not lin._forward_pre_hooks


def test_import_paths():
    import tinytape.nn.utils.prune as prune
    from tinytape.nn.utils import prune as same
    assert prune is same is tinytape.nn.utils.prune
    def public(torch):
        module = _prune(torch)
        return sorted(n for n in dir(module) if not n.startswith("_")
                      and getattr(getattr(module, n), "__module__", None) == module.__name__)
    theirs = pytorch(public)
    assert_close_to(sorted(n for n in theirs if hasattr(prune, n)), theirs)


def _pruned_training(compiled):
    import warnings
    import numpy as np
    prune = tinytape.nn.utils.prune
    tinytape.manual_seed(0)
    model = tinytape.nn.Sequential(tinytape.nn.Linear(4, 5), tinytape.nn.ReLU(), tinytape.nn.Linear(5, 2))
    prune.l1_unstructured(model[0], "weight", amount=0.4)
    prune.random_structured(model[2], "weight", amount=1, dim=0)
    opt = tinytape.optim.SGD(model.parameters(), lr=0.1)
    x, y = tinytape.randn(8, 4), tinytape.randn(8, 2)

    def step():
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    f = tinytape.compile(step) if compiled else step
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (where the compiler refuses, it runs eagerly)
        losses = [f().item() for _ in range(4)]
    return losses, [np.array(t.detach().numpy()) for t in (model[0].weight, model[0].weight_orig, model[2].weight)]


def test_compiled_training_of_a_pruned_model_equals_eager():
    eager, compiled = _pruned_training(False), _pruned_training(True)
    assert eager[0] == compiled[0]
    assert all((a == b).all() for a, b in zip(eager[1], compiled[1]))
    assert (eager[1][0] == 0).sum() == 8  # the pruned weights stay zero while their _orig values train
