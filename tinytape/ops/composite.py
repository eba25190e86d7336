"""PyTorch functions built from tinytape's own recorded ops (views, flat gathers,
elementwise ops and reductions): each one's gradient, higher derivatives and CUDA path
are those of the ops it is made of.  Index arithmetic is done on the host with numpy;
only tensors reach the backends.  Pooling and convolution are in windows.py; selections
(flip, narrow, ...), scans (cumprod, ...), pointwise ops outside the op table (fmod, ...),
order statistics (median, kthvalue) and spreads (var_mean, dist) in their own files,
exported through the tables below.
"""
import math
import numbers
import warnings

import numpy as np

from .. import _creation, _dtype
from .._tensor import Tensor, _wrap_dim
from . import dtype_rules
from . import elementwise as ew
from . import linalg as la
from . import reduction as red
from . import order, pointwise, scans, selection, spread
from . import shape as sh
from .einsum import einsum
from .elimination import det, inverse
from .indexing import _tensor_positions, split_views
from .resampling import FUNCTIONAL as _RESAMPLING, interpolate
from .attention import scaled_dot_product_attention
from .nn_ops import dropout, layer_norm, normalize, pad, smooth_l1_loss
from .sampling import (bernoulli, bernoulli_, bincount, exponential_, histc, histogram,
                       multinomial, nonzero, normal_, random_,
                       uniform_, unique)
from .windows import _check_tensor, _constant, conv1d, conv2d
from .pooling import avg_pool2d, max_pool2d
from .scatter import scatter, scatter_


# ---------------------------------------------------------------- views and selections


def split(tensor, split_size_or_sections, dim=0):
    """Views of consecutive chunks along ``dim``: of ``split_size`` each (the last may be
    smaller), or of the listed sizes."""
    _check_tensor(tensor, "split", "tensor")
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if type(split_size_or_sections) is int or isinstance(split_size_or_sections, numbers.Integral):
        size = int(split_size_or_sections)
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
        if size == 0 and n != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = [min(size, n - start) for start in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                               f"size at dimension {d}), but got split_sizes={sizes}")
    with_sizes = not (type(split_size_or_sections) is int or isinstance(split_size_or_sections, numbers.Integral))
    return split_views(tensor, d, sizes, with_sizes)


def _triangle(x, diagonal, keep, op):
    _check_tensor(x, op)
    if x.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape {list(x.shape)}")
    rows, cols = x.shape[-2:]
    offset = np.arange(cols)[None, :] - np.arange(rows)[:, None]
    mask = _constant(x, keep(offset, diagonal), _dtype.bool_)
    # a where, not a product: inf above the diagonal still gives 0; False keeps a bool input bool
    return ew.where(mask, x, False if x.dtype is _dtype.bool_ else 0)


def tril(input, diagonal=0):
    return _triangle(input, diagonal, lambda off, k: off <= k, "tril")


def triu(input, diagonal=0):
    return _triangle(input, diagonal, lambda off, k: off >= k, "triu")


def ravel(input):
    return sh.reshape(input, (-1,))


from .repeat import repeat  # noqa: E402,F401


def meshgrid(*tensors, indexing=None):
    tensors = tuple(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)) else tensors
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
                      "argument.", UserWarning, stacklevel=_creation._user_stacklevel())
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t.ndim}D")
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        order[0], order[1] = 1, 0
    sizes = tuple(tensors[i].numel() for i in order)
    grids = []
    for k, t in enumerate(tensors):
        shape = [1] * len(tensors)
        shape[order.index(k)] = -1
        grids.append(sh.expand(sh.reshape(t, tuple(shape)), sizes))
    return tuple(grids)


def outer(input, vec2):
    for name, v in (("self", input), ("vec2", vec2)):
        if isinstance(v, Tensor) and v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D")
    return ew.mul(sh.unsqueeze(input, 1), sh.unsqueeze(vec2, 0))


def _diagonal_ids(shape, offset):
    rows, cols = shape
    start_r, start_c = max(-offset, 0), max(offset, 0)
    length = max(min(rows - start_r, cols - start_c), 0)
    return (start_r + np.arange(length)) * cols + start_c + np.arange(length)


def trace(input):
    dtype_rules.check("trace", input.dtype)
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    from .composite_entry import composite_op
    return composite_op("TraceBackward0", lambda x: red.sum(sh.take_flat(x, _diagonal_ids(x.shape, 0))), input)


