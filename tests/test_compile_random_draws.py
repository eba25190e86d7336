"""``randn``, ``rand``, ``randn_like`` and ``rand_like`` (float32/float64), ``randint`` and
``randperm`` (int64) in a compiled step:
the draw is a kernel call on the generator's engine, so each replay draws the next numbers
of the stream, the ones eager draws (a VAE's reparameterisation, noise injection)."""
import numpy as np
import pytest

import tinytape as tt

DRAWS = {
    "randn_like": lambda x: x * tt.randn_like(x),
    "rand_like": lambda x: x * tt.rand_like(x),
    "randn": lambda x: x + tt.randn(*x.shape, dtype=x.dtype),
    "rand": lambda x: x + tt.rand(x.shape, dtype=x.dtype),
    "randn_small": lambda x: x.sum() * tt.randn(3, dtype=x.dtype),  # the cached Box-Muller path
    "randn_transposed_like": lambda x: x.t() * tt.randn_like(x.t()),
    "generator": lambda x: x + tt.randn(x.shape, generator=GENERATOR, dtype=x.dtype),
    "randint": lambda x: x * tt.randint(1, 9, x.shape).to(x.dtype),
    "randperm": lambda x: x[tt.randperm(4)] * tt.arange(6, dtype=x.dtype),
    "randperm_generator": lambda x: x[:, tt.randperm(6, generator=GENERATOR)] * tt.arange(6, dtype=x.dtype),
}
GENERATOR = tt.Generator().manual_seed(5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(DRAWS))
def test_compiled_draws_follow_the_stream(name, dtype):
    draw = DRAWS[name]
    w = tt.ones(4, 6, dtype=getattr(tt, dtype), requires_grad=True)

    def step(x):
        w.grad = None
        loss = draw(x * w).square().sum()
        loss.backward()
        return loss, w.grad

    compiled = tt.compile(step, fullgraph=True, background=False)
    rng = np.random.default_rng(0)
    xs = [tt.tensor(rng.uniform(0.5, 1, (4, 6)).astype(dtype)) for _ in range(4)]
    tt.manual_seed(1)
    GENERATOR.manual_seed(5)
    want = [[t.detach().numpy().copy() for t in step(x)] for x in xs]
    tt.manual_seed(1)
    GENERATOR.manual_seed(5)
    got = [[t.detach().numpy().copy() for t in compiled(x)] for x in xs]
    for g, w_ in zip(got, want):
        for a, b in zip(g, w_):
            np.testing.assert_array_equal(a, b)
    assert len({float(g[0]) for g in got}) == 4  # fresh numbers at every call
    assert compiled.eager is None and compiled.traces <= 2
    # the generators were left where eager leaves them
    assert tt.rand(2).tolist() == (tt.manual_seed(1), [step(x) for x in xs], tt.rand(2).tolist())[2]


@pytest.mark.parametrize("reseed", ["default", "generator", "dropout"])
def test_reseeding_inside_refuses(reseed):
    """Reseeding inside the function, even to the state the trace starts from (where a check
    of the replay against the trace could not tell), is not replayed: the call runs eagerly."""
    gen = tt.Generator()

    def step(x):
        if reseed == "generator":
            gen.manual_seed(0)
            return x + tt.randn(x.shape, generator=gen)
        tt.manual_seed(0)
        return tt.nn.functional.dropout(x, 0.5) if reseed == "dropout" else x + tt.randn(x.shape)

    gen.manual_seed(0)
    tt.manual_seed(0)
    compiled = tt.compile(step)
    x = tt.ones(4, 5)
    with pytest.warns(RuntimeWarning, match="reseeds a tinytape.Generator"):
        got = [compiled(x).numpy().copy() for _ in range(3)]
    want = [step(x).numpy().copy() for _ in range(3)]
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(RuntimeError, match="reseeds"):
        tt.compile(step, fullgraph=True)(x)
