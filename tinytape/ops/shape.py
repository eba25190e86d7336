"""Shape, view and indexing operations.

Views (``view``, ``transpose``, ``expand``, basic indexing, ...) share their input's
storage and version counter.  Every indexing backward is one mechanism: the flat
positions of the selected elements, gathered forward and scatter-added backward (so
repeated indices accumulate).
"""
import math
import numbers
import warnings

import numpy as np

from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Function
from .._grad_mode import _state
from ..backend import for_device
from . import elementwise as ew


def _view_of(x, data, replay):
    """A tensor over ``data``, a view of ``x``'s storage: it shares ``x``'s version counter
    and remembers how it was cut from ``x`` (``replay`` does the same cut to any array of
    ``x``'s shape), so a write through it can be recorded on the base."""
    t = Tensor._make(data, version=x._version, be=x._be)
    t._view = (x, replay)
    return t


def view_base_and_ids(t):
    """(base tensor, flat positions in the base of each element of view ``t``)."""
    replays = []
    while t._view is not None:
        t, replay = t._view
        replays.append(replay)
    ids = np.arange(t.numel()).reshape(t.shape)
    for replay in reversed(replays):
        ids = replay(ids)
    return t, ids


# ---------------------------------------------------------------- flat gather / scatter


class TakeFlat(Function):
    """``x.flatten()[ids]`` shaped as ``ids``."""

    grad_fn_name = "TakeBackward0"

    @staticmethod
    def forward(ctx, x, ids):
        ctx.ids, ctx.in_shape = ids, x.shape
        return x._new(x._be.gather(x._data, ids))

    @staticmethod
    def backward(ctx, g):
        return scatter_flat(g, ctx.ids, ctx.in_shape), None


class ScatterFlat(Function):
    """Zeros of ``shape`` with ``src`` added at the flat positions ``ids``."""

    grad_fn_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, src, ids, shape):
        ctx.ids = ids
        return src._new(src._be.scatter_add(tuple(shape), ids, src._data))

    @staticmethod
    def backward(ctx, g):
        return take_flat(g, ctx.ids), None, None


def take_flat(x, ids):
    return TakeFlat.apply(x, ids)


def scatter_flat(src, ids, shape):
    return ScatterFlat.apply(src, ids, shape)


# ---------------------------------------------------------------- reshaping views


def _resolve_shape(shape, numel, op):
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    if math.prod(shape) != numel or any(s < 0 for s in shape):
        raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class View(Function):
    grad_fn_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, x, shape, must_view):
        ctx.in_shape = x.shape
        try:
            data = x._be.view(x._data, shape)
        except ValueError:
            if must_view:
                raise RuntimeError(
                    f"view size is not compatible with input tensor's size and stride (at least one "
                    f"dimension spans across two contiguous subspaces): view {list(x.shape)} as "
                    f"{list(shape)}. Use .reshape(...) instead.") from None
            return x._new(x._be.reshape(x._data, shape))
        return _view_of(x, data, lambda a: a.reshape(shape))

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None, None


def view(x, shape):
    return View.apply(x, _resolve_shape(shape, x.numel(), "view"), True)


