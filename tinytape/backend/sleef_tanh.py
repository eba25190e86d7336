"""SLEEF's tanh (u10), float32 and float64: ``Sleef_tanhf16_u10`` / ``Sleef_tanhd8_u10``, what
PyTorch's ``Vectorized<T>::tanh`` calls on this AVX512 build (mish, gelu's tanh approximation;
``torch.tanh`` itself is MKL's).  Ports of ``xtanhf`` / ``xtanh`` (src/libm/sleefsimdsp.c,
sleefsimddp.c) with the fused multiply-adds of the AVX512 build, on ``sleef.expk2f`` / ``expk2d`` (e^a as a
double-float pair, which expm1 is built on too)."""
import numpy as np
from numba.extending import register_jitable

from .sleef import expk2d, expk2f
from .sleef_arith import _add2_pp, _add_pp, _div_pp, _rec_p

F32 = np.float32
_ZERO_F, _ONE_F, _TANHF_HI = F32(0.0), F32(1.0), F32(8.664339742)


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
