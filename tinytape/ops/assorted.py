"""More of PyTorch's functions, built from tinytape's recorded ops: lerp, tensor_split, the
stacks (hstack, vstack, ...), index_fill, masked_scatter, broadcast_tensors, the matrix
functions of ``linalg`` (solve, inv, det, cross), cdist, bucketize/searchsorted,
cummax/cummin, scatter_reduce, argwhere and the ``addmm`` family's exports.

Where PyTorch records one entry under its own name (``LerpBackward0``, ``LinalgDetBackward0``)
and tinytape computes the op from several recorded ops, ``composite_op`` gives it that one
entry: forward runs the composition with nothing recorded; backward runs it again, recorded,
and differentiates it (so ``create_graph=True`` and every backend work as for the parts).
"""
import math
import numbers

import numpy as np

from .. import _creation, _dtype
from .._grad_mode import _state
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Function
from . import elementwise as ew
from . import linalg as la
from . import reduction as red
from . import shape as sh
from .elimination import det as _det, inverse as _inverse
from .sampling import nonzero
from .windows import _check_tensor, _constant


# ---------------------------------------------------------------- one entry for a composition


class _Composite(Function):
    """``compute(*tensors)`` as one tape entry.  ``compute`` is the first argument (a
    closure holding the op's non-tensor arguments); its tensor arguments follow."""

    @staticmethod
    def forward(ctx, compute, *tensors):
        ctx.compute = compute
        ctx.save_for_backward(*tensors)
        out = compute(*tensors)  # grad mode is off here: nothing is recorded
        return out.detach() if out.grad_fn is not None or out.requires_grad else out

    @staticmethod
    def backward(ctx, g):
        from ..autograd import grad as _grad
        from .._grad_mode import enable_grad
        inputs = ctx.saved_tensors
        wanted = [i for i, x in enumerate(inputs) if ctx.needs_input_grad[i + 1]]
        create_graph = _state.enabled
        with enable_grad():
            # for a first derivative, fresh leaves keep the inner graph away from the inputs' own
            leaves = list(inputs) if create_graph else [
                x.detach().requires_grad_(True) if i in wanted else x for i, x in enumerate(inputs)]
            out = ctx.compute(*leaves)
            grads = _grad(out, [leaves[i] for i in wanted], g, allow_unused=True, create_graph=create_graph)
        result = [None] * (len(inputs) + 1)
        for i, gi in zip(wanted, grads):
            result[i + 1] = gi if gi is not None else ew.mul(inputs[i].detach(), 0)
        return tuple(result)


_COMPOSITES = {}


def composite_op(grad_fn_name, compute, *tensors):
    """Run ``compute(*tensors)`` recorded as one entry named ``grad_fn_name``."""
    cls = _COMPOSITES.get(grad_fn_name)
    if cls is None:
        cls = _COMPOSITES[grad_fn_name] = type(grad_fn_name[:-len("Backward0")], (_Composite,),
                                               {"grad_fn_name": grad_fn_name})
    return cls.apply(compute, *tensors)


# ---------------------------------------------------------------- elementwise


def lerp(input, end, weight):
    """``input + weight * (end - input)``, PyTorch's formula: from ``end`` where
    ``|weight| >= 0.5`` (exact at both ends)."""
    _check_tensor(input, "lerp", "input")
    _check_tensor(end, "lerp", "end")
    if input.dtype is not end.dtype:
        raise RuntimeError(f"lerp: expected dtype {input.dtype} for `end` but got dtype {end.dtype}")

    def compute(a, b, w=weight):
        diff = ew.sub(b, a)
        small = ew.lt(ew.abs(w), 0.5) if isinstance(w, Tensor) else abs(w) < 0.5
        if not isinstance(w, Tensor):
            return ew.add(a, ew.mul(diff, w)) if small else ew.sub(b, ew.mul(diff, 1 - w))
        return ew.where(small, ew.add(a, ew.mul(w, diff)), ew.sub(b, ew.mul(diff, ew.sub(1, w))))

    if isinstance(weight, Tensor):
        if weight.dtype is not input.dtype:
            raise RuntimeError(f"lerp: expected dtype {input.dtype} for `weight` but got dtype {weight.dtype}")
        return composite_op("LerpBackward1", lambda a, b, w: compute(a, b, w), input, end, weight)
    return composite_op("LerpBackward0", compute, input, end)


