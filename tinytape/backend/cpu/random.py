"""PyTorch's CPU random stream: the mt19937 engine and the draws each sampling op makes.

A generator's state is two arrays: ``mt`` (624 uint32 words) and ``ctr`` (int64
``[left, next]``, the engine's countdown to its next twist and its read position, as
PyTorch keeps them).  Each kernel draws in the order PyTorch's CPU kernels do, element
by element, and transforms as they do: ``uniform_real`` keeps the low 24 (float32), 53
(float64), 11 (float16) or 8 (bfloat16) bits of one 32-bit draw (64-bit for float64) and
scales; a product-plus-sum in PyTorch's kernels is one fused multiply-add (the compiler
contracts it on every AVX2/AVX512 build), so it is one here too.  ``math.log``/``cos``/
``sin``/``log1p`` in these kernels call the C library, as PyTorch's scalar code does; the
vectorised float32 normal fill reimplements the cephes-style ``log256_ps``/``sincos256_ps``
PyTorch uses there (avx_mathfun.h), operation by operation.
"""
import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_JIT = dict(nogil=True, cache=True, error_model="numpy")
N, M = 624, 397


@intrinsic
def fma(typingctx, a, b, c):
    """a * b + c rounded once (LLVM's fma intrinsic: the FMA instruction where there is one)."""
    if not (a == b == c and a in (types.float32, types.float64)):
        return None

    def codegen(context, builder, signature, args):
        kind = ir.FloatType() if signature.args[0] == types.float32 else ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [kind], ir.FunctionType(kind, [kind] * 3))
        return builder.call(fn, args)
    return a(a, a, a), codegen


