"""More of PyTorch's functions, each a few recorded ops: aliases (``concat``, ``broadcast_to``,
``ger``, ``msort``), the splits of numpy (``hsplit``, ``vsplit``, ``dsplit``),
``quantile``/``nanquantile``, ``index_copy``, ``index_put``, ``frac``, ``new_full``,
``finfo``/``iinfo``, in-place forms, and where each name is exported (with the products of
``contractions.py`` and the builders of ``builders.py``)."""
import math
import numbers

import ml_dtypes
import numpy as np

from .. import _creation, _dtype
from .._tensor import Tensor, _wrap_dim
from .._memory import OVERLAP_MESSAGE
from .._mirror_views import MIRRORED, bits as mirror_bits
from . import elementwise as ew
from . import shape as sh
from .windows import _check_tensor, _constant
from .builders import (  # noqa: F401  (exported below)
    block_diag, cartesian_prod, combinations, triu_indices, tril_indices, diag_embed, diagflat)
from .contractions import (  # noqa: F401
    inner, vdot, tensordot, kron, addr, chain_matmul, multi_dot, vecdot)


# ---------------------------------------------------------------- aliases


def broadcast_to(input, size):
    return input.expand(tuple(size)) if isinstance(size, (tuple, list)) else input.expand(size)


def concat(tensors, dim=0):
    return sh.cat(tensors, dim)


def msort(input):
    return input.sort(dim=0)[0]


def frac(input):
    """``input - trunc(input)``, as PyTorch computes it (the sign of ``input`` kept)."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"frac_cpu\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'")
    from .composite_entry import composite_op
    return composite_op("FracBackward0", lambda x: ew.sub(x, x.trunc()), input)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    return _creation.full(tuple(size), fill_value, dtype=dtype or self.dtype, device=device or self.device,
                          requires_grad=requires_grad)


def xlogy(input, other):
    """``input * log(other)``, 0 where ``input`` is 0 (NaN where ``other`` is NaN)."""
    return xlog_family("xlogy", ("XlogyBackward0", "XlogyBackward1", "XlogyBackward2"), input, other)


def xlog_family(op, names, input, other):
    """``xlogy`` or ``xlog1py`` (the op table's kernels, PyTorch's scalar loops) of two tensors or
    a tensor and a number, recorded under PyTorch's name for which side is the number
    (``names``: both tensors, a number input, a number other)."""
    name = names[1] if not isinstance(input, Tensor) else names[2] if not isinstance(other, Tensor) else names[0]
    if not isinstance(input, Tensor):
        input = _creation.tensor(input, dtype=other.dtype if other.dtype.is_floating_point else None)
    if not isinstance(other, Tensor):
        other = _creation.tensor(other, dtype=input.dtype if input.dtype.is_floating_point else None)
    from .composite_entry import composite_op
    from .from_table import CLASSES

    def compute(x, y):
        a, b = ew.operands(x, y, op)
        if not a.dtype.is_floating_point:
            a, b = ew._float_input(a, op), ew._float_input(b, op)
        return CLASSES[op].apply(a, b)
    return composite_op(name, compute, input, other)


def data_ptr(self):
    """The address of the tensor's first element (a view's lies inside its base's storage)."""
    if MIRRORED and any(mirror_bits(self)) and self.numel():  # (a conjugate/negative view: its input's memory)
        base, ids = sh.view_base_and_ids(self)
        return data_ptr(base) + int(ids.reshape(-1)[0]) * base._data.itemsize
    data = self._data
    if hasattr(data, "ctypes"):
        return int(data.ctypes.data)
    interface = getattr(data, "__cuda_array_interface__", None)
    return int(interface["data"][0]) if interface else id(data)


def storage_offset(self):
    """Elements between the start of the storage a view shares and the view's first one."""
    if self._view is None or self.numel() == 0:
        return 0
    _, ids = sh.view_base_and_ids(self)
    return int(ids.reshape(-1)[0])


# ---------------------------------------------------------------- numpy's splits


def _numpy_split(input, spec, dim, op, min_dims):
    from .stacks import tensor_split
    if input.ndim < min_dims:
        raise RuntimeError(f"torch.{op} requires a tensor with at least {min_dims} dimension, but got a tensor "
                           f"with {input.ndim} dimensions!")
    if isinstance(spec, numbers.Integral):
        size = input.shape[dim]
        if spec == 0 or size % spec:
            raise RuntimeError(f"torch.{op} attempted to split along dimension {dim}, but the size of the "
                               f"dimension {size} is not divisible by the split_size {spec}!")
    return tensor_split(input, spec, dim)


