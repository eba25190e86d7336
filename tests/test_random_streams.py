"""Seeded random numbers equal PyTorch's CPU generator's, bit for bit.

Each test runs one program of draws under both libraries and compares every tensor it
made exactly (values and dtype).  Sizes straddle the thresholds where PyTorch changes
algorithm (normal: 16 elements; the scalar Box-Muller caches its second sample across
calls), and several programs draw in sequence so that each op's consumption of the stream
is checked too."""
import math

import numpy as np
import pytest

import tinytape as tt
from pytorch_answers import pytorch

SEEDS = [0, 42, 2147483647]
FLOATS = ["float32", "float64", "float16", "bfloat16"]
SIZES = [1, 2, 3, 15, 16, 17, 31, 32, 33, 100, 1023]


def same(ours, theirs):
    """Every tensor equal, bit for bit (NaNs where PyTorch has them), of the same dtype."""
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if not hasattr(b, "dtype"):
            assert a == b, f"item {i}: {a!r} != {b!r}"
            continue
        assert str(a.dtype).replace("torch.", "").replace("tinytape.", "") == b.dtype, f"item {i}: dtype"
        x = np.asarray(a.detach().cpu().float().numpy() if b.dtype == "bfloat16" else a.detach().cpu().numpy())
        y = np.asarray(b.numpy())
        assert x.shape == y.shape, f"item {i}: shape {x.shape} != {y.shape}"
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), \
            f"item {i}: {np.sum(x != y)} of {x.size} differ; first at {np.argwhere(x != y)[:3].tolist()}"


def both(fn, *args):
    same(fn(tt, *args), pytorch(fn, *args))


def _single_thread(lib):
    if hasattr(lib, "set_num_threads"):
        lib.set_num_threads(1)


# ------------------------------------------------------------------- randn / rand


def _randn(lib, seed, dtype):
    _single_thread(lib)
    dt = getattr(lib, dtype)
    lib.manual_seed(seed)
    out = [lib.randn(n, dtype=dt) for n in SIZES]  # odd sizes leave a cached sample behind
    out.append(lib.randn(4, 5, dtype=dt))
    g = lib.Generator().manual_seed(seed + 1)
    out += [lib.randn(n, dtype=dt, generator=g) for n in (3, 16, 5)]
    return out


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("seed", SEEDS)
def test_randn(seed, dtype):
    both(_randn, seed, dtype)


def _rand(lib, seed, dtype):
    dt = getattr(lib, dtype)
    lib.manual_seed(seed)
    out = [lib.rand(n, dtype=dt) for n in SIZES]
    out += [lib.empty(n, dtype=dt).uniform_(-0.3, 0.7) for n in (5, 40)]
    out += [lib.empty(7, dtype=dt).uniform_(2.5, 1000.0), lib.randn(5, dtype=dt)]
    return out


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("seed", SEEDS)
def test_rand_and_uniform(seed, dtype):
    both(_rand, seed, dtype)


def _normal(lib, seed):
    lib.manual_seed(seed)
    out = []
    for dtype in (lib.float32, lib.float64):
        out += [lib.empty(n, dtype=dtype).normal_(0.3, 2.5) for n in (1, 5, 16, 40)]
        out.append(lib.normal(1.5, 0.25, size=(3, 7), dtype=dtype))
        out.append(lib.normal(-2.0, 3.0, size=(5,), dtype=dtype))
    for dtype in (lib.float16, lib.bfloat16):
        out += [lib.empty(n, dtype=dtype).normal_(0.3, 2.5) for n in (5, 16, 40)]
    mean = lib.arange(6, dtype=lib.float32)
    std = lib.linspace(0.5, 2.0, 6)
    out += [lib.normal(mean, std), lib.normal(mean, 2.0), lib.normal(1.0, std)]
    out.append(lib.normal(lib.zeros(20, dtype=lib.float64), lib.ones(20, dtype=lib.float64)))
    # not contiguous: the scalar path, walked in memory order
    out.append(lib.empty(4, 6).t().normal_())
    out.append(lib.empty(3, 8)[:, ::2].normal_())
    out.append(lib.randn(3))
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_normal_forms(seed):
    both(_normal, seed)


def _like(lib, seed):
    lib.manual_seed(seed)
    x = lib.zeros(3, 20)
    d = lib.zeros(5, dtype=lib.float64)
    i = lib.zeros(6, dtype=lib.int32)
    return [lib.rand_like(x), lib.randn_like(x), lib.randn_like(d), lib.rand_like(d),
            lib.randint_like(i, 10), lib.randint_like(x, 3, 9), lib.randint_like(d, 100)]