def lerp_(self, end, weight):
    return self._inplace("lerp_", lerp, end, weight)


# ---------------------------------------------------------------- splits and stacks


def tensor_split(input, indices_or_sections, dim=0):
    """Views along ``dim``: ``n`` nearly equal parts (the first ``size % n`` one longer), or
    the parts between the listed indices."""
    _check_tensor(input, "tensor_split", "input")
    d = _wrap_dim(dim, input.ndim, "tensor_split")
    size = input.shape[d]
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        if spec.dtype.is_floating_point or spec.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have integral dtype and be "
                               f"0-D or 1-D, but got {spec.dtype} of {spec.ndim} dims")
        spec = spec.item() if spec.ndim == 0 else spec.tolist()
    if isinstance(spec, numbers.Integral):
        n = int(spec)
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        bounds, start = [], 0
        for k in range(n):
            stop = start + size // n + (1 if k < size % n else 0)
            bounds.append((start, stop))
            start = stop
    else:
        cuts = [int(i) for i in spec]
        edges = [0] + cuts + [size]
        bounds = []
        for a, b in zip(edges[:-1], edges[1:]):
            a = min(max(a + size if a < 0 else a, 0), size)
            b = min(max(b + size if b < 0 else b, 0), size)
            bounds.append((a, max(a, b)))
    lead = (slice(None),) * d
    return tuple(input[lead + (slice(a, b),)] for a, b in bounds)