def diag(input, diagonal=0):
    """The ``diagonal``-th diagonal of a matrix, or a square matrix with a vector on it."""
    from .composite_entry import composite_op
    if input.ndim == 2:
        return composite_op("DiagonalBackward0_copy",
                            lambda x: sh.take_flat(x, _diagonal_ids(x.shape, diagonal)), input)
    if input.ndim != 1:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    n = input.shape[0] + abs(diagonal)
    return composite_op("DiagEmbedBackward0",
                        lambda x: sh.scatter_flat(x, _diagonal_ids((n, n), diagonal), (n, n)), input)


def roll(input, shifts, dims=None):
    from .composite_entry import composite_op
    return composite_op("RollBackward0", lambda x: _roll(x, shifts, dims), input)


def _roll(input, shifts, dims=None):
    if dims is None:
        return sh.reshape(_roll(sh.flatten(input), shifts, 0), input.shape)
    shifts = (shifts,) if isinstance(shifts, numbers.Integral) else tuple(shifts)
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}")
    out = input
    for shift, dim in zip(shifts, dims):
        d = _wrap_dim(dim, input.ndim, "roll")
        n = input.shape[d]
        if n == 0:
            continue
        cut = (n - shift % n) % n
        lead = (slice(None),) * d
        out = sh.cat([out[lead + (slice(cut, None),)], out[lead + (slice(0, cut),)]], d)
    return out


def cross(input, other, dim=None):
    if dim is None:
        dim = next((d for d, s in enumerate(input.shape) if s == 3), None)
        if dim is None:
            raise RuntimeError(f"linalg.cross: no dimension of size 3 in input {list(input.shape)}")
    d = _wrap_dim(dim, input.ndim, "cross")
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got {input.shape[d]} "
                           f"and {other.shape[d]}")
    a = [input[(slice(None),) * d + (i,)] for i in range(3)]
    b = [other[(slice(None),) * d + (i,)] for i in range(3)]
    parts = [ew.sub(ew.mul(a[(i + 1) % 3], b[(i + 2) % 3]), ew.mul(a[(i + 2) % 3], b[(i + 1) % 3])) for i in range(3)]
    return sh.stack(parts, d)


# ---------------------------------------------------------------- small aliases and helpers


def chunk(input, chunks, dim=0):
    """At most ``chunks`` views of equal size (the last may be smaller) along ``dim``."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    n = input.shape[_wrap_dim(dim, input.ndim, "chunk")]
    if n == 0:  # PyTorch: ``chunks`` empty pieces
        return tuple(input.narrow(dim, 0, 0) for _ in range(chunks))
    return split(input, max(-(-n // chunks), 1), dim)


def unbind(input, dim=0):
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = _wrap_dim(dim, input.ndim, "unbind")
    from .indexing import UnbindSelect, _normalize_index
    return tuple(UnbindSelect.apply(input, _normalize_index((slice(None),) * d + (i,), keep_tensors=True)[0])
                 for i in range(input.shape[d]))


def index_select(input, dim, index):
    _check_tensor(index, "index_select", "index")
    if index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = _wrap_dim(dim, input.ndim, "index_select")
    if input.ndim == 0:  # PyTorch reads a 0-d tensor as one element along dim 0
        return sh.reshape(index_select(sh.reshape(input, (1,)), 0, index), ())
    if index.numel():  # checked on the backend, no wrapping from the end, in PyTorch's two kernels' words
        error = ((True, "INDICES element is out of DATA bounds, id=", f" axis_dim={input.shape[d]}") if d == 1
                 else (False, "index out of range in self", None))
        input._backend.positions(np.zeros(index.numel(), np.int64), sh.reshape(index, (-1,))._data,
                                 np.arange(index.numel()), 0, input.shape[d], False, error)
    from .composite_entry import composite_op
    return composite_op("IndexSelectBackward0", lambda x: x[(slice(None),) * d + (sh.reshape(index, (-1,)),)], input)


def isnan(input):
    return ew.ne(input, input)


def index_add(input, dim, index, source, alpha=1):
    """``input`` with ``alpha * source``'s slices added at positions ``index`` along ``dim``."""
    d = _wrap_dim(dim, input.ndim, "index_add")
    if isinstance(source, Tensor) and source.dtype is not input.dtype:
        raise RuntimeError(f"index_add_(): self ({_dtype.scalar_type_name(input.dtype)}) and source "
                           f"({_dtype.scalar_type_name(source.dtype)}) must have the same scalar type")
    if source.shape[d] != index.numel():  # (PyTorch's words and order of checks)
        raise RuntimeError(f"index_add_(): Number of indices ({index.numel()}) should be equal to source.size(dim): "
                           f"({source.shape[d]}), for dim: {d}")
    if tuple(source.shape[:d]) + tuple(source.shape[d + 1:]) != tuple(input.shape[:d]) + tuple(input.shape[d + 1:]):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(input.shape)} source.shape = {list(source.shape)}")
    if index.device == input.device and index.numel() and index.dtype in (_dtype.int64, _dtype.int32):
        # the positions computed and checked by the backend (a compiled step replays them)
        targets = _tensor_positions(input, (slice(None),) * d + (sh.reshape(index, (-1,)),), wrap=False,
                                    runtime_error=True)
    else:
        idx = index.cpu().numpy().astype(np.int64).reshape(-1)
        bad = idx[(idx < 0) | (idx >= input.shape[d])]
        if bad.size:
            raise RuntimeError(f"index {int(bad[0])} is out of bounds for dimension {d} with size {input.shape[d]}")
        grid = list(np.indices(source.shape))
        grid[d] = idx.reshape((1,) * d + (-1,) + (1,) * (source.ndim - d - 1)) + 0 * grid[d]
        targets = np.ravel_multi_index(tuple(grid), input.shape)
    if input.dtype in _dtype.LIMITED_UNSIGNED:  # PyTorch sums these slice by slice (its add refuses them)
        if input.ndim <= 1 or alpha != 1:  # its kernel of single elements, or a scaled source: refused
            kernel = "index_add_" if input.ndim <= 1 else "add_stub"
            raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'")
        wide = index_add(input.to(_dtype.int64), d, index, source.to(_dtype.int64), alpha)  # the same bits
        return wide.to(input.dtype)
    return ew.add(input, sh.scatter_flat(ew.mul(source, alpha) if alpha != 1 else source, targets, input.shape))


