"""Indexing: ``x[index]`` (basic indexing gives views; integer tensors, lists, ranges
and masks gather), ``x[index] = value``, ``fill_``/``copy_`` (``gather`` and ``scatter_add``:
``scatter.py``; ``masked_fill``: ``masking.py``).

Every index is resolved to flat positions on the host and checked against the tensor's
size before a kernel sees it (the kernels check nothing): a gather, scatter or setitem
out of range is an IndexError or RuntimeError here, never a read or write out of bounds.
"""
import functools
import math
import numbers
import warnings
from operator import itemgetter

import numpy as np

from .._grad_mode import _state
from .._memory import OVERLAP_MESSAGE, repeats_elements, writable_alias
from .._mirror_views import MIRRORED, after_write
from .._tensor import Tensor
from .._tracing import tracing
from ..autograd.function import Function
from .index_messages import _mismatch_words, _show, _torch_message
from .index_order import _torch_order
from .index_put_positions import put_at_positions, shaped_as, value_of
from . import overlap_writes
from .concat import Cat
from .shape import _view_of, scatter_flat, take_flat


# ---------------------------------------------------------------- indexing


def _normalize_index(index, keep_tensors=False):
    """(index tuple for the backend array, whether it is basic: ints/slices/None/...).
    With ``keep_tensors``, integer tensors of one or more dims stay tensors (their
    positions are computed on the backend, ``_tensor_positions``); masks and 0-dim
    tensors are read."""
    if not isinstance(index, tuple):
        index = (index,)
    out, basic = [], True
    for item in index:
        kind = type(item)  # the common items first, by exact type: numbers.Integral is an ABC (0.5 us a check)
        if kind is int or item is None or item is Ellipsis:
            out.append(item)
            continue
        if kind is slice:
            if item.step is not None and item.step <= 0:
                raise ValueError("slice step cannot be zero" if item.step == 0 else "step must be greater than zero")
            out.append(item)
            continue
        if keep_tensors and isinstance(item, Tensor) and item.ndim and item.dtype.name in _INT_INDEX:
            out.append(item)
            basic = False
            continue
        if isinstance(item, Tensor):
            arr = item._backend.to_numpy(item._data)
            if arr.dtype == np.uint8:  # a byte tensor is a mask, as PyTorch (deprecated there)
                warnings.warn("indexing with dtype tinytape.uint8 is now deprecated, please use a dtype "
                              "tinytape.bool instead.", UserWarning, stacklevel=4)
                arr = arr.astype(bool)
            if arr.ndim == 0 and arr.dtype.kind in "iu":
                out.append(int(arr))
                continue
            if arr.dtype.kind not in "iub":
                raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, got {item.dtype}")
            out.append(arr)
            basic = False
        elif isinstance(item, (list, tuple, np.ndarray, range)):  # a sequence inside the index: an index array
            arr = np.asarray(item, dtype=np.int64 if isinstance(item, range) else None)
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


_INT_INDEX = frozenset({"int64", "int32", "int16", "int8"})
_FULL = slice(None)


def _index_dims(index, ndim):
    """The dim of the indexed tensor each item of a normalized index starts at."""
    def width(item):
        if item is None or item is Ellipsis or isinstance(item, bool):
            return 0
        if isinstance(item, np.ndarray) and item.dtype == np.bool_:
            return item.ndim
        return 1
    used = sum(width(i) for i in index)
    dims, d = [], 0
    for item in index:
        dims.append(d)
        d += max(ndim - used, 0) if item is Ellipsis else width(item)
    return dims


def _tensor_positions(x, index, op=None, wrap=True, runtime_error=False):
    """Flat positions in ``x`` of an index holding integer tensors, shaped as the result.
    Shapes alone plan it on the host (``_position_plan``): ``base``, the positions with
    every tensor's value taken as 0, and for each tensor, which of its elements each
    result element reads; the backend then adds ``value * stride`` per tensor, checking
    each value against its dim's size (IndexError, as PyTorch; ``runtime_error``: a
    RuntimeError, as ``index_add_``'s), so nothing is read on the host.  ``wrap=False``: a
    negative value is out of range too (embedding's lookup)."""
    key = tuple(("tensor", i.shape) if isinstance(i, Tensor) else i for i in index)
    try:
        hash(key)
    except TypeError:  # a host array among the items: planned afresh
        base, steps = _position_plan.__wrapped__(tuple(x.shape), key)
    else:
        base, steps = _position_plan(tuple(x.shape), key)
    ids = base
    for k, where, stride, size, d in steps:
        error = (runtime_error, f"{op}: index " if op else "index ", f" is out of bounds for dimension {d} with size {size}")
        ids = x._backend.positions(ids, index[k]._data, where, stride, size, wrap, error)
    return ids


