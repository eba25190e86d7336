"""The error function and GELU as one definition for eager and fused CPU code: a float32
computed in float64 with the C library's ``erf`` and rounded once (as ``sleef.py`` computes
exp, log and tanh), GELU's derivative as PyTorch's ``GeluBackward0`` computes it.

PyTorch's vectorised float32 erf is an approximation (good to ~1e-7), so GELU's last bits can
differ from PyTorch's; the float64 versions call the C library directly.
"""
import math

import numpy as np
from numba.extending import register_jitable

from .sleef import _by_type, by_type_of, expd_u10


@register_jitable(inline="always")
def _erf_f32(x):
    return np.float32(math.erf(np.float64(x)))


@register_jitable
def _erf_f64(x):
    return math.erf(x)


_SQRT_HALF = math.sqrt(0.5)
_PDF = 1.0 / math.sqrt(2.0 * math.pi)


@register_jitable(inline="always")
def _gelu_f32(x):
    d = np.float64(x)
    return np.float32(0.5 * d * (1.0 + math.erf(d * _SQRT_HALF)))


@register_jitable
def _gelu_f64(x):
    return 0.5 * x * (1.0 + math.erf(x * _SQRT_HALF))


@register_jitable(inline="always")
def _gelu_backward_f32(g, x):
    """g gelu'(x) = g (cdf(x) + x pdf(x))."""
    d = np.float64(x)
    cdf = 0.5 * (1.0 + math.erf(d * _SQRT_HALF))
    # its two terms and their sum in float32, as PyTorch's: where x pdf(x) underflows the sum is
    # +0 (an infinite g gives nan, a zero g +0)
    return g * (np.float32(cdf) + np.float32(d * _PDF * expd_u10(-0.5 * d * d)))


@register_jitable
def _gelu_backward_f64(g, x):
    cdf = 0.5 * (1.0 + math.erf(x * _SQRT_HALF))
    return g * (cdf + x * _PDF * math.exp(-0.5 * x * x))


erf = _by_type(_erf_f32, _erf_f64)
gelu = _by_type(_gelu_f32, _gelu_f64)


gelu_backward = by_type_of(1, _gelu_backward_f32, _gelu_backward_f64)
