"""The first call of a compiled training step in a fresh process: with an empty kernel
cache (every eager kernel the trace runs and every generated part compiles) and with the
cache that run filled (a new process loads them).

    python bench/bench_cold_compile.py [--repeat 2] [--only rnn,gru]

Steps: ``char-rnn`` (vocab 65, hidden 128, batch 16, 25 time steps, ``log_softmax`` +
``gather`` loss, backprop through time, ``clip_grad_norm_``, SGD) and ``gru`` (same sizes,
``chunk(3)`` gates, ``F.cross_entropy`` per step, ``optim.Adam``), each in
``tinytape.compile`` with nothing run eagerly before.  Each measurement is a subprocess
with ``TINYTAPE_CACHE_DIR`` pointing at a temporary folder (removed first for the empty
runs); the table gives the median over ``--repeat`` runs of the process CPU time of the
import, of the first compiled call (trace, eager kernels' compiles or cache loads, the
kernel-by-kernel replay's check) and of the second call (all threads' CPU time: the fused
code compiles on a thread beside the calls), the two calls' wall-clock time, and the
wall-clock time from the first call until the fused code is compiled, checked and taken
(``wait()``).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

CHILD = r'''
import json, os, sys, time
t0 = time.process_time()
import numpy as np
import tinytape as torch
import tinytape.nn.functional as F
t_import = time.process_time() - t0
V, H, B, T = 65, 128, 16, 25


def rnn():
    torch.manual_seed(0)
    Wxh = (torch.randn(V, H) * 0.01).requires_grad_(); Whh = (torch.randn(H, H) * 0.01).requires_grad_()
    bh = torch.zeros(H, requires_grad=True); Why = (torch.randn(H, V) * 0.01).requires_grad_()
    by = torch.zeros(V, requires_grad=True)
    params = [Wxh, Whh, bh, Why, by]

    def step(xs, ys):
        h = torch.zeros(B, H)
        loss = 0
        for t in range(T):
            h = torch.tanh(Wxh[xs[t]] + h @ Whh + bh)
            logp = F.log_softmax(h @ Why + by, dim=1)
            loss = loss - logp.gather(1, ys[t].view(-1, 1)).sum()
        for p in params:
            p.grad = None
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        with torch.no_grad():
            for p in params:
                p -= 0.1 * p.grad
        return loss
    return step


def gru():
    torch.manual_seed(0)
    Wx = (torch.randn(V, 3 * H) * 0.01).requires_grad_(); Wh = (torch.randn(H, 3 * H) * 0.01).requires_grad_()
    b = torch.zeros(3 * H, requires_grad=True); Wy = (torch.randn(H, V) * 0.01).requires_grad_()
    opt = torch.optim.Adam([Wx, Wh, b, Wy], lr=1e-3)

    def step(xs, ys):
        h = torch.zeros(B, H)
        loss = 0
        for t in range(T):
            rx, zx, nx = (Wx[xs[t]] + b).chunk(3, dim=1)
            rh, zh, nh = (h @ Wh).chunk(3, dim=1)
            r = torch.sigmoid(rx + rh); z = torch.sigmoid(zx + zh)
            n = torch.tanh(nx + r * nh)
            h = (1 - z) * n + z * h
            loss = loss + F.cross_entropy(h @ Wy, ys[t])
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return step


rng = np.random.default_rng(0)
batches = [(torch.tensor(rng.integers(0, V, (T, B))), torch.tensor(rng.integers(0, V, (T, B)))) for _ in range(2)]
f = torch.compile(globals()[sys.argv[1]]())
times, walls = [], []
start = time.perf_counter()
for xs, ys in batches:
    t, w = time.process_time(), time.perf_counter()
    f(xs, ys)
    times.append(time.process_time() - t)
    walls.append(time.perf_counter() - w)
f.wait()  # the fused code, compiled on a thread beside the calls
fused = time.perf_counter() - start
kinds = sorted({e.kind for entries in f.programs.values() for e in entries})
print(json.dumps({"import": t_import, "first": times[0], "second": times[1], "first_wall": walls[0],
                  "second_wall": walls[1], "fused": fused, "kinds": kinds, "eager": f.eager}))
'''


def run(step, cache):
    env = dict(os.environ, TINYTAPE_CACHE_DIR=cache)
    env.pop("NUMBA_CACHE_DIR", None)
    env.pop("TINYTAPE_COMPILE_BACKGROUND", None)
    out = subprocess.run([sys.executable, "-c", CHILD, step], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--only", default="rnn,gru")
    args = parser.parse_args()
    print("| step | cache | import s | first call s | second call s | first, second call wall s | fused code ready, wall s |")
    print("|---|---|---|---|---|---|---|")
    for step in args.only.split(","):
        rows = {"empty": [], "warm": []}
        for _ in range(args.repeat):
            cache = tempfile.mkdtemp(prefix="tinytape-cold-")
            try:
                rows["empty"].append(run(step, cache))
                rows["warm"].append(run(step, cache))
            finally:
                shutil.rmtree(cache, ignore_errors=True)
        for kind, runs in rows.items():
            med = {k: statistics.median(r[k] for r in runs)
                   for k in ("import", "first", "second", "first_wall", "second_wall", "fused")}
            note = "" if runs[0]["eager"] is None else f" (ran eagerly: {runs[0]['eager']})"
            if runs[0]["kinds"] != ["fused"]:
                note += f" (replays: {', '.join(runs[0]['kinds'])})"
            print(f"| {step} | {kind} | {med['import']:.2f} | {med['first']:.2f} | {med['second']:.2f} | "
                  f"{med['first_wall']:.2f}, {med['second_wall']:.2f} | {med['fused']:.2f} |{note}")


if __name__ == "__main__":
    main()
