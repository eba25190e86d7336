"""One BLAS thread against all of them, per product size: where threading pays.

    python bench/bench_blas_threads.py [--rounds 15]

The CPU products (``tinytape/backend/cpu/linalg.py``) call the OpenBLAS bundled with
numpy (its ``cblas_?gemm``, from njit).  This times each product's kernel in wall-clock time (a
second thread is meant to shorten it), in interleaved rounds: each round runs it on one
thread, then on the library's own count (``OPENBLAS_NUM_THREADS`` or the core count), so
load from other jobs hits both alike.  Reported: medians, and the median and quartiles
of the per-round ratio all/one (below 1: threads pay).  It also checks whether the two
settings give the same bits.  Run it without ``OPENBLAS_NUM_THREADS=1``.
"""
import argparse
import os
import statistics
import time

import numpy as np

from tinytape.backend.cpu import linalg

SHAPES = [(24, 1000, 100), (1000, 24, 100), (24, 100, 4), (100, 100, 100), (64, 1000, 100),
          (128, 256, 256), (256, 256, 256), (128, 1000, 100), (24, 1000, 1000), (512, 512, 512)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    linalg.set_small_product_flops(1)  # loads the library, reads its own thread count
    most = linalg._threads.most
    print(f"numpy's OpenBLAS: {most} threads by default; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores; {args.rounds} interleaved rounds, wall-clock medians")
    print(f"\n| m x k x n (float32) | MFLOP | 1 thread, us | {most} threads, us | ratio {most}/1 (quartiles) "
          "| same bits |")
    print("|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for m, k, n in SHAPES:
        a, b = rng.standard_normal((m, k), np.float32), rng.standard_normal((k, n), np.float32)
        out = np.empty((m, n), np.float32)
        flops = 2 * m * k * n
        reps = max(3, int(2e8 / flops))
        times, results = {1: [], most: []}, {}
        for threads in times:  # warm-up, and the bits each setting gives
            linalg.set_small_product_flops(flops + 1 if threads == 1 else 1)
            linalg.matmul(a, b, out, False, False)
            results[threads] = out.copy()
        for _ in range(args.rounds):
            for threads in times:
                linalg.set_small_product_flops(flops + 1 if threads == 1 else 1)
                t0 = time.perf_counter()
                for _ in range(reps):
                    linalg.matmul(a, b, out, False, False)
                times[threads].append((time.perf_counter() - t0) / reps * 1e6)
        ratios = [x / y for x, y in zip(times[most], times[1])]
        lo, hi = np.percentile(ratios, (25, 75))
        print(f"| {m}x{k}x{n} | {flops / 1e6:.1f} | {statistics.median(times[1]):.1f} | "
              f"{statistics.median(times[most]):.1f} | {statistics.median(ratios):.2f} ({lo:.2f}-{hi:.2f}) | "
              f"{np.array_equal(results[1], results[most])} |")
    linalg.set_small_product_flops(linalg.SMALL_PRODUCT_FLOPS)


if __name__ == "__main__":
    main()