@functools.lru_cache(maxsize=256)
def _position_plan(shape, key):
    """(base positions, [(item, where, stride, size, dim) per tensor item]) for indexing
    ``shape`` with ``key`` (tensors as ``("tensor", shape)``): read-only arrays, shared
    by every call with the same shapes."""
    def is_tensor(item):
        return isinstance(item, tuple) and len(item) == 2 and item[0] == "tensor"
    zeros = tuple(np.zeros(i[1], np.int64) if is_tensor(i) else i for i in key)
    base = _flat_ids(shape, zeros)  # shape errors (too many indices, shapes that don't broadcast)
    steps = []
    if base.size:
        dims = _index_dims(zeros, len(shape))
        for k, item in enumerate(key):
            if not is_tensor(item):
                continue
            d, numel = dims[k], math.prod(item[1])
            n = max(numel, 1)
            helper = list(shape)
            helper[d] = n
            along = np.broadcast_to(np.arange(n).reshape([-1 if j == d else 1 for j in range(len(shape))]), helper)
            where = np.ascontiguousarray(along[tuple(np.arange(numel).reshape(item[1]) if j == k else z
                                                     for j, z in enumerate(zeros))], np.int64)
            where.flags.writeable = False
            steps.append((k, where, math.prod(shape[d + 1:]), shape[d], d))
    base = np.ascontiguousarray(base, np.int64)
    base.flags.writeable = False
    return base, tuple(steps)


def _flat_ids(shape, index):
    try:
        ids = np.arange(math.prod(shape)).reshape(shape)
        split = _torch_order(index)
        return ids[split[0]][split[1]] if split else ids[index]
    except IndexError as e:
        raise IndexError(_torch_message(e, True, shape, index)) from None


class Slice(Function):
    grad_fn_name = "SliceBackward0"
    _forward_runs_kernels_only = True  # (a view made in the caller's grad mode: see shape._view_of)

    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape, ctx.index = x._data.shape, index  # a plain tuple: no Size object kept on the tape
        try:
            return _view_of(x, x._backend.index(x._data, index), itemgetter(index))  # replay: a[index]
        except IndexError as e:
            raise IndexError(_torch_message(e, False, x.shape, index)) from None

    @staticmethod
    def backward(ctx, g):
        if not _state.enabled:  # no graph of the gradient to keep: zeros with g copied into the slice
            backend = g._backend
            grad = backend.zeros(tuple(ctx.in_shape), g._data.dtype)
            backend.setitem(grad, ctx.index, g._data)
            return g._new(grad), None
        return scatter_flat(g, _flat_ids(ctx.in_shape, ctx.index), ctx.in_shape), None


class Select(Slice):
    grad_fn_name = "SelectBackward0"


class Split(Function):
    """The pieces of ``split``/``chunk``: views of consecutive ranges along ``dim``, all
    outputs of one entry, as PyTorch's SplitBackward0.  Its backward joins the pieces'
    gradients in one concatenation; an entry per piece would each spread its gradient
    over zeros of the input's shape, for the engine to add up (a recurrent step's gates:
    three entries, three zero buffers and two additions where one copy does)."""
    grad_fn_name = "SplitBackward0"
    _forward_runs_kernels_only = True  # (views made in the caller's grad mode: see shape._view_of)
    _pieces_of_one_op = True  # refused after their base is written in place (shape.rederive_views)

    @staticmethod
    def forward(ctx, x, dim, indexes):
        ctx.dim = dim
        data, backend = x._data, x._backend
        return tuple(_view_of(x, backend.index(data, index), itemgetter(index)) for index in indexes)

    @staticmethod
    def backward(ctx, *grads):
        if not _state.enabled:  # no graph of the gradient to keep: the concatenation's kernel alone
            first = grads[0]
            return first._new(first._backend.concatenate([g._data for g in grads], ctx.dim)), None, None
        return Cat.apply(ctx.dim, *grads), None, None


class SplitWithSizes(Split):  # split with listed sizes
    grad_fn_name = "SplitWithSizesBackward0"


class UnbindSelect(Select):  # a piece of unbind
    grad_fn_name = "UnbindBackward0"
    _pieces_of_one_op = True  # refused after their base is written in place (shape.rederive_views)


class Alias(Slice):  # ``x[:]``, ``x[...]``: an index that selects everything
    grad_fn_name = "AliasBackward0"


