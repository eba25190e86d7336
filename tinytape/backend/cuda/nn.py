"""Row-wise softmax CUDA kernel over a contiguous (rows, cols) buffer: a thread per row."""
import math

from numba import cuda


@cuda.jit
def softmax_rows(x, out, rows, cols, log):
    r = cuda.grid(1)
    if r < rows:
        base = r * cols
        m = x[base]
        for j in range(1, cols):
            m = max(m, x[base + j])
        total = 0.0
        for j in range(cols):
            total += math.exp(x[base + j] - m)
        if log:
            lse = m + math.log(total)
            for j in range(cols):
                out[base + j] = x[base + j] - lse
        else:
            for j in range(cols):
                out[base + j] = math.exp(x[base + j] - m) / total
