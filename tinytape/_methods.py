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
    from . import autograd
    attach(autograd.TENSOR_METHODS, override=True)
    from .ops import layouts, view_copies, view_ops
    attach(view_ops.METHODS, namespace, view_ops.FUNCTIONS, override=True)
    attach(layouts.METHODS, namespace, layouts.FUNCTIONS, override=True)
    attach(view_copies.METHODS, namespace, view_copies.FUNCTIONS)
    from .ops import complex as complex_ops, spectral
    attach(complex_ops.METHODS, override=True)
    namespace.update(complex_ops.FUNCTIONS)
    attach(spectral.METHODS, namespace, spectral.FUNCTIONS)
    from .ops import (assorted, composed, composite, distributions_more, elementwise_more, extras, indexing,
                      linalg_more, linalg_triangular, softmax, special_math, statistics)
    attach(assorted.METHODS, namespace, assorted.FUNCTIONS)
    attach(extras.METHODS, namespace, extras.FUNCTIONS)
    attach(composed.METHODS, namespace, {**composed.FUNCTIONS, "ger": composite.outer})
    attach(indexing.METHODS, namespace, indexing.FUNCTIONS)
    attach(linalg_more.METHODS, namespace, linalg_more.FUNCTIONS)
    attach(linalg_triangular.METHODS, namespace, linalg_triangular.FUNCTIONS)
    from .ops import linalg_legacy, linalg_lu
    attach({}, namespace, linalg_lu.FUNCTIONS)
    attach(linalg_legacy.METHODS, namespace, linalg_legacy.FUNCTIONS)
    attach(special_math.METHODS, namespace, special_math.FUNCTIONS)
    attach(elementwise_more.METHODS, namespace, elementwise_more.FUNCTIONS)
    from .ops import scatter_views, shifts, strided
    attach(scatter_views.METHODS, namespace, scatter_views.FUNCTIONS)
    attach(shifts.METHODS, namespace, shifts.FUNCTIONS)
    attach(strided.METHODS, namespace, strided.FUNCTIONS)
    attach(distributions_more.METHODS, namespace, distributions_more.FUNCTIONS)
    from .ops import dirichlet_grad, gamma_sampling
    attach({}, namespace, {**gamma_sampling.FUNCTIONS, **dirichlet_grad.FUNCTIONS})
    attach(statistics.METHODS, namespace, statistics.FUNCTIONS)
    attach({"softmax": softmax.softmax, "log_softmax": softmax.log_softmax})
    attach(composite.TENSOR_METHODS)
    from .ops import repeat, small_api, sparse_coo
    attach(small_api.METHODS, namespace, small_api.FUNCTIONS)
    attach(sparse_coo.METHODS, namespace, {"sparse_coo_tensor": sparse_coo.sparse_coo_tensor})
    attach({"tile": repeat.tile_method}, namespace, {"tile": repeat.tile})
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


# functions and methods taking ``dim`` that PyTorch's argument parser also lets take numpy's
# ``axis`` (and ``keepdims`` for ``keepdim``), as d2l writes ``A.cumsum(axis=0)``
NUMPY_NAMED = ("cumsum", "cumprod", "softmax", "log_softmax", "cat", "concat", "concatenate", "stack",
               "squeeze", "unsqueeze", "sort", "argsort", "amax", "amin", "nansum", "nanmean", "median",
               "nanmedian", "topk", "gather", "index_select", "count_nonzero", "kthvalue", "mode",
               "cummax", "cummin", "logcumsumexp", "unbind", "select", "narrow", "take_along_dim",
               "scatter", "scatter_add", "index_add", "index_fill", "hstack", "renorm", "diff", "flatten")


def accept_numpy_names(namespace):
    import inspect

    def wrapped(fn):
        if getattr(fn, "_numpy_names", False) or not callable(fn):
            return fn
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            return fn
        if "dim" not in params or "axis" in params:
            return fn
        keep = "keepdim" in params

        def wrapper(*args, **kwargs):
            if "axis" in kwargs:
                kwargs["dim"] = kwargs.pop("axis")
            if keep and "keepdims" in kwargs:
                kwargs["keepdim"] = kwargs.pop("keepdims")
            return fn(*args, **kwargs)
        wrapper.__name__, wrapper.__qualname__, wrapper.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
        wrapper.__wrapped__, wrapper._numpy_names = fn, True
        return wrapper

    for name in NUMPY_NAMED:
        if name in Tensor.__dict__:
            setattr(Tensor, name, wrapped(Tensor.__dict__[name]))
        if name in namespace:
            namespace[name] = wrapped(namespace[name])


def attach_inplace_forms():
    """``abs_``, ``sqrt_``, ``cumsum_``...: the in-place forms PyTorch has of methods defined by
    now (run last, once every method is attached)."""
    from .ops import composed
    attach({f"{name}_": composed._inplace_form(name) for name in composed.INPLACE_FORMS if hasattr(Tensor, name)})
