"""Backends: one interface, one implementation per device type, same kernel names."""
from . import opcodes  # noqa: F401


def for_device(device):
    """The backend object that serves tensors on ``device``."""
    if device.type == "cpu":
        from .cpu import cpu
        return cpu
    if device.type == "meta":
        from .meta import meta
        return meta
    if device.type == "cuda":
        try:
            from . import cuda
        except ImportError as e:  # numba-cuda missing or broken
            raise RuntimeError(f"tinytape: device 'cuda' is not available: {e}") from None
        return cuda.get()
    raise RuntimeError(f"tinytape: unknown device '{device}'")
