"""Adaptive average pooling as PyTorch's CPU kernels (``cpu_adaptive_avg_pool2d/3d`` and
their backwards, contiguous layout): output cell ``i`` of a dimension of ``n`` in / ``m``
out averages the bin ``[floor(i n / m), ceil((i + 1) n / m))`` (neighbouring bins overlap
where ``m`` does not divide ``n``).  The sum runs over the bin in memory order in the
dtype and is divided by each bin length in turn (``sum / kd / kh / kw``); the backward
adds ``g / kd / kh / kw`` onto every input cell of the bin, the cells in output order.
Flat C-contiguous (planes, d, h, w) buffers; a 2-D pool is a depth of 1."""
import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _cast(scratch, value):
    """``value`` in the dtype of the 1-element ``scratch`` (float32 / int would widen)."""
    scratch[0] = value
    return scratch[0]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _bin(i, size_out, size_in):
    return (i * size_in) // size_out, -((-(i + 1) * size_in) // size_out)


@njit(cache=True, nogil=True, error_model="numpy")
def _check(buffer_in, buffer_out, planes, size_in, size_out):
    d, h, w = size_in
    od, oh, ow = size_out
    if min(planes, d, h, w, od, oh, ow) < 0 or buffer_in.shape[0] < planes * d * h * w \
            or buffer_out.shape[0] < planes * od * oh * ow:
        raise IndexError("adaptive_avg_pool: the planes read past the buffers")


@njit(cache=True, nogil=True, error_model="numpy")
def adaptive_avg_pool(x, planes, size_in, size_out, out):
    """``out`` (planes, od, oh, ow) from ``x`` (planes, d, h, w)."""
    _check(x, out, planes, size_in, size_out)
    scratch = np.empty(1, x.dtype)
    d, h, w = size_in
    od, oh, ow = size_out
    for p in range(planes):
        base, obase = p * d * h * w, p * od * oh * ow
        for i in range(od):
            d0, d1 = _bin(i, od, d)
            for j in range(oh):
                h0, h1 = _bin(j, oh, h)
                for k in range(ow):
                    w0, w1 = _bin(k, ow, w)
                    total = x[0] - x[0]
                    for a in range(d0, d1):
                        for b in range(h0, h1):
                            row = base + (a * h + b) * w
                            for c in range(w0, w1):
                                total += x[row + c]
                    total = total / _cast(scratch, d1 - d0)  # (a 2-D pool divides by 1: exact)
                    out[obase + (i * oh + j) * ow + k] = total / _cast(scratch, h1 - h0) / _cast(scratch, w1 - w0)


@njit(cache=True, nogil=True, error_model="numpy")
def adaptive_avg_pool_backward(grad, planes, size_in, size_out, out):
    """``out`` (planes, d, h, w), zeroed here, from the gradient ``grad`` (planes, od, oh, ow)."""
    _check(out, grad, planes, size_in, size_out)
    scratch = np.empty(1, grad.dtype)
    d, h, w = size_in
    od, oh, ow = size_out
    out[:planes * d * h * w] = 0
    for p in range(planes):
        base, obase = p * d * h * w, p * od * oh * ow
        for i in range(od):
            d0, d1 = _bin(i, od, d)
            for j in range(oh):
                h0, h1 = _bin(j, oh, h)
                for k in range(ow):
                    w0, w1 = _bin(k, ow, w)
                    delta = grad[obase + (i * oh + j) * ow + k]
                    delta = delta / _cast(scratch, d1 - d0) / _cast(scratch, h1 - h0) / _cast(scratch, w1 - w0)
                    for a in range(d0, d1):
                        for b in range(h0, h1):
                            row = base + (a * h + b) * w
                            for c in range(w0, w1):
                                out[row + c] += delta


@njit(cache=True, nogil=True, error_model="numpy")
def adaptive_max_pool(x, planes, size_in, size_out, out, indices):
    """``out`` and ``indices`` (planes, od, oh, ow): each bin's maximum and its flat position
    in the plane, as ``cpu_adaptive_max_pool``: the bin scanned in memory order, a larger
    value or a NaN taking the place (so the first of equal maxima, the last NaN)."""
    _check(x, out, planes, size_in, size_out)
    d, h, w = size_in
    od, oh, ow = size_out
    if indices.shape[0] < out.shape[0]:
        raise IndexError("adaptive_max_pool: the indices are shorter than the output")
    for p in range(planes):
        base, obase = p * d * h * w, p * od * oh * ow
        for i in range(od):
            d0, d1 = _bin(i, od, d)
            for j in range(oh):
                h0, h1 = _bin(j, oh, h)
                for k in range(ow):
                    w0, w1 = _bin(k, ow, w)
                    best = (d0 * h + h0) * w + w0
                    value = x[base + best]
                    for a in range(d0, d1):
                        for b in range(h0, h1):
                            for c in range(w0, w1):
                                at = (a * h + b) * w + c
                                v = x[base + at]
                                if v > value or v != v:
                                    value, best = v, at
                    out[obase + (i * oh + j) * ow + k] = value
                    indices[obase + (i * oh + j) * ow + k] = best
