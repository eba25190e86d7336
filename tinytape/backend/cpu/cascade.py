"""Floating-point sums in PyTorch's CPU order (ATen ``SumKernel.cpp``, ``cascade_sum``), bit for bit.

PyTorch lays a reduction out as ``TensorIterator`` does (``reduce_layout`` here): the reduced
dimensions first, ordered by the input's strides, then the kept ones, innermost first;
neighbours that walk memory as one are merged.  The first two dimensions of that layout make
one 2-D loop (``cascade_sum``'s body) run once per index of the others, each adding its partial sums
into the zeroed output.  The 2-D loop sums a row that is contiguous in memory ("inner")
as vectors of the lane width and contiguous columns ("outer") a vector
of columns at a time, each through ``multi_row_sum``: a cascade of 4 levels that adds
runs of ``2**level_power`` terms before passing them up, with ``row_sum`` interleaving 4
such accumulators (its "ilp_factor").  All in the input's own dtype: float32 sums add in
float32 (float16 and bfloat16: in float32, rounded into the output).

The lane width is AVX2's (8 float32, 4 float64) even where PyTorch reports AVX512: the sum is
registered with ``REGISTER_DISPATCH``, which leaves the AVX512 slot to the AVX2 kernel.

What is matched: one thread.  Above 32768 elements PyTorch splits a sum over its threads
(``parallel_reduce``) unless ``torch.set_num_threads(1)``; tinytape sums as that single
thread does.
"""
import numpy as np
from numba import njit

from ..layout import iteration_order

LEVELS = 4  # multi_row_sum's num_levels
ILP = 4  # row_sum's ilp_factor; also the outer sums' nrows


@njit(cache=True, nogil=True, error_model="numpy")
def _ceil_log2(x):
    if x <= 2:
        return 1
    bits, v = 0, x - 1
    while v > 0:
        bits += 1
        v >>= 1
    return bits


