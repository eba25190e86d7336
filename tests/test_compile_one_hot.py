"""``F.one_hot`` with ``num_classes`` in a compiled function: recorded indexing (no host read),
the eager values and dtype, and eager's errors for classes out of range."""
import numpy as np
import pytest

import tinytape as tt
import tinytape.nn.functional as F


def _program(y, x):
    return (F.one_hot(y, 4).float() * x).sum(0), F.one_hot(y, 4)


def test_one_hot_compiles_and_equals_eager():
    compiled = tt.compile(_program, fullgraph=True, background=False)
    rng = np.random.default_rng(0)
    for _ in range(3):
        y = tt.tensor(rng.integers(0, 4, (3, 5)))
        x = tt.tensor(rng.standard_normal((3, 5, 4)).astype(np.float32))
        for got, want in zip(compiled(y, x), _program(y, x)):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert compiled.traces == 1 and compiled.eager is None


@pytest.mark.parametrize("bad, words", [(4, "smaller than num_classes"), (-1, "non-negative"), (-3, "non-negative")])
def test_one_hot_out_of_range_raises_in_compiled_calls(bad, words):
    compiled = tt.compile(_program, fullgraph=True, background=False)
    x = tt.ones(3, 5, 4)
    compiled(tt.zeros(3, 5, dtype=tt.int64), x)
    y = tt.zeros(3, 5, dtype=tt.int64)
    y[1, 2] = bad
    with pytest.raises(RuntimeError, match=words):
        compiled(y, x)
