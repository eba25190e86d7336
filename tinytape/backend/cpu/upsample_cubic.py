"""``interpolate``'s bicubic mode as PyTorch's CPU kernels compute it for float32 and float64
(ATen ``UpSampleKernel.cpp`` forward, ``UpSampleBicubic2d.cpp`` backward, ``UpSample.h``), bit
for bit.

Per axis, each output position ``o`` reads four inputs ``clamp(i - 1 + j, 0, in - 1)`` with
weights ``w_j`` (``HelperInterpCubic::compute_indices_weights``), all in the dtype: the source
position ``scale * (o + 0.5) - 0.5`` (``scale * o`` with ``align_corners``; not clamped at 0),
``i`` its floor (``floorf``: a float64 position rounded to float32 first; at most ``in - 1``),
``t = min(max(src - i, 0), 1)``, and the cubic convolution (``A = -0.75``) at ``t + 1``, ``t``,
``1 - t`` and ``(1 - t) + 1``.  ``scale`` is ``(in - 1) / (out - 1)`` with ``align_corners``
(0 for one output), else ``1 / scale_factor`` where one is given, else ``in / out``.

The two files are compiled apart and round apart.  The forward's (built for AVX2/AVX-512)
contracts ``src`` into one fused multiply-add, the far taps' ``((A x - 5A) x + 8A) x - 4A``
into two (the last step rounded alone), the near taps' ``((A + 2) x - (A + 3)) x x + 1`` into
one (the first); each 4-tap sum, along the width inside the one along the height, is
``fma(t3, w3, fma(t2, w2, fma(t0, w0, t1 * w1)))``.  The backward's (the baseline x86-64
build) fuses nothing, and adds ``g * w_y * w_x`` into the input positions output by output,
the width's taps outside the height's; equal sizes copy the gradient.
"""
import math

import numpy as np
from numba import njit

from .upsample import source_scale
from .vector_norm import _fused_multiply_add as _fma

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@njit(**_JIT)
def _taps(in_size, out_size, align_corners, scale, fused, consts, index, weight):
    """``index``/``weight`` (out_size, 4) of one axis; ``consts`` holds A, 5, 8, 4, 2, 3, 1, 0.5
    and a scratch slot in the dtype (number literals would widen float32 to float64)."""
    a, five, eight, four, two, three, one, half = (consts[0], consts[1], consts[2], consts[3], consts[4], consts[5],
                                                   consts[6], consts[7])
    zero = one - one
    for o in range(out_size):
        consts[8] = o
        position = consts[8]
        if align_corners:
            src = scale * position
        elif fused:
            src = _fma(scale, position + half, -half)
        else:
            src = scale * (position + half) - half
        low = min(int(math.floor(np.float32(src))), in_size - 1)
        consts[8] = low
        t = min(max(src - consts[8], zero), one)
        for j in range(4):
            x = t + one if j == 0 else t if j == 1 else one - t if j == 2 else (one - t) + one
            if j == 0 or j == 3:  # 1 < |x| < 2
                if fused:
                    w = _fma(_fma(a, x, -(five * a)), x, eight * a) * x - four * a
                else:
                    w = ((a * x - five * a) * x + eight * a) * x - four * a
            elif fused:  # |x| <= 1
                w = _fma(a + two, x, -(a + three)) * x * x + one
            else:
                w = ((a + two) * x - (a + three)) * x * x + one
            index[o, j] = max(min(low + j - 1, in_size - 1), 0)
            weight[o, j] = w


def cubic_taps(in_size, out_size, align_corners, scale_factor, dtype, fused=True):
    """(index, weight) of one axis, each (out_size, 4): int64 positions and ``dtype`` weights;
    ``fused`` the forward's contractions, else the backward's plain arithmetic."""
    dt = np.dtype(dtype).type
    scale = source_scale(in_size, out_size, align_corners, scale_factor, dt)
    index, weight = np.empty((out_size, 4), np.int64), np.empty((out_size, 4), dtype)
    consts = np.array([-0.75, 5, 8, 4, 2, 3, 1, 0.5, 0], dtype)
    _taps(in_size, out_size, bool(align_corners), scale, bool(fused), consts, index, weight)
    return index, weight


