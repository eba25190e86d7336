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
