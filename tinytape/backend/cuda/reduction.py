"""Reduction CUDA kernels over the middle axis of a contiguous (outer, n, inner) buffer:
one block per output element, a strided loop per thread, then a shared-memory tree
(no warp shuffles: the simulator has none).  Values combine in float64.  Running sums
(cumsum): a thread per row of a (rows, cols) buffer."""
from numba import config, cuda, float64, int64

from ..opcodes import MAX, SUM, SUMSQ

# threads per block, a power of two for the tree.  numba's simulator runs every thread as a
# Python thread: there a warp's worth runs the same code and tree four times faster
TPB = 32 if config.ENABLE_CUDASIM else 128


@cuda.jit(device=True, inline=True)
def _combine(op, a, b):
    if op == SUM or op == SUMSQ:
        return a + b
    if op == MAX:
        return a if (a > b or a != a) else b
    return a if (a < b or a != a) else b


@cuda.jit
def reduce_mid(op, x, outer, n, inner, out):
    cell = cuda.blockIdx.x
    t = cuda.threadIdx.x
    i, k = cell // inner, cell % inner
    base = i * n * inner + k
    shared = cuda.shared.array(TPB, float64)
    acc = 0.0 if (op == SUM or op == SUMSQ) else float64(x[base])
    j = t
    while j < n:
        v = float64(x[base + j * inner])
        acc = _combine(op, acc, v * v if op == SUMSQ else v)
        j += TPB
    shared[t] = acc
    cuda.syncthreads()
    step = TPB // 2
    while step > 0:
        if t < step:
            shared[t] = _combine(op, shared[t], shared[t + step])
        cuda.syncthreads()
        step //= 2
    if t == 0:
        out[cell] = shared[0]


@cuda.jit(device=True, inline=True)
def _better(op, v, iv, best, ib):
    """Whether (v, iv) beats (best, ib): NaN wins, ties go to the lower index."""
    if best != best:
        return v != v and iv < ib
    if v != v:
        return True
    if op == MAX:
        return v > best or (v == best and iv < ib)
    return v < best or (v == best and iv < ib)


@cuda.jit
def argreduce_mid(op, x, outer, n, inner, values, indices):
    cell = cuda.blockIdx.x
    t = cuda.threadIdx.x
    i, k = cell // inner, cell % inner
    base = i * n * inner + k
    vals = cuda.shared.array(TPB, float64)
    idxs = cuda.shared.array(TPB, int64)
    best = float64(x[base])
    ib = 0
    j = t
    while j < n:
        v = float64(x[base + j * inner])
        if _better(op, v, j, best, ib):
            best, ib = v, j
        j += TPB
    vals[t] = best
    idxs[t] = ib
    cuda.syncthreads()
    step = TPB // 2
    while step > 0:
        if t < step and _better(op, vals[t + step], idxs[t + step], vals[t], idxs[t]):
            vals[t] = vals[t + step]
            idxs[t] = idxs[t + step]
        cuda.syncthreads()
        step //= 2
    if t == 0:
        values[cell] = vals[0]
        indices[cell] = idxs[0]


@cuda.jit
def cumsum_rows(x, out, rows, cols):
    """Running sums along each row of contiguous (rows, cols) buffers, a thread per row,
    kept in float64 and rounded at each output (the CPU kernel's values)."""
    r = cuda.grid(1)
    if r < rows:
        base = r * cols
        acc = float64(0.0)
        for j in range(cols):
            acc += x[base + j]
            out[base + j] = acc


@cuda.jit
def cumsum_rows_exact(x, out, rows, cols):
    """Running sums kept in ``x``'s own dtype (int64; float32 for float16 and bfloat16)."""
    r = cuda.grid(1)
    if r < rows:
        base = r * cols
        acc = x[base]
        out[base] = acc
        for j in range(1, cols):
            acc += x[base + j]
            out[base + j] = acc
