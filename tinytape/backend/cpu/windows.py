"""Window (im2col) CPU kernels for convolution and pooling over flat buffers.

``geometry`` is ``(n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)``: an (n, c, h, w)
input, a kh x kw window with strides, paddings and dilations, an oh x ow output grid.
``im2col`` writes a (c * kh * kw, n * oh * ow) array: one row per window element
``(channel, p, q)`` (the flattened filter's order), one column per window position
``(b, i, j)``, ``fill`` where the window reaches into the padding.  Rows run along the
input's rows, so with stride 1 the inner loop is a plain copy.  ``col2im`` is its
adjoint, adding every element back onto the input position it was read from.  Each
kernel checks its buffers against the geometry before it touches them, so no read or
write leaves them.
"""
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def _fits(image_size, cols_size, geometry):
    n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = geometry
    return (min(n, c, h, w, kh, kw, oh, ow) >= 0 and min(sh, sw, dh, dw) >= 1 and image_size >= n * c * h * w
            and cols_size >= n * oh * ow * c * kh * kw)


@njit(cache=True, nogil=True, error_model="numpy")
def _inside(j_count, start, step, limit):
    """The range [lo, hi) of j in [0, j_count) with 0 <= start + j * step < limit."""
    lo = 0
    while lo < j_count and start + lo * step < 0:
        lo += 1
    hi = j_count
    while hi > lo and start + (hi - 1) * step >= limit:
        hi -= 1
    return lo, hi


@njit(cache=True, nogil=True, error_model="numpy")
def im2col(x, out, geometry, fill):
    if not _fits(x.size, out.size, geometry):
        raise IndexError("im2col: buffers smaller than the window geometry")
    n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = geometry
    k = 0
    for ch in range(c):
        for p in range(kh):
            for q in range(kw):
                start = q * dw - pw
                lo, hi = _inside(ow, start, sw, w)
                for b in range(n):
                    plane = (b * c + ch) * h * w
                    for i in range(oh):
                        r = i * sh - ph + p * dh
                        if r < 0 or r >= h:
                            for j in range(ow):
                                out[k + j] = fill
                        else:
                            src = plane + r * w + start
                            for j in range(lo):
                                out[k + j] = fill
                            if sw == 1 and hi - lo >= 16:  # a slice copy: faster on long rows only
                                out[k + lo:k + hi] = x[src + lo:src + hi]
                            else:
                                for j in range(lo, hi):
                                    out[k + j] = x[src + j * sw]
                            for j in range(hi, ow):
                                out[k + j] = fill
                        k += ow


@njit(cache=True, nogil=True, error_model="numpy")
def col2im(cols, out, geometry):
    """``out`` (zeroed by the caller) += every window element at its input position."""
    if not _fits(out.size, cols.size, geometry):
        raise IndexError("col2im: buffers smaller than the window geometry")
    n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = geometry
    k = 0
    for ch in range(c):
        for p in range(kh):
            for q in range(kw):
                start = q * dw - pw
                lo, hi = _inside(ow, start, sw, w)
                for b in range(n):
                    plane = (b * c + ch) * h * w
                    for i in range(oh):
                        r = i * sh - ph + p * dh
                        if 0 <= r < h:
                            dst = plane + r * w + start
                            if sw == 1 and hi - lo >= 16:
                                out[dst + lo:dst + hi] += cols[k + lo:k + hi]
                            else:
                                for j in range(lo, hi):
                                    out[dst + j * sw] += cols[k + j]
                        k += ow
