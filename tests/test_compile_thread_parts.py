"""Fused loops over ``GRAIN_SIZE`` elements or more of sigmoid, silu, softplus, elu, selu and mish:
eager's kernel cuts them among numba's threads and computes each part's last ``len % width``
elements by PyTorch's scalar-loop definition; the fused loop reads the thread count at each call
(``split_loops``) and cuts the same elements, so the op fuses with its neighbours, bit for bit."""
import numba
import numpy as np
import pytest

import tinytape
from tinytape.backend.layout import GRAIN_SIZE

OPS = {
    "sigmoid": lambda x: tinytape.sigmoid(x),
    "silu": lambda x: tinytape.nn.functional.silu(x),
    "softplus": lambda x: tinytape.nn.functional.softplus(x),
    "elu": lambda x: tinytape.nn.functional.elu(x, alpha=0.7),
    "selu": lambda x: tinytape.nn.functional.selu(x),
    "mish": lambda x: tinytape.nn.functional.mish(x),
}
# 1-D; rows a part ends inside (33 x 1023 in two parts of 16.5 rows); 3-D with odd rows
SHAPES = [(GRAIN_SIZE + 17,), (33, 1023), (7, 9, 601), (100003,)]


def _step(op):
    def f(x, w):
        y = op(x * w[0]) + 1.0  # fused with the ops on either side
        return y * 2.0, op(x).sum()
    return f


@pytest.fixture(params=[1, 2], ids=["1 thread", "2 threads"])
def threads(request):
    before = numba.get_num_threads()
    n = min(request.param, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(n)
    yield n
    numba.set_num_threads(before)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(OPS))
def test_split_among_threads_fuses_bit_for_bit(name, shape, dtype, threads):
    f = _step(OPS[name])
    compiled = tinytape.compile(f, fullgraph=True)
    for seed in range(2):  # the first call traces, the second replays the fused code
        rng = np.random.default_rng(seed)
        x = tinytape.tensor((rng.standard_normal(shape) * 6).astype(dtype))
        w = tinytape.tensor(rng.standard_normal(3).astype(dtype))
        for got, want in zip(compiled(x, w), f(x, w)):
            assert np.array_equal(np.atleast_1d(got.numpy()).view(np.uint8), np.atleast_1d(want.numpy()).view(np.uint8))
    entry = next(iter(compiled.programs.values()))[0]
    assert entry.kind == "fused" and "numba_threads()" in entry.source
    assert "calls" not in (getattr(entry.program, "not_fused", None) or "")  # one part, none replayed alone


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="numba started one thread: no second count")
def test_the_thread_count_is_read_at_each_call():
    """A program traced at one thread count replays at another with eager's cut."""
    def f(x, w):
        return OPS["softplus"](x) * w[0],  # (times 1: the op's own bits)
    compiled = tinytape.compile(f, fullgraph=True)
    x = tinytape.tensor((np.random.default_rng(3).standard_normal((33, 1023)) * 6).astype("float32"))
    w = tinytape.tensor(np.ones(3, np.float32))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        compiled(x, w)
        one = [t.numpy() for t in compiled(x, w)]
        numba.set_num_threads(2)
        two = [t.numpy() for t in compiled(x, w)]
        assert compiled.traces == 1
        assert np.array_equal(two[0].view(np.uint8), f(x, w)[0].numpy().view(np.uint8))
        assert not np.array_equal(one[0].view(np.uint8), two[0].view(np.uint8))  # the cut moved
    finally:
        numba.set_num_threads(before)
