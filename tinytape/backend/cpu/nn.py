"""Row-wise softmax kernels over a C-contiguous (rows, classes) buffer."""
import math

from numba import njit


@njit(cache=True, nogil=True)
def softmax_rows(x, out):
    rows, cols = x.shape
    for i in range(rows):
        m = x[i, 0]
        for j in range(1, cols):
            m = max(m, x[i, j])
        total = 0.0
        for j in range(cols):
            e = math.exp(x[i, j] - m)
            out[i, j] = e
            total += e
        for j in range(cols):
            out[i, j] = out[i, j] / total


@njit(cache=True, nogil=True)
def log_softmax_rows(x, out):
    rows, cols = x.shape
    for i in range(rows):
        m = x[i, 0]
        for j in range(1, cols):
            m = max(m, x[i, j])
        total = 0.0
        for j in range(cols):
            total += math.exp(x[i, j] - m)
        lse = m + math.log(total)
        for j in range(cols):
            out[i, j] = x[i, j] - lse