def _atleast(tensors, rank, op):
    tensors = tuple(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = []
    for t in tensors:
        _check_tensor(t, op)
        if t.ndim < rank:
            if rank == 3 and t.ndim == 2:
                t = sh.unsqueeze(t, -1)
            elif rank == 3 and t.ndim == 1:
                t = sh.reshape(t, (1, t.shape[0], 1))
            else:
                t = sh.reshape(t, (1,) * (rank - max(t.ndim, 1)) + tuple(t.shape or (1,)))
        out.append(t)
    return out


def atleast_1d(*tensors):
    out = _atleast(tensors, 1, "atleast_1d")
    return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else tuple(out)


def atleast_2d(*tensors):
    out = _atleast(tensors, 2, "atleast_2d")
    return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else tuple(out)


def atleast_3d(*tensors):
    out = _atleast(tensors, 3, "atleast_3d")
    return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else tuple(out)


def _nonempty(tensors, op):
    if not len(tensors):
        raise RuntimeError(f"{op} expects a non-empty TensorList")
    return tensors


def hstack(tensors):
    tensors = _atleast(_nonempty(tensors, "hstack"), 1, "hstack")
    return sh.cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return sh.cat(_atleast(_nonempty(tensors, "vstack"), 2, "vstack"), 0)


def row_stack(tensors):
    return vstack(tensors)


def dstack(tensors):
    return sh.cat(_atleast(_nonempty(tensors, "dstack"), 3, "dstack"), 2)


def column_stack(tensors):
    tensors = _nonempty(tensors, "column_stack")
    cols = [sh.reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in tensors]
    return sh.cat(cols, 1)


def broadcast_tensors(*tensors):
    tensors = tuple(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    for t in tensors:
        _check_tensor(t, "broadcast_tensors")
    try:
        shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    except ValueError:
        raise RuntimeError("broadcast_tensors: shapes " + ", ".join(str(list(t.shape)) for t in tensors)
                           + " are not broadcastable") from None
    return tuple(t if tuple(t.shape) == shape else sh.expand(t, shape) for t in tensors)


def broadcast_shapes(*shapes):
    from .._tensor import Size
    try:
        return Size(np.broadcast_shapes(*((s,) if isinstance(s, int) else tuple(s) for s in shapes)))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape: {list(shapes)}") from None


# ---------------------------------------------------------------- fills and scatters


def _index_mask(input, dim, index, op):
    _check_tensor(index, op, "index")
    if index.dtype is not _dtype.int64 or index.ndim > 1:
        raise IndexError(f"{op}(): Expected a long tensor for index of at most 1 dimension, but got "
                         f"{index.dtype} of {index.ndim} dims")
    d = _wrap_dim(dim, input.ndim, op)
    n = input.shape[d] if input.ndim else 1
    ids = index.cpu().numpy().reshape(-1)
    if ((ids < -n) | (ids >= n)).any():
        bad = int(ids[(ids < -n) | (ids >= n)][0])
        raise IndexError(f"{op}(): index {bad} is out of bounds for dimension {d} with size {n}")
    along = np.zeros(n, bool)
    along[ids % n if n else ids] = True
    shape = [1] * input.ndim
    if input.ndim:
        shape[d] = n
    return _constant(input, np.broadcast_to(along.reshape(shape), tuple(input.shape)).copy(), _dtype.bool_)


def index_fill(input, dim, index, value):
    """``input`` with the slices at ``index`` along ``dim`` set to ``value``."""
    _check_tensor(input, "index_fill", "self")
    mask = _index_mask(input, dim, index, "index_fill")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        return composite_op("IndexFillBackward1",
                            lambda x, v: ew.where(mask, ew.to_dtype(v, x.dtype), x), input, value)
    return composite_op("IndexFillBackward0", lambda x: ew.where(mask, _constant(x, np.asarray(value), x.dtype), x),
                        input)


def index_fill_(self, dim, index, value):
    return self._inplace("index_fill_", index_fill, dim, index, value)


def masked_scatter(input, mask, source):
    """``input`` with the elements where ``mask`` (broadcast) is True taken, in order, from
    ``source``'s first elements."""
    _check_tensor(input, "masked_scatter", "self")
    _check_tensor(mask, "masked_scatter", "mask")
    _check_tensor(source, "masked_scatter", "source")
    if mask.dtype is not _dtype.bool_:
        raise RuntimeError(f"masked_scatter_: expected BoolTensor for mask, got {mask.dtype}")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got "
                           f"{input.dtype} and {source.dtype}")
    shape = np.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    picks = np.broadcast_to(mask.cpu().numpy(), shape).reshape(-1)
    count = int(picks.sum())
    if count > source.numel():
        raise RuntimeError(f"masked_scatter: expected source to have at least {count} elements, got {source.numel()}")
    keep = _constant(input, ~picks.reshape(shape), _dtype.bool_)
    targets = np.nonzero(picks)[0]

    def compute(x, src):
        placed = sh.scatter_flat(sh.take_flat(src, np.arange(count)), targets, shape)
        return ew.where(keep, x, placed)
    return composite_op("MaskedScatterBackward0", compute, input, source)


def masked_scatter_(self, mask, source):
    return self._inplace("masked_scatter_", masked_scatter, mask, source)


_SCATTER_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """``input`` with ``src``'s elements reduced (sum, prod, mean, amax, amin) into the
    positions ``index`` names along ``dim``."""
    from .composite import _scatter_ids
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # accepted by PyTorch as the same
    if reduce not in _SCATTER_REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    _check_tensor(src, "scatter_reduce", "src")
    if src.dtype is not input.dtype:
        raise RuntimeError(f"scatter_reduce(): Expected self.dtype to be equal to src.dtype "
                           f"({input.dtype} and {src.dtype})")
    targets = _scatter_ids(input, dim, index, "scatter_reduce")
    src_ids = (np.ravel_multi_index(np.unravel_index(np.arange(len(targets)), tuple(index.shape)), tuple(src.shape))
               if src.ndim else np.zeros(len(targets), np.int64))
    size = max(input.numel(), 1)
    touched = np.zeros(size, bool)
    touched[targets] = True
    hits = np.bincount(targets, minlength=size)
    order = np.argsort(targets, kind="stable")  # the sources of each target, in order
    rank = np.empty(len(targets), np.int64)  # how many sources of its target come before each
    rank[order] = np.arange(len(targets)) - np.searchsorted(targets[order], targets[order], side="left")
    ranks = int(rank.max()) + 1 if len(rank) else 0
    flat_shape = (size,)

    def compute(x, s):
        flat = sh.reshape(x, flat_shape)
        values = sh.take_flat(s, src_ids)
        own = _constant(x, touched, _dtype.bool_)
        if reduce in ("sum", "mean"):
            total = sh.scatter_flat(values, targets, flat_shape)
            if include_self:
                total = ew.add(flat, total)
            if reduce == "mean":
                count = hits + (1 if include_self else 0)
                divisor = _constant(x, np.maximum(count, 1), x.dtype)
                total = (ew.div(total, divisor) if x.dtype.is_floating_point
                         else ew.div(total, divisor, rounding_mode="floor"))  # integers: floored, as PyTorch
            out = ew.where(own, total, flat)
        else:  # fold in the sources of every target one rank (first, second, ...) at a time
            combine = {"prod": ew.mul, "amax": ew.maximum, "amin": ew.minimum}[reduce]
            out = flat
            for k in range(ranks):
                pick = np.nonzero(rank == k)[0]
                hit = np.zeros(size, bool)
                hit[targets[pick]] = True
                vals = sh.scatter_flat(sh.take_flat(values, pick), targets[pick], flat_shape)
                first = k == 0 and not include_self  # without the element, a first source stands alone
                out = ew.where(_constant(x, hit, _dtype.bool_), vals if first else combine(out, vals), out)
        return sh.reshape(out, tuple(x.shape))
    return composite_op("ScatterReduceBackward0", compute, input, src)


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    return self._inplace("scatter_reduce_", lambda x, *a: scatter_reduce(x, *a, include_self=include_self),
                         dim, index, src, reduce)


def argwhere(input):
    _check_tensor(input, "argwhere", "input")
    return nonzero(input)


# ---------------------------------------------------------------- triangles


def triu(input, diagonal=0):
    from . import composite
    _check_tensor(input, "triu")
    return composite_op("TriuBackward0", lambda x: composite.triu(x, diagonal), input)


def tril(input, diagonal=0):
    from . import composite
    _check_tensor(input, "tril")
    return composite_op("TrilBackward0", lambda x: composite.tril(x, diagonal), input)


def triu_(self, diagonal=0):
    return self._inplace("triu_", triu, diagonal)


def tril_(self, diagonal=0):
    return self._inplace("tril_", tril, diagonal)


# ---------------------------------------------------------------- linear algebra


def _square(A, op):
    _check_tensor(A, op, "A")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.{op}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.ndim >= 2 else A.ndim} by {A.shape[-1] if A.ndim else 0} matrices")


