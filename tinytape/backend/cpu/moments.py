"""Means and variances as PyTorch's CPU kernels compute them, bit for bit, and the
normalisations built on them.

``row_moments``: ATen's ``RowwiseMoments`` (``moments_utils.h``), which ``layer_norm`` and
``group_norm`` use: Welford's update over vectors of 256 bits (8 float32 or 4 float64
lanes; the kernels are registered for AVX2 only), 16 vectors a chunk, the chunks'
moments merged up a binary stack (a cascade), then the lanes merged into the scalar
moments of the tail that does not fill a vector.  Where the compiler fuses a product into
an addition (``fma``) is as the library's build does.

Then ``LayerNormKernelImpl``, ``GroupNormKernelImpl`` and the batch-norm kernels with
their backwards.  Sums that PyTorch splits over threads (``parallel_for``: contiguous
chunks, one buffer per thread, the buffers added in order) take a ``threads`` count."""
import numpy as np
from numba import njit

from .. import sleef

CHUNK = 16  # vectors per Welford chunk (kChunkSize)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _cast(scratch, value):
    """``value`` in the dtype of the 1-element ``scratch`` (numba's int-float arithmetic
    would widen float32 to float64)."""
    scratch[0] = value
    return scratch[0]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _merge(count_add, mean_add, m2_add, count, mean, m2, scratch):
    """Merge the moments (count_add, mean_add, m2_add) into the scalar (count, mean, m2)."""
    total = count + count_add
    c = _cast(scratch, 0) if total == 0 else _cast(scratch, count_add) / _cast(scratch, total)
    delta = mean_add - mean
    mean = sleef.fma(c, delta, mean)
    m2 = m2 + sleef.fma(delta * delta * c, _cast(scratch, count), m2_add)
    return total, mean, m2


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _merge_lanes(count_add, mean_add, m2_add, counts, means, m2s, level, scratch):
    """Merge a vector of moments into ``level`` of the stack, as ``AddMomentsVec``."""
    total = counts[level] + count_add
    c = _cast(scratch, 0) if total == 0 else _cast(scratch, count_add) / _cast(scratch, total)
    old = _cast(scratch, counts[level])
    for t in range(means.shape[1]):
        delta = mean_add[t] - means[level, t]
        m2_sum = m2s[level, t] + m2_add[t]
        c_delta = c * delta
        means[level, t] = means[level, t] + c_delta
        m2s[level, t] = sleef.fma(delta * old, c_delta, m2_sum)
    counts[level] = total


@njit(cache=True, nogil=True, error_model="numpy")
def row_moments(x, base, n_values, lanes):
    """(mean, biased variance) of ``x[base:base + n_values]``."""
    n = n_values // lanes
    chunks = (n + CHUNK - 1) // CHUNK
    depth = 0
    while (1 << depth) < chunks:
        depth += 1
    size = max(depth, 1)
    counts = np.zeros(size, np.int64)
    means = np.zeros((size, lanes), x.dtype)
    m2s = np.zeros((size, lanes), x.dtype)
    scratch = np.empty(1, x.dtype)
    one = _cast(scratch, 1)
    step = np.empty(CHUNK, x.dtype)
    for j in range(CHUNK):
        step[j] = one / _cast(scratch, j + 1)
    mean_v = np.empty(lanes, x.dtype)
    m2_v = np.empty(lanes, x.dtype)
    held_m = np.empty(lanes, x.dtype)
    held_m2 = np.empty(lanes, x.dtype)
    for i in range(chunks):
        start = base + i * CHUNK * lanes
        count = min(CHUNK, n - i * CHUNK)
        mean_v[:] = 0
        m2_v[:] = 0
        for j in range(count):
            for t in range(lanes):
                v = x[start + j * lanes + t]
                delta = v - mean_v[t]
                mean_v[t] = sleef.fma(step[j], delta, mean_v[t])
                m2_v[t] = sleef.fma(delta, v - mean_v[t], m2_v[t])
        _merge_lanes(count, mean_v, m2_v, counts, means, m2s, 0, scratch)
        mask = i + 1
        level = 1
        while level < depth and (mask & 1) == 0:
            held_m[:] = means[level - 1]
            held_m2[:] = m2s[level - 1]
            _merge_lanes(counts[level - 1], held_m, held_m2, counts, means, m2s, level, scratch)
            counts[level - 1] = 0
            means[level - 1, :] = 0
            m2s[level - 1, :] = 0
            mask >>= 1
            level += 1
    for level in range(1, depth):
        held_m[:] = means[level]
        held_m2[:] = m2s[level]
        _merge_lanes(counts[level], held_m, held_m2, counts, means, m2s, 0, scratch)
    count = 0
    mean = _cast(scratch, 0)
    m2 = _cast(scratch, 0)
    for i in range(n * lanes, n_values):
        v = x[base + i]
        delta = v - mean
        count += 1
        mean += delta / _cast(scratch, count)
        m2 += delta * (v - mean)
    for t in range(lanes):
        count, mean, m2 = _merge(n, means[0, t], m2s[0, t], count, mean, m2, scratch)
    return mean, m2 / _cast(scratch, n_values)


