"""Reductions built from recorded ops (so their gradients, and second derivatives, follow):
var/std, prod, logsumexp (PyTorch's backward); cumsum (a kernel: PyTorch's running sums, bit for bit);
comparisons of whole tensors (equal, isclose, allclose); sort and topk (order chosen on
the host, values gathered on the tape)."""
import math
import warnings

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap_dim
from . import dtype_rules
from . import elementwise as ew
from .scatter import Gather
from .shape import TakeInLayout
from ..autograd.function import Function
from ..backend.layout import elementwise_order
from ..backend.opcodes import DIV, MAX, SQRT, SUB, SUM, SUMSQ
from .reduction import _dims, _kept_shape, _return_type, keepdim_needs_dim, numpy_aliases


def _reduced_count(x, dim):
    if dim is None:
        return x.numel()
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return math.prod(x.shape[_wrap_dim(d, x.ndim, "var")] for d in dims) if x.ndim else 1


def warn_degrees_of_freedom(op, x, dim, correction):
    """PyTorch's warning when ``correction`` leaves no degrees of freedom (the result is inf or nan)."""
    if _reduced_count(x, dim) - correction <= 0:
        from .._creation import _user_stacklevel
        warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the "
                      "reduction factor (input numel divided by output numel).", UserWarning,
                      stacklevel=_user_stacklevel())


class Var(Function):
    """Variance over ``dims`` with Bessel's ``correction``; PyTorch's gradient,
    ``2 / (n - correction) * g * (x - mean)``."""
    grad_fn_name = "VarBackward0"

    @staticmethod
    def forward(ctx, x, dim, correction, keepdim):
        ctx.save_for_backward(x)
        ctx.dim, ctx.correction, ctx.keepdim, ctx.n = dim, correction, keepdim, _reduced_count(x, dim)
        if _whole(x, dim, "var"):
            return _var_all(x, dim, correction, keepdim, False)
        # in float64, rounded once at the end, as PyTorch's CPU kernel (its float32 values)
        wide = x if x.dtype is _dtype.float64 else ew.to_dtype(x, _dtype.float64)
        centred = wide - wide.mean(dim, keepdim=True)
        n = ctx.n
        # divided by max(0, n - correction): no degrees of freedom give inf (or nan where the
        # squares are 0), as PyTorch (with its warning)
        squares = (centred * centred).sum(dim, keepdim=keepdim)
        out = squares / max(0, n - correction)
        return out if x.dtype is _dtype.float64 else ew.to_dtype(out, x.dtype)

    @staticmethod
    def _var_grad(ctx, g, x):
        if not ctx.keepdim and ctx.dim is not None and x.ndim:
            g = g.reshape(_kept_shape(x.shape, _dims(ctx.dim, x.ndim, "var")))
        if (ctx.dim is None or not x.ndim) and ctx.n - ctx.correction <= 0:
            # PyTorch's var_backward of a whole tensor without degrees of freedom: inf, nan
            # where an element equals the mean (inf * 0)
            return g * ew.where(x == x.mean(), math.nan, math.inf)
        scale = 2.0 / (ctx.n - ctx.correction) if ctx.n != ctx.correction else math.inf
        return g * scale * (x - x.mean(ctx.dim, keepdim=True))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return Var._var_grad(ctx, g, x), None, None, None


class Std(Var):
    """sqrt of the variance; the gradient 0 where the deviation is 0 (constant data), not
    the inf * 0 = nan of the chain rule: PyTorch's ``masked_fill_(result == 0, 0)``."""
    grad_fn_name = "StdBackward0"

    @staticmethod
    def forward(ctx, x, dim, correction, keepdim):
        if _whole(x, dim, "std"):
            ctx.dim, ctx.correction, ctx.keepdim, ctx.n = dim, correction, keepdim, x.numel()
            out = _var_all(x, dim, correction, keepdim, True)
            ctx.save_for_backward(x, out)
            return out
        wide = x if x.dtype is _dtype.float64 else ew.to_dtype(x, _dtype.float64)
        out = Var.forward(ctx, wide, dim, correction, keepdim).sqrt()
        out = out if x.dtype is _dtype.float64 else ew.to_dtype(out, x.dtype)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        return Var._var_grad(ctx, (g / (2 * out)).masked_fill(out == 0, 0.0), x), None, None, None


def _whole(x, dim, op):
    """Whether var/std of ``x`` over ``dim`` is of every element of a float32/float64
    tensor (PyTorch's ``std_var_all_cpu`` then: one output element)."""
    if not x.numel() or x.dtype not in (_dtype.float32, _dtype.float64):
        return False
    return dim is None or math.prod(s for d, s in enumerate(x.shape) if d not in _dims(dim, x.ndim, op)) == 1


