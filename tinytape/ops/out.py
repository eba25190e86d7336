"""``out=`` arguments, as PyTorch's: the result is written into ``out`` and ``out`` returned.

An ``out`` with no elements takes the result's shape silently; one with elements but
another shape is resized with PyTorch's warning.  The result must be castable to ``out``'s
dtype (for matrix products the dtypes must be equal).  Nothing is recorded: with grad
mode on, an input (or ``out``) that requires grad is an error, as in PyTorch.
"""
import collections
import functools
import math
import warnings

from .. import _dtype
from .._grad_mode import _state
from .._inplace_in_order import write_in_order, writes_in_order
from .._mirror_views import MIRRORED, after_write
from .._tensor import Tensor
from . import elementwise as ew

# PyTorch's C++ type names, as its "Expected out tensor to have dtype ..." message spells them
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
              "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
              "bool": "bool"}


def _can_cast(source, target):
    if target.name == "bool":
        return source.name == "bool"
    return target.is_floating_point or not source.is_floating_point


def _tensors(args):
    for a in args:
        if isinstance(a, Tensor):
            yield a
        elif isinstance(a, (list, tuple)):
            yield from (t for t in a if isinstance(t, Tensor))


def check_grad(op, out, args, kwargs):
    if _state.enabled and (out.requires_grad or any(t.requires_grad for t in _tensors(list(args) + list(kwargs.values())))):
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")


