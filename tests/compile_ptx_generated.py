"""Compile the CUDA kernels tinytape.compile generated (read as JSON from stdin:
[[name, source, [argument types]], ...]) to PTX for sm_80 and sm_90, without the
simulator.  Run by tests/test_compile_cuda.py; needs the ``gpu`` extra, not a GPU."""
import json
import os
import sys

assert os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "0", "run without the simulator"

from numba import cuda  # noqa: E402
from numba import types as T  # noqa: E402

from tinytape.compiler.cuda_fuse import kernel_namespace  # noqa: E402


def argument_type(name):
    if name == "int64":
        return T.int64
    return T.Array(T.boolean if name == "bool" else getattr(T, name), 1, "C")


def main():
    kernels = json.load(sys.stdin)
    count = 0
    for name, source, types in kernels:
        namespace = kernel_namespace()
        exec(compile(source, f"<{name}>", "exec"), namespace)
        for cc in ((8, 0), (9, 0)):
            ptx, _ = cuda.compile_ptx(namespace[name], tuple(argument_type(t) for t in types), cc=cc)
            assert f".target sm_{cc[0]}{cc[1]}" in ptx
            count += 1
    print(f"{count} kernels compiled")


if __name__ == "__main__":
    sys.exit(main())
