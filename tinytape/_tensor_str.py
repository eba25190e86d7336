"""``torch._tensor_str``'s names that tutorials reach for: ``PRINT_OPTS`` (the current print
options, read live), ``get_printoptions()``, ``set_printoptions`` and the ``printoptions``
context manager."""
import contextlib

from . import _printing
from ._printing import set_printoptions


class _PrintOptions:
    """The print options as attributes (``PRINT_OPTS.precision``...), read from and written to
    the printer's settings."""

    _NAMES = {"precision": "PRECISION", "threshold": "THRESHOLD", "edgeitems": "EDGEITEMS",
              "linewidth": "LINEWIDTH", "sci_mode": "SCI_MODE"}

    def __getattr__(self, name):
        if name in _PrintOptions._NAMES:
            return getattr(_printing, _PrintOptions._NAMES[name])
        raise AttributeError(f"'__PrinterOptions' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        if name not in _PrintOptions._NAMES:
            raise AttributeError(f"'__PrinterOptions' object has no attribute '{name}'")
        setattr(_printing, _PrintOptions._NAMES[name], value)


PRINT_OPTS = _PrintOptions()


def get_printoptions():
    """The current print options as a dict, as ``set_printoptions`` takes them."""
    return {name: getattr(PRINT_OPTS, name) for name in _PrintOptions._NAMES}


@contextlib.contextmanager
def printoptions(**kwargs):
    """``with printoptions(precision=2): ...``: the options set for the block, restored after."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(PRINT_OPTS, name, value)


__all__ = ["PRINT_OPTS", "get_printoptions", "printoptions", "set_printoptions"]
