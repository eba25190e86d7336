"""Max, average and adaptive average pooling, one tape entry each, named as PyTorch's.

Each channel of each sample is pooled as its own image: the (N, C, H, W) input is read
as N*C one-channel images, so each column of ``Im2Col`` is one window of one
channel, reduced along the column.  One-dimensional pooling is the same over images of
height 1.  Adaptive average pooling is a product with two averaging matrices (rows of
the output position's bin), ``A_h @ x @ A_w.T``, whose backward is the transposed pair.
"""
import math

import numpy as np

from .. import _dtype
from .._dtype import float32, float64
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend.opcodes import MAX
from . import elementwise as ew
from . import linalg as la
from . import reduction as red
from . import shape as sh
from .windows import Col2Im, Im2Col, _check_input, _constant, _to2, _tuple


def _pool_size(size, k, s, pad, d, ceil_mode):
    out = (size + 2 * pad - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + pad:
        out -= 1  # the last window must start inside the input or its left padding
    return out


def window_arguments(kernel_size, stride, padding, dilation, spatial, op):
    """A pooling's (kernel, stride, padding, dilation) as ``spatial``-tuples (stride defaulting
    to the kernel), each size checked positive as PyTorch checks them."""
    kernel = _tuple(kernel_size, spatial, "kernel_size", op)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not len(stride)) \
        else _tuple(stride, spatial, "stride", op)
    pad, dil = _tuple(padding, spatial, "padding", op), _tuple(dilation, spatial, "dilation", op)
    if min(kernel) <= 0:
        raise RuntimeError(f"{op}: kernel_size must be greater than zero, but got kernel_size={list(kernel)}")
    if min(stride) <= 0:
        raise RuntimeError(f"{op}: stride must be greater than zero, but got stride={list(stride)}")
    if min(dil) <= 0:
        raise RuntimeError(f"{op}: dilation must be greater than zero, but got dilation={list(dil)}")
    return kernel, stride, pad, dil


def _check_padding(pad, kernel, dil, op):
    """PyTorch's checks of the paddings, dimension by dimension, then together."""
    for p, k, d in zip(pad, kernel, dil):
        if op == "max_pool1d" and (p < 0 or p > k // 2):
            raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}" if p < 0 else
                               f"max_pool1d() padding should be at most half of kernel size, but got padding={p} and "
                               f"kernel_size={k}")
        if p < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
        if p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    if any(p > k // 2 for p, k in zip(pad, kernel)):
        (kh, kw), (ph, pw) = _to2(kernel, len(kernel)), _to2(pad, len(pad), 0)
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got padW = {pw}, "
                           f"padH = {ph}, kW = {kw}, kH = {kh}")


def _pool_geometry(input, spatial, kernel_size, stride, padding, dilation, ceil_mode, op):
    """(geometry of the one-channel images, output shape) of a pooling of ``input``."""
    _check_input(input, spatial, op)
    kernel, stride, pad, dil = window_arguments(kernel_size, stride, padding, dilation, spatial, op)
    _check_padding(pad, kernel, dil, op)
    size = tuple(input.shape[-spatial:])
    out = tuple(_pool_size(s, k, st, p, d, ceil_mode) for s, k, st, p, d in zip(size, kernel, stride, pad, dil))
    channels = input.shape[-spatial - 1]
    if min(out) < 1:
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (channels,) + size))}). Calculated output "
                           f"size: ({'x'.join(map(str, (channels,) + out))}). Output size is too small")
    planes = math.prod(input.shape[:-spatial])
    h, w = _to2(size, spatial)
    (kh, kw), (sh_, sw), (ph, pw), (dh, dw), (oh, ow) = (
        _to2(kernel, spatial), _to2(stride, spatial), _to2(pad, spatial, 0), _to2(dil, spatial), _to2(out, spatial))
    geometry = (planes, 1, h, w, kh, kw, sh_, sw, ph, pw, dh, dw, oh, ow)
    return geometry, tuple(input.shape[:-spatial]) + out


def _planes(x, geometry):
    return sh.reshape(x, geometry[:4])


# ---------------------------------------------------------------- max


