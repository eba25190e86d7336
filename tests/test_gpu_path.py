"""tinytape on a machine without CUDA: it imports and runs, and asking for the CUDA device
(with the simulator off) gives a clear error rather than a crash."""
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
assert tt.cuda.is_available() is False
try:
    tt.zeros(2, device="cuda")
except RuntimeError as e:
    assert "device 'cuda' is not available" in str(e) and "NUMBA_ENABLE_CUDASIM=1" in str(e), e
    print("refused")
"""


@pytest.mark.skipif(os.path.exists("/dev/nvidiactl"), reason="this machine has an NVIDIA driver")
def test_without_cuda_imports_and_refuses_the_cuda_device():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0")
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "refused"
