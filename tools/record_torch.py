"""Record PyTorch's answers for the tests that compare tinytape with PyTorch.

    python tools/record_torch.py                  # every test module that asks PyTorch
    python tools/record_torch.py tests/test_nn.py -k repr   # some tests: their answers merged in

Needs PyTorch and tinytape installed in one environment (a separate one from the
project's own: `python -m venv venv-torch && venv-torch/bin/pip install torch numpy -e '.[test]'`).
It runs the tests that call ``pytorch_answers.pytorch`` with TINYTAPE_TORCH_RECORD set:
each call runs its PyTorch side and the answers are written to
``tests/fixtures/torch/<module>.json``, with the PyTorch version they came from.  A test's
cuda variant asks PyTorch what its cpu variant asks (the answers' keys leave the device
out), so the gpu set is not run; a test that only the gpu set runs records with
``python tools/record_torch.py -m gpu tests/test_x.py``.  Run over whole modules (no
arguments, or only test files) it rewrites each module's file, dropping answers no test
asks for any more; with other arguments (-k, a test's id, --deselect) it merges into them.
A test that fails while recording still leaves the answers it asked for; fix or re-record
it before committing."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def modules_that_ask():
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py")
                  if "from pytorch_answers import" in p.read_text())


def main(argv):
    try:
        import torch
    except ImportError:
        sys.exit("record_torch: PyTorch is not importable here; run this with an interpreter that has it")
    whole_modules = all(arg.endswith(".py") and "::" not in arg for arg in argv)
    env = dict(os.environ, TINYTAPE_TORCH_RECORD="prune" if whole_modules else "merge")
    command = [sys.executable, "-m", "pytest", "-m", "not gpu and not ptx", "-q", "-p", "no:cacheprovider",
               *(argv or modules_that_ask())]
    print(f"recording PyTorch {torch.__version__}'s answers: {' '.join(command[3:])}", flush=True)
    return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
