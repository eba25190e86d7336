"""Every CUDA kernel compiles to PTX for real targets (sm_80, sm_90).

The simulator accepts code that the GPU compiler rejects, so this check runs the real
compiler, in a process without the simulator; it needs the ``gpu`` extra
(``pip install -e '.[gpu]'``: numba-cuda[cu13]) but no GPU.  Selected with ``-m ptx``
(``.ci/run`` does), since the plain test install doesn't carry the compiler.
"""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.ptx


def test_every_cuda_kernel_compiles_to_ptx_for_sm80_and_sm90():
    script = os.path.join(os.path.dirname(__file__), "ptx_compile.py")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0")
    out = subprocess.run([sys.executable, script], env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    lines = out.stdout.splitlines()
    assert lines[-1] == "156 kernels compiled"  # + 12 kernels for each of uint16, uint32, uint64
    assert sum(".target" not in line and "sm_80" in line for line in lines) == 26 * 2 + 5  # + bfloat16's
    assert sum("sm_90" in line for line in lines) == 26 * 2 + 5 + 36
