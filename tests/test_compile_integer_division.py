"""Integer ``//``, ``%``, ``fmod`` and ``div(rounding_mode=)`` by a Python number check the
number itself for 0 (no tensor value read), so a compiled step replays them, bit for bit."""
import numpy as np
import pytest

import tinytape as tt

OPS = {
    "mod": lambda i: i % 4, "rmod_number": lambda i: tt.remainder(i, -5), "floordiv": lambda i: i // 3,
    "fmod": lambda i: i.fmod(3), "div_floor": lambda i: tt.div(i, 2, rounding_mode="floor"),
    "div_trunc": lambda i: tt.div(i, -3, rounding_mode="trunc"), "float_fmod": lambda i: (i * 1.5).fmod(2.0),
}


@pytest.mark.parametrize("name", list(OPS))
def test_integer_division_by_a_number_replays(name):
    op = OPS[name]
    compiled = tt.compile(op, fullgraph=True)
    rng = np.random.default_rng(0)
    for _ in range(3):
        i = tt.tensor(rng.integers(-20, 20, 9))
        np.testing.assert_array_equal(compiled(i).numpy(), op(i).numpy())
    assert compiled.traces == 1


@pytest.mark.parametrize("op", [lambda i: i % 0, lambda i: i // 0, lambda i: i.fmod(0),
                                lambda i: tt.div(i, 0, rounding_mode="floor"), lambda i: i % tt.tensor([1, 0, 2])])
def test_integer_division_by_zero_raises_as_pytorch(op):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        op(tt.tensor([1, 2, 3]))
