"""Transcendental functions as PyTorch's CPU kernels compute them, one scalar definition for
eager and compiled CPU code.

PyTorch 2.14.1 on an x86 CPU (MKL build, AVX512 here) computes them two ways:

* ``torch.exp``, ``log``, ``tanh`` (and ``sin``, ``cos``, ``log2``, ...) call MKL's VML in
  its high-accuracy mode (``vmsExp``/``vmdExp``...: ``aten/src/ATen/cpu/vml.h``), checked
  bit for bit against MKL's functions for all sizes.  MKL's algorithms are not public; its
  float64 results are correctly rounded in every sample tried and its float32 ones nearly
  so, so ``exp``, ``log`` and ``tanh`` here compute the float32 result in float64 (a
  branch-free polynomial that LLVM vectorises) and round it once: the correctly rounded
  value, which MKL gives in ~99 % of elements (exp), 99.99 % (log), 99.85 % (tanh).  For
  float64 they call the C library (numba's ``math``), correctly rounded in practice.
* ``torch.sigmoid`` and ``silu`` use ``Vectorized<T>::exp``, which is SLEEF's
  ``Sleef_expf16_u10`` / ``Sleef_expd8_u10``: ``expf_u10`` and ``expd_u10`` below are ports
  of SLEEF's ``xexpf`` / ``xexp`` (src/libm/sleefsimdsp.c, sleefsimddp.c), with the fused
  multiply-adds of its AVX512/AVX2 builds, bit for bit equal to them.

The functions run as plain Python too (numpy scalars round as float32 arithmetic does),
which the tests use.  numba.cuda compiles the math-module versions instead
(``CUDA_VERSIONS``): PyTorch's CUDA kernels use CUDA's math library, not these.
"""
import math

import numpy as np
from numba import types
from numba.extending import overload, register_jitable

from .sleef_arith import (  # noqa: F401  (the arithmetic SLEEF's functions are written in)
    _add2_ff, _add2_pf, _add2_pp, _add_ff, _add_fp, _add_pf, _add_pp, _div_pp, _ldexp2d, _ldexp2f, _mul_pf,
    _mul_pp, _squ_p, f32_bits, f32_from_bits, f64_bits, f64_from_bits, fma)

F32, F64 = np.float32, np.float64


# ---- SLEEF's exp (u10), float32 and float64

_R_LN2F, _L2UF, _L2LF = F32(1.442695040888963407359924681001892137426645954152985934135449406931), \
    F32(0.693145751953125), F32(1.428606765330187045e-06)
_EXPF_C = tuple(F32(c) for c in (0.000198527617612853646278381, 0.00139304355252534151077271,
                                 0.00833336077630519866943359, 0.0416664853692054748535156,
                                 0.166666671633720397949219, 0.5))
_EF0, _EF1, _EF2, _EF3, _EF4, _EF5 = _EXPF_C
_ONE_F, _ZERO_F, _INF_F = F32(1.0), F32(0.0), F32(np.inf)
_RINT_F = F32(12582912.0)  # 1.5 * 2**23: x + it - it rounds |x| < 2**22 to an integer, ties to even
_EXPF_LO, _EXPF_HI = F32(-104.0), F32(100.0)


@register_jitable
def expf_u10(d):
    """SLEEF's ``xexpf`` on a float32: ``Sleef_expf16_u10``."""
    # q = rint(d / ln 2) from d clamped to the range that decides the result, so no
    # out-of-range float-to-int conversion happens (SLEEF's selects below set those lanes)
    dc = d if d > _EXPF_LO else _EXPF_LO  # nan: the low end (its lanes are nan all through)
    dc = dc if dc < _EXPF_HI else _EXPF_HI
    fq = (dc * _R_LN2F + _RINT_F) - _RINT_F
    q = np.int32(fq)
    s = fma(fq, -_L2UF, d)
    s = fma(fq, -_L2LF, s)
    u = _EF0
    u = fma(u, s, _EF1)
    u = fma(u, s, _EF2)
    u = fma(u, s, _EF3)
    u = fma(u, s, _EF4)
    u = fma(u, s, _EF5)
    u = _ONE_F + fma(s * s, u, s)
    half = q >> np.int32(1)
    u = u * f32_from_bits((half + np.int32(0x7f)) << np.int32(23)) \
        * f32_from_bits((q - half + np.int32(0x7f)) << np.int32(23))
    u = _ZERO_F if d < _EXPF_LO else u
    return _INF_F if _EXPF_HI < d else u