@intrinsic
def _bits(typingctx, x):
    """The bits of a float32 as an int32."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.int32(types.float32), codegen


@intrinsic
def _from_bits(typingctx, x):
    """The float32 whose bits are the int32 ``x``."""
    if x != types.int32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


@njit(**_JIT)
def seed(mt, ctr, value):
    """PyTorch's ``mt19937(seed)``: the low 32 bits of ``value`` through Knuth's initialiser."""
    if mt.shape[0] != N or ctr.shape[0] != 2:
        raise IndexError("manual_seed: a generator's state is 624 words and two counters")
    x = value & 0xFFFFFFFF
    mt[0] = np.uint32(x)
    for j in range(1, N):
        x = (1812433253 * (x ^ (x >> 30)) + j) & 0xFFFFFFFF
        mt[j] = np.uint32(x)
    ctr[0] = 1
    ctr[1] = 0


@njit(inline="always", **_JIT)
def _twist(mt):
    for i in range(N):
        y = (np.int64(mt[i]) & 0x80000000) | (np.int64(mt[(i + 1) % N]) & 0x7FFFFFFF)
        v = np.int64(mt[(i + M) % N]) ^ (y >> 1)
        if y & 1:
            v ^= 0x9908B0DF
        mt[i] = np.uint32(v)


@njit(inline="always", **_JIT)
def _check(mt, ctr, op):
    if mt.shape[0] != N or ctr.shape[0] != 2 or not (1 <= ctr[0] <= N) or not (0 <= ctr[1] <= N) \
            or (ctr[1] == N and ctr[0] != 1):  # a read at ``next`` comes only after a twist
        raise IndexError("random: the generator's mt19937 state is corrupt (left/next out of range)")


@njit(inline="always", **_JIT)
def next32(mt, ctr):
    """One 32-bit draw (as an int64 in [0, 2**32))."""
    ctr[0] -= 1
    if ctr[0] == 0:
        _twist(mt)
        ctr[0] = N
        ctr[1] = 0
    y = np.int64(mt[ctr[1]])
    ctr[1] += 1
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C5680
    y ^= (y << 15) & 0xEFC60000
    y ^= y >> 18
    return y


@njit(inline="always", **_JIT)
def next64(mt, ctr):
    """``random64()``: the first 32-bit draw is the high word."""
    hi = next32(mt, ctr)
    lo = next32(mt, ctr)
    return (np.uint64(hi) << np.uint64(32)) | np.uint64(lo)


@njit(inline="always", **_JIT)
def _unit64(mt, ctr):
    return np.float64(next64(mt, ctr) & np.uint64(0x1FFFFFFFFFFFFF)) * (1.0 / 9007199254740992.0)


@njit(**_JIT)
def draw32(mt, ctr, out):
    """Raw 32-bit draws into an int64 array."""
    _check(mt, ctr, "random")
    for i in range(out.shape[0]):
        out[i] = next32(mt, ctr)


@njit(**_JIT)
def draw64(mt, ctr, out):
    """Raw 64-bit draws into a uint64 array."""
    _check(mt, ctr, "random")
    for i in range(out.shape[0]):
        out[i] = next64(mt, ctr)


@njit(**_JIT)
def uniform32(mt, ctr, out, digits, low, span):
    """``uniform_real_distribution<T>`` for float32/float16/bfloat16 (``digits`` = 24, 11, 8):
    x = (draw & (2**digits - 1)) / 2**digits in float32, then fma(x, span, low)."""
    _check(mt, ctr, "uniform_")
    mask = (np.int64(1) << digits) - 1
    scale = np.float32(1.0 / (1 << digits))
    for i in range(out.shape[0]):
        x = np.float32(next32(mt, ctr) & mask) * scale
        out[i] = fma(x, span, low)


@njit(**_JIT)
def uniform64(mt, ctr, out, low, span):
    """``uniform_real_distribution<double>``: 53 bits of a 64-bit draw."""
    _check(mt, ctr, "uniform_")
    for i in range(out.shape[0]):
        out[i] = fma(_unit64(mt, ctr), span, low)


@njit(**_JIT)
def normal_scalar(mt, ctr, cache, out, mean, std):
    """``normal_distribution<double>`` element by element (tensors under 16 elements, or not
    contiguous): Box-Muller on two 53-bit uniforms, the sine half kept in ``cache``
    (``[valid, value]``) for the next element, whatever op draws it."""
    _check(mt, ctr, "normal_")
    if cache.shape[0] != 2:
        raise IndexError("normal_: the generator's normal cache must hold two values")
    for i in range(out.shape[0]):
        if cache[0] != 0.0:
            cache[0] = 0.0
            out[i] = fma(cache[1], std, mean)
            continue
        u1 = _unit64(mt, ctr)
        u2 = _unit64(mt, ctr)
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        cache[0] = 1.0
        cache[1] = r * math.sin(theta)
        out[i] = fma(r * math.cos(theta), std, mean)


@njit(**_JIT)
def normal_fill64(mt, ctr, out, mean, std):
    """``normal_fill<double>`` (16 elements or more, contiguous): all uniforms first, then
    Box-Muller on blocks of 16 (first 8 with last 8); a ragged tail redraws the last 16."""
    _check(mt, ctr, "normal_")
    n = out.shape[0]
    if n < 16:
        raise IndexError("normal_: the block fill needs at least 16 elements")
    for i in range(n):
        out[i] = _unit64(mt, ctr)
    for i in range(0, n - 15, 16):
        _box_muller16_64(out, i, mean, std)
    if n % 16 != 0:
        for i in range(n - 16, n):
            out[i] = _unit64(mt, ctr)
        _box_muller16_64(out, n - 16, mean, std)


@njit(inline="always", **_JIT)
def _box_muller16_64(d, at, mean, std):
    for j in range(at, at + 8):
        u1 = 1.0 - d[j]
        u2 = d[j + 8]
        radius = math.sqrt(-2.0 * math.log(u1))
        theta = 2.0 * math.pi * u2
        d[j] = fma(radius * math.cos(theta), std, mean)
        d[j + 8] = fma(radius * math.sin(theta), std, mean)


# float32 constants of avx_mathfun.h (cephes)
_F = np.float32
_ONE, _HALF, _ZERO = _F(1.0), _F(0.5), _F(0.0)
_SQRTHF = _F(0.707106781186547524)
_LOG_P = (_F(7.0376836292E-2), _F(-1.1514610310E-1), _F(1.1676998740E-1), _F(-1.2420140846E-1),
          _F(1.4249322787E-1), _F(-1.6668057665E-1), _F(2.0000714765E-1), _F(-2.4999993993E-1),
          _F(3.3333331174E-1))
_LOG_Q1, _LOG_Q2 = _F(-2.12194440e-4), _F(0.693359375)
_DP1, _DP2, _DP3 = _F(-0.78515625), _F(-2.4187564849853515625e-4), _F(-3.77489497744594108e-8)
_SIN_P = (_F(-1.9515295891E-4), _F(8.3321608736E-3), _F(-1.6666654611E-1))
_COS_P = (_F(2.443315711809948E-005), _F(-1.388731625493765E-003), _F(4.166664568298827E-002))
_FOPI = _F(1.27323954473516)
_TWO_PI = _F(2.0 * math.pi)
_MIN_NORM = _F(1.17549435e-38)
_P0, _P1, _P2, _P3, _P4, _P5, _P6, _P7, _P8 = _LOG_P
_S0, _S1, _S2 = _SIN_P
_C0, _C1, _C2 = _COS_P


@njit(inline="always", **_JIT)
def log_ps(x):
    """avx_mathfun's ``log256_ps`` for one positive float32 lane (its adds after products
    fused as the compiler fuses them)."""
    x = max(x, _MIN_NORM)
    bits = np.int64(_bits(x))
    e = np.float32((bits >> 23) - 0x7F) + _ONE
    x = _from_bits(np.int32((bits & ~0x7F800000) | 0x3F000000))
    small = x < _SQRTHF  # as the AVX code: masks, no branch (so that LLVM vectorises lanes)
    e = e - (_ONE if small else _ZERO)
    x = (x - _ONE) + (x if small else _ZERO)
    z = x * x
    y = _P0
    y = fma(y, x, _P1)
    y = fma(y, x, _P2)
    y = fma(y, x, _P3)
    y = fma(y, x, _P4)
    y = fma(y, x, _P5)
    y = fma(y, x, _P6)
    y = fma(y, x, _P7)
    y = fma(y, x, _P8)
    y = y * x
    y = fma(y, z, e * _LOG_Q1)
    y = fma(-z, _HALF, y)
    return fma(e, _LOG_Q2, x + y)


@njit(inline="always", **_JIT)
def sincos_ps(x):
    """avx_mathfun's ``sincos256_ps`` for one non-negative float32 lane: (sin, cos)."""
    j = (np.int32(x * _FOPI) + 1) & ~1
    y = np.float32(j)
    x = fma(y, _DP1, x)
    x = fma(y, _DP2, x)
    x = fma(y, _DP3, x)
    z = x * x
    c = fma(fma(_C0, z, _C1), z, _C2)
    c = fma(c * z, z, -(z * _HALF)) + _ONE
    s = fma(fma(_S0, z, _S1), z, _S2)
    s = fma(s * z, x, x)
    first = (j & 2) == 0
    sin = s if first else c
    cos = c if first else s
    sin = sin * np.float32(1 - ((j >> 1) & 2))  # negated where j & 4
    cos = cos * np.float32(((((j - 2) >> 1) & 2)) - 1)  # negated where (j - 2) & 4 == 0
    return sin, cos


