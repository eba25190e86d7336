"""Tiled shared-memory matrix product.

``out[z] = op(A[z]) @ op(B[z])`` where ``op`` transposes when the flag says so: the
operand is read through its transposed index, so backward's ``g @ w.T`` and
``x.T @ g`` never materialise a transpose.  Grid z runs over the batch.
"""
from numba import cuda, float64

TILE = 16


@cuda.jit(device=True, inline=True)
def _at(buf, off, rows, cols, r, c, trans):
    """Element (r, c) of a (rows, cols) logical matrix stored C-contiguous, or stored
    as its (cols, rows) transpose when ``trans``."""
    if r >= rows or c >= cols:
        return 0.0
    if trans:
        return buf[off + c * rows + r]
    return buf[off + r * cols + c]


@cuda.jit
def matmul(a, a_off, a_batch, b, b_off, b_batch, out, M, N, K, trans_a, trans_b):
    sa = cuda.shared.array((TILE, TILE), float64)
    sb = cuda.shared.array((TILE, TILE), float64)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    row = cuda.blockIdx.y * TILE + ty
    col = cuda.blockIdx.x * TILE + tx
    z = cuda.blockIdx.z
    ao = a_off + z * a_batch
    bo = b_off + z * b_batch
    acc = 0.0
    for t in range((K + TILE - 1) // TILE):
        sa[ty, tx] = _at(a, ao, M, K, row, t * TILE + tx, trans_a)
        sb[ty, tx] = _at(b, bo, K, N, t * TILE + ty, col, trans_b)
        cuda.syncthreads()
        for kk in range(TILE):
            acc += sa[ty, kk] * sb[kk, tx]
        cuda.syncthreads()
    if row < M and col < N:
        out[z * M * N + row * N + col] = acc


bmm = matmul  # one kernel serves both: a 2-D product is a batch of one
