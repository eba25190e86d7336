"""Arrays described by numpy's own dtype objects.  The CPU kernels' fast paths test a dtype by
identity (``x.dtype is float32``); an equal copy of the dtype object, which unpickling makes,
sends an array down the shared paths, where a sum runs in another order than PyTorch's.  Two
sources of such copies: arrays from outside (unpickled datasets, tensors sent between
processes), taken in with numpy's own dtype; and the arrays a compiled kernel returns once
numba loads it from the disk cache (its boxing constants are unpickled there)."""
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import tinytape
from helpers import assert_same
from pytorch_answers import pytorch

ENTRY_POINTS = {"from_numpy": tinytape.from_numpy, "tensor": tinytape.tensor, "as_tensor": tinytape.as_tensor,
                "Tensor": tinytape.Tensor}
SUMS = [((300, 100), 0), ((300, 100), 1), ((16, 3, 12, 12), (0, 2, 3))]


def _values(shape):
    return np.random.default_rng(sum(shape)).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_unpickled_arrays_sum_in_pytorchs_order(entry):
    def run(torch):
        make = ENTRY_POINTS[entry] if torch is tinytape else torch.from_numpy
        out = []
        for shape, dims in SUMS:
            array = pickle.loads(pickle.dumps(_values(shape)))  # an equal copy of float32's dtype
            t = make(array)
            if torch is tinytape:
                assert t._data.dtype is np.dtype(np.float32)
            out.append(t.sum(dims))
        return out
    assert_same(run(tinytape), pytorch(run))


def test_a_pickled_tensor_comes_back_with_numpys_dtype():
    t = pickle.loads(pickle.dumps(tinytape.arange(12.0).reshape(3, 4)))
    assert t._data.dtype is np.dtype(np.float32)


def test_from_numpy_of_an_unpickled_array_still_shares_its_memory():
    array = pickle.loads(pickle.dumps(np.zeros(3, np.float32)))
    t = tinytape.from_numpy(array)
    array[1] = 5.0
    assert t[1].item() == 5.0


_COMPILED_PROGRAM = r"""
import os
os.environ["TINYTAPE_COMPILE_BACKGROUND"] = "0"
import numpy as np, tinytape
def f(x, w):
    y = (x @ w).relu()
    return y.reshape(4, 2, 5).permute(0, 2, 1) * 2.0, y.t(), (x @ w).reshape(40)
compiled = tinytape.compile(f, fullgraph=True)
x, w = tinytape.randn(8, 3), tinytape.randn(3, 5)
compiled(x, w)
outs = compiled(x, w)
entry = next(iter(compiled.programs.values()))[0]
print(entry.kind, all(o._data.dtype is np.dtype("float32") for o in outs))
"""


def test_a_compiled_kernel_loaded_from_the_cache_returns_numpys_dtype():
    """The second process loads the fused kernel the first compiled (or loaded)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")])))
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", _COMPILED_PROGRAM], capture_output=True, text=True, env=env,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["fused", "True"], done.stdout + done.stderr
