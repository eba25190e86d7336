"""More of PyTorch's functions, built from tinytape's recorded ops: lerp, tensor_split, the
stacks (hstack, vstack, ...), index_fill, masked_scatter, broadcast_tensors, the matrix
functions of ``linalg`` (solve, inv, det, cross), cdist, bucketize/searchsorted,
cummax/cummin, scatter_reduce, argwhere and the ``addmm`` family's exports.

The families live in their own modules, gathered here for the export tables at the end:
``stacks.py`` (splits and stacks), ``scatter_fill.py`` (fills and scatters),
``linalg_extra.py`` (the matrix functions and cdist) and ``composite_entry.py``
(``composite_op``, one tape entry for an op computed from several recorded ops).
"""
import math

import numpy as np

from .. import _creation, _dtype
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Function
from . import elementwise as ew
from . import linalg as la
from . import reduction as red
from . import shape as sh
from .composite_entry import _COMPOSITES, _Composite, composite_op  # noqa: F401
from .linalg_extra import (  # noqa: F401
    _cdist_mm, _cross_parts, _square, cdist, cross, linalg_cross, linalg_det, linalg_inv, linalg_solve)
from .scatter_fill import (  # noqa: F401
    _SCATTER_REDUCES, _index_mask, argwhere, index_fill, index_fill_, masked_scatter, masked_scatter_, scatter_reduce,
    scatter_reduce_, index_reduce, index_reduce_)
from .stacks import (  # noqa: F401
    _atleast, _nonempty, atleast_1d, atleast_2d, atleast_3d, broadcast_shapes, broadcast_tensors, column_stack, dstack,
    hstack, row_stack, tensor_split, vstack)
from .sampling import nonzero  # noqa: F401
from .windows import _check_tensor


# ---------------------------------------------------------------- elementwise


def lerp(input, end, weight):
    """``input + weight * (end - input)``, PyTorch's formula: from ``end`` where
    ``|weight| >= 0.5`` (exact at both ends), with the one rounding of a fused multiply-add
    as PyTorch's CPU kernel (float16 and bfloat16: computed in float64, rounded once)."""
    _check_tensor(input, "lerp", "input")
    _check_tensor(end, "lerp", "end")
    if input.dtype is not end.dtype:
        raise RuntimeError(f"lerp: expected dtype {input.dtype} for `end` but got dtype {end.dtype}")
    if input.dtype.is_complex:  # PyTorch's formula, unfused: from ``end`` where |weight| >= 0.5
        from .composite_entry import composite_op
        if isinstance(weight, Tensor) and weight.dtype is not input.dtype:
            raise RuntimeError(f"lerp: expected dtype {input.dtype} for `weight` but got dtype {weight.dtype}")
        grad_fn_name = "LerpBackward1" if isinstance(weight, Tensor) else "LerpBackward0"
        return composite_op(grad_fn_name, lambda a, b, *w: _complex_lerp(a, b, w[0] if w else weight), input, end,
                            *((weight,) if isinstance(weight, Tensor) else ()))
    if not input.dtype.is_floating_point:
        kind = "tensor" if isinstance(weight, Tensor) else "scalar"
        raise NotImplementedError(f"\"lerp_kernel_{kind}\" not implemented for "
                                  f"'{_dtype.scalar_type_name(input.dtype)}'")
    ew._check_broadcast(input.shape, end.shape, "lerp")  # PyTorch's words, input as tensor a
    if isinstance(weight, Tensor):
        if weight.dtype is not input.dtype:
            raise RuntimeError(f"lerp: expected dtype {input.dtype} for `weight` but got dtype {weight.dtype}")
        return LerpTensor.apply(input, end, weight)
    return LerpScalar.apply(input, end, weight)


def _complex_lerp(a, b, w):
    if not isinstance(w, Tensor):
        return b - (b - a) * (1 - w) if abs(w) >= 0.5 else a + (b - a) * w
    return (a + (b - a) * w).where(w.abs() < 0.5, b - (b - a) * (1 - w))


def _lerp_values(a, b, w):
    """The forward of lerp on tensors that record nothing."""
    dtype = a.dtype
    if dtype is _dtype.float64 or dtype is _dtype.float32:  # the kernel's fused multiply-add
        diff = ew.sub(b, a)
        if not isinstance(w, Tensor):
            w = float(np.float32(w)) if dtype is _dtype.float32 else w  # the weight in the dtype
            small = abs(w) < 0.5
            return ew.fused_multiply_add(diff, w if small else w - 1.0, a if small else b)
        small = ew.lt(ew.abs(w), 0.5)
        return ew.fused_multiply_add(diff, ew.where(small, w, ew.sub(w, 1.0)), ew.where(small, a, b))
    f32, f64 = _dtype.float32, _dtype.float64
    a32, b32 = ew.to_dtype(a, f32), ew.to_dtype(b, f32)  # float16/bfloat16 compute in float32, as PyTorch
    diff = ew.to_dtype(ew.sub(b32, a32), f64)
    if not isinstance(w, Tensor):
        w32 = float(np.float32(w))
        small = abs(w32) < 0.5
        coeff = w32 if small else float(np.float32(w32 - 1.0))
        fused = ew.add(ew.mul(diff, coeff), ew.to_dtype(a32 if small else b32, f64))
    else:
        w32 = ew.to_dtype(w, f32)
        small = ew.lt(ew.abs(w32), 0.5)
        coeff = ew.to_dtype(ew.where(small, w32, ew.sub(w32, 1.0)), f64)
        fused = ew.add(ew.mul(coeff, diff), ew.to_dtype(ew.where(small, a32, b32), f64))
    return ew.to_dtype(ew.to_dtype(fused, f32), dtype)