def hsplit(input, indices_or_sections):
    return _numpy_split(input, indices_or_sections, 0 if input.ndim == 1 else 1, "hsplit", 1)


def vsplit(input, indices_or_sections):
    return _numpy_split(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input, indices_or_sections):
    return _numpy_split(input, indices_or_sections, 2, "dsplit", 3)


def _split_method(split):
    """The method form, which also takes the indices as separate arguments (``x.hsplit(1, 2)``)."""
    def method(self, *indices_or_sections):
        return split(self, indices_or_sections[0] if len(indices_or_sections) == 1 else indices_or_sections)
    method.__name__ = method.__qualname__ = split.__name__
    return method


# ---------------------------------------------------------------- quantiles


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, op):
    _check_tensor(input, op)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype")
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise RuntimeError(f"{op}() interpolation must be one of linear, lower, higher, midpoint or nearest. "
                           f"Got {interpolation}")
    scalar_q = not isinstance(q, Tensor) or q.ndim == 0
    qs = np.atleast_1d(np.asarray(q.tolist() if isinstance(q, Tensor) else q, dtype=np.float64))
    if isinstance(q, Tensor) and q.ndim > 1:
        raise RuntimeError(f"{op}() q must be a scalar or 1D tensor")
    if np.any((qs < 0) | (qs > 1)):
        raise RuntimeError(f"{op}() q values must be in the range [0, 1]")
    if dim is None:
        x, d = input.reshape(-1), 0
    else:
        x, d = input, _wrap_dim(dim, input.ndim, op)
    x = x.movedim(d, -1)
    n = x.shape[-1]
    if n == 0:
        raise IndexError(f"{op}() input tensor cannot be empty")
    ordered = x.sort(-1)[0]  # NaN sorts last
    nan_count = ew.ne(x, x).sum(-1, keepdim=True)
    valid = ew.sub(n, nan_count) if ignore_nan else _creation.full_like(nan_count, n)
    qt = _constant(x, qs, x.dtype)
    rank = ew.mul(ew.sub(ew.to_dtype(valid, x.dtype), 1), qt)  # (..., len(q))
    if interpolation == "lower":
        rank = rank.floor()
    elif interpolation == "higher":
        rank = rank.ceil()
    elif interpolation == "nearest":
        rank = rank.round()
    rank = rank.clamp(min=0)
    below = rank.floor().long().clamp(max=n - 1)
    above = rank.ceil().long().clamp(max=n - 1)
    lo, hi = ordered.gather(-1, below), ordered.gather(-1, above)
    if interpolation == "midpoint":
        weight = ew.mul(ew.to_dtype(ew.ne(below, above), x.dtype), 0.5)
    else:
        weight = ew.sub(rank, below.to(x.dtype))
    from .assorted import lerp
    out = lerp(lo, hi, weight)
    has_nan = ew.gt(nan_count, 0)
    if ignore_nan:
        has_nan = ew.eq(nan_count, n)
    out = ew.where(has_nan, math.nan, out)
    out = out.movedim(-1, 0)  # (len(q), ...)
    if keepdim:
        out = out.unsqueeze(d + 1) if dim is not None else out.reshape((len(qs),) + (1,) * input.ndim)
    return out[0] if scalar_q else out


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    from .composite_entry import composite_op  # PyTorch's last step is a squeeze, whatever the arguments
    return composite_op("SqueezeBackward4", lambda x: _quantile(x, q, dim, keepdim, interpolation, False, "quantile"),
                        input)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    from .composite_entry import composite_op
    return composite_op("SqueezeBackward4",
                        lambda x: _quantile(x, q, dim, keepdim, interpolation, True, "nanquantile"), input)


# ---------------------------------------------------------------- writes at indices


def _same_dtype_for_index_copy(input, source):
    if isinstance(source, Tensor) and source.dtype is not input.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{_dtype.scalar_type_name(input.dtype)} and (source) "
                           f"{_dtype.scalar_type_name(source.dtype)}")


def index_copy(input, dim, index, source):
    _same_dtype_for_index_copy(input, source)
    out = input.clone()
    d = _wrap_dim(dim, input.ndim, "index_copy") if input.ndim else 0
    _copy_at(out, d, index, source)
    return out


def _copy_at(out, d, index, source):
    try:
        out[(slice(None),) * d + (index,)] = source
    except IndexError as error:  # PyTorch's words name the op
        raise IndexError(f"index_copy_(): {error}") from None


