"""``pad`` with modes 'reflect', 'replicate' and 'circular': every output element is a
copy of one input element, so each mode is a table of source positions (computed on
the host) gathered forward and scatter-added backward.  Named as PyTorch's grad_fns."""
import numpy as np

from ..autograd.function import Function
from . import shape as sh


class _PadGather(Function):
    """``x``'s elements at the flat positions ``ids``, shaped as ``ids``."""

    _forward_runs_kernels_only = True

    @staticmethod
    def forward(ctx, x, ids):
        ctx.ids, ctx.in_shape = ids, x.shape
        return x._new(x._backend.gather(x._data, ids))

    @staticmethod
    def backward(ctx, g):
        return sh.scatter_flat(g, ctx.ids, ctx.in_shape), None


_FUNCTIONS = {}


def _function(grad_fn_name):
    if grad_fn_name not in _FUNCTIONS:
        _FUNCTIONS[grad_fn_name] = type(grad_fn_name.replace("Backward0", ""), (_PadGather,),
                                        {"grad_fn_name": grad_fn_name})
    return _FUNCTIONS[grad_fn_name]


def _sources(size, before, after, mode):
    """The input position each output position along one dim copies."""
    j = np.arange(-before, size + after)
    if mode == "reflect":
        j = np.abs(j)
        return np.where(j >= size, 2 * (size - 1) - j, j)
    if mode == "replicate":
        return np.clip(j, 0, size - 1)
    # circular: a negative amount crops first, the rest wraps around what is left
    start, kept = max(-before, 0), size - max(-before, 0) - max(-after, 0)
    return start + np.arange(-max(before, 0), kept + max(after, 0)) % kept


def pad_copying(input, pad, mode):
    """``input`` padded along its last ``len(pad) // 2`` dims with copies of its own
    elements (``mode`` 'reflect', 'replicate' or 'circular')."""
    dims = len(pad) // 2
    if mode in ("reflect", "replicate") and input.ndim not in (dims + 1, dims + 2) or dims > 3 or dims < 1:
        raise NotImplementedError(f"pad: Padding size {len(pad)} is not supported for {input.ndim}D input tensor "
                                  f"(mode '{mode}' pads the last 1, 2 or 3 dims of an input with 1 or 2 more)")
    if mode == "circular" and input.ndim < dims + 1:
        raise NotImplementedError(f"pad: Padding size {len(pad)} is not supported for {input.ndim}D input tensor")
    shape = tuple(input.shape)
    positions = []
    for k in range(dims):
        d = input.ndim - 1 - k
        before, after, size = int(pad[2 * k]), int(pad[2 * k + 1]), shape[d]
        if mode == "reflect" and (before >= size or after >= size):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({before}, {after}) at dimension {d} of input "
                               f"{list(shape)}")
        if mode == "circular" and (before > size or after > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        # an empty result is allowed (a negative padding cropping all), except replicate's, as PyTorch's
        if size + before + after < (1 if mode == "replicate" else 0) or (mode == "replicate" and size == 0):
            raise RuntimeError(f"pad: input {list(shape)} padded by ({before}, {after}) at dimension {d} would "
                               f"have size {size + before + after}")
        if mode == "circular" and size + before + after > 0 and size - max(-before, 0) - max(-after, 0) <= 0:
            raise RuntimeError(f"pad: circular padding ({before}, {after}) at dimension {d} of input {list(shape)} "
                               "crops every element it would wrap around")
        positions.append((d, _sources(size, before, after, mode)))
    per_dim = [np.arange(s) for s in shape]
    for d, src in positions:
        per_dim[d] = src
    strides = np.cumprod((1,) + shape[::-1][:-1])[::-1]
    ids = np.zeros([len(p) for p in per_dim], np.int64)
    for d, (p, stride) in enumerate(zip(per_dim, strides)):
        ids += (p * stride).reshape((-1,) + (1,) * (len(shape) - 1 - d))
    name = {"reflect": f"ReflectionPad{dims}DBackward0", "replicate": f"ReplicationPad{dims}DBackward0",
            "circular": "CopySlices"}[mode]
    return _function(name).apply(input, ids)