@njit(cache=True, nogil=True, error_model="numpy")
def layer_norm_rows(x, rows, cols, weight, bias, affine, eps, out, mean, rstd):
    """``out = fma((x - mean) * rstd, weight, bias)`` per row of the flat C-contiguous ``x``;
    ``affine``: 0 none, 1 weight, 2 bias, 3 both (the missing ones read as 1 and 0)."""
    lanes = 32 // x.itemsize
    one = _cast(np.empty(1, x.dtype), 1)
    if rows * cols > min(x.shape[0], out.shape[0]) or rows > mean.shape[0] or cols > min(len(weight), len(bias)):
        raise IndexError("layer_norm: the rows read past the buffers")
    for r in range(rows):
        base = r * cols
        mu, var = row_moments(x, base, cols, lanes)
        inv = one / np.sqrt(var + eps)
        mean[r], rstd[r] = mu, inv
        for j in range(cols):
            w = weight[j] if affine & 1 else one
            b = bias[j] if affine & 2 else one - one
            out[base + j] = sleef.fma((x[base + j] - mu) * inv, w, b)


@njit(cache=True, nogil=True, error_model="numpy")
def _dot(p, q, n, lanes):
    """``sum(p * q)`` over ``[:n]`` as ``vec::map2_reduce_all`` compiles it with 256-bit
    vectors: short rows add their rounded products left to right; longer ones add them per
    lane, the last partial vector's products fused into the first lanes (``fma``), then the
    lanes by the shuffle tree for float32 (i with i ^ 4, ^ 2, ^ 1) and in order for float64."""
    if n < lanes:
        acc = p[0] * q[0]
        for i in range(1, n):
            acc += p[i] * q[i]
        return acc
    acc_v = p[:lanes] * q[:lanes]
    tail = n - n % lanes
    for d in range(lanes, tail, lanes):
        for k in range(lanes):
            acc_v[k] += p[d + k] * q[d + k]
    for k in range(n - tail):
        acc_v[k] = sleef.fma(p[tail + k], q[tail + k], acc_v[k])
    if lanes == 8:
        step = 4
        while step >= 1:
            for k in range(step):
                acc_v[k] = acc_v[k] + acc_v[k + step]
            step //= 2
        return acc_v[0]
    acc = acc_v[0]
    for k in range(1, lanes):
        acc += acc_v[k]
    return acc