def reshape(x, shape):
    shape = _resolve_shape(shape, x.numel(), "reshape")
    if shape == x.shape:
        return x
    return View.apply(x, shape, False)


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, (1,))
    s, e = _wrap_dim(start_dim, x.ndim, "flatten"), _wrap_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = x.shape
    return reshape(x, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


class Unsqueeze(Function):
    grad_fn_name = "UnsqueezeBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.in_shape = x.shape
        return _view_of(x, x._be.expand_dims(x._data, dim), lambda a: np.expand_dims(a, dim))

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


class Squeeze(Function):
    grad_fn_name = "SqueezeBackward0"

    @staticmethod
    def forward(ctx, x, dims):
        ctx.in_shape = x.shape
        return _view_of(x, x._be.squeeze(x._data, dims), lambda a: np.squeeze(a, dims) if dims else a)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


class SqueezeDim(Squeeze):
    grad_fn_name = "SqueezeBackward1"


def unsqueeze(x, dim):
    return Unsqueeze.apply(x, _wrap_dim(dim, x.ndim + 1, "unsqueeze"))


def squeeze(x, dim=None):
    if dim is None:
        return Squeeze.apply(x, tuple(i for i, s in enumerate(x.shape) if s == 1))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = tuple(d for d in (_wrap_dim(d, x.ndim, "squeeze") for d in dims) if x.ndim and x.shape[d] == 1)
    return SqueezeDim.apply(x, dims)


class Expand(Function):
    grad_fn_name = "ExpandBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        return _view_of(x, x._be.broadcast_to(x._data, shape), lambda a: np.broadcast_to(a, shape))

    @staticmethod
    def backward(ctx, g):
        return g, None  # the engine sums it back to the input's shape


def expand(x, sizes):
    sizes = tuple(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({x.ndim})")
    lead = len(sizes) - x.ndim
    shape = []
    for i, s in enumerate(sizes):
        old = x.shape[i - lead] if i >= lead else 1
        if s == -1:
            if i < lead:
                raise RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension")
            s = old
        if old != 1 and old != s:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({old}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(x.shape)}")
        shape.append(s)
    shape = tuple(shape)
    if shape == x.shape:
        return x
    return Expand.apply(x, shape)


class Permute(Function):
    grad_fn_name = "PermuteBackward0"

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return _view_of(x, x._be.permute(x._data, dims), lambda a: np.transpose(a, dims))

    @staticmethod
    def backward(ctx, g):
        inverse = tuple(sorted(range(len(ctx.dims)), key=ctx.dims.__getitem__))
        return permute(g, inverse), None


class Transpose(Function):
    grad_fn_name = "TransposeBackward0"

    @staticmethod
    def forward(ctx, x, d0, d1):
        ctx.d0, ctx.d1 = d0, d1
        return _view_of(x, x._be.swapaxes(x._data, d0, d1), lambda a: np.swapaxes(a, d0, d1))

    @staticmethod
    def backward(ctx, g):
        return transpose(g, ctx.d0, ctx.d1), None, None


class T(Transpose):
    grad_fn_name = "TBackward0"


def permute(x, dims):
    dims = tuple(_wrap_dim(d, x.ndim, "permute") for d in dims)
    if sorted(dims) != list(range(x.ndim)):
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not "
                           f"match the length of the desired ordering of dimensions i.e. input.dim() = "
                           f"{x.ndim} is not equal to len(dims) = {len(dims)}" if len(dims) != x.ndim
                           else f"permute: repeated dim in {list(dims)}")
    return Permute.apply(x, dims)


def transpose(x, dim0, dim1):
    if x.ndim == 0:
        return x
    return Transpose.apply(x, _wrap_dim(dim0, x.ndim, "transpose"), _wrap_dim(dim1, x.ndim, "transpose"))


def t(x):
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    if x.ndim < 2:
        return x
    return T.apply(x, 0, 1)


class Clone(Function):
    grad_fn_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, x):
        return x._new(x._be.copy(x._data))

    @staticmethod
    def backward(ctx, g):
        return g


def clone(x):
    return Clone.apply(x)


def contiguous(x):
    return x if x._data.flags.c_contiguous else Clone.apply(x)


class ToDevice(Function):
    grad_fn_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, device):
        ctx.source = x.device
        target = for_device(device)
        return Tensor._make(target.asarray(x._be.to_numpy(x._data)), be=target)

    @staticmethod
    def backward(ctx, g):
        return to_device(g, ctx.source), None


def to_device(x, device):
    return ToDevice.apply(x, device)


# ---------------------------------------------------------------- indexing


