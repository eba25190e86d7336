"""Row-wise softmax kernel over a C-contiguous (rows, classes) buffer, as PyTorch's CPU
kernel for the last dimension computes it (``_vec_softmax_lastdim`` /
``_vec_log_softmax_lastdim`` in aten/src/ATen/native/cpu/SoftMaxKernel.cpp, AVX512 build):
the row's max, ``exp(x - max)`` by SLEEF's ``expf16_u10``/``expd8_u10``, their sum in the
order of its vector loop (``lane_sum``), then ``e * (1 / sum)``, or for log_softmax
``(x - max) - log(sum)`` with SLEEF's log."""
import numpy as np
from numba import njit

from .. import sleef


@njit(cache=True, nogil=True, error_model="numpy")
def lane_sum(v, n, width):
    """``vec::reduce_all`` of ``+`` over ``v[:n]`` with ``width`` lanes: shorter rows add
    left to right; longer ones add each lane's column (the last partial vector into its
    first lanes), then combine the lanes, float32's by AVX512's shuffle tree (lane i with
    i ^ 8, ^ 4, ^ 2, ^ 1), float64's in order."""
    if n < width:
        acc = v[0]
        for i in range(1, n):
            acc += v[i]
        return acc
    lanes = v[:width].copy()
    full = n - n % width
    for d in range(width, full, width):
        for k in range(width):
            lanes[k] += v[d + k]
    for k in range(n - full):
        lanes[k] += v[full + k]
    if width == 16:
        step = 8
        while step >= 1:
            for k in range(step):
                lanes[k] = lanes[k] + lanes[k + step]
            step //= 2
        return lanes[0]
    acc = lanes[0]
    for k in range(1, width):
        acc += lanes[k]
    return acc


@njit(cache=True, nogil=True, error_model="numpy")
def _shifted_exps(x, i, e):
    """The max of row ``i`` (NaN wins) and ``e = exp(x[i] - max)``; returns the max."""
    cols = x.shape[1]
    m = x[i, 0]
    for j in range(1, cols):
        v = x[i, j]
        if v > m or v != v:
            m = v
        if m != m:
            break
    for j in range(cols):
        e[j] = sleef.sleef_exp(x[i, j] - m)
    return m


# softmax and log_softmax (and their gradients) are separate kernels, not one with a flag:
# a flag compiles both bodies in every process that uses either (~0.6 s each with an empty cache)

@njit(cache=True, nogil=True, error_model="numpy")
def softmax_rows(x, out):
    """softmax of each row, shifted by the row max so exp never overflows."""
    rows, cols = x.shape
    width = 64 // x.itemsize  # PyTorch's AVX512 vector: 16 float32 or 8 float64
    e = np.empty(cols, x.dtype)
    one = np.ones(1, x.dtype)[0]
    for i in range(rows):
        _shifted_exps(x, i, e)
        inv = one / lane_sum(e, cols, width)  # in the row's dtype
        for j in range(cols):
            out[i, j] = e[j] * inv


@njit(cache=True, nogil=True, error_model="numpy")
def log_softmax_rows(x, out):
    """log_softmax of each row: ``(x - max) - log(sum(exp(x - max)))``."""
    rows, cols = x.shape
    width = 64 // x.itemsize
    e = np.empty(cols, x.dtype)
    for i in range(rows):
        m = _shifted_exps(x, i, e)
        lse = sleef.sleef_log_normal(lane_sum(e, cols, width))
        for j in range(cols):
            out[i, j] = (x[i, j] - m) - lse


@njit(cache=True, nogil=True, error_model="numpy")
def softmax_backward_rows(grad, out, res):
    """The gradient of softmax by rows, as PyTorch's ``_vec_host_softmax_backward_lastdim``:
    ``(g - sum(g * y)) * y``, the sum in ``lane_sum``'s order."""
    rows, cols = grad.shape
    width = 64 // grad.itemsize
    t = np.empty(cols, grad.dtype)
    for i in range(rows):
        for j in range(cols):
            t[j] = grad[i, j] * out[i, j]
        total = lane_sum(t, cols, width)
        for j in range(cols):
            res[i, j] = (grad[i, j] - total) * out[i, j]


@njit(cache=True, nogil=True, error_model="numpy")
def log_softmax_backward_rows(grad, out, res):
    """The gradient of log_softmax by rows: ``g - exp(y) * sum(g)``, the sum in ``lane_sum``'s
    order and ``exp`` SLEEF's."""
    rows, cols = grad.shape
    width = 64 // grad.itemsize
    for i in range(rows):
        total = lane_sum(grad[i], cols, width)
        for j in range(cols):
            res[i, j] = sleef.fma(-sleef.sleef_exp(out[i, j]), total, grad[i, j])
