"""Reductions: sum, mean, norm, max/min (whole tensor, or along a dim with indices), argmax."""
import builtins
import collections
import math

import numpy as np

from .. import _dtype
from .._grad_mode import _state
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Function
from ..backend.opcodes import DIV, MAX, MIN, MUL, SUM
from . import dtype_rules
from . import elementwise as ew
from .shape import broadcast



def _return_type(name):
    """What max(dim)/min(dim)/sort/topk return: a named pair printed as PyTorch's
    ``torch.return_types.max(values=..., indices=...)``, under tinytape's name."""
    base = collections.namedtuple(name, ["values", "indices"])

    def __repr__(self):
        return f"tinytape.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"
    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__str__": __repr__,
                                "__module__": "tinytape.return_types"})


max_result, min_result = _return_type("max"), _return_type("min")


def numpy_aliases(fn):
    """Accept numpy's ``axis=``/``keepdims=`` for ``dim=``/``keepdim=``, as PyTorch does."""
    def wrapper(*args, **kwargs):
        if kwargs:
            if "axis" in kwargs:
                kwargs["dim"] = kwargs.pop("axis")
            if "keepdims" in kwargs:
                kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(*args, **kwargs)
    wrapper.__name__, wrapper.__qualname__, wrapper.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
    wrapper.__wrapped__ = fn
    return wrapper


def _dim_like(dim, tuple_too):
    """Whether PyTorch's parser could take ``dim`` for a reduction's dim: an integer (not a
    bool), a tensor (``max``'s other, or a 0-d index) and, where dims may be many, a tuple or list."""
    return (isinstance(dim, Tensor) or (not isinstance(dim, bool) and hasattr(type(dim), "__index__"))
            or (tuple_too and isinstance(dim, (tuple, list))))


# reductions whose only overload taking a dim takes one int: a dim of another type is refused
# as that argument's (``_wrap_dim``'s words), not as a combination no overload takes
_ONE_DIM_OVERLOAD = frozenset({"median", "nanmedian"})


def keepdim_needs_dim(dim_may_be_none):
    """PyTorch's argument parser for a reduction whose overloads are ``(*, dtype)`` and
    ``(dim, keepdim=False, ...)``: ``keepdim`` without a ``dim`` matches neither (TypeError),
    nor does ``dim=None`` where ``dim`` is an int (``prod``, ``max``, ``median``)."""
    def decorate(fn):
        def wrapper(*args, **kwargs):
            if args and not isinstance(args[0], Tensor):
                raise TypeError(f"{fn.__name__}(): argument 'input' (position 1) must be Tensor, not "
                                f"{type(args[0]).__name__}")
            dim_given = len(args) > 1 or "dim" in kwargs
            dim = args[1] if len(args) > 1 else kwargs.get("dim")
            if (("keepdim" in kwargs or len(args) > 2) and not dim_given) or \
                    (dim_given and dim is None and not dim_may_be_none) or \
                    (dim is not None and not _dim_like(dim, dim_may_be_none) and fn.__name__ not in _ONE_DIM_OVERLOAD):
                got = ", ".join(["Tensor"] * builtins.min(len(args), 1) + [type(a).__name__ for a in args[1:]]
                                + [f"{k}={type(v).__name__}" for k, v in kwargs.items()])
                raise TypeError(
                    f"{fn.__name__}() received an invalid combination of arguments - got ({got}), but expected "
                    f"one of:\n * (Tensor input, *, torch.dtype dtype = None)\n * (Tensor input, "
                    f"{'tuple of ints' if dim_may_be_none else 'int'} dim, bool keepdim = False, *, ...)")
            return fn(*args, **kwargs)
        wrapper.__name__, wrapper.__qualname__, wrapper.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
        wrapper.__wrapped__ = fn
        return wrapper
    return decorate


def _dims(dim, ndim, op):
    """Sorted, non-negative reduced dims; () means every dim."""
    if dim is None:
        return ()
    if isinstance(dim, int):
        dims = (dim,)
    elif isinstance(dim, (tuple, list, Tensor)) or (not isinstance(dim, bool) and hasattr(type(dim), "__index__")):
        dims = (dim,) if not isinstance(dim, (tuple, list)) and (not isinstance(dim, Tensor) or dim.ndim == 0) \
            else tuple(dim)
    else:
        raise TypeError(f"{op}(): argument 'dim' must be tuple of ints, not {type(dim).__name__}")
    listed = [_wrap_dim(d, ndim, op) for d in dims]
    wrapped = sorted(set(listed))
    if len(wrapped) != len(listed):
        twice = next(d for d in listed if listed.count(d) > 1)
        raise RuntimeError(f"dim {twice} appears multiple times in the list of dims")
    return tuple(wrapped) if ndim else ()


