"""A module's registries are PyTorch's types: plain dicts for parameters, buffers and
children, ordered dicts for the hooks and the state dict (printed as code that reads them shows)."""
import tinytape
from helpers import check_against_pytorch


def test_registry_types_as_pytorch():
    def run(torch):
        m = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
        return [type(x).__name__ for x in (m._parameters, m._buffers, m._modules, m[1]._buffers,
                                           m._forward_pre_hooks, m._forward_hooks, m.state_dict())] + \
            [list(m._modules), list(m[1]._buffers)]

    check_against_pytorch(run)


def test_registries_keep_insertion_order():
    m = tinytape.nn.Module()
    for name in "cab":
        m.register_buffer(name, tinytape.zeros(1))
        m.add_module(name + "m", tinytape.nn.Identity())
    assert list(m._buffers) == ["c", "a", "b"] and list(m._modules) == ["cm", "am", "bm"]