def _normalize_index(index):
    """(index tuple for the backend array, whether it is basic: ints/slices/None/...)."""
    if not isinstance(index, tuple):
        index = (index,)
    out, basic = [], True
    for item in index:
        if isinstance(item, Tensor):
            arr = item._be.to_numpy(item._data)
            if arr.ndim == 0 and arr.dtype.kind in "iu":
                out.append(int(arr))
                continue
            if arr.dtype.kind not in "iub":
                raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, got {item.dtype}")
            out.append(arr)
            basic = False
        elif isinstance(item, (list, np.ndarray)):
            arr = np.asarray(item)
            if arr.dtype.kind not in "iub":
                raise IndexError(f"index arrays must hold integers or bools, got {arr.dtype}")
            out.append(arr)
            basic = False
        elif isinstance(item, bool):
            out.append(item)
            basic = False
        elif isinstance(item, (numbers.Integral, slice)) or item is None or item is Ellipsis:
            if isinstance(item, slice) and item.step is not None and item.step <= 0:
                raise ValueError("step must be greater than zero")
            out.append(int(item) if isinstance(item, numbers.Integral) else item)
        else:
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                             f"Variables are valid indices (got {type(item).__name__})")
    if basic and Ellipsis not in out:
        out.append(Ellipsis)  # keeps an all-int index a 0-d view rather than a scalar
    return tuple(out), basic


def _flat_ids(shape, index):
    try:
        return np.arange(math.prod(shape)).reshape(shape)[index]
    except IndexError as e:
        raise IndexError(f"index {_show(index)} is invalid for a tensor of shape {list(shape)}: {e}") from None


def _show(index):
    return [i.tolist() if isinstance(i, np.ndarray) else i for i in index if i is not Ellipsis] or "..."


class Slice(Function):
    grad_fn_name = "SliceBackward0"

    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape, ctx.index = x.shape, index
        try:
            return _view_of(x, x._be.index(x._data, index), lambda a: a[index])
        except IndexError as e:
            raise IndexError(f"index {_show(index)} is out of range for a tensor of shape "
                             f"{list(x.shape)}: {e}") from None

    @staticmethod
    def backward(ctx, g):
        return scatter_flat(g, _flat_ids(ctx.in_shape, ctx.index), ctx.in_shape), None


class Select(Slice):
    grad_fn_name = "SelectBackward0"


class Index(Function):
    grad_fn_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape = x.shape
        ctx.ids = _flat_ids(x.shape, index)
        return x._new(x._be.gather(x._data, ctx.ids))

    @staticmethod
    def backward(ctx, g):
        return scatter_flat(g, ctx.ids, ctx.in_shape), None


def getitem(x, index):
    if x.ndim == 0 and isinstance(index, int) and not isinstance(index, bool) and index in (0, -1):
        # pre-0.4 code reads a scalar loss as loss.data[0]
        warnings.warn("indexing a 0-dim tensor with [0] is the pre-0.4 idiom; use tensor.item()",
                      DeprecationWarning, stacklevel=3)
        return x.item()
    if x.ndim == 0 and isinstance(index, (int, slice)) and not isinstance(index, bool):
        raise IndexError(f"invalid index {index!r} of a 0-dim tensor; use tensor.item() to get its number")
    idx, basic = _normalize_index(index)
    if not basic:
        return Index.apply(x, idx)
    all_ints = all(isinstance(i, int) for i in idx if i is not Ellipsis)
    return (Select if all_ints else Slice).apply(x, idx)


class CopySlices(Function):
    """``out = base`` with the elements at flat positions ``ids`` replaced by ``value`` (of
    ``ids``' shape): the recorded form of ``x[index] = value`` and of a write through a
    view of ``base``."""

    grad_fn_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, ids, value):
        data = base._be.copy(base._data)
        base._be.setitem(data.reshape(-1), ids.reshape(-1), base._be.contiguous(value._data).reshape(-1))
        ctx.ids, ctx.shape = ids, base.shape
        return base._new(data)

    @staticmethod
    def backward(ctx, g):
        grad_base = None
        if ctx.needs_input_grad[0]:
            keep = g._be.full(ctx.shape, 1, g._data.dtype)
            g._be.setitem(keep.reshape(-1), ctx.ids.reshape(-1), g._be.scalar(0, g._data.dtype))
            grad_base = g * g._new(keep)
        return grad_base, None, take_flat(g, ctx.ids) if ctx.needs_input_grad[2] else None