class Unsqueeze(Slice):  # ``x[None]``, ``x[:, None]``: a new dim added last
    grad_fn_name = "UnsqueezeBackward0"


class Index(Function):
    grad_fn_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape = x._data.shape
        if any(isinstance(i, Tensor) for i in index):
            ctx.ids = _tensor_positions(x, index)
        else:
            ctx.ids = _flat_ids(x.shape, index)
        return x._new(x._backend.gather(x._data, ctx.ids))

    @staticmethod
    def backward(ctx, g):
        return scatter_flat(g, ctx.ids, ctx.in_shape), None


def _sequence_as_tuple(index):
    """PyTorch's (NumPy's old) reading of a list index holding a sequence, tensor, slice, None
    or Ellipsis (``x[[rows, cols]]``): as the tuple of its items, with PyTorch's warning."""
    if type(index) is not list or len(index) >= 32:
        return index
    for item in index:
        if item is None or item is Ellipsis or isinstance(item, (Tensor, slice, list, tuple, np.ndarray)):
            from .._creation import _user_stacklevel
            warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated and will be "
                          "changed in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will "
                          "be interpreted as tensor index, x[torch.tensor(seq)], which will result either in an "
                          "error or a different result", UserWarning, stacklevel=_user_stacklevel())
            return tuple(index)
    return index


def getitem(x, index):
    index = _sequence_as_tuple(index)
    if x.ndim == 0 and isinstance(index, int) and not isinstance(index, bool) and index in (0, -1):
        # pre-0.4 code reads a scalar loss as loss.data[0]
        warnings.warn("indexing a 0-dim tensor with [0] is the pre-0.4 idiom; use tensor.item()",
                      DeprecationWarning, stacklevel=3)
        return x.item()
    if x.ndim == 0 and isinstance(index, (int, slice)) and not isinstance(index, bool):
        raise IndexError(f"invalid index {index!r} of a 0-dim tensor; use tensor.item() to get its number")
    idx, basic = _normalize_index(index, keep_tensors=True)
    if not basic:
        split = _torch_order(idx)
        if split:  # the integers' selects first, as PyTorch
            return Index.apply(getitem(x, split[0]), split[1])
        return Index.apply(x, idx)
    # named after the last step PyTorch takes: the last item that is not a slice over its
    # whole dim (PyTorch skips those); none at all is PyTorch's alias
    last = _last_step(idx, x.shape) if type(index) is not slice else index  # x[:] alone: PyTorch slices
    return (Select if isinstance(last, int) else Unsqueeze if last is None
            else Alias if last is Ellipsis else Slice).apply(x, idx)


def _last_step(idx, shape):
    """The last item of a basic index that does something: an int, None, or a slice not
    covering its whole dim (Ellipsis when there is none)."""
    dims = _index_dims(idx, len(shape))
    for item, d in zip(reversed(idx), reversed(dims)):
        if item is Ellipsis:
            continue
        if type(item) is slice and (item == _FULL or d < len(shape) and item.indices(shape[d]) == (0, shape[d], 1)):
            continue
        return item
    return Ellipsis


def split_views(x, dim, sizes, with_sizes=False):
    """The views ``x[:, ..., start:start + size]`` along ``dim`` for consecutive ``sizes``
    (``split``'s pieces, checked there), recorded as one Split entry."""
    return (SplitWithSizes if with_sizes else Split).apply(x, dim, _split_indexes(dim, tuple(sizes)))


@functools.lru_cache(maxsize=1024)
def _split_indexes(dim, sizes):
    """The index tuple of each piece, shared by every step that cuts the same way (a
    recurrent step's chunks: no new tuples and slices kept on the tape per piece)."""
    indexes, start = [], 0
    for size in sizes:
        indexes.append((_FULL,) * dim + (slice(start, start + size), Ellipsis))
        start += size
    return tuple(indexes)


class CopySlices(Function):
    """``out = base`` with the elements at flat positions ``ids`` replaced by ``value`` (of
    ``ids``' shape): the recorded form of ``x[index] = value`` and of a write through a
    view of ``base``."""

    grad_fn_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, ids, value):
        data = base._backend.copy(base._data)
        base._backend.setitem(data.reshape(-1), ids.reshape(-1), base._backend.contiguous(value._data).reshape(-1))
        ctx.ids, ctx.shape = ids, base.shape
        return base._new(data)

    @staticmethod
    def backward(ctx, g):
        grad_base = None
        if ctx.needs_input_grad[0]:
            keep = g._backend.full(ctx.shape, 1, g._data.dtype)
            g._backend.setitem(keep.reshape(-1), ctx.ids.reshape(-1), g._backend.scalar(0, g._data.dtype))
            grad_base = g * g._new(keep)
        return grad_base, None, take_flat(g, ctx.ids) if ctx.needs_input_grad[2] else None


