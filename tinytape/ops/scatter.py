"""``scatter``, ``gather``, ``scatter_add`` and their index planning: the positions an index tensor writes (shared with
``index_add``, ``scatter_fill`` and advanced indexing's writes), from recorded flat gathers
and scatters, so gradients and the CUDA path are those ops'."""
import functools
import math

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Function
from ..backend.opcodes import ADD
from . import elementwise as ew
from . import shape as sh
from .windows import _check_tensor, _constant


def _check_scatter_index(input, dim, index, op):
    """The dim ``index`` runs along in ``input``, once its shapes and dtype are checked."""
    _check_tensor(input, op, "self")
    _check_tensor(index, op, "index")
    if index.dtype is not _dtype.int64 and index.dtype is not _dtype.int32:
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index")
    d = _wrap_dim(dim, input.ndim, op)
    if max(index.ndim, 1) != max(input.ndim, 1) and index.numel():  # a 0-d tensor counts as 1-d
        raise RuntimeError(f"Index tensor must have the same number of dimensions as "
                           f"{'input' if op == 'gather' else 'self'} tensor")
    for k, (i, s) in enumerate(zip(index.shape, input.shape)):
        if k != d and i > s:  # (gather's words name the dim, the scatters' do not)
            raise RuntimeError(f"{f'Size does not match at dimension {k} e' if op == 'gather' else 'E'}xpected index "
                               f"{list(index.shape)} to be no larger than self {list(input.shape)} apart from "
                               f"dimension {d}")
    return d


def _scatter_ids(input, dim, index, op):
    """Flat positions in ``input`` written by ``index`` along ``dim``, one per element of
    ``index`` (in its flat order), on the host: for the ops that plan with the values."""
    d = _check_scatter_index(input, dim, index, op)
    idx = index.cpu().numpy().astype(np.int64)
    n = input.shape[d] if input.ndim else 1
    bad = (idx < 0) | (idx >= n)
    if bad.any():
        raise RuntimeError(f"index {int(idx[bad][0])} is out of bounds for dimension {d} with size {n}")
    if not input.ndim:
        return idx.reshape(-1)
    idx = idx.reshape(idx.shape or (1,))  # a 0-d index into a 1-d tensor: one position
    grid = list(np.indices(idx.shape))
    grid[d] = idx
    return np.ravel_multi_index(tuple(grid), input.shape).reshape(-1)


def _scatter_positions(input, dim, index, op):
    """Flat positions in ``input`` of ``index``'s elements along ``dim``, shaped as
    ``index``, computed on the backend from its values (no host read, so a compiled
    program follows new indices); an index out of range is the op's RuntimeError,
    raised by the kernel."""
    d = _check_scatter_index(input, dim, index, op)
    n = input.shape[d] if input.ndim else 1
    shape, index_shape = tuple(input.shape) or (1,), tuple(index.shape) or (1,)
    base, where, stride = _scatter_plan(shape, index_shape, d)
    error = (True, "index ", f" is out of bounds for dimension {d} with size {n}")
    positions = input._backend.positions(base, index._data, where, stride, n, False, error)
    return positions if index.ndim else input._backend.reshape(positions, ())  # shaped as index


@functools.lru_cache(maxsize=256)
def _scatter_plan(shape, index_shape, d):
    """(base positions, which index element each reads, stride along ``d``): read-only
    arrays planned from the shapes, shared by the calls with these shapes."""
    size = math.prod(index_shape)
    if shape:
        grid = list(np.indices(index_shape, sparse=True))
        grid[d] = np.zeros((1,) * len(index_shape), np.int64)
        base = np.ravel_multi_index(tuple(np.broadcast_to(g, index_shape) for g in grid), shape) \
            if size else np.zeros(index_shape, np.int64)
        stride = math.prod(shape[d + 1:])
    else:
        base, stride = np.zeros(index_shape, np.int64), 1
    base = np.ascontiguousarray(base, np.int64)
    where = np.arange(size, dtype=np.int64).reshape(index_shape)
    base.flags.writeable = where.flags.writeable = False
    return base, where, stride


_REDUCE_WARNED = False


def _warn_reduce_deprecated():
    """PyTorch's deprecation of ``reduce=`` with a Tensor ``src``, once a process (TORCH_WARN_ONCE)."""
    global _REDUCE_WARNED
    if _REDUCE_WARNED:
        return
    _REDUCE_WARNED = True
    import warnings
    from .._creation import _user_stacklevel
    warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in a "
                  "future PyTorch release. Use torch.scatter_reduce instead for more reduction options.",
                  UserWarning, stacklevel=_user_stacklevel())


