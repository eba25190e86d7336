"""The CUDA backend (``backend.py``) and its numba.cuda kernels (the other modules)."""
from numba import cuda  # noqa: F401  (tools patch cuda.to_device through here)

from .backend import CUDABackend, get  # noqa: F401