def write(op, result, out, kind="cast"):
    """Write ``result`` into ``out`` (resizing it as PyTorch does) and return ``out``."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out._backend is not result._backend:
        raise RuntimeError(f"Expected out tensor to have device {result.device}, but got {out.device} instead")
    if kind == "exact" and out.dtype is not result.dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {_CPP_NAMES.get(result.dtype.name, result.dtype.name)}, "
                           f"but got {_CPP_NAMES.get(out.dtype.name, out.dtype.name)} instead")
    if not _can_cast(result.dtype, out.dtype):
        if kind == "cat":
            raise TypeError(f"torch.{op}(): input types can't be cast to the desired output type "
                            f"{_dtype.scalar_type_name(out.dtype)}")
        raise RuntimeError(f"result type {_dtype.scalar_type_name(result.dtype)} can't be cast to the desired "
                           f"output type {_dtype.scalar_type_name(out.dtype)}")
    converted = result.dtype is not out.dtype
    if converted:
        result = ew.to_dtype(result, out.dtype)
    shape = tuple(result.shape)
    if tuple(out.shape) != shape:
        # PyTorch warns once per resize; an elementwise op writing another dtype resizes twice
        twice = converted and kind == "cast" and op not in _REDUCTIONS
        for _ in range((2 if twice else 1) if out.numel() and kind != "factory" else 0):  # factories resize quietly
            warnings.warn(f"An output with one or more elements was resized since it had shape {list(out.shape)}, "
                          f"which does not match the required output shape {list(shape)}. This behavior is "
                          "deprecated, and in a future PyTorch release outputs will not be resized unless they have "
                          "zero elements. You can explicitly reuse an out tensor t by resizing it, inplace, to zero "
                          "elements with t.resize_(0).", UserWarning, stacklevel=3)
        backend, needed = out._backend, math.prod(shape)
        if out.numel() >= needed and out.is_contiguous():  # the storage is big enough: kept, as PyTorch's
            flat = backend.reshape(out._data, (-1,))
            out._data = backend.reshape(backend.index(flat, (slice(0, needed),)), shape)
        else:
            out._data = backend.empty(shape, out._data.dtype)
    flags = getattr(out._data, "flags", None)
    if flags is not None and (not flags.writeable or 0 in out._data.strides):
        out._check_inplace(op)  # (an expanded view refuses; a view of one writes through)
    out._backend.copy_into(out._data, result._data)
    out._version_counter[0] += 1
    if MIRRORED:  # (conjugate/negative views of this memory follow)
        after_write(out)
    return out


def with_out(fn, op=None, kind="cast"):
    """``fn`` taking an ``out=`` keyword (the name PyTorch gives the op: ``op``)."""
    op = op or fn.__name__

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if isinstance(out, (tuple, list)):  # (values, indices): max(dim), sort, ...
            for o in out:
                check_grad(op, o, args, kwargs)
            results = fn(*args, **kwargs)
            for r, o in zip(results, out):
                write(op, r, o, kind)
            return _out_type(type(results))(*out) if hasattr(results, "_fields") else tuple(out)
        check_grad(op, out, args, kwargs)
        if kind in ("accumulate", "factory") and kwargs.get("dtype") is None and isinstance(out, Tensor):
            kwargs["dtype"] = out.dtype  # sum, prod, cumsum, zeros, arange: computed in out's dtype
        if kind == "same" and isinstance(out, Tensor) and args and isinstance(args[0], Tensor) \
                and args[0].dtype is not out.dtype:
            raise RuntimeError(f"Expected the dtype for input and out to match, but got "
                               f"{_dtype.scalar_type_name(args[0].dtype)} for input's dtype and "
                               f"{_dtype.scalar_type_name(out.dtype)} for out's dtype.")
        result = fn(*args, **kwargs)
        how = kind
        if op in ("clamp", "clip") and not any(isinstance(a, Tensor) for a in list(args[1:]) + list(kwargs.values())):
            how = "found"  # clamp by numbers writes only its own dtype (clamp by tensors casts)
        if how in ("found", "where") and isinstance(out, Tensor) and out.dtype is not result.dtype:
            ours, theirs = _dtype.scalar_type_name(result.dtype), _dtype.scalar_type_name(out.dtype)
            raise RuntimeError(f"Found dtype {theirs} but expected {ours}" if how == "found" else
                               f"Expected out type to be {ours} but got {theirs}")
        if op in _ELEMENTWISE and isinstance(out, Tensor) and tuple(out.shape) == tuple(result.shape) and \
                _can_cast(result.dtype, out.dtype) and writes_in_order(out, op):
            # an ``out`` whose elements overlap in memory: element by element, as an in-place op's
            out._backend.host_compute(lambda data: write_in_order(
                out, op, lambda destination, *elements: fn(*elements, **kwargs), args), out._data)
            out._version_counter[0] += 1
            if MIRRORED:
                after_write(out)
            return out
        return write(op, result, out, kind)
    wrapper.__wrapped__ = fn
    return wrapper


_REDUCTIONS = ("sum", "mean", "prod", "amax", "amin", "max", "min", "logsumexp", "std", "var", "norm", "argmax",
               "argmin", "cumsum", "cumprod", "sort", "topk", "nonzero", "index_select", "gather", "take",
               "masked_select", "tril", "triu", "outer", "cross")

# the package's functions that take ``out=``; how their dtype is checked
CAST = ("add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow", "exp", "log", "sqrt",
        "neg", "sin", "cos", "tanh", "sigmoid", "clamp", "clip", "maximum", "minimum", "mean",
        "max", "min", "log1p", "expm1", "rsqrt", "square", "floor",
        "ceil", "round", "trunc", "sign", "reciprocal", "fmod", "remainder", "eq", "ne", "lt", "le", "gt", "ge",
        "logsumexp", "std", "var", "norm", "lerp", "addcmul", "addcdiv", "exp2", "log2", "log10", "erf",
        "index_select", "gather", "take", "masked_select", "argmax", "argmin", "tril", "triu", "outer", "cross",
        "sort", "topk", "atan2", "hypot", "nonzero")
ACCUMULATE = ("sum", "prod", "cumsum", "cumprod", "nansum")
SAME = ("amax", "amin")
_ELEMENTWISE = frozenset(CAST) - frozenset(_REDUCTIONS) | {"abs", "where"}
FOUND = ("abs",)
WHERE = ("where",)
EXACT = ("matmul", "mm", "bmm", "mv", "dot", "addmm", "addmv", "baddbmm", "addbmm")
FACTORY = ("zeros", "ones", "empty", "full", "arange", "linspace", "logspace", "eye", "randn", "rand", "randint",
           "randperm")
CAT = ("cat", "stack", "hstack", "vstack", "dstack", "column_stack", "row_stack", "concat", "concatenate")


_OUT_TYPES = {}


def _out_type(result_type):
    """``return_types.max_out``, ``sort_out``...: what a (values, indices) op returns given ``out=``."""
    if result_type not in _OUT_TYPES:
        name, fields = result_type.__name__ + "_out", result_type._fields
        base = collections.namedtuple(name, fields)

        def __repr__(self):
            body = ",\n".join(f"{f}={getattr(self, f)!r}" for f in fields)
            return f"tinytape.return_types.{name}(\n{body})"
        _OUT_TYPES[result_type] = type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__str__": __repr__,
                                                      "__module__": "tinytape.return_types"})
    return _OUT_TYPES[result_type]


def wrap_namespace(namespace, table=None):
    """Give the package's functions named above their ``out=`` keyword, and every other one whose
    PyTorch signature (``table``: ``_signature_table``'s) takes ``out=`` (written as ``CAST``'s)."""
    for names, kind in ((CAST, "cast"), (EXACT, "exact"), (CAT, "cat"), (ACCUMULATE, "accumulate"), (SAME, "same"),
                        (FOUND, "found"), (WHERE, "where"), (FACTORY, "factory")):
        for name in names:
            fn = namespace.get(name)
            if callable(fn) and not getattr(fn, "__wrapped_out__", False):
                wrapped = with_out(fn, name, kind)
                wrapped.__wrapped_out__ = True
                namespace[name] = wrapped
    for name, (_, overloads) in (table or {}).items():
        fn = namespace.get(name)
        if callable(fn) and not isinstance(fn, type) and not getattr(fn, "__wrapped_out__", False) \
                and any("out" in keywords for _, keywords, _, _ in overloads):
            wrapped = with_out(fn, name, "cast")
            wrapped.__wrapped_out__ = True
            namespace[name] = wrapped