_R_LN2, _L2U, _L2L = 1.442695040888963407359924681001892137426645954152985934135449406931, \
    .69314718055966295651160180568695068359375, .28235290563031577122588448175013436025525412068e-12
_RINT = 6755399441055744.0  # 1.5 * 2**52
_LOG_DBL_MAX = 709.782712893384


@register_jitable
def expd_u10(d):
    """SLEEF's ``xexp`` on a float64: ``Sleef_expd8_u10``."""
    dc = d if d > -1100.0 else -1100.0
    dc = dc if dc < 800.0 else 800.0
    u = (dc * _R_LN2 + _RINT) - _RINT
    q = np.int64(u)
    s = fma(u, -_L2U, d)
    s = fma(u, -_L2L, s)
    s2 = s * s
    s4 = s2 * s2
    s8 = s4 * s4
    # SLEEF's POLY10: Estrin's scheme, each step one fma
    p98 = fma(s, +0.2081276378237164457e-8, +0.2511210703042288022e-7)
    p76 = fma(s, +0.2755762628169491192e-6, +0.2755723402025388239e-5)
    p54 = fma(s, +0.2480158687479686264e-4, +0.1984126989855865850e-3)
    p32 = fma(s, +0.1388888888914497797e-2, +0.8333333333314938210e-2)
    p10 = fma(s, +0.4166666666666602598e-1, +0.1666666666666669072e+0)
    p8 = fma(s4, fma(s2, p76, p54), fma(s2, p32, p10))
    u = fma(s8, p98, p8)
    u = fma(u, s, 0.5)
    u = fma(u, s, 1.0)
    u = fma(u, s, 1.0)
    half = q >> 1
    u = u * f64_from_bits((half + 0x3ff) << 52) * f64_from_bits((q - half + 0x3ff) << 52)
    u = math.inf if d > _LOG_DBL_MAX else u
    return 0.0 if d < -1000.0 else u


# ---- SLEEF's log1p (u10), float32 and float64 (the AVX512 branch: the exponent by getexp)

_LOG1PF_C = tuple(F32(c) for c in (0.3027294874, 0.3996108174, 0.6666694880, 1.0 / 0.75, 0.69314718246459960938,
                                   -1.904654323148236017e-09, 2.0, float.fromhex("0x1.2ced32p+126")))
_LP0, _LP1, _LP2, _FOUR_THIRDS_F, _LN2F_HI, _LN2F_LO, _TWO_F, _LOG1PF_BOUND = _LOG1PF_C
_NAN_F = F32(np.nan)


@register_jitable
def _logf_u1_large(d):
    """SLEEF's ``xlogf_u1`` for the d > 1e38 where log1pf calls it (normal numbers and inf)."""
    ie = ((f32_bits(d * _FOUR_THIRDS_F) >> np.int32(23)) & np.int32(0xff)) - np.int32(127)
    m = f32_from_bits(f32_bits(d) - (ie << np.int32(23)))  # getmant(d) in [0.75, 1.5)
    nh, nl = _add2_ff(-_ONE_F, m)
    dh, dl = _add2_ff(_ONE_F, m)
    xh, xl = _div_pp(nh, nl, dh, dl, _ONE_F)
    x2 = xh * xh
    t = fma(fma(_LP0, x2, _LP1), x2, _LP2)
    sh, sl = _mul_pf(_LN2F_HI, _LN2F_LO, np.float32(ie))
    sh, sl = _add_pp(sh, sl, xh * _TWO_F, xl * _TWO_F)
    sh, sl = _add_pf(sh, sl, x2 * xh * t)
    return d if d == _INF_F else sh + sl


