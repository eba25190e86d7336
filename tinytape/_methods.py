"""Tensor methods and ``tinytape.*`` functions that other modules define, attached in
this one place rather than imported at the bottom of ``_tensor.py``.

``attach_core`` runs right after ``Tensor`` is defined: the operators, math and in-place
methods, which take precedence over any other definition (as methods written in the
class body would).  ``attach_all`` runs once the package is loaded: the ops modules'
tables, where a name Tensor (or the namespace) already has is left alone.
"""
from ._tensor import Tensor


def attach(methods, namespace=None, functions=None, override=False):
    for name, fn in methods.items():
        if override or name not in Tensor.__dict__:
            setattr(Tensor, name, fn)
    if namespace is not None:
        for name, fn in (functions or {}).items():
            namespace.setdefault(name, fn)


def attach_core():
    from . import _tensor_inplace, _tensor_math
    attach(_tensor_math.METHODS, override=True)
    attach(_tensor_inplace.METHODS, override=True)


def attach_all(namespace):
    from .ops import assorted, composite, indexing, softmax, statistics
    attach(assorted.METHODS, namespace, assorted.FUNCTIONS)
    attach(indexing.METHODS, namespace, indexing.FUNCTIONS)
    attach(statistics.METHODS, namespace, statistics.FUNCTIONS)
    attach({"softmax": softmax.softmax, "log_softmax": softmax.log_softmax})
    attach(composite.TENSOR_METHODS)
    attach({name: _cast(dtype) for name, dtype in (("half", "float16"), ("int", "int32"), ("short", "int16"),
                                                  ("char", "int8"), ("byte", "uint8"),
                                                  ("bfloat16", "bfloat16"))})


def _cast(dtype_name):
    def cast(self):
        from . import _dtype
        return self.to(_dtype.as_dtype(dtype_name))
    cast.__name__ = cast.__qualname__ = {"float16": "half", "int32": "int", "int16": "short", "int8": "char",
                                         "uint8": "byte", "bfloat16": "bfloat16"}[dtype_name]
    return cast
