"""Gather/scatter CUDA kernels over flat buffers; duplicates accumulate atomically.

A kernel cannot raise: one that meets a position out of bounds skips it and records it
in its ``flag`` (``flag[0] = 1``, ``flag[1]`` the value), which the backend reads right
after the launch and raises as the op's error (``CUDABackend.raise_flagged``).
"""
from numba import cuda


@cuda.jit
def gather(src, src_off, src_size, index, index_off, out, n, flag):
    i = cuda.grid(1)
    if i < n:
        k = index[index_off + i]
        if k < 0 or k >= src_size:
            flag[1] = k
            flag[0] = 1
        else:
            out[i] = src[src_off + k]


@cuda.jit
def scatter_add(dst, index, index_off, src, n, flag):
    i = cuda.grid(1)
    if i < n:
        k = index[index_off + i]
        if k < 0 or k >= dst.size:
            flag[1] = k
            flag[0] = 1
        else:
            cuda.atomic.add(dst, k, src[i])


@cuda.jit
def positions(base, index, index_off, where, stride, size, wrap, out, n, flag):
    """``out[i] = base[i] + k * stride`` for ``k = index[where[i]]`` (see the CPU kernel)."""
    i = cuda.grid(1)
    if i < n:
        k = index[index_off + where[i]]
        if wrap and k < 0:
            k += size
        if k < 0 or k >= size:
            flag[1] = index[index_off + where[i]]
            flag[0] = 1
            out[i] = base[i]
        else:
            out[i] = base[i] + k * stride


@cuda.jit
def put(dst, index, src, n):
    """dst[index[i]] = src[i] (setitem; with repeated positions one write wins)."""
    i = cuda.grid(1)
    if i < n:
        dst[index[i]] = src[i]
