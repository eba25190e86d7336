"""Float sums give PyTorch's CPU bits (its summation order: ``backend/cpu/cascade.py``), and
what is built on them: mean, the losses' reductions, var/std of a whole tensor; compiled
code gives eager's bits.  PyTorch's side runs on one thread (above 32768 elements its sum
splits over threads otherwise)."""
import itertools
import re

import numpy as np
import pytest

import tinytape
from tinytape.backend.cpu import cascade
from pytorch_answers import pytorch

LENGTHS = list(range(1, 301)) + [511, 1000, 4097, 32768, 40000, 100000]
SHAPES = [(5, 3), (27, 27), (100, 7), (40, 70), (3, 40, 5), (7, 16, 19), (2, 3, 4, 5), (17, 65), (129, 3)]


def _data(shape, seed, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * (0.5 + rng.random())).astype(dtype)


def _one_thread(torch):
    torch.set_num_threads(1)


def _same(got, want):
    """Bit equality of tinytape's results with PyTorch's recorded ones (values, shapes)."""
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        g = g.detach().float().numpy() if g.dtype in (tinytape.float16, tinytape.bfloat16) else g.detach().numpy()
        w = w.numpy()
        assert g.shape == w.shape, (k, g.shape, w.shape)
        assert np.array_equal(g, w, equal_nan=True), (k, g, w)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sums_of_every_length_match_pytorch(dtype):
    arrays = [_data(n, n, dtype) for n in LENGTHS]

    def sums(lib, *arrays):
        if lib.__name__ == "torch":
            _one_thread(lib)
        return [lib.tensor(a).sum() for a in arrays]
    _same(sums(tinytape, *arrays), pytorch(sums, *arrays))


def _dim_cases(lib, arrays):
    out = []
    for a in arrays:
        t = lib.tensor(a)
        nd = t.ndim
        for r in range(1, nd + 1):
            for dims in itertools.combinations(range(nd), r):
                out.append(t.sum(dims, keepdim=r == 1))
        out += [t.sum(0), t.sum(-1), t.sum(), t.mean(0), t.mean(-1), t.mean()]
        tt = t.transpose(0, -1)  # a transposed (non-contiguous) input
        out += [tt.sum(), tt.sum(0), tt.sum(-1), tt.sum(0, keepdim=True), t[..., ::2].sum(-1), t[::2].sum(0)]
        if nd == 3:
            out += [t.permute(1, 2, 0).sum((0, 2)), t.sum((0, 2), keepdim=True)]
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sums_over_dims_and_layouts_match_pytorch(dtype):
    arrays = [_data(s, k, dtype) for k, s in enumerate(SHAPES)]
    _same(_dim_cases(tinytape, arrays), pytorch(_dim_cases, arrays))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_narrow_sums_and_means_match_pytorch(dtype):
    """float16/bfloat16 add in float32 with their own vector loads (or over a float32 copy
    where the two innermost loops both reduce); their mean is the float32 mean, rounded."""
    arrays = [_data(n, n) for n in (1, 15, 16, 17, 31, 32, 33, 100, 1000)] + \
        [_data(s, k) for k, s in enumerate(SHAPES[:6])]

    def cases(lib, *arrays):
        out = []
        for a in arrays:
            t = lib.tensor(a).to(getattr(lib, dtype))
            out += [t.sum(), t.mean()]
            if t.ndim > 1:
                out += [t.sum(0), t.sum(-1), t.mean(0), t.mean(-1), t.transpose(0, -1).sum(0),
                        t.sum(tuple(range(t.ndim - 1)))]
        return out
    _same(cases(tinytape, *arrays), pytorch(cases, *arrays))


def test_losses_means_and_spreads_match_pytorch():
    """What tutorials print: a mean, mse_loss, a sum of squares, nll_loss (with ignored rows
    and class weights: its own cascade), var and std of a whole tensor."""
    pairs = [(_data(s, k), _data(s, k + 100)) for k, s in enumerate([(1,), (7,), (64, 1), (64, 10), (33, 17),
                                                                     (1000, 10), (5, 4, 3)])]
    rng = np.random.default_rng(7)
    nll = []
    for n, c in [(1, 3), (20, 3), (64, 10), (257, 5), (1000, 10)]:
        target = rng.integers(0, c, n)
        target[rng.random(n) < 0.2] = -100
        nll.append((_data((n, c), n), target, rng.random(c).astype(np.float32)))
    flat = [_data(n, n + 5, dt) for n in (2, 10, 100, 5000) for dt in (np.float32, np.float64)]

    def cases(lib, pairs, nll, flat):
        F = lib.nn.functional
        out = []
        for a, b in pairs:
            x, y = lib.tensor(a), lib.tensor(b)
            out += [F.mse_loss(x, y), F.mse_loss(x, y, reduction="sum"), ((x - y) ** 2).sum(),
                    ((x - y) ** 2).mean(), F.l1_loss(x, y)]
        for logp, target, weight in nll:
            x, t, w = lib.tensor(logp), lib.tensor(target), lib.tensor(weight)
            out += [F.nll_loss(x, t), F.nll_loss(x, t, reduction="sum"), F.nll_loss(x, t, w),
                    F.nll_loss(x, t, w, reduction="sum")]
        for a in flat:
            x = lib.tensor(a)
            out += [x.var(), x.std(), x.var(correction=0), x.std(keepdim=True, dim=None)]
        return out
    _same(cases(tinytape, pairs, nll, flat), pytorch(cases, pairs, nll, flat))


