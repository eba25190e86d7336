"""The error function and GELU of a float32, computed in float64 and rounded once, as
``sleef.py`` computes exp, log and tanh: branch-free Chebyshev series that LLVM vectorises
(numba's ``math.erf`` is a scalar call, ~50 ns an element: GELU's erf took most of a
transformer block's step).  Float64 inputs use the C library's ``erf``.

erf(x) = x p(x^2) for |x| < 0.75 and 1 - exp(-x^2) q(x) up to 4 (past it a float32 erf is 1);
the series' coefficients were fitted to erf and erfc(x) exp(x^2) at 40 digits, their
relative error below 1e-14.
"""
import math

import numpy as np
from numba import types
from numba.extending import overload, register_jitable

from .sleef import _by_type, expd_u10

# Chebyshev coefficients: erf(x) / x in t = 2 x^2 / 0.5625 - 1 (|x| < 0.75) ...
_ERF_SMALL = (1.0346198197197054, -0.08996516396049424, 0.0036702603925653863, -0.00012058945474986056,
              3.2577389180056007e-06, -7.433810679174286e-08, 1.4651857622416552e-09, -2.538969041737529e-11,
              3.923589718924788e-13, -5.419484646321376e-15, 1.370762005387092e-16)
# ... and erfc(x) exp(x^2) in t = (2 x - 4.75) / 3.25 (0.75 <= x <= 4)
_ERFC_SCALED = (0.26740844800075764, -0.1697107133644707, 0.050487960316475886, -0.01421604600828772,
                0.0038152183981291893, -0.0009811501997028208, 0.00024281032071813628, -5.802400798658463e-05,
                1.3427480855042321e-05, -3.0162704229092237e-06, 6.590618306728585e-07, -1.4032440531062828e-07,
                2.9158512528167215e-08, -5.921299316893416e-09, 1.1765666625366344e-09, -2.290006879882832e-10,
                4.370228092452778e-11, -8.184669132214992e-12, 1.5054982172257e-12, -2.721590477919398e-13,
                4.8410610952382023e-14, -8.446328514618635e-15, 1.4822735731647473e-15, -2.5764135107156197e-16,
                8.722151051679002e-17)


def _series(name, chebyshev):
    """``name(t)``: the Chebyshev series as a polynomial in t by Estrin's scheme (its fused
    multiply-adds independent, log2(degree) deep: Clenshaw's recurrence is one chain as long as
    the series, and a vectorised loop waits on it), the constants inline."""
    terms = [repr(float(c)) for c in np.polynomial.chebyshev.cheb2poly(chebyshev)]
    lines, power, level = [f"def {name}(t):"], "t", 0
    while len(terms) > 1:
        pairs = [f"{terms[i]} + {terms[i + 1]} * {power}" for i in range(0, len(terms) - 1, 2)]
        pairs += terms[len(terms) - len(terms) % 2:]
        names = [f"e{level}_{k}" for k in range(len(pairs))]
        lines += [f"    {n} = {p}" for n, p in zip(names, pairs)]
        lines.append(f"    t{level} = {power} * {power}")
        terms, power, level = names, f"t{level}", level + 1
    lines.append(f"    return {terms[0]}")
    namespace = {}
    exec(compile("\n".join(lines) + "\n", f"<{name}>", "exec"), namespace)
    return register_jitable(inline="always")(namespace[name])


_erf_small = _series("_erf_small", _ERF_SMALL)
_erfc_scaled = _series("_erfc_scaled", _ERFC_SCALED)


@register_jitable(inline="always")
def erf_wide(d):
    """erf of a float64, to ~1e-15 relative: for results rounded to float32."""
    a = abs(d)
    small = a * _erf_small(a * a * (2.0 / 0.5625) - 1.0)
    b = a if a > 0.75 else 0.75  # (numba's min and max are calls: the loop would not vectorise)
    b = b if b < 4.0 else 4.0
    large = 1.0 - expd_u10(-(b * b)) * _erfc_scaled((b + b - 4.75) / 3.25)
    r = small if a < 0.75 else large
    r = 1.0 if a > 4.0 else r
    r = d if d != d else r
    return math.copysign(r, d)


@register_jitable(inline="always")  # (LLVM would call it: its loop unvectorised)
def _erf_f32(x):
    return np.float32(erf_wide(np.float64(x)))


@register_jitable
def _erf_f64(x):
    return math.erf(x)


_SQRT_HALF = math.sqrt(0.5)
_PDF = 1.0 / math.sqrt(2.0 * math.pi)


@register_jitable(inline="always")  # (LLVM would call it: its loop unvectorised)
def _gelu_f32(x):
    d = np.float64(x)
    return np.float32(0.5 * d * (1.0 + erf_wide(d * _SQRT_HALF)))


@register_jitable
def _gelu_f64(x):
    return 0.5 * x * (1.0 + math.erf(x * _SQRT_HALF))


@register_jitable(inline="always")  # (LLVM would call it: its loop unvectorised)
def _gelu_backward_f32(g, x):
    """g gelu'(x) = g (cdf(x) + x pdf(x))."""
    d = np.float64(x)
    cdf = 0.5 * (1.0 + erf_wide(d * _SQRT_HALF))
    # its two terms and their sum in float32, as PyTorch's: where x pdf(x) underflows the sum is
    # +0 (an infinite g gives nan, a zero g +0)
    return g * (np.float32(cdf) + np.float32(d * _PDF * expd_u10(-0.5 * d * d)))


@register_jitable
def _gelu_backward_f64(g, x):
    cdf = 0.5 * (1.0 + math.erf(x * _SQRT_HALF))
    return g * (cdf + x * _PDF * math.exp(-0.5 * x * x))


erf = _by_type(_erf_f32, _erf_f64)
gelu = _by_type(_gelu_f32, _gelu_f64)


def gelu_backward(g, x):
    return _gelu_backward_f32(g, x) if isinstance(x, np.float32) else _gelu_backward_f64(g, x)


@overload(gelu_backward, inline="always")
def _gelu_backward(g, x):
    if x == types.float32:
        return lambda g, x: _gelu_backward_f32(g, x)
    return lambda g, x: _gelu_backward_f64(g, x)
