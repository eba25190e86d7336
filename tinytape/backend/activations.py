"""mish, gelu's tanh approximation and the gradients of silu, softplus, elu, mish and gelu (tanh)
as PyTorch's CPU kernels compute them (aten/src/ATen/native/cpu/Activation.cpp), each twice:
its ``Vectorized`` definition (SLEEF's exp, log1p, tanh: ``sleef.py``, ``sleef_tanh.py``) and,
named ``*_scalar_loop``, its scalar lambda (the C library's ``std::exp``, ``std::log1p``,
``std::tanh``: numba compiles ``math.exp`` of a float32 to ``expf``...), for the elements its
scalar loop computes (``scalar_loop.py``, ``layout.scalar_loop_layout``).

GCC builds those kernels contracting a product that only feeds an addition into one fused
multiply-add, in the vector definitions and the scalar lambdas alike; the ``fma`` calls below
are the contractions found bit for bit against PyTorch 2.14.1 (every other choice differs in
5-40 % of elements): ``t + x*s*(1 - t*t)`` is ``fma(x*s, fma(-t, t, 1), t)``.
"""
import math

import numpy as np
from numba.extending import register_jitable

from .sleef import _by_type, by_type_of, expd_u10, expf_u10, log1pd_u10, log1pf_u10
from .sleef_arith import fma
from .sleef_tanh import tanhd_u10, tanhf_u10

F32 = np.float32
_ONE_F, _HALF_F = F32(1.0), F32(0.5)
# PyTorch's kBeta (M_SQRT2 * M_2_SQRTPI * 0.5, a double product) and kKappa, rounded to each dtype;
# 3 * kKappa a product in the dtype
GELU_BETA = 1.4142135623730951 * 1.1283791670955126 * 0.5
GELU_KAPPA = 0.044715
_BETA_F, _KAPPA_F = F32(GELU_BETA), F32(GELU_KAPPA)
_THREE_KAPPA_F, _THREE_KAPPA = F32(3.0) * _KAPPA_F, 3.0 * GELU_KAPPA


# ---- forward: mish, gelu(approximate='tanh')

@register_jitable(inline="always")
def _mish_f32(x):
    return x * tanhf_u10(log1pf_u10(expf_u10(x)))  # x * x.exp().log1p().tanh()


@register_jitable(inline="always")
def _mish_f64(x):
    return x * tanhd_u10(log1pd_u10(expd_u10(x)))


@register_jitable
def _mish_scalar_f32(x):
    return x * F32(math.tanh(math.log1p(math.exp(x))))


@register_jitable
def _mish_scalar_f64(x):
    return x * math.tanh(math.log1p(math.exp(x)))


@register_jitable(inline="always")
def _gelu_tanh_f32(x):  # 0.5 x (1 + tanh(beta (x + kappa x^3))), kappa x^3 + x fused
    return _HALF_F * x * (_ONE_F + tanhf_u10(_BETA_F * fma(_KAPPA_F, x * x * x, x)))


@register_jitable(inline="always")
def _gelu_tanh_f64(x):
    return 0.5 * x * (1.0 + tanhd_u10(GELU_BETA * fma(GELU_KAPPA, x * x * x, x)))


@register_jitable
def _gelu_tanh_scalar_f32(x):
    return _HALF_F * x * (_ONE_F + F32(math.tanh(_BETA_F * fma(_KAPPA_F, x * x * x, x))))


@register_jitable
def _gelu_tanh_scalar_f64(x):
    return 0.5 * x * (1.0 + math.tanh(GELU_BETA * fma(GELU_KAPPA, x * x * x, x)))


mish = _by_type(_mish_f32, _mish_f64)
mish_scalar_loop = _by_type(_mish_scalar_f32, _mish_scalar_f64)
gelu_tanh = _by_type(_gelu_tanh_f32, _gelu_tanh_f64)
gelu_tanh_scalar_loop = _by_type(_gelu_tanh_scalar_f32, _gelu_tanh_scalar_f64)