@register_jitable(inline="always")  # (LLVM would call it: its loop unvectorised, 7x slower)
def log1pf_u10(d):
    """SLEEF's ``xlog1pf`` on a float32: ``Sleef_log1pf16_u10``."""
    dp1 = d + _ONE_F
    # getexp(dp1 / 0.75) from its exponent bits: dp1 is 0 (replaced below), a normal number
    # (d > -1) or infinite, whose 128 is the value SLEEF puts there
    ie = ((f32_bits(dp1 * _FOUR_THIRDS_F) >> np.int32(23)) & np.int32(0xff)) - np.int32(127)
    e = np.float32(ie)
    t = f32_from_bits(f32_bits(_ONE_F) + ((-ie) << np.int32(23)))
    m = fma(d, t, t - _ONE_F)
    sh, sl = _mul_pf(_LN2F_HI, _LN2F_LO, e)
    dh, dl = _add_ff(_TWO_F, m)
    xh, xl = _div_pp(m, _ZERO_F, dh, dl, _ONE_F)
    x2 = xh * xh
    t = fma(fma(_LP0, x2, _LP1), x2, _LP2)
    sh, sl = _add_pp(sh, sl, xh * _TWO_F, xl * _TWO_F)
    sh, sl = _add_pf(sh, sl, x2 * xh * t)
    r = sh + sl
    r = r if d <= _LOG1PF_BOUND else _logf_u1_large(d)
    r = _NAN_F if (_ONE_F < -d or d != d) else r  # d < -1, nan
    r = -_INF_F if d == -_ONE_F else r
    return d if d == _ZERO_F else r  # -0.0 stays -0.0


_LOG1P_C = (0.1532076988502701353e+0, 0.1525629051003428716e+0, 0.1818605932937785996e+0,
            0.2222214519839380009e+0, 0.2857142932794299317e+0, 0.3999999999635251990e+0,
            0.6666666666667333541e+0)
_LQ6, _LQ5, _LQ4, _LQ3, _LQ2, _LQ1, _LQ0 = _LOG1P_C
_LOG1P_BOUND = float.fromhex("0x1.c7b1f3cac7433p+1019")


@register_jitable
def _logd_u1_large(d):
    """SLEEF's ``xlog_u1`` for the d > 1e307 where log1p calls it (normal numbers and inf)."""
    ie = ((f64_bits(d * (1.0 / 0.75)) >> 52) & 0x7ff) - 1023
    m = f64_from_bits(f64_bits(d) - (ie << 52))
    nh, nl = _add2_ff(-1.0, m)
    dh, dl = _add2_ff(1.0, m)
    xh, xl = _div_pp(nh, nl, dh, dl, 1.0)
    x2 = xh * xh
    x4 = x2 * x2
    x8 = x4 * x4
    t = fma(x8, fma(x4, _LQ6, fma(x2, _LQ5, _LQ4)), fma(x4, fma(x2, _LQ3, _LQ2), fma(x2, _LQ1, _LQ0)))
    sh, sl = _mul_pf(0.693147180559945286226764, 2.319046813846299558417771e-17, np.float64(ie))
    sh, sl = _add_pp(sh, sl, xh * 2.0, xl * 2.0)
    sh, sl = _add_pf(sh, sl, x2 * xh * t)
    return d if d == math.inf else sh + sl


@register_jitable(inline="always")  # (LLVM would call it: its loop unvectorised, 7x slower)
def log1pd_u10(d):
    """SLEEF's ``xlog1p`` on a float64: ``Sleef_log1pd8_u10``."""
    dp1 = d + 1.0
    ie = ((f64_bits(dp1 * (1.0 / 0.75)) >> 52) & 0x7ff) - 1023
    e = np.float64(ie)
    t = f64_from_bits(f64_bits(1.0) + ((-ie) << 52))
    m = fma(d, t, t - 1.0)
    sh, sl = _mul_pf(0.693147180559945286226764, 2.319046813846299558417771e-17, e)
    dh, dl = _add_ff(2.0, m)
    xh, xl = _div_pp(m, 0.0, dh, dl, 1.0)
    x2 = xh * xh
    x4 = x2 * x2
    x8 = x4 * x4
    t = fma(x8, fma(x4, _LQ6, fma(x2, _LQ5, _LQ4)), fma(x4, fma(x2, _LQ3, _LQ2), fma(x2, _LQ1, _LQ0)))
    sh, sl = _add_pp(sh, sl, xh * 2.0, xl * 2.0)
    sh, sl = _add_pf(sh, sl, x2 * xh * t)
    r = sh + sl
    r = r if d <= _LOG1P_BOUND else _logd_u1_large(d)
    r = math.nan if (d < -1.0 or d != d) else r
    r = -math.inf if d == -1.0 else r
    return d if d == 0.0 else r


