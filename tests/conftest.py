import os

# The CUDA path runs on numba's simulator where there is no NVIDIA driver; it has to be
# chosen before numba is imported.  On a machine with a GPU the tests use the GPU.
if not os.path.exists("/dev/nvidiactl"):
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
# a compiled function's fused code compiles within its trace, so a test sees the program
# it checks right after the first call; tests/test_compile_background.py tests the thread
os.environ.setdefault("TINYTAPE_COMPILE_BACKGROUND", "0")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

import pytorch_answers  # noqa: E402

# kernels compile on first use (cached on disk afterwards): no per-example deadline
settings.register_profile("tinytape", deadline=None, max_examples=int(os.environ.get("TINYTAPE_EXAMPLES", 25)),
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tinytape")


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(items):
    """A test run with device="cuda" is a gpu test (the simulator's, without a GPU), however
    its parameters are spelled."""
    for item in items:
        if getattr(item, "callspec", None) is not None and item.callspec.params.get("device") == "cuda":
            item.add_marker(pytest.mark.gpu)


@pytest.fixture(autouse=True)
def _pytorch_answers_of_this_test(request):
    pytorch_answers.begin(request.node)


def pytest_sessionfinish(session):
    for path in pytorch_answers.write_recorded():
        print(f"\nwrote {path}")