class MaxPool2DWithIndices(Function):
    """The max of each window (padding reads -inf), and where in its (H, W) plane it
    sits; the gradient goes to that element (summed where windows share it)."""

    grad_fn_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, geometry, out_shape, with_indices):
        cols = Im2Col.apply(_planes(x, geometry), geometry, -math.inf)
        data, arg = x._backend.argreduce(MAX, cols._data, 0, False)
        values, arg = sh.reshape(x._new(data), out_shape), _inside_winner(x._new(arg), geometry)
        ctx.geometry, ctx.input_shape = geometry, x.shape
        ctx.save_for_backward(arg)
        if not with_indices:
            return values
        # the winner's position in its plane: its window's corner plus its offset in the
        # window, picked by a comparison and a sum (no integer division: nothing is read)
        *_, h, w, kh, kw, sh_, sw, ph, pw, dh, dw, oh, ow = geometry
        corner = (np.arange(oh)[:, None] * sh_ - ph) * w + np.arange(ow)[None, :] * sw - pw
        offset = (np.arange(kh)[:, None] * dh * w + np.arange(kw)[None, :] * dw).reshape(-1, 1)
        picked = red.sum(ew.mul(_window_hits(arg, kh * kw), _constant(arg, offset)), 0)
        indices = sh.reshape(ew.add(sh.reshape(picked, (-1, oh * ow)), _constant(arg, corner.reshape(-1))), out_shape)
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, g, _g_indices=None):
        (arg,) = ctx.saved_tensors
        geometry = ctx.geometry
        spread = ew.where(_window_hits(arg, geometry[4] * geometry[5]), sh.reshape(g, (1, -1)), 0.0)
        return sh.reshape(Col2Im.apply(spread, geometry), ctx.input_shape), None, None, None


def _inside_winner(arg, geometry):
    """``arg`` with a winner in the padding (the window's inputs all -inf, tied with the
    padding's -inf) moved to the window's first input element, as PyTorch's kernel, which
    never reads the padding."""
    *_, h, w, kh, kw, sh_, sw, ph, pw, dh, dw, oh, ow = geometry
    rows = np.arange(kh)[:, None] * dh + np.arange(oh)[None, :] * sh_ - ph  # (kh, oh)
    cols = np.arange(kw)[:, None] * dw + np.arange(ow)[None, :] * sw - pw  # (kw, ow)
    inside = (((rows >= 0) & (rows < h))[:, None, :, None]
              & ((cols >= 0) & (cols < w))[None, :, None, :]).reshape(kh * kw, oh * ow)  # (window, output)
    if inside.all():
        return arg
    planes = sh.reshape(arg, (1, -1, oh * ow))
    hit = ew.eq(planes, _constant(arg, np.arange(kh * kw).reshape(-1, 1, 1)))
    in_padding = ew.eq(red.sum(ew.where(hit, _constant(arg, inside[:, None, :].astype(np.int64)), 0), 0), 0)
    first = _constant(arg, inside.argmax(0)[None, :])
    return sh.reshape(ew.where(in_padding, first, sh.reshape(planes, (-1, oh * ow))), (-1,))


def _window_hits(arg, window):
    """(window, outputs) mask: True at each output's winning window element."""
    return ew.eq(sh.reshape(arg, (1, -1)), _constant(arg, np.arange(window).reshape(-1, 1)))


def _max_pool(input, spatial, kernel_size, stride, padding, dilation, ceil_mode, return_indices, op):
    geometry, out_shape = _pool_geometry(input, spatial, kernel_size, stride, padding, dilation, ceil_mode, op)
    x = sh.unsqueeze(input, -2) if spatial == 1 else input  # PyTorch's 1-d: a height-1 image, squeezed
    shape = out_shape[:-1] + (1,) + out_shape[-1:] if spatial == 1 else out_shape
    result = MaxPool2DWithIndices.apply(x, geometry, shape, bool(return_indices))
    if spatial == 1:
        result = tuple(sh.squeeze(r, -2) for r in result) if return_indices else sh.squeeze(result, -2)
    return result


def integer_pool(input, pool, kind):
    """``pool`` of an integer tensor as PyTorch's integer kernels give it (max pools of every
    integer dtype, average pools of int64, truncating): through float64, exact for the
    integers a float64 holds; None where the input is not such a tensor."""
    name = input.dtype.name if isinstance(input, Tensor) else ""
    if name not in ("uint8", "int8", "int16", "int32", "int64") or (kind == "avg" and name != "int64"):
        return None
    result = pool(ew.to_dtype(input, _dtype.float64))
    if kind == "max":
        return (ew.to_dtype(result[0], input.dtype), result[1]) if isinstance(result, tuple) \
            else ew.to_dtype(result, input.dtype)
    return ew.to_dtype(ew.trunc(result), input.dtype)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    pooled = integer_pool(input, lambda x: max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode,
                                                      return_indices), "max")
    if pooled is not None:
        return pooled
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool2d")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool1d")


# ---------------------------------------------------------------- average


class AvgPool2D(Function):
    """The sum of each window over its divisor; the gradient over the divisor spread
    evenly back over the window."""

    grad_fn_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, geometry, divisor, out_shape):
        cols = Im2Col.apply(_planes(x, geometry), geometry, 0.0)
        sums = sh.reshape(red.sum(cols, 0), (geometry[0], geometry[12] * geometry[13]))
        ctx.geometry, ctx.divisor, ctx.input_shape = geometry, divisor, x.shape
        return sh.reshape(ew.div(sums, divisor), out_shape)

    @staticmethod
    def backward(ctx, g):
        geometry = ctx.geometry
        share = ew.div(sh.reshape(g, (geometry[0], -1)), ctx.divisor)
        spread = sh.expand(sh.reshape(share, (1, -1)), (geometry[4] * geometry[5], share.numel()))
        return sh.reshape(Col2Im.apply(sh.contiguous(spread), geometry), ctx.input_shape), None, None, None


