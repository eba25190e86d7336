"""The error function and GELU as one definition for eager and fused CPU code.

float32 GELU and its gradient are oneDNN's (PyTorch hands a contiguous float32 GELU and its
backward to oneDNN's ``eltwise_gelu_erf``): the forward a piecewise minimax polynomial in |x|
picked by x's exponent and two mantissa bits (its AVX-512 kernel), the backward Abramowitz and
Stegun's erf with oneDNN's exp.  Both are straight-line float32 arithmetic, so the loops that
call them vectorise (the C library's erf is a call per element).  PyTorch runs its own kernel
on a non-contiguous or one-element tensor (std::erf); those can differ in the last bits.
float32 erf itself is computed in float64 with the C library's erf and rounded once (MKL's
``vsErf``, which torch.erf calls, is correctly rounded nearly always); float64: the C library's.
"""
import math

import numpy as np
from numba.extending import register_jitable

from .sleef import _by_type, by_type_of
from .sleef_arith import f32_bits, f32_from_bits, fma

F32 = np.float32
_ONE_F, _HALF_F, _TWO_F = F32(1.0), F32(0.5), F32(2.0)


def _f32_table(*words):
    return np.array(words, np.uint32).view(F32)


# oneDNN's gelu_erf minimax polynomials: coefficient k of polynomial i is _GELU_POL[k][i]
# (index 23 is erf = 1 past _GELU_RBOUND, index 24 the identity, for nan)
_GELU_POL = np.stack([_f32_table(*row) for row in (
    (0xa6f2cb94, 0x32827792, 0x3381cc0c, 0x34523d4a, 0x351ac44d, 0x35f36d88, 0x36ee8229, 0x37b8a3bb,
     0x3867a213, 0x3940033b, 0x3a2a5a1d, 0x3ae35863, 0x3b7828f2, 0x3c08b14b, 0x3c515ed3, 0xbb503236,
     0xbd8d8e5e, 0xbe8abcd9, 0xbf0c19a2, 0xbeccb328, 0x3e176ced, 0x3f470d99, 0x3f7abb28, 0x3f800000, 0),
    (0x3f4c422a, 0x3f4c421f, 0x3f4c4207, 0x3f4c41cb, 0x3f4c413b, 0x3f4c3fad, 0x3f4c3a2f, 0x3f4c2d40,
     0x3f4c146a, 0x3f4bc341, 0x3f4ad08c, 0x3f48f8cf, 0x3f45fac7, 0x3f404e07, 0x3f3b980f, 0x3f48dff3,
     0x3f78b21b, 0x3fbb0704, 0x40019c32, 0x3fe536d6, 0x3f81331e, 0x3e6c8684, 0x3c98f936, 0, 0x3f800000),
    (0xb62173f4, 0x3735e4cf, 0x37f2ff89, 0x388c23be, 0x3917535c, 0x39ab2ab0, 0x3a60fadb, 0x3af9b960,
     0x3b6e5491, 0x3c0a4ec5, 0x3ca5aa8c, 0x3d2138d9, 0x3d8737d4, 0x3ddfb660, 0x3e0f27ab, 0x3d94004b,
     0xbe0efdeb, 0xbf1d96c3, 0xbf89db58, 0xbf6d9897, 0xbef69fb8, 0xbdc4f8a8, 0xbbde6422, 0, 0),
    (0xbe081a19, 0xbe084570, 0xbe08639b, 0xbe089837, 0xbe08f409, 0xbe09ab95, 0xbe0b66d0, 0xbe0e400a,
     0xbe124df8, 0xbe1bde02, 0xbe2f19c9, 0xbe4931bf, 0xbe685fbc, 0xbe89c95f, 0xbe96cbca, 0xbe8044aa,
     0xbe0550f2, 0x3dcfd6a1, 0x3e94c826, 0x3e79345f, 0x3decec91, 0x3ca46568, 0x3aa1e00a, 0, 0),
    (0xba3d61db, 0x39f097a3, 0x3a5845dc, 0x3ab1fa35, 0x3b0cefb8, 0x3b653ab6, 0x3bcae527, 0x3c221712,
     0x3c6c5840, 0x3cc0a703, 0x3d1dcc19, 0x3d63656d, 0x3d955907, 0x3dbf9910, 0x3dd53f69, 0x3db7dcef,
     0x3d639ebe, 0xba6ede48, 0xbd22be69, 0xbd041cf1, 0xbc64f5ab, 0xbb097a32, 0xb8ebf380, 0, 0),
    (0x3cb7d80c, 0x3c9b6050, 0x3c978d11, 0x3c92e850, 0x3c8d058b, 0x3c848454, 0x3c6cd623, 0x3c4c824b,
     0x3c2a7935, 0x3be0b390, 0x3b0651ac, 0xbb232f53, 0xbbd42fa0, 0xbc2c5366, 0xbc492c9e, 0xbc2a7aa6,
     0xbbd55d04, 0xba823a76, 0x3b102aa8, 0x3ae25a7e, 0x3a31f792, 0x38b84375, 0x3689bb5a, 0, 0))])
