"""``interpolate``'s linear modes (linear, bilinear, trilinear) as PyTorch's CPU kernels compute
them for float32 and float64 (ATen ``UpSampleKernel.cpp``, ``UpSample.h``), bit for bit.

Per axis, each output position ``o`` reads two inputs ``i0``, ``i1`` with weights ``l0``, ``l1``
(``compute_source_index_and_lambda``): the source position ``scale * (o + 0.5) - 0.5`` as one
fused multiply-add (``scale * o`` with ``align_corners``), clamped at 0, in the dtype; ``i0`` its
floor (``floorf``: a float64 position rounded to float32 first; at most ``in - 1``),
``l1 = min(max(src - i0, 0), 1)``, ``l0 = 1 - l1``; an axis whose size
does not change reads ``o`` with weights 1 and 0.  ``scale`` is ``(in - 1) / (out - 1)`` with
``align_corners``, else ``1 / scale_factor`` where one is given, else ``in / out``.

Forward (``upsample_generic_Nd_kernel_impl``, ``Interpolate<n>::eval``): nested over the axes,
the last innermost, each level ``t0 * l0 + t1 * l1`` compiled as ``fma(t0, l0, t1 * l1)``; bilinear
often by the channels-last kernel instead (``linear_2d_channels_last``).
Backward (``cpu_upsample_linear_backward``): the output positions in order, each adding
``l_d * ... * l_w * g`` into its 2, 4 or 8 inputs as ``fma(l_d * ... * l_w, g, acc)``.
"""
import math

import numba
import numpy as np
from numba import njit

from .vector_norm import _fused_multiply_add as _fma

_JIT = dict(cache=True, nogil=True, error_model="numpy")


def source_scale(in_size, out_size, align_corners, scale_factor, dt):
    """PyTorch's ``area_pixel_compute_scale`` in the kernels' dtype ``dt``."""
    if align_corners:
        return dt(in_size - 1) / dt(out_size - 1) if out_size > 1 else dt(0)
    if scale_factor is not None and scale_factor > 0:
        return dt(1.0 / scale_factor)
    return dt(in_size) / dt(out_size)


def linear_taps(in_size, out_size, align_corners, scale_factor, dtype):
    """(i0, i1, l0, l1) of one axis: int64 positions and ``dtype`` weights."""
    dt = np.dtype(dtype).type
    scale = source_scale(in_size, out_size, align_corners, scale_factor, dt)
    i0, i1 = np.empty(out_size, np.int64), np.empty(out_size, np.int64)
    l0, l1 = np.empty(out_size, dtype), np.empty(out_size, dtype)
    _taps(in_size, out_size, bool(align_corners), scale, i0, i1, l0, l1)
    return i0, i1, l0, l1


@njit(**_JIT)
def _taps(in_size, out_size, align_corners, scale, i0, i1, l0, l1):
    consts = np.zeros(4, l0.dtype)  # 0, 1, 0.5 and a number cast to the dtype (literals would widen float32)
    consts[1], consts[2] = 1, 0.5
    zero, one, half = consts[0], consts[1], consts[2]
    for o in range(out_size):
        if out_size == in_size:
            i0[o], i1[o], l0[o], l1[o] = o, o, one, zero
            continue
        consts[3] = o
        position = consts[3]
        if align_corners:
            src = scale * position
        else:
            src = _fma(scale, position + half, -half)
            if src < zero:
                src = zero
        low = min(int(math.floor(np.float32(src))), in_size - 1)  # C's floorf: float64 rounded to float32 first
        consts[3] = low
        lam = min(max(src - consts[3], zero), one)
        i0[o], i1[o] = low, low + (1 if low < in_size - 1 else 0)
        l1[o], l0[o] = lam, one - lam


@njit(**_JIT)
def linear_1d(x, planes, width_in, i0, i1, l0, l1, out):
    width = i0.shape[0]
    if x.shape[0] < planes * width_in or out.shape[0] < planes * width:
        raise IndexError("upsample_linear1d: an array is shorter than the shape it is read as")
    for p in range(planes):
        src, dst = p * width_in, p * width
        for w in range(width):
            if i1[w] >= width_in or i0[w] < 0:
                raise IndexError("upsample_linear1d: a tap outside the input")
            out[dst + w] = _fma(x[src + i0[w]], l0[w], x[src + i1[w]] * l1[w])
    return out


@njit(**_JIT)
def _row(x, base, w, iw0, iw1, lw0, lw1):
    return _fma(x[base + iw0[w]], lw0[w], x[base + iw1[w]] * lw1[w])


