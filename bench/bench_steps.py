"""Five small training steps, each written once against a ``torch``-like module, timed
under PyTorch eager, jax.jit, tinytape eager and ``tinytape.compile``.

    python bench/bench_steps.py [--rounds 11] [--calls 5] [--only rnn,gru] [--wall]

The steps (float32, one BLAS/OpenMP thread everywhere, set before any import):

1. ``classifier``: 64x784 -> Linear 256 -> ReLU -> Linear 10, ``F.cross_entropy``,
   ``optim.SGD(momentum=0.9)``;
2. ``makemore``: the makemore MLP (embedding C 27x10, block 3, batch 32, hidden 200,
   ``C[X]``, ``tanh``, ``F.cross_entropy``, update ``p.data += -0.1 * p.grad``);
3. ``char-rnn``: a hand-written RNN (vocab 65, hidden 128, batch 16, 25 steps, one-hot
   input, ``log_softmax(...).gather(1, y)`` summed over steps, backprop through time,
   ``clip_grad_norm_`` and an SGD update);
4. ``gru``: a hand-written GRU cell (one fused matmul per input, ``chunk(3, 1)``,
   sigmoid/tanh gates), same sizes, ``F.cross_entropy`` per step, ``optim.SGD``;
5. ``attention``: a causal self-attention block (batch 8, T 32, C 64, 4 heads,
   ``F.layer_norm``, qkv ``Linear``, ``split``, ``masked_fill(-inf)``, softmax, ``@ v``,
   projection, residual, 4x MLP with GELU), ``F.mse_loss``, ``optim.AdamW``.

Every library starts from the same numpy parameters and data, so the first losses agree
(printed as a check).  Implementations run in one process in interleaved rounds (each
round runs every implementation ``--calls`` steps, so a burst of load hits all alike);
the table gives the median over rounds of the process CPU time per step and the medians
of the per-round ratios to PyTorch eager and to jax.jit.  jax's step is
``jax.jit(value_and_grad + update)``, compile time excluded.  ``tinytape.compile``'s
status says whether the step ran compiled or why it ran eagerly (the warning's text).
PyTorch and jax are optional; what is not importable is left out of the table.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

try:
    import tinytape as tt
except ImportError:
    tt = None
try:
    import torch
    torch.set_num_threads(1)
except ImportError:
    torch = None
try:
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_platforms", "cpu")
except ImportError:
    jax = None

CLOCK = time.process_time
VOCAB, HIDDEN, BATCH, STEPS = 65, 128, 16, 25


# ---------------------------------------------------------------- data and parameters
def _rng(seed):
    return np.random.default_rng(seed)


def _param(rng, *shape, scale=None):
    scale = 1.0 / math.sqrt(shape[0]) if scale is None else scale
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def classifier_data():
    r = _rng(0)
    return dict(x=r.standard_normal((64, 784)).astype(np.float32), y=r.integers(0, 10, 64),
                params=[_param(r, 256, 784), np.zeros(256, np.float32), _param(r, 10, 256), np.zeros(10, np.float32)])


def makemore_data():
    r = _rng(1)
    return dict(x=r.integers(0, 27, (32, 3)), y=r.integers(0, 27, 32),
                params=[_param(r, 27, 10, scale=1.0), _param(r, 30, 200, scale=5 / 3 / math.sqrt(30)),
                        np.zeros(200, np.float32), _param(r, 200, 27, scale=0.01), np.zeros(27, np.float32)])


def recurrent_data(gates):
    r = _rng(2 + gates)
    xs = np.zeros((STEPS, BATCH, VOCAB), np.float32)
    idx = r.integers(0, VOCAB, (STEPS + 1, BATCH))
    xs[np.arange(STEPS)[:, None], np.arange(BATCH)[None, :], idx[:-1]] = 1.0  # one-hot input
    return dict(x=xs, y=idx[1:, :, None].astype(np.int64),
                params=[_param(r, VOCAB, gates * HIDDEN), _param(r, HIDDEN, gates * HIDDEN),
                        np.zeros(gates * HIDDEN, np.float32), _param(r, HIDDEN, VOCAB), np.zeros(VOCAB, np.float32)])


def attention_data():
    r = _rng(5)
    C = 64
    return dict(x=r.standard_normal((8, 32, C)).astype(np.float32), y=r.standard_normal((8, 32, C)).astype(np.float32),
                params=[np.ones(C, np.float32), np.zeros(C, np.float32), np.ones(C, np.float32), np.zeros(C, np.float32),
                        _param(r, 3 * C, C), np.zeros(3 * C, np.float32), _param(r, C, C), np.zeros(C, np.float32),
                        _param(r, 4 * C, C), np.zeros(4 * C, np.float32), _param(r, C, 4 * C), np.zeros(C, np.float32)])


# ---------------------------------------------------------------- the steps, once per torch-like lib
def _load(lib, module, arrays):
    with lib.no_grad():
        for p, a in zip(module.parameters(), arrays):
            assert tuple(p.shape) == a.shape, (tuple(p.shape), a.shape)
            p.copy_(lib.tensor(a))


def classifier_step(lib, d):
    nn, F = lib.nn, lib.nn.functional
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    _load(lib, model, d["params"])
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()
    return step, (lib.tensor(d["x"]), lib.tensor(d["y"]))


def makemore_step(lib, d):
    F = lib.nn.functional
    C, W1, b1, W2, b2 = params = [lib.tensor(a, requires_grad=True) for a in d["params"]]

    def step(X, Y):
        emb = C[X]
        h = lib.tanh(emb.view(-1, 30) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Y)
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data += -0.1 * p.grad
        return loss.detach()
    return step, (lib.tensor(d["x"]), lib.tensor(d["y"]))


def rnn_step(lib, d):
    Wxh, Whh, bh, Why, by = params = [lib.tensor(a, requires_grad=True) for a in d["params"]]

    def step(xs, ys):
        h = lib.zeros(BATCH, HIDDEN)
        loss = 0.0
        for t in range(STEPS):
            h = lib.tanh(xs[t] @ Wxh + h @ Whh + bh)
            logp = lib.log_softmax(h @ Why + by, dim=1)
            loss = loss - logp.gather(1, ys[t]).mean()
        loss = loss / STEPS
        loss.backward()
        lib.nn.utils.clip_grad_norm_(params, 5.0)
        with lib.no_grad():
            for p in params:
                p -= 0.1 * p.grad
                p.grad = None
        return loss.detach()
    return step, (lib.tensor(d["x"]), lib.tensor(d["y"]))


def gru_step(lib, d):
    F = lib.nn.functional
    Wx, Wh, b, Why, by = params = [lib.tensor(a, requires_grad=True) for a in d["params"]]
    opt = lib.optim.SGD(params, lr=0.1)

    def step(xs, ys):
        opt.zero_grad()
        h = lib.zeros(BATCH, HIDDEN)
        loss = 0.0
        for t in range(STEPS):
            xr, xz, xn = (xs[t] @ Wx + b).chunk(3, 1)
            hr, hz, hn = (h @ Wh).chunk(3, 1)
            r = lib.sigmoid(xr + hr)
            z = lib.sigmoid(xz + hz)
            n = lib.tanh(xn + r * hn)
            h = (1 - z) * n + z * h
            loss = loss + F.cross_entropy(h @ Why + by, ys[t].view(-1))
        loss = loss / STEPS
        loss.backward()
        opt.step()
        return loss.detach()
    return step, (lib.tensor(d["x"]), lib.tensor(d["y"]))


def attention_step(lib, d):
    nn, F = lib.nn, lib.nn.functional
    B, T, C, H = 8, 32, 64, 4

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            # the layer norms: their parameters here, F.layer_norm in forward
            self.ln1_weight, self.ln1_bias = nn.Parameter(lib.ones(C)), nn.Parameter(lib.zeros(C))
            self.qkv = nn.Linear(C, 3 * C)
            self.proj = nn.Linear(C, C)
            self.ln2_weight, self.ln2_bias = nn.Parameter(lib.ones(C)), nn.Parameter(lib.zeros(C))
            self.fc = nn.Linear(C, 4 * C)
            self.out = nn.Linear(4 * C, C)
            self.register_buffer("mask", lib.tril(lib.ones(T, T)).view(1, 1, T, T))

        def forward(self, x):
            a = F.layer_norm(x, (C,), self.ln1_weight, self.ln1_bias)
            q, k, v = self.qkv(a).split(C, dim=2)
            q = q.view(B, T, H, C // H).transpose(1, 2)
            k = k.view(B, T, H, C // H).transpose(1, 2)
            v = v.view(B, T, H, C // H).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // H))
            att = att.masked_fill(self.mask == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
            x = x + self.proj(y)
            return x + self.out(F.gelu(self.fc(F.layer_norm(x, (C,), self.ln2_weight, self.ln2_bias))))

    model = Block()
    _load(lib, model, d["params"])
    opt = lib.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()
    return step, (lib.tensor(d["x"]), lib.tensor(d["y"]))


# ---------------------------------------------------------------- jax versions
def _jax_sgd(loss_fn, params, lr, momentum=0.0, clip=None):
    bufs = [jnp.zeros_like(p) for p in params] if momentum else None

    def update(params, bufs, *data):
        loss, grads = jax.value_and_grad(loss_fn)(params, *data)
        if clip is not None:
            norm = jnp.sqrt(sum(jnp.sum(g * g) for g in grads))
            grads = [g * jnp.minimum(1.0, clip / (norm + 1e-6)) for g in grads]
        if momentum:
            bufs = [momentum * m + g for m, g in zip(bufs, grads)]
            grads = bufs
        return loss, [p - lr * g for p, g in zip(params, grads)], bufs
    return jax.jit(update), bufs


def _jax_runner(update, params, state, data):
    box = {"params": [jnp.asarray(p) for p in params], "state": state}
    data = [jnp.asarray(a) for a in data]

    def step():
        loss, box["params"], box["state"] = update(box["params"], box["state"], *data)
        loss.block_until_ready()
        return loss
    return step


def _xent(logits, y):
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits, axis=-1), y[:, None], axis=1))


def jax_classifier(d):
    def loss_fn(p, x, y):
        w1, b1, w2, b2 = p
        return _xent(jnp.maximum(x @ w1.T + b1, 0) @ w2.T + b2, y)
    update, bufs = _jax_sgd(loss_fn, d["params"], 0.01, momentum=0.9)
    return _jax_runner(update, d["params"], bufs, (d["x"], d["y"]))


def jax_makemore(d):
    def loss_fn(p, X, Y):
        C, W1, b1, W2, b2 = p
        h = jnp.tanh(C[X].reshape(-1, 30) @ W1 + b1)
        return _xent(h @ W2 + b2, Y)
    update, bufs = _jax_sgd(loss_fn, d["params"], 0.1)
    return _jax_runner(update, d["params"], bufs, (d["x"], d["y"]))


def jax_rnn(d):
    def loss_fn(p, xs, ys):
        Wxh, Whh, bh, Why, by = p
        h, loss = jnp.zeros((BATCH, HIDDEN), jnp.float32), 0.0
        for t in range(STEPS):  # unrolled, as the eager loop
            h = jnp.tanh(xs[t] @ Wxh + h @ Whh + bh)
            logp = jax.nn.log_softmax(h @ Why + by, axis=1)
            loss = loss - jnp.mean(jnp.take_along_axis(logp, ys[t], axis=1))
        return loss / STEPS
    update, bufs = _jax_sgd(loss_fn, d["params"], 0.1, clip=5.0)
    return _jax_runner(update, d["params"], bufs, (d["x"], d["y"]))


def jax_gru(d):
    def loss_fn(p, xs, ys):
        Wx, Wh, b, Why, by = p
        h, loss = jnp.zeros((BATCH, HIDDEN), jnp.float32), 0.0
        for t in range(STEPS):
            xr, xz, xn = jnp.split(xs[t] @ Wx + b, 3, axis=1)
            hr, hz, hn = jnp.split(h @ Wh, 3, axis=1)
            r, z = jax.nn.sigmoid(xr + hr), jax.nn.sigmoid(xz + hz)
            n = jnp.tanh(xn + r * hn)
            h = (1 - z) * n + z * h
            loss = loss + _xent(h @ Why + by, ys[t][:, 0])
        return loss / STEPS
    update, bufs = _jax_sgd(loss_fn, d["params"], 0.1)
    return _jax_runner(update, d["params"], bufs, (d["x"], d["y"]))


def jax_attention(d):
    B, T, C, H = 8, 32, 64, 4
    mask = jnp.tril(jnp.ones((T, T)))[None, None]

    def ln(x, w, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / jnp.sqrt(var + 1e-5) * w + b

    def loss_fn(p, x, y):
        g1, e1, g2, e2, wqkv, bqkv, wp, bp, wf, bf, wo, bo = p
        q, k, v = jnp.split(ln(x, g1, e1) @ wqkv.T + bqkv, 3, axis=2)
        q, k, v = (a.reshape(B, T, H, C // H).transpose(0, 2, 1, 3) for a in (q, k, v))
        att = (q @ k.transpose(0, 1, 3, 2)) * (1.0 / math.sqrt(C // H))
        att = jax.nn.softmax(jnp.where(mask == 0, -jnp.inf, att), axis=-1)
        out = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, C)
        x = x + out @ wp.T + bp
        x = x + jax.nn.gelu(ln(x, g2, e2) @ wf.T + bf, approximate=False) @ wo.T + bo
        return jnp.mean((x - y) ** 2)

    lr, b1, b2, eps, wd = 1e-3, 0.9, 0.999, 1e-8, 0.01

    def update(params, state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        ms, vs, t = state
        t = t + 1
        new_p, new_m, new_v = [], [], []
        for p, g, m, v in zip(params, grads, ms, vs):
            p = p * (1 - lr * wd)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            mhat, vhat = m / (1 - b1 ** t), v / (1 - b2 ** t)
            new_p.append(p - lr * mhat / (jnp.sqrt(vhat) + eps))
            new_m.append(m)
            new_v.append(v)
        return loss, new_p, (new_m, new_v, t)
    zeros = [jnp.zeros_like(jnp.asarray(p)) for p in d["params"]]
    return _jax_runner(jax.jit(update), d["params"], (zeros, list(zeros), jnp.float32(0)), (d["x"], d["y"]))


STEPS_TABLE = {  # name: (data, torch-like step, jax step)
    "classifier": (classifier_data, classifier_step, jax_classifier),
    "makemore": (makemore_data, makemore_step, jax_makemore),
    "char-rnn": (lambda: recurrent_data(1), rnn_step, jax_rnn),
    "gru": (lambda: recurrent_data(3), gru_step, jax_gru),
    "attention": (attention_data, attention_step, jax_attention),
}


# ---------------------------------------------------------------- running and timing
def _bind(fn, args):
    return lambda: fn(*args)


def _first_loss(fn):
    loss = fn()
    return float(loss.item() if hasattr(loss, "item") else loss)


def implementations(name, which):
    """{implementation: (zero-argument step, first loss)}, and notes (missing ops, compile status)."""
    make_data, step_of, jax_of = STEPS_TABLE[name]
    impls, notes = {}, {}
    if torch is not None and "torch" in which:
        fn = _bind(*step_of(torch, make_data()))
        impls["PyTorch eager"] = (fn, _first_loss(fn))
    if jax is not None and "jax" in which:
        fn = jax_of(make_data())
        impls["jax.jit"] = (fn, _first_loss(fn))  # compiles here, outside the timing
    if tt is not None and "tinytape" in which:
        try:
            fn = _bind(*step_of(tt, make_data()))
            impls["tinytape eager"] = (fn, _first_loss(fn))
        except Exception as e:  # an op tinytape lacks: noted in the table
            notes["tinytape eager"] = f"fails: {type(e).__name__}: {e}"[:200]
            return impls, notes
        step, args = step_of(tt, make_data())
        compiled = tt.compile(step)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                first = float(compiled(*args).item())
                for _ in range(3):  # traces (and re-traces once the optimizer state exists)
                    compiled(*args)
                compiled.wait()  # the fused code, compiled on a thread beside the calls
            except Exception as e:
                notes["tinytape compiled"] = f"fails: {type(e).__name__}: {e}"[:200]
                return impls, notes
        why = [str(w.message) for w in caught if "tinytape.compile" in str(w.message)]
        eager = compiled.eager or next(iter(compiled.eager_signatures.values()), None)
        if why or eager or not compiled.programs:
            notes["tinytape compiled"] = "eager fallback: " + (why[0] if why else str(eager))
        else:
            notes["tinytape compiled"] = "compiled"
        impls["tinytape compiled"] = (_bind(compiled, args), first)
    return impls, notes


def interleaved(impls, rounds, calls):
    times = {k: [] for k in impls}
    for fn in impls.values():
        for _ in range(2):
            fn()
    for _ in range(rounds):
        for k, fn in impls.items():
            t0 = CLOCK()
            for _ in range(calls):
                fn()
            times[k].append((CLOCK() - t0) / calls)
    return times


def _ratio(times, k, ref):
    if ref not in times:
        return "-"
    return f"{statistics.median(a / b for a, b in zip(times[k], times[ref])):.2f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--calls", type=int, default=5, help="steps per implementation per round")
    ap.add_argument("--only", default=",".join(STEPS_TABLE), help="comma-separated step names")
    ap.add_argument("--impls", default="torch,jax,tinytape", help="which libraries to run")
    ap.add_argument("--wall", action="store_true", help="wall-clock time instead of process CPU time")
    args = ap.parse_args()
    global CLOCK
    if args.wall:
        CLOCK = time.perf_counter
    versions = [f"python {platform.python_version()}", f"numpy {np.__version__}"]
    for mod, label in ((tt, "tinytape"), (torch, "torch"), (jax, "jax")):
        if mod is not None:
            versions.append(f"{label} {mod.__version__}")
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"{', '.join(versions)}; {cpu}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"one BLAS/OpenMP thread; {args.rounds} interleaved rounds of {args.calls} steps, medians of "
          f"{'wall' if args.wall else 'process CPU'} time per step")
    print("\n| step | implementation | ms/step | vs PyTorch eager | vs jax.jit | first loss | note |")
    print("|---|---|---|---|---|---|---|")
    for name in args.only.split(","):
        impls, notes = implementations(name, args.impls)
        times = interleaved({k: fn for k, (fn, _) in impls.items()}, args.rounds, args.calls)
        order = ["PyTorch eager", "jax.jit", "tinytape eager", "tinytape compiled"]
        for k in order:
            if k in times:
                print(f"| {name} | {k} | {statistics.median(times[k]) * 1e3:.3f} | "
                      f"{_ratio(times, k, 'PyTorch eager')} | {_ratio(times, k, 'jax.jit')} | "
                      f"{impls[k][1]:.5f} | {notes.get(k, '')} |", flush=True)
            elif k in notes:
                print(f"| {name} | {k} | - | - | - | - | {notes[k]} |", flush=True)


if __name__ == "__main__":
    main()
