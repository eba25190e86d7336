"""The activations as PyTorch's scalar loop computes them, beside ``sleef.py``'s vector ones.

PyTorch's CPU elementwise kernels (``cpu_kernel_vec``, aten/src/ATen/native/cpu/Loops.h)
run two definitions of an op: its ``Vectorized`` one over chunks of two vectors
(``2 * Vectorized<T>::size()``: 32 float32 or 16 float64 elements on this AVX512 build), and
its scalar lambda over the elements of each inner loop that do not fill a chunk, and over
every element of an inner loop whose operands are not contiguous.  Where the vector
definition calls SLEEF (``sleef.py``), the scalar one calls the C library's ``std::exp`` /
``std::log1p`` (``std::expm1``: elu), whose results can differ in the last bit.  ``layout.scalar_loop_layout``
says which elements take which definition.

numba compiles ``math.exp`` / ``math.log1p`` of a float32 to the C library's ``expf`` /
``log1pf`` (and of a float64 to ``exp`` / ``log1p``): the very functions PyTorch's scalar
lambdas call in this process, so compiled code reproduces them bit for bit.  Run as plain
Python, ``math`` computes in float64 and the result is rounded once: the C library's value
but for rare last-bit differences.
"""
import math

import numpy as np
from numba.extending import register_jitable

from .sleef import _by_type

_ONE_F, _TWENTY_F = np.float32(1.0), np.float32(20.0)


@register_jitable
def _sigmoid_f32(x):
    return _ONE_F / (_ONE_F + math.exp(-x))  # PyTorch's: 1 / (1 + std::exp(-a))


@register_jitable
def _sigmoid_f64(x):
    return 1.0 / (1.0 + math.exp(-x))


@register_jitable
def _silu_f32(x):
    return x / (_ONE_F + math.exp(-x))  # PyTorch's: x / (1 + std::exp(-x))


@register_jitable
def _silu_f64(x):
    return x / (1.0 + math.exp(-x))


@register_jitable
def _softplus_f32(x):
    # PyTorch's: x * beta > threshold ? x : log1p(exp(x * beta)) / beta, with beta 1 and
    # threshold 20 (multiplying and dividing by 1 are exact)
    return x if x > _TWENTY_F else np.float32(math.log1p(math.exp(x)))


@register_jitable
def _softplus_f64(x):
    return x if x > 20.0 else math.log1p(math.exp(x))


@register_jitable
def _expm1_f32(x):
    return np.float32(math.expm1(x))  # (elu's: std::expm1)


@register_jitable
def _expm1_f64(x):
    return math.expm1(x)


sigmoid_scalar_loop = _by_type(_sigmoid_f32, _sigmoid_f64)
expm1_scalar_loop = _by_type(_expm1_f32, _expm1_f64)
silu_scalar_loop = _by_type(_silu_f32, _silu_f64)
softplus_scalar_loop = _by_type(_softplus_f32, _softplus_f64)
