"""A kernel that returns a view of an array of its own (``dx.reshape(shape)`` of a flat
buffer) and an op that reshapes that result again make a view whose numpy base is the
kernel's internal array, not the recorded output: the capture must read it as a view of
the output (a replay's new values), never as a constant of the trace.  Layer norm's CPU
kernel returns its gradients so; a compiled training step through it equals eager."""
import numpy as np

import tinytape as tt
import tinytape.nn.functional as F


def _train(compiled):
    rng = np.random.default_rng(0)
    w = tt.tensor(rng.standard_normal((8, 8)).astype(np.float32) * 0.3, requires_grad=True)
    g, b = tt.ones(8, requires_grad=True), tt.zeros(8, requires_grad=True)

    def step(x):
        h = F.gelu(F.layer_norm(x @ w, (8,), g, b)) + x
        loss = h.pow(2).mean()
        loss.backward()
        with tt.no_grad():
            for p in (w, g, b):
                p.sub_(0.05 * p.grad)
                p.grad = None
        return loss
    run = tt.compile(step, fullgraph=True) if compiled else step
    losses = [run(tt.tensor(rng.standard_normal((4, 8)).astype(np.float32))).item() for _ in range(5)]
    return losses, [p.detach().numpy().copy() for p in (w, g, b)], run


def test_a_view_of_a_kernels_own_array_is_replayed_from_the_replays_values():
    eager_losses, eager_params, _ = _train(False)
    losses, params, run = _train(True)
    assert losses == eager_losses
    for a, e in zip(params, eager_params):
        np.testing.assert_array_equal(a, e)
    assert run.traces == 1