# ---- SLEEF's expm1 (u10), float32 and float64

_EM1F_C = tuple(F32(c) for c in (0.1980960224e-3, 0.1394256484e-2, 0.8333456703e-2, 0.4166637361e-1,
                                 0.166666659414234244790680580464e+0, 0.5, 88.72283172607421875,
                                 -16.635532333438687426013570))
_EMF0, _EMF1, _EMF2, _EMF3, _EMF4, _HALF_F, _EXPM1F_HI, _EXPM1F_LO = _EM1F_C


@register_jitable(inline="always")
def expk2f(a):
    """SLEEF's ``expk2f`` of the pair (a, 0): e^a as (hi, lo), for -104 <= a <= 100 (the
    lanes outside are replaced by its callers)."""
    ac = a if a > _EXPF_LO else _EXPF_LO  # (no out-of-range float-to-int conversion)
    ac = ac if ac < _EXPF_HI else _EXPF_HI
    fq = (ac * _R_LN2F + _RINT_F) - _RINT_F
    q = np.int32(fq)
    sh, sl = _add2_pf(a, _ZERO_F, fq * -_L2UF)
    sh, sl = _add2_pf(sh, sl, fq * -_L2LF)
    u = fma(fma(fma(_EMF0, sh, _EMF1), sh, _EMF2), sh, _EMF3)
    th, tl = _mul_pf(sh, sl, u)
    th, tl = _add2_pf(th, tl, _EMF4)
    th, tl = _mul_pp(sh, sl, th, tl)
    th, tl = _add2_pf(th, tl, _HALF_F)
    qh, ql = _squ_p(sh, sl)
    th, tl = _mul_pp(qh, ql, th, tl)
    th, tl = _add2_pp(sh, sl, th, tl)
    th, tl = _add_fp(_ONE_F, th, tl)
    return _ldexp2f(th, q), _ldexp2f(tl, q)


@register_jitable(inline="always")  # (LLVM would call it: its loop unvectorised, 7x slower)
def expm1f_u10(a):
    """SLEEF's ``xexpm1f`` on a float32: ``Sleef_expm1f16_u10``."""
    th, tl = expk2f(a)
    th, tl = _add2_pf(th, tl, -_ONE_F)
    x = th + tl
    x = _INF_F if a > _EXPM1F_HI else x
    x = -_ONE_F if a < _EXPM1F_LO else x
    return a if a == _ZERO_F else x  # -0.0 stays -0.0


_EXPK2_C = (+0.1602472219709932072e-9, +0.2092255183563157007e-8, +0.2505230023782644465e-7,
            +0.2755724800902135303e-6, +0.2755731892386044373e-5, +0.2480158735605815065e-4,
            +0.1984126984148071858e-3, +0.1388888888886763255e-2, +0.8333333333333347095e-2,
            +0.4166666666666669905e-1)
_K9, _K8, _K7, _K6, _K5, _K4, _K3, _K2, _K1, _K0 = _EXPK2_C


