"""``as_strided`` as a view of the storage, and the in-place view ops (``t_``,
``transpose_``, ``squeeze_``, ``unsqueeze_``, ``swapdims_``, ``as_strided_``).

A tensor's storage is its view chain's base (``shape.view_base_and_ids``); ``as_strided``
reads it at ``storage_offset + sum(i_k * stride_k)``, as PyTorch's does, through the
backend's strided view when the base's memory is contiguous (a copy otherwise).  The view
shares the base's memory and version counter, and a write through it is recorded on the
base like any view's.  Its gradient (AsStridedBackward0) is PyTorch's: the incoming
gradient added into a zero storage at the view's positions, read back at the input's
(divided by how often the input itself reads each position, where it overlaps).
"""

import numpy as np

from .._grad_mode import is_grad_enabled
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Function
from . import shape as sh


def _positions(size, stride, offset):
    """The storage position of each element of an (size, stride, offset) view."""
    positions = np.full(size, offset, np.int64)
    for d, (n, s) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[d] = n
        positions = positions + (np.arange(n, dtype=np.int64) * s).reshape(shape)
    return positions


def _replay(size, stride, offset):
    """The view's cut of any array of the base's shape (the base read as a flat storage)."""
    def replay(a):
        flat = np.ascontiguousarray(a).reshape(-1)
        return np.lib.stride_tricks.as_strided(flat[offset:], size, tuple(s * flat.itemsize for s in stride))
    return replay


class AsStrided(Function):
    grad_fn_name = "AsStridedBackward0"
    _forward_runs_kernels_only = True  # (a view made in the caller's grad mode: see shape._view_of)

    @staticmethod
    def forward(ctx, x, base, size, stride, offset, input_ids):
        ctx.size, ctx.positions, ctx.input_ids, ctx.storage = size, None, input_ids, base.numel()
        ctx.stride, ctx.offset = stride, offset
        data = base._backend.as_strided(base._data, size, stride, offset)
        if data is None:  # the base's memory is not one contiguous block: the values, copied
            flat = sh.take_flat(base.detach(), _positions(size, stride, offset))
            return x._new(flat._data)
        return sh._view_of(base, data, _replay(size, stride, offset))

    @staticmethod
    def backward(ctx, g):
        positions = _positions(ctx.size, ctx.stride, ctx.offset)
        storage = sh.scatter_flat(g.contiguous(), positions, (ctx.storage,))
        grad = sh.take_flat(storage, ctx.input_ids)
        counts = np.bincount(ctx.input_ids.reshape(-1), minlength=ctx.storage)[ctx.input_ids]
        if counts.size and counts.max() > 1:  # an input that reads a position more than once
            from .._creation import tensor
            grad = grad / tensor(counts, dtype=grad.dtype, device=grad.device)
        return grad, None, None, None, None, None


class AsStridedInPlace(AsStrided):
    grad_fn_name = "AsStridedBackward1"


