"""linspace, arange and logspace with PyTorch's CPU values, bit for bit.

PyTorch computes these in a fixed order, and the order decides the last bit:

- linspace: in the result's dtype, ``step = (end - start) / (steps - 1)``; the first half
  is ``start + step * i``, the second ``end - step * (steps - 1 - i)`` (symmetric, so both
  ends are exact).  On x86 with AVX2 the product and the sum are one fused multiply-add
  (float32, float64); float16 and bfloat16 round after each operation.  Integer results
  compute in float64 and truncate.
- arange: in the accumulate type (float64 for float32 and float64, float32 for float16
  and bfloat16), in 256-bit vectors: each vector's base is ``fma(step, i, start)``
  rounded to the dtype, its lanes ``fma(k, step, base)``; the tail that does not fill two
  vectors is ``fma(step, i, start)`` per element.  Work is split in chunks of 32768
  elements per thread (as ``at::parallel_for``), each chunk starting its own vectors.
- logspace: ``step = double(end - start) / (steps - 1)`` with the difference in the dtype,
  and ``pow(base, start + step * i)`` in float64 (from the end for the second half).
"""
import math
import os

import numpy as np

from . import _dtype

_GRAIN = 32768  # at::internal::GRAIN_SIZE
_VECTOR_BYTES = 32  # the 256-bit vectors PyTorch's range kernels run in


def _two_product(a, b):
    """``a * b`` as the rounded product and its exact error (Dekker), float64 arrays."""
    p = a * b
    split = 134217729.0  # 2**27 + 1
    t = split * a
    a_hi = t - (t - a)
    a_lo = a - a_hi
    t = split * b
    b_hi = t - (t - b)
    b_lo = b - b_hi
    return p, ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def fma64(a, b, c):
    """``a * b + c`` rounded once, in float64 (numpy has no fused multiply-add)."""
    a, b, c = (np.asarray(x, np.float64) for x in np.broadcast_arrays(a, b, c))
    p, err = _two_product(a, b)
    s = p + c
    v = s - p
    return s + (((p - (s - v)) + (c - v)) + err)


def _fma32(a, b, c):
    """float32 ``a * b + c`` rounded once: the product of two float32 values is exact in float64."""
    return (np.asarray(a, np.float64) * np.asarray(b, np.float64) + np.asarray(c, np.float64)).astype(np.float32)


def _round(x, np_dtype):
    """Round to ``np_dtype`` as PyTorch rounds a float to a 16-bit float (through float32)."""
    return _dtype.host_cast(np.asarray(x, np.float32), np_dtype)


def _scalar_to(value, dtype):
    """A Python number as PyTorch's ``Scalar.to<scalar_t>()``: half types through float32."""
    if dtype.is_floating_point:
        if dtype.np.itemsize == 2:
            return _round(np.float32(value), dtype.np)
        return dtype.np.type(value)
    if dtype.np == np.bool_:
        return np.bool_(value)
    info = np.iinfo(dtype.np)
    low = -info.max if info.min == 0 else info.min  # c10 lets a negative number wrap into an unsigned type
    if not low <= value <= info.max:
        raise RuntimeError(f"value cannot be converted to type {_C_NAMES.get(dtype.name, dtype.name)} without overflow")
    return np.array(math.trunc(value), np.int64).astype(dtype.np)[()]  # wrapped, as a C conversion


_C_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "int64": "int64_t"}