@njit(cache=True, nogil=True, error_model="numpy")
def _multi_row_sum(x, base, row_stride, col_stride, size, nrows, lanes, acc):
    """``nrows`` cascaded sums over ``size`` rows; row ``i``'s term ``k`` is the vector of
    ``lanes`` elements at ``base + i * row_stride + k * col_stride``.  Sum ``k``'s lanes land
    in ``acc[0, k * lanes:(k + 1) * lanes]``."""
    level_power = max(4, _ceil_log2(size) // LEVELS)
    step = 1 << level_power
    mask = step - 1
    width = nrows * lanes
    block = col_stride == lanes  # each row's terms one contiguous run: vectorised loops
    cascading = size >= step
    for j in range(LEVELS if cascading else 1):
        for t in range(width):
            acc[j, t] = 0
    a0 = acc[0]
    i = 0
    while i + step <= size:
        if block:
            for r in range(step):
                p = base + (i + r) * row_stride
                row = x[p:p + width]  # (a view: indices from 0 need no wraparound test)
                for t in range(width):
                    a0[t] += row[t]
        elif lanes == 1:
            for r in range(step):
                p = base + (i + r) * row_stride
                for k in range(nrows):
                    a0[k] += x[p + k * col_stride]
        else:
            for r in range(step):
                p = base + (i + r) * row_stride
                for k in range(nrows):
                    q = p + k * col_stride
                    row, part = x[q:q + lanes], a0[k * lanes:(k + 1) * lanes]
                    for t in range(lanes):
                        part[t] += row[t]
        i += step
        for j in range(1, LEVELS):
            lower, upper = acc[j - 1], acc[j]
            for t in range(width):
                upper[t] += lower[t]
                lower[t] = 0
            if i & (mask << (j * level_power)):
                break
    while i < size:
        p = base + i * row_stride
        if block:
            row = x[p:p + width]
            for t in range(width):
                a0[t] += row[t]
        elif lanes == 1:
            for k in range(nrows):
                a0[k] += x[p + k * col_stride]
        else:
            for k in range(nrows):
                q = p + k * col_stride
                row, part = x[q:q + lanes], a0[k * lanes:(k + 1) * lanes]
                for t in range(lanes):
                    part[t] += row[t]
        i += 1
    if cascading:  # (the upper levels are 0 otherwise: adding them changes no bit, a sum being +0 at least)
        for j in range(1, LEVELS):
            upper = acc[j]
            for t in range(width):
                a0[t] += upper[t]


@njit(cache=True, nogil=True, error_model="numpy")
def layout_fits(nx, xo, nout, sizes, in_strides, out_strides):
    """Whether a sum over ``reduce_layout``'s layout has anything to add (False for an empty
    buffer or dimension); IndexError where it would read or write past its buffers — the
    check numba leaves to us, which generated code makes before calling the sum by symbol
    (``exported.py``: an error raised in a C function would not reach it)."""
    if nx == 0 or nout == 0:
        return False
    last_in = xo
    last_out = 0
    for d in range(sizes.shape[0]):
        if sizes[d] <= 0:
            return False
        if in_strides[d] < 0 or out_strides[d] < 0:
            raise IndexError("sum: a layout with a negative stride")
        last_in += (sizes[d] - 1) * in_strides[d]
        last_out += (sizes[d] - 1) * out_strides[d]
    if xo < 0 or last_in >= nx or last_out >= nout:
        raise IndexError("sum: the reduction's layout reads past its buffers")
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def cascade_sum(x, xo, out, sizes, in_strides, out_strides, width, acc, pairs=0):
    """Sum the flat ``x`` (from element ``xo``) into the flat, zeroed ``out`` over the
    layout ``reduce_layout`` planned (element strides, innermost dimension first);
    ``acc`` is (4, 4 * width) scratch of the accumulation dtype.

    ``pairs``: 0 for float32/float64; for float16 (1) and bfloat16 (2), held in float32,
    one input vector is 2 * ``width`` elements, which a contiguous row's loads fold to
    ``width`` float lanes (neighbours for float16, the two halves for bfloat16).  The 2-D
    loop (cascade_sum's ``loop2d``) is written out here, each cascade called from as few
    places as can be: numba inlines every call, and optimising each copy takes seconds."""
    ndim = sizes.shape[0]
    if not layout_fits(x.shape[0], xo, out.shape[0], sizes, in_strides, out_strides):
        return  # nothing to add: ``out`` stays 0
    size0 = sizes[0] if ndim > 0 else 1
    size1 = sizes[1] if ndim > 1 else 1
    is0 = in_strides[0] if ndim > 0 else 0
    is1 = in_strides[1] if ndim > 1 else 0
    os0 = out_strides[0] if ndim > 0 else 0
    os1 = out_strides[1] if ndim > 1 else 0
    if os0 != 0 and os1 == 0:  # the reduction first
        size0, size1, is0, is1, os0, os1 = size1, size0, is1, is0, os1, os0
    vec_elems = width if pairs == 0 else 2 * width
    inner = os0 == 0 and is0 == 1 and size0 >= vec_elems  # rows contiguous: vectors along each row
    vectorised = is1 == 1 and size1 >= vec_elems  # else columns contiguous: vectors of columns
    scalar_rows = not vectorised and is0 < is1  # else a row_sum per column (scalar_inner_sum)
    vectors = np.empty(0 if pairs == 0 else size0 // 2 + 1, acc.dtype)
    acc[0, 0] = 0
    zero = acc[0, 0]
    count = np.zeros(max(ndim, 1), np.int64)  # the index over dimensions 2.., innermost first
    while True:
        xb, ob = xo, 0
        for d in range(2, ndim):
            xb += count[d] * in_strides[d]
            ob += count[d] * out_strides[d]
        if os0 != 0:  # nothing reduced here: out += x
            for j in range(size1):
                for i in range(size0):
                    out[ob + j * os1 + i * os0] += x[xb + j * is1 + i * is0]
        else:
            # groups: a row's vectors (inner), or columns summed down the rows: ``nrows`` sums
            # of ``lanes`` adjacent columns side by side (multi_row_sum), or one through 4
            # interleaved rows (PyTorch's row_sum: a multi_row_sum of 4 rows a step, the
            # rows left over added after it, then the 4 sums folded left to right)
            j = 0
            while j < size1:
                base = start = xb + j * is1
                src = x
                if inner:
                    stride, size, nrows, lanes, interleaved, step = width, size0 // vec_elems, 1, width, True, 1
                    if pairs != 0:  # the row's vectors folded to float lanes first
                        for v in range(size):
                            p = base + v * vec_elems
                            for t in range(width):
                                if pairs == 1:
                                    vectors[v * width + t] = (zero + x[p + 2 * t]) + x[p + 2 * t + 1]
                                else:
                                    vectors[v * width + t] = x[p + t] + x[p + width + t]
                        src, start = vectors, 0
                else:
                    stride, size = is0, size0
                    if vectorised and j + ILP * width <= size1:
                        nrows, lanes, interleaved = ILP, width, False
                    elif vectorised and j + width <= size1:
                        nrows, lanes, interleaved = 1, width, True
                    elif not vectorised and not scalar_rows and j + ILP - 1 < size1:
                        nrows, lanes, interleaved = ILP, 1, False
                    else:
                        nrows, lanes, interleaved = 1, 1, True
                    step = nrows * lanes
                # one call of the cascade for every case (an inner row is ``interleaved`` with
                # stride == lanes == width): numba inlines each call site, and LLVM optimises
                # each copy anew (seconds of the first call's compile)
                if interleaved:
                    rows = size // ILP
                    row_stride, col_stride, n_rows, sums = stride * ILP, stride, rows, np.int64(ILP)
                else:
                    row_stride, col_stride, n_rows, sums = stride, lanes * is1, size, nrows
                _multi_row_sum(src, start, row_stride, col_stride, n_rows, sums, lanes, acc)
                if interleaved:  # the rows left over, then the 4 sums folded left to right
                    for i in range(n_rows * ILP, size):
                        for lane in range(lanes):
                            acc[0, lane] += src[start + i * stride + lane]
                    for k in range(1, ILP):
                        for lane in range(lanes):
                            acc[0, lane] += acc[0, k * lanes + lane]
                if inner:  # the row's scalar tail first, then its vector's lanes in order
                    total = zero
                    for k in range(size * vec_elems, size0):
                        total += x[base + k]
                    for lane in range(width):
                        total += acc[0, lane]
                    out[ob + j * os1] += total
                else:
                    for k in range(nrows * lanes):  # column j + k, its sum at acc[0, k]
                        out[ob + (j + k) * os1] += acc[0, k]
                j += step
        d = 2
        while d < ndim:
            count[d] += 1
            if count[d] < sizes[d]:
                break
            count[d] = 0
            d += 1
        if d >= ndim:
            return


@njit(cache=True, nogil=True, error_model="numpy")
def nll_sum(values, valid, out):
    """``out[0]`` = the sum of ``values[b]`` over the rows ``valid[b]``, as PyTorch's CPU
    ``nll_loss`` reduces (``nll_loss_out_frame``): 8 partial sums, a row's term into the
    first, pushed up a level at each multiple of 2**level_power of its row index (the
    rows it skips push nothing), then the partial sums added in order."""
    n = values.shape[0]
    if valid.shape[0] != n or out.shape[0] < 1:
        raise IndexError("nll_sum: values, valid and out of mismatched sizes")
    levels = 8
    level_power = max(4, _ceil_log2(n) // levels)
    mask = (1 << level_power) - 1
    partial = np.zeros(levels, out.dtype)
    for b in range(n):
        if not valid[b]:
            continue
        partial[0] += values[b]
        for j in range(levels - 1):
            if b & (mask << (j * level_power)):
                break
            partial[j + 1] += partial[j]
            partial[j] = 0
    total = np.zeros(1, out.dtype)[0]  # (0 in the dtype: ``partial[0] * 0`` would be float64)
    for j in range(levels):
        total += partial[j]
    out[0] = total


def reduce_layout(shape, strides, dims):
    """(sizes, input strides, output strides), innermost first, of the loops PyTorch's
    ``TensorIterator`` runs to reduce an array of ``shape`` and element ``strides`` (none
    negative) over ``dims`` (sorted; empty: all) into a C-contiguous result:
    ``reorder_dimensions`` (the reduced dimensions first, by input stride; the kept ones by
    the result's stride) and ``coalesce_dimensions``.  Dimensions of size 1 are left out
    (coalescing merges them away)."""
    ndim = len(shape)
    reduced = set(dims) if dims else set(range(ndim))
    out_strides, step = [0] * ndim, 1
    for d in range(ndim - 1, -1, -1):
        if d not in reduced:
            out_strides[d] = step
            step *= shape[d]
    keep = [d for d in range(ndim) if shape[d] != 1]
    sizes = [shape[d] for d in keep]
    ins = [strides[d] for d in keep]
    outs = [out_strides[d] for d in keep]
    n = len(keep)

    def should_swap(a, b):  # TensorIterator's comparison: output first, then the input
        o0, o1 = outs[a], outs[b]
        if (o0 == 0) != (o1 == 0):
            return 1 if o1 == 0 else -1
        if o0 != 0 and o1 != 0:
            if o0 < o1:
                return -1
            if o0 > o1:
                return 1
            if sizes[a] > sizes[b]:
                return 1
        i0, i1 = ins[a], ins[b]
        if i0 == 0 or i1 == 0:
            return 0
        if i0 < i1:
            return -1
        if i0 > i1:
            return 1
        return 1 if sizes[a] > sizes[b] else 0

    perm = iteration_order(n, should_swap)
    sizes = [sizes[p] for p in perm]
    ins = [ins[p] for p in perm]
    outs = [outs[p] for p in perm]
    merged_s, merged_i, merged_o = sizes[:1], ins[:1], outs[:1]
    for d in range(1, n):
        prev = len(merged_s) - 1
        if merged_s[prev] * merged_i[prev] == ins[d] and merged_s[prev] * merged_o[prev] == outs[d]:
            merged_s[prev] *= sizes[d]
        else:
            merged_s.append(sizes[d])
            merged_i.append(ins[d])
            merged_o.append(outs[d])
    return (np.array(merged_s, np.int64), np.array(merged_i, np.int64), np.array(merged_o, np.int64))


LANES = {np.dtype(np.float32): 8, np.dtype(np.float64): 4}  # AVX2 vectors (below)


def narrow_sum(x, dims, out):
    """Sum the float16 or bfloat16 array ``x`` (not empty) over ``dims`` into the
    C-contiguous float32 ``out``, which the caller rounds to ``x``'s dtype: PyTorch adds
    in float32 with the narrow dtype's vector loads, except where the two innermost loops
    both reduce (its ``should_use_acc_buffer``): there it sums ``x.to(float)``."""
    if any(s < 0 or s % x.itemsize for s in x.strides):
        x = np.ascontiguousarray(x)
    strides = tuple(s // x.itemsize for s in x.strides)
    sizes, ins, outs = reduce_layout(x.shape, strides, dims)
    if len(sizes) >= 2 and outs[0] == 0 and outs[1] == 0:
        return sum_into(x.astype(np.float32, order="K"), dims, out)
    span = 1 + sum((n - 1) * s for n, s in zip(x.shape, strides))
    flat = np.lib.stride_tricks.as_strided(x, (span,), (x.itemsize,)).astype(np.float32)
    flat_out = out.reshape(-1)
    flat_out.fill(0)
    width = LANES[flat.dtype]
    cascade_sum(flat, 0, flat_out, sizes, ins, outs, width, np.empty((LEVELS, ILP * width), np.float32),
                1 if x.dtype == np.float16 else 2)
    return out


_layouts = {}  # (shape, strides, dims) -> reduce_layout's arrays: planned once per layout


def sum_into(x, dims, out):
    """Sum the float32/float64 array ``x`` (not empty) over ``dims`` (sorted; empty: all)
    into the C-contiguous ``out`` of the same dtype (the result's shape, kept dims or not),
    in PyTorch's order.  Any strides: negative ones are copied away first."""
    key = (x.shape, x.strides, x.itemsize, dims)  # (byte strides: one key of two itemsizes would clash)
    layout = _layouts.get(key)
    if layout is None:
        if any(s < 0 for s in x.strides) or any(s % x.itemsize for s in x.strides):
            return sum_into(np.ascontiguousarray(x), dims, out)
        strides = tuple(s // x.itemsize for s in x.strides)
        span = 1 + sum((n - 1) * s for n, s in zip(x.shape, strides))
        if len(_layouts) > 4096:
            _layouts.clear()
        layout = _layouts[key] = reduce_layout(x.shape, strides, dims) + (span,)
    sizes, ins, outs, span = layout
    if x.flags.c_contiguous:
        flat = x.reshape(-1)
    else:
        flat = np.lib.stride_tricks.as_strided(x, (span,), (x.itemsize,))
    flat_out = out.reshape(-1)
    flat_out.fill(0)
    width = LANES[x.dtype]
    # (``pairs`` passed, not left to its default: the specialisation ``exported`` calls too)
    cascade_sum(flat, 0, flat_out, sizes, ins, outs, width, np.empty((LEVELS, ILP * width), x.dtype), 0)
    return out
