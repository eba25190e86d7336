"""Backends: one interface, one implementation per device type, same kernel names."""
from . import opcodes  # noqa: F401


def for_device(device):
    """The backend object that serves tensors on ``device``."""
    if device.type == "cpu":
        from .cpu import cpu
        return cpu
    raise RuntimeError(
        f"tinytape: device '{device}' is not available: this build runs on the CPU only "
        "(the CUDA backend is not installed)")
