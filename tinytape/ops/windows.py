"""Pooling and convolution built from tinytape's own recorded ops.

Every window's elements are gathered by one flat gather from the input with one extra
element appended (the padding value), then reduced or multiplied by the flattened
filters: the gather's backward scatter-adds, so overlapping windows accumulate, and the
gradient, higher derivatives and CUDA path are those of the gather, reductions and
matrix product.  Window positions are computed on the host with numpy.
"""
import math
import numbers

import numpy as np

from .. import _creation, _dtype
from . import elementwise as ew
from . import linalg as la
from . import reduction as red
from . import shape as sh
from .._tensor import Tensor


def _constant(like, array, dtype=None):
    """A tensor of host values on ``like``'s device (no history)."""
    return _creation.tensor(np.asarray(array), dtype=dtype or like.dtype, device=like.device)


def _check_tensor(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")


# ---------------------------------------------------------------- windows: pooling, convolution


def _pair(v, name, op):
    v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(v) != 2 or not all(isinstance(i, numbers.Integral) for i in v):
        raise RuntimeError(f"{op}: {name} must be an int or a pair of ints, got {v!r}")
    return tuple(int(i) for i in v)


def _pool_size(size, k, s, pad, d, ceil_mode):
    out = (size + 2 * pad - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + pad:
        out -= 1  # the last window must start inside the input or its left padding
    return out


def _window_ids(shape, kernel, stride, pad, dilation, out_hw):
    """Flat positions of every window's elements in an (N, C, H, W) input, shaped
    (N, C, Ho, Wo, kh*kw); positions outside the input point one past its end (the
    padding element).  Also the (Ho, Wo, kh*kw) mask of positions inside the input."""
    n, c, h, w = shape
    (kh, kw), (sh_, sw), (ph, pw), (dh, dw), (oh, ow) = kernel, stride, pad, dilation, out_hw
    rows = np.arange(oh)[:, None] * sh_ - ph + np.arange(kh)[None, :] * dh  # (oh, kh)
    cols = np.arange(ow)[:, None] * sw - pw + np.arange(kw)[None, :] * dw  # (ow, kw)
    inside = ((rows >= 0) & (rows < h))[:, None, :, None] & ((cols >= 0) & (cols < w))[None, :, None, :]
    within = (rows[:, None, :, None] * w + cols[None, :, None, :]).reshape(oh, ow, kh * kw)
    inside = inside.reshape(oh, ow, kh * kw)
    planes = np.arange(n * c).reshape(n, c, 1, 1, 1) * (h * w)
    ids = np.where(inside, planes + within, n * c * h * w)
    return ids, inside, within


def _gather_windows(x, ids, fill):
    """``x``'s elements at ``ids``, with the padding element ``fill`` at position numel,
    as a matrix: one row per window (2-D keeps every backend's kernels in reach)."""
    padded = sh.cat([sh.reshape(x, (-1,)), _constant(x, [fill])])
    return sh.take_flat(padded, ids.reshape(-1, ids.shape[-1]))


def _batched(input, op):
    _check_tensor(input, op)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}: Expected 3D or 4D (batch mode) tensor for input, got shape {list(input.shape)}")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype}")
    return (input, False) if input.ndim == 4 else (sh.unsqueeze(input, 0), True)


