"""Eager per-op overhead: small-tensor ops and the seed step, against PyTorch eager and numpy.

    python bench/bench_overhead.py [--rounds 21] [--calls 200] [--wall]

Everything runs in one process at one BLAS/OpenMP thread, in interleaved rounds (each
round times every implementation once, so a burst of load hits all of them alike), timed
in CPU time of the process (``--wall`` for wall-clock time).  Tables give the median
time per call over the rounds, the spread (quartiles), and the median over rounds of
the ratio to the reference named in the table.

- per-op: one op on 3-element float32 tensors, where the kernel's work is nothing and
  the time is the op's path (argument checks, recording, tensor creation, dispatch);
  "recorded" ops have an input that requires grad, so a tape entry is made;
- the chain ``(a * b + c).sum()`` forward and backward, per op (4 forward, 5 backward);
- the seed training step eager: N=24, D_in=1000, H=100, D_out=4, float32, forward,
  backward, and the update written out (``w -= lr * w.grad`` under ``no_grad``, then
  ``w.grad.zero_()``), as the seed notebook writes it.
PyTorch is optional (``pip install -e '.[bench]'``); without it the ratios are to numpy.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import tinytape as tt  # noqa: E402
from seed_step import numpy_seed_step, seed_data  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:
    torch = None

CLOCK = time.process_time


def interleaved(impls, reference, rounds, calls):
    """Per implementation: (median seconds per call, (25th, 75th percentile), median of
    the per-round ratios to ``reference``), and the times of each round."""
    times = {name: [] for name in impls}
    for fn in impls.values():  # warm-up: compiles, caches
        for _ in range(5):
            fn()
    for _ in range(rounds):
        for name, fn in impls.items():
            t0 = CLOCK()
            for _ in range(calls):
                fn()
            times[name].append((CLOCK() - t0) / calls)
    return summary(times, reference), times


def summary(times, reference):
    ref = times[reference]
    return {name: (statistics.median(t), tuple(np.percentile(t, (25, 75))),
                   statistics.median(a / b for a, b in zip(t, ref))) for name, t in times.items()}


def table(title, results, reference, scale=1e6, unit="us"):
    print(f"\n| {title} | {unit}/call | quartiles | vs {reference} |")
    print("|---|---|---|---|")
    for name, (t, (lo, hi), ratio) in results.items():
        print(f"| {name} | {t * scale:.1f} | {lo * scale:.1f}-{hi * scale:.1f} | {ratio:.2f} |")


def small_ops(lib, n=3):
    """The per-op cases on ``lib`` (tinytape or torch), 3-element float32 tensors."""
    a, b, c = (lib.ones(n) for _ in range(3))
    ra, rb = lib.ones(n, requires_grad=True), lib.ones(n, requires_grad=True)
    rc = lib.ones(n, requires_grad=True)

    def update():
        with lib.no_grad():
            a.mul_(1.0)

    def chain():
        (ra * rb + rc).sum().backward()
    return {
        "a + b": lambda: a + b,
        "a * b, recorded": lambda: ra * rb,
        "a.sum(), recorded": lambda: ra.sum(),
        "a.clamp(min=0), recorded": lambda: ra.clamp(min=0),
        "a.pow(2), recorded": lambda: ra.pow(2),
        "1e-6 * a": lambda: 1e-6 * a,
        "a.mul_(1.0) under no_grad": update,
        "(a*b + c).sum() fwd+bwd, per op (9)": chain,
    }


def numpy_small(n=3):
    a, b = np.ones(n, np.float32), np.ones(n, np.float32)
    return {"a + b": lambda: a + b, "1e-6 * a": lambda: np.float32(1e-6) * a}


def seed_step_impls(N=24, D_in=1000, H=100, D_out=4, lr=1e-6):
    xs, ys, w1s, w2s = seed_data(N, D_in, H, D_out)
    impls = {"numpy, hand-written": numpy_seed_step(xs, ys, w1s, w2s, lr)}

    for lib in (tt, torch):
        if lib is None:
            continue
        x, y = lib.tensor(xs), lib.tensor(ys)
        w1, w2 = lib.tensor(w1s, requires_grad=True), lib.tensor(w2s, requires_grad=True)

        def step(lib=lib, x=x, y=y, w1=w1, w2=w2):
            y_pred = x.mm(w1).clamp(min=0).mm(w2)
            loss = (y_pred - y).pow(2).sum()
            loss.backward()
            with lib.no_grad():
                w1 -= lr * w1.grad
                w2 -= lr * w2.grad
                w1.grad.zero_()
                w2.grad.zero_()
            return loss
        step()  # .grad exists from here on, as in a training loop
        name = "tinytape eager" if lib is tt else f"PyTorch {torch.__version__.split('+')[0]} eager"
        impls[name] = step
    return impls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--calls", type=int, default=200, help="calls per round for the per-op table")
    ap.add_argument("--wall", action="store_true", help="time wall clock instead of CPU time")
    args = ap.parse_args()
    global CLOCK
    if args.wall:
        CLOCK = time.perf_counter
    print(f"one BLAS/OpenMP thread (OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.rounds} interleaved rounds, medians of "
          f"{'wall' if args.wall else 'process CPU'} time")

    ours, theirs, plain = small_ops(tt), small_ops(torch) if torch else {}, numpy_small()
    print("\nper op, 3-element float32 tensors: tinytape / PyTorch eager / numpy (us per call; "
          "ratio = median of per-round ratios to PyTorch)")
    print("| op | tinytape | PyTorch | numpy | tinytape vs PyTorch |")
    print("|---|---|---|---|---|")
    for name, fn in ours.items():
        impls = {"tinytape": fn}
        if name in theirs:
            impls["torch"] = theirs[name]
        if name in plain:
            impls["numpy"] = plain[name]
        res, _ = interleaved(impls, "torch" if "torch" in impls else "tinytape", args.rounds, args.calls)
        per = 9 if "per op" in name else 1
        cell = {k: f"{res[k][0] * 1e6 / per:.2f}" if k in res else "-" for k in ("tinytape", "torch", "numpy")}
        ratio = f"{res['tinytape'][2]:.2f}" if "torch" in res else "-"
        print(f"| {name} | {cell['tinytape']} | {cell['torch']} | {cell['numpy']} | {ratio} |")

    step_impls = seed_step_impls()
    reference = next((n for n in step_impls if n.startswith("PyTorch")), "numpy, hand-written")
    results, times = interleaved(step_impls, reference, args.rounds, 20)
    table("seed step eager (24x1000x100x4, float32)", results, reference)
    print("\nvs numpy (median of per-round ratios): " + ", ".join(
        f"{name} {ratio:.2f}" for name, (_, _, ratio) in summary(times, "numpy, hand-written").items()))


if __name__ == "__main__":
    main()
