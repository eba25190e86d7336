"""Three spatial dimensions: ``conv3d``, ``max_pool3d``, ``avg_pool3d``, ``adaptive_avg_pool3d``.

Each is the 2-d op over every depth slice, then the depth dimension handled as a window of
its own: a convolution is the sum over the filter's depth taps of 2-d convolutions of the
slices those taps read (the slices of all output depths batched into one call per tap); a
pooling pools each (H, W) plane, then reduces the depth window (a box's maximum, sum and
element count are per-dimension).  All of it recorded ops, each op one tape entry named
as PyTorch's (ConvolutionBackward0, MaxPool3DWithIndicesBackward0, AvgPool3DBackward0,
AdaptiveAvgPool3DBackward0) through ``composite_op``, so gradients, second derivatives, the
CUDA path and ``tinytape.compile`` follow from the parts.
"""
import math
import numbers
import warnings

import numpy as np

from .. import _autocast
from .._creation import tensor
from . import elementwise as ew
from . import linalg as la
from . import reduction as red
from . import shape as sh
from .composite_entry import composite_op
from .nn_ops import pad as _pad
from .pooling import (AdaptiveAvgPoolKernel3D, AvgPoolKernel3D, _bins, _pool_size, adaptive_avg_pool2d,
                      adaptive_pool_kernel_fits, avg_pool2d, integer_pool, max_pool2d, window_arguments)
from .windows import _check_input, _check_tensor, _constant, _dtype_name, _tuple, conv2d


def _batched(input, op, message=None):
    """``input`` as (N, C, D, H, W), and how to give the result back its rank."""
    _check_tensor(input, op)
    if message is not None and input.ndim not in (4, 5):
        raise RuntimeError(message)
    _check_input(input, 3, op)
    if input.ndim == 4:
        return sh.unsqueeze(input, 0), lambda out: sh.squeeze(out, 0)
    return input, lambda out: out


def _merged(x):
    """(N, C, D, H, W) as (N, C, D, H * W): the strided work below stays at rank 4 (the CUDA
    backend's limit for strided operands)."""
    return sh.reshape(x, tuple(x.shape[:3]) + (x.shape[3] * x.shape[4],))


def _depth_taps(x, taps, dilation, stride, out, before, after, fill):
    """The depth slices each tap of a depth window reads, for all ``out`` windows: ``taps``
    tensors (N, C, out, M) of ``x`` (N, C, D, M) padded by ``before``/``after`` with ``fill``."""
    if before or after:
        x = _pad(x, [0, 0, before, after], value=fill)
    lead = (slice(None), slice(None))
    return [x[lead + (slice(k * dilation, k * dilation + (out - 1) * stride + 1, stride),)] for k in range(taps)]