def _copy_slices(x, index, value):
    ids = _flat_ids(x.shape, index)
    return CopySlices.apply(x, ids, shaped_as(value, ids, x, index))


def setitem(x, index, value):
    index = _sequence_as_tuple(index)
    if tracing() and put_at_positions(x, _normalize_index(index, keep_tensors=True)[0], value, _tensor_positions,
                                      CopySlices):
        return  # (a compiled step writes where each replay's integer tensors say)
    idx, basic = _normalize_index(index)
    if not basic:
        if overlap_writes.repeats(x):
            overlap_writes.setitem_into_repeats(x, index, value)
            return
        overlap_writes.check_index_put_dtypes(x, index, value)
    value = value_of(x, value)
    if _state.enabled and (x._requires_grad or value._requires_grad):
        # (the memory a basic index selects: the storage's views outside it keep their histories)
        region = x._data[idx] if basic and isinstance(x._data, np.ndarray) else None
        x._inplace("setitem", _copy_slices, idx, value, region=region)
        return
    target = None
    if basic and isinstance(x._data, np.ndarray) and not x._data.flags.writeable and x._view is not None:
        # an expanded view: the part the index selects may repeat no memory location (as ``x[0]``)
        if repeats_elements(x._data[idx]):
            raise RuntimeError(OVERLAP_MESSAGE)
        target = writable_alias(x._data, repeats_only=False)
    if target is None:
        x._check_inplace("setitem")
        target = x._data
    try:
        split = _torch_order(idx)
        if split:  # the integers' selects first (a view), as PyTorch
            x._backend.setitem(x._backend.index(target, split[0] + (Ellipsis,)), split[1], value._data)
        else:
            x._backend.setitem(target, idx, value._data)
    except (IndexError, ValueError) as e:
        if isinstance(e, IndexError):
            raise IndexError(_torch_message(e, False, x.shape, idx)) from None
        words = _mismatch_words(x, idx, value)
        if words == "shape mismatch":  # no PyTorch words found: say what was written where
            words += f" (setitem: a value of shape {list(value.shape)} to index {_show(idx)} of a tensor of " \
                     f"shape {list(x.shape)})"
        raise RuntimeError(words) from None
    x._version_counter[0] += 1
    if MIRRORED:  # (conjugate/negative views of this memory follow)
        after_write(x)


class Fill(Function):
    """``fill_``/``copy_``: every element replaced by ``value`` (broadcast)."""

    grad_fn_name = "FillBackward0"

    @staticmethod
    def forward(ctx, x, value):
        data = x._backend.empty(x._data.shape, x._data.dtype)
        x._backend.copy_into(data, value._data)
        return x._new(data)

    @staticmethod
    def backward(ctx, g):
        # the overwritten tensor gets zeros (PyTorch's zeros_like), the value g (the engine sums
        # it to the value's shape)
        return (g.new_zeros(g.shape) if ctx.needs_input_grad[0] else None), g


class Zero(Fill):
    grad_fn_name = "ZeroBackward0"  # zero_


class FillNumber(Fill):
    grad_fn_name = "FillBackward2"  # fill_ with a number


class FillTensor(Fill):
    grad_fn_name = "FillBackward3"  # fill_ with a 0-d tensor


class Copy(Fill):
    grad_fn_name = "CopyBackwards"  # copy_


def fill(x, value, op=Fill):
    if not isinstance(value, Tensor):
        value = Tensor._make(x._backend.scalar(value, x._data.dtype), backend=x._backend)
    try:
        np.broadcast_shapes(value.shape, x.shape)
    except ValueError:
        raise RuntimeError(f"copy_: the source of shape {list(value.shape)} can't be broadcast to "
                           f"the destination's shape {list(x.shape)}") from None
    return op.apply(x, value)



from .masking import masked_fill, masked_fill_  # noqa: E402  (on the indexing above)
from .scatter import gather, scatter_add, scatter_add_  # noqa: E402

METHODS = {"gather": gather, "scatter_add": scatter_add, "scatter_add_": scatter_add_,
           "masked_fill": masked_fill, "masked_fill_": masked_fill_}
FUNCTIONS = {"gather": gather, "scatter_add": scatter_add, "masked_fill": masked_fill}
