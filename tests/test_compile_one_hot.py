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


def test_one_hot_fuses_and_its_class_checks_raise_eagers_words_from_the_fused_code():
    """The class checks' messages have no number in them: the generated code raises them as
    they are (a template around a value would not build)."""
    w = tt.ones(3, 4, requires_grad=True)

    def step(y):
        return (tt.nn.functional.one_hot(y, 3).float() @ w).sum().detach()
    compiled = tt.compile(step, fullgraph=True, background=False)
    for y in ([0, 2, 1], [2, 2, 0]):
        assert compiled(tt.tensor(y)).item() == step(tt.tensor(y)).item()
    (entry,) = next(iter(compiled.programs.values()))
    assert entry.kind == "fused", getattr(entry.program, "not_fused", None)
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes."):
        compiled(tt.tensor([0, 3, 1]))
    with pytest.raises(RuntimeError, match="Class values must be non-negative."):
        compiled(tt.tensor([0, -1, 1]))