def linalg_det(A):
    _square(A, "det")
    return composite_op("LinalgDetBackward0", _det, A)


def linalg_inv(A):
    _square(A, "inv")
    return composite_op("LinalgInvExBackward0", _inverse, A)


def linalg_solve(A, B, *, left=True):
    """The ``X`` with ``A @ X = B`` (``X @ A = B`` with ``left=False``); ``B`` may be a
    vector (or a batch of vectors) when its shape is ``A``'s without the last dimension."""
    _square(A, "solve")
    _check_tensor(B, "linalg.solve", "B")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_dtype.scalar_type_name(A.dtype)} and B of type {_dtype.scalar_type_name(B.dtype)} instead")
    vector = left and (B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1])))
    n = A.shape[-1]
    rows = B.shape[0] if vector and B.ndim == 1 else (B.shape[-1] if vector else B.shape[-2 if left else -1])
    if rows != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({'x'.join(map(str, A.shape[-2:]))} and "
                           f"{'x'.join(map(str, B.shape[-2:]))})")

    def compute(a, b):
        inv = _inverse(a)
        if vector:
            return sh.squeeze(la.matmul(inv, sh.unsqueeze(b, -1)), -1)
        return la.matmul(inv, b) if left else la.matmul(b, inv)
    return composite_op("LinalgSolveExBackward0", compute, A, B)


