"""SLEEF's float64 ``pow`` (u10), as ``Sleef_powd8_u10`` (which PyTorch's
``Vectorized<double>::pow`` calls): ``xpow = expk(logk(|x|) * y)`` in double-double
arithmetic, with the AVX512 build's getexp/getmant and fused multiply-adds (ports of
src/libm/sleefsimddp.c's logk, expk and xpow; SLEEF's POLY macros are Estrin's scheme,
each step one fma)."""
import math

import numpy as np
from numba.extending import register_jitable

from .sleef import _L2L, _L2U, _R_LN2
from .sleef_arith import (_add2_ff, _add2_pf, _add_fp, _add_pp, _div_pp, _mul_pf, _mul_pp, _squ_p, f64_bits,
                          f64_from_bits, fma)

_DBL_MIN, _TWO64 = 2.2250738585072014e-308, 18446744073709551616.0
_LN2_HI, _LN2_LO = 0.693147180559945286226764, 2.319046813846299558417771e-17
_C_HI, _C_LO = 0.666666666666666629659233, 3.80554962542412056336616e-17
_TWO53 = 9007199254740992.0


@register_jitable
def _logk(d):
    """SLEEF's ``logk``: log(d) as a double-double (d > 0, or inf)."""
    tiny = d < _DBL_MIN  # a subnormal: scaled by 2^64 first (AVX512's getexp/getmant are exact there too)
    d = d * _TWO64 if tiny else d
    e = ((f64_bits(d * (1.0 / 0.75)) >> 52) & 0x7ff) - 1023
    m = f64_from_bits(f64_bits(d) - (e << 52))  # getmant(d) in [0.75, 1.5)
    e = e - 64 if tiny else e
    if d == math.inf:
        e, m = 1024, 1.0
    nh, nl = _add2_ff(-1.0, m)
    dh, dl = _add2_ff(1.0, m)
    xh, xl = _div_pp(nh, nl, dh, dl, 1.0)
    x2h, x2l = _squ_p(xh, xl)
    x4 = x2h * x2h
    x8 = x4 * x4
    x16 = x8 * x8
    # POLY9(x2, x4, x8, x16, c8..c0) = fma(x16, c8, POLY8(...))
    p76 = fma(x2h, 0.103239680901072952701192, 0.117754809412463995466069)
    p54 = fma(x2h, 0.13332981086846273921509, 0.153846227114512262845736)
    p32 = fma(x2h, 0.181818180850050775676507, 0.222222222230083560345903)
    p10 = fma(x2h, 0.285714285714249172087875, 0.400000000000000077715612)
    t = fma(x16, 0.116255524079935043668677, fma(x8, fma(x4, p76, p54), fma(x4, p32, p10)))
    sh, sl = _mul_pf(_LN2_HI, _LN2_LO, float(e))
    sh, sl = _add_pp(sh, sl, xh * 2.0, xl * 2.0)
    xh, xl = _mul_pp(x2h, x2l, xh, xl)
    ch, cl = _mul_pp(xh, xl, _C_HI, _C_LO)
    sh, sl = _add_pp(sh, sl, ch, cl)
    xh, xl = _mul_pp(x2h, x2l, xh, xl)
    th, tl = _mul_pf(xh, xl, t)
    return _add_pp(sh, sl, th, tl)


@register_jitable
def _expk(dh, dl):
    """SLEEF's ``expk``: exp of a double-double, rounded to a float64."""
    u = (dh + dl) * _R_LN2
    dq = np.rint(u)
    q = np.int64(dq) if abs(dq) < 2147483648.0 else np.int64(-2147483648)  # x86's out-of-range conversion
    sh, sl = _add2_pf(dh, dl, dq * -_L2U)
    sh, sl = _add2_pf(sh, sl, dq * -_L2L)
    s = sh + sl
    sh, sl = s, (sh - s) + sl
    s2 = sh * sh
    s4 = s2 * s2
    s8 = s4 * s4
    p98 = fma(sh, 2.51069683420950419527139e-08, 2.76286166770270649116855e-07)
    p76 = fma(sh, 2.75572496725023574143864e-06, 2.48014973989819794114153e-05)
    p54 = fma(sh, 0.000198412698809069797676111, 0.0013888888939977128960529)
    p32 = fma(sh, 0.00833333333332371417601081, 0.0416666666665409524128449)
    p10 = fma(sh, 0.166666666666666740681535, 0.500000000000000999200722)
    u = fma(s8, p98, fma(s4, fma(s2, p76, p54), fma(s2, p32, p10)))
    th, tl = _add_fp(1.0, sh, sl)
    qh, ql = _squ_p(sh, sl)
    mh, ml = _mul_pf(qh, ql, u)
    th, tl = _add_pp(th, tl, mh, ml)
    u = th + tl
    half = q >> 1
    u = u * f64_from_bits((half + 0x3ff) << 52) * f64_from_bits((q - half + 0x3ff) << 52)
    return 0.0 if dh < -1000.0 else u


@register_jitable
def powd_u10(x, y):
    """SLEEF's ``xpow`` on float64s: ``Sleef_powd8_u10``."""
    ay = abs(y)
    yisint = ay >= _TWO53 or np.trunc(y) == y
    yisodd = yisint and ay < _TWO53 and (np.int64(np.trunc(y)) & 1) == 1
    lh, ll = _logk(abs(x))
    dh, dl = _mul_pf(lh, ll, y)
    result = _expk(dh, dl)
    result = math.inf if dh > 709.78271114955742909217217426 else result
    if not x > 0.0:
        result = result * ((-1.0 if yisodd else 1.0) if yisint else math.nan)
    if ay == math.inf:
        efx = abs(x) - 1.0
        efx = -efx if y < 0.0 else efx
        result = 0.0 if efx < 0.0 else (1.0 if efx == 0.0 else math.inf)
    if abs(x) == math.inf or x == 0.0:
        negative_y = f64_bits(y) < 0
        r = 0.0 if negative_y != (x == 0.0) else math.inf
        sign = x if yisodd else 1.0
        result = -r if f64_bits(sign) < 0 else r
    if x != x or y != y:
        result = math.nan
    if y == 0.0 or x == 1.0:
        result = 1.0
    return result
