"""Row-wise softmax kernel over a C-contiguous (rows, classes) buffer."""
import math

from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def softmax_rows(x, out, log):
    """softmax (or, with ``log``, log_softmax) of each row, shifted by the row max so
    exp never overflows."""
    rows, cols = x.shape
    for i in range(rows):
        m = x[i, 0]
        for j in range(1, cols):
            m = max(m, x[i, j])
        total = 0.0
        for j in range(cols):
            total += math.exp(x[i, j] - m)
        if log:
            lse = m + math.log(total)
            for j in range(cols):
                out[i, j] = x[i, j] - lse
        else:
            for j in range(cols):
                out[i, j] = math.exp(x[i, j] - m) / total