@register_jitable(inline="always")
def expk2d(a):
    """SLEEF's ``expk2`` of the pair (a, 0): e^a as (hi, lo), for -1100 <= a <= 800."""
    ac = a if a > -1100.0 else -1100.0
    ac = ac if ac < 800.0 else 800.0
    dq = (ac * _R_LN2 + _RINT) - _RINT
    q = np.int64(dq)
    sh, sl = _add2_pf(a, 0.0, dq * -_L2U)
    sh, sl = _add2_pf(sh, sl, dq * -_L2L)
    s2h, s2l = _squ_p(sh, sl)
    s4h, s4l = _squ_p(s2h, s2l)
    s8 = s4h * s4h
    x, x2, x4 = sh, s2h, s4h
    u = fma(s8, fma(x, _K9, _K8),
            fma(x4, fma(x2, fma(x, _K7, _K6), fma(x, _K5, _K4)), fma(x2, fma(x, _K3, _K2), fma(x, _K1, _K0))))
    th, tl = _mul_pf(sh, sl, +0.1666666666666666574e+0)
    th, tl = _add_fp(0.5, th, tl)
    th, tl = _mul_pp(th, tl, sh, sl)
    th, tl = _add_fp(1.0, th, tl)
    th, tl = _mul_pp(th, tl, sh, sl)
    th, tl = _add_fp(1.0, th, tl)
    uh, ul = _mul_pf(s4h, s4l, u)
    th, tl = _add_pp(th, tl, uh, ul)
    return _ldexp2d(th, q), _ldexp2d(tl, q)


@register_jitable(inline="always")  # (LLVM would call it: its loop unvectorised, 7x slower)
def expm1d_u10(a):
    """SLEEF's ``xexpm1`` on a float64: ``Sleef_expm1d8_u10``."""
    th, tl = expk2d(a)
    th, tl = _add2_pf(th, tl, -1.0)
    x = th + tl
    x = math.inf if a > 709.782712893383996732223 else x
    x = -1.0 if a < -36.736800569677101399113302437 else x
    return a if a == 0.0 else x


# ---- float32 exp, log, tanh as MKL's VML (torch.exp, torch.log, torch.tanh) nearly gives
# them: computed in float64 and rounded once

@register_jitable
def _exp_f32(x):
    return np.float32(expd_u10(np.float64(x)))


_LN2_HI, _LN2_LO = 0.6931471803691238, 1.9082149292705877e-10  # ln 2 = hi + lo, hi * e exact for |e| < 2**20
_LOG_C = tuple(2.0 / (2 * k + 1) for k in range(1, 12))  # log(m) = 2 atanh(t) = 2t + 2t^3/3 + ...
_L1, _L2, _L3, _L4, _L5, _L6, _L7, _L8, _L9, _L10, _L11 = _LOG_C
_FOUR_THIRDS = 4.0 / 3.0


@register_jitable
def _log_f32(x):
    """log of a float32 computed in float64 (its subnormals are normal there): x = 2^e m with
    m in [0.75, 1.5), log m = 2 atanh((m - 1) / (m + 1)) by its series, |t| <= 0.2."""
    d = np.float64(x)
    a = abs(d)  # (a negative d: nan below, and no 1 / 0 on the way)
    e = ((f64_bits(a * _FOUR_THIRDS) >> 52) & 0x7ff) - 1023
    m = f64_from_bits(f64_bits(a) - (e << 52))
    t = (m - 1.0) / (m + 1.0)
    t2 = t * t
    p = _L11
    p = p * t2 + _L10
    p = p * t2 + _L9
    p = p * t2 + _L8
    p = p * t2 + _L7
    p = p * t2 + _L6
    p = p * t2 + _L5
    p = p * t2 + _L4
    p = p * t2 + _L3
    p = p * t2 + _L2
    p = p * t2 + _L1
    fe = np.float64(e)
    r = fe * _LN2_HI + (2.0 * t + (fe * _LN2_LO + t * t2 * p))
    r = d if (d == math.inf or d != d) else r  # inf and nan stay themselves
    r = -math.inf if d == 0.0 else r
    r = math.nan if d < 0.0 else r
    return np.float32(r)


_T3, _T5, _T7, _T9, _T11 = -1.0 / 3.0, 2.0 / 15.0, -17.0 / 315.0, 62.0 / 2835.0, -1382.0 / 155925.0


@register_jitable
def _tanh_f32(x):
    """tanh of a float32 computed in float64: 1 - 2 / (e^2|x| + 1), below |x| = 0.02 its
    Taylor series (the subtraction would lose the digits there)."""
    d = np.float64(x)
    a = abs(d)
    big = 1.0 - 2.0 / (expd_u10(2.0 * a) + 1.0)
    a2 = a * a
    small = a + a * a2 * (_T3 + a2 * (_T5 + a2 * (_T7 + a2 * (_T9 + a2 * _T11))))
    r = small if a < 0.02 else big
    return np.float32(math.copysign(r, d))