def scatter(input, dim, index, src=None, value=None, reduce=None):
    """``input`` with ``src[i][j][k]`` (or ``value``) written at ``[index[i][j][k]][j][k]``
    (for ``dim=0``; likewise for other dims).  ``reduce='add'`` adds instead of writing;
    where an index repeats without it, the last write wins."""
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src  # scatter(dim, index, 1.0): a number in src's place is a value
    if (src is None) == (value is None):
        raise TypeError("scatter(): expected exactly one of 'src' (a Tensor) or 'value' (a number)")
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
    if src is not None and src.dtype is not input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if reduce is not None and src is not None:
        _warn_reduce_deprecated()
    if reduce == "multiply":  # the sources' product times the element (PyTorch has no gradient for it)
        from .assorted import scatter_reduce
        if src is None:
            src = _constant(input, np.full(tuple(index.shape), value), input.dtype)
        return scatter_reduce(input, dim, index, src, "prod")
    if reduce is None:  # one entry under PyTorch's name
        from .composite_entry import composite_op
        if src is None:
            return composite_op("ScatterBackward1", lambda x: _scatter(x, dim, index, None, value, None), input)
        if isinstance(src, Tensor) and isinstance(index, Tensor) and src.shape != index.shape and src.requires_grad:
            # PyTorch's ScatterBackward0 gives src a gradient shaped as index: an error there
            src = _RefusedGradient.apply(src, f"Function ScatterBackward0 returned an invalid gradient at index 1 - "
                                              f"got {list(index.shape)} but expected shape compatible with "
                                              f"{list(src.shape)}")
        return composite_op("ScatterBackward0", lambda x, s: _scatter(x, dim, index, s, None, None), input, src)
    return _scatter(input, dim, index, src, value, reduce)


class _RefusedGradient(Function):
    """The identity whose backward raises ``message``: a gradient PyTorch cannot give."""

    @staticmethod
    def forward(ctx, x, message):
        ctx.message = message
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(ctx.message)


def _scatter(input, dim, index, src, value, reduce):
    targets = _scatter_ids(input, dim, index, "scatter")
    sources = np.arange(len(targets))
    if reduce is None:  # keep each target's last write
        sources = len(targets) - 1 - np.unique(targets[::-1], return_index=True)[1]
        targets = targets[sources]
    if src is not None:
        if src.ndim != index.ndim or any(i > s for i, s in zip(index.shape, src.shape)):
            raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self {list(input.shape)} "
                               f"apart from dimension {_wrap_dim(dim, input.ndim, 'scatter')} and to be no larger "
                               f"size than src {list(src.shape)}")
        src_ids = np.ravel_multi_index(np.unravel_index(sources, index.shape), src.shape) if src.ndim else sources
        values = ew.to_dtype(sh.take_flat(src, src_ids), input.dtype)
    else:
        values = _constant(input, np.full(len(targets), value), input.dtype)
    written = sh.scatter_flat(values, targets, input.shape)
    if reduce == "add":
        return ew.add(input, written)
    keep = np.ones(input.shape, bool)
    keep.reshape(-1)[targets] = False
    return ew.where(_constant(input, keep, _dtype.bool_), input, written)


def scatter_(self, dim, index, src=None, value=None, reduce=None):
    return self._inplace("scatter_", scatter, dim, index, src, value, reduce)



# ---------------------------------------------------------------- gather / scatter_add


class Gather(sh.TakeFlat):
    grad_fn_name = "GatherBackward0"


def gather(input, dim, index, *, sparse_grad=False):
    """``out[i][j] = input[index[i][j]][j]`` for ``dim=0`` (likewise for other dims)."""
    return Gather.apply(input, _scatter_positions(input, dim, index, "gather"))


class ScatterAdd(Function):
    """``input`` with ``src`` added at the flat positions ``ids`` (repeats accumulate)."""

    grad_fn_name = "ScatterAddBackward0"

    @staticmethod
    def forward(ctx, x, ids, src):
        ctx.ids = ids
        backend = x._backend
        added = backend.scatter_add(tuple(x.shape), ids, backend.contiguous(src._data))
        return x._new(backend.binary(ADD, x._data, added))

    @staticmethod
    def backward(ctx, g):
        return g, None, sh.take_flat(g, ctx.ids) if ctx.needs_input_grad[2] else None


def scatter_add(input, dim, index, src):
    ids = _scatter_positions(input, dim, index, "scatter_add")
    if not isinstance(src, Tensor) or src.ndim != index.ndim or any(i > s for i, s in zip(index.shape, src.shape)):
        raise RuntimeError(f"scatter_add(): expected src {list(getattr(src, 'shape', []))} to be a tensor no "
                           f"smaller than index {list(index.shape)} in every dimension")
    if src.shape != index.shape:
        src = src[tuple(slice(0, n) for n in index.shape)]
    if src.dtype is not input.dtype:  # scatter_add shares scatter's check in PyTorch, and its words
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    return ScatterAdd.apply(input, ids, src)


def scatter_add_(self, dim, index, src):
    return self._inplace("scatter_add_", scatter_add, dim, index, src)