@njit(**_JIT)
def normal_fill32(mt, ctr, out, mean, std):
    """``normal_fill_AVX2`` (float32, 16 elements or more, contiguous)."""
    _check(mt, ctr, "normal_")
    n = out.shape[0]
    if n < 16:
        raise IndexError("normal_: the block fill needs at least 16 elements")
    scale = np.float32(1.0 / (1 << 24))
    for i in range(n):
        out[i] = np.float32(next32(mt, ctr) & 0xFFFFFF) * scale
    for i in range(0, n - 15, 16):
        _box_muller16_32(out, i, mean, std)
    if n % 16 != 0:
        for i in range(n - 16, n):
            out[i] = np.float32(next32(mt, ctr) & 0xFFFFFF) * scale
        _box_muller16_32(out, n - 16, mean, std)


@njit(inline="always", **_JIT)
def _box_muller16_32(d, at, mean, std):
    for j in range(at, at + 8):
        u1 = _ONE - d[j]
        u2 = d[j + 8]
        radius = math.sqrt(np.float32(-2.0) * log_ps(u1))
        sin, cos = sincos_ps(_TWO_PI * u2)
        d[j] = fma(radius * cos, std, mean)
        d[j + 8] = fma(radius * sin, std, mean)


@njit(**_JIT)
def exponential(mt, ctr, out, lambd):
    """``exponential_distribution<double>``: -1/lambda * log1p(-u), u a 53-bit uniform."""
    _check(mt, ctr, "exponential_")
    for i in range(out.shape[0]):
        out[i] = -1.0 / lambd * math.log1p(-_unit64(mt, ctr))


