"""How PyTorch's argument parser reads a dim given as other than an int, and the tensor
options PyTorch's factories take that tinytape's tensors have one answer for:
``layout=torch.strided``, ``pin_memory=False`` and ``memory_format=torch.contiguous_format``
(``preserve_format`` on a ``*_like``) ask for what every tensor here is, so they are taken
and dropped; ``pin_memory=True`` needs a GPU as PyTorch's does (its host memory is then the
host memory every tensor has).  A value with another meaning (a sparse layout,
``channels_last``) is left to the function, which refuses the keyword."""
import operator

from . import _dtype

NAMES = frozenset({"layout", "pin_memory", "memory_format"})


def _plain(name, key, value):
    if key == "layout":
        return value is None or value is _dtype.strided
    if key == "pin_memory":
        return value is None or isinstance(value, bool) or (hasattr(type(value), "__index__") and value in (0, 1))
    from .ops.layouts import contiguous_format, preserve_format
    return value is None or value is preserve_format or (value is contiguous_format and not name.endswith("_like"))


def take(name, kwargs, names):
    """``kwargs`` without the options among ``names`` that ask for a plain tensor; a
    RuntimeError for ``pin_memory=True`` where there is no GPU to pin memory for."""
    kept = dict(kwargs)
    for key in names.intersection(kwargs):
        value = kwargs[key]
        if not _plain(name, key, value):
            continue
        if key == "pin_memory" and value:
            require_pinning(name)
        del kept[key]
    return kept


def require_pinning(name):
    """Pinned memory is page-locked for a GPU's copies: without one PyTorch refuses it."""
    from .backend import for_device
    try:
        for_device(_dtype.device("cuda"))
    except RuntimeError as e:
        raise RuntimeError(f"{name}(): pinned memory needs a GPU: {e}") from None


def pin_memory(self, device=None):
    """``Tensor.pin_memory``: a copy of this CPU tensor for a GPU's copies, refused without a
    GPU as PyTorch's is."""
    require_pinning("pin_memory")
    if self.device.type != "cpu":
        raise RuntimeError(f"cannot pin '{self.type()}' only dense CPU tensors can be pinned")
    return self.clone()


def dim_index(dim, op):
    """``dim`` as an int where PyTorch's argument parser takes it as one (numpy's integers, a
    0-d integer tensor); a TypeError in the parser's words where not (a tuple, a float, a bool)."""
    if not isinstance(dim, bool) and hasattr(type(dim), "__index__"):
        try:
            return operator.index(dim)
        except TypeError:
            pass
    raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
