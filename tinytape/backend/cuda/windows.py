"""Window (im2col) CUDA kernels: the CPU's ``windows.py`` (same layout: rows
``(channel, p, q)``, columns ``(b, i, j)``) with a thread per element.  ``col2im`` adds
with atomics (windows overlap).  A thread whose positions fall outside the buffers
writes nothing."""
from numba import cuda


@cuda.jit(device=True, inline=True)
def _source(k, geometry):
    """The flat input position element ``k`` reads, or -1 in the padding."""
    n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = geometry
    j = k % ow
    rest = k // ow
    i = rest % oh
    rest //= oh
    b = rest % n
    rest //= n
    q = rest % kw
    rest //= kw
    p = rest % kh
    ch = rest // kh
    r = i * sh - ph + p * dh
    col = j * sw - pw + q * dw
    if 0 <= r < h and 0 <= col < w:
        return ((b * c + ch) * h + r) * w + col
    return -1


@cuda.jit
def im2col(x, x_off, x_size, out, geometry, fill, total):
    k = cuda.grid(1)
    if k < total and k < out.size:
        src = _source(k, geometry)
        if 0 <= src < x_size and x_off + src < x.size:
            out[k] = x[x_off + src]
        else:
            out[k] = fill


@cuda.jit
def col2im(cols, cols_off, out, geometry, total):
    k = cuda.grid(1)
    if k < total and cols_off + k < cols.size:
        dst = _source(k, geometry)
        if 0 <= dst < out.size:
            cuda.atomic.add(out, dst, cols[cols_off + k])
