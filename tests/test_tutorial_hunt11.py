"""Programs from PyTorch's "Pruning" and "Parametrizations" tutorials, run with ``import tinytape
as torch``: ``nn.utils.prune`` (random, L1, Ln-structured, global and custom pruning, chained
in a container, made permanent), its hooks' numbers shared with tensor hooks, and a second
parametrization's ``right_inverse`` run as it is registered."""
import importlib

from helpers import check_against_pytorch, check_close_to_pytorch, error_of as _error


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
            x = F.relu(self.fc1(x.flatten(start_dim=1)))
            return self.fc3(F.relu(self.fc2(x)))
    return LeNet


def test_pruning_tutorial():
    def run(torch):
        prune = importlib.import_module(torch.__name__ + ".nn.utils.prune")
        LeNet = _lenet(torch)
        torch.manual_seed(0)
        model = LeNet()
        module = model.conv1
        out = [[n for n, _ in module.named_parameters()], list(module.named_buffers())]
        prune.random_unstructured(module, name="weight", amount=0.3)
        first = next(iter(module._forward_pre_hooks))  # hook numbers count from the process's first hook
        out += [[n for n, _ in module.named_parameters()], module.weight_mask, module.weight,
                [k - first for k in module._forward_pre_hooks],
                [type(h).__name__ for h in module._forward_pre_hooks.values()]]
        prune.l1_unstructured(module, name="bias", amount=3)
        out += [module.bias_mask, module.bias, [k - first for k in module._forward_pre_hooks]]
        prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
        hook = [h for h in module._forward_pre_hooks.values() if h._tensor_name == "weight"][0]
        out += [module.weight, type(hook).__name__, [type(h).__name__ for h in hook], list(model.state_dict())]
        y = model(torch.randn(2, 1, 28, 28))
        y.sum().backward()
        out += [y, module.weight_orig.grad, module.bias_orig.grad]
        prune.remove(module, "weight")
        out += [[n for n, _ in module.named_parameters()], [n for n, _ in module.named_buffers()],
                [k - first for k in module._forward_pre_hooks], _error(lambda: prune.remove(module, "weight"))]
        new_model = LeNet()
        for name, m in new_model.named_modules():
            if isinstance(m, torch.nn.Conv2d):
                prune.l1_unstructured(m, name="weight", amount=0.2)
            elif isinstance(m, torch.nn.Linear):
                prune.l1_unstructured(m, name="weight", amount=0.4)
        out += [list(dict(new_model.named_buffers()))]
        model = LeNet()
        layers = [model.conv1, model.conv2, model.fc1, model.fc2, model.fc3]
        prune.global_unstructured([(m, "weight") for m in layers], pruning_method=prune.L1Unstructured, amount=0.2)
        out += [[float(torch.sum(m.weight == 0)) / m.weight.nelement() for m in layers],
                prune.is_pruned(model), prune.is_pruned(LeNet())]
        return out
    check_close_to_pytorch(run)  # the model's output and gradients: BLAS rounding


def test_custom_and_structured_pruning_methods():
    def run(torch):
        prune, nn = importlib.import_module(torch.__name__ + ".nn.utils.prune"), torch.nn

        class FooBarPruningMethod(prune.BasePruningMethod):
            PRUNING_TYPE = "unstructured"

            def compute_mask(self, t, default_mask):
                mask = default_mask.clone()
                mask.view(-1)[::2] = 0
                return mask

        torch.manual_seed(0)
        fc = nn.Linear(4, 6)
        FooBarPruningMethod.apply(fc, "bias")
        out = [fc.bias_mask]
        FooBarPruningMethod.apply(fc, "bias")  # again: on the entries the first pass kept
        out += [fc.bias_mask]
        prune.random_structured(fc, "weight", amount=2, dim=0)
        out += [fc.weight_mask]
        prune.random_structured(fc, "weight", amount=0.5, dim=1)
        out += [fc.weight_mask]
        m = nn.Linear(3, 5)
        prune.identity(m, "bias")
        prune.custom_from_mask(m, "bias", torch.tensor([0, 1, 0, 1, 1]))
        prune.ln_structured(m, "weight", amount=0.4, n=1, dim=1)
        out += [m.bias_mask, m.weight_mask, m.weight]
        bad = [lambda: prune.l1_unstructured(nn.Linear(2, 2), "weight", amount=1.5),
               lambda: prune.l1_unstructured(nn.Linear(2, 2), "weight", amount=5),
               lambda: prune.ln_structured(nn.Linear(2, 2), "bias", amount=1, n=1, dim=0),
               lambda: prune.l1_unstructured(nn.Linear(2, 2), "weight", amount="a")]
        out += [_error(b) for b in bad]
        out += [prune.L1Unstructured(amount=0.5).prune(torch.tensor([1., -3., 0.5, 2.]))]
        opt = torch.optim.SGD(fc.parameters(), lr=0.1)
        fc(torch.ones(3, 4)).sum().backward()
        opt.step()
        x = torch.ones(1, requires_grad=True)
        tensor_hook = x.register_hook(lambda g: g)  # tensor and module hooks are numbered by one count
        prune.l1_unstructured(m, "weight", amount=1)
        return out + [fc(torch.ones(1, 4)), [n for n, _ in fc.named_parameters()],
                      [k - tensor_hook.id for k in m._forward_pre_hooks], repr(type(prune.L1Unstructured(1)))]
    check_against_pytorch(run)


def test_a_chained_parametrization_checks_its_right_inverse_when_registered():
    def run(torch):
        nn, parametrize = torch.nn, torch.nn.utils.parametrize
        calls = []

        class Skew(nn.Module):
            def forward(self, X):
                A = X.triu(1)
                return A - A.transpose(-1, -2)

            def right_inverse(self, A):
                return A.triu(1)

        class Scale(nn.Module):
            def forward(self, X):
                return X * 2

            def right_inverse(self, A):
                calls.append(A.clone())
                return A / 2

        class Widen(nn.Module):
            def forward(self, X):
                return X

            def right_inverse(self, A):
                return torch.cat([A, A])

        torch.manual_seed(0)
        layer = nn.Linear(3, 3)
        parametrize.register_parametrization(layer, "weight", Skew())
        parametrize.register_parametrization(layer, "weight", Scale())
        registered = len(calls)
        layer.weight = torch.ones(3, 3) - torch.eye(3)
        return [registered, calls, layer.weight, _error(lambda: parametrize.register_parametrization(layer, "weight",
                                                                                                    Widen()))]
    check_against_pytorch(run)