def index_add_(self, dim, index, source, alpha=1):
    return self._inplace("index_add_", index_add, dim, index, source, alpha)


def addcmul(input, tensor1, tensor2, value=1):
    return ew.addcmul(input, tensor1, tensor2, value)


def addcdiv(input, tensor1, tensor2, value=1):
    """``input + (value * tensor1) / tensor2``, in PyTorch's kernel's order."""
    return ew.addcdiv(input, tensor1, tensor2, value)


def addcmul_(self, tensor1, tensor2, value=1):
    return self._inplace("addcmul_", addcmul, tensor1, tensor2, value)


def addcdiv_(self, tensor1, tensor2, value=1):
    return self._inplace("addcdiv_", addcdiv, tensor1, tensor2, value)


def select(input, dim, index):
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, input.ndim, "select")
    n = input.shape[d]
    if isinstance(index, numbers.Integral) and not -n <= index < n:  # PyTorch's words for select's own index
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} "
                         f"at dimension {d}")
    return input[(slice(None),) * d + (index,)]


def swapaxes(input, axis0, axis1):
    return sh.transpose(input, axis0, axis1)


def type_as(input, other):
    return ew.to_dtype(input, other.dtype)


def bmm(input, mat2):
    return la.bmm(input, mat2)


def check_repeats_tensor(repeats):
    """PyTorch's checks of a tensor of repeats, in its order and words; its counts as int64."""
    if repeats.ndim > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    if repeats.dtype.is_floating_point or repeats.dtype.is_complex:
        raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for "
                                  f"'{_dtype.scalar_type_name(repeats.dtype)}'")
    counts = repeats.cpu().numpy().astype(np.int64).reshape(-1)
    if (counts < 0).any():
        raise RuntimeError("repeats can not be negative")
    return counts