def index_copy_(self, dim, index, source):
    from . import overlap_writes
    if overlap_writes.repeats(self):
        raise RuntimeError(OVERLAP_MESSAGE)
    _same_dtype_for_index_copy(self, source)
    d = _wrap_dim(dim, self.ndim, "index_copy_") if self.ndim else 0
    _copy_at(self, d, index, source)
    return self


def index_put_(self, indices, values, accumulate=False):
    from . import overlap_writes
    indices = tuple(indices)
    if not accumulate:
        self[indices] = values
        return self
    repeats = overlap_writes.repeats(self)
    if repeats:
        overlap_writes.warn_deprecated("index_put_")
    overlap_writes.check_index_put_dtypes(self, indices, values)
    positions = np.arange(self.numel()).reshape(tuple(self.shape))[tuple(
        i.numpy() if isinstance(i, Tensor) else i for i in indices)]
    ids = _creation.tensor(np.asarray(positions, np.int64).reshape(-1), device=self.device)
    vals = values.to(self.dtype).expand(positions.shape).reshape(-1) if isinstance(values, Tensor) else \
        _creation.full((ids.shape[0],), values, dtype=self.dtype, device=self.device)
    if repeats:  # each position adds to the memory it shares
        return overlap_writes.write_at(self, ids.numpy(), vals.numpy(), accumulate=True)
    return self._inplace("index_put_", lambda x, v: x.reshape(-1).index_add(0, ids, v).reshape(x.shape), vals)


def index_put(input, indices, values, accumulate=False):
    from .composite_entry import composite_op
    if isinstance(values, Tensor):
        return composite_op("IndexPutBackward0", lambda x, v: index_put_(x.clone(), indices, v, accumulate),
                            input, values)
    return composite_op("IndexPutBackward0", lambda x: index_put_(x.clone(), indices, values, accumulate), input)


# ---------------------------------------------------------------- dtype limits


class finfo:
    """The limits of a floating dtype, as ``torch.finfo``."""
    __module__ = "tinytape"  # printed as PyTorch prints it: <class 'torch.finfo'>

    def __init__(self, type=None):
        dtype = _dtype.as_dtype(type) if type is not None else _dtype.get_default_dtype()
        if not dtype.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")  # (PyTorch's message names the class, not the dtype)
        info = ml_dtypes.finfo(dtype.np) if dtype is _dtype.bfloat16 else np.finfo(dtype.np)
        self.bits, self.dtype = info.bits, dtype.name
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -info.precision

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """The limits of an integer dtype, as ``torch.iinfo``."""
    __module__ = "tinytape"  # printed as PyTorch prints it: <class 'torch.iinfo'>

    def __init__(self, type):
        dtype = _dtype.as_dtype(type)
        if dtype is _dtype.bool_:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if dtype.is_floating_point:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                            "'torch.iinfo'")
        info = np.iinfo(np.uint8 if dtype is _dtype.bool_ else dtype.np)
        self.bits, self.min, self.max, self.dtype = info.bits, int(info.min), int(info.max), dtype.name

    def __repr__(self):
        return f"iinfo(min={float(self.min):g}, max={float(self.max):g}, dtype={self.dtype})"


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced (by 0 and the dtype's largest and lowest finite values by
    default); integer tensors come back as a copy."""
    _check_tensor(input, "nan_to_num")
    if not input.dtype.is_floating_point:
        return input.clone()
    info = finfo(input.dtype)
    high = info.max if posinf is None else posinf
    low = info.min if neginf is None else neginf
    from .composite_entry import composite_op

    def compute(x):
        out = ew.where(ew.eq(x, math.inf), high, x)
        out = ew.where(ew.eq(x, -math.inf), low, out)
        return ew.where(ew.ne(x, x), nan, out)
    return composite_op("NanToNumBackward0", compute, input)


# ---------------------------------------------------------------- in-place forms


def _inplace_form(name):
    """``Tensor.<name>_``: the out-of-place method's result written into the tensor (the
    recording, version counter and view rules of ``Tensor._inplace``)."""
    def method(self, *args, **kwargs):
        fn = getattr(Tensor, name)
        slots = [i for i, a in enumerate(args) if isinstance(a, Tensor)]

        def with_tensors(x, *tensors):  # (the tensor arguments passed in, where they were)
            full = list(args)
            for i, t in zip(slots, tensors):
                full[i] = t
            return fn(x, *full, **kwargs)
        return self._inplace(f"{name}_", with_tensors, *(args[i] for i in slots))
    method.__name__ = method.__qualname__ = f"{name}_"
    return method


# methods PyTorch has an in-place form of, whose result keeps the tensor's shape
INPLACE_FORMS = ("abs", "sqrt", "rsqrt", "floor", "ceil", "round", "trunc", "frac", "sign", "sigmoid", "tanh", "log",
                 "log2", "log10", "log1p", "expm1", "exp2", "reciprocal", "square", "sin", "cos", "tan", "asin",
                 "acos", "atan", "sinh", "cosh", "fmod", "remainder", "clip", "atan2", "cumsum", "cumprod",
                 "hypot", "logical_not", "logical_and", "logical_or", "logical_xor", "bitwise_not", "erf",
                 "erfinv", "nan_to_num", "deg2rad", "rad2deg", "xlogy", "maximum", "minimum", "fmax", "fmin",
                 "tril", "triu", "masked_fill", "index_fill", "clamp_min", "clamp_max", "float_power",
                 "logit", "heaviside", "copysign", "floor_divide", "true_divide", "multiply", "divide",
                 "subtract", "negative", "absolute", "arctan2", "gcd", "lcm", "sub", "ne", "eq", "lt", "le",
                 "gt", "ge", "mul", "div")


def resize_(self, *sizes):
    """The tensor with ``sizes``, keeping its leading elements (new ones uninitialised)."""
    shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes)
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    n = math.prod(shape)
    flat = self._backend.contiguous(self._data).reshape(-1)
    if n <= flat.shape[0]:
        data = flat[:n].reshape(shape)
    else:
        data = self._backend.empty(shape, flat.dtype)
        data.reshape(-1)[:flat.shape[0]] = flat
    self._data = self._backend.contiguous(data)
    self._version_counter[0] += 1
    return self


def renorm(input, p, dim, maxnorm):
    """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled to norm ``maxnorm``:
    PyTorch's factor ``maxnorm / (norm + 1e-7)``, the norm in float32 for half types."""
    from . import reduction as red
    from .composite_entry import composite_op
    _check_tensor(input, "renorm")
    if input.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    if not p > 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {_dtype.scalar_type_name(input.dtype)}")
    d = _wrap_dim(dim, input.ndim, "renorm")
    dims = tuple(i for i in range(input.ndim) if i != d)

    def compute(x):
        acc = x if x.dtype.itemsize >= 4 else x.to(_dtype.float32)
        norm = red.norm(acc, float(p), dims, True)
        factor = ew.where(ew.gt(norm, maxnorm), ew.div(_constant(norm, maxnorm), ew.add(norm, 1e-7)),
                          _constant(norm, 1.0))
        return sh.contiguous(ew.mul(x, factor.to(x.dtype)))  # (PyTorch's renorm writes C order)
    return composite_op("RenormBackward0", compute, input)


