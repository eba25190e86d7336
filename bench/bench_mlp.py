"""The seed MLP training step (x.mm(w1).clamp(min=0).mm(w2), squared-error sum, backward,
SGD update) timed for tinytape, hand-written numpy, and PyTorch eager when installed.

    python bench/bench_mlp.py [--steps 500] [--H 100]
    python bench/bench_mlp.py --wide --device cuda     # the wide MLP, on a GPU

Prints microseconds per step and the ratio of each to tinytape's (same run, same data).
``--wide`` is N=256, D_in=4096, H=4096, D_out=256.  On ``--device cuda`` the references
are PyTorch on the GPU (when it has CUDA); numpy stays on the CPU.
"""
import argparse
import time

import numpy as np

import tinytape as tt
from seed_step import numpy_seed_step


def bench(step, steps, warmup=20):
    for _ in range(warmup):
        step()
    best = float("inf")
    for _ in range(5):  # best of 5 rounds: the least disturbed by other load
        t0 = time.perf_counter()
        for _ in range(steps // 5):
            step()
        best = min(best, (time.perf_counter() - t0) / (steps // 5))
    return best * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--N", type=int, default=24)
    ap.add_argument("--D_in", type=int, default=1000)
    ap.add_argument("--H", type=int, default=100)
    ap.add_argument("--D_out", type=int, default=4)
    ap.add_argument("--wide", action="store_true", help="N=256 D_in=4096 H=4096 D_out=256")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    if args.wide:
        args.N, args.D_in, args.H, args.D_out = 256, 4096, 4096, 256
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((args.N, args.D_in), dtype=np.float32)
    ys = rng.standard_normal((args.N, args.D_out), dtype=np.float32)
    w1s = rng.standard_normal((args.D_in, args.H), dtype=np.float32)
    w2s = rng.standard_normal((args.H, args.D_out), dtype=np.float32)
    lr = 1e-6

    dev = args.device
    x, y = tt.tensor(xs, device=dev), tt.tensor(ys, device=dev)
    w1, w2 = tt.tensor(w1s, device=dev, requires_grad=True), tt.tensor(w2s, device=dev, requires_grad=True)

    def tinytape_step():
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss.backward()
        loss.item()  # waits for the device, as a training loop that logs does
        with tt.no_grad():
            w1.sub_(lr * w1.grad)
            w2.sub_(lr * w2.grad)
        w1.grad = None
        w2.grad = None

    numpy_step = numpy_seed_step(xs, ys, w1s, w2s, lr)

    results = {"tinytape": bench(tinytape_step, args.steps), "numpy (hand-written)": bench(numpy_step, args.steps)}
    try:
        import torch
        if dev != "cpu" and not torch.cuda.is_available():
            raise ImportError("PyTorch has no CUDA here")
        tx, ty = torch.tensor(xs, device=dev), torch.tensor(ys, device=dev)
        tw1 = torch.tensor(w1s, device=dev, requires_grad=True)
        tw2 = torch.tensor(w2s, device=dev, requires_grad=True)

        def torch_step():
            loss = (tx.mm(tw1).clamp(min=0).mm(tw2) - ty).pow(2).sum()
            loss.backward()
            loss.item()
            with torch.no_grad():
                tw1.sub_(lr * tw1.grad)
                tw2.sub_(lr * tw2.grad)
            tw1.grad = None
            tw2.grad = None

        results[f"pytorch {torch.__version__} eager"] = bench(torch_step, args.steps)
    except ImportError as e:
        print(f"(no PyTorch reference: {e})")
    base = results["tinytape"]
    print(f"MLP step on {dev}, N={args.N} D_in={args.D_in} H={args.H} D_out={args.D_out}")
    for name, us in results.items():
        print(f"  {name:32s} {us:9.1f} us/step   x{us / base:5.2f} of tinytape")


if __name__ == "__main__":
    main()