def _cross_parts(a, b, d):
    x = [a[(slice(None),) * d + (i,)] for i in range(3)]
    y = [b[(slice(None),) * d + (i,)] for i in range(3)]
    return sh.stack([ew.sub(ew.mul(x[(i + 1) % 3], y[(i + 2) % 3]), ew.mul(x[(i + 2) % 3], y[(i + 1) % 3]))
                     for i in range(3)], d)


def linalg_cross(input, other, *, dim=-1):
    _check_tensor(input, "linalg.cross", "input")
    _check_tensor(other, "linalg.cross", "other")
    if input.ndim != other.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got {input.ndim} "
                           f"and {other.ndim}")
    d = _wrap_dim(dim, input.ndim, "linalg.cross")
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[d]} "
                           f"and {other.shape[d]}")
    a, b = broadcast_tensors(input, other)
    return composite_op("LinalgCrossBackward0", lambda x, y: _cross_parts(x, y, d), a, b)


def cross(input, other, dim=None):
    """``torch.cross``: over ``dim``, or (deprecated) the first dimension of size 3."""
    if dim is None:
        import warnings
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the "
                      "dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to "
                      "agree with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        dim = next((d for d, s in enumerate(np.broadcast_shapes(tuple(input.shape), tuple(other.shape))) if s == 3),
                   None)
        if dim is None:
            raise RuntimeError(f"no dimension of size 3 in input {list(input.shape)}")
    return linalg_cross(input, other, dim=dim)


