"""Bicubic resampling CUDA kernels over contiguous (planes, height, width) buffers, with the
taps (four positions and weights per output row and column) planned on the host as the
CPU's ``upsample_cubic.cubic_taps``.  A thread per output element: the forward sums its 4x4
taps (along the width inside the height, as the CPU), the backward adds ``g * w_h * w_w`` into
the 16 input positions with atomics (outputs share inputs).  A tap outside the input raises
the flag (``raise_flagged``) and is skipped."""
from numba import cuda


@cuda.jit(device=True, inline=True)
def _outside(index, k, size, flag):
    if index[k] < 0 or index[k] >= size:
        flag[0] = 1
        flag[1] = index[k]
        return True
    return False


@cuda.jit
def bicubic_2d(x, x_off, out, height_in, width_in, index_h, weight_h, index_w, weight_w, total, flag):
    k = cuda.grid(1)
    height, width = index_h.size // 4, index_w.size // 4
    if k >= total or k >= out.size:
        return
    w = k % width
    h = (k // width) % height
    base = x_off + (k // (width * height)) * height_in * width_in
    zero = weight_h[0] - weight_h[0]  # in the dtype (the weights are finite)
    acc = zero
    for j in range(4):
        if _outside(index_h, 4 * h + j, height_in, flag):
            return
        row = base + index_h[4 * h + j] * width_in
        across = zero
        for i in range(4):
            if _outside(index_w, 4 * w + i, width_in, flag) or row + index_w[4 * w + i] >= x.size:
                return
            across += x[row + index_w[4 * w + i]] * weight_w[4 * w + i]
        acc += across * weight_h[4 * h + j]
    out[k] = acc


@cuda.jit
def bicubic_2d_backward(g, g_off, grad, height_in, width_in, index_h, weight_h, index_w, weight_w, total, flag):
    k = cuda.grid(1)
    height, width = index_h.size // 4, index_w.size // 4
    if k >= total or g_off + k >= g.size:
        return
    w = k % width
    h = (k // width) % height
    base = (k // (width * height)) * height_in * width_in
    v = g[g_off + k]
    for i in range(4):
        for j in range(4):
            if _outside(index_h, 4 * h + j, height_in, flag) or _outside(index_w, 4 * w + i, width_in, flag):
                return
            at = base + index_h[4 * h + j] * width_in + index_w[4 * w + i]
            if at < grad.size:
                cuda.atomic.add(grad, at, v * weight_h[4 * h + j] * weight_w[4 * w + i])
