"""``sort``, ``argsort`` and ``topk`` in a compiled function: the order is one kernel call
(found on the host), so each replay orders the new values; values, indices and gradients
are eager's."""
import numpy as np
import pytest

import tinytape as tt

PROGRAMS = {
    "sort": lambda x: x.sort(1).values,
    "sort_descending_indices": lambda x: x.sort(0, descending=True).indices.to(x.dtype) + x,
    "argsort": lambda x: x.argsort(1).to(x.dtype),
    "topk": lambda x: x.topk(3, 1).values,
    "topk_smallest_unsorted": lambda x: x.topk(2, 0, largest=False, sorted=False).values,
    "topk_indices": lambda x: x * (x.topk(2, 1).indices.sum()).to(x.dtype),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_compiled_order_follows_the_values(name):
    program = PROGRAMS[name]

    def step(x):
        y = program(x)
        (y.square().sum() + x.sum()).backward()
        grad = x.grad
        x.grad = None
        return y.detach(), grad

    compiled = tt.compile(step, fullgraph=True, background=False)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = tt.tensor(rng.standard_normal((5, 7)).astype(np.float32), requires_grad=True)
        got, want = compiled(x), step(x)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g.detach().numpy(), w.detach().numpy())
    assert compiled.eager is None and compiled.traces <= 2
