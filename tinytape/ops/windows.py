"""Convolution: every window of the input as a column (im2col), then a matrix product
with the flattened filters (pooling, in pooling.py, reduces the columns instead).

``Im2Col`` and ``Col2Im`` are the backends' window kernels as ops, each the other's
backward (both are linear), so a backward written with them, the matrix product and
elementwise ops differentiates again under ``create_graph=True``.  ``Convolution``,
``MaxPool2DWithIndices`` and ``AvgPool2D`` are one tape entry each, named as PyTorch's
grad_fns; one-dimensional inputs run as images of height 1 inside the same entry.
"""
import numbers
import warnings

import numpy as np

from .. import _autocast, _creation
from .._grad_mode import is_grad_enabled
from .._tensor import Tensor
from ..autograd.function import Function
from . import elementwise as ew
from . import linalg as la
from . import reduction as red
from . import shape as sh


def _constant(like, array, dtype=None):
    """A tensor of host values on ``like``'s device (no history)."""
    return _creation.tensor(np.asarray(array), dtype=dtype or like.dtype, device=like.device)


def _check_tensor(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")


# ---------------------------------------------------------------- the window ops


class Im2Col(Function):
    """The windows of an (n, c, h, w) tensor as columns (c * kh * kw, n * oh * ow);
    ``geometry`` as the backends' ``im2col``."""

    grad_fn_name = "Im2ColBackward0"
    _forward_runs_kernels_only = True

    @staticmethod
    def forward(ctx, x, geometry, fill):
        ctx.geometry = geometry
        return x._new(x._backend.im2col(x._data, geometry, fill))

    @staticmethod
    def backward(ctx, g):
        return Col2Im.apply(g, ctx.geometry), None, None


class Col2Im(Function):
    """Im2Col's adjoint: window elements added back onto the positions they were read from."""

    grad_fn_name = "Col2ImBackward0"
    _forward_runs_kernels_only = True

    @staticmethod
    def forward(ctx, cols, geometry):
        ctx.geometry = geometry
        return cols._new(cols._backend.col2im(cols._data, geometry))

    @staticmethod
    def backward(ctx, g):
        return Im2Col.apply(g, ctx.geometry, 0.0), None


def _as_image(x, weight):
    """``x`` (batched or not, 1 or 2 spatial dims: ``weight`` has 2 more) as (n, c, h, w)."""
    spatial = weight.ndim - 2
    n = x.shape[0] if x.ndim == spatial + 2 else 1
    c = x.shape[-spatial - 1]
    h, w = (1, x.shape[-1]) if spatial == 1 else x.shape[-2:]
    return sh.reshape(x, (n, c, h, w))


def _output_shape(x, spatial, channels, oh, ow):
    batch = (x.shape[0],) if x.ndim == spatial + 2 else ()
    return batch + (channels,) + ((ow,) if spatial == 1 else (oh, ow))


# ---------------------------------------------------------------- argument checks


def _tuple(v, n, name, op):
    v = tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
    if len(v) == 1 and n > 1:
        v = v * n
    if not all(isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in v):  # (PyTorch: a TypeError)
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, but got {v!r}")
    if len(v) != n and op.startswith("conv"):
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match the "
                           f"convolution dimensions, but got {name}={list(v)}")
    if len(v) != n:
        raise RuntimeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    return tuple(int(i) for i in v)


def _to2(v, spatial, height=1):
    """A 1-d parameter as the (height, width) pair of a height-1 image."""
    return tuple(v) if spatial == 2 else (height, v[0])


def _check_input(input, spatial, op):
    _check_tensor(input, op)
    if input.ndim not in (spatial + 1, spatial + 2):
        if op in _RANK_WORDS:
            raise RuntimeError(_RANK_WORDS[op].format(shape=list(input.shape), ndim=input.ndim))
        raise RuntimeError(f"{op}: Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batch mode) tensor for "
                           f"input, but got input of shape {list(input.shape)}")
    if not input.dtype.is_floating_point:
        if op in _POOL_KERNELS:  # PyTorch's dispatch refusal, in its kernel's name
            raise NotImplementedError(f'"{_POOL_KERNELS[op]}" not implemented for \'{_dtype_name(input.dtype)}\'')
        raise RuntimeError(f'{op}: "{op}" not implemented for \'{_dtype_name(input.dtype)}\'')


# PyTorch's refusals of an input of the wrong rank, pool by pool
_RANK_WORDS = {
    "max_pool2d": "non-empty 3D or 4D (batch mode) tensor expected for input",
    "max_pool1d": "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, "
                  "but got:{shape}",
    "avg_pool1d": "Expected 2 to 3 dimensions, but got {ndim}-dimensional tensor for argument #1 'self' (while "
                  "checking arguments for avg_pool1d)",
}