def test_layout_follows_tensor_iterator():
    """The reduced dimensions first (by input stride), the kept ones innermost first, runs
    merged: a transposed input's full sum reads memory in order, its sum over the rows
    walks the storage's rows."""
    def layout(shape, strides, dims):
        return [list(a) for a in cascade.reduce_layout(shape, strides, dims)]
    assert layout((4, 6), (6, 1), ()) == [[24], [1], [0]]
    assert layout((6, 4), (1, 6), ()) == [[24], [1], [0]]  # a transpose: one run
    assert layout((4, 6), (6, 1), (0,)) == [[4, 6], [6, 1], [0, 1]]  # an outer sum
    assert layout((6, 4), (1, 6), (0,)) == [[6, 4], [1, 6], [0, 1]]  # a row sum of the storage
    assert layout((2, 3, 5), (15, 5, 1), (0, 2)) == [[5, 2, 3], [1, 15, 5], [0, 0, 1]]
    assert layout((2, 1, 5), (5, 5, 1), (1,)) == [[10], [1], [1]]  # nothing reduced but a 1


def test_sum_kernel_checks_its_bounds():
    x = np.ones(10, np.float32)
    out = np.zeros(1, np.float32)
    with pytest.raises(IndexError, match="sum"):
        cascade.cascade_sum(x, 0, out, np.array([11], np.int64), np.array([1], np.int64),
                            np.array([0], np.int64), 8, np.empty((4, 32), np.float32))
    with pytest.raises(IndexError, match="nll_sum"):
        cascade.nll_sum(x, np.ones(9, np.bool_), out)


def test_compiled_sums_equal_eager_bitwise():
    """A step whose loss and gradients take sums of every kind (all dims, a dim, a bias's
    gradient, a transposed operand, a mean, nll_loss): replayed, the same bits as eager."""
    F = tinytape.nn.functional

    def step(x, w, b, y, t):
        h = x.mm(w) + b
        loss = ((h - y) ** 2).mean() + h.t().pow(2).sum(0).mean() * 1e-3 + h.sum(1).mean()
        loss = loss + F.nll_loss(h.log_softmax(1), t)
        gw, gb = tinytape.autograd.grad(loss, (w, b))
        return loss.detach(), gw, gb

    compiled = tinytape.compile(step, fullgraph=True)
    rng = np.random.default_rng(3)
    for seed in range(3):
        x, y = tinytape.tensor(_data((37, 20), seed)), tinytape.tensor(_data((37, 9), seed + 10))
        w = tinytape.tensor(_data((20, 9), seed + 20), requires_grad=True)
        b = tinytape.tensor(_data(9, seed + 30), requires_grad=True)
        t = rng.integers(0, 9, 37)
        t[::5] = -100
        t = tinytape.tensor(t)
        got, want = compiled(x, w, b, y, t), step(x, w, b, y, t)
        for g, e in zip(got, want):
            assert np.array_equal(g.numpy(), e.numpy())
    assert compiled.traces == 1
    (entry,), = compiled.programs.values()
    assert entry.kind == "fused" and re.search(r"cascade_sum_float\d\d\(", entry.source) and "nll_sum(" in entry.source


def test_compiled_sums_of_views_equal_eager_bitwise():
    """Sums of a strided slice, a permuted and a broadcast operand inside a compiled step."""
    def step(x, y):
        z = x * 2
        return (z[:, ::2].sum(0), z.permute(2, 0, 1).sum((0, 2)), z.transpose(0, 1).sum(-1),
                (y.expand(3, 5, 7) * z).sum((0, 1)), z[1].sum())

    compiled = tinytape.compile(step, fullgraph=True)
    for seed in range(3):
        x, y = tinytape.tensor(_data((3, 5, 7), seed)), tinytape.tensor(_data((1, 5, 1), seed + 1))
        for g, e in zip(compiled(x, y), step(x, y)):
            assert np.array_equal(g.numpy(), e.numpy())
    assert compiled.traces == 1
    (entry,), = compiled.programs.values()
    assert entry.kind == "fused" and len(re.findall(r"cascade_sum_float\d\d\(", entry.source)) == 5


def test_the_sum_generated_code_calls_by_symbol_checks_its_layout():
    """The C function generated code calls can't raise: its caller checks the layout first."""
    from tinytape.backend.cpu import exported
    exported.ensure("tinytape_cascade_sum_float32")
    x, out, acc = np.ones(10, np.float32), np.zeros(1, np.float32), np.empty((4, 32), np.float32)
    sizes, ins, outs = (np.array([v], np.int64) for v in (10, 1, 0))
    exported.cascade_sum_float32(x, 0, out, sizes, ins, outs, 8, acc, 0)
    assert out[0] == 10
    with pytest.raises(IndexError, match="sum: the reduction's layout reads past its buffers"):
        exported.cascade_sum_float32(x, 1, out, sizes, ins, outs, 8, acc, 0)
    with pytest.raises(IndexError, match="sum: a layout of mismatched sizes"):
        exported.cascade_sum_float32(x, 0, out, sizes, ins, np.zeros(2, np.int64), 8, acc, 0)