@njit(**_JIT)
def linear_2d(x, planes, height_in, width_in, ih0, ih1, lh0, lh1, iw0, iw1, lw0, lw1, out):
    height, width = ih0.shape[0], iw0.shape[0]
    if x.shape[0] < planes * height_in * width_in or out.shape[0] < planes * height * width:
        raise IndexError("upsample_bilinear2d: an array is shorter than the shape it is read as")
    if (height and (ih1.max() >= height_in or ih0.min() < 0)) or (width and (iw1.max() >= width_in or iw0.min() < 0)):
        raise IndexError("upsample_bilinear2d: a tap outside the input")
    k = 0
    for p in range(planes):
        src = p * height_in * width_in
        for h in range(height):
            r0, r1 = src + ih0[h] * width_in, src + ih1[h] * width_in
            for w in range(width):
                t0 = _row(x, r0, w, iw0, iw1, lw0, lw1)
                t1 = _row(x, r1, w, iw0, iw1, lw0, lw1)
                out[k] = _fma(t0, lh0[h], t1 * lh1[h])
                k += 1
    return out


@njit(**_JIT)
def linear_2d_channels_last(x, batch, channels, height_in, width_in, ih0, ih1, lh0, lh1, iw0, iw1, lw0, lw1, lanes,
                            out):
    """Bilinear as ``cpu_upsample_linear_channels_last`` computes it (reading and writing NCHW
    here): per output position the four weights ``h * w``; the channels of full AVX2 vectors
    as ``interpolate``'s right-nested sum, compiled ``fma(x00, w00, fma(x01, w01, fma(x11, w11,
    x10 * w10)))``, the rest as the scalar loop's left-to-right sum, ``fma(x11, w11, fma(x10,
    w10, fma(x00, w00, x01 * w01)))``."""
    height, width = ih0.shape[0], iw0.shape[0]
    plane_in, plane = height_in * width_in, height * width
    if x.shape[0] < batch * channels * plane_in or out.shape[0] < batch * channels * plane:
        raise IndexError("upsample_bilinear2d: an array is shorter than the shape it is read as")
    if (height and (ih1.max() >= height_in or ih0.min() < 0)) or (width and (iw1.max() >= width_in or iw0.min() < 0)):
        raise IndexError("upsample_bilinear2d: a tap outside the input")
    vector = channels - channels % lanes
    for n in range(batch):
        for h in range(height):
            for w in range(width):
                w00, w01 = lh0[h] * lw0[w], lh0[h] * lw1[w]
                w10, w11 = lh1[h] * lw0[w], lh1[h] * lw1[w]
                p00, p01 = ih0[h] * width_in + iw0[w], ih0[h] * width_in + iw1[w]
                p10, p11 = ih1[h] * width_in + iw0[w], ih1[h] * width_in + iw1[w]
                for c in range(channels):
                    base = (n * channels + c) * plane_in
                    x00, x01, x10, x11 = x[base + p00], x[base + p01], x[base + p10], x[base + p11]
                    if c < vector:
                        v = _fma(x00, w00, _fma(x01, w01, _fma(x11, w11, x10 * w10)))
                    else:
                        v = _fma(x11, w11, _fma(x10, w10, _fma(x00, w00, x01 * w01)))
                    out[(n * channels + c) * plane + h * width + w] = v
    return out


@njit(**_JIT)
def linear_3d(x, planes, depth_in, height_in, width_in, id0, id1, ld0, ld1, ih0, ih1, lh0, lh1, iw0, iw1, lw0, lw1,
              out):
    depth, height, width = id0.shape[0], ih0.shape[0], iw0.shape[0]
    plane = depth_in * height_in * width_in
    if x.shape[0] < planes * plane or out.shape[0] < planes * depth * height * width:
        raise IndexError("upsample_trilinear3d: an array is shorter than the shape it is read as")
    if (depth and (id1.max() >= depth_in or id0.min() < 0)) or (height and (ih1.max() >= height_in or ih0.min() < 0)) \
            or (width and (iw1.max() >= width_in or iw0.min() < 0)):
        raise IndexError("upsample_trilinear3d: a tap outside the input")
    k = 0
    for p in range(planes):
        for d in range(depth):
            s0, s1 = p * plane + id0[d] * height_in * width_in, p * plane + id1[d] * height_in * width_in
            for h in range(height):
                for w in range(width):
                    u0 = _fma(_row(x, s0 + ih0[h] * width_in, w, iw0, iw1, lw0, lw1), lh0[h],
                              _row(x, s0 + ih1[h] * width_in, w, iw0, iw1, lw0, lw1) * lh1[h])
                    u1 = _fma(_row(x, s1 + ih0[h] * width_in, w, iw0, iw1, lw0, lw1), lh0[h],
                              _row(x, s1 + ih1[h] * width_in, w, iw0, iw1, lw0, lw1) * lh1[h])
                    out[k] = _fma(u0, ld0[d], u1 * ld1[d])
                    k += 1
    return out


