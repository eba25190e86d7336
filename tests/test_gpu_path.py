"""The CUDA path as far as this build goes: tinytape imports and runs where there is no
GPU (numba's CUDA simulator stands in for one in CI), and asking for the CUDA device
gives a clear error rather than a crash."""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.gpu

SCRIPT = r"""
import tinytape as tt
x = tt.ones(2, requires_grad=True)
(x * 3).sum().backward()
assert x.grad.tolist() == [3.0, 3.0]
try:
    tt.zeros(2, device="cuda")
except RuntimeError as e:
    assert "cuda" in str(e) and "not available" in str(e), e
    print("ok")
"""


def test_imports_and_refuses_cuda_device_under_the_simulator():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
