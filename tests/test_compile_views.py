"""Views in fused programs: N-D permutations, strided slices, views of strided arguments,
reshapes that copy — read in fused loops, compiled equal to eager bit for bit, with in-place
writes before and after the view is taken (a copy must not see them, a view must)."""
import numpy as np
import pytest

import tinytape

R = np.random.default_rng(0)


def _x(seed, shape=(2, 3, 4)):
    return tinytape.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def permute_3d(x):
    return x.permute(2, 0, 1) * 2 + 1


def transpose_then_view(x):  # attention's heads: (B, T, C) -> (B, nh, T, hs) and back
    heads = x.view(2, 3, 2, 2).transpose(1, 2)
    return (heads * 3).transpose(1, 2).contiguous().view(2, 3, 4)


def reshape_of_a_transpose_copies(x):
    y = x.transpose(1, 2)
    flat = y.reshape(-1)  # a copy: the write below must not reach it
    y2 = y * 1
    x.mul_(2)
    return flat + 0, y2, x * 1


def slice_view_sees_a_later_write(x):
    x = x * 1
    v = x[:, 1:3]  # a strided view of a value computed here
    x.add_(5)
    return v * 2


def view_of_a_split_part(x):
    q, k = (x * 2).split(2, dim=2)  # strided parts of one buffer
    return (q.reshape(2, 3, 2, 1) * k.reshape(2, 3, 2, 1)).sum(-1), q.transpose(0, 1) + k.transpose(0, 1)


def permute_of_permute(x):
    return x.permute(1, 2, 0).permute(2, 0, 1) * x


def expand_then_reshape(x):
    return x[:, :1].expand(2, 3, 4).reshape(6, 4) + 1


def select_column_of_a_transpose(x):
    return x.transpose(0, 2)[1] * 2 + x[:, :, 1].t()


def attention_scores(x):  # batched products of 4-D views, one gemm per matrix as eager
    heads = x.view(2, 3, 2, 2).transpose(1, 2)
    scores = heads @ heads.transpose(-2, -1)
    return scores.softmax(-1) @ heads


def setitem_slices(x):
    y = x * 2
    y[:, 1:] = x[:, :-1] * 3  # broadcast-free block
    y[0, :, ::2] = 7.0  # a number, every other column
    return y + 1


def setitem_overlapping_source(x):
    y = x + 0
    y[1:] = y[:-1]  # numpy reads the source before it writes: so must the program
    return y * 1


def setitem_broadcast_row(x):
    y = x * 1
    y[:, 2] = x[0, 0]  # a (4,) row broadcast over (2, 4)
    return y


def setitem_into_an_argument(x):
    x[0, 0] = 3.0
    return x.sum(0)


def slice_gradient(x):  # a slice's backward: zeros, the gradient written into the slice
    x = x.detach().requires_grad_()
    (x[:, 1:, :2] * 2).sum().backward()
    return x.grad




def view_taken_before_a_setitem_sees_it(x):
    y = x * 1
    column = y[:, :, 0]  # a view of y taken first
    before = column * 1
    y[:, :, 0] = 5.0
    return before, column + y[:, :, 1], y


def setitem_into_a_view_then_read(x):
    y = x * 1
    t = y.transpose(0, 2)
    t[0] = -1.0  # a write through a view of y: eager's kernel, alone
    return y + 0, t * 2


SETITEM = [view_taken_before_a_setitem_sees_it, setitem_slices, setitem_overlapping_source, setitem_broadcast_row, setitem_into_an_argument,
           slice_gradient]
CASES = SETITEM + [attention_scores, permute_3d, transpose_then_view, reshape_of_a_transpose_copies, slice_view_sees_a_later_write,
         view_of_a_split_part, permute_of_permute, expand_then_reshape, select_column_of_a_transpose]


def _flat(result):
    return result if isinstance(result, tuple) else (result,)


@pytest.mark.parametrize("f", CASES, ids=[f.__name__ for f in CASES])
def test_views_fuse_and_equal_eager_bitwise(f):
    compiled = tinytape.compile(f)
    for seed in range(3):  # the first call traces, the others replay
        got, want = _flat(compiled(_x(seed))), _flat(f(_x(seed)))
        for g, w in zip(got, want):
            assert g.shape == w.shape and g.stride() == w.stride()
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    assert compiled.traces == 1
    entry = next(iter(compiled.programs.values()))[0]
    assert entry.kind == "fused" and getattr(entry.program, "not_fused", None) is None, entry.program.not_fused


@pytest.mark.parametrize("f", SETITEM[1:], ids=[f.__name__ for f in SETITEM[1:]])
def test_setitem_leaves_arguments_as_eager_does(f):
    compiled = tinytape.compile(f)
    for seed in range(3):
        a, b = _x(seed), _x(seed)
        compiled(a), f(b)
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_a_write_through_a_view_replays_alone_with_eagers_values():
    f = setitem_into_a_view_then_read
    compiled = tinytape.compile(f)
    for seed in range(3):
        for g, w in zip(compiled(_x(seed)), f(_x(seed))):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    assert compiled.traces == 1


def test_a_call_the_generator_cannot_take_replays_alone_and_the_rest_fuses():
    def step(x):
        y = x * 2 + 1
        y = y.cumsum(1)  # a scan: eager's kernel, replayed alone between two fused runs
        return (y * 3).sum(0)
    compiled = tinytape.compile(step)
    for seed in range(3):
        np.testing.assert_array_equal(compiled(_x(seed)).numpy(), step(_x(seed)).numpy())
    entry = next(iter(compiled.programs.values()))[0]
    assert entry.kind == "fused"
    assert entry.program.not_fused is not None


def test_an_arguments_gradient_in_another_layout_is_another_signature():
    w = _x(9, (3, 4))

    def step(x):
        (x * w).sum().backward()
        return x.grad.sum(0)  # a sum walks the gradient through the strides it was traced with
    compiled = tinytape.compile(step)
    for i in range(4):
        xs = [_x(i, (3, 4)).requires_grad_() for _ in range(2)]
        g = _x(10 + i, (3, 4)) if i < 2 else _x(10 + i, (4, 3)).t()
        for x in xs:
            x.grad = g.clone() if i < 2 else g.t().clone().t()
        np.testing.assert_array_equal(compiled(xs[0]).numpy(), step(xs[1]).numpy())
    assert compiled.traces == 2


def test_a_sequence_index_runs_before_its_part_and_sees_later_writes():
    """``xs[t]`` of an argument in a long loop: made before the time step's fused part (one
    part a step, every step's the same source), a view that sees the in-place write half way
    through, as eager's."""
    def step(xs, w):
        h = tinytape.zeros(4)
        for t in range(xs.shape[0]):
            h = (xs[t] * w + h).tanh()
            if t == 50:
                xs.mul_(0.5)
        return h.sum()
    compiled = tinytape.compile(step)
    a, w = _x(1, (100, 4)), _x(2, (4,))
    b = tinytape.tensor(a.numpy().copy())
    for _ in range(3):  # the arguments change between calls
        assert compiled(a, w).item() == step(b, w).item()
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        a.add_(0.1), b.add_(0.1)
    entry = next(iter(compiled.programs.values()))[0]
    assert entry.kind == "fused" and getattr(entry.program, "not_fused", None) is None
    parts = [part.split("\n", 1)[1] for part in entry.source.split("# calls ")[1:]]
    assert len(parts) <= 105  # 100 time steps, one fused part each ...
    assert len(set(parts)) <= 5  # ... all of one source, compiled once (an offset inside would differ)