@pytest.mark.parametrize("seed", SEEDS)
def test_like_forms(seed):
    both(_like, seed)


# ------------------------------------------------------------------- integers


def _randint(lib, seed):
    lib.manual_seed(seed)
    out = [lib.randint(0, 10, (20,)), lib.randint(-5, 5, (3, 4)), lib.randint(100, (7,)),
           lib.randint(0, 2 ** 33, (9,)), lib.randint(-2 ** 40, 2 ** 40, (4,)),
           lib.randint(0, 2 ** 32, (3,)), lib.randint(0, 2 ** 32 - 1, (3,))]
    for dtype in ("int32", "int16", "int8", "uint8", "float32", "float64", "float16", "bfloat16"):
        out.append(lib.randint(0, 100, (6,), dtype=getattr(lib, dtype)))
    out.append(lib.randint(0, 2 ** 33, (5,), dtype=lib.float64))
    out.append(lib.randint(0, 2, (8,), dtype=lib.bool))
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_randint(seed):
    both(_randint, seed)


def _random_(lib, seed):
    lib.manual_seed(seed)
    out = []
    for dtype in ("int64", "int32", "int16", "int8", "uint8", "bool", "float32", "float64", "float16",
                  "bfloat16"):
        out.append(lib.empty(6, dtype=getattr(lib, dtype)).random_())
    out += [lib.empty(5, dtype=lib.int64).random_(7), lib.empty(5).random_(3, 9),
            lib.empty(5, dtype=lib.int64).random_(-3, 2 ** 35), lib.empty(4, dtype=lib.float64).random_(10)]
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_random_(seed):
    both(_random_, seed)


def _randperm(lib, seed):
    lib.manual_seed(seed)
    out = [lib.randperm(n) for n in (0, 1, 2, 3, 10, 100, 1000)]
    out += [lib.randperm(20, dtype=lib.int32), lib.randperm(12, dtype=lib.float32)]
    g = lib.Generator().manual_seed(seed)
    out += [lib.randperm(30, generator=g), lib.rand(2)]
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_randperm(seed):
    both(_randperm, seed)


def _randperm_large(lib):
    lib.manual_seed(3)
    n = 2 ** 32 // 20 + 7  # past the switch to 64-bit draws and the inside-out shuffle
    p = lib.randperm(n, dtype=lib.int32)
    head, tail = p[:50], p[-50:]
    return [head.clone(), tail.clone(), lib.rand(3)]


@pytest.mark.slow
def test_randperm_large_n():
    both(_randperm_large)


# ------------------------------------------------------------------- exponential, bernoulli


def _exponential(lib, seed):
    lib.manual_seed(seed)
    out = []
    for dtype in FLOATS:
        dt = getattr(lib, dtype)
        out += [lib.empty(n, dtype=dt).exponential_() for n in (3, 40)]
        out.append(lib.empty(5, dtype=dt).exponential_(2.5))
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_exponential_(seed):
    both(_exponential, seed)


def _bernoulli(lib, seed):
    lib.manual_seed(seed)
    out = []
    for dtype in ("float32", "float64", "float16", "bfloat16", "int64", "bool"):
        out.append(lib.empty(30, dtype=getattr(lib, dtype)).bernoulli_(0.3))
    out.append(lib.empty(2000).bernoulli_(0.7))
    for dtype in ("float32", "float64", "float16", "bfloat16"):
        p = lib.linspace(0, 1, 25).to(getattr(lib, dtype))
        out += [lib.bernoulli(p), lib.bernoulli(p.reshape(5, 5))]
    out.append(lib.bernoulli(lib.full((4,), 0.5), 0.9))
    out.append(lib.empty(3, 4).bernoulli_(lib.tensor([0.1, 0.5, 0.9, 1.0])))
    out.append(lib.empty(6, dtype=lib.float64).bernoulli_(lib.full((6,), 0.5, dtype=lib.float64)))
    g = lib.Generator().manual_seed(seed)
    out += [lib.empty(10).bernoulli_(0.5, generator=g), lib.bernoulli(lib.full((10,), 0.5), generator=g)]
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_bernoulli(seed):
    both(_bernoulli, seed)


# ------------------------------------------------------------------- multinomial


