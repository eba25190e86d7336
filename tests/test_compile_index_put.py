"""``x[index] = value`` with integer-tensor indices inside a compiled step: the positions are
computed on the backend from each replay's indices (no host read), so the step compiles and
writes where eager writes, bit for bit: duplicates (the last value wins), negative
indices, tensors beside slices, a value broadcast, with and without autograd (a mask of
ones with the written places zeroed is made afresh at each replay: a constant written in
place is not made once)."""
import warnings

import numpy as np
import pytest

import tinytape as tt

PROGRAMS = {
    "rows": lambda x, i, v: x.__setitem__(i, v[: i.shape[0]]),
    "rows_scalar": lambda x, i, v: x.__setitem__(i, 0.5),
    "rows_broadcast": lambda x, i, v: x.__setitem__(i, v[0]),
    "negative": lambda x, i, v: x.__setitem__(i - 6, v[: i.shape[0]]),
    "pairs": lambda x, i, v: x.__setitem__((i, i.flip(0) % 4), v[: i.shape[0], 0]),
    "slice_then_tensor": lambda x, i, v: x.__setitem__((slice(1, 4), i % 4), v[:3, : i.shape[0]]),
    "two_dim_index": lambda x, i, v: x.__setitem__(i.view(2, -1), v[: i.shape[0]].view(2, -1, 4)),
}


def _calls():
    rng = np.random.default_rng(3)
    for _ in range(4):  # traces, then replays on other indices (duplicates included)
        yield (tt.tensor(rng.integers(0, 6, 4)), tt.tensor(rng.standard_normal((6, 4)).astype(np.float32)))


@pytest.mark.parametrize("name", list(PROGRAMS))
@pytest.mark.parametrize("autograd", [False, True])
def test_a_tensor_indexed_write_compiles_and_writes_where_eager_does(name, autograd):
    write = PROGRAMS[name]

    def step(x, i, v):
        if autograd:  # (CopySlices: the gradient masks the written places, takes v's from them)
            w = x * 1.0
            write(w, i, v)
            loss = (w * w).sum()
            return loss.detach(), tt.autograd.grad(loss, (x, v), allow_unused=True)
        with tt.no_grad():
            write(x, i, v)
        return x * 2
    compiled = tt.compile(step, fullgraph=True)
    for i, v in _calls():
        x0 = tt.tensor(np.arange(24, dtype=np.float32).reshape(6, 4) / 7)
        xs = [x0.clone().requires_grad_(autograd) for _ in range(2)]
        vs = [v.clone().requires_grad_(autograd) for _ in range(2)]
        got, want = compiled(xs[0], i, vs[0]), step(xs[1], i, vs[1])
        for a, b in zip(_leaves(got), _leaves(want)):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        np.testing.assert_array_equal(xs[0].detach().numpy(), xs[1].detach().numpy())
    assert compiled.traces == 1


def _leaves(x):
    if isinstance(x, (tuple, list)):
        return [leaf for item in x for leaf in _leaves(item)]
    return [x]


def test_an_index_out_of_range_raises_in_the_replay_as_eagerly():
    def step(x, i):
        with tt.no_grad():
            x[i] = 1.0
        return x * 1
    compiled = tt.compile(step)
    x = tt.zeros(5)
    compiled(x, tt.tensor([0, 2]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(IndexError):
            compiled(tt.zeros(5), tt.tensor([1, 7]))
    with pytest.raises(IndexError):
        step(tt.zeros(5), tt.tensor([1, 7]))


def test_index_add_compiles_with_positions_checked_in_the_kernel():
    """``index_add``'s positions come from the positions kernel: a compiled step adds where
    each replay's indices say, and an index out of range is PyTorch's RuntimeError."""
    def step(x, i, s):
        return x.index_add(0, i, s), x.clone().index_add_(1, i[:3] % 3, x * 0.5, alpha=2.0)
    compiled = tt.compile(step, fullgraph=True)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = tt.tensor(rng.standard_normal((5, 3)).astype(np.float32))
        i, s = tt.tensor(rng.integers(0, 5, 4)), tt.tensor(rng.standard_normal((4, 3)).astype(np.float32))
        for a, b in zip(compiled(x, i, s), step(x, i, s)):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert compiled.traces == 1
    for bad in ([0, 5], [0, -1]):
        with pytest.raises(RuntimeError, match=f"index {bad[1]} is out of bounds for dimension 0 with size 3"):
            tt.zeros(3, 2).index_add_(0, tt.tensor(bad), tt.ones(2, 2))


def test_a_constant_written_in_place_at_new_places_is_made_afresh_each_replay():
    """``ones(6)`` then ``m[i] = 0``: the ones are a constant of the trace, written in place at
    the places each call's ``i`` names; made once, the zeros would pile up call after call."""
    def step(i):
        m = tt.ones(6)
        with tt.no_grad():
            m[i] = 0.0
        return m * 2
    compiled = tt.compile(step, fullgraph=True)
    for places in ([1, 2], [4], [0, 5], [3]):
        i = tt.tensor(places)
        np.testing.assert_array_equal(compiled(i).numpy(), step(i).numpy())
