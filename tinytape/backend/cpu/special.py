"""Special functions as PyTorch's scalar CPU kernels compute them, in the input's dtype:
``asinh``/``acosh``/``sinc``/``entr``/``logit`` through the C library (numba's ``math``, as PyTorch's
``std::`` calls), and ports of PyTorch's own ``calc_digamma``, ``calc_trigamma`` and
``calc_erfinv`` (``aten/src/ATen/native/Math.h``), operation by operation, a float32
input in float32 arithmetic.  One loop per function and dtype, compiled once."""
import math

import numpy as np
from numba import njit

from . import bessel

_JIT = dict(nogil=True, cache=True, error_model="numpy")


def _kernels(T):
    """The loops for one float type ``T`` (its constants typed ``T``, so float32 stays float32)."""
    one, zero, half, two, ten = T(1.0), T(0.0), T(0.5), T(2.0), T(10.0)
    pi = T(math.pi)
    psi_10 = T(2.25175258906672110764)
    A = tuple(T(v) for v in (8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
                        -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
                        8.33333333333333333333E-2))
    a0, a1, a2, a3, a4, a5, a6 = A
    big = T(1.0e17)
    ea0, ea1, ea2, ea3 = tuple(T(v) for v in ((0.886226899, -1.645349621, 0.914624893, -0.140543331)))
    eb0, eb1, eb2, eb3 = tuple(T(v) for v in ((-2.118377725, 1.442710462, -0.329097515, 0.012229801)))
    ec0, ec1, ec2, ec3 = tuple(T(v) for v in ((-1.970840454, -1.624906493, 3.429567803, 1.641345311)))
    ed0, ed1 = tuple(T(v) for v in ((3.543889200, 1.637067800)))
    two_over_sqrt_pi = T(2.0) / T(math.sqrt(math.pi))
    central = T(0.7)
    sixth, thirtieth, fortysecond = T(1.0 / 6), T(1.0 / 30), T(1.0 / 42)

    @njit(**_JIT)
    def asinh(x, out):
        if out.shape[0] < x.shape[0]:
            raise IndexError("asinh: the output is shorter than the input")
        for i in range(x.shape[0]):
            out[i] = math.asinh(x[i])

    @njit(**_JIT)
    def acosh(x, out):
        if out.shape[0] < x.shape[0]:
            raise IndexError("acosh: the output is shorter than the input")
        for i in range(x.shape[0]):
            out[i] = math.acosh(x[i])

    @njit(**_JIT)
    def sinc(x, out):
        if out.shape[0] < x.shape[0]:
            raise IndexError("sinc: the output is shorter than the input")
        for i in range(x.shape[0]):
            a = x[i]
            if a == zero:
                out[i] = one
            else:
                p = pi * a
                out[i] = math.sin(p) / p

    @njit(**_JIT)
    def _digamma_positive(x):
        result = zero
        while x < ten:
            result -= one / x
            x += one
        if x == ten:
            return result + psi_10
        y = zero
        if x < big:
            z = one / (x * x)
            y = z * ((((((a0 * z + a1) * z + a2) * z + a3) * z + a4) * z + a5) * z + a6)
        return result + math.log(x) - (half / x) - y

    @njit(**_JIT)
    def digamma(x, out):
        if out.shape[0] < x.shape[0]:
            raise IndexError("digamma: the output is shorter than the input")
        for i in range(x.shape[0]):
            v = x[i]
            if v == zero:
                out[i] = -math.inf if math.copysign(1.0, v) > 0 else math.inf
            elif v < zero:
                if v == math.trunc(v):
                    out[i] = math.nan
                else:
                    r = np.float64(v) - math.trunc(np.float64(v))
                    reflect = math.pi / math.tan(math.pi * r)  # in double, as PyTorch
                    out[i] = _digamma_positive(one - v) - T(reflect)
            else:
                out[i] = _digamma_positive(v)

    @njit(**_JIT)
    def trigamma(x, out):
        if out.shape[0] < x.shape[0]:
            raise IndexError("trigamma: the output is shorter than the input")
        for i in range(x.shape[0]):
            v = x[i]
            sign = one
            result = zero
            if v < half:
                sign = -one
                s = math.sin(pi * v)
                result -= (pi * pi) / (s * s)
                v = one - v
            for _ in range(6):
                result += one / (v * v)
                v += one
            ixx = one / (v * v)
            result += (one + one / (two * v) + ixx * (sixth - ixx * (thirtieth - ixx * fortysecond))) / v
            out[i] = sign * result

    @njit(**_JIT)
    def erfinv(x, out):
        if out.shape[0] < x.shape[0]:
            raise IndexError("erfinv: the output is shorter than the input")
        for i in range(x.shape[0]):
            y = x[i]
            y_abs = abs(y)
            if y_abs > one:
                out[i] = math.nan
                continue
            if y_abs == one:
                out[i] = math.copysign(math.inf, y)
                continue
            if y_abs <= central:
                z = y * y
                num = ((ea3 * z + ea2) * z + ea1) * z + ea0
                dem = (((eb3 * z + eb2) * z + eb1) * z + eb0) * z + one
                r = y * num / dem
            else:
                z = math.sqrt(-math.log((one - y_abs) / two))
                num = ((ec3 * z + ec2) * z + ec1) * z + ec0
                dem = (ed1 * z + ed0) * z + one
                r = math.copysign(num, y) / dem
            r = r - (math.erf(r) - y) / (two_over_sqrt_pi * math.exp(-r * r))
            r = r - (math.erf(r) - y) / (two_over_sqrt_pi * math.exp(-r * r))
            out[i] = r

    @njit(**_JIT)
    def entr(x, out):
        if out.shape[0] < x.shape[0]:
            raise IndexError("entr: the output is shorter than the input")
        for i in range(x.shape[0]):
            a = x[i]
            if a != a:
                out[i] = a
            elif a > zero:
                out[i] = -a * math.log(a)
            elif a == zero:
                out[i] = zero
            else:
                out[i] = -math.inf

    @njit(**_JIT)
    def logit(x, out):
        if out.shape[0] < x.shape[0]:
            raise IndexError("logit: the output is shorter than the input")
        for i in range(x.shape[0]):
            a = x[i]
            out[i] = math.log(a / (one - a))

    return {"asinh": asinh, "acosh": acosh, "sinc": sinc, "digamma": digamma, "trigamma": trigamma,
            "erfinv": erfinv, "entr": entr, "logit": logit}


KERNELS = {np.dtype(np.float64): _kernels(np.float64), np.dtype(np.float32): _kernels(np.float32)}
for _dtype, _bessel in bessel.KERNELS.items():  # i0, i0e, i1, i1e
    KERNELS[_dtype].update(_bessel)


def run(name, x):
    """``name`` over the float32/float64 host array ``x`` (float16/bfloat16 in float32)."""
    flat = np.ascontiguousarray(x).reshape(-1)
    work = flat if flat.dtype in KERNELS else flat.astype(np.float32)
    out = np.empty_like(work)
    KERNELS[work.dtype][name](work, out)
    return out.reshape(np.shape(x))