def _kept_shape(in_shape, dims):
    dims = dims or range(len(in_shape))
    return tuple(1 if i in dims else s for i, s in enumerate(in_shape))


def _expand_back(g, in_shape, dims, keepdim):
    """A reduced gradient broadcast back over the reduced dims."""
    if not g._data.ndim and not _state.enabled:
        # a full reduction's gradient, its graph not kept (the loss's case): the broadcast
        # view itself, without expand's argument checks and op (10 us -> 2 us a backward)
        return g._new(g._backend.broadcast_to(g._data, tuple(in_shape)))
    if not keepdim and g.ndim:  # a 0-d gradient (a full reduction) expands as it is
        g = g.reshape(_kept_shape(in_shape, dims))
    return broadcast(g, in_shape)


class Sum(Function):
    grad_fn_name = "SumBackward0"
    _forward_runs_kernels_only = True

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.in_shape, ctx.dims, ctx.keepdim = x._data.shape, dims, keepdim
        return x._new(x._backend.reduce(SUM, x._data, dims, keepdim))

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g, ctx.in_shape, ctx.dims, ctx.keepdim), None, None


class SumDim(Sum):
    grad_fn_name = "SumBackward1"


class Mean(Function):
    grad_fn_name = "MeanBackward0"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        backend = x._backend
        data, narrow = x._data, x._data.dtype.itemsize == 2  # float16, bfloat16
        if narrow:  # PyTorch's mean of these: x.to(float), its sum, divided, rounded back
            data = backend.astype(data, np.float32)
        # the sum divided by the count, as PyTorch's CPU mean (a sum kernel, then div_)
        total = backend.reduce(SUM, data, dims, keepdim)
        ctx.count = x.numel() // builtins.max(total.size, 1) if x.numel() else 0
        if ctx.count == 0:  # the mean of nothing is NaN (0/0), as in PyTorch
            result = backend.binary(MUL, total, backend.scalar(math.nan, total.dtype))
        else:
            result = backend.binary(DIV, total, backend.scalar(ctx.count, total.dtype))
        return x._new(backend.astype(result, x._data.dtype) if narrow else result)

    @staticmethod
    def backward(ctx, g):
        scale = 1.0 / ctx.count if ctx.count else math.nan
        return _expand_back(g * scale, ctx.in_shape, ctx.dims, ctx.keepdim), None, None


class MeanDim(Mean):
    grad_fn_name = "MeanBackward1"


@numpy_aliases
@keepdim_needs_dim(dim_may_be_none=True)
def sum(x, dim=None, keepdim=False, dtype=None):
    if dim is None and dtype is None and x._data.dtype.kind == "f":
        return Sum.apply(x, (), keepdim)  # the loss's case: every dim, no cast
    if dtype is not None:
        x = ew.to_dtype(x, _dtype.as_dtype(dtype))
    elif not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = ew.to_dtype(x, _dtype.int64)  # integer and bool sums count in int64
    dims = _dims(dim, x.ndim, "sum")
    return (Sum if dim is None else SumDim).apply(x, dims, keepdim)