class AvgPoolKernel(Function):
    """Average pooling by the backend's kernel (PyTorch's CPU bits); ``window`` is
    (kernel, stride, padding, count_include_pad, divisor_override) per pooled dimension.
    Its backward is the transposed pool, itself differentiable (``create_graph``)."""
    grad_fn_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, size_out, window):
        ctx.size_in, ctx.window = tuple(x.shape[-len(size_out):]), window
        return x._new(x._backend.avg_pool(x._data, size_out, *window))

    @staticmethod
    def backward(ctx, g):
        cls = AvgPoolKernelTransposed3D if len(ctx.size_in) == 3 else AvgPoolKernelTransposed
        return cls.apply(g, ctx.size_in, ctx.window), None, None


class AvgPoolKernel3D(AvgPoolKernel):
    grad_fn_name = "AvgPool3DBackward0"


class AvgPoolKernelTransposed(Function):
    grad_fn_name = "AvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, g, size_in, window):
        ctx.size_out, ctx.window = tuple(g.shape[-len(size_in):]), window
        return g._new(g._backend.avg_pool(g._data, ctx.size_out, *window, backward=True, size_in=size_in))

    @staticmethod
    def backward(ctx, gg):
        cls = AvgPoolKernel3D if len(ctx.size_out) == 3 else AvgPoolKernel
        return cls.apply(gg, ctx.size_out, ctx.window), None, None


class AvgPoolKernelTransposed3D(AvgPoolKernelTransposed):
    grad_fn_name = "AvgPool3DBackwardBackward0"


def _avg_pool(input, spatial, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, op):
    geometry, out_shape = _pool_geometry(input, spatial, kernel_size, stride, padding, 1, ceil_mode, op)
    *_, h, w, kh, kw, sh_, sw, ph, pw, _dh, _dw, oh, ow = geometry
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if adaptive_pool_kernel_fits(input):
        window = ((kh, kw), (sh_, sw), (ph, pw), bool(count_include_pad), divisor_override)
        x = sh.unsqueeze(input, -2) if spatial == 1 else input  # PyTorch's 1-d: a height-1 image, squeezed
        pooled = AvgPoolKernel.apply(x, (oh, ow), window)
        return sh.squeeze(pooled, -2) if spatial == 1 else pooled
    if divisor_override is not None:
        divisor = np.full(oh * ow, float(divisor_override))
    else:
        extent = []
        for o, size, k, st, p in ((oh, h, kh, sh_, ph), (ow, w, kw, sw, pw)):
            start = np.arange(o) * st - p
            end = np.minimum(start + k, size + p)  # the window clipped to the padded input
            if not count_include_pad:
                end, start = np.minimum(end, size), np.maximum(start, 0)
            extent.append(end - start)
        divisor = (extent[0][:, None] * extent[1][None, :]).reshape(-1).astype(np.float64)
    divisor = _constant(input, divisor)
    if spatial == 1:  # PyTorch's: a height-1 image, then squeezed
        pooled = AvgPool2D.apply(sh.unsqueeze(input, -2), geometry, divisor, out_shape[:-1] + (1,) + out_shape[-1:])
        return sh.squeeze(pooled, -2)
    return AvgPool2D.apply(input, geometry, divisor, out_shape)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    pooled = integer_pool(input, lambda x: avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                                      divisor_override), "avg")
    if pooled is not None:
        return pooled
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     "avg_pool2d")


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    pooled = integer_pool(input, lambda x: avg_pool1d(x, kernel_size, stride, padding, ceil_mode, count_include_pad),
                          "avg")
    if pooled is not None:
        return pooled
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None, "avg_pool1d")


# ---------------------------------------------------------------- adaptive average


def _bins(size, out):
    """The (out, size) matrix averaging each output position's bin, PyTorch's bins:
    [floor(i * size / out), ceil((i + 1) * size / out))."""
    matrix = np.zeros((out, size))
    for i in range(out):
        start, end = (i * size) // out, -((-(i + 1) * size) // out)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


class AdaptiveAvgPool2D(Function):
    grad_fn_name = "AdaptiveAvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, rows, cols):
        ctx.save_for_backward(rows, cols)
        return la.matmul(la.matmul(rows, x), sh.t(cols))

    @staticmethod
    def backward(ctx, g):
        rows, cols = ctx.saved_tensors
        return la.matmul(la.matmul(sh.t(rows), g), cols), None, None


