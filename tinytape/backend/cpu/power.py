"""float32 ``x ** number`` as PyTorch's CPU kernel computes it: its vector loop
(``Vectorized<float>::pow``, SLEEF's ``powf16_u10``) over all but the last ``n % 32``
elements, which its scalar loop gives to the C library's ``powf``."""
import numpy as np
from numba import njit

from .. import sleef


@njit(cache=True, nogil=True, error_model="numpy")
def pow_scalar_f32(x, exponent, out):
    n = x.size
    vector_part = n - n % 32  # PyTorch's vectorized_loop takes two 16-lane vectors a step
    e = np.float32(exponent)
    for i in range(vector_part):
        out[i] = sleef.powf_u10(x[i], e)
    for i in range(vector_part, n):
        out[i] = x[i] ** e