@njit(**_JIT)
def _four(x, base, stride, index, weight, o):
    """One 4-tap sum as the forward's compiled ``Interpolate<n, ..., 4>::eval``."""
    t0, t1 = x[base + index[o, 0] * stride], x[base + index[o, 1] * stride]
    t2, t3 = x[base + index[o, 2] * stride], x[base + index[o, 3] * stride]
    return _fma(t3, weight[o, 3], _fma(t2, weight[o, 2], _fma(t0, weight[o, 0], t1 * weight[o, 1])))


@njit(**_JIT)
def _taps_inside(index, size):
    for o in range(index.shape[0]):
        for j in range(4):
            if index[o, j] < 0 or index[o, j] >= size:
                return False
    return True


@njit(**_JIT)
def bicubic_2d(x, planes, height_in, width_in, index_h, weight_h, index_w, weight_w, rows, out):
    """``out`` (planes * height * width) from ``x`` (planes * height_in * width_in);
    ``rows`` a scratch of 4 in the dtype."""
    height, width = index_h.shape[0], index_w.shape[0]
    if x.shape[0] < planes * height_in * width_in or out.shape[0] < planes * height * width:
        raise IndexError("upsample_bicubic2d: an array is shorter than the shape it is read as")
    if not (_taps_inside(index_h, height_in) and _taps_inside(index_w, width_in)):
        raise IndexError("upsample_bicubic2d: a tap outside the input")
    k = 0
    for p in range(planes):
        src = p * height_in * width_in
        for h in range(height):
            for w in range(width):
                for j in range(4):
                    rows[j] = _four(x, src + index_h[h, j] * width_in, 1, index_w, weight_w, w)
                out[k] = _fma(rows[3], weight_h[h, 3],
                              _fma(rows[2], weight_h[h, 2], _fma(rows[0], weight_h[h, 0], rows[1] * weight_h[h, 1])))
                k += 1
    return out


@njit(**_JIT)
def bicubic_2d_backward(g, planes, height_in, width_in, index_h, weight_h, index_w, weight_w, grad):
    """The input's gradient ``grad`` (zeros, planes * height_in * width_in) from the output's
    ``g``, adding in output order."""
    height, width = index_h.shape[0], index_w.shape[0]
    if g.shape[0] < planes * height * width or grad.shape[0] < planes * height_in * width_in:
        raise IndexError("upsample_bicubic2d_backward: an array is shorter than the shape it is read as")
    if not (_taps_inside(index_h, height_in) and _taps_inside(index_w, width_in)):
        raise IndexError("upsample_bicubic2d_backward: a tap outside the input")
    k = 0
    for p in range(planes):
        dst = p * height_in * width_in
        for h in range(height):
            for w in range(width):
                v = g[k]
                k += 1
                for i in range(4):
                    for j in range(4):
                        at = dst + index_h[h, j] * width_in + index_w[w, i]
                        grad[at] += v * weight_h[h, j] * weight_w[w, i]
    return grad


def upsample_bicubic(x, out_sizes, align_corners, scale_factors):
    """The float32/float64 (N, C, H, W) ``x`` resampled to ``out_sizes`` (2 axes)."""
    x = np.ascontiguousarray(x)
    (height_in, width_in), planes = x.shape[2:], x.shape[0] * x.shape[1]
    taps_h = cubic_taps(height_in, out_sizes[0], align_corners, scale_factors[0], x.dtype)
    taps_w = cubic_taps(width_in, out_sizes[1], align_corners, scale_factors[1], x.dtype)
    out = np.empty(x.shape[:2] + tuple(out_sizes), x.dtype)
    bicubic_2d(x.reshape(-1), planes, height_in, width_in, *taps_h, *taps_w, np.empty(4, x.dtype), out.reshape(-1))
    return out


def upsample_bicubic_backward(g, in_shape, align_corners, scale_factors):
    """The gradient of ``upsample_bicubic`` to its (N, C, H, W) input from the output's ``g``."""
    g = np.ascontiguousarray(g)
    (height_in, width_in), (height, width) = tuple(in_shape[2:]), g.shape[2:]
    if (height_in, width_in) == (height, width):
        return g.copy()
    taps_h = cubic_taps(height_in, height, align_corners, scale_factors[0], g.dtype, fused=False)
    taps_w = cubic_taps(width_in, width, align_corners, scale_factors[1], g.dtype, fused=False)
    grad = np.zeros(tuple(in_shape), g.dtype)
    bicubic_2d_backward(g.reshape(-1), in_shape[0] * in_shape[1], height_in, width_in, *taps_h, *taps_w,
                        grad.reshape(-1))
    return grad