# ---------------------------------------------------------------- where each name is exported

FUNCTIONS = {
    "broadcast_to": broadcast_to, "concat": concat, "concatenate": concat, "msort": msort, "frac": frac,
    "hsplit": hsplit, "vsplit": vsplit, "dsplit": dsplit, "inner": inner, "vdot": vdot, "addr": addr,
    "tensordot": tensordot, "kron": kron, "chain_matmul": chain_matmul, "block_diag": block_diag,
    "cartesian_prod": cartesian_prod, "combinations": combinations, "triu_indices": triu_indices,
    "tril_indices": tril_indices, "diag_embed": diag_embed, "diagflat": diagflat, "quantile": quantile,
    "nanquantile": nanquantile, "index_copy": index_copy, "index_put": index_put, "finfo": finfo, "iinfo": iinfo,
    "xlogy": xlogy, "nan_to_num": nan_to_num, "renorm": renorm,
}
METHODS = {
    "broadcast_to": broadcast_to, "msort": msort, "frac": frac, "hsplit": _split_method(hsplit),
    "vsplit": _split_method(vsplit), "dsplit": _split_method(dsplit), "inner": inner, "vdot": vdot, "addr": addr, "kron": kron, "diag_embed": diag_embed, "diagflat": diagflat,
    "quantile": quantile, "nanquantile": nanquantile, "index_copy": index_copy, "index_copy_": index_copy_,
    "index_put": index_put, "index_put_": index_put_, "new_full": new_full, "xlogy": xlogy,
    "data_ptr": data_ptr, "storage_offset": storage_offset, "resize_": resize_,
    "nan_to_num": nan_to_num, "renorm": renorm,
    "renorm_": lambda self, p, dim, maxnorm: self._inplace("renorm_", renorm, p, dim, maxnorm),
    "frac_": lambda self: self._inplace("frac_", frac),
    "nbytes": property(lambda self: self.numel() * self.dtype.itemsize),
    "itemsize": property(lambda self: self.dtype.itemsize),
}
LINALG = {"multi_dot": multi_dot, "vecdot": vecdot}