def _multinomial(lib, seed):
    lib.manual_seed(seed)
    w = lib.tensor([0.1, 0.0, 2.0, 0.5, 1.0, 0.3, 0.0, 4.0])
    w2 = lib.rand(3, 27) + 0.01
    g = lib.Generator().manual_seed(seed)
    return [lib.multinomial(w, 1), lib.multinomial(w, 1, replacement=True), lib.multinomial(w, 4),
            lib.multinomial(w, 10, replacement=True), lib.multinomial(w2, 1), lib.multinomial(w2, 5),
            lib.multinomial(w2, 30, replacement=True), lib.multinomial(w.double(), 3),
            lib.multinomial(w.double(), 6, replacement=True), w.multinomial(2, generator=g),
            lib.multinomial(w2, 2, True, generator=g), lib.rand(2)]


@pytest.mark.parametrize("seed", SEEDS)
def test_multinomial(seed):
    both(_multinomial, seed)


def _makemore(lib):
    """makemore's bigram sampler: a count table made into rows of probabilities, sampled one
    character at a time from a generator of its own."""
    g = lib.Generator().manual_seed(2147483647)
    N = lib.randint(0, 50, (27, 27), generator=g).float() + 1
    P = N / N.sum(1, keepdim=True)
    names, ix = [], 0
    for _ in range(5):
        out = []
        while True:
            ix = lib.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
            out.append(ix)
            if ix == 0 or len(out) > 30:
                break
        names.append(out)
    W = lib.randn((27, 27), generator=g)
    return [lib.tensor([i for n in names for i in n]), W, lib.rand(3, generator=g)]


def test_makemore_sampling():
    both(_makemore)


# ------------------------------------------------------------------- dropout


def _dropout(lib, seed):
    lib.manual_seed(seed)
    F = lib.nn.functional
    x = lib.arange(1, 41, dtype=lib.float32).reshape(5, 8)
    xd = x.double()
    drop = lib.nn.Dropout(0.5)
    out = [F.dropout(x, 0.3), F.dropout(xd, 0.3), F.dropout(x, 0.1, training=False), drop(x),
           F.dropout(x.half(), 0.25), F.dropout(x, 0.0), F.dropout(x, 1.0)]
    y = x.clone()
    F.dropout(y, 0.2, inplace=True)
    out += [y, lib.rand(3)]
    drop.eval()
    out.append(drop(x))
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_dropout(seed):
    both(_dropout, seed)


def _dropout_grad(lib):
    lib.manual_seed(1)
    x = lib.tensor([-1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0], requires_grad=True)
    y = lib.nn.functional.dropout(x, 0.4)
    (y * y).sum().backward()
    return [y.detach(), x.grad]


def test_dropout_gradient():
    both(_dropout_grad)


# ------------------------------------------------------------------- generator state


def _state(lib, seed):
    lib.manual_seed(seed)
    first = lib.get_rng_state()
    lib.randn(3)  # leaves a cached sample
    cached = lib.get_rng_state()
    a = lib.randn(5)
    lib.set_rng_state(cached)
    b = lib.randn(5)
    g = lib.Generator().manual_seed(seed)
    g.set_state(cached)
    c = lib.randn(5, generator=g)
    lib.rand(700)  # past a twist
    later = lib.get_rng_state()
    lib.manual_seed(seed)
    lib.empty(624, dtype=lib.int32).random_()  # every word of the state read: the next draw twists
    edge = lib.get_rng_state()
    lib.set_rng_state(edge)
    return [first, cached, a, b, c, later, edge, lib.rand(3), lib.initial_seed(), g.initial_seed()]


@pytest.mark.parametrize("seed", SEEDS)
def test_generator_state(seed):
    both(_state, seed)


def _seeds(lib):
    out = []
    for seed in (-1, -2 ** 63, 2 ** 64 - 1, 2 ** 32 + 5, 5, True):
        lib.manual_seed(seed)
        out += [lib.initial_seed(), lib.rand(2)]
    out.append(lib.Generator().initial_seed())
    out.append(lib.randn(3, generator=lib.Generator()))
    return out


def test_seed_values():
    both(_seeds)


def test_seed_draws_from_the_seed_it_returns():
    s = tt.seed()
    assert tt.initial_seed() == s
    a = tt.rand(4)
    tt.manual_seed(s)
    assert tt.rand(4).tolist() == a.tolist()


def _dtype_errors(lib):
    out = []
    for fn in (lambda: lib.rand(3, dtype=lib.int64), lambda: lib.randn(3, dtype=lib.int32),
               lambda: lib.empty(3, dtype=lib.int64).exponential_(), lambda: lib.empty(3).normal_(0, -1.0),
               lambda: lib.randint(5, 5, (2,)), lambda: lib.multinomial(lib.tensor([0.0, 0.0]), 1)):
        try:
            fn()
            out.append("no error")
        except Exception as e:  # noqa: BLE001  (the type and message are compared)
            out.append((type(e).__name__, str(e).splitlines()[0]))
    return out


