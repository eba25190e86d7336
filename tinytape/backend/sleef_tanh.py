"""SLEEF's tanh (u10), float32 and float64: ``Sleef_tanhf16_u10`` / ``Sleef_tanhd8_u10``, what
PyTorch's ``Vectorized<T>::tanh`` calls on this AVX512 build (mish, gelu's tanh approximation;
``torch.tanh`` itself is MKL's).  Ports of ``xtanhf`` / ``xtanh`` (src/libm/sleefsimdsp.c,
sleefsimddp.c) with the fused multiply-adds of the AVX512 build, and of the ``expk2f`` /
``expk2`` they (and expm1) are built on: e^a as a double-float (double-double) pair."""
import math

import numpy as np
from numba.extending import register_jitable

from .sleef_arith import (_add2_pf, _add2_pp, _add_fp, _add_pp, _div_pp, _ldexp2d, _ldexp2f, _mul_pf, _mul_pp,
                          _rec_p, _squ_p, fma)

F32 = np.float32
_R_LN2F, _L2UF, _L2LF = F32(1.442695040888963407359924681001892137426645954152985934135449406931), \
    F32(0.693145751953125), F32(1.428606765330187045e-06)
_RINT_F = F32(12582912.0)  # 1.5 * 2**23: x + it - it rounds |x| < 2**22 to an integer, ties to even
_EXPF_LO, _EXPF_HI = F32(-104.0), F32(100.0)
_EM1F_C = tuple(F32(c) for c in (0.1980960224e-3, 0.1394256484e-2, 0.8333456703e-2, 0.4166637361e-1,
                                 0.166666659414234244790680580464e+0, 0.5))
_EMF0, _EMF1, _EMF2, _EMF3, _EMF4, _HALF_F = _EM1F_C
_ZERO_F, _ONE_F, _TANHF_HI = F32(0.0), F32(1.0), F32(8.664339742)


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


_R_LN2, _L2U, _L2L = 1.442695040888963407359924681001892137426645954152985934135449406931, \
    .69314718055966295651160180568695068359375, .28235290563031577122588448175013436025525412068e-12
_RINT = 6755399441055744.0  # 1.5 * 2**52
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


@register_jitable(inline="always")
def tanhf_u10(x):
    """SLEEF's ``xtanhf`` on a float32: ``Sleef_tanhf16_u10``."""
    y = abs(x)
    yc = y if y < _TANHF_HI else _TANHF_HI  # (the lanes above are 1 below)
    dh, dl = expk2f(yc)
    eh, el = _rec_p(dh, dl, _ONE_F)
    nh, nl = _add_pp(dh, dl, -eh, -el)
    sh, sl = _add_pp(dh, dl, eh, el)
    rh, rl = _div_pp(nh, nl, sh, sl, _ONE_F)
    r = rh + rl
    r = _ONE_F if (y > _TANHF_HI or r != r) else r
    r = np.copysign(r, x)
    return x if x != x else r


@register_jitable(inline="always")
def tanhd_u10(x):
    """SLEEF's ``xtanh`` on a float64: ``Sleef_tanhd8_u10``."""
    y = abs(x)
    yc = y if y < 18.714973875 else 18.714973875
    dh, dl = expk2d(yc)
    eh, el = _rec_p(dh, dl, 1.0)
    nh, nl = _add2_pp(dh, dl, -eh, -el)
    sh, sl = _add2_pp(dh, dl, eh, el)
    rh, rl = _div_pp(nh, nl, sh, sl, 1.0)
    r = rh + rl
    r = 1.0 if (y > 18.714973875 or r != r) else r
    r = np.copysign(r, x)
    return x if x != x else r
