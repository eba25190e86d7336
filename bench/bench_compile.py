"""Compiled tinytape against eager tinytape, hand-written numpy, PyTorch eager and jax.jit.

    python bench/bench_compile.py [--rounds 31] [--chain-n 10000000] [--skip-chain]

Everything runs at one BLAS/OpenMP thread, in one process, in interleaved rounds (each
round times every implementation once, so a burst of load hits all of them), timed in
CPU time of the process (``--wall`` for wall-clock time); the table
gives the median time per call over the rounds and the median over rounds of its ratio
to hand-written numpy.
PyTorch and jax are optional (``pip install -e '.[bench]'``).  Two workloads:

- the seed training step: N=24, D_in=1000, H=100, D_out=4, float32, forward, backward,
  SGD update (``opt.step(); opt.zero_grad()`` in tinytape, the update inside ``jax.jit``);
- the chain ``((a*b + 1).relu()*a - b.sigmoid()).pow(2).mean()`` on 10 M float32
  elements, forward + gradients of a and b.

Then the first call of the compiled seed step in a fresh process (empty and warm cache
of generated code), and the Python heap over 10 000 compiled steps (tracemalloc).
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS"):
    os.environ.setdefault(_var, "1" if _var != "XLA_FLAGS" else
                          "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
# the fused code compiled within the trace: the timed calls all run it, and the first-call
# measurement is trace + generate + compile (bench_cold_compile.py times the thread)
os.environ.setdefault("TINYTAPE_COMPILE_BACKGROUND", "0")

import argparse  # noqa: E402
import gc  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

import tinytape as tt  # noqa: E402
from seed_step import numpy_seed_step, seed_data  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:
    torch = None
try:
    import jax
    import jax.numpy as jnp
except ImportError:
    jax = None


# CPU time of this process (all its threads): on a machine shared with other jobs, wall
# time mostly measures their load; with one thread per implementation CPU time is the work
CLOCK = time.process_time


def interleaved(impls, rounds, calls):
    """Per implementation: (median seconds per call, median of the per-round ratios to
    hand-written numpy).  Rounds are short and many, so load bursts on a shared machine
    hit every implementation alike; the ratio of each round is the robust number."""
    times = {name: [] for name in impls}
    for fn in impls.values():  # warm-up: traces, compiles, caches
        for _ in range(3):
            fn()
    for _ in range(rounds):
        for name, fn in impls.items():
            t0 = CLOCK()
            for _ in range(calls):
                fn()
            times[name].append((CLOCK() - t0) / calls)
    ref = times["numpy, hand-written"]
    return {name: (statistics.median(t), statistics.median(a / b for a, b in zip(t, ref)))
            for name, t in times.items()}


def seed_step_impls(N=24, D_in=1000, H=100, D_out=4, lr=1e-6):
    xs, ys, w1s, w2s = seed_data(N, D_in, H, D_out)
    impls = {"numpy, hand-written": numpy_seed_step(xs, ys, w1s, w2s, lr)}

    def tinytape_step(compiled):
        x, y = tt.tensor(xs), tt.tensor(ys)
        w1, w2 = tt.tensor(w1s, requires_grad=True), tt.tensor(w2s, requires_grad=True)
        opt = tt.optim.SGD([w1, w2], lr=lr)

        def step(x, y):
            loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss
        step = tt.compile(step) if compiled else step
        return lambda: step(x, y)
    impls["tinytape eager"] = tinytape_step(False)
    impls["tinytape compiled"] = tinytape_step(True)

    if torch is not None:
        x, y = torch.tensor(xs), torch.tensor(ys)
        w1, w2 = torch.tensor(w1s, requires_grad=True), torch.tensor(w2s, requires_grad=True)
        opt = torch.optim.SGD([w1, w2], lr=lr)

        def torch_step():
            loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss
        impls[f"PyTorch {torch.__version__.split('+')[0]} eager"] = torch_step

    if jax is not None:
        def loss_fn(params, x, y):
            w1, w2 = params
            return jnp.sum((jnp.maximum(x @ w1, 0) @ w2 - y) ** 2)

        @jax.jit
        def jax_step(params, x, y):
            loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
            return [p - lr * g for p, g in zip(params, grads)], loss
        state = {"params": [jnp.asarray(w1s), jnp.asarray(w2s)]}
        jx, jy = jnp.asarray(xs), jnp.asarray(ys)

        def jax_call():
            state["params"], loss = jax_step(state["params"], jx, jy)
            loss.block_until_ready()
            return loss
        impls[f"jax {jax.__version__} jit"] = jax_call
    return impls


def chain_impls(n):
    rng = np.random.default_rng(1)
    a_np, b_np = rng.standard_normal(n, np.float32), rng.standard_normal(n, np.float32)
    impls = {}

    def numpy_chain():
        u = a_np * b_np + 1
        r = np.maximum(u, 0)
        s = 1 / (1 + np.exp(-b_np))
        d = r * a_np - s
        loss = np.mean(np.square(d))
        g = (2 / n) * d
        du = g * a_np * (u > 0)
        return loss, g * r + du * b_np, du * a_np - g * s * (1 - s)
    impls["numpy, hand-written"] = numpy_chain

    def chain(a, b):
        loss = ((a * b + 1).relu() * a - b.sigmoid()).pow(2).mean()
        return (loss,) + tt.autograd.grad(loss, (a, b))
    a, b = tt.tensor(a_np, requires_grad=True), tt.tensor(b_np, requires_grad=True)
    compiled = tt.compile(chain)
    impls["tinytape eager"] = lambda: chain(a, b)
    impls["tinytape compiled"] = lambda: compiled(a, b)

    if torch is not None:
        ta, tb = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)

        def torch_chain():
            loss = ((ta * tb + 1).relu() * ta - tb.sigmoid()).pow(2).mean()
            return (loss,) + torch.autograd.grad(loss, (ta, tb))
        impls[f"PyTorch {torch.__version__.split('+')[0]} eager"] = torch_chain

    if jax is not None:
        def f(a, b):
            return jnp.mean((jnp.maximum(a * b + 1, 0) * a - jax.nn.sigmoid(b)) ** 2)
        vg = jax.jit(jax.value_and_grad(f, argnums=(0, 1)))
        ja, jb = jnp.asarray(a_np), jnp.asarray(b_np)

        def jax_chain():
            loss, grads = vg(ja, jb)
            jax.block_until_ready(grads)
            return loss
        impls[f"jax {jax.__version__} jit"] = jax_chain
    return impls


def table(title, results, unit, scale):
    print(f"\n| {title} | {unit} | vs numpy |")
    print("|---|---|---|")
    for name, (t, ratio) in results.items():
        print(f"| {name} | {t * scale:.0f} | {ratio:.2f} |")


FIRST_CALL = """
import time, numpy as np, tinytape as tt
rng = np.random.default_rng(0)
x, y = tt.tensor(rng.standard_normal((24, 1000), np.float32)), tt.tensor(rng.standard_normal((24, 4), np.float32))
w1 = tt.tensor(rng.standard_normal((1000, 100), np.float32), requires_grad=True)
w2 = tt.tensor(rng.standard_normal((100, 4), np.float32), requires_grad=True)
opt = tt.optim.SGD([w1, w2], lr=1e-6)
def step(x, y):
    loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
    loss.backward(); opt.step(); opt.zero_grad()
    return loss