def repeat_interleave(input, repeats, dim=None):
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place."""
    if dim is None:
        input, dim = sh.reshape(input, (-1,)), 0
    d = _wrap_dim(dim, input.ndim, "repeat_interleave")
    n = input.shape[d]
    if isinstance(repeats, Tensor):
        counts = check_repeats_tensor(repeats)
        if counts.size != 1 and counts.size != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {counts.size} and input.size(0) = {n}")
    else:
        counts = np.asarray(repeats).astype(np.int64).reshape(-1)
        if (counts < 0).any():
            raise RuntimeError("Repeats must be non-negative")
        if counts.size not in (1, n):
            raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {counts.size} and input.size(0) = {n}")
    counts = np.broadcast_to(counts, (n,))
    picks = np.repeat(np.arange(n), counts)
    grid = np.indices(tuple(input.shape[:d]) + (len(picks),) + tuple(input.shape[d + 1:]))
    grid[d] = picks.reshape((1,) * d + (-1,) + (1,) * (input.ndim - d - 1))
    return sh.take_flat(input, np.ravel_multi_index(tuple(grid), input.shape))




def _new_like(make):
    def new(self, *size, dtype=None, device=None, requires_grad=False):
        size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        return make(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)
    return new


def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    return _creation.tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                            requires_grad=requires_grad)


# ---------------------------------------------------------------- where each name is exported

_BREADTH = {
    "flip": selection.flip, "fliplr": selection.fliplr, "flipud": selection.flipud, "narrow": selection.narrow,
    "masked_select": selection.masked_select, "take": selection.take, "cumprod": scans.cumprod,
    "logcumsumexp": scans.logcumsumexp, "diff": scans.diff, "count_nonzero": scans.count_nonzero,
    "trapezoid": scans.trapezoid, "trapz": scans.trapz, "cumulative_trapezoid": scans.cumulative_trapezoid,
    "clamp_min": pointwise.clamp_min, "clamp_max": pointwise.clamp_max, "fmod": pointwise.fmod,
    "true_divide": pointwise.true_divide, "divide": ew.div, "median": order.median, "nanmedian": order.nanmedian,
    "kthvalue": order.kthvalue, "var_mean": spread.var_mean, "std_mean": spread.std_mean, "dist": spread.dist,
}
# tinytape.<name>; names the package defines itself take precedence
TORCH_FUNCTIONS = {
    "split": split, "tril": tril, "triu": triu, "ravel": ravel, "meshgrid": meshgrid, "outer": outer,
    "trace": trace, "diag": diag, "roll": roll, "scatter": scatter, "multinomial": multinomial,
    "bernoulli": bernoulli, "unique": unique, "cross": cross, "select": select, "swapaxes": swapaxes, "bmm": bmm,
    "repeat_interleave": repeat_interleave, "nonzero": nonzero, "histc": histc, "histogram": histogram,
    "mode": order.mode,
    "multiply": ew.mul, "pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan, "einsum": einsum,
    "chunk": chunk, "unbind": unbind, "index_select": index_select, "isnan": isnan, "index_add": index_add,
    "addcmul": addcmul, "addcdiv": addcdiv, "bincount": bincount, "det": det, "inverse": inverse,
    **_BREADTH,
}
# tinytape.nn.functional.<name>
FUNCTIONAL = {
    "max_pool2d": max_pool2d, "avg_pool2d": avg_pool2d, "conv2d": conv2d,
    "scaled_dot_product_attention": scaled_dot_product_attention, "normalize": normalize,
    "layer_norm": layer_norm, "smooth_l1_loss": smooth_l1_loss, "pad": pad, "conv1d": conv1d,
    "interpolate": interpolate, "dropout": dropout, **_RESAMPLING,
}
# Tensor.<name>, with the tensor first
TENSOR_METHODS = {
    "split": split, "tril": tril, "triu": triu, "ravel": ravel, "repeat": repeat, "outer": outer,
    "trace": trace, "diag": diag, "roll": roll, "scatter": scatter, "scatter_": scatter_,
    "multinomial": multinomial, "normal_": normal_, "uniform_": uniform_, "unique": unique, "cross": cross,
    "bernoulli": bernoulli, "bernoulli_": bernoulli_, "exponential_": exponential_,
    "select": select, "swapaxes": swapaxes, "type_as": type_as, "bmm": bmm, "repeat_interleave": repeat_interleave,
    "nonzero": nonzero, "histc": histc, "histogram": histogram, "mode": order.mode, "random_": random_,
    "new_tensor": new_tensor,
    "new_zeros": _new_like(_creation.zeros), "new_ones": _new_like(_creation.ones),
    "new_empty": _new_like(_creation.empty), "multiply": ew.mul, "chunk": chunk, "unbind": unbind,
    "index_select": index_select, "isnan": isnan, "index_add": index_add, "index_add_": index_add_,
    "addcmul": addcmul, "addcdiv": addcdiv, "addcmul_": addcmul_, "addcdiv_": addcdiv_, "bincount": bincount,
    "det": det, "inverse": inverse, "where": lambda self, condition, y: ew.where(condition, self, y),
    **{name: fn for name, fn in _BREADTH.items() if name not in ("var_mean", "std_mean")},
    "flip": selection._flip_method,
}