def linspace(start, end, steps, dtype):
    steps = int(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    np_dtype = dtype.np
    if np_dtype == np.bool_:
        raise NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'")
    if steps == 0:
        return np.zeros(0, np_dtype)
    if steps == 1:
        return np.array([_scalar_to(start, dtype)], np_dtype)
    s, e = _scalar_to(start, dtype), _scalar_to(end, dtype)
    half = steps // 2
    low = np.arange(half, dtype=np.float64)
    high = (steps - 1 - np.arange(half, steps)).astype(np.float64)
    if not dtype.is_floating_point:  # step in float64, the sum truncated to the integer type
        step = (float(e) - float(s)) / (steps - 1)
        values = np.concatenate([fma64(step, low, float(s)), fma64(-step, high, float(e))])
        return np.trunc(values).astype(np_dtype)
    if np_dtype.itemsize == 2:  # each operation rounds to the 16-bit type
        divisor = np.float32(_round(np.float32(steps - 1), np_dtype))  # the count, too, in the 16-bit type
        step = _round(np.float32(_round(np.float32(e) - np.float32(s), np_dtype)) / divisor, np_dtype)
        step32 = np.float32(step)
        first = _round(np.float32(s) + _round(step32 * _round(low, np_dtype).astype(np.float32), np_dtype)
                       .astype(np.float32), np_dtype)
        second = _round(np.float32(e) - _round(step32 * _round(high, np_dtype).astype(np.float32), np_dtype)
                        .astype(np.float32), np_dtype)
        return np.concatenate([first, second])
    step = np_dtype.type(np_dtype.type(e - s) / np_dtype.type(steps - 1))
    if np_dtype == np.float32:
        first = _fma32(step, low.astype(np.float32), s)
        second = _fma32(-step, high.astype(np.float32), e)
    else:
        first = fma64(step, low, s)
        second = fma64(-step, high, e)
    return np.concatenate([first, second]).astype(np_dtype)


def _threads():
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


# asked once: a float arange inside a compiled function must not ask the operating system
# (a call a replay would not repeat: the trace refuses it)
_CPUS = _threads()


def _arange_chunk(out, begin, end, start, step, fma, lane, round_to, lanes):
    """PyTorch's vectorised loop over ``out[begin:end]``: pairs of vectors of ``lanes``
    elements, then the tail one element at a time."""
    n = end - begin
    pairs = max(n // (2 * lanes), 0)
    if pairs:
        bases_at = begin + np.arange(2 * pairs) * lanes
        bases = round_to(fma(step, bases_at.astype(np.float64), start)).astype(np.float64)
        k = np.arange(lanes, dtype=np.float64)
        block = lane(k[None, :], step, bases[:, None])
        out[begin:begin + 2 * pairs * lanes] = round_to(block).reshape(-1)
    tail = begin + 2 * pairs * lanes
    if tail < end:
        out[tail:end] = round_to(fma(step, np.arange(tail, end, dtype=np.float64), start))


def arange(start, end, step, dtype):
    np_dtype = dtype.np
    if np_dtype == np.bool_:
        raise NotImplementedError("\"arange_cpu\" not implemented for 'Bool'")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if not ((step > 0 and end >= start) or (step < 0 and end <= start)):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if all(isinstance(v, int) for v in (start, end, step)):  # exactly, as for int64 in PyTorch
        size = -((start - end) // step)
    else:
        size = math.ceil((float(end) - float(start)) / float(step))
    if size < 0:
        raise RuntimeError("invalid size, possible overflow?")
    if not dtype.is_floating_point:
        xs, xt = math.trunc(start), math.trunc(step)
        return (xs + xt * np.arange(size, dtype=np.int64)).astype(np_dtype)
    out = np.empty(size, np_dtype)
    if np_dtype.itemsize == 2:  # accumulate in float32
        acc_start, acc_step = np.float32(start), np.float32(step)
        fma = _fma32
        if np_dtype is _dtype.bfloat16.np:  # bfloat16's vector lanes multiply, then add
            lane = lambda k, step, base: np.float32(step) * k.astype(np.float32) + base.astype(np.float32)  # noqa: E731
        else:
            lane = _fma32
        round_to = lambda x: _round(x, np_dtype)  # noqa: E731
    else:
        acc_start, acc_step = float(start), float(step)
        fma = lane = fma64
        round_to = lambda x: np.asarray(x).astype(np_dtype)  # noqa: E731
    lanes = _VECTOR_BYTES // np_dtype.itemsize
    tasks = min(_CPUS, -(-size // _GRAIN)) if size else 0
    chunk = -(-size // tasks) if tasks else 0
    for t in range(tasks):
        _arange_chunk(out, t * chunk, min((t + 1) * chunk, size), acc_start, acc_step, fma, lane, round_to, lanes)
    return out


def _pow(base, exponent):
    try:
        return math.pow(base, exponent)
    except OverflowError:
        return math.inf if base > 0 or float(exponent).is_integer() and exponent % 2 == 0 else -math.inf
    except ValueError:  # a negative base to a fractional power
        return math.nan


def logspace(start, end, steps, base, dtype):
    steps = int(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    np_dtype = dtype.np
    if steps == 0:
        return np.zeros(0, np_dtype)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if steps == 1:
            value = np.array([_pow(float(base), float(start))])
            return _round(value, np_dtype) if np_dtype.itemsize == 2 else _dtype.host_cast(value, np_dtype)
        s, e = _scalar_to(start, dtype), _scalar_to(end, dtype)
        diff = _round(np.float32(e) - np.float32(s), np_dtype) if np_dtype.itemsize == 2 else e - s
        step = float(diff) / (steps - 1)
        half = steps // 2
        i = np.arange(steps, dtype=np.float64)
        exponent = np.concatenate([float(s) + step * i[:half], float(e) - step * (steps - 1 - i[half:])])
        # the C library's pow, as PyTorch calls it (numpy's power differs in the last bit for some bases)
        b = float(base)
        values = np.array([_pow(b, x) for x in exponent.tolist()], np.float64)
        if not dtype.is_floating_point:
            return np.trunc(values).astype(np_dtype)
        return _round(values, np_dtype) if np_dtype.itemsize == 2 else values.astype(np_dtype)