def _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, op):
    kernel = _pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None or stride == [] or stride == () else _pair(stride, "stride", op)
    pad, dil = _pair(padding, "padding", op), _pair(dilation, "dilation", op)
    if min(kernel) <= 0 or min(stride) <= 0 or min(dil) <= 0 or min(pad) < 0:
        raise RuntimeError(f"{op}: kernel_size, stride and dilation must be positive and padding non-negative, "
                           f"got kernel_size={kernel}, stride={stride}, padding={pad}, dilation={dil}")
    if any(p > (d * (k - 1) + 1) // 2 for p, k, d in zip(pad, kernel, dil)):
        raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but got pad={pad}, "
                           f"kernel_size={kernel} and dilation={dil}")
    out = tuple(_pool_size(s, k, st, p, d, ceil_mode) for s, k, st, p, d in zip(x.shape[2:], kernel, stride, pad, dil))
    if min(out) < 1:
        raise RuntimeError(f"{op}: Given input size: ({'x'.join(map(str, x.shape[1:]))}). Calculated output size: "
                           f"({x.shape[1]}x{out[0]}x{out[1]}). Output size is too small")
    return kernel, stride, pad, dil, out


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    x, unbatched = _batched(input, "max_pool2d")
    kernel, stride, pad, dil, out = _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    ids, _, within = _window_ids(x.shape, kernel, stride, pad, dil, out)
    values, arg = red.max(_gather_windows(x, ids, -math.inf), -1)
    values, arg = sh.reshape(values, ids.shape[:-1]), sh.reshape(arg, ids.shape[:-1])
    if return_indices:  # the winner's position in its (H, W) plane, as PyTorch reports it
        arg = arg.cpu().numpy()
        picked = np.take_along_axis(np.broadcast_to(within, arg.shape + within.shape[-1:]), arg[..., None], -1)
        arg = _creation.tensor(picked[..., 0], dtype=_dtype.int64, device=input.device)
    if unbatched:
        values, arg = sh.squeeze(values, 0), sh.squeeze(arg, 0)
    return (values, arg) if return_indices else values


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    x, unbatched = _batched(input, "avg_pool2d")
    kernel, stride, pad, dil, out = _pool_geometry(x, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    ids, inside, _ = _window_ids(x.shape, kernel, stride, pad, dil, out)
    if divisor_override:
        divisor = np.full(out, float(divisor_override))
    elif count_include_pad:  # the window clipped to the padded input
        extent = []
        for o, size, k, st, p in zip(out, x.shape[2:], kernel, stride, pad):
            starts = np.arange(o) * st - p
            extent.append(np.minimum(starts + k, size + p) - starts)
        divisor = extent[0][:, None] * extent[1][None, :]
    else:
        divisor = inside.sum(-1)
    sums = sh.reshape(red.sum(_gather_windows(x, ids, 0.0), -1), ids.shape[:-1])
    result = ew.div(sums, _constant(x, divisor.astype(np.float64)))
    return sh.squeeze(result, 0) if unbatched else result


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation: every window (all input channels of a group) times the
    flattened filters, as one matrix product per group."""
    x, unbatched = _batched(input, "conv2d")
    _check_tensor(weight, "conv2d", "weight")
    if weight.ndim != 4:
        raise RuntimeError(f"conv2d: expected 4-dimensional weight, got shape {list(weight.shape)}")
    n, c, h, w = x.shape
    o, cg, kh, kw = weight.shape
    if groups < 1 or c % groups or o % groups or cg * groups != c:
        raise RuntimeError(f"conv2d: Given groups={groups}, weight of size {list(weight.shape)}, expected input "
                           f"{list(input.shape)} to have {cg * groups} channels, but got {c} channels instead")
    stride, dil = _pair(stride, "stride", "conv2d"), _pair(dilation, "dilation", "conv2d")
    if padding == "valid":
        padding = 0
    if padding == "same":
        if stride != (1, 1):
            raise RuntimeError("conv2d: padding='same' is not supported for strided convolutions")
        total = (dil[0] * (kh - 1), dil[1] * (kw - 1))
        pad, extra = (total[0] // 2, total[1] // 2), (total[0] - total[0] // 2, total[1] - total[1] // 2)
    else:
        pad = extra = _pair(padding, "padding", "conv2d")
    out = tuple((s + a + b - d * (k - 1) - 1) // st + 1
                for s, a, b, d, k, st in zip((h, w), pad, extra, dil, (kh, kw), stride))
    if min(out) < 1:
        raise RuntimeError(f"conv2d: Calculated padded input size per channel: ({h + pad[0] + extra[0]} x "
                           f"{w + pad[1] + extra[1]}). Kernel size: ({kh} x {kw}). Kernel size can't be greater "
                           f"than actual input size")
    ids, _, _ = _window_ids(x.shape, (kh, kw), stride, pad, dil, out)
    ids = ids.transpose(0, 2, 3, 1, 4)  # (n, oh, ow, c, kh*kw)
    og = o // groups
    outputs = []
    for g in range(groups):
        cols = _gather_windows(x, ids[:, :, :, g * cg:(g + 1) * cg].reshape(-1, cg * kh * kw), 0.0)  # (n*oh*ow, .)
        filters = sh.reshape(weight[g * og:(g + 1) * og], (og, cg * kh * kw))
        outputs.append(la.matmul(cols, sh.t(filters)))
    result = sh.permute(sh.reshape(sh.cat(outputs, 1), (n,) + out + (o,)), (0, 3, 1, 2))
    if bias is not None:
        result = ew.add(result, sh.reshape(bias, (1, o, 1, 1)))
    return sh.squeeze(result, 0) if unbatched else result


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """conv2d over a height-1 image."""
    _check_tensor(input, "conv1d")
    if input.ndim not in (2, 3) or weight.ndim != 3:
        raise RuntimeError(f"conv1d: expected 2D or 3D input and 3D weight, got {list(input.shape)} and "
                           f"{list(weight.shape)}")
    single = isinstance(padding, str)
    pad = padding if single else (0, padding[0] if isinstance(padding, (tuple, list)) else padding)
    one = (lambda v: (1, v[0] if isinstance(v, (tuple, list)) else v))
    out = conv2d(sh.unsqueeze(input, -2), sh.unsqueeze(weight, -2), bias, one(stride), pad, one(dilation), groups)
    return sh.squeeze(out, -2)