def _var_all(x, dim, correction, keepdim, take_sqrt):
    """var/std of every element of a float32/float64 tensor as PyTorch's CPU kernel
    (``std_var_all_cpu``): the mean in ``x``'s dtype (its sum in PyTorch's order, divided),
    then, in float64, the squared deviations added one after another, divided by
    max(0, n - correction), the square root for std, rounded once to ``x``'s dtype."""
    backend, data = x._backend, x._data
    f64 = np.dtype(np.float64)
    n = data.size
    mean = backend.binary(DIV, backend.reduce(SUM, data, (), False), backend.scalar(n, data.dtype))
    centred = backend.binary(SUB, backend.astype(data, f64), backend.astype(mean, f64))
    squares = backend.reduce(SUMSQ, centred, (), False)  # float64, in order
    with np.errstate(divide="ignore", invalid="ignore"):
        out = backend.binary(DIV, squares, backend.scalar(max(0.0, n - correction), f64))
    if take_sqrt:
        out = backend.unary(SQRT, out)
    out = backend.astype(out, data.dtype)
    dims = _dims(dim, x.ndim, "var") or tuple(range(x.ndim))
    shape = _kept_shape(x.shape, dims) if keepdim else tuple(s for d, s in enumerate(x.shape) if d not in dims)
    return x._new(backend.reshape(out, shape))


def _var_args(input, dim, unbiased, correction, op):
    if isinstance(dim, bool):  # var(x, False): the old positional ``unbiased``
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return dim, correction


@numpy_aliases
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (1 by default; ``unbiased=False`` is 0)."""
    dim, correction = _var_args(input, dim, unbiased, correction, "var")
    warn_degrees_of_freedom("var", input, dim, correction)
    if input.dtype.is_complex:  # the mean squared modulus of the deviations: the parts' variances added
        return _complex_spread("VarBackward0", lambda v: v, input, dim, correction, keepdim)
    return Var.apply(input, dim, correction, keepdim)


@numpy_aliases
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, correction = _var_args(input, dim, unbiased, correction, "std")
    warn_degrees_of_freedom("std", input, dim, correction)
    if input.dtype.is_complex:
        return _complex_spread("StdBackward0", lambda v: v.sqrt(), input, dim, correction, keepdim)
    return Std.apply(input, dim, correction, keepdim)


def _complex_spread(grad_fn_name, finish, z, dim, correction, keepdim):
    from .composite_entry import composite_op

    def compute(t):
        parts = (Var.apply(part, dim, correction, keepdim) for part in (t.real, t.imag))
        return finish(ew.add(*parts))
    return composite_op(grad_fn_name, compute, z)


@numpy_aliases
@keepdim_needs_dim(dim_may_be_none=False)
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """The product over ``dim`` (every element when None) by pairwise halving: log2(n)
    products, exact where elements are zero; one tape entry, named as PyTorch's."""
    from .composite_entry import composite_op
    return composite_op("ProdBackward0" if dim is None else "ProdBackward1",
                        lambda t: _prod(t, dim, keepdim, dtype), input)


def _prod(input, dim, keepdim, dtype):
    x = input if dtype is None else input.to(dtype)
    if not (x.dtype.is_floating_point or x.dtype.is_complex) and x.dtype is not _dtype.int64:  # bool, ints: int64
        x = ew.to_dtype(x, _dtype.int64)
    if dim is None:
        x, d = x.reshape(-1), 0
    else:
        d = _wrap_dim(dim, x.ndim, "prod")
        if x.ndim == 0:
            return x * 1
        x = x.permute([d] + [i for i in range(x.ndim) if i != d])  # the reduced dim first
    while x.shape[0] > 1:
        n = x.shape[0]
        half = n // 2
        paired = x[:half] * x[half:2 * half]
        x = paired if n % 2 == 0 else _cat([paired, x[2 * half:]])
    if x.shape[0] == 0:
        from .._creation import ones
        x = ones((1,) + x.shape[1:], dtype=x.dtype, device=x.device)
    out = x[0]
    if keepdim:
        out = out.reshape((1,) * input.ndim) if dim is None else out.unsqueeze(d)
    return out


def _cat(parts, dim=0):
    from .shape import cat
    return cat(parts, dim)


