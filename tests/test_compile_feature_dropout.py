"""Channel dropout (``Dropout1d``/``Dropout2d``/``Dropout3d``) in a compiled step: its noise
comes from dropout's kernel, so each replay draws anew from the generator, the numbers eager
draws (PyTorch's stream: ``bernoulli_(1 - p)`` per channel, divided by ``1 - p``)."""
import numpy as np
import pytest

import tinytape as tt
import tinytape.nn as nn
import tinytape.nn.functional as F
from pytorch_answers import pytorch


def _model(layer):
    tt.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), layer, nn.Flatten(), nn.Linear(4 * 5 * 5, 3))


@pytest.mark.parametrize("make", [lambda: nn.Dropout2d(0.4), lambda: nn.Dropout2d(0.25, inplace=True)])
def test_dropout2d_step_compiles_with_fresh_noise(make):
    eager, compiled_model = _model(make()), _model(make())
    opt_e = tt.optim.SGD(eager.parameters(), lr=0.1)
    opt_c = tt.optim.SGD(compiled_model.parameters(), lr=0.1)

    def step_of(model, opt):
        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return step

    step, compiled = step_of(eager, opt_e), tt.compile(step_of(compiled_model, opt_c), fullgraph=True, background=False)
    rng = np.random.default_rng(0)
    losses = []
    for i in range(4):
        x = tt.tensor(rng.standard_normal((6, 2, 5, 5)).astype(np.float32))
        y = tt.tensor(rng.integers(0, 3, 6))
        tt.manual_seed(10 + i)
        want = step(x, y)
        tt.manual_seed(10 + i)
        got = compiled(x, y)
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
        losses.append(got.item())
    for p, q in zip(eager.parameters(), compiled_model.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    assert compiled.eager is None and compiled.traces <= 2
    assert len(set(losses)) == 4


def test_feature_dropout_draws_pytorchs_numbers():
    def draws(torch):
        torch.manual_seed(3)
        x = torch.ones(2, 6, 2, 2)
        return [torch.nn.functional.dropout2d(x, 0.5).tolist(), torch.nn.functional.dropout1d(torch.ones(3, 5, 2), 0.3).tolist(),
                torch.nn.functional.dropout(torch.ones(4), 0.5).tolist()]
    assert draws(tt) == pytorch(draws)