# ---- the functions the op table calls: float32 and float64 versions chosen by the type

def _by_type(f32_version, f64_version):
    """A function of one float running ``f32_version`` on a float32 and ``f64_version``
    otherwise: in Python by the value's type, in numba by overloading on it."""
    def choose(x):
        return f32_version(x) if isinstance(x, np.float32) else f64_version(x)

    @overload(choose, inline="always")  # so the loops calling it vectorise
    def _choose(x):
        if x == types.float32:
            return lambda x: f32_version(x)
        return lambda x: f64_version(x)
    return choose


@register_jitable
def _exp_f64(x):
    return math.exp(x) if not x > 709.78 else math.inf  # (Python's math.exp raises on overflow)


@register_jitable
def _log_f64(x):
    if x > 0:
        return math.log(x) if x < math.inf else x
    return -math.inf if x == 0 else math.nan


@register_jitable
def _tanh_f64(x):
    return math.tanh(x)


@register_jitable
def _sigmoid_f32(x):
    # PyTorch's vectorised sigmoid: (1 + exp(0 - x)).reciprocal(), exp SLEEF's
    return _ONE_F / (expf_u10(_ZERO_F - x) + _ONE_F)


@register_jitable
def _sigmoid_f64(x):
    return 1.0 / (expd_u10(0.0 - x) + 1.0)


@register_jitable
def _silu_f32(x):
    return x / (_ONE_F + expf_u10(-x))  # PyTorch's: x / (1 + exp(-x))


@register_jitable
def _silu_f64(x):
    return x / (1.0 + expd_u10(-x))


exp, log, tanh, sigmoid, silu = (_by_type(f32, f64) for f32, f64 in (
    (_exp_f32, _exp_f64), (_log_f32, _log_f64), (_tanh_f32, _tanh_f64), (_sigmoid_f32, _sigmoid_f64),
    (_silu_f32, _silu_f64)))


_TWENTY_F = F32(20.0)


@register_jitable(inline="always")
def _softplus_f32(x):
    return x if x > _TWENTY_F else log1pf_u10(expf_u10(x))  # PyTorch's, beta 1 and threshold 20


@register_jitable(inline="always")
def _softplus_f64(x):
    return x if x > 20.0 else log1pd_u10(expd_u10(x))


@register_jitable(inline="always")
def _log_sigmoid_f32(x):
    return min(x, _ZERO_F) - log1pf_u10(expf_u10(-abs(x)))  # PyTorch's log_sigmoid


@register_jitable(inline="always")
def _log_sigmoid_f64(x):
    return min(x, 0.0) - log1pd_u10(expd_u10(-abs(x)))


sleef_exp = _by_type(expf_u10, expd_u10)
log1p = _by_type(log1pf_u10, log1pd_u10)
sleef_log_normal = _by_type(_logf_u1_large, _logd_u1_large)  # SLEEF's log_u10 of a normal number or inf
expm1 = _by_type(expm1f_u10, expm1d_u10)
softplus = _by_type(_softplus_f32, _softplus_f64)
log_sigmoid = _by_type(_log_sigmoid_f32, _log_sigmoid_f64)


@register_jitable(inline="always")
def _bce_with_logits_f32(a, b):
    return (_ONE_F - b) * a - _log_sigmoid_f32(a)  # PyTorch's (1 - y) x - log_sigmoid(x), in float32


@register_jitable(inline="always")
def _bce_with_logits_f64(a, b):
    return (1.0 - b) * a - _log_sigmoid_f64(a)


def by_type_of(position, f32_version, f64_version):
    """``_by_type`` for a function of two floats, chosen by the type of argument ``position``."""
    def choose(a, b):
        return f32_version(a, b) if isinstance((a, b)[position], np.float32) else f64_version(a, b)

    @overload(choose, inline="always")
    def _choose(a, b):
        if (a, b)[position] == types.float32:
            return lambda a, b: f32_version(a, b)
        return lambda a, b: f64_version(a, b)
    return choose


bce_with_logits = by_type_of(0, _bce_with_logits_f32, _bce_with_logits_f64)