def _cdist_mm(a, b):
    """PyTorch's Euclidean distances through a matrix product (its choice for more than 25
    rows on either side): sqrt(clamp_min(|a|^2 - 2 a b^T + |b|^2, 0))."""
    a_norm = red.sum(ew.mul(a, a), -1, keepdim=True)
    b_norm = red.sum(ew.mul(b, b), -1, keepdim=True)
    ones_a = _creation.ones_like(a_norm)
    ones_b = _creation.ones_like(b_norm)
    a_aug = sh.cat([ew.mul(a, -2), a_norm, ones_a], -1)
    b_aug = sh.cat([b, ones_b, b_norm], -1)
    return ew.sqrt(ew.clamp(la.matmul(a_aug, sh.transpose(b_aug, -1, -2)), 0))


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The ``p``-norm distance between each row of ``x1`` and each row of ``x2`` (batched)."""
    _check_tensor(x1, "cdist", "x1")
    _check_tensor(x2, "cdist", "x2")
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if not x1.dtype.is_floating_point:
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")
    if compute_mode not in modes:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    r1, r2 = x1.shape[-2], x2.shape[-2]
    use_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or
                         (compute_mode == modes[0] and (r1 > 25 or r2 > 25)))
    if use_mm:  # PyTorch's _euclidean_dist, then a view to the result's shape
        out = composite_op("EuclideanDistBackward0", _cdist_mm, x1, x2)
        return out.view(*out.shape)

    def compute(a, b):
        diff = ew.abs(ew.sub(sh.unsqueeze(a, -2), sh.unsqueeze(b, -3)))
        if p == 0:
            return red.sum(ew.to_dtype(ew.ne(diff, 0), a.dtype), -1)
        if math.isinf(p):
            return red.amax(diff, -1)
        if p == 1:
            return red.sum(diff, -1)
        if p == 2:
            return ew.sqrt(red.sum(ew.mul(diff, diff), -1))
        return ew.pow(red.sum(ew.pow(diff, p), -1), 1.0 / p)
    return composite_op("CdistBackward0", compute, x1, x2)


# ---------------------------------------------------------------- sorted search


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Where each value of ``input`` would go in ``sorted_sequence`` (per row for an N-D
    sequence): the first such position, or the last with ``right=True`` / ``side='right'``."""
    _check_tensor(sorted_sequence, "searchsorted", "sorted_sequence")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    seq = sorted_sequence.detach().cpu().numpy()
    scalar = not isinstance(input, Tensor)
    values = np.asarray(input) if scalar else input.detach().cpu().numpy()
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter.cpu().numpy(), -1)
    how = "right" if right else "left"
    if seq.ndim <= 1:
        out = np.searchsorted(seq, values, side=how)
    else:
        if values.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                               f"dimensions of boundaries tensor and input value tensor must match, but we got "
                               f"boundaries tensor {list(seq.shape)} and input value tensor {list(values.shape)}")
        rows_s = seq.reshape(-1, seq.shape[-1])
        rows_v = values.reshape(-1, values.shape[-1])
        out = np.stack([np.searchsorted(s, v, side=how) for s, v in zip(rows_s, rows_v)]).reshape(values.shape)
    dtype = _dtype.int32 if out_int32 else _dtype.int64
    device = sorted_sequence.device
    return _creation.tensor(np.asarray(out), dtype=dtype, device=device)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value of ``input`` among the 1-D sorted ``boundaries``."""
    _check_tensor(boundaries, "bucketize", "boundaries")
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# ---------------------------------------------------------------- running max and min


class _CumExtreme(Function):
    """values and int64 indices of the running max (or min) along ``dim``; the gradient goes
    to the element each running value came from (the last one on ties, as PyTorch)."""

    @staticmethod
    def forward(ctx, x, dim, largest):
        data = x.detach().cpu().numpy()
        moved = np.moveaxis(data, dim, -1) if data.ndim else data.reshape(1)
        values = np.empty_like(moved)
        indices = np.empty(moved.shape, np.int64)
        n = moved.shape[-1] if moved.ndim else 1
        if moved.size:
            best = moved[..., 0].copy()
            where = np.zeros(moved.shape[:-1], np.int64)
            for i in range(n):
                cur = moved[..., i]
                nan_best = np.isnan(best) if best.dtype.kind == "f" else np.zeros(best.shape, bool)
                nan_cur = np.isnan(cur) if cur.dtype.kind == "f" else np.zeros(cur.shape, bool)
                better = (cur >= best) if largest else (cur <= best)
                take = ~nan_best & (better | nan_cur)
                best = np.where(take, cur, best)
                where = np.where(take, i, where)
                values[..., i] = best
                indices[..., i] = where
        if data.ndim:
            values, indices = np.moveaxis(values, -1, dim), np.moveaxis(indices, -1, dim)
        else:
            values, indices = values.reshape(()), indices.reshape(())
        out_v = _creation.tensor(values, dtype=x.dtype, device=x.device)
        out_i = _creation.tensor(indices, dtype=_dtype.int64, device=x.device)
        ctx.mark_non_differentiable(out_i)
        ctx.save_for_backward(out_i)
        ctx.dim, ctx.shape = dim, tuple(x.shape)
        return out_v, out_i

    @staticmethod
    def backward(ctx, g, _):
        (indices,) = ctx.saved_tensors
        if not ctx.shape:
            return g, None, None
        from .composite import scatter
        zeros = _creation.zeros(ctx.shape, dtype=g.dtype, device=g.device)
        return scatter(zeros, ctx.dim, indices.detach(), g, reduce="add"), None, None


class Cummax(_CumExtreme):
    grad_fn_name = "CummaxBackward0"


class Cummin(_CumExtreme):
    grad_fn_name = "CumminBackward0"


def _cum_extreme(cls, name, input, dim):
    _check_tensor(input, name, "input")
    d = _wrap_dim(dim, input.ndim, name)
    values, indices = cls.apply(input, d, cls is Cummax)
    return _RESULTS[name](values, indices)


_RESULTS = {"cummax": red._return_type("cummax"), "cummin": red._return_type("cummin")}


def cummax(input, dim):
    return _cum_extreme(Cummax, "cummax", input, dim)


def cummin(input, dim):
    return _cum_extreme(Cummin, "cummin", input, dim)


# ---------------------------------------------------------------- dims moved, diagonals, nan-skipping sums


def movedim(input, source, destination):
    _check_tensor(input, "movedim", "input")
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
                           f"same number of dims as destination ({dst} dims)")
    n = input.ndim
    src = [_wrap_dim(d, n, "movedim") for d in src]
    dst = [_wrap_dim(d, n, "movedim") for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `source` ({src}) or `destination` ({dst})")
    order = [None] * n
    for s_, d_ in zip(src, dst):
        order[d_] = s_
    rest = iter(d for d in range(n) if d not in src)
    order = [o if o is not None else next(rest) for o in order]
    return sh.permute(input, order)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the matrices in dims ``dim1`` and ``dim2``, as the last dimension."""
    _check_tensor(input, "diagonal", "input")
    d1, d2 = _wrap_dim(dim1, input.ndim, "diagonal"), _wrap_dim(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rows, cols = input.shape[d1], input.shape[d2]
    start_r, start_c = max(-offset, 0), max(offset, 0)
    length = max(min(rows - start_r, cols - start_c), 0)
    rest = [d for d in range(input.ndim) if d not in (d1, d2)]
    out_shape = tuple(input.shape[d] for d in rest) + (length,)
    grid = np.indices(out_shape) if math.prod(out_shape) else np.zeros((len(out_shape),) + out_shape, np.int64)
    index = [None] * input.ndim
    for k, d in enumerate(rest):
        index[d] = grid[k]
    index[d1] = start_r + grid[-1]
    index[d2] = start_c + grid[-1]
    ids = np.ravel_multi_index(tuple(index), tuple(input.shape)) if math.prod(out_shape) else \
        np.zeros(out_shape, np.int64)
    return composite_op("DiagonalBackward0", lambda x: sh.take_flat(x, ids), input)


def unflatten(input, dim, sizes):
    _check_tensor(input, "unflatten", "input")
    d = _wrap_dim(dim, input.ndim, "unflatten")
    sizes = [int(s) for s in sizes]
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes and known and input.shape[d] % known == 0:
        sizes[sizes.index(-1)] = input.shape[d] // known
    if math.prod(sizes) != input.shape[d] or -1 in sizes:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                           f"({input.shape[d]}) in the input tensor")
    return sh.reshape(input, tuple(input.shape[:d]) + tuple(sizes) + tuple(input.shape[d + 1:]))