# the CPU kernel a pool dispatches to, named in PyTorch's refusal of an integer input
_POOL_KERNELS = {"max_pool1d": "max_pool1d_impl", "max_pool2d": "max_pool2d", "max_pool3d": "max_pool3d",
                 "avg_pool1d": "avg_pool2d", "avg_pool2d": "avg_pool2d", "avg_pool3d": "avg_pool3d_out_frame",
                 "adaptive_avg_pool1d": "adaptive_avg_pool2d", "adaptive_avg_pool2d": "adaptive_avg_pool2d",
                 "adaptive_avg_pool3d": "adaptive_avg_pool3d_cpu", "adaptive_max_pool1d": "adaptive_max_pool2d",
                 "adaptive_max_pool2d": "adaptive_max_pool2d", "adaptive_max_pool3d": "adaptive_max_pool3d_cpu"}


def _dtype_name(dtype):
    return {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double", "int64": "Long",
            "int32": "Int", "int16": "Short",
            "int8": "Char", "uint8": "Byte", "bool": "Bool"}.get(str(dtype).replace("tinytape.", ""), str(dtype))


# ---------------------------------------------------------------- convolution


class Convolution(Function):
    """Cross-correlation of ``x`` (any of conv1d/conv2d's input ranks) with ``weight``:
    the flattened filters times the windows (im2col), one matrix product per group.
    Backward: the filters' transpose times the gradient goes back through col2im, the
    gradient times the windows' transpose is the weight's gradient, its sum the bias's."""

    grad_fn_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, geometry, groups, out_shape):
        cols = Im2Col.apply(_as_image(x, weight), geometry, 0.0)
        n, oh, ow, o = geometry[0], geometry[12], geometry[13], weight.shape[0]
        out = _blockwise(sh.reshape(weight, (o, -1)), cols, groups)
        if bias is not None:  # added before the permute: an elementwise op keeps its input's layout
            out = ew.add(out, sh.reshape(bias, (o, 1)))
        # contiguous, as PyTorch's output: ``conv(x).view(n, -1)`` must work
        out = sh.contiguous(sh.permute(sh.reshape(out, (o, n, oh, ow)), (1, 0, 2, 3)))
        ctx.geometry, ctx.groups = geometry, groups
        wants_weight = getattr(ctx, "needs_input_grad", (False, False))[1]
        ctx.save_for_backward(x, weight, cols if wants_weight else None)  # the windows: for the weight's gradient
        return sh.reshape(out, out_shape)

    @staticmethod
    def backward(ctx, g):
        x, weight, cols = ctx.saved_tensors
        wants_x, wants_w, wants_b = ctx.needs_input_grad[:3]
        geometry, groups = ctx.geometry, ctx.groups
        n, oh, ow, o = geometry[0], geometry[12], geometry[13], weight.shape[0]
        g4 = sh.reshape(g, (n, o, oh, ow))
        per_filter = sh.reshape(sh.permute(g4, (1, 0, 2, 3)), (o, n * oh * ow))
        grad_x = grad_w = grad_b = None
        if wants_x:
            grad_cols = _blockwise(sh.reshape(weight, (o, -1)), per_filter, groups, transpose_a=True)
            grad_x = sh.reshape(Col2Im.apply(grad_cols, geometry), x.shape)
        if wants_w:
            if cols is None or is_grad_enabled():  # create_graph: the windows as a function of x
                cols = Im2Col.apply(_as_image(x, weight), geometry, 0.0)
            grad_w = sh.reshape(_blockwise(per_filter, cols, groups, transpose_b=True), weight.shape)
        if wants_b:
            grad_b = red.sum(g4, (0, 2, 3))
        return grad_x, grad_w, grad_b, None, None, None


def _blockwise(a, b, groups, transpose_a=False, transpose_b=False):
    """``a @ b`` block by block: both split in ``groups`` equal blocks of rows, each pair
    multiplied (transposed as asked), the products stacked.  One group: one product."""
    if groups == 1:
        return la.matmul(sh.t(a) if transpose_a else a, sh.t(b) if transpose_b else b)
    step_a, step_b = a.shape[0] // groups, b.shape[0] // groups
    parts = []
    for k in range(groups):
        a_k, b_k = a[k * step_a:(k + 1) * step_a], b[k * step_b:(k + 1) * step_b]
        parts.append(la.matmul(sh.t(a_k) if transpose_a else a_k, sh.t(b_k) if transpose_b else b_k))
    return sh.cat(parts, 0)