# ---- gradients: (dy, x), PyTorch's *_backward kernels; the scalar versions take the C
# library's exp / tanh where the vector ones take SLEEF's

@register_jitable(inline="always")
def _mish_grad(dy, x, s, t, one):
    # dy * (t + x * sigmoid * (1 - t * t)), t = tanh(softplus(x))
    return dy * fma(x * s, fma(-t, t, one), t)


@register_jitable(inline="always")
def _mish_backward_f32(dy, x):
    return _mish_grad(dy, x, _ONE_F / (_ONE_F + expf_u10(-x)), tanhf_u10(log1pf_u10(expf_u10(x))), _ONE_F)


@register_jitable(inline="always")
def _mish_backward_f64(dy, x):
    return _mish_grad(dy, x, 1.0 / (1.0 + expd_u10(-x)), tanhd_u10(log1pd_u10(expd_u10(x))), 1.0)


@register_jitable
def _mish_backward_scalar_f32(dy, x):
    return _mish_grad(dy, x, _ONE_F / (_ONE_F + F32(math.exp(-x))), F32(math.tanh(math.log1p(math.exp(x)))), _ONE_F)


@register_jitable
def _mish_backward_scalar_f64(dy, x):
    return _mish_grad(dy, x, 1.0 / (1.0 + math.exp(-x)), math.tanh(math.log1p(math.exp(x))), 1.0)


@register_jitable(inline="always")
def _gelu_tanh_grad(dy, x, t, one, half, beta, three_kappa):
    # dy * (0.5 (1 + t) + 0.5 x (1 - t^2) beta (1 + 3 kappa x^2)), t = tanh(inner)
    tanh_derivative = fma(-t, t, one)
    inner_derivative = beta * fma(three_kappa, x * x, one)
    return dy * (half * (one + t) + half * x * tanh_derivative * inner_derivative)


@register_jitable(inline="always")
def _gelu_tanh_backward_f32(dy, x):
    t = tanhf_u10(_BETA_F * fma(_KAPPA_F, x * x * x, x))
    return _gelu_tanh_grad(dy, x, t, _ONE_F, _HALF_F, _BETA_F, _THREE_KAPPA_F)


@register_jitable(inline="always")
def _gelu_tanh_backward_f64(dy, x):
    t = tanhd_u10(GELU_BETA * fma(GELU_KAPPA, x * x * x, x))
    return _gelu_tanh_grad(dy, x, t, 1.0, 0.5, GELU_BETA, _THREE_KAPPA)


@register_jitable
def _gelu_tanh_backward_scalar_f32(dy, x):
    t = F32(math.tanh(_BETA_F * fma(_KAPPA_F, x * x * x, x)))
    return _gelu_tanh_grad(dy, x, t, _ONE_F, _HALF_F, _BETA_F, _THREE_KAPPA_F)


@register_jitable
def _gelu_tanh_backward_scalar_f64(dy, x):
    t = math.tanh(GELU_BETA * fma(GELU_KAPPA, x * x * x, x))
    return _gelu_tanh_grad(dy, x, t, 1.0, 0.5, GELU_BETA, _THREE_KAPPA)


@register_jitable(inline="always")
def _silu_grad(dy, x, s, one):
    return dy * s * fma(x, one - s, one)  # dy * sigmoid * (1 + x * (1 - sigmoid))


@register_jitable(inline="always")
def _silu_backward_f32(dy, x):
    return _silu_grad(dy, x, _ONE_F / (_ONE_F + expf_u10(-x)), _ONE_F)


@register_jitable(inline="always")
def _silu_backward_f64(dy, x):
    return _silu_grad(dy, x, 1.0 / (1.0 + expd_u10(-x)), 1.0)


@register_jitable
def _silu_backward_scalar_f32(dy, x):
    return _silu_grad(dy, x, _ONE_F / (_ONE_F + F32(math.exp(-x))), _ONE_F)


