"""float32 ``x ** number`` as PyTorch's CPU kernel computes it: its vector loop
(``Vectorized<float>::pow``, SLEEF's ``powf16_u10`` with the exponent rounded to float32)
over all but the last ``n % 32`` elements, which its scalar loop computes as
``std::pow(float, double)``: in float64 with the exponent as given, rounded once."""
import numpy as np
from numba import njit

from .. import sleef_pow


@njit(cache=True, nogil=True, error_model="numpy")
def pow_scalar_f32(x, exponent, out):
    n = x.size
    vector_part = n - n % 32  # PyTorch's vectorized_loop takes two 16-lane vectors a step
    e = np.float32(exponent)
    for i in range(vector_part):
        out[i] = sleef_pow.powf_u10(x[i], e)
    for i in range(vector_part, n):
        out[i] = np.float32(np.float64(x[i]) ** exponent)
