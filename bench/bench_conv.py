"""Convolution, pooling and batch norm timed for tinytape and PyTorch eager (when
installed), one thread each, forward and forward + backward of typical small CNN layers.

    python bench/bench_conv.py [--repeat 5]

Prints milliseconds per call and the ratio tinytape / PyTorch (same run, same data).
Set NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 for one-thread numbers
(the script sets them when they are unset, before numpy and numba load).
"""
import argparse
import os
import time

for _name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

import tinytape as tt  # noqa: E402

# name -> (input shape, call taking (F, x, weights...), weight shapes)
CASES = {
    "digits conv 1->16 3x3 pad1 (64x1x8x8)": ((64, 1, 8, 8), lambda F, x, w, b: F.conv2d(x, w, b, padding=1),
                                               [(16, 1, 3, 3), (16,)]),
    "mnist conv 1->32 3x3 (64x1x28x28)": ((64, 1, 28, 28), lambda F, x, w, b: F.conv2d(x, w, b),
                                           [(32, 1, 3, 3), (32,)]),
    "mnist conv 32->32 3x3 (64x32x26x26)": ((64, 32, 26, 26), lambda F, x, w, b: F.conv2d(x, w, b),
                                             [(32, 32, 3, 3), (32,)]),
    "max_pool2d 2 (64x32x24x24)": ((64, 32, 24, 24), lambda F, x: F.max_pool2d(x, 2), []),
    "avg_pool2d 3/2 pad1 (64x32x24x24)": ((64, 32, 24, 24), lambda F, x: F.avg_pool2d(x, 3, 2, 1), []),
    "batch_norm train (64x32x24x24)": ((64, 32, 24, 24), lambda F, x, w, b: F.batch_norm(x, None, None, w, b, True),
                                       [(32,), (32,)]),
}


def best_ms(fn, repeat):
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def timings(lib, F, shape, call, weight_shapes, repeat):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal(shape, dtype=np.float32), requires_grad=True)
    ws = [lib.tensor(rng.standard_normal(s, dtype=np.float32) * 0.1, requires_grad=True) for s in weight_shapes]

    def forward():
        with lib.no_grad():
            call(F, x, *ws)

    def both():
        call(F, x, *ws).sum().backward()
    return best_ms(forward, repeat), best_ms(both, repeat)


def cnn_step_ms(lib, repeat, image=8, batch=64):
    """One SGD step of a small CNN (two conv-relu-maxpool blocks, a linear layer, cross
    entropy) on ``image`` x ``image`` one-channel inputs."""
    nn = lib.nn
    lib.manual_seed(0)
    side = image // 4
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(32 * side * side, 10))
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((batch, 1, image, image), dtype=np.float32))
    y = lib.tensor(rng.integers(0, 10, batch))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
    return best_ms(step, repeat)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    print(f"{'case':42s} {'tinytape fwd':>12s} {'fwd+bwd':>9s}" + ("   torch fwd  fwd+bwd   ratio fwd  fwd+bwd"
                                                                      if torch else ""))
    for name, (shape, call, weight_shapes) in CASES.items():
        ours = timings(tt, tt.nn.functional, shape, call, weight_shapes, args.repeat)
        line = f"{name:42s} {ours[0]:10.2f}ms {ours[1]:7.2f}ms"
        if torch is not None:
            theirs = timings(torch, torch.nn.functional, shape, call, weight_shapes, args.repeat)
            line += (f" {theirs[0]:9.2f}ms {theirs[1]:7.2f}ms {ours[0] / theirs[0]:9.1f}x "
                     f"{ours[1] / theirs[1]:7.1f}x")
        print(line)
    for image in (8, 28):
        name = f"small CNN SGD step, 64x1x{image}x{image}"
        ours = cnn_step_ms(tt, args.repeat, image)
        line = f"{name:42s} {'':12s} {ours:7.2f}ms"
        if torch is not None:
            theirs = cnn_step_ms(torch, args.repeat, image)
            line += f" {'':11s} {theirs:7.2f}ms {'':10s} {ours / theirs:7.1f}x"
        print(line)


if __name__ == "__main__":
    main()
