"""The arithmetic under ``sleef.py``'s functions: a fused multiply-add (LLVM's ``fma`` in
compiled code, exact in plain Python), bit casts between floats and integers, and SLEEF's
double-float (float32) and double-double (float64) operations (src/common/df.h, dd.h),
and its two-factor ldexp."""
import math
from fractions import Fraction

import numpy as np
from numba import types
from numba.extending import intrinsic, overload, register_jitable

F32, F64 = np.float32, np.float64


# ---- primitives: fused multiply-add and bit casts, in Python and as LLVM instructions

def fma(a, b, c):
    """a * b + c with one rounding (LLVM's ``fma``); plain-Python version."""
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
        with np.errstate(all="ignore"):
            r = F64(a) * F64(b) + F64(c)  # inf/nan: no rounding question
        return F32(r) if isinstance(a, F32) else r
    exact = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    try:
        wide = float(exact)  # correctly rounded
    except OverflowError:
        wide = math.inf if exact > 0 else -math.inf
    if isinstance(a, F32):
        r = F32(wide)  # float(Fraction) rounds correctly to float64; then to float32:
        # a double rounding is wrong only at a float32 tie, decided here from the exact value
        lo, hi = np.nextafter(r, F32(-np.inf)), np.nextafter(r, F32(np.inf))
        for cand in (lo, hi):
            if math.isfinite(r) and math.isfinite(cand) \
                    and abs(Fraction(float(cand)) - exact) < abs(Fraction(float(r)) - exact):
                r = cand
        if exact == 0 and r == 0:
            r = F32(float(a) * float(b) + float(c))  # the sign of a zero sum
        return r
    return F64(wide if wide != 0 else float(a) * float(b) + float(c))  # (numpy's float: 1 / 0 is inf, not an error)


@intrinsic
def _fma_llvm(typingctx, a, b, c):
    def codegen(context, builder, signature, args):
        return builder.fma(*args)
    return a(a, a, a), codegen


@overload(fma)
def _fma_overload(a, b, c):
    if isinstance(a, types.Float) and a == b == c:
        return lambda a, b, c: _fma_llvm(a, b, c)


def f32_from_bits(i):
    return np.array(i, np.int32).view(F32)[()]


def f64_from_bits(i):
    return np.array(i, np.int64).view(F64)[()]


def f64_bits(x):
    return np.array(x, F64).view(np.int64)[()]


def f32_bits(x):
    return np.array(x, F32).view(np.int32)[()]


def _bitcast(to):
    @intrinsic
    def cast(typingctx, x):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(to))
        return to(x), codegen
    return cast


_i32_to_f32, _i64_to_f64 = _bitcast(types.float32), _bitcast(types.float64)
_f32_to_i32, _f64_to_i64 = _bitcast(types.int32), _bitcast(types.int64)


@overload(f32_from_bits)
def _f32_from_bits(i):
    return lambda i: _i32_to_f32(np.int32(i))


@overload(f64_from_bits)
def _f64_from_bits(i):
    return lambda i: _i64_to_f64(np.int64(i))


@overload(f64_bits)
def _f64_bits(x):
    return lambda x: _f64_to_i64(np.float64(x))


@overload(f32_bits)
def _f32_bits(x):
    return lambda x: _f32_to_i32(np.float32(x))


# ---- SLEEF's double-float (float32) and double-double (float64) arithmetic (src/common/df.h,
# dd.h, their FMA versions): a value is a pair (hi, lo); the same code serves both types

@register_jitable
def _add_ff(x, y):  # dfadd_vf2_vf_vf
    s = x + y
    return s, (x - s) + y


@register_jitable
def _add2_ff(x, y):  # dfadd2_vf2_vf_vf
    s = x + y
    v = s - x
    return s, (x - (s - v)) + (y - v)


@register_jitable
def _add_pf(xh, xl, y):  # dfadd_vf2_vf2_vf
    s = xh + y
    return s, ((xh - s) + y) + xl


@register_jitable
def _add2_pf(xh, xl, y):  # dfadd2_vf2_vf2_vf
    s = xh + y
    v = s - xh
    return s, ((xh - (s - v)) + (y - v)) + xl


@register_jitable
def _add_fp(x, yh, yl):  # dfadd_vf2_vf_vf2
    s = x + yh
    return s, ((x - s) + yh) + yl


@register_jitable
def _add_pp(xh, xl, yh, yl):  # dfadd_vf2_vf2_vf2 (|x| >= |y|)
    s = xh + yh
    return s, (((xh - s) + yh) + xl) + yl


@register_jitable
def _add2_pp(xh, xl, yh, yl):  # dfadd2_vf2_vf2_vf2
    s = xh + yh
    v = s - xh
    return s, ((xh - (s - v)) + (yh - v)) + (xl + yl)


@register_jitable
def _mul_pf(xh, xl, y):  # dfmul_vf2_vf2_vf
    s = xh * y
    return s, fma(xl, y, fma(xh, y, -s))


@register_jitable
def _mul_pp(xh, xl, yh, yl):  # dfmul_vf2_vf2_vf2
    s = xh * yh
    return s, fma(xh, yl, fma(xl, yh, fma(xh, yh, -s)))


@register_jitable
def _squ_p(xh, xl):  # dfsqu_vf2_vf2
    s = xh * xh
    return s, fma(xh + xh, xl, fma(xh, xh, -s))


@register_jitable
def _div_pp(nh, nl, dh, dl, one):  # dfdiv_vf2_vf2_vf2
    t = one / dh
    s = nh * t
    u = fma(t, nh, -s)
    v = fma(-dl, t, fma(-dh, t, one))
    return s, fma(s, v, fma(nl, t, u))


@register_jitable
def _ldexp2f(x, q):  # vldexp2_vf_vf_vi2: x * 2^q in two factors
    half = q >> np.int32(1)
    return x * f32_from_bits((half + np.int32(0x7f)) << np.int32(23)) \
        * f32_from_bits((q - half + np.int32(0x7f)) << np.int32(23))


@register_jitable
def _ldexp2d(x, q):
    half = q >> 1
    return x * f64_from_bits((half + 0x3ff) << 52) * f64_from_bits((q - half + 0x3ff) << 52)


@register_jitable
def _rec_p(dh, dl, one):  # dfrec_vf2_vf2 / ddrec_vd2_vd2
    s = one / dh
    return s, s * fma(-dl, s, fma(-dh, s, one))
