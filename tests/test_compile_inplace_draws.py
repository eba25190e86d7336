"""In-place draws (``normal_``, ``uniform_``) inside a compiled step: on the CPU in float32
and float64 each is one kernel call on the generator's engine, so every replay writes the
generator's next numbers, as eager does, and leaves the generator where eager leaves it."""
import numpy as np
import pytest

import tinytape as tt

STEPS = {
    "noise": lambda x, w: (x + tt.empty_like(x).normal_(0.0, 0.1)) @ w,
    "uniform_mask": lambda x, w: (x * tt.empty(x.shape).uniform_(-1.0, 1.0)) @ w,
    "transposed": lambda x, w: x @ (w + tt.empty(w.shape[1], w.shape[0]).t().normal_()),
    "small": lambda x, w: x @ w + tt.empty(3).normal_(2.0, 0.5),  # under 16: the scalar Box-Muller
    "float64": lambda x, w: x.double() @ w.double() + tt.empty(5, 3, dtype=tt.float64).uniform_(),
    "generator": lambda x, w: x @ w + tt.empty(5, 3).normal_(generator=_GEN),
}
_GEN = tt.Generator()


@pytest.mark.parametrize("name", list(STEPS))
def test_in_place_draws_replay_the_generators_stream(name):
    fn = STEPS[name]

    def step(x, w):
        loss = (fn(x, w) ** 2).sum()
        loss.backward()
        return loss.detach()
    runs = []
    for compile_it in (False, True):
        tt.manual_seed(3)
        _GEN.manual_seed(4)
        w = tt.randn(4, 3).requires_grad_()
        f = tt.compile(step, fullgraph=True) if compile_it else step
        rng = np.random.default_rng(0)
        losses = [f(tt.tensor(rng.standard_normal((5, 4)).astype(np.float32)), w).item() for _ in range(4)]
        runs.append((losses, w.grad.numpy().tobytes(), tt.rand(2).numpy().tobytes(), _GEN.get_state().numpy().tobytes()))
        if compile_it:
            assert f.eager is None and not f.eager_signatures  # (a program with .grad None, one with it)
    assert runs[0] == runs[1]
