"""PyTorch's block and index builders, each a few recorded ops: ``block_diag``,
``cartesian_prod``, ``combinations``, ``triu_indices``/``tril_indices``, ``diag_embed``,
``diagflat``."""
import itertools

import numpy as np

from .. import _creation, _dtype
from .._tensor import _wrap_dim
from . import elementwise as ew
from . import shape as sh
from .windows import _check_tensor, _constant


def _tensors(args, op):
    tensors = tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)
    for t in tensors:
        _check_tensor(t, op, "tensors")
    return tensors


# ---------------------------------------------------------------- builders


def block_diag(*tensors):
    from .composite_entry import composite_op
    tensors = _tensors(tensors, "block_diag")
    if not tensors:
        return _creation.empty(1, 0)
    return composite_op("BlockDiagBackward0", _block_diag, *tensors)


def _block_diag(*tensors):
    tensors = [t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1 else t for t in tensors]
    for i, t in enumerate(tensors):
        if t.ndim != 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.ndim} dimensions")
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = _dtype.promote(dtype, t.dtype)
    width = sum(t.shape[1] for t in tensors)
    rows, left = [], 0
    for t in tensors:
        t = t if t.dtype is dtype else ew.to_dtype(t, dtype)
        r, c = t.shape
        parts = [_creation.zeros(r, left, dtype=dtype, device=t.device), t,
                 _creation.zeros(r, width - left - c, dtype=dtype, device=t.device)]
        rows.append(sh.cat(parts, 1))
        left += c
    return sh.cat(rows, 0)


def cartesian_prod(*tensors):
    tensors = _tensors(tensors, "cartesian_prod")
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    from .composite import meshgrid
    return sh.stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input, r=2, with_replacement=False):
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _creation.empty(0, dtype=input.dtype, device=input.device)
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    ids = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    if ids.shape[0] == 0:
        return _creation.empty(0, r, dtype=input.dtype, device=input.device)
    return sh.take_flat(input, ids)


def _tri_indices(row, col, offset, dtype, device, upper, op):
    if row < 0:  # PyTorch's words, without a space before the number
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    r, c = (np.triu_indices if upper else np.tril_indices)(row, offset, col)
    return _creation.tensor(np.stack([r, c]).astype(np.int64).reshape(2, -1), dtype=dtype or _dtype.int64,
                            device=device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices(row, col, offset, dtype, device, True, "triu_indices")


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices(row, col, offset, dtype, device, False, "tril_indices")


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices with ``input``'s last dim on their ``offset``-th diagonal (zeros elsewhere)."""
    from .composite_entry import composite_op
    return composite_op("DiagEmbedBackward0", lambda x: _diag_embed(x, offset, dim1, dim2), input)


def _diag_embed(input, offset, dim1, dim2):
    n = input.shape[-1] + abs(offset)
    length = input.shape[-1]
    rows = np.arange(length) + max(-offset, 0)
    cols = np.arange(length) + max(offset, 0)
    source = np.zeros((n, n), np.int64)
    on = np.zeros((n, n), bool)
    source[rows, cols], on[rows, cols] = np.arange(length), True
    gathered = input[..., _creation.tensor(source.reshape(-1), device=input.device)] if length else \
        _creation.zeros(*input.shape[:-1], n * n, dtype=input.dtype, device=input.device)
    zero = False if input.dtype is _dtype.bool_ else 0
    out = ew.where(_constant(input, on.reshape(-1), _dtype.bool_), gathered, zero)
    out = out.reshape(*input.shape[:-1], n, n)
    nd = out.ndim
    d1, d2 = _wrap_dim(dim1, nd, "diag_embed"), _wrap_dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if (d1, d2) != (nd - 2, nd - 1):
        out = out.movedim((nd - 2, nd - 1), (d1, d2))
    return out


def diagflat(input, offset=0):
    from .composite import diag
    return diag(input.reshape(-1), offset)