# ---------------------------------------------------------------- convolution


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation over an (N, C, D, H, W) or (C, D, H, W) input."""
    if _autocast.state.__dict__:
        input, weight, bias = _autocast.lower(input, weight, bias)
    op = "conv3d"
    _check_tensor(input, op)
    _check_tensor(weight, op, "weight")
    if weight.ndim != 5:
        raise RuntimeError(f"{op}: Expected 5-dimensional weight, but got weight of size {list(weight.shape)}")
    if input.ndim not in (4, 5):
        raise RuntimeError(f"Expected 4D (unbatched) or 5D (batched) input to conv3d, but got input of size: "
                           f"{list(input.shape)}")
    if weight.dtype != input.dtype or (bias is not None and bias.dtype != input.dtype):
        other = weight.dtype if weight.dtype != input.dtype else bias.dtype
        raise RuntimeError(f"{op}: expected scalar type {_dtype_name(input.dtype)} but found {_dtype_name(other)}")
    x, restore = _batched(input, op)
    if not isinstance(groups, numbers.Integral) or groups < 1:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups}")
    c, (o, cg) = x.shape[1], weight.shape[:2]
    if o % groups:  # (PyTorch checks the weight against groups before the input's channels)
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got "
                           f"weight of size [{list(weight.shape)}] instead")
    if cg * groups != c:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                           f"{list(input.shape)} to have {cg * groups} channels, but got {c} channels instead")
    if bias is not None and tuple(bias.shape) != (o,):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with {o} "
                           f"elements, but got bias of size {list(bias.shape)} instead")
    kernel = tuple(weight.shape[2:])
    stride, dilation = _tuple(stride, 3, "stride", op), _tuple(dilation, 3, "dilation", op)
    if min(stride) < 1:
        raise RuntimeError(f"{op}: non-positive stride is not supported, got stride={list(stride)}")
    if min(dilation) < 1:
        raise RuntimeError(f"{op}: dilation should be greater than zero, got dilation={list(dilation)}")
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise RuntimeError(f"{op}: Invalid padding string '{padding}', should be one of ['valid', 'same']")
        if padding == "same" and max(stride) != 1:
            raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions")
        total = [d * (k - 1) if padding == "same" else 0 for d, k in zip(dilation, kernel)]
        if any(t % 2 for t in total):
            warnings.warn("Using padding='same' with even kernel lengths and odd dilation may require a zero-padded "
                          "copy of the input be created", UserWarning, stacklevel=2)
        before, after = tuple(t // 2 for t in total), tuple(t - t // 2 for t in total)
    else:
        before = after = _tuple(padding, 3, "padding", op)
        if min(before) < 0:
            raise RuntimeError(f"{op}: negative padding is not supported, got padding={list(before)}")
    size = tuple(x.shape[2:])
    padded = tuple(s + b + a for s, b, a in zip(size, before, after))
    reach = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(p < r for p, r in zip(padded, reach)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, reach))}). Kernel size can't be greater than actual input size")
    out_depth = (padded[0] - reach[0]) // stride[0] + 1
    tensors = (x, weight) if bias is None else (x, weight, bias)

    symmetric = before[1:] == after[1:]
    plane_widths = [before[2], after[2], before[1], after[1]]

    def compute(x, weight, bias=None):
        n = x.shape[0]
        total = None
        slices = _depth_taps(_merged(x), kernel[0], dilation[0], stride[0], out_depth, before[0], after[0], 0.0)
        for tap, slab in enumerate(slices):  # (N, C, out_depth, H * W) -> (N * out_depth, C, H, W)
            planes = sh.reshape(sh.contiguous(sh.permute(slab, (0, 2, 1, 3))), (n * out_depth, c) + size[1:])
            if not symmetric:
                planes = _pad(planes, plane_widths)
            part = conv2d(planes, sh.contiguous(weight[:, :, tap]), None, stride[1:],
                          before[1:] if symmetric else 0, dilation[1:], groups)
            total = part if total is None else ew.add(total, part)
        rest = tuple(total.shape[2:])
        out = sh.reshape(total, (n, out_depth, o, rest[0] * rest[1]))
        if bias is not None:  # added before the permute: an elementwise op keeps its input's layout
            out = ew.add(out, sh.reshape(bias, (1, 1, o, 1)))
        out = sh.contiguous(sh.permute(out, (0, 2, 1, 3)))  # contiguous, as PyTorch's output
        return sh.reshape(out, (n, o, out_depth) + rest)
    return restore(composite_op("ConvolutionBackward0", compute, *tensors))


# ---------------------------------------------------------------- pooling

_POOL_RANK = "non-empty 4D or 5D (batch mode) tensor expected for input"


def _depth_window(input, kernel_size, stride, padding, dilation, ceil_mode, op):
    """The depth dimension's (kernel, stride, padding, dilation, output size, right padding),
    and the (H, W) pairs for the 2-d pooling."""
    kernel, stride, pad, dil = window_arguments(kernel_size, stride, padding, dilation, 3, op)
    for p, k, d in zip(pad, kernel, dil):
        if p < 0 or p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    if any(p > k // 2 for p, k in zip(pad, kernel)):
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got kT: {kernel[0]} "
                           f"kW: {kernel[2]} kH: {kernel[1]} padT: {pad[0]} padW: {pad[2]} padH: {pad[1]}")
    size = tuple(input.shape[2:])
    out = tuple(_pool_size(s, k, st, p, d, ceil_mode) for s, k, st, p, d in zip(size, kernel, stride, pad, dil))
    if min(out) < 1:
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (input.shape[1],) + size))}). Calculated output "
                           f"size: ({'x'.join(map(str, (input.shape[1],) + out))}). Output size is too small")
    right = max(0, (out[0] - 1) * stride[0] + dil[0] * (kernel[0] - 1) + 1 - size[0] - pad[0])
    depth = (kernel[0], stride[0], pad[0], dil[0], out[0], right)
    return depth, (kernel[1:], stride[1:], pad[1:], dil[1:])


def _planes_first(x, pool):
    """``pool`` of every (H, W) plane of (N, C, D, H, W) ``x``, merged: (N, C, D, OH * OW), and (OH, OW)."""
    n, c, d = x.shape[:3]
    pooled = pool(sh.reshape(x, (n, c * d) + tuple(x.shape[3:])))
    return sh.reshape(pooled, (n, c, d, pooled.shape[2] * pooled.shape[3])), tuple(pooled.shape[2:])


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    pooled = integer_pool(input, lambda x: max_pool3d(x, kernel_size, stride, padding, dilation, ceil_mode,
                                                      return_indices), "max")
    if pooled is not None:
        return pooled
    op = "max_pool3d"
    x, restore = _batched(input, op, _POOL_RANK)
    (k, s, p, dl, out, right), (k2, s2, p2, d2) = _depth_window(x, kernel_size, stride, padding, dilation,
                                                                ceil_mode, op)

    def pooled_with_taps(x):
        """The maxima (N, C, OD, OH, OW) and which depth tap each came from (flat)."""
        planes, rest = _planes_first(x, lambda t: max_pool2d(t, k2, s2, p2, d2, ceil_mode))
        taps = _depth_taps(planes, k, dl, s, out, p, right, -math.inf)
        stacked = sh.reshape(sh.stack([sh.contiguous(t) for t in taps], 0), (k, -1))  # the first maximum wins
        values, tap = red.max(stacked, 0)
        return sh.reshape(values, tuple(x.shape[:2]) + (out,) + rest), tap

    def compute(t):
        return restore(pooled_with_taps(_batched(t, op)[0])[0])
    result = composite_op("MaxPool3DWithIndicesBackward0", compute, input)
    if not return_indices:
        return result
    with_indices, rest = _planes_first(x.detach(), lambda t: max_pool2d(t, k2, s2, p2, d2, ceil_mode, True)[1])
    plane_index = with_indices._backend.to_numpy(with_indices._data).reshape(tuple(x.shape[:3]) + rest)
    tap = pooled_with_taps(x.detach())[1]
    tap = tap._backend.to_numpy(tap._data).reshape(tuple(x.shape[:2]) + (out,) + rest)
    depth = np.arange(out).reshape(1, 1, -1, 1, 1) * s + tap * dl - p  # the input depth each maximum came from
    chosen = np.take_along_axis(plane_index, np.clip(depth, 0, x.shape[2] - 1), axis=2)
    flat = depth * (x.shape[3] * x.shape[4]) + chosen
    indices = restore(tensor(flat.astype(np.int64), device=input.device))
    return result, indices


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    pooled = integer_pool(input, lambda x: avg_pool3d(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                                      divisor_override), "avg")
    if pooled is not None:
        return pooled
    op = "avg_pool3d"
    x, restore = _batched(input, op, _POOL_RANK)
    (k, s, p, _dl, out, right), (k2, s2, p2, _d2) = _depth_window(x, kernel_size, stride, padding, 1, ceil_mode, op)
    if adaptive_pool_kernel_fits(input) and divisor_override != 0:  # PyTorch's CPU kernel
        sizes = (out,) + tuple(_pool_size(v, kk, st, pp, 1, ceil_mode)
                               for v, kk, st, pp in zip(x.shape[3:], k2, s2, p2))
        window = ((k,) + tuple(k2), (s,) + tuple(s2), (p,) + tuple(p2), bool(count_include_pad), divisor_override)
        return AvgPoolKernel3D.apply(input, sizes, window)
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        divisor = np.full(out, float(divisor_override))
    else:
        start = np.arange(out) * s - p
        end = np.minimum(start + k, x.shape[2] + p)
        if not count_include_pad:
            end, start = np.minimum(end, x.shape[2]), np.maximum(start, 0)
        divisor = (end - start).astype(np.float64)

    def compute(x):
        x = _batched(x, op)[0]
        planes, rest = _planes_first(x, lambda t: avg_pool2d(t, k2, s2, p2, ceil_mode, count_include_pad,
                                                              1 if divisor_override is not None else None))
        taps = _depth_taps(planes, k, 1, s, out, p, right, 0.0)
        total = taps[0]
        for t in taps[1:]:
            total = ew.add(total, t)
        averaged = ew.div(total, _constant(x, divisor.reshape(1, 1, -1, 1)))
        return restore(sh.reshape(averaged, tuple(x.shape[:2]) + (out,) + rest))
    return composite_op("AvgPool3DBackward0", compute, input)


def adaptive_avg_pool3d(input, output_size):
    op = "adaptive_avg_pool3d"
    x, restore = _batched(input, op, f"adaptive_avg_pool3d(): Expected 4D or 5D tensor, but got {list(input.shape)}")
    if isinstance(output_size, (tuple, list)):
        output_size = tuple(x.shape[2 + i] if v is None else v for i, v in enumerate(output_size))
    out = _tuple(output_size, 3, "output_size", op)
    if min(out) < 0:
        raise RuntimeError(f"{op}: output_size must be non-negative, got {list(out)}")
    if any(v == 0 for v in input.shape[-3:]):
        raise RuntimeError(f"{op}: Expected input to have non-zero size for non-batch dimensions, but input has "
                           f"sizes {list(input.shape)} with dimension {input.ndim - 3} being empty")
    if out == (1, 1, 1):  # PyTorch's global average: a mean
        return red.mean(input, (-1, -2, -3), True)
    if adaptive_pool_kernel_fits(input):
        return AdaptiveAvgPoolKernel3D.apply(input, out)
    depth = _constant(x, _bins(x.shape[2], out[0]))

    def compute(x):
        x = _batched(x, op)[0]
        planes, _ = _planes_first(x, lambda t: adaptive_avg_pool2d(t, out[1:]))
        return restore(sh.reshape(la.matmul(depth, planes), tuple(x.shape[:2]) + out))
    return composite_op("AdaptiveAvgPool3DBackward0", compute, input)


FUNCTIONAL = {"conv3d": conv3d, "max_pool3d": max_pool3d, "avg_pool3d": avg_pool3d,
              "adaptive_avg_pool3d": adaptive_avg_pool3d}
