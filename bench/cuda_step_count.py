"""Kernel launches and host<->device transfers per training step on the CUDA backend,
eager and compiled.

    NUMBA_ENABLE_CUDASIM=1 python bench/cuda_step_count.py     # no GPU needed

The counts don't depend on the sizes, so the step runs small under numba's simulator;
it then prints the device-memory traffic the seed sizes imply (N=24, D_in=1000, H=100,
D_out=4, float32), from the bytes each launch reads and writes.
"""
import os

os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

import collections  # noqa: E402

import tinytape as tt  # noqa: E402
from tinytape.backend import cuda as cuda_backend  # noqa: E402
from tinytape.backend.cuda import backend as cuda_backend_module  # noqa: E402

launches = collections.Counter()
transfers = collections.Counter()


class _Counted:
    def __init__(self, name, kernel):
        self.name, self.kernel = name, kernel

    def __getitem__(self, config):
        launch = self.kernel[config]

        def counted(*args):
            launches[self.name] += 1
            return launch(*args)
        return counted


for module in (cuda_backend_module._elementwise, cuda_backend_module._reduction, cuda_backend_module._linalg,
               cuda_backend_module._indexing, cuda_backend_module._nn):
    for name in dir(module):
        obj = getattr(module, name)
        if hasattr(obj, "py_func") and hasattr(obj, "__getitem__") and not name.startswith("_"):
            setattr(module, name, _Counted(name, obj))

_to_device = cuda_backend.cuda.to_device
_to_numpy = cuda_backend.CUDABackend.to_numpy


def to_device(array, *a, **k):
    transfers["host->device"] += 1
    return _to_device(array, *a, **k)


def to_numpy(self, x):
    transfers["device->host"] += 1
    return _to_numpy(self, x)


cuda_backend.cuda.to_device = to_device
cuda_backend.CUDABackend.to_numpy = to_numpy


def main():
    N, D_in, H, D_out = 4, 6, 5, 3
    x, y = tt.randn(N, D_in, device="cuda"), tt.randn(N, D_out, device="cuda")
    w1 = tt.randn(D_in, H, device="cuda", requires_grad=True)
    w2 = tt.randn(H, D_out, device="cuda", requires_grad=True)
    opt = tt.optim.SGD([w1, w2], lr=1e-6)

    def step():
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss.item()

    def compiled_step(x, y):
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss
    compiled = tt.compile(compiled_step)

    for name, run in (("eager", step), ("compiled (tinytape.compile)", lambda: compiled(x, y).item())):
        run()
        run()
        for entries in compiled.programs.values():  # the generated fused kernels count too
            for entry in entries:
                launch_list = entry.replay.__globals__
                for kernel in [k for k in launch_list if k.startswith("fused")]:
                    if not isinstance(launch_list[kernel], _Counted):
                        label = "matmul+elementwise (generated)" if kernel.startswith("fused_matmul") \
                            else "elementwise (generated)"
                        launch_list[kernel] = _Counted(label, launch_list[kernel])
        launches.clear()
        transfers.clear()
        run()
        print(f"one SGD step of the seed net on the CUDA backend, {name}: "
              f"{sum(launches.values())} kernel launches")
        for kernel, count in sorted(launches.items()):
            print(f"  {kernel:32s} {count}")
        print("transfers:", dict(transfers), "(loss.item() for the log)")
    n, d, h, o, f = 24, 1000, 100, 4, 4
    traffic = f * (
        (n * d + d * h + n * h)        # x @ w1
        + 2 * n * h                    # clamp
        + (n * h + h * o + n * o)      # @ w2
        + 3 * n * o + 2 * n * o + n * o  # - y, ** 2, sum
        + 2 * n * o * 3                # the pow backward: x * 2, then times the gradient
        + 2 * (n * o + h * o + n * h)  # the two products of the w2 entry's backward
        + 3 * n * h + n * h * 2        # the clamp backward: compare, cast, multiply
        + (n * d + n * h + d * h)      # x.T @ grad_h
        + 2 * (2 * d * h + 2 * h * o)  # SGD: lr * grad, then w -= that
    )
    print(f"device-memory traffic the eager step implies for the seed sizes: about {traffic / 1e6:.2f} MB per step")


if __name__ == "__main__":
    main()
