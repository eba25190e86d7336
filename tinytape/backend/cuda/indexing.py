"""Gather/scatter CUDA kernels over flat buffers; duplicates accumulate atomically."""
from numba import cuda


@cuda.jit
def gather(src, src_off, index, out, n):
    i = cuda.grid(1)
    if i < n:
        out[i] = src[src_off + index[i]]


@cuda.jit
def scatter_add(dst, index, src, n):
    i = cuda.grid(1)
    if i < n:
        cuda.atomic.add(dst, index[i], src[i])


@cuda.jit
def put(dst, index, src, n):
    """dst[index[i]] = src[i] (setitem; with repeated positions one write wins)."""
    i = cuda.grid(1)
    if i < n:
        dst[index[i]] = src[i]