class AdaptiveAvgPoolKernel(Function):
    """Adaptive average pooling by the backend's kernel (PyTorch's CPU bits); its backward
    is the transposed pool, itself differentiable (``create_graph``)."""
    grad_fn_name = "AdaptiveAvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, size_out):
        ctx.size_in = tuple(x.shape[-len(size_out):])
        return x._new(x._backend.adaptive_avg_pool(x._data, size_out))

    @staticmethod
    def backward(ctx, g):
        cls = AdaptiveAvgPoolKernelTransposed3D if len(ctx.size_in) == 3 else AdaptiveAvgPoolKernelTransposed
        return cls.apply(g, ctx.size_in), None


class AdaptiveAvgPoolKernel3D(AdaptiveAvgPoolKernel):
    grad_fn_name = "AdaptiveAvgPool3DBackward0"


class AdaptiveAvgPoolKernelTransposed(Function):
    grad_fn_name = "AdaptiveAvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, g, size_in):
        ctx.size_out = tuple(g.shape[-len(size_in):])
        return g._new(g._backend.adaptive_avg_pool_backward(g._data, size_in))

    @staticmethod
    def backward(ctx, gg):
        cls = AdaptiveAvgPoolKernel3D if len(ctx.size_out) == 3 else AdaptiveAvgPoolKernel
        return cls.apply(gg, ctx.size_out), None


class AdaptiveAvgPoolKernelTransposed3D(AdaptiveAvgPoolKernelTransposed):
    grad_fn_name = "AdaptiveAvgPool3DBackwardBackward0"


class AdaptiveMaxPoolKernel(Function):
    """Adaptive max pooling by the backend's kernel (PyTorch's CPU: each bin's first maximum,
    a NaN winning) with the maxima's flat positions in their planes; the gradient goes to
    those positions (a recorded scatter-add, in output order)."""
    grad_fn_name = "AdaptiveMaxPool2DBackward0"

    @staticmethod
    def forward(ctx, x, size_out):
        values, indices = x._backend.adaptive_max_pool(x._data, size_out)
        indices = x._new(indices)
        ctx.input_shape, ctx.rank = tuple(x.shape), len(size_out)
        ctx.save_for_backward(indices)
        ctx.mark_non_differentiable(indices)
        return x._new(values), indices

    @staticmethod
    def backward(ctx, g, _g_indices=None):
        from .._creation import zeros
        from .scatter import scatter_add
        (indices,) = ctx.saved_tensors
        shape, rank = ctx.input_shape, ctx.rank
        planes = math.prod(shape[:-rank])
        grad = scatter_add(zeros(planes, math.prod(shape[-rank:]), dtype=g.dtype, device=g.device), 1,
                           sh.reshape(indices, (planes, -1)), sh.reshape(g, (planes, -1)))
        return sh.reshape(grad, shape), None


class AdaptiveMaxPoolKernel3D(AdaptiveMaxPoolKernel):
    grad_fn_name = "AdaptiveMaxPool3DBackward0"


def adaptive_pool_kernel_fits(x):
    """Whether the backend's adaptive-average-pool kernel serves ``x`` (float32/float64)."""
    return hasattr(x._backend, "adaptive_avg_pool") and x.dtype in (float32, float64) and x.numel() > 0


def _adaptive_avg_pool(input, spatial, output_size, op):
    _check_input(input, spatial, op)
    if isinstance(output_size, (tuple, list)):
        output_size = tuple(input.shape[-spatial + i] if s is None else s for i, s in enumerate(output_size))
    out = _tuple(output_size, spatial, "output_size", op)
    if min(out) < 0 or (spatial == 2 and len(out) != 2):
        raise RuntimeError(f"{op}: output_size must be non-negative, got {list(out)}")
    if any(s == 0 for s in input.shape[-spatial:]):
        raise RuntimeError(f"{op}: Expected input to have non-zero size for non-batch dimensions, but input has "
                           f"sizes {list(input.shape)} with dimension {input.ndim - spatial} being empty")
    size = tuple(input.shape[-spatial:])
    if spatial == 1:
        return sh.squeeze(_adaptive_avg_pool(sh.unsqueeze(input, -2), 2, (1, out[0]), op), -2)
    if out == (1, 1):  # PyTorch's global average: a mean
        return red.mean(input, (-1, -2), True)
    if adaptive_pool_kernel_fits(input):
        return AdaptiveAvgPoolKernel.apply(input, out)
    rows, cols = _constant(input, _bins(size[0], out[0])), _constant(input, _bins(size[1], out[1]))
    return AdaptiveAvgPool2D.apply(input, rows, cols)


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg_pool(input, 2, output_size, "adaptive_avg_pool2d")


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg_pool(input, 1, output_size, "adaptive_avg_pool1d")


__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d"]