def test_errors_match():
    """The same error types; PyTorch's message within ours (ours may name the op first)."""
    ours, theirs = _dtype_errors(tt), pytorch(_dtype_errors)
    for (kind, message), (their_kind, their_message) in zip(ours, theirs):
        assert kind == their_kind and their_message in message, (message, their_message)


def test_state_errors():
    with pytest.raises(RuntimeError, match="5056"):
        tt.set_rng_state(tt.zeros(10, dtype=tt.uint8))
    with pytest.raises(TypeError, match="ByteTensor"):
        tt.set_rng_state(tt.zeros(5056))
    with pytest.raises(ValueError):
        tt.manual_seed(2 ** 64)


# ------------------------------------------------------------------- nn.init and nn.Linear


def _init(lib, seed):
    lib.manual_seed(seed)
    init = lib.nn.init
    out = []
    for shape in ((4, 3), (20, 10), (3, 2, 5, 5)):
        for fn in (lambda t: init.uniform_(t, -0.5, 2.0), lambda t: init.normal_(t, 0.1, 0.02),
                   init.kaiming_uniform_, init.kaiming_normal_, init.xavier_uniform_, init.xavier_normal_,
                   lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)),
                   lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")):
            out.append(fn(lib.empty(*shape)))
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_nn_init(seed):
    both(_init, seed)


def _trunc_normal(lib, seed):
    lib.manual_seed(seed)
    init = lib.nn.init
    return [init.trunc_normal_(lib.empty(40), std=0.02), init.trunc_normal_(lib.empty(6, 5), 0.5, 1.0, -1.0, 1.5),
            init.trunc_normal_(lib.empty(30, dtype=lib.float64)),
            init.trunc_normal_(lib.empty(50), 0.0, 1.0, 2.0, 3.0),  # uniform proposals (p < 0.3)
            init.trunc_normal_(lib.empty(8, dtype=lib.float64), 1.0, 2.0, -4.0, -2.0), lib.rand(3)]


@pytest.mark.parametrize("seed", SEEDS)
def test_trunc_normal(seed):
    both(_trunc_normal, seed)


def _linear(lib, seed):
    lib.manual_seed(seed)
    nn = lib.nn
    layers = [nn.Linear(5, 3), nn.Linear(100, 50), nn.Linear(7, 2, bias=False), nn.Embedding(10, 4),
              nn.LSTM(3, 5), nn.GRU(4, 3, num_layers=2), nn.RNN(2, 3, bidirectional=True),
              nn.MultiheadAttention(8, 2)]
    out = [t.detach() for layer in layers for t in layer.parameters()]
    out.append(nn.init.sparse_(lib.empty(10, 6), 0.3, std=0.5))
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_linear_default_init(seed):
    both(_linear, seed)


def _orthogonal(lib):
    lib.manual_seed(4)
    return [lib.nn.init.orthogonal_(lib.empty(4, 6)), lib.nn.init.orthogonal_(lib.empty(5, 3), gain=2.0),
            lib.rand(3)]


def test_orthogonal_draws_the_same_matrix():
    """The same normal draws; the QR factorisation (LAPACK) agrees to rounding."""
    ours, theirs = _orthogonal(tt), pytorch(_orthogonal)
    for a, b in zip(ours[:2], theirs[:2]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    same(ours[2:], theirs[2:])


# ------------------------------------------------------------------- speed


def test_large_draws_are_fast():
    import time
    tt.manual_seed(0)
    tt.randn(100)  # compiled
    start = time.perf_counter()
    x = tt.randn(2_000_000)
    y = tt.rand(2_000_000)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"4M samples took {elapsed:.2f}s"  # about 0.15 s here
    assert abs(x.mean().item()) < 0.01 and abs(y.mean().item() - 0.5) < 0.01


@pytest.mark.gpu
def test_cuda_tensors_take_the_cpu_stream():
    """Draws for device='cuda' come from the CPU stream and are copied over."""
    out = []
    for device in ("cpu", "cuda"):
        tt.manual_seed(5)
        x = tt.randn(20, device=device)
        y = tt.empty(3, 4, device=device).uniform_(-1, 1)
        z = tt.nn.functional.dropout(tt.ones(8, device=device), 0.5)
        w = tt.multinomial(tt.tensor([0.2, 0.3, 0.5], device=device), 2)
        out.append([t.cpu().tolist() for t in (x, y, z, w)] + [str(x.device.type)])
    assert out[0][:4] == out[1][:4] and out[1][4] == "cuda"