def _copy_slices(x, index, value):
    ids = _flat_ids(x.shape, index)
    while value.ndim > ids.ndim and value.shape[0] == 1:
        value = value.squeeze(0)  # numpy's rule: leading size-1 dims of the value drop out
    try:
        value = value.expand(ids.shape)
    except RuntimeError:
        raise ValueError(f"setitem: can't assign a value of shape {list(value.shape)} to index "
                         f"{_show(index)} of a tensor of shape {list(x.shape)} (selects {list(ids.shape)})") from None
    return CopySlices.apply(x, ids, value)


def setitem(x, index, value):
    idx, _ = _normalize_index(index)
    if not isinstance(value, Tensor):
        value = Tensor._make(x._be.scalar(value, x._data.dtype), be=x._be)
    elif value.dtype is not x.dtype:
        value = ew.to_dtype(value, x.dtype)
    if _state.enabled and (x._requires_grad or value._requires_grad):
        x._inplace("setitem", _copy_slices, idx, value)
        return
    x._check_inplace("setitem")
    try:
        x._be.setitem(x._data, idx, value._data)
    except (IndexError, ValueError) as e:
        raise type(e)(f"setitem: can't assign a value of shape {list(value.shape)} to index "
                      f"{_show(idx)} of a tensor of shape {list(x.shape)}: {e}") from None
    x._version[0] += 1


class Fill(Function):
    """``fill_``/``copy_``: every element replaced by ``value`` (broadcast)."""

    grad_fn_name = "FillBackward0"

    @staticmethod
    def forward(ctx, x, value):
        data = x._be.empty(x._data.shape, x._data.dtype)
        x._be.copy_into(data, value._data)
        return x._new(data)

    @staticmethod
    def backward(ctx, g):
        return None, g  # the engine sums it to the value's shape


def fill(x, value):
    if not isinstance(value, Tensor):
        value = Tensor._make(x._be.scalar(value, x._data.dtype), be=x._be)
    try:
        np.broadcast_shapes(value.shape, x.shape)
    except ValueError:
        raise RuntimeError(f"copy_: the source of shape {list(value.shape)} can't be broadcast to "
                           f"the destination's shape {list(x.shape)}") from None
    return Fill.apply(x, value)



class Cat(Function):
    grad_fn_name = "CatBackward0"

    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.dim, ctx.sizes = dim, [t.shape[dim] for t in tensors]
        first = tensors[0]
        return first._new(first._be.concatenate([t._data for t in tensors], dim))

    @staticmethod
    def backward(ctx, g):
        grads, start = [None], 0
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad[1:]):
            index = (slice(None),) * ctx.dim + (slice(start, start + size),)
            grads.append(g[index] if needed else None)
            start += size
        return tuple(grads)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    first = tensors[0]
    d = _wrap_dim(dim, first.ndim, "cat")
    for t in tensors[1:]:
        ew._check_device(first, t, "cat")
        if t.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != d):
            raise RuntimeError(f"cat(): Sizes of tensors must match except in dimension {d}; got "
                               f"{list(first.shape)} and {list(t.shape)}")
    dtype = first.dtype
    for t in tensors[1:]:
        dtype = ew._dtype.promote(dtype, t.dtype)
    tensors = [t if t.dtype is dtype else ew.to_dtype(t, dtype) for t in tensors]
    return Cat.apply(d, *tensors)


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0].shape
    for t in tensors[1:]:
        if t.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} "
                               f"and {list(t.shape)}")
    d = _wrap_dim(dim, len(shape) + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)