@numpy_aliases
@keepdim_needs_dim(dim_may_be_none=True)
def mean(x, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        x = ew.to_dtype(x, _dtype.as_dtype(dtype))
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        raise RuntimeError(
            f"mean(): could not infer output dtype. {'Input' if dtype is None else 'Optional'} dtype must be either "
            f"a floating point or complex dtype. Got: {_dtype.scalar_type_name(x.dtype)}")
    dims = _dims(dim, x.ndim, "mean")
    return (Mean if dim is None else MeanDim).apply(x, dims, keepdim)


# ---------------------------------------------------------------- norm


class Norm(Function):
    grad_fn_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        ctx.p, ctx.dims, ctx.keepdim = p, dims, keepdim
        backend = x._backend
        if x.ndim == 0:  # a 0-d tensor's norm is |x|: reduce it as a one-element vector
            out = Norm.forward(_UnrecordedCtx(), x.reshape(1), p, (), False)
            out = x._new(out._data.reshape(()))
            ctx.save_for_backward(x, out)
            return out
        data = backend.vector_norm(x._data, p, dims, keepdim)
        out = x._new(data)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, norm = ctx.saved_tensors
        p, dims, keepdim = ctx.p, ctx.dims, ctx.keepdim
        g = _expand_back(g, x.shape, dims, keepdim)
        norm = _expand_back(norm, x.shape, dims, keepdim)
        if p == 1:
            return g * ew.sign(x), None, None, None
        if p == math.inf:
            peak = (x.abs() == norm)
            count = _expand_back(peak.sum(dims or None, keepdim=True), x.shape, dims, True)
            return g * ew.sign(x) * peak / count, None, None, None
        # d||x||_p / dx = x |x|^(p-2) / ||x||^(p-1), written as PyTorch's norm_backward writes
        # it for each range of p (so that it rounds as PyTorch's does); 0 where the norm is 0
        # (PyTorch's choice), dividing by 1 there so that no 0/0 is ever computed
        zero = norm == 0
        safe = ew.where(zero, 1.0, norm)
        if p == 2:
            return g * ew.where(zero, 0.0, x / safe), None, None, None
        if p < 1:  # sgn(x) |x|^(p-1) is inf at x = 0, where PyTorch's gradient is 0
            scaled = (ew.sign(x) * x.abs() ** (p - 1)).masked_fill(x == 0, 0.0)
            return scaled * g * norm ** (1 - p), None, None, None
        scaled = ew.sign(x) * x.abs() ** (p - 1) if p < 2 else x * x.abs() ** (p - 2)
        return scaled * ew.where(zero, 0.0, g / safe ** (p - 1)), None, None, None


class NormDim(Norm):
    grad_fn_name = "LinalgVectorNormBackward0"


class _UnrecordedCtx:
    def save_for_backward(self, *tensors):
        pass


def norm(x, p="fro", dim=None, keepdim=False):
    if isinstance(x, Tensor) and x.dtype.is_complex and p != "nuc":  # the norm of the moduli
        x = x.abs()
    if p in ("fro", None):
        p = 2
    if p == "nuc":  # the sum of the singular values of the matrices in dims ``dim`` (all two when None)
        from .linalg_more import singular_norm
        dims = tuple(range(x.ndim)) if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) != 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}")
        return singular_norm(x, "nuc", dims, keepdim)
    if isinstance(p, str):
        raise RuntimeError(f"norm: p must be 'fro', 'nuc' or a number, got {p!r}")
    if not p > 0:  # 0 (the count of non-zeros), negative, -inf: linalg.vector_norm's, as torch.norm
        from ..linalg import vector_norm
        return vector_norm(x, p, dim, keepdim)
    if isinstance(x, Tensor) and not x.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {_dtype.scalar_type_name(x.dtype)}")
    x = ew._float_input(x, "norm")
    dims = _dims(dim, x.ndim, "norm")
    return (Norm if dim is None else NormDim).apply(x, float(p), dims, keepdim)


# ---------------------------------------------------------------- max / min