class Cumsum(Function):
    """Running sums along ``d``, each the rounded sum of the elements so far in PyTorch's
    accumulator (float64 for float32); the gradient is the reversed running sum of g."""

    grad_fn_name = "CumsumBackward0"
    _forward_runs_kernels_only = True

    @staticmethod
    def forward(ctx, x, d):
        ctx.d = d
        return x._new(x._backend.cumsum(x._data, d))

    @staticmethod
    def backward(ctx, g):
        from .selection import flip
        d = ctx.d
        if g.numel() <= 1 or g.shape[d] == 1:
            return g, None
        return flip(Cumsum.apply(flip(g, (d,)), d), (d,)), None


def cumsum(input, dim, *, dtype=None):
    x = input if dtype is None else input.to(dtype)
    if x.dtype.is_complex:  # the parts' running sums
        from .composite_entry import composite_op
        from .complex import complex as make_complex
        return composite_op("CumsumBackward0", lambda t: make_complex(cumsum(t.real, dim), cumsum(t.imag, dim)), x)
    if not x.dtype.is_floating_point and x.dtype is not _dtype.int64:
        x = ew.to_dtype(x, _dtype.int64)  # integer and bool sums count in int64, as PyTorch's
    d = _wrap_dim(dim, x.ndim, "cumsum")
    if x.ndim == 0:
        return x * 1
    return Cumsum.apply(x, d)


class Logsumexp(Function):
    """log(sum(exp(x))) over ``dims``, shifted by the maximum for stability (a maximum that
    is infinite shifts by 0, so rows of -inf stay -inf); PyTorch's backward,
    g * exp(x - out)."""

    grad_fn_name = "LogsumexpBackward0"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        peak = x._new(x._backend.reduce(MAX, x._data, dims, True)) if x.ndim else x  # PyTorch's amax
        peak = ew.where(peak.abs() == math.inf, 0.0, peak)
        out = (x - peak).exp().sum(dims, keepdim=True).log() + peak
        out = out if keepdim else out.squeeze(dims) if x.ndim else out
        ctx.save_for_backward(x, out)
        ctx.dims, ctx.keepdim = dims, keepdim
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if not ctx.keepdim and x.ndim:
            kept = _kept_shape(x.shape, ctx.dims)
            g, out = g.reshape(kept), out.reshape(kept)
        return g * (x - out).exp(), None, None


@numpy_aliases
def logsumexp(input, dim, keepdim=False):
    x = ew._float_input(input, "logsumexp")
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = tuple(sorted({_wrap_dim(d, x.ndim, "logsumexp") for d in dims})) if x.ndim else dims
    if x.numel() == 0:  # the log of an empty sum: -inf, as PyTorch's
        shape = np.zeros(x.shape).sum(axis=dims or None, keepdims=keepdim).shape
        return x._new(x._backend.full(shape, -math.inf, x._data.dtype))
    return Logsumexp.apply(x, dims, keepdim)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol |other| elementwise (infinities equal only to themselves)."""
    if isinstance(input, Tensor) and isinstance(other, Tensor) and input.dtype is not other.dtype:
        raise RuntimeError(f"{_dtype.scalar_type_name(input.dtype)} did not match "
                           f"{_dtype.scalar_type_name(other.dtype)}")
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value < 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {value:g}")
    a, b = ew.operands(input, other, "isclose")
    if a.device.type == "cpu":  # one kernel call: a compiled program compares the replay's values
        from ..backend.cpu import cpu
        return Tensor._make(cpu.host_call(_isclose, a._data, b._data, rtol, atol, equal_nan), backend=a._backend)
    from .._creation import tensor
    return tensor(_isclose(a._backend.to_numpy(a._data), b._backend.to_numpy(b._data), rtol, atol, equal_nan),
                  device=a.device)


def _isclose(a, b, rtol, atol, equal_nan):
    return np.asarray(np.isclose(a, b, rtol, atol, equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other):
    """True when both have the same shape and elements (``torch.equal``)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"equal(): argument 'other' must be Tensor, not {type(other).__name__}")
    return input.shape == other.shape and bool(ew.eq(input, other).all())


sort_result, topk_result = _return_type("sort"), _return_type("topk")


class Sort(TakeInLayout):  # (laid out as its input)
    grad_fn_name = "SortBackward0"


def _inverse(order):
    return tuple(order.index(d) for d in range(len(order)))


class Topk(Gather):
    grad_fn_name = "TopkBackward0"


