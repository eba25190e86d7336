"""SLEEF's float32 ``pow`` (u10), as ``Sleef_powf16_u10`` (which PyTorch's
``Vectorized<float>::pow`` calls): ``xpowf = expkf(logkf(|x|) * y)`` in double-float
arithmetic, with the AVX512 build's getexp/getmant and fused multiply-adds (ports of
src/libm/sleefsimdsp.c's logkf, expkf, vldexp and xpowf)."""
import numpy as np
from numba.extending import register_jitable

from .sleef import (_FOUR_THIRDS_F, _INF_F, _L2LF, _L2UF, _LN2F_HI, _LN2F_LO, _NAN_F, _ONE_F, _R_LN2F, _TWO_F,
                    _ZERO_F, F32)
from .sleef_arith import (_add2_ff, _add2_pf, _add2_pp, _add_fp, _add_pp, _div_pp, _mul_pf, _mul_pp, _squ_p,
                          f32_bits, f32_from_bits, fma)


_LOGKF_T = tuple(F32(c) for c in (0.240320354700088500976562, 0.285112679004669189453125,
                                  0.400007992982864379882812, 0.66666662693023681640625,
                                  3.69183861259614332084311e-09))
_LK0, _LK1, _LK2, _LKC_HI, _LKC_LO = _LOGKF_T
_EXPKF_C = tuple(F32(c) for c in (0.00136324646882712841033936, 0.00836596917361021041870117,
                                  0.0416710823774337768554688, 0.166665524244308471679688,
                                  0.499999850988388061523438))
_EK0, _EK1, _EK2, _EK3, _EK4 = _EXPKF_C
_TWO24_F, _TWO31_F, _NEG104_F = F32(16777216.0), F32(2147483648.0), F32(-104.0)
_FLT_MIN_F, _TWO64_F = F32(1.1754943508222875e-38), F32(18446744073709551616.0)


@register_jitable
def _logkf(d):
    """SLEEF's ``logkf``: log(d) as a double-float (d > 0, or inf)."""
    tiny = d < _FLT_MIN_F  # a subnormal: scaled by 2^64 first (AVX512's getexp/getmant are exact there too)
    d = d * _TWO64_F if tiny else d
    ie = ((f32_bits(d * _FOUR_THIRDS_F) >> np.int32(23)) & np.int32(0xff)) - np.int32(127)
    m = f32_from_bits(f32_bits(d) - (ie << np.int32(23)))  # getmant(d) in [0.75, 1.5)
    ie = ie - np.int32(64) if tiny else ie
    nh, nl = _add2_ff(-_ONE_F, m)
    dh, dl = _add2_ff(_ONE_F, m)
    xh, xl = _div_pp(nh, nl, dh, dl, _ONE_F)
    x2h, x2l = _squ_p(xh, xl)
    t = fma(_LK0, x2h, _LK1)
    t = fma(t, x2h, _LK2)
    sh, sl = _mul_pf(_LN2F_HI, _LN2F_LO, np.float32(ie))
    sh, sl = _add_pp(sh, sl, xh * _TWO_F, xl * _TWO_F)
    ah, al = _mul_pp(x2h, x2l, xh, xl)
    bh, bl = _mul_pf(x2h, x2l, t)
    bh, bl = _add2_pp(bh, bl, _LKC_HI, _LKC_LO)
    ph, pl = _mul_pp(ah, al, bh, bl)
    return _add_pp(sh, sl, ph, pl)


@register_jitable
def _ldexpf(x, q):
    """SLEEF's ``vldexp_vf_vf_vi2``: x * 2^q through four factors of the clamped exponent."""
    m = q >> 31
    m = (((m + q) >> 6) - m) << 4
    q = q - (m << 2)
    m = m + 127
    m = m if m > 0 else 0
    m = m if m < 255 else 255
    u = f32_from_bits(np.int32(m << 23))
    x = x * u * u * u * u
    return x * f32_from_bits(np.int32((q + 127) << 23))


@register_jitable
def _expkf(dh, dl):
    """SLEEF's ``expkf``: exp of a double-float, rounded to a float32."""
    u = (dh + dl) * _R_LN2F
    if abs(u) < _TWO31_F:
        fq = np.float32(np.rint(u))
        q = np.int64(fq)
    else:  # x86's conversion of an out-of-range (or nan) float: INT_MIN
        q = np.int64(-2147483648)
        fq = np.float32(-2147483648.0)
    sh, sl = _add2_pf(dh, dl, fq * -_L2UF)
    sh, sl = _add2_pf(sh, sl, fq * -_L2LF)
    s = sh + sl
    sh, sl = s, (sh - s) + sl
    u = fma(_EK0, sh, _EK1)
    u = fma(u, sh, _EK2)
    u = fma(u, sh, _EK3)
    u = fma(u, sh, _EK4)
    qh, ql = _squ_p(sh, sl)
    mh, ml = _mul_pf(qh, ql, u)
    th, tl = _add_pp(sh, sl, mh, ml)
    th, tl = _add_fp(_ONE_F, th, tl)
    u = _ldexpf(th + tl, q)
    return _ZERO_F if dh < _NEG104_F else u


@register_jitable
def powf_u10(x, y):
    """SLEEF's ``xpowf`` on float32s: ``Sleef_powf16_u10``."""
    ay = abs(y)
    yisint = ay > _TWO24_F or (ay < _TWO24_F and np.float32(np.trunc(y)) == y)
    yisodd = yisint and ay < _TWO24_F and (np.int64(np.trunc(y)) & 1) == 1
    lh, ll = _logkf(abs(x))
    ph, pl = _mul_pf(lh, ll, y)
    result = _expkf(ph, pl)
    result = _INF_F if result != result else result
    if not x > _ZERO_F:
        result = result * ((-_ONE_F if yisodd else _ONE_F) if yisint else _NAN_F)
    if ay == _INF_F:
        efx = abs(x) - _ONE_F
        efx = -efx if y < _ZERO_F else efx
        result = _ZERO_F if efx < _ZERO_F else (_ONE_F if efx == _ZERO_F else _INF_F)
    if abs(x) == _INF_F or x == _ZERO_F:
        negative_y = f32_bits(y) < np.int32(0)
        r = _ZERO_F if negative_y != (x == _ZERO_F) else _INF_F
        sign = x if yisodd else _ONE_F
        result = -r if f32_bits(sign) < np.int32(0) else r
    if x != x or y != y:
        result = _NAN_F
    if y == _ZERO_F or x == _ONE_F:
        result = _ONE_F
    return result