def _convolution(input, weight, bias, stride, padding, dilation, groups, spatial):
    op = f"conv{spatial}d"
    _check_tensor(input, op)
    _check_tensor(weight, op, "weight")
    if weight.ndim != spatial + 2:
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for {weight.ndim}-dimensional weight "
                           f"{list(weight.shape)}, but got {input.ndim}-dimensional input of size "
                           f"{list(input.shape)} instead")
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input to {op}, "
                           f"but got input of size: {list(input.shape)}")
    _check_input(input, spatial, op)
    if bias is not None:
        _check_tensor(bias, op, "bias")
    if weight.dtype != input.dtype or (bias is not None and bias.dtype != input.dtype):
        other = weight.dtype if weight.dtype != input.dtype else bias.dtype
        raise RuntimeError(f"expected scalar type {_dtype_name(input.dtype)} but found {_dtype_name(other)}")
    if weight.device != input.device or (bias is not None and bias.device != input.device):
        raise RuntimeError(f"{op}: Expected all tensors to be on the same device, but got input on {input.device} "
                           f"and weight on {weight.device}")
    if not isinstance(groups, numbers.Integral) or groups < 1:
        raise RuntimeError("non-positive groups is not supported")
    c = input.shape[-spatial - 1]
    o, cg = weight.shape[:2]
    if o % groups:  # (PyTorch checks the weight against groups before the input's channels)
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size [{list(weight.shape)}] instead")
    if cg * groups != c:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                           f"{list(input.shape)} to have {cg * groups} channels, but got {c} channels instead")
    if bias is not None and tuple(bias.shape) != (o,):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
                           f"{o} elements, but got bias of size {list(bias.shape)} instead")
    kernel = tuple(weight.shape[2:])
    stride, dilation = _tuple(stride, spatial, "stride", op), _tuple(dilation, spatial, "dilation", op)
    if min(stride) < 1:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) < 1:
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    size = tuple(input.shape[-spatial:])
    if isinstance(padding, str):
        if padding == "valid":
            before = after = (0,) * spatial
        elif padding == "same":
            if max(stride) != 1:
                raise RuntimeError(f"padding='same' is not supported for strided convolutions")
            total = tuple(d * (k - 1) for d, k in zip(dilation, kernel))
            if any(t % 2 for t in total):
                warnings.warn("Using padding='same' with even kernel lengths and odd dilation may require a "
                              "zero-padded copy of the input be created", UserWarning, stacklevel=3)
            before = tuple(t // 2 for t in total)
            after = tuple(t - t // 2 for t in total)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        before = after = _tuple(padding, spatial, "padding", op)
        if min(before) < 0:
            raise RuntimeError("negative padding is not supported")
    padded = tuple(s + a + b for s, a, b in zip(size, before, after))
    reach = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(p < r for p, r in zip(padded, reach)) or min(kernel, default=1) < 1:
        shown = " x ".join(map(str, padded))
        raise RuntimeError(f"Calculated padded input size per channel: ({shown}). Kernel size: "  # (dilated)
                           f"({' x '.join(map(str, reach))}). Kernel size can't be greater than actual input size")
    out = tuple((p - r) // s + 1 for p, r, s in zip(padded, reach, stride))
    n = input.shape[0] if input.ndim == spatial + 2 else 1
    h, w = (1,) + size if spatial == 1 else size
    (kh, kw), (sh_, sw), (ph, pw), (dh, dw), (oh, ow) = (
        _to2(kernel, spatial), _to2(stride, spatial), _to2(before, spatial, 0), _to2(dilation, spatial),
        _to2(out, spatial))
    geometry = (n, c, h, w, kh, kw, sh_, sw, ph, pw, dh, dw, oh, ow)
    if input.ndim == spatial + 1:  # one sample: PyTorch's unsqueeze, convolution, squeeze
        batched = sh.unsqueeze(input, 0)
        return sh.squeeze(Convolution.apply(batched, weight, bias, geometry, int(groups),
                                            _output_shape(batched, spatial, o, oh, ow)), 0)
    return Convolution.apply(input, weight, bias, geometry, int(groups), _output_shape(input, spatial, o, oh, ow))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation over an (N, C, H, W) or (C, H, W) input."""
    if _autocast.state.__dict__:
        input, weight, bias = _autocast.lower(input, weight, bias)
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 2)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation over an (N, C, L) or (C, L) input."""
    if _autocast.state.__dict__:
        input, weight, bias = _autocast.lower(input, weight, bias)
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 1)