class LerpScalar(Function):
    grad_fn_name = "LerpBackward0"

    @staticmethod
    def forward(ctx, a, b, w):
        ctx.w = w
        return _lerp_values(a, b, w)

    @staticmethod
    def backward(ctx, g):
        w = ctx.w
        return (ew.mul(g, 1.0 - w) if ctx.needs_input_grad[0] else None,
                ew.mul(g, w) if ctx.needs_input_grad[1] else None, None)


class LerpTensor(Function):
    grad_fn_name = "LerpBackward1"

    @staticmethod
    def forward(ctx, a, b, w):
        ctx.save_for_backward(a, b, w)
        return _lerp_values(a, b, w)

    @staticmethod
    def backward(ctx, g):
        a, b, w = ctx.saved_tensors
        return (ew.mul(g, ew.sub(1, w)) if ctx.needs_input_grad[0] else None,
                ew.mul(g, w) if ctx.needs_input_grad[1] else None,
                ew.mul(g, ew.sub(b, a)) if ctx.needs_input_grad[2] else None)


def lerp_(self, end, weight):
    return self._inplace("lerp_", lerp, end, weight)


# ---------------------------------------------------------------- splits and stacks


# ---------------------------------------------------------------- fills and scatters


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
    return _triangle_(self, diagonal, "triu_", triu)


def tril_(self, diagonal=0):
    return _triangle_(self, diagonal, "tril_", tril)


def _triangle_(self, diagonal, op_name, triangle):
    from . import overlap_writes
    if overlap_writes.repeats(self):
        triangle(self, diagonal)  # (its refusals)
        return overlap_writes.triangle_into_repeats(self, diagonal, lower=op_name == "tril_")
    return self._inplace(op_name, triangle, diagonal)


# ---------------------------------------------------------------- linear algebra


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
        from .scatter import _scatter
        zeros = _creation.zeros(ctx.shape, dtype=g.dtype, device=g.device)
        return _scatter(zeros, ctx.dim, indices.detach(), g, None, "add"), None, None


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
    from .scatter import gather
    _check_tensor(indices, "take_along_dim", "indices")
    if dim is None:
        return gather(sh.reshape(input, (-1,)), 0, sh.reshape(indices, (-1,)))
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
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
        return red.sum(clean, dim, keepdim, dtype) if dim is not None or keepdim else red.sum(clean, dtype=dtype)
    return composite_op("NansumBackward0", compute, input)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    _check_tensor(input, "nanmean", "input")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_dtype.scalar_type_name(input.dtype)}")
    present = ew.to_dtype(ew.eq(input, input), input.dtype)
    count = red.sum(present, dim, keepdim) if dim is not None or keepdim else red.sum(present)
    return ew.div(nansum(input, dim, keepdim, dtype=dtype), count.detach())


# ---------------------------------------------------------------- where each name is exported

FUNCTIONS = {
    "lerp": lerp, "tensor_split": tensor_split, "hstack": hstack, "vstack": vstack, "row_stack": row_stack,
    "dstack": dstack, "column_stack": column_stack, "atleast_1d": atleast_1d, "atleast_2d": atleast_2d,
    "atleast_3d": atleast_3d, "broadcast_tensors": broadcast_tensors, "broadcast_shapes": broadcast_shapes,
    "index_fill": index_fill, "masked_scatter": masked_scatter, "scatter_reduce": scatter_reduce,
    "index_reduce": index_reduce, "argwhere": argwhere, "triu": triu, "tril": tril, "det": linalg_det, "inverse": linalg_inv, "cross": cross, "cdist": cdist,
    "searchsorted": searchsorted, "bucketize": bucketize, "cummax": cummax, "cummin": cummin,
    "addmm": la.addmm, "addmv": la.addmv, "baddbmm": la.baddbmm, "addbmm": la.addbmm,
    "movedim": movedim, "moveaxis": movedim, "unflatten": unflatten,
    "take_along_dim": take_along_dim, "nansum": nansum, "nanmean": nanmean,
}
METHODS = {
    "lerp": lerp, "lerp_": lerp_, "tensor_split": tensor_split, "index_fill": index_fill,
    "index_fill_": index_fill_, "masked_scatter": masked_scatter, "masked_scatter_": masked_scatter_,
    "scatter_reduce": scatter_reduce, "scatter_reduce_": scatter_reduce_, "index_reduce": index_reduce,
    "index_reduce_": index_reduce_, "argwhere": argwhere,
    "det": linalg_det, "inverse": linalg_inv, "cross": cross, "cummax": cummax, "cummin": cummin,
    "movedim": movedim, "moveaxis": movedim, "unflatten": unflatten,
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