@njit(**_JIT)
def linear_backward(g, planes, depth_in, height_in, width_in, id0, id1, ld0, ld1, ih0, ih1, lh0, lh1, iw0, iw1,
                    lw0, lw1, axes, grad):
    """The input's gradient ``grad`` (zeros, planes * depth_in * height_in * width_in) from the
    output's ``g``, adding in output order; ``axes`` 1, 2 or 3 (fewer axes: size-1 leading taps,
    their weights not multiplied in)."""
    depth, height, width = id0.shape[0], ih0.shape[0], iw0.shape[0]
    plane = depth_in * height_in * width_in
    if g.shape[0] < planes * depth * height * width or grad.shape[0] < planes * plane:
        raise IndexError("upsample_linear_backward: an array is shorter than the shape it is read as")
    if (depth and (id1.max() >= depth_in or id0.min() < 0)) or (height and (ih1.max() >= height_in or ih0.min() < 0)) \
            or (width and (iw1.max() >= width_in or iw0.min() < 0)):
        raise IndexError("upsample_linear_backward: a tap outside the input")
    k = 0
    for p in range(planes):
        for d in range(depth):
            for h in range(height):
                for w in range(width):
                    v = g[k]
                    k += 1
                    for a in range(2 if axes == 3 else 1):
                        dpos = (id0[d] if a == 0 else id1[d]) * height_in * width_in
                        for b in range(2 if axes >= 2 else 1):
                            hpos = (ih0[h] if b == 0 else ih1[h]) * width_in
                            for c in range(2):
                                wpos = iw0[w] if c == 0 else iw1[w]
                                weight = lw0[w] if c == 0 else lw1[w]
                                if axes >= 2:
                                    weight = (lh0[h] if b == 0 else lh1[h]) * weight
                                if axes == 3:
                                    weight = ((ld0[d] if a == 0 else ld1[d]) * (lh0[h] if b == 0 else lh1[h])) * \
                                        (lw0[w] if c == 0 else lw1[w])
                                at = p * plane + dpos + hpos + wpos
                                grad[at] = _fma(weight, v, grad[at])
    return grad


def upsample_linear(x, out_sizes, align_corners, scale_factors):
    """The float32/float64 (N, C, *ins) ``x`` resampled to ``out_sizes`` (1-3 axes).  Bilinear
    takes PyTorch's channels-last kernel where it does (``_use_vectorized_kernel_cond_2d``): a
    channels-last input of more than 3 channels, an output of at most 128 rows plus columns,
    or 3 channels on one thread; else the generic kernel."""
    channels_last_kernel = len(out_sizes) == 2 and (
        (x.shape[1] > 3 and np.transpose(x, (0, 2, 3, 1)).flags.c_contiguous)
        or out_sizes[0] + out_sizes[1] <= 128 or (numba.get_num_threads() == 1 and x.shape[1] == 3))
    x = np.ascontiguousarray(x)
    axes = len(out_sizes)
    ins = x.shape[2:]
    planes = x.shape[0] * x.shape[1]
    taps = [linear_taps(i, o, align_corners, f, x.dtype) for i, o, f in zip(ins, out_sizes, scale_factors)]
    out = np.empty(x.shape[:2] + tuple(out_sizes), x.dtype)
    flat, dst = x.reshape(-1), out.reshape(-1)
    if axes == 1:
        linear_1d(flat, planes, ins[0], *taps[0], dst)
    elif axes == 2 and channels_last_kernel:
        linear_2d_channels_last(flat, x.shape[0], x.shape[1], ins[0], ins[1], *taps[0], *taps[1],
                                8 if x.dtype == np.float32 else 4, dst)
    elif axes == 2:
        linear_2d(flat, planes, ins[0], ins[1], *taps[0], *taps[1], dst)
    else:
        linear_3d(flat, planes, ins[0], ins[1], ins[2], *taps[0], *taps[1], *taps[2], dst)
    return out


def upsample_linear_backward(g, in_shape, align_corners, scale_factors):
    """The gradient of ``upsample_linear`` to its (N, C, *ins) input from the output's ``g``."""
    g = np.ascontiguousarray(g)
    ins = tuple(in_shape[2:])
    outs = g.shape[2:]
    axes = len(ins)
    taps = [linear_taps(i, o, align_corners, f, g.dtype) for i, o, f in zip(ins, outs, scale_factors)]
    single = (np.zeros(1, np.int64), np.zeros(1, np.int64), np.ones(1, g.dtype), np.zeros(1, g.dtype))
    taps = [single] * (3 - axes) + taps
    sizes = (1,) * (3 - axes) + ins
    grad = np.zeros(tuple(in_shape), g.dtype)
    linear_backward(g.reshape(-1), in_shape[0] * in_shape[1], sizes[0], sizes[1], sizes[2], *taps[0], *taps[1],
                    *taps[2], axes, grad.reshape(-1))
    return grad
