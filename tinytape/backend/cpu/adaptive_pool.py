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


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _window(o, stride, pad, kernel, size):
    """(start, end) of output cell ``o``'s window clipped to the input, and its length
    clipped to the padded input only (``pool_size``'s factor)."""
    start = o * stride - pad
    end = min(start + kernel, size + pad)
    padded = end - start
    return max(start, 0), min(end, size), padded


@njit(cache=True, nogil=True, error_model="numpy")
def avg_pool(x, planes, size_in, size_out, kernel, stride, pad, include_pad, divisor_override, out, backward):
    """PyTorch's ``cpu_avg_pool2d/3d`` over (planes, d, h, w): each window's sum in memory
    order in the dtype over ``divisor_override`` (if not 0), the padded window's size
    (``include_pad``) or the input cells it covers; a window entirely in the padding gives
    0.  ``backward``: ``x`` is the gradient of the output and ``out`` (zeroed here) the
    input's, each window adding ``g / divisor`` onto its cells in output order."""
    d, h, w = size_in
    od, oh, ow = size_out
    if backward:
        _check(out, x, planes, size_in, size_out)
        out[:planes * d * h * w] = 0
    else:
        _check(x, out, planes, size_in, size_out)
    scratch = np.empty(1, x.dtype)
    for p in range(planes):
        base, obase = p * d * h * w, p * od * oh * ow
        for i in range(od):
            d0, d1, pd_ = _window(i, stride[0], pad[0], kernel[0], d)
            for j in range(oh):
                h0, h1, ph_ = _window(j, stride[1], pad[1], kernel[1], h)
                for k in range(ow):
                    w0, w1, pw_ = _window(k, stride[2], pad[2], kernel[2], w)
                    at = obase + (i * oh + j) * ow + k
                    if d0 >= d1 or h0 >= h1 or w0 >= w1:
                        if not backward:
                            out[at] = 0
                        continue
                    if divisor_override != 0:
                        divisor = divisor_override
                    elif include_pad:
                        divisor = pd_ * ph_ * pw_
                    else:
                        divisor = (d1 - d0) * (h1 - h0) * (w1 - w0)
                    if backward:
                        delta = x[at] / _cast(scratch, divisor)
                        for a in range(d0, d1):
                            for b in range(h0, h1):
                                row = base + (a * h + b) * w
                                for c in range(w0, w1):
                                    out[row + c] += delta
                        continue
                    total = x[0] - x[0]
                    for a in range(d0, d1):
                        for b in range(h0, h1):
                            row = base + (a * h + b) * w
                            for c in range(w0, w1):
                                total += x[row + c]
                    out[at] = total / _cast(scratch, divisor)