@njit(cache=True, nogil=True, error_model="numpy")
def layer_norm_backward_rows(grad, x, rows, cols, weight, has_weight, mean, rstd, grad_x, grad_w, grad_b,
                             want_x, want_w, want_b, threads):
    """The gradients of ``layer_norm_rows`` as PyTorch's ``LayerNormBackwardKernelImpl``:
    ``dx = fma(b, x, a * dy * w) + c`` with ``a = rstd``, ``b = fma(db, mean, -ds) a^3 / N``,
    ``c = fma(-b, mean, -db a / N)``, ``ds = sum(dy x w)``, ``db = sum(dy w)`` (``_dot``)."""
    lanes = 32 // x.itemsize
    if rows * cols > min(x.shape[0], grad.shape[0], grad_x.shape[0]) or rows > mean.shape[0] or cols > weight.shape[0]:
        raise IndexError("layer_norm_backward: the rows read past the buffers")
    scratch = np.empty(1, x.dtype)
    one = _cast(scratch, 1)
    scale = one / _cast(scratch, cols)
    threads = max(1, threads)
    used = min(threads, rows) if rows > 1 else 1
    chunk = (rows + used - 1) // used
    w_parts = np.zeros((threads, cols), x.dtype)
    b_parts = np.zeros((threads, cols), x.dtype)
    terms = np.empty(cols, x.dtype)
    ones = np.ones(cols, x.dtype)
    for r in range(rows):
        base = r * cols
        part = r // chunk
        a = rstd[r]
        if want_w:
            shift = -a * mean[r]
            for j in range(cols):
                w_parts[part, j] = sleef.fma(grad[base + j], sleef.fma(a, x[base + j], shift), w_parts[part, j])
        if want_b:
            for j in range(cols):
                b_parts[part, j] = b_parts[part, j] + grad[base + j]
        if want_x:
            row_grad, row_x = grad[base:base + cols], x[base:base + cols]
            if has_weight:  # ds = sum((dy * x) * w), db = sum(dy * w)
                for j in range(cols):
                    terms[j] = row_grad[j] * row_x[j]
                ds = _dot(terms, weight, cols, lanes)
                db = _dot(row_grad, weight, cols, lanes)
            else:
                ds = _dot(row_grad, row_x, cols, lanes)
                db = _dot(row_grad, ones, cols, lanes)
            b = sleef.fma(db, mean[r], -ds) * a * a * a * scale
            c = sleef.fma(-b, mean[r], -(db * a * scale))
            for j in range(cols):
                ady = a * grad[base + j] * weight[j] if has_weight else a * grad[base + j]
                grad_x[base + j] = sleef.fma(b, x[base + j], ady) + c
    for j in range(cols):
        total_w = total_b = one - one
        for t in range(threads):
            total_w += w_parts[t, j]
            total_b += b_parts[t, j]
        if want_w:
            grad_w[j] = total_w
        if want_b:
            grad_b[j] = total_b


