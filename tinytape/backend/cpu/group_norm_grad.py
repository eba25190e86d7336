"""GroupNorm's gradients as PyTorch's CPU kernel computes them for a contiguous (N, C, *)
input (ATen ``group_norm_kernel.cpp``: ``ComputeInternalGradients``, ``CalcDsDb``,
``GroupNormInputBackward``, ``GammaBackward``, ``BetaBackward``); and ``pdist``'s 2-norms, which
reduce each row by the same ``vec::map2_reduce_all``.

Per (sample, channel): ``ds = sum(dy * x)`` and ``db = sum(dy)`` by ``vec::map2_reduce_all``:
one accumulator per lane of an AVX2 vector (8 float32, 4 float64; the kernel is registered with
``REGISTER_DISPATCH``) seeded with the first vector's products, the partial last vector added
into its lanes (group norm's float64 products fused into that addition, as its compiled
``Vec::set(acc, acc + a * b)`` is; float32's and pdist's not), then the lanes reduced (float32: halves, pairs, neighbours; float64: in order).
Per (sample, group): the channels' ``ds * gamma`` and ``db * gamma`` fused into per-lane
accumulators, the lanes added in order, the tail's first four (float32) unfused, the rest fused;
then ``c2 = (db * mean - ds) * rstd^3 / (D * HxW)`` and ``c3 = -c2 * mean - db * rstd / (D * HxW)``
and ``dx = c1 * dy + c2 * x + c3`` with ``c1 = rstd * gamma``, contracted as the compiled kernel is.

What is matched: float32 and float64 bit for bit.
"""
import numpy as np
from numba import njit

from .vector_norm import _fused_multiply_add as _fma


@njit(cache=True, nogil=True, error_model="numpy")
def _map2_reduce_all(p, q, base, n, lanes, ones, fused_tail, acc):
    """``sum(p * q)`` over ``p[base:base + n]`` (``q`` read as 1 when ``ones``); ``fused_tail``:
    the partial last vector's products and sums as fused multiply-adds."""
    if n < lanes:  # one partial vector, its lanes added in order
        total = p[base] if ones else p[base] * q[base]
        for i in range(1, n):
            total = total + (p[base + i] if ones else p[base + i] * q[base + i])
        return total
    for t in range(lanes):
        acc[t] = p[base + t] if ones else p[base + t] * q[base + t]
    d = lanes
    full = n - n % lanes
    while d < full:
        for t in range(lanes):
            acc[t] = acc[t] + (p[base + d + t] if ones else p[base + d + t] * q[base + d + t])
        d += lanes
    for t in range(n - d):
        if fused_tail and not ones:
            acc[t] = _fma(p[base + d + t], q[base + d + t], acc[t])
        else:
            acc[t] = acc[t] + (p[base + d + t] if ones else p[base + d + t] * q[base + d + t])
    if lanes == 8:  # AVX2's float reduction: 128-bit halves, 64-bit pairs, neighbours
        return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
    total = acc[0]
    for t in range(1, lanes):
        total = total + acc[t]
    return total


@njit(cache=True, nogil=True, error_model="numpy")
def group_norm_grads(dy, x, mean, rstd, gamma, batch, channels, inner, groups, lanes, dx, dgamma, dbeta):
    """``dx``, ``dgamma`` and ``dbeta`` of PyTorch's CPU group norm over the flat C-contiguous
    ``dy``/``x`` of (``batch``, ``channels``, ``inner``); ``gamma`` of ``channels`` (ones when the
    op has none).  ``dgamma``/``dbeta``: per channel over the samples in order,
    ``acc + (ds - db * mean) * rstd`` (contracted) and ``acc + db``."""
    size = batch * channels * inner
    if dy.shape[0] < size or x.shape[0] < size or dx.shape[0] < size or gamma.shape[0] < channels \
            or mean.shape[0] < batch * groups or rstd.shape[0] < batch * groups \
            or dgamma.shape[0] < channels or dbeta.shape[0] < channels:
        raise IndexError("native_group_norm_backward: an array is shorter than the shape it is read as")
    per = channels // groups
    ds = np.empty(batch * channels, x.dtype)
    db = np.empty(batch * channels, x.dtype)
    acc = np.empty(lanes, x.dtype)
    for i in range(batch * channels):
        ds[i] = _map2_reduce_all(dy, x, i * inner, inner, lanes, False, lanes == 4, acc)
        db[i] = _map2_reduce_all(dy, x, i * inner, inner, lanes, True, False, acc)
    consts = np.empty(3, x.dtype)  # 0, 1 and the count in the dtype (literals would widen float32)
    consts[0], consts[1], consts[2] = 0, 1, per * inner
    zero = consts[0]
    s = consts[1] / consts[2]
    ds_lanes = np.empty(lanes, x.dtype)
    db_lanes = np.empty(lanes, x.dtype)
    body = per // lanes * lanes
    # the compiled tail: float32's first four through one unfused 128-bit multiply, then fused
    plain = body + (per - body) // 4 * 4 if lanes == 8 else body + (per - body) // 2 * 2
    for i in range(batch * groups):
        g = i % groups
        for t in range(lanes):
            ds_lanes[t] = zero
            db_lanes[t] = zero
        for j in range(0, body, lanes):
            for t in range(lanes):
                c = g * per + j + t
                ds_lanes[t] = _fma(ds[i * per + j + t], gamma[c], ds_lanes[t])
                db_lanes[t] = _fma(db[i * per + j + t], gamma[c], db_lanes[t])
        ds_val = zero
        db_val = zero
        for t in range(lanes):
            ds_val = ds_val + ds_lanes[t]
            db_val = db_val + db_lanes[t]
        for j in range(body, per):
            gm = gamma[g * per + j]
            if j < plain:
                ds_val = ds_val + ds[i * per + j] * gm
                db_val = db_val + db[i * per + j] * gm
            else:
                ds_val = _fma(ds[i * per + j], gm, ds_val)
                db_val = _fma(db[i * per + j], gm, db_val)
        m = mean[i]
        r = rstd[i]
        c2 = _fma(db_val, m, -ds_val) * r * r * r * s
        c3 = _fma(-(db_val * r), s, -c2 * m)
        for j in range(per):
            c1 = r * gamma[g * per + j]
            base = (i * per + j) * inner
            for k in range(inner):
                dx[base + k] = _fma(c1, dy[base + k], c2 * x[base + k]) + c3
    for c in range(channels):
        gacc = zero
        bacc = zero
        for n in range(batch):
            i = n * groups + c // per
            gacc = _fma(_fma(-db[n * channels + c], mean[i], ds[n * channels + c]), rstd[i], gacc)
            bacc = bacc + db[n * channels + c]
        dgamma[c] = gacc
        dbeta[c] = bacc
    return dx


@njit(cache=True, nogil=True, error_model="numpy")
def pdist_two_rows(diff, rows, cols, lanes, out):
    """PyTorch's CPU ``pdist`` for p = 2 (``Distance.cpp``'s ``run_parallel_pdist``): each
    row of the flat (``rows``, ``cols``) ``diff`` as ``sqrt(map2_reduce_all(|d| * |d|))``."""
    if diff.shape[0] < rows * cols or out.shape[0] < rows:
        raise IndexError("pdist: an array is shorter than the shape it is read as")
    size = np.abs(diff)
    acc = np.empty(lanes, diff.dtype)
    for i in range(rows):
        out[i] = np.sqrt(_map2_reduce_all(size, size, i * cols, cols, lanes, False, False, acc))
    return out
