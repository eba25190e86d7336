"""Shape, view and indexing operations.

Views (``view``, ``transpose``, ``expand``, basic indexing, ...) share their input's
storage and version counter.  Every indexing backward is one mechanism: the flat
positions of the selected elements, gathered forward and scatter-added backward (so
repeated indices accumulate).
"""
import math
import weakref

import numpy as np

from .._grad_mode import _state
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Function
from ..backend import for_device
from ..backend.layout import elementwise_order, in_operands_order


def _view_of(x, data, replay):
    """A tensor over ``data``, a view of ``x``'s storage: it shares ``x``'s version counter
    and remembers how it was cut from ``x`` (``replay`` does the same cut to any array of
    ``x``'s shape), so a write through it can be recorded on the base, and a write into the
    base can be seen by it (``view_history.rederive_views``)."""
    t = Tensor._make(data, version=x._version_counter, backend=x._backend)
    t._view = (x, replay)
    if _state.enabled:
        # (the view ops' forwards run in the caller's grad mode; a view made without it keeps
        # the history it has after such a write, where PyTorch refuses its use)
        _remember_view(x, t)
    return t


def _remember_view(x, view):
    base = x
    while base._view is not None:
        base = base._view[0]
    views = base._views
    if views is None:
        base._views = [weakref.ref(view)]
    else:
        views.append(weakref.ref(view))
        if len(views) >= 64 and len(views) & (len(views) - 1) == 0:
            views[:] = [ref for ref in views if ref() is not None]  # at each power of two: the dead go


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
        check_flat_ids(ids, x.numel(), None, "gather")
        ctx.ids, ctx.in_shape = ids, x._data.shape
        return x._new(x._backend.gather(x._data, ids))

    @staticmethod
    def backward(ctx, g):
        return scatter_flat(g, ctx.ids, ctx.in_shape), None


class TakeInLayout(TakeFlat):
    """``TakeFlat`` whose result is laid out in ``order`` (the axes, slowest in memory first;
    None for C order): ``ids`` (flat positions of ``x``'s C order) come shaped in that order,
    and the gathered values are permuted back (PyTorch's results that keep their input's
    memory order: ``flip``, ``sort``).  The gradient is C order, a scatter into ``x``'s shape."""

    @staticmethod
    def forward(ctx, x, ids, order=None):
        ctx.order = order
        values = TakeFlat.forward(ctx, x, ids)
        if order is not None:
            values = x._new(x._backend.permute(values._data, tuple(order.index(d) for d in range(len(order)))))
        return values

    @staticmethod
    def backward(ctx, g):
        return TakeFlat.backward(ctx, g if ctx.order is None else g.permute(ctx.order)) + (None,)


class ScatterFlat(Function):
    """Zeros of ``shape`` with ``src`` added at the flat positions ``ids``."""

    grad_fn_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, src, ids, shape):
        check_flat_ids(ids, math.prod(shape), src.shape, "scatter_add")
        ctx.ids, ctx.src_shape = ids, src.shape
        return src._new(src._backend.scatter_add(tuple(shape), ids, src._data))

    @staticmethod
    def backward(ctx, g):
        taken = take_flat(g, ctx.ids)
        return (taken if taken.shape == ctx.src_shape else taken.reshape(ctx.src_shape)), None, None


class ViewFromBase(TakeFlat):
    """A view's history re-derived from its base after a write through it: PyTorch
    regenerates the view as ``as_strided`` of the base, and names the entry so."""

    grad_fn_name = "AsStridedBackward0"


def check_flat_ids(ids, size, src_shape, op):
    """A source of exactly the positions' shape (the kernels check each position
    against ``size`` as they follow it)."""
    if src_shape is not None and math.prod(src_shape) != np.size(ids):
        raise RuntimeError(f"{op}: a source of shape {list(src_shape)} for {list(np.shape(ids))} positions")


def take_flat(x, ids):
    if not _state.enabled:  # nothing is recorded (an indexing backward): the forward's kernel, without apply
        return x._new(x._backend.gather(x._data, ids))
    return TakeFlat.apply(x, ids)


def scatter_flat(src, ids, shape):
    if not _state.enabled:  # the forward's check and kernel, without apply
        check_flat_ids(ids, math.prod(shape), src._data.shape, "scatter_add")
        return src._new(src._backend.scatter_add(tuple(shape), ids, src._data))
    return ScatterFlat.apply(src, ids, shape)