@register_jitable
def _silu_backward_scalar_f64(dy, x):
    return _silu_grad(dy, x, 1.0 / (1.0 + math.exp(-x)), 1.0)


# softplus's gradient below its threshold, of b = beta x: a z / (z + 1), z = exp(b)
@register_jitable(inline="always")
def _softplus_backward_f32(a, b):
    z = expf_u10(b)
    return a * z / (z + _ONE_F)


@register_jitable(inline="always")
def _softplus_backward_f64(a, b):
    z = expd_u10(b)
    return a * z / (z + 1.0)


@register_jitable
def _softplus_backward_scalar_f32(a, b):
    z = F32(math.exp(b))
    return a * z / (z + _ONE_F)


@register_jitable
def _softplus_backward_scalar_f64(a, b):
    z = math.exp(b)
    return a * z / (z + 1.0)


# elu's gradient where x <= 0, of a = dy * input_scale * alpha scale and b = x * input_scale:
# a * exp(b)
@register_jitable(inline="always")
def _mul_exp_f32(a, b):
    return a * expf_u10(b)


@register_jitable(inline="always")
def _mul_exp_f64(a, b):
    return a * expd_u10(b)


@register_jitable
def _mul_exp_scalar_f32(a, b):
    return a * F32(math.exp(b))


@register_jitable
def _mul_exp_scalar_f64(a, b):
    return a * math.exp(b)


def _by_x(f32_version, f64_version):
    return by_type_of(1, f32_version, f64_version)


mish_backward, mish_backward_scalar_loop = (_by_x(_mish_backward_f32, _mish_backward_f64),
                                            _by_x(_mish_backward_scalar_f32, _mish_backward_scalar_f64))
gelu_tanh_backward, gelu_tanh_backward_scalar_loop = (
    _by_x(_gelu_tanh_backward_f32, _gelu_tanh_backward_f64),
    _by_x(_gelu_tanh_backward_scalar_f32, _gelu_tanh_backward_scalar_f64))
silu_backward, silu_backward_scalar_loop = (_by_x(_silu_backward_f32, _silu_backward_f64),
                                            _by_x(_silu_backward_scalar_f32, _silu_backward_scalar_f64))
softplus_backward, softplus_backward_scalar_loop = (
    _by_x(_softplus_backward_f32, _softplus_backward_f64),
    _by_x(_softplus_backward_scalar_f32, _softplus_backward_scalar_f64))
mul_exp, mul_exp_scalar_loop = _by_x(_mul_exp_f32, _mul_exp_f64), _by_x(_mul_exp_scalar_f32, _mul_exp_scalar_f64)


# ---- numba.cuda's versions (``scalar_ops._cuda_version``): the same formulas in the math module

def cuda_mish(x):
    return x * math.tanh(math.log1p(math.exp(x)) if x < 20.0 else x)


def cuda_gelu_tanh(x):
    return 0.5 * x * (1.0 + math.tanh(GELU_BETA * (x + GELU_KAPPA * x * x * x)))


def cuda_mish_backward(dy, x):
    s = 1.0 / (1.0 + math.exp(-x)) if x > -700.0 else 0.0
    t = math.tanh(math.log1p(math.exp(x)) if x < 20.0 else x)
    return dy * (t + x * s * (1.0 - t * t))


def cuda_gelu_tanh_backward(dy, x):
    t = math.tanh(GELU_BETA * (x + GELU_KAPPA * x * x * x))
    return dy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_BETA * (1.0 + _THREE_KAPPA * x * x))


def cuda_silu_backward(dy, x):
    e = math.exp(-abs(x))
    s = (1.0 if x >= 0 else e) / (1.0 + e)
    return dy * s * (1.0 + x * (1.0 - s))


def cuda_softplus_backward(a, b):
    z = math.exp(b) if not b > 709.78 else math.inf  # (Python's math.exp, in the simulator, raises on overflow)
    return a * z / (z + 1.0)


def cuda_mul_exp(a, b):
    return a * (math.exp(b) if not b > 709.78 else math.inf)
