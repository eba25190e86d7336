"""``tinytape.compile(module)`` as ``torch.compile(module)``: an ``OptimizedModule`` wrapping
the module (its parameters and state dict under ``_orig_mod.``, its attributes reachable,
train/eval passed down), whose forward is compiled: under ``no_grad`` a replay equal to the
eager forward bit for bit; in training (its graph used by a backward outside) an eager run
with the compiler's one warning, the step's results those of the module itself."""
import warnings

import numpy as np
import pytest

import tinytape
from helpers import check_against_pytorch


def test_a_compiled_module_is_pytorchs_optimized_module():
    def run(torch):
        torch.manual_seed(0)
        m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cm = torch.compile(m, mode="reduce-overhead", dynamic=False)
            cm.eval()
            training = [cm.training, m.training, m[0].training]
            cm.train()
        try:
            cm[0]
            subscript = "subscriptable"
        except TypeError as e:
            subscript = str(e)
        return [type(cm).__name__, isinstance(cm, torch.nn.Module), cm._orig_mod is m, repr(cm),
                [n for n, _ in cm.named_parameters()], list(cm.state_dict()), training, cm.training,
                subscript, len(cm), torch.compile(m, disable=True) is m]
    check_against_pytorch(run)


def test_a_compiled_module_replays_inference_and_trains_as_eager():
    tinytape.manual_seed(0)
    nn = tinytape.nn
    m = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    cm = tinytape.compile(m)
    x = tinytape.randn(5, 4)
    with tinytape.no_grad():
        outs = [cm(x) for _ in range(3)]
        eager = m(x)
    for out in outs:
        np.testing.assert_array_equal(out.numpy(), eager.numpy())
    assert cm._compiled_forward.traces == 1 and cm._compiled_forward.programs
    opt = tinytape.optim.SGD(cm.parameters(), lr=0.1)
    with pytest.warns(RuntimeWarning, match="running it eagerly") as caught:
        loss = cm(x).pow(2).sum()
    assert caught[0].filename == __file__  # the warning names the caller's line
    expected = m(x).pow(2).sum()
    loss.backward()
    opt.step()
    assert loss.item() == expected.item() and m[0].weight.grad is not None
