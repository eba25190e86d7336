"""Factories inside a compiled function (positions for an embedding, a causal mask, a grid):
traced without a call a replay would not repeat, replayed to eager's values."""
import numpy as np
import pytest

import tinytape as tt

FACTORIES = {
    "arange_float": lambda x: x * tt.arange(x.shape[1], dtype=x.dtype),
    "arange_int_positions": lambda x: x + tt.arange(x.shape[1]).to(x.dtype),
    "arange_step": lambda x: x * tt.arange(0.5, 0.5 + 0.25 * x.shape[1], 0.25, dtype=x.dtype),
    "linspace": lambda x: x * tt.linspace(-1, 1, x.shape[1], dtype=x.dtype),
    "logspace": lambda x: x * tt.logspace(0, 1, x.shape[1], dtype=x.dtype),
    "causal_mask": lambda x: x.masked_fill(tt.tril(tt.ones(x.shape[0], x.shape[1])) == 0, float("-inf")).softmax(-1),
    "eye_full": lambda x: x + tt.eye(x.shape[0], x.shape[1], dtype=x.dtype) * tt.full((1,), 2.0, dtype=x.dtype),
}


@pytest.mark.parametrize("name", list(FACTORIES))
def test_factories_replay(name):
    make = FACTORIES[name]
    compiled = tt.compile(lambda x: make(x), fullgraph=True, background=False)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = tt.tensor(rng.standard_normal((5, 7)).astype(np.float32))
        got, want = compiled(x), make(x)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert compiled.traces == 1 and compiled.eager is None