step(x, y)  # the eager kernels load (their own cache)
compiled = tt.compile(step)
t0 = time.perf_counter(); compiled(x, y); t1 = time.perf_counter(); compiled(x, y); t2 = time.perf_counter()
print(f"{t2 - t0:.3f}")  # trace + generate + compile (or load) + first replay
"""


def first_call():
    from tinytape.backend.cpu._cache import cache_root
    shutil.rmtree(os.path.join(cache_root(), "compiled"), ignore_errors=True)
    out = []
    for _ in ("empty", "warm"):
        proc = subprocess.run([sys.executable, "-c", FIRST_CALL], capture_output=True, text=True, check=True)
        out.append(float(proc.stdout.split()[-1]))
    return out


def replay_heap(steps=10_000):
    impls = seed_step_impls()
    step = impls["tinytape compiled"]
    for _ in range(100):
        step()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    marks = []
    for i in range(steps):
        step()
        if (i + 1) % (steps // 4) == 0:
            gc.collect()
            marks.append(tracemalloc.get_traced_memory()[0] - base)
    tracemalloc.stop()
    return marks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=31)
    ap.add_argument("--chain-n", type=int, default=10_000_000)
    ap.add_argument("--skip-chain", action="store_true")
    ap.add_argument("--wall", action="store_true", help="time wall clock instead of CPU time")
    args = ap.parse_args()
    global CLOCK
    if args.wall:
        CLOCK = time.perf_counter
    print(f"one thread; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"{args.rounds} interleaved rounds, medians of {'wall' if args.wall else 'process CPU'} time")
    table("seed step (24x1000x100x4, float32)", interleaved(seed_step_impls(), args.rounds, 40),
          "us/step", 1e6)
    if not args.skip_chain:
        table(f"chain on {args.chain_n:,} elements, forward + backward",
              interleaved(chain_impls(args.chain_n), max(5, args.rounds // 4), 1), "ms/call", 1e3)
    empty, warm = first_call()
    print(f"\nfirst two calls of the compiled seed step in a new process: {empty:.2f} s with an "
          f"empty cache of generated code, {warm:.2f} s warm")
    marks = replay_heap()
    print("Python heap growth over 10 000 compiled steps (bytes at each quarter): "
          + ", ".join(str(m) for m in marks))


if __name__ == "__main__":
    main()
