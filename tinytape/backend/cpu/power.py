"""``pow`` of float32 and float64 as PyTorch's CPU kernels compute it: their vector loop
(``Vectorized<T>::pow``: SLEEF's ``powf16_u10`` / ``powd8_u10``, AVX512's 16 and 8 lanes)
over all but the last ``n % (2 * lanes)`` elements, which their scalar loop computes with
``std::pow``.  A tensor to a number's power (``pow_scalar_*``): float32's vector loop takes
the exponent rounded to float32 and its scalar loop ``std::pow(float, double)`` (in float64,
rounded once); two tensors (``pow_pair_*``, each operand flat or one element):
``std::pow(T, T)``."""
import numpy as np
from numba import njit

from .. import sleef_pow, sleef_powd

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@njit(**_JIT)
def pow_scalar_f32(x, exponent, out):
    n = x.size
    vector_part = n - n % 32  # PyTorch's vectorized_loop takes two 16-lane vectors a step
    e = np.float32(exponent)
    for i in range(vector_part):
        out[i] = sleef_pow.powf_u10(x[i], e)
    for i in range(vector_part, n):
        out[i] = np.float32(np.float64(x[i]) ** exponent)


@njit(**_JIT)
def pow_scalar_f64(x, exponent, out):
    n = x.size
    vector_part = n - n % 16  # two 8-lane vectors a step
    for i in range(vector_part):
        out[i] = sleef_powd.powd_u10(x[i], exponent)
    for i in range(vector_part, n):
        out[i] = x[i] ** exponent


@njit(**_JIT)
def pow_pair_f32(x, x_step, y, y_step, out):
    n = out.size
    if (x_step and x.size < n) or (y_step and y.size < n):
        raise IndexError("pow: an operand is shorter than the output")
    vector_part = n - n % 32
    for i in range(vector_part):
        out[i] = sleef_pow.powf_u10(x[i * x_step], y[i * y_step])
    for i in range(vector_part, n):
        out[i] = x[i * x_step] ** y[i * y_step]


@njit(**_JIT)
def pow_pair_f64(x, x_step, y, y_step, out):
    n = out.size
    if (x_step and x.size < n) or (y_step and y.size < n):
        raise IndexError("pow: an operand is shorter than the output")
    vector_part = n - n % 16
    for i in range(vector_part):
        out[i] = sleef_powd.powd_u10(x[i * x_step], y[i * y_step])
    for i in range(vector_part, n):
        out[i] = x[i * x_step] ** y[i * y_step]
