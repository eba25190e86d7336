"""Against PyTorch's recorded answers: ``nn.utils.parametrize`` (register, chain, assign through
``right_inverse``, cache, remove), ``nn.utils.parametrizations.weight_norm`` and ``spectral_norm``
and the older ``nn.utils.weight_norm`` (values, gradients, parameter names, state-dict keys,
reprs, errors), with ``_weight_norm``'s gradient checked by finite differences."""
import warnings
from importlib import import_module

import numpy as np
import pytest

import tinytape as tt
from helpers import check_grad
from test_breadth3 import check

INPUT = np.linspace(-1, 1, 6).reshape(2, 3)


def _utils(torch):
    return (import_module(torch.__name__ + ".nn.utils.parametrizations"),
            import_module(torch.__name__ + ".nn.utils.parametrize"))


def _names(module, buffers=False):
    return [n for n, _ in (module.named_buffers() if buffers else module.named_parameters())]


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_parametrization(dim):
    def run(torch, dev, x):
        P, parametrize = _utils(torch)
        torch.manual_seed(0)
        layer = P.weight_norm(torch.nn.Linear(3, 2), dim=dim)
        out = layer(torch.tensor(x, dtype=torch.float32))
        (out * torch.tensor([[1.0, -2.0], [0.5, 3.0]])).sum().backward()
        wn = layer.parametrizations.weight
        result = [repr(layer), type(layer).__name__, out, layer.weight, _names(layer), list(layer.state_dict()),
                  wn.original0, wn.original0.grad, wn.original1.grad]
        layer.weight = torch.full((2, 3), 2.0)  # through right_inverse: g and v recomputed
        result += [wn.original0, wn.original1, layer.weight]
        parametrize.remove_parametrizations(layer, "weight")
        return result + [type(layer).__name__, _names(layer), layer.weight, parametrize.is_parametrized(layer)]
    check(run, INPUT, rtol=1e-6, atol=1e-6)


def test_older_weight_norm_and_its_removal():
    def run(torch, dev):
        torch.manual_seed(1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            conv = torch.nn.utils.weight_norm(torch.nn.Conv1d(2, 3, 2))
        y = conv(torch.ones(1, 2, 4))
        y.sum().backward()
        result = [repr(conv), _names(conv), y, conv.weight_g, conv.weight_g.grad, conv.weight_v.grad,
                  list(conv.state_dict())]
        with torch.no_grad():
            conv.weight_g.mul_(2.0)
        result.append(conv(torch.ones(1, 2, 4)))  # the pre-hook recomputes the weight
        torch.nn.utils.remove_weight_norm(conv)
        return result + [_names(conv), conv.weight]
    check(run, rtol=1e-6, atol=1e-6)


def test_older_weight_norm_warns_and_refuses_twice():
    with pytest.warns(FutureWarning, match="deprecated"):
        layer = tt.nn.utils.weight_norm(tt.nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        tt.nn.utils.weight_norm(layer)


def test_custom_parametrizations_chained_cached_and_removed():
    def run(torch, dev, x):
        P, parametrize = _utils(torch)
        nn = torch.nn

        class Symmetric(nn.Module):
            def forward(self, X):
                return X.triu() + X.triu(1).transpose(-1, -2)

        class Scaled(nn.Module):
            def forward(self, X):
                return X * 3.0

            def right_inverse(self, X):
                return X / 3.0

        torch.manual_seed(2)
        layer = nn.Linear(3, 3)
        parametrize.register_parametrization(layer, "weight", Symmetric())
        parametrize.register_parametrization(layer, "weight", Scaled())
        out = layer(torch.tensor(x, dtype=torch.float32))
        out.sum().backward()
        result = [repr(layer), layer.weight, out, layer.parametrizations.weight.original.grad, _names(layer),
                  parametrize.is_parametrized(layer, "weight"), parametrize.is_parametrized(layer, "bias"),
                  parametrize.type_before_parametrizations(layer).__name__]
        with parametrize.cached():
            result.append(layer.weight is layer.weight)
        result.append(layer.weight is layer.weight)
        parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
        return result + [layer.weight, type(layer).__name__]
    check(run, INPUT, rtol=1e-6, atol=1e-6)


def test_spectral_norm_parametrization():
    def run(torch, dev, x):
        P, _ = _utils(torch)
        torch.manual_seed(3)
        layer = P.spectral_norm(torch.nn.Linear(3, 4))
        out = layer(torch.tensor(x, dtype=torch.float32))
        out.sum().backward()
        sn = layer.parametrizations.weight
        result = [out, layer.weight, sn.original.grad, sn[0]._u, sn[0]._v, _names(layer, buffers=True)]
        layer.eval()
        return result + [layer(torch.tensor(x, dtype=torch.float32)), torch.linalg.matrix_norm(layer.weight, 2)]
    check(run, INPUT, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", ["missing", "not_parametrized", "shape", "remove_weight_norm", "iterations",
                                  "sequence_leave"])
def test_parametrize_errors(case):
    def run(torch, dev):
        P, parametrize = _utils(torch)
        nn = torch.nn

        class Rows(nn.Module):
            def forward(self, X):
                return X[:1]
        layer = nn.Linear(2, 2)
        if case == "missing":
            return parametrize.register_parametrization(layer, "scale", Rows())
        if case == "not_parametrized":
            return parametrize.remove_parametrizations(layer, "weight")
        if case == "shape":
            return parametrize.register_parametrization(layer, "weight", Rows())
        if case == "remove_weight_norm":
            return nn.utils.remove_weight_norm(layer)
        if case == "iterations":
            return P.spectral_norm(layer, n_power_iterations=0)
        P.weight_norm(layer)
        return parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    check(run)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_weight_norm_function_gradient(dim):
    rng = np.random.default_rng(4)
    v = rng.normal(size=(3, 2, 4))
    g = tt.nn.parametrizations.norm_except_dim(tt.tensor(rng.normal(size=(3, 2, 4))), 2, dim).numpy()
    check_grad(lambda v, g: tt.nn.parametrizations._weight_norm(v, g, dim), v, g, second_order=True)


def test_older_spectral_norm_and_its_removal():
    def run(torch, dev, x):
        torch.manual_seed(5)
        layer = torch.nn.utils.spectral_norm(torch.nn.Linear(3, 4))
        inputs = torch.tensor(x, dtype=torch.float32)
        out = layer(inputs)
        out.sum().backward()
        result = [_names(layer), _names(layer, buffers=True), out, layer.weight, layer.weight_orig.grad, layer.weight_u,
                  layer.weight_v, list(layer.state_dict())]
        layer(inputs)
        layer.eval()
        result += [layer(inputs), layer.weight_u]
        torch.nn.utils.remove_spectral_norm(layer)
        return result + [_names(layer), layer.weight]
    check(run, INPUT, rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        tt.nn.utils.spectral_norm(tt.nn.utils.spectral_norm(tt.nn.Linear(2, 2)))
