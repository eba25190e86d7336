"""The switches and queries of PyTorch's environment that tutorial code sets or asks at its
top (``torch.backends.cudnn.deterministic = True``, ``torch.backends.mps.is_available()``,
``torch.cuda.manual_seed_all(seed)``, ``torch.use_deterministic_algorithms(True)``,
``torch.set_num_threads``), answered as a CPU build of PyTorch answers them: flags are kept
and read back, and change nothing here (tinytape's kernels are deterministic).  Also
``torch.random``, ``torch.version``, ``torch.accelerator`` and ``torch.autograd.grad_mode``."""
import contextlib
import sys
import types

from . import _random
from . import _switches

_FLAGS = {"deterministic": False, "warn_only": False, "matmul_precision": "highest"}
# code may branch on them (are_deterministic_algorithms_enabled()): a compiled program guards them
_switches.register("the flags of use_deterministic_algorithms and set_float32_matmul_precision",
                   lambda: tuple(_FLAGS.values()))


def _module(name, doc, **attrs):
    module = types.ModuleType(f"tinytape.{name}", doc)
    module.__dict__.update(attrs)
    sys.modules[module.__name__] = module
    return module


def use_deterministic_algorithms(mode, *, warn_only=False):
    _FLAGS["deterministic"], _FLAGS["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled():
    return _FLAGS["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _FLAGS["warn_only"]


def set_float32_matmul_precision(precision):
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid precision: {precision}; expected one of highest, high, medium")
    _FLAGS["matmul_precision"] = precision


def get_float32_matmul_precision():
    return _FLAGS["matmul_precision"]


def get_num_threads():
    import numba
    return numba.get_num_threads()


def set_num_threads(n):
    """The threads numba's parallel kernels use (at most the ones it started with)."""
    import numba
    if int(n) <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    numba.set_num_threads(min(int(n), numba.config.NUMBA_NUM_THREADS))


def _cuda_available():
    from . import cuda
    return cuda.is_available()


backends = _module("backends", "PyTorch's backend switches, as a CPU build has them.")
backends.cudnn = _module("backends.cudnn", "cuDNN's switches: kept, read back, unused.",
                         enabled=True, deterministic=False, benchmark=False, allow_tf32=True,
                         is_available=lambda: False, version=lambda: None)
backends.mps = _module("backends.mps", "Apple's Metal backend: not in this build.",
                       is_available=lambda: False, is_built=lambda: False)
backends.cuda = _module("backends.cuda", "CUDA's switches.", is_built=_cuda_available,
                        matmul=types.SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                                                     allow_bf16_reduced_precision_reduction=True))
backends.cpu = _module("backends.cpu", "The CPU's capability.", get_cpu_capability=lambda: "AVX2")
backends.mkldnn = _module("backends.mkldnn", "oneDNN's switches.", enabled=True, is_available=lambda: False)
backends.openmp = _module("backends.openmp", "OpenMP.", is_available=lambda: False)

accelerator = _module("accelerator", "The current accelerator: CUDA where a device is usable, else none.",
                      is_available=_cuda_available,
                      current_accelerator=lambda check_available=False: (
                          __import__("tinytape")._dtype.device("cuda") if _cuda_available() else None),
                      device_count=lambda: 1 if _cuda_available() else 0)

version = _module("version", "Build information.", cuda=None, hip=None, debug=False,
                  __version__=__import__("tinytape._version", fromlist=["torch_version"]).torch_version)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """Restores the default generator's state on leaving the block.  tinytape's CUDA tensors
    draw from the CPU stream, so forking it forks every device's."""
    if device_type == "meta" or not enabled:
        yield
        return
    state = _random.default_generator.get_state()
    try:
        yield
    finally:
        _random.default_generator.set_state(state)


def _random_module():
    from . import _creation
    return _module("random", "The default generator's functions, as ``torch.random``.",
                   manual_seed=_creation.manual_seed, seed=_creation.seed, initial_seed=_creation.initial_seed,
                   get_rng_state=_creation.get_rng_state, set_rng_state=_creation.set_rng_state,
                   default_generator=_random.default_generator, fork_rng=fork_rng)


random = _random_module()


def cuda_manual_seed(seed):
    """Seeds the CUDA generators; PyTorch ignores it without CUDA, and tinytape's CUDA tensors
    draw from the CPU stream, so it changes nothing either way."""
    int(seed)


def cuda_empty_cache():
    """Releases cached device memory; nothing is cached here."""


FUNCTIONS = {
    "use_deterministic_algorithms": use_deterministic_algorithms,
    "are_deterministic_algorithms_enabled": are_deterministic_algorithms_enabled,
    "is_deterministic_algorithms_warn_only_enabled": is_deterministic_algorithms_warn_only_enabled,
    "set_float32_matmul_precision": set_float32_matmul_precision,
    "get_float32_matmul_precision": get_float32_matmul_precision,
    "get_num_threads": get_num_threads, "set_num_threads": set_num_threads,
    "backends": backends, "accelerator": accelerator, "version": version, "random": random,
}