class MaxAll(Function):
    """max()/min() over the whole tensor: ties share the gradient evenly, as PyTorch."""

    grad_fn_name = "MaxBackward1"

    @staticmethod
    def forward(ctx, x, code):
        if x.numel() == 0:
            raise RuntimeError(f"{'max' if code == MAX else 'min'}(): Expected reduction dim to be "
                               "specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
        out = x._new(x._backend.reduce(code, x._data, (), False))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        # the extreme's positions (the nans, when it is nan) share g; 0 elsewhere, selected
        # rather than multiplied (g may be inf or nan): PyTorch's evenly_distribute_backward
        hit = (x == out) | (x.isnan() & out.isnan())
        return (g / hit.sum()).where(hit, 0.0), None


class MinAll(MaxAll):
    grad_fn_name = "MinBackward1"


class MaxDim(Function):
    """max(dim)/min(dim): values and indices; the gradient goes to the chosen element."""

    grad_fn_name = "MaxBackward0"

    @staticmethod
    def forward(ctx, x, code, dim, keepdim):
        if x.ndim and x.shape[dim] == 0:
            raise IndexError(f"{'max' if code == MAX else 'min'}(): Expected reduction dim {dim} to have "
                             "non-zero size.")
        data = x._data if x.ndim else x._data.reshape(1)
        values, indices = x._backend.argreduce(code, data, dim, keepdim or x.ndim == 0)
        if x.ndim == 0:
            values, indices = values.reshape(()), indices.reshape(())
        ctx.in_shape, ctx.dim, ctx.keepdim = x.shape, dim, keepdim
        ctx.flat_ids = None
        if ctx.needs_input_grad[0]:
            ctx.flat_ids = (x._backend.flat_positions(indices, x.shape, dim, keepdim) if x.ndim
                            else np.zeros((), np.int64))  # a 0-d tensor is its own maximum
        idx = x._new(indices)
        ctx.mark_non_differentiable(idx)
        return x._new(values), idx

    @staticmethod
    def backward(ctx, g, _):
        from .shape import scatter_flat
        return scatter_flat(g, ctx.flat_ids, ctx.in_shape), None, None, None


class MinDim(MaxDim):
    grad_fn_name = "MinBackward0"


def _extreme(x, dim, keepdim, code, name):
    if isinstance(dim, Tensor):  # max(a, b): elementwise
        return (ew.maximum if code == MAX else ew.minimum)(x, dim)
    if dim is None:
        return (MaxAll if code == MAX else MinAll).apply(x, code)
    d = _wrap_dim(dim, x.ndim, name)
    values, indices = (MaxDim if code == MAX else MinDim).apply(x, code, d, keepdim)
    return (max_result if code == MAX else min_result)(values, indices)


@numpy_aliases
@keepdim_needs_dim(dim_may_be_none=False)
def max(x, dim=None, keepdim=False):
    if x.dtype.is_complex or x._data.dtype.char in dtype_rules.LIMITED_CHARS:
        dtype_rules.check("max" if dim is None else "maximum" if isinstance(dim, Tensor) else "max_dim", x.dtype)
    return _extreme(x, dim, keepdim, MAX, "max")


@numpy_aliases
@keepdim_needs_dim(dim_may_be_none=False)
def min(x, dim=None, keepdim=False):
    if x.dtype.is_complex or x._data.dtype.char in dtype_rules.LIMITED_CHARS:
        dtype_rules.check("min" if dim is None else "minimum" if isinstance(dim, Tensor) else "min_dim", x.dtype)
    return _extreme(x, dim, keepdim, MIN, "min")


def _arg(x, dim, keepdim, code):
    name = "argmax" if code == MAX else "argmin"
    if x.numel() == 0 and dim is not None and x.ndim and x.shape[_wrap_dim(dim, x.ndim, name)] != 0:
        d = _wrap_dim(dim, x.ndim, name)  # nothing to search, but along a dim that has elements: empty
        shape = tuple(1 if i == d else n for i, n in enumerate(x.shape)) if keepdim else \
            tuple(n for i, n in enumerate(x.shape) if i != d)
        return x._new(x._backend.empty(shape, "int64"))
    if x.numel() == 0:
        raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
                         if dim is None else f"{name}(): Expected reduction dim {dim} to have non-zero size.")
    if dim is None:  # over every element; keepdim keeps every dim, each of size 1
        flat = x._backend.argreduce(code, x._data.reshape(-1), 0, False)[1]
        return x._new(flat.reshape((1,) * x.ndim) if keepdim else flat)
    d = _wrap_dim(dim, x.ndim, name)
    if x.ndim == 0:
        return x._new(x._backend.scalar(0, "int64"))
    return x._new(x._backend.argreduce(code, x._data, d, keepdim)[1])


@numpy_aliases
def argmax(x, dim=None, keepdim=False):
    dtype_rules.check("argmax", x.dtype)
    return _arg(x, dim, keepdim, MAX)


@numpy_aliases
def argmin(x, dim=None, keepdim=False):
    dtype_rules.check("argmin", x.dtype)
    return _arg(x, dim, keepdim, MIN)


def _empty_truth(x, dims, keepdim, value):
    """all/any of an empty tensor: True/False over the reduced dims (min/max have no identity)."""
    shape = np.zeros(x.shape, bool).sum(axis=tuple(dims) if dims else None, keepdims=keepdim).shape
    return x._new(x._backend.full(shape, value, "bool"))


@numpy_aliases
def all(x, dim=None, keepdim=False):
    dims = _dims(dim, x.ndim, "all")
    if x.numel() == 0:
        return _empty_truth(x, dims, keepdim, True)
    data = x._backend.astype(x._backend.astype(x._data, "bool"), "int64")
    return x._new(x._backend.astype(x._backend.reduce(MIN, data, dims, keepdim), "bool"))


@numpy_aliases
def any(x, dim=None, keepdim=False):
    dims = _dims(dim, x.ndim, "any")
    if x.numel() == 0:
        return _empty_truth(x, dims, keepdim, False)
    data = x._backend.astype(x._backend.astype(x._data, "bool"), "int64")
    return x._new(x._backend.astype(x._backend.reduce(MAX, data, dims, keepdim), "bool"))