def take_along_dim(input, indices, dim=None):
    from .indexing import gather
    _check_tensor(indices, "take_along_dim", "indices")
    if dim is None:
        return gather(sh.reshape(input, (-1,)), 0, sh.reshape(indices, (-1,)))
    d = _wrap_dim(dim, input.ndim, "take_along_dim")
    if input.ndim != indices.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {input.ndim} dimensions for input, and {indices.ndim} dimensions for indices")
    shape_in, shape_ix = list(input.shape), list(indices.shape)
    shape_in[d] = shape_ix[d] = 1
    batch = np.broadcast_shapes(tuple(shape_in), tuple(shape_ix))
    want_in = list(batch)
    want_in[d] = input.shape[d]
    want_ix = list(batch)
    want_ix[d] = indices.shape[d]
    x = input if tuple(input.shape) == tuple(want_in) else sh.expand(input, tuple(want_in))
    ix = indices if tuple(indices.shape) == tuple(want_ix) else sh.expand(indices, tuple(want_ix))
    return gather(x, d, ix)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    _check_tensor(input, "nansum", "input")

    def compute(x):
        clean = ew.where(ew.ne(x, x), 0, x) if x.dtype.is_floating_point else x
        return red.sum(clean, dim, keepdim, dtype) if dim is not None else red.sum(clean, dtype=dtype)
    return composite_op("NansumBackward0", compute, input)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    _check_tensor(input, "nanmean", "input")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_dtype.scalar_type_name(input.dtype)}")
    count = red.sum(ew.to_dtype(ew.eq(input, input), input.dtype), dim, keepdim) if dim is not None else \
        red.sum(ew.to_dtype(ew.eq(input, input), input.dtype))
    return ew.div(nansum(input, dim, keepdim, dtype=dtype), count.detach())


