"""Gather/scatter CPU kernels over flat buffers and flat element indices.

Every indexing form (ints, slices, masks, integer arrays, and their mixtures) is
reduced to the flat source index of each result element — by the planning on the host
where the index is Python's, by ``positions`` where it is a tensor's values — and these
loops then do the data movement; ``scatter_add`` accumulates duplicates, which is what
the backward of an index with repeated entries needs.  Each loop checks the positions
it follows (numba checks nothing), so a compiled program keeps the check without
reading the index on the host.
"""
from numba import njit

from .. import kernel_errors


@njit(cache=True, nogil=True, error_model="numpy")
def gather(src, index, out):
    n = src.size
    for i in range(index.size):
        k = index[i]
        if k < 0 or k >= n:
            raise kernel_errors.IndexError("gather: flat position {} is out of bounds for {} elements", k, n)
        out[i] = src[k]


@njit(cache=True, nogil=True, error_model="numpy")
def scatter_add(dst, index, src):
    n = dst.size
    for i in range(index.size):
        k = index[i]
        if k < 0 or k >= n:
            raise kernel_errors.IndexError("scatter_add: flat position {} is out of bounds for {} elements", k, n)
        dst[k] += src[i]


@njit(cache=True, nogil=True, error_model="numpy")
def positions(base, index, where, stride, size, wrap, out, status):
    """``out[i] = base[i] + k * stride`` for ``k = index[where[i]]`` (``+ size`` where
    negative and ``wrap``); a ``k`` outside ``[0, size)`` stops the loop with
    ``status = (1, k)`` — the caller raises the op's error (its text is not an argument:
    numba types a string argument slowly on every call)."""
    for i in range(out.size):
        k = index[where[i]]
        if wrap and k < 0:
            k += size
        if k < 0 or k >= size:
            status[0] = 1
            status[1] = index[where[i]]
            return
        out[i] = base[i] + k * stride
