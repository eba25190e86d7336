"""Large seeded draws: tinytape's PyTorch-equal stream against PyTorch's own (one thread).

    python bench/bench_random.py [--n 4000000] [--rounds 5]

Rounds interleave the two libraries (a burst of load hits both alike); the table gives
the best time per draw in each and the ratio tinytape / PyTorch.  Without PyTorch only
tinytape's times are printed."""
import argparse
import time

import tinytape as tt

try:
    import torch
    torch.set_num_threads(1)
except ImportError:
    torch = None


def cases(lib, n):
    return {
        "randn float32": lambda: lib.randn(n),
        "randn float64": lambda: lib.randn(n, dtype=lib.float64),
        "rand float32": lambda: lib.rand(n),
        "randint": lambda: lib.randint(0, 100, (n,)),
        "randperm (n/4)": lambda: lib.randperm(n // 4),
        "bernoulli_(0.3)": lambda: lib.empty(n).bernoulli_(0.3),
        "exponential_": lambda: lib.empty(n).exponential_(),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=4_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    libs = {"tinytape": cases(tt, args.n)}
    if torch is not None:
        libs["torch"] = cases(torch, args.n)
    best = {(lib, name): float("inf") for lib in libs for name in libs[lib]}
    for fns in libs.values():  # compile / warm up
        for fn in fns.values():
            fn()
    for _ in range(args.rounds):
        for name in libs["tinytape"]:
            for lib, fns in libs.items():
                start = time.perf_counter()
                fns[name]()
                best[lib, name] = min(best[lib, name], time.perf_counter() - start)
    print(f"{args.n:,} samples, best of {args.rounds}")
    for name in libs["tinytape"]:
        line = f"{name:18s} tinytape {best['tinytape', name] * 1e3:8.1f} ms"
        if torch is not None:
            line += f"   torch {best['torch', name] * 1e3:8.1f} ms   ratio {best['tinytape', name] / best['torch', name]:5.2f}"
        print(line)


if __name__ == "__main__":
    main()