@njit(**_JIT)
def bernoulli64(mt, ctr, p, out):
    """``bernoulli_distribution<double>`` per element: u (53 bits) < p."""
    _check(mt, ctr, "bernoulli_")
    if p.shape[0] != out.shape[0] and p.shape[0] != 1:
        raise IndexError("bernoulli_: p must have one value or one per element")
    step = 1 if p.shape[0] != 1 else 0
    for i in range(out.shape[0]):
        out[i] = _unit64(mt, ctr) < p[i * step]


@njit(**_JIT)
def bernoulli32(mt, ctr, p, out):
    """``bernoulli_distribution<float>`` (a float32 p tensor): u (24 bits, float32) < p."""
    _check(mt, ctr, "bernoulli_")
    if p.shape[0] != out.shape[0]:
        raise IndexError("bernoulli_: p must have one value per element")
    scale = np.float32(1.0 / (1 << 24))
    for i in range(out.shape[0]):
        out[i] = np.float32(next32(mt, ctr) & 0xFFFFFF) * scale < p[i]


@njit(**_JIT)
def randint_from_to(mt, ctr, out, span, base, wide):
    """``uniform_int_from_to``: (draw % span) + base, a 64-bit draw when ``wide``."""
    _check(mt, ctr, "random_")
    s = np.uint64(span)
    for i in range(out.shape[0]):
        if wide:
            out[i] = np.int64(next64(mt, ctr) % s) + base
        else:
            out[i] = np.int64(np.uint64(next32(mt, ctr)) % s) + base


@njit(**_JIT)
def randperm_small(mt, ctr, out):
    """``randperm`` for n < 2**32 / 20: swap i with i + draw % (n - i)."""
    _check(mt, ctr, "randperm")
    n = out.shape[0]
    for i in range(n):
        out[i] = i
    for i in range(n - 1):
        z = next32(mt, ctr) % (n - i)
        if not 0 <= z + i < n:
            raise IndexError("randperm: swap index out of range")
        out[i], out[z + i] = out[z + i], out[i]


@njit(**_JIT)
def randperm_large(mt, ctr, out):
    """``randperm`` for larger n: the inside-out Fisher-Yates with 64-bit draws."""
    _check(mt, ctr, "randperm")
    for i in range(out.shape[0]):
        z = np.int64(next64(mt, ctr) % np.uint64(i + 1))
        if not 0 <= z <= i:
            raise IndexError("randperm: swap index out of range")
        out[i] = out[z]
        out[z] = i


@njit(**_JIT)
def multinomial_replacement(mt, ctr, cum, out):
    """Sampling with replacement from rows of a normalised cumulative distribution ``cum``
    (n_dist, n_categories): a 53-bit uniform per sample, the first slot whose cumulative
    value is not below it (binary search, the last slot pinned to 1)."""
    _check(mt, ctr, "multinomial")
    n_dist, n_cat = cum.shape
    if out.shape[0] != n_dist:
        raise IndexError("multinomial: one row of samples per distribution")
    for i in range(n_dist):
        cum[i, n_cat - 1] = 1
        for j in range(out.shape[1]):
            u = _unit64(mt, ctr)
            left, right = 0, n_cat
            while right - left > 0:
                mid = left + (right - left) // 2
                if cum[i, mid] < u:
                    left = mid + 1
                else:
                    right = mid
            out[i, j] = left