# ---------------------------------------------------------------- where each name is exported

FUNCTIONS = {
    "lerp": lerp, "tensor_split": tensor_split, "hstack": hstack, "vstack": vstack, "row_stack": row_stack,
    "dstack": dstack, "column_stack": column_stack, "atleast_1d": atleast_1d, "atleast_2d": atleast_2d,
    "atleast_3d": atleast_3d, "broadcast_tensors": broadcast_tensors, "broadcast_shapes": broadcast_shapes,
    "index_fill": index_fill, "masked_scatter": masked_scatter, "scatter_reduce": scatter_reduce,
    "argwhere": argwhere, "triu": triu, "tril": tril, "det": linalg_det, "inverse": linalg_inv, "cross": cross, "cdist": cdist,
    "searchsorted": searchsorted, "bucketize": bucketize, "cummax": cummax, "cummin": cummin,
    "addmm": la.addmm, "addmv": la.addmv, "baddbmm": la.baddbmm, "addbmm": la.addbmm,
    "movedim": movedim, "moveaxis": movedim, "diagonal": diagonal, "unflatten": unflatten,
    "take_along_dim": take_along_dim, "nansum": nansum, "nanmean": nanmean,
}
METHODS = {
    "lerp": lerp, "lerp_": lerp_, "tensor_split": tensor_split, "index_fill": index_fill,
    "index_fill_": index_fill_, "masked_scatter": masked_scatter, "masked_scatter_": masked_scatter_,
    "scatter_reduce": scatter_reduce, "scatter_reduce_": scatter_reduce_, "argwhere": argwhere,
    "det": linalg_det, "inverse": linalg_inv, "cross": cross, "cummax": cummax, "cummin": cummin,
    "movedim": movedim, "moveaxis": movedim, "diagonal": diagonal, "unflatten": unflatten,
    "take_along_dim": take_along_dim, "nansum": nansum, "nanmean": nanmean,
    "triu": triu, "tril": tril, "triu_": triu_, "tril_": tril_, "is_floating_point": lambda self: self.dtype.is_floating_point,
    "addmm": la.addmm, "addmv": la.addmv, "baddbmm": la.baddbmm, "addbmm": la.addbmm,
    "addmm_": lambda self, mat1, mat2, *, beta=1, alpha=1: self._inplace(
        "addmm_", lambda x, a, b: la.addmm(x, a, b, beta=beta, alpha=alpha), mat1, mat2),
    "addmv_": lambda self, mat, vec, *, beta=1, alpha=1: self._inplace(
        "addmv_", lambda x, a, b: la.addmv(x, a, b, beta=beta, alpha=alpha), mat, vec),
    "baddbmm_": lambda self, b1, b2, *, beta=1, alpha=1: self._inplace(
        "baddbmm_", lambda x, a, b: la.baddbmm(x, a, b, beta=beta, alpha=alpha), b1, b2),
    "addbmm_": lambda self, b1, b2, *, beta=1, alpha=1: self._inplace(
        "addbmm_", lambda x, a, b: la.addbmm(x, a, b, beta=beta, alpha=alpha), b1, b2),
}
LINALG = {"det": linalg_det, "inv": linalg_inv, "solve": linalg_solve, "cross": linalg_cross}