def as_strided(input, size, stride, storage_offset=None, *, _cls=AsStrided):
    """The view of ``input``'s storage with sizes ``size`` and element strides ``stride``,
    from ``storage_offset`` (default: ``input``'s own)."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got strides: "
                           f"{list(stride)}")
    if any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: {list(size)}")
    if input._view is not None:
        base, input_ids = sh.view_base_and_ids(input)
    else:
        base, input_ids = input, np.arange(input.numel(), dtype=np.int64).reshape(input.shape)
    offset = (int(input_ids.reshape(-1)[0]) if input_ids.size else 0) if storage_offset is None \
        else int(storage_offset)
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    needed = 0 if 0 in size else offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
    if needed > base.numel():
        itemsize = input.dtype.itemsize
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {itemsize} requiring a storage size of {needed * itemsize} are out of bounds "
                           f"for storage of size {base.numel() * itemsize}")
    return _cls.apply(input, base, size, stride, offset, np.asarray(input_ids, np.int64))


# ---------------------------------------------------------------- in-place view ops


class TInPlace(sh.T):
    grad_fn_name = "TBackward1"


class UnsqueezeInPlace(sh.Unsqueeze):
    grad_fn_name = "UnsqueezeBackward1"


class SqueezeInPlace(sh.Squeeze):  # squeeze_()
    grad_fn_name = "SqueezeBackward3"


class SqueezeDimInPlace(sh.Squeeze):  # squeeze_(dim)
    grad_fn_name = "SqueezeBackward4"


class SqueezeDimsInPlace(sh.Squeeze):  # squeeze_((dims,))
    grad_fn_name = "SqueezeBackward5"


def _t(x):
    if x.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return TInPlace.apply(x, 0, 1) if x.ndim == 2 else None


def _transpose(x, dim0, dim1):
    if x.ndim == 0:
        return None
    return sh.TransposeInPlace.apply(x, _wrap_dim(dim0, x.ndim, "transpose_"), _wrap_dim(dim1, x.ndim, "transpose_"))


def _unsqueeze(x, dim):
    return UnsqueezeInPlace.apply(x, _wrap_dim(dim, x.ndim + 1, "unsqueeze_"))


def _squeeze(x, dim=None):
    if dim is None:
        return SqueezeInPlace.apply(x, tuple(i for i, s in enumerate(x.shape) if s == 1))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = tuple(d for d in (_wrap_dim(d, x.ndim, "squeeze_") for d in dims) if x.ndim and x.shape[d] == 1)
    return (SqueezeDimInPlace if isinstance(dim, int) else SqueezeDimsInPlace).apply(x, dims)


def _as_strided(x, size, stride, storage_offset=None):
    return as_strided(x, size, stride, storage_offset, _cls=AsStridedInPlace)


def _become_view(name, make):
    """``Tensor.<name>``: the tensor becomes ``make``'s view of itself, in place.  As in
    PyTorch, a leaf that requires grad (or a view of one) is refused, the version counter
    moves, the tensor takes the view's history, and a view stays a view of its base."""
    def method(self, *args, **kwargs):
        tracked = self._requires_grad and is_grad_enabled()
        if tracked:
            self._check_inplace(name)
            if self._view is not None:
                sh.view_base_and_ids(self)[0]._check_inplace(name, view=True)
        before = self._alias()
        before._view = self._view
        out = make(before, *args, **kwargs)
        if out is None:  # nothing changes (t_ of a vector, transpose_ of a number)
            return self
        self._data = out._data
        self._version_counter[0] += 1
        if self._view is not None and out._view is not None:
            self._view = out._view
        if tracked:
            self._grad_fn, self._output_nr = out._grad_fn, out._output_nr
        return self
    method.__name__ = method.__qualname__ = name
    return method


def swapdims(input, dim0, dim1):
    return sh.transpose(input, dim0, dim1)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """Uninitialised memory of ``size`` laid out with element strides ``stride``: a fresh tensor
    (a leaf, not a view) over the fewest elements the layout reaches."""
    from .. import _creation, _tensor_options
    options = {"layout": layout, "pin_memory": pin_memory}
    if _tensor_options.take("empty_strided", options, _tensor_options.NAMES):
        raise TypeError(f"empty_strided(): a tensor of layout {layout} is not made here")
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    needed = 0 if 0 in size else sum((n - 1) * s for n, s in zip(size, stride)) + 1
    flat = _creation.empty(needed, dtype=dtype, device=device)
    data = flat._backend.as_strided(flat._data, size, stride, 0) if needed else flat._backend.empty(size, flat._data.dtype)
    out = Tensor._make(data, backend=flat._backend)
    return out.requires_grad_() if requires_grad else out


FUNCTIONS = {"as_strided": as_strided, "swapdims": swapdims, "empty_strided": empty_strided}
METHODS = {
    "as_strided": as_strided, "swapdims": swapdims,
    "t_": _become_view("t_", _t), "transpose_": _become_view("transpose_", _transpose),
    "swapaxes_": _become_view("swapaxes_", _transpose), "swapdims_": _become_view("swapdims_", _transpose),
    "unsqueeze_": _become_view("unsqueeze_", _unsqueeze), "squeeze_": _become_view("squeeze_", _squeeze),
    "as_strided_": _become_view("as_strided_", _as_strided),
}


def view_dtype(input, dtype):
    """``input``'s memory read as ``dtype``, sharing it (and its version counter), outside
    autograd as PyTorch's; between sizes the last dimension (of step 1) shrinks or grows."""
    from .. import _dtype
    new = _dtype.as_dtype(dtype)
    old = input.dtype
    if new.itemsize != old.itemsize:
        names = f"{_dtype.scalar_type_name(old)} as {_dtype.scalar_type_name(new)} (different element sizes)"
        if input.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 to view {names}")
        strides = input.stride()
        if new.itemsize > old.itemsize:
            ratio = new.itemsize // old.itemsize
            if input.shape[-1] % ratio:
                raise RuntimeError(f"self.size(-1) must be divisible by {ratio} to view {names}, but got "
                                   f"{input.shape[-1]}")
            offset = input.storage_offset()
            if offset % ratio:
                raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} to view {names}, but got "
                                   f"{offset}")
            for d, step in enumerate(strides[:-1]):
                if step % ratio:
                    raise RuntimeError(f"self.stride({d}) must be divisible by {ratio} to view {names}, but got {step}")
        if strides[-1] != 1 and input.shape[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 to view {names}, but got {strides[-1]}")
    data = input._backend.view_dtype(input._data, new.np)
    return Tensor._make(data, version=input._version_counter, backend=input._backend)