_GELU_P0, _GELU_P1, _GELU_P2, _GELU_P3, _GELU_P4, _GELU_P5 = _GELU_POL
_GELU_IDX_BIAS = 0x3de00001  # the table index: (bits(|x|) - this) >> 21, in [1, 24]
_GELU_RBOUND = _f32_table(0x40b15cee)[0]

# oneDNN's exp: 2 2^(n-1) p(r), x = n ln 2 + r, p of degree 5
_EXP_LOG2E, _EXP_HI, _EXP_LO, _LN2 = _f32_table(0x3fb8aa3b, 0x42b17218, 0xc2aeac50, 0x3f317218)
_EXP_P1, _EXP_P2, _EXP_P3, _EXP_P4, _EXP_P5 = _f32_table(0x3f7ffffb, 0x3efffee3, 0x3e2aad40, 0x3d2b9d0d,
                                                         0x3c07cfce)
# Abramowitz and Stegun's erf (7.1.26) as oneDNN's gelu_erf backward computes it
_AS_P, _SQRT_HALF_F, _SQRT_PI_INV_F = _f32_table(0x3ea7ba05, 0x3f3504f3, 0x3f106eba)
_AS_1, _AS_2, _AS_3, _AS_4, _AS_5 = _f32_table(0x3e827906, 0xbe91a98e, 0x3fb5f0e3, 0xbfba00e3, 0x3f87dc22)


@register_jitable(inline="always")
def _erf_f32(x):
    return np.float32(math.erf(np.float64(x)))


@register_jitable
def _erf_f64(x):
    return math.erf(x)


_SQRT_HALF = math.sqrt(0.5)
_PDF = 1.0 / math.sqrt(2.0 * math.pi)


@register_jitable(inline="always")
def _sign_toggled(y, x):
    """y with its sign bit flipped where x's is set (x86's xor with x's sign)."""
    return f32_from_bits(f32_bits(y) ^ (f32_bits(x) & np.int32(-0x80000000)))


@register_jitable(inline="always")
def _dnnl_exp_f32(x):
    below = x < _EXP_LO
    x = x if x < _EXP_HI else _EXP_HI  # (minps/maxps: a nan x takes the bound)
    x = x if x > _EXP_LO else _EXP_LO
    n = np.floor(x * _EXP_LOG2E + _HALF_F)
    r = fma(-n, _LN2, x)
    two_n = F32(0.0) if below else f32_from_bits((np.int32(n - _ONE_F) + np.int32(127)) << np.int32(23))
    p = fma(fma(fma(fma(fma(_EXP_P5, r, _EXP_P4), r, _EXP_P3), r, _EXP_P2), r, _EXP_P1), r, _ONE_F)
    return p * two_n * _TWO_F


@register_jitable(inline="always")
def _gelu_f32(x):
    """oneDNN's: x (1 + sign(x) P_i(|x|)) / 2, P_i ~ erf(|x| / sqrt 2) on the i-th interval."""
    a_bits = f32_bits(x) & np.int32(0x7fffffff)
    a = f32_from_bits(a_bits)
    i = min(max((np.int64(a_bits) - _GELU_IDX_BIAS) >> 21, 1), 24)
    i = 23 if _GELU_RBOUND < a else i
    p = fma(fma(fma(fma(fma(_GELU_P5[i], a, _GELU_P4[i]), a, _GELU_P3[i]), a, _GELU_P2[i]), a,
                _GELU_P1[i]), a, _GELU_P0[i])
    return x * (_sign_toggled(p, x) + _ONE_F) * _HALF_F


@register_jitable
def _gelu_f64(x):
    return 0.5 * x * (1.0 + math.erf(x * _SQRT_HALF))


@register_jitable(inline="always")
def _gelu_backward_f32(g, x):
    """g gelu'(x) = g (cdf(x) + x pdf(x)), oneDNN's steps: with r = x / sqrt 2,
    1/2 + r exp(-r^2) / sqrt(pi) + erf(r) / 2."""
    r = x * _SQRT_HALF_F
    q = _dnnl_exp_f32(-(r * r))
    t = r * _SQRT_PI_INV_F * q
    w = _ONE_F / fma(_AS_P, abs(r), _ONE_F)
    poly = fma(fma(fma(fma(_AS_5, w, _AS_4), w, _AS_3), w, _AS_2), w, _AS_1)
    erf_r = _sign_toggled(fma(-q * w, poly, _ONE_F), r)
    return g * fma(erf_r, _HALF_F, t + _HALF_F)


@register_jitable
def _gelu_backward_f64(g, x):
    cdf = 0.5 * (1.0 + math.erf(x * _SQRT_HALF))
    return g * (cdf + x * _PDF * math.exp(-0.5 * x * x))


erf = _by_type(_erf_f32, _erf_f64)
gelu = _by_type(_gelu_f32, _gelu_f64)


gelu_backward = by_type_of(1, _gelu_backward_f32, _gelu_backward_f64)
