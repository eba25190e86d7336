"""Gather/scatter CPU kernels over flat buffers and flat element indices.

Every indexing form (ints, slices, masks, integer arrays, and their mixtures) is
reduced in Python to the flat source index of each result element; these two loops
then do the data movement, and ``scatter_add`` accumulates duplicates, which is what
the backward of an index with repeated entries needs.
"""
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def gather(src, index, out):
    for i in range(index.size):
        out[i] = src[index[i]]


@njit(cache=True, nogil=True, error_model="numpy")
def scatter_add(dst, index, src):
    for i in range(index.size):
        dst[index[i]] += src[i]