@njit(cache=True, nogil=True, error_model="numpy")
def batch_norm_stats(x, batch, channels, inner, threads, mean, var_sum):
    """Each channel's mean and sum of squared deviations over the flat C-contiguous
    (batch, channels, inner) ``x``, as ``batch_norm_cpu_collect_stats``: for inner > 1 the
    sums in float64, the mean rounded to the dtype; for rows, the channels-last sums."""
    if batch * channels * inner > x.shape[0] or channels > mean.shape[0]:
        raise IndexError("batch_norm: the statistics read past the buffers")
    count = batch * inner
    scratch = np.empty(1, x.dtype)
    if inner > 1:
        for c in range(channels):
            total = 0.0
            for n in range(batch):
                base = (n * channels + c) * inner
                for i in range(inner):
                    total += x[base + i]
            mu = _cast(scratch, total / count)
            squares = 0.0
            for n in range(batch):
                base = (n * channels + c) * inner
                for i in range(inner):
                    d = x[base + i] - mu
                    squares += d * d
            mean[c] = mu
            var_sum[c] = squares
        return
    threads = max(1, threads)
    used = min(threads, batch) if batch > 1 else 1
    chunk = (batch + used - 1) // used
    parts = np.zeros((threads, channels), x.dtype)
    for n in range(batch):
        for c in range(channels):
            parts[n // chunk, c] += x[n * channels + c]
    for c in range(channels):
        total = 0.0
        for t in range(threads):
            total += parts[t, c]
        mean[c] = total / count
    parts[:, :] = 0
    for n in range(batch):
        for c in range(channels):
            d = x[n * channels + c] - mean[c]
            parts[n // chunk, c] = sleef.fma(d, d, parts[n // chunk, c])
    for c in range(channels):
        total = 0.0
        for t in range(threads):
            total += parts[t, c]
        var_sum[c] = total


@njit(cache=True, nogil=True, error_model="numpy")
def batch_norm_transform(x, batch, channels, inner, scale, shift, out):
    """``out = fma(x, scale[c], shift[c])`` over the flat C-contiguous (batch, channels, inner)
    ``x``: PyTorch's ``batch_norm_cpu_transform_input`` with ``scale = invstd * weight`` and
    ``shift = bias - mean * scale`` per channel."""
    if batch * channels * inner > x.shape[0] or batch * channels * inner > out.shape[0] or channels > scale.shape[0]:
        raise IndexError("batch_norm: the transform reads past the buffers")
    for n in range(batch):
        for c in range(channels):
            base = (n * channels + c) * inner
            for i in range(inner):
                out[base + i] = sleef.fma(x[base + i], scale[c], shift[c])


@njit(cache=True, nogil=True, error_model="numpy")
def batch_norm_coefficients(mean, var_sum, count, running_mean, running_var, training, momentum, eps, weight,
                            bias, affine, scale, shift, invstd, new_mean, new_var):
    """Per channel, as ``batch_norm_cpu_update_stats`` and ``..._transform_input``: in
    training ``invstd = 1 / sqrt(var + eps)`` in float64 from the dtype's ``var_sum / n``,
    the running mean ``m * mean + (1 - m) * running`` and the running variance
    ``fma(m, var_sum / (n - 1), (1 - m) * running)`` (``new_mean``/``new_var``, where
    given); in evaluation ``invstd = 1 / sqrt(running_var + eps)`` in the dtype; then
    ``scale = invstd * weight``, ``shift = fma(-mean, scale, bias)``.  ``affine`` as
    ``layer_norm_rows``'s."""
    channels = mean.shape[0]
    scratch = np.empty(1, mean.dtype)
    one = _cast(scratch, 1)
    m = _cast(scratch, momentum)
    for c in range(channels):
        if training:
            var = var_sum[c] / _cast(scratch, count)
            invstd[c] = _cast(scratch, 1.0 / np.sqrt(np.float64(var) + eps))
            if new_mean.shape[0] == channels:
                new_mean[c] = m * mean[c] + (one - m) * running_mean[c]
            if new_var.shape[0] == channels:
                unbiased = var_sum[c] / _cast(scratch, count - 1) if count > 1 else _cast(scratch, np.nan)
                new_var[c] = sleef.fma(m, unbiased, (one - m) * running_var[c])
        else:
            invstd[c] = one / np.sqrt(running_var[c] + _cast(scratch, eps))
        scale[c] = invstd[c] * weight[c] if affine & 1 else invstd[c]
        shift[c] = sleef.fma(-mean[c], scale[c], bias[c] if affine & 2 else one - one)


@njit(cache=True, nogil=True, error_model="numpy")
def batch_norm_backward_rows(grad, x, batch, channels, inner, weight, has_weight, mean, invstd, running_var,
                             training, eps, grad_x, grad_w, grad_b):
    """The gradients of batch norm over the flat C-contiguous (batch, channels, inner)
    buffers, as ``batch_norm_cpu_backward_contiguous_impl``: per channel ``sum(dy)`` and
    ``dot = sum((x - mean) dy)``, each (batch, channel) plane's in ``_dot``'s order added
    in float64; in training ``dx = fma(-(x - mean), k, dy - sum / n) invstd w`` with
    ``k = dot invstd^2 / n``, in evaluation ``dx = dy invstd w`` with ``invstd`` from the
    running variance in float64; ``dw = dot invstd``, ``db = sum``."""
    size = batch * channels * inner
    if size > min(x.shape[0], grad.shape[0], grad_x.shape[0]) or channels > min(mean.shape[0], weight.shape[0]):
        raise IndexError("batch_norm_backward: the planes read past the buffers")
    lanes = 32 // x.itemsize
    scratch = np.empty(1, x.dtype)
    one = _cast(scratch, 1)
    count = batch * inner
    ones = np.ones(inner, x.dtype)
    centred = np.empty(inner, x.dtype)
    for c in range(channels):
        w = weight[c] if has_weight else one
        mu = mean[c]
        inv = invstd[c] if training else _cast(scratch, 1.0 / np.sqrt(np.float64(running_var[c]) + eps))
        total = 0.0
        dot = 0.0
        for n in range(batch):
            base = (n * channels + c) * inner
            dy = grad[base:base + inner]
            for i in range(inner):
                centred[i] = x[base + i] - mu
            total += _dot(dy, ones, inner, lanes)
            dot += _dot(centred, dy, inner, lanes)
        if training:
            k = _cast(scratch, dot) * inv * inv / _cast(scratch, count)
            grad_mean = _cast(scratch, total / count)
            for n in range(batch):
                base = (n * channels + c) * inner
                for i in range(inner):
                    shifted = grad[base + i] - grad_mean
                    grad_x[base + i] = sleef.fma(-(x[base + i] - mu), k, shifted) * inv * w
        else:
            for n in range(batch):
                base = (n * channels + c) * inner
                for i in range(inner):
                    grad_x[base + i] = grad[base + i] * inv * w
        grad_w[c] = _cast(scratch, dot * inv)
        grad_b[c] = _cast(scratch, total)


@njit(cache=True, nogil=True, error_model="numpy")
def batch_norm_backward_channels_last(grad, x, batch, channels, weight, has_weight, mean, invstd, running_var,
                                      training, eps, threads, grad_x, grad_w, grad_b):
    """``batch_norm_backward_rows`` for (batch, channels) rows, as PyTorch's channels-last
    kernel: ``sum(dy)`` and ``dot`` per channel in the dtype, one buffer per thread (the
    rows in ``threads`` contiguous chunks), the buffers added in float64 and rounded; training's
    dx ``(dy - sum / n - (x - mean) k) invstd w`` with ``k = dot invstd^2 / n``, the product fused
    into the subtraction in the channels of full vectors, not in the partial last vector."""
    size = batch * channels
    if size > min(x.shape[0], grad.shape[0], grad_x.shape[0]) or channels > min(mean.shape[0], weight.shape[0]):
        raise IndexError("batch_norm_backward: the rows read past the buffers")
    scratch = np.empty(1, x.dtype)
    one = _cast(scratch, 1)
    threads = max(1, threads)
    used = min(threads, batch) if batch > 1 else 1
    chunk = (batch + used - 1) // used
    sums = np.zeros((threads, channels), x.dtype)
    dots = np.zeros((threads, channels), x.dtype)
    for n in range(batch):
        t = n // chunk
        for c in range(channels):
            dy = grad[n * channels + c]
            sums[t, c] += dy
            dots[t, c] = sleef.fma(x[n * channels + c] - mean[c], dy, dots[t, c])
    total = np.empty(channels, x.dtype)
    dot = np.empty(channels, x.dtype)
    inv = np.empty(channels, x.dtype)
    for c in range(channels):
        s = 0.0
        d = 0.0
        for t in range(threads):
            s += sums[t, c]
            d += dots[t, c]
        total[c] = s
        dot[c] = d
        inv[c] = invstd[c] if training else _cast(scratch, 1.0 / np.sqrt(np.float64(running_var[c]) + eps))
    n_values = _cast(scratch, batch)
    vector = channels - channels % (32 // x.itemsize)  # the channels of full AVX2 vectors
    for n in range(batch):
        for c in range(channels):
            w = weight[c] if has_weight else one
            dy = grad[n * channels + c]
            if training:
                k = dot[c] * inv[c] * inv[c] / n_values
                grad_mean = total[c] / n_values
                centred = x[n * channels + c] - mean[c]
                # (dy - grad_mean - centred * k): fused in the vector loop, not in its partial tail
                rest = sleef.fma(-centred, k, dy - grad_mean) if c < vector else (dy - grad_mean) - centred * k
                grad_x[n * channels + c] = rest * inv[c] * w
            else:
                grad_x[n * channels + c] = dy * inv[c] * w
    for c in range(channels):
        grad_w[c] = dot[c] * inv[c]
        grad_b[c] = total[c]


@njit(cache=True, nogil=True, error_model="numpy")
def group_norm_rows(x, groups_total, groups, channels_per_group, inner, weight, bias, affine, eps, out, mean, rstd):
    """PyTorch's CPU ``GroupNormKernelImpl`` over the flat C-contiguous (N, C, inner) ``x``
    (``groups_total = N * groups``): each group's moments by ``row_moments``, ``rstd =
    1 / sqrt(max(var, 0) + eps)`` in float64; without weight and bias ``(x - mean) * rstd``,
    else per channel ``fma(scale, x, fma(-scale, mean, bias))`` with ``scale = rstd * weight``."""
    size, channels = groups_total * channels_per_group * inner, groups * channels_per_group
    if size > min(x.shape[0], out.shape[0]) or groups_total > mean.shape[0] or channels > min(len(weight), len(bias)):
        raise IndexError("group_norm: the groups read past the buffers")
    lanes = 32 // x.itemsize
    scratch = np.empty(1, x.dtype)
    zero = _cast(scratch, 0)
    row = channels_per_group * inner
    for i in range(groups_total):
        base = i * row
        mu, var = row_moments(x, base, row, lanes)
        inv = _cast(scratch, 1.0 / np.sqrt(np.float64(max(var, zero)) + eps))
        mean[i], rstd[i] = mu, inv
        if affine == 0:
            for j in range(row):
                out[base + j] = (x[base + j] - mu) * inv
            continue
        g = i % groups
        for j in range(channels_per_group):
            c = g * channels_per_group + j
            scale = inv * weight[c] if affine & 1 else inv
            shift = sleef.fma(-scale, mu, bias[c] if affine & 2 else zero)
            start = base + j * inner
            for k in range(inner):
                out[start + k] = sleef.fma(scale, x[start + k], shift)