# ---------------------------------------------------------------- reshaping views


def _resolve_shape(shape, numel, op):
    # the common case first, in one loop: Python ints, at most one -1, the sizes adding up
    known, inferred = 1, -1
    for i, s in enumerate(shape):
        if type(s) is not int or s < -1 or (s == -1 and inferred >= 0):
            break  # numpy integers, a second -1, a negative size: the general path (and its errors)
        if s == -1:
            inferred = i
        else:
            known *= s
    else:
        if inferred < 0:
            if known == numel:
                return tuple(shape)
        elif known and not numel % known:
            shape = tuple(shape)
            return shape[:inferred] + (numel // known,) + shape[inferred + 1:]
    return _resolve_shape_general(shape, numel, op)


def _resolve_shape_general(shape, numel, op):
    # PyTorch's infer_size: its checks in its order, its words (which name no op)
    shape = tuple(int(s) for s in shape)
    known, inferred = 1, None
    for i, s in enumerate(shape):
        if s == -1:
            if inferred is not None:
                raise RuntimeError("only one dimension can be inferred")
            inferred = i
        elif s >= 0:
            known *= s
        else:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {list(shape)}")
    if numel == known or (inferred is not None and known > 0 and numel % known == 0):
        if inferred is None:
            return shape
        if known == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                               "unspecified dimension size -1 can be any value and is ambiguous")
        return shape[:inferred] + (numel // known,) + shape[inferred + 1:]
    raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")


class View(Function):
    grad_fn_name = "ViewBackward0"
    _forward_runs_kernels_only = True  # (a view made in the caller's grad mode: see _view_of)

    @staticmethod
    def forward(ctx, x, shape, must_view):
        ctx.in_shape = x._data.shape
        try:
            data = x._backend.view(x._data, shape)
        except ValueError:
            if must_view:
                raise RuntimeError(
                    "view size is not compatible with input tensor's size and stride (at least one "
                    "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None
            return x._new(x._backend.reshape(x._data, shape))
        return _view_of(x, data, lambda a: a.reshape(shape))

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None, None


def view(x, shape):
    return View.apply(x, _resolve_shape(shape, x.numel(), "view"), True)


class UnsafeView(View):
    grad_fn_name = "UnsafeViewBackward0"


def reshape(x, shape):
    # a view even for the same shape (ViewBackward0); else a contiguous clone viewed, as PyTorch
    shape = _resolve_shape(shape, x.numel(), "reshape")
    data = x._data
    if isinstance(data, np.ndarray) and not data.flags.c_contiguous:  # (CUDA arrays view contiguous ones only)
        try:
            data.reshape(shape, copy=False)
        except ValueError:
            return UnsafeView.apply(Contiguous.apply(x), shape, False)
    return View.apply(x, shape, False)


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, (1,))
    s, e = _wrap_dim(start_dim, x.ndim, "flatten"), _wrap_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return x  # PyTorch returns the tensor itself here
    shape = x.shape
    return reshape(x, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


class Unsqueeze(Function):
    grad_fn_name = "UnsqueezeBackward0"
    _forward_runs_kernels_only = True  # (a view made in the caller's grad mode: see _view_of)

    @staticmethod
    def forward(ctx, x, dim):
        ctx.in_shape = x._data.shape
        return _view_of(x, x._backend.expand_dims(x._data, dim), lambda a: np.expand_dims(a, dim))

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


class Squeeze(Function):
    grad_fn_name = "SqueezeBackward0"
    _forward_runs_kernels_only = True  # (a view made in the caller's grad mode: see _view_of)

    @staticmethod
    def forward(ctx, x, dims):
        ctx.in_shape = x._data.shape
        return _view_of(x, x._backend.squeeze(x._data, dims), lambda a: np.squeeze(a, dims) if dims else a)

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
    _forward_runs_kernels_only = True  # (a view made in the caller's grad mode: see _view_of)

    @staticmethod
    def forward(ctx, x, shape):
        if shape == x._data.shape:  # a plain (writable) view, as PyTorch's expand to the same sizes
            return _view_of(x, x._backend.squeeze(x._data, ()), lambda a: a.view())
        return _view_of(x, x._backend.broadcast_to(x._data, shape), lambda a: np.broadcast_to(a, shape))

    @staticmethod
    def backward(ctx, g):
        return g, None  # the engine sums it back to the input's shape


def expand(x, sizes):
    sizes = tuple(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(f"expand({x.type()}{{{list(x.shape)}}}, size={list(sizes)}): the number of sizes "
                           f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in the "
                           f"tensor ({x.ndim})")
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
    return Expand.apply(x, tuple(shape))  # a new tensor (ExpandBackward0) even for the same sizes


def broadcast(x, sizes):
    """``x`` itself where it has ``sizes``, else ``expand``: broadcasting inside an op (as
    PyTorch's ``broadcast_tensors``, which records nothing for a tensor of the shape)."""
    return x if tuple(x.shape) == tuple(sizes) else expand(x, sizes)


class Permute(Function):
    grad_fn_name = "PermuteBackward0"
    _forward_runs_kernels_only = True  # (a view made in the caller's grad mode: see _view_of)

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return _view_of(x, x._backend.permute(x._data, dims), lambda a: np.transpose(a, dims))

    @staticmethod
    def backward(ctx, g):
        inverse = tuple(sorted(range(len(ctx.dims)), key=ctx.dims.__getitem__))
        return permute(g, inverse), None


class Transpose(Function):
    grad_fn_name = "TransposeBackward0"
    _forward_runs_kernels_only = True  # (a view made in the caller's grad mode: see _view_of)

    @staticmethod
    def forward(ctx, x, d0, d1):
        ctx.d0, ctx.d1 = d0, d1
        return _view_of(x, x._backend.swapaxes(x._data, d0, d1), lambda a: np.swapaxes(a, d0, d1))

    @staticmethod
    def backward(ctx, g):
        return transpose(g, ctx.d0, ctx.d1), None, None


class T(Transpose):
    grad_fn_name = "TBackward0"


class TransposeInPlace(Transpose):  # the name of ``x.transpose_(0, 1)``'s entry (a batch_first RNN's output)
    grad_fn_name = "TransposeBackward1"


def permute(x, dims):
    if len(dims) != x.ndim:  # (PyTorch's words, sparse_coo and all)
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not "
                           f"match the length of the desired ordering of dimensions i.e. input.dim() = "
                           f"{x.ndim} is not equal to len(dims) = {len(dims)}")
    dims = tuple(_wrap_dim(d, x.ndim, "permute") for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
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
        # (in ``x``'s layout where ``x`` is dense: PyTorch's preserved memory format)
        return x._new(in_operands_order(x._backend, "copy", x._data))

    @staticmethod
    def backward(ctx, g):
        return g


def clone(x):
    return Clone.apply(x)


class Contiguous(Clone):
    """``contiguous``: a C-contiguous copy, whatever ``x``'s layout (PyTorch's grad_fn: a clone)."""
    grad_fn_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, x):
        return x._new(x._backend.copy(x._data))


def contiguous(x):
    return x if x._data.flags.c_contiguous else Contiguous.apply(x)


class ToDevice(Function):
    grad_fn_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, device):
        ctx.source = x.device
        target = for_device(device)
        if x._data.dtype.kind == "c" and target.device.type != "cpu":
            raise RuntimeError(f"to: complex tensors are CPU tensors in tinytape (a {x.dtype} tensor to {device} "
                               f"asked for); PyTorch's CUDA backend has them, tinytape's CUDA kernels are real-valued")
        # the copy keeps the source's memory order, as PyTorch's (``x.t().cuda()`` is transposed)
        order = elementwise_order(x._data.shape, (x._data,)) if x.ndim > 1 else None
        if order is None:
            return Tensor._make(target.asarray(x._backend.to_numpy(x._data)), backend=target)
        moved = target.asarray(x._backend.to_numpy(x._backend.permute(x._data, order)))
        return Tensor._make(target.permute(moved, tuple(order.index(d) for d in range(len(order)))), backend=target)

    @staticmethod
    def backward(ctx, g):
        return to_device(g, ctx.source), None


def to_device(x, device):
    return ToDevice.apply(x, device)


# cat and stack (in their own module, on the views above)
from .concat import Cat, Stack, _common_dtype, cat, stack  # noqa: E402,F401
