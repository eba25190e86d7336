"""bfloat16 on the device: held as its 16 bits in a uint16 buffer (numba.cuda has no
bfloat16 array type), moved to and from float32 by these two kernels.

A bfloat16 is the upper half of a float32, so widening is a shift.  Narrowing rounds to
nearest even as PyTorch and ml_dtypes do (add 0x7fff plus the lowest kept bit, then
shift: carries overflow to inf), and a NaN stays a NaN of its sign (0x7fc0), as
ml_dtypes makes it on the CPU backend.  The float32 side is read and written through a
uint32 view of its buffer, so both kernels are integer code.
"""
from numba import cuda, uint32


@cuda.jit
def widen(bits, bits_off, out_u32, n):
    """out_u32[i] = the float32 bits of bfloat16 bits[bits_off + i]."""
    i = cuda.grid(1)
    if i < n:
        out_u32[i] = uint32(bits[bits_off + i]) << 16  # widened first: a uint16 shift would drop the bits


@cuda.jit
def narrow(x_u32, x_off, out_bits, n):
    """out_bits[i] = float32 x_u32[x_off + i] rounded to bfloat16 (to nearest even)."""
    i = cuda.grid(1)
    if i < n:
        x = x_u32[x_off + i]
        if (x & 0x7FFFFFFF) > 0x7F800000:  # NaN: keep the sign, make it quiet
            out_bits[i] = ((x >> 16) & 0x8000) | 0x7FC0
        else:
            out_bits[i] = (x + 0x7FFF + ((x >> 16) & 1)) >> 16
