"""The CPU backend (``backend.py``) and its numba.njit kernels (the other modules)."""
from . import _cache

_cache.install()  # before the kernel modules are imported: njit(cache=True) binds then

from .backend import CPUBackend, cpu  # noqa: E402,F401
