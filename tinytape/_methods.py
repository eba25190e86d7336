"""Tensor methods and ``tinytape.*`` functions that ops modules define, attached in this
one place (after every module is loaded) rather than imported by ``_tensor.py``."""
from ._tensor import Tensor


def attach(methods, namespace=None, functions=None):
    """Set ``methods`` on Tensor and ``functions`` in ``namespace``; names a class or a
    namespace already defines are left alone (its own definition wins)."""
    for name, fn in methods.items():
        if name not in Tensor.__dict__:
            setattr(Tensor, name, fn)
    if namespace is not None:
        for name, fn in (functions or {}).items():
            namespace.setdefault(name, fn)


def attach_all(namespace):
    from .ops import indexing
    attach(indexing.METHODS, namespace, indexing.FUNCTIONS)
    from .ops import statistics
    attach(statistics.METHODS, namespace, statistics.FUNCTIONS)
    from .nn import functional as F
    attach({"softmax": F.softmax, "log_softmax": F.log_softmax})
    attach({name: _cast(dtype) for name, dtype in (("half", "float16"), ("int", "int32"), ("short", "int16"),
                                                  ("char", "int8"), ("byte", "uint8"))})


def _cast(name):
    def cast(self):
        from . import _dtype
        return self.to(_dtype.as_dtype(name))
    cast.__name__ = cast.__qualname__ = {"float16": "half", "int32": "int", "int16": "short", "int8": "char",
                                         "uint8": "byte"}[name]
    return cast