def _cpu_topk_order(device, host, d, k, largest, sort):
    """The order PyTorch's CPU topk gives, ties included (libstdc++'s selection, as
    ``stl_select``), or None where it is not that kernel's (another device, k = 0, or the
    smallest values of an array with NaNs, whose place that order does not copy)."""
    if device is not None or k == 0 or (not largest and np.isnan(host).any()):
        return None
    from ..backend.cpu import stl_select
    rows = np.moveaxis(host, d, -1).astype(np.float64)
    flat = np.ascontiguousarray(rows if largest else -rows).reshape(-1, host.shape[d])
    picked = stl_select.topk_rows(flat, k, sort).reshape(rows.shape[:-1] + (k,))
    return np.moveaxis(picked, -1, d)


def _ordered(x, dim, descending, k, op, cls, result, sort=True):
    """Values and indices of ``x`` ordered along ``dim`` (the first ``k``); the order is
    found on the host (stable, NaN as the largest), the values gathered on the tape."""
    if x.ndim == 0:
        from .._creation import zeros
        if k not in (None, 0, 1):
            raise RuntimeError(f"{op}(): selected index k out of range")
        _wrap_dim(dim, 0, op)
        return result(x.clone(), zeros((), dtype=_dtype.int64, device=x.device))  # x * 1 would make bool int64
    d = _wrap_dim(dim, x.ndim, op)
    # sort lays its results out as its input (dense strides inferred from a gapped or broadcast
    # one); topk's are C order
    layout = elementwise_order(x._data.shape, (x._data,)) if op == "sort" and x.ndim > 1 else None
    data, sorted_dim = x._data, d
    if layout is not None:
        data, sorted_dim = x._backend.permute(x._data, layout), layout.index(d)
    if x.device.type == "cpu":  # one kernel call: a compiled program finds the order again at each replay
        from ..backend.cpu import cpu
        order, ids = cpu.host_call(_order_and_positions, data, sorted_dim, descending, k, op, sort, None, layout)
    else:
        order, ids = _order_and_positions(x._backend.to_numpy(data), sorted_dim, descending, k, op, sort, x.device,
                                          layout)
    values = Sort.apply(x, ids, layout) if cls is Sort else cls.apply(x, ids)
    indices = Tensor._make(order, backend=x._backend) if x.device.type == "cpu" else _creation_tensor(order, x.device)
    if layout is not None:
        indices = Tensor._make(x._backend.permute(indices._data, _inverse(layout)), backend=x._backend)
    return result(values, indices)


def _creation_tensor(order, device):
    from .._creation import tensor
    return tensor(order, device=device)


def _order_and_positions(host, d, descending, k, op, sort, device=None, layout=None):
    """(order along ``d``, flat positions of the ordered values) of the host array ``host``:
    the input's axes permuted into ``layout`` where that is not None (the positions are of the
    input's own C order, both shaped as ``host``)."""
    x_shape = host.shape if layout is None else tuple(host.shape[layout.index(a)] for a in range(host.ndim))
    if host.dtype == np.bool_:
        host = host.astype(np.int8)
    order = np.argsort(-host if descending and host.dtype.kind != "f" else host, axis=d, kind="stable")
    if descending and host.dtype.kind == "f":
        # stable descending: sort the reversed axis ascending, then flip back (NaN first)
        rev = np.flip(host, d)
        order = np.flip(np.argsort(rev, axis=d, kind="stable"), d)
        order = host.shape[d] - 1 - order
    if k is not None:
        if not 0 <= k <= host.shape[d]:
            raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}" if op == "kthvalue"
                               else "selected index k out of range")
        picked = _cpu_topk_order(device, host, d, k, descending, sort) if op == "topk" else None
        order = np.take(order, np.arange(k), axis=d) if picked is None else picked
    grid = list(np.indices(order.shape))
    grid[d] = order
    if layout is not None:
        grid = [grid[layout.index(a)] for a in range(host.ndim)]
    ids = np.ravel_multi_index(tuple(grid), x_shape) if order.size else np.zeros(order.shape, np.int64)
    return np.ascontiguousarray(order, np.int64), ids


def sort(input, dim=-1, descending=False, stable=False):
    dtype_rules.check("sort", input.dtype)
    return _ordered(input, dim, descending, None, "sort", Sort, sort_result)


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending).indices


def topk(input, k, dim=-1, largest=True, sorted=True):
    if isinstance(input, Tensor):
        dtype_rules.check("topk", input.dtype)
    return _ordered(input, dim, largest, k, "topk", Topk, topk_result, sorted)


FUNCTIONS = {"var": var, "std": std, "prod": prod, "cumsum": cumsum, "logsumexp": logsumexp,
             "isclose": isclose, "allclose": allclose, "equal": equal, "sort": sort, "argsort": argsort,
             "topk": topk}
METHODS = dict(FUNCTIONS)
