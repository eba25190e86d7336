"""PyTorch's CPU samplers behind the Gamma family and the binomial, drawn from tinytape's
mt19937 stream as PyTorch's serial kernels draw them (one element at a time, in C order):

- ``_standard_gamma(alpha)``: Marsaglia and Tsang's rejection, boosted by ``u ** (1 / alpha)``
  below alpha 1; its uniforms are 53-bit ``uniform_real_distribution<double>`` draws and its
  normals ``normal_distribution<double>`` (the scalar Box-Muller whose cached sine half is
  shared with ``normal_``), with float32's constants and float arithmetic where PyTorch's
  template computes in ``scalar_t``;
- ``_sample_dirichlet(alpha)``: gammas in double, divided by their sum over the last dim;
- ``binomial(count, prob)``: BTRS (Hoermann's transformed rejection) from ``count * p >= 10``,
  the inversion of geometric waiting times below, ``p > 0.5`` through ``count - B(count, 1 - p)``.

With the reparameterised gradients of ``ATen/native/Distributions.h``:
``_standard_gamma_grad`` (series for small x, Rice saddle point for large alpha, a rational
fit between) and ``_dirichlet_grad``, evaluated in double."""
import ctypes
import ctypes.util
import math

import numpy as np

from .. import _creation, _dtype, _random
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend.cpu import random as kernels

_libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
_libm.log1pf.restype, _libm.log1pf.argtypes = ctypes.c_float, [ctypes.c_float]
for _name in ("log", "exp", "sqrt"):
    getattr(_libm, _name).restype, getattr(_libm, _name).argtypes = ctypes.c_double, [ctypes.c_double]
_libm.pow.restype, _libm.pow.argtypes = ctypes.c_double, [ctypes.c_double, ctypes.c_double]
_f32 = np.float32
_THIRD_F = float(_f32(1) / _f32(3))  # 1.0f / 3.0f
_C0331_F = float(_f32(0.0331))  # 0.0331f


class _Draws:
    """One 53-bit uniform or one cached-Box-Muller normal at a time, as PyTorch's lambdas."""

    def __init__(self, generator):
        self.gen, self.buffer = _random.stream(generator), np.empty(1, np.float64)

    def uniform(self):
        kernels.uniform64(self.gen._mt, self.gen._ctr, self.buffer, 0.0, 1.0)
        return float(self.buffer[0])

    def normal(self):
        kernels.normal_scalar(self.gen._mt, self.gen._ctr, self.gen._normal, self.buffer, 0.0, 1.0)
        return float(self.buffer[0])


def _log(v):
    """C's log (what PyTorch calls): -inf at 0 and NaN below, where ``math.log`` raises."""
    return math.log(v) if v > 0 else (-math.inf if v == 0 else math.nan)


def _at_least(low, values):
    """``std::max(low, v)`` elementwise: ``low`` where v is NaN (which numpy's maximum keeps)."""
    return np.where(low < values, values, low)


def _gamma_one(alpha, single, draws):
    """``sample_gamma<scalar_t, double>``: ``single`` when scalar_t is float."""
    scale = 1.0
    if alpha < 1.0:
        if alpha == 0.0:
            return 0.0
        exponent = float(_f32(1) / _f32(alpha)) if single else 1.0 / alpha
        scale *= math.pow(1 - draws.uniform(), exponent)
        alpha = float(_f32(alpha) + _f32(1)) if single else alpha + 1.0
    d = float(_f32(alpha) - _f32(_THIRD_F)) if single else alpha - _THIRD_F
    c = 1.0 / math.sqrt(9.0 * d) if d > 0 else (math.inf if d == 0 else math.nan)
    while True:
        while True:
            x = draws.normal()
            y = 1.0 + c * x
            if not y <= 0:  # a NaN leaves, as C's do-while does
                break
        v = y * y * y
        u = 1 - draws.uniform()
        xx = x * x
        if u < 1.0 - _C0331_F * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + _log(v)):
            return scale * d * v


def _floating_only(t, kernel):
    if t.dtype not in (_dtype.float32, _dtype.float64):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype.scalar_type_name(t.dtype)}'")


def _host(t):
    return np.ascontiguousarray(t.detach().cpu().numpy()).reshape(-1)


def _result(values, like):
    return _creation.tensor(np.asarray(values, like.dtype.np).reshape(tuple(like.shape)), dtype=like.dtype,
                            device=like.device)


class StandardGammaBackward0(Function):
    grad_fn_name = "StandardGammaBackward0"

    @staticmethod
    def forward(ctx, alpha, generator):
        single = alpha.dtype is _dtype.float32
        draws = _Draws(generator)
        tiny = float(np.finfo(alpha.dtype.np).tiny)
        samples = [_gamma_one(a, single, draws) for a in _host(alpha).astype(np.float64).tolist()]
        out = np.asarray(samples, np.float64).astype(alpha.dtype.np)
        result = _result(_at_least(alpha.dtype.np.type(tiny), out), alpha)
        ctx.save_for_backward(alpha, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        alpha, result = ctx.saved_tensors
        return grad * _standard_gamma_grad(alpha, result), None


def _standard_gamma(input, generator=None):
    if not isinstance(input, Tensor):
        raise TypeError(f"_standard_gamma(): argument 'self' (position 1) must be Tensor, not {type(input).__name__}")
    _floating_only(input, "gamma_cpu")
    return StandardGammaBackward0.apply(input, generator)


def _sample_dirichlet(input, generator=None):
    """Gammas drawn in double (so small concentrations don't underflow), normalised over the
    last dim and clamped into [tiny, the float below 1] in the input's dtype."""
    if not isinstance(input, Tensor):
        raise TypeError(f"_sample_dirichlet(): argument 'self' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    _floating_only(input, "dirichlet")
    draws = _Draws(generator)
    tiny64 = float(np.finfo(np.float64).tiny)
    gammas = [_gamma_one(a, False, draws) for a in _host(input).astype(np.float64).tolist()]
    gammas = _at_least(tiny64, np.asarray(gammas, np.float64))
    gamma = _creation.tensor(np.asarray(gammas, np.float64).reshape(tuple(input.shape)), dtype=_dtype.float64)
    total = gamma.sum(-1, keepdim=True).expand(tuple(input.shape))  # PyTorch's summation order
    with np.errstate(all="ignore"):
        ratio = (_host(gamma) / _host(total)).astype(input.dtype.np)
    top = np.nextafter(input.dtype.np.type(1), input.dtype.np.type(0))
    low = _at_least(input.dtype.np.type(np.finfo(input.dtype.np).tiny), ratio)
    return _result(np.where(top < low, top, low), input)


# ---------------------------------------------------------------- binomial
_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509, 0.0166446911898211,
         0.0138761288230707, 0.0118967099458917, 0.0104112652619720, 0.00925546218271273, 0.00833056343336287)


def _stirling_tail(k):
    if k < len(_TAIL):
        return _TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _inversion(count, prob, single, draws):
    logprob = float(_libm.log1pf(-prob)) if single else math.log1p(-prob)
    geom_sum, num_geom = 0.0, 0.0
    while True:
        geom = _log(draws.uniform()) / logprob
        geom_sum += math.ceil(geom) if math.isfinite(geom) else geom
        if geom_sum > count:
            return num_geom
        num_geom += 1


def _btrs(count, prob, single, draws):
    s = _f32 if single else float  # arithmetic in scalar_t
    n, p = s(count), s(prob)
    stddev = float(np.sqrt(n * p * (s(1) - p))) if single else math.sqrt(count * prob * (1 - prob))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = float(n * p) + 0.5
    v_r = 0.92 - 4.2 / b
    r = float(p / (s(1) - p))
    alpha = (2.83 + 5.1 / b) * stddev
    m = math.floor(float((n + s(1)) * p))
    while True:
        u = draws.uniform() - 0.5
        v = draws.uniform()
        us = 0.5 - abs(u)
        k = float(s(math.floor((2 * a / us + b) * u + c)))
        if k < 0 or k > count:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        v = _log(v * alpha / (a / (us * us) + b))
        upper = ((m + 0.5) * math.log((m + 1) / (r * (count - m + 1)))
                 + (count + 1) * math.log((count - m + 1) / (count - k + 1))
                 + (k + 0.5) * math.log(r * (count - k + 1) / (k + 1))
                 + _stirling_tail(m) + _stirling_tail(count - m) - _stirling_tail(k) - _stirling_tail(count - k))
        if v <= upper:
            return k


def _binomial_one(count, prob, single, draws):
    if count <= 0.0 or prob <= 0.0:
        return 0.0
    if prob >= 1.0:
        return count
    if prob <= 0.5:
        mean = float(_f32(count) * _f32(prob)) if single else count * prob
        return (_btrs if mean >= 10.0 else _inversion)(count, prob, single, draws)
    if prob > 0.5:
        q = float(_f32(1.0 - prob)) if single else 1.0 - prob
        mean = float(_f32(count) * _f32(q)) if single else count * q
        return count - (_btrs if mean >= 10.0 else _inversion)(count, q, single, draws)
    return math.nan


def binomial(count, prob, generator=None):
    """Draws of Binomial(count, prob), elementwise (count and prob broadcast)."""
    for name, t in (("count", count), ("prob", prob)):
        if not isinstance(t, Tensor):
            raise TypeError(f"binomial(): argument '{name}' must be Tensor, not {type(t).__name__}")
    _floating_only(count, "binomial_cpu")
    shape = tuple(np.broadcast_shapes(tuple(count.shape), tuple(prob.shape)))
    single, draws = count.dtype is _dtype.float32, _Draws(generator)
    counts = np.broadcast_to(count.detach().cpu().numpy(), shape).astype(count.dtype.np).reshape(-1)
    probs = np.broadcast_to(prob.detach().cpu().numpy(), shape).astype(count.dtype.np).reshape(-1)
    samples = [_binomial_one(n, p, single, draws) for n, p in zip(counts.tolist(), probs.tolist())]
    out = np.asarray(samples, np.float64).astype(count.dtype.np).reshape(shape)
    return _creation.tensor(out, dtype=count.dtype, device=count.device)


# ---------------------------------------------------------------- reparameterised gradients
_PSI_10 = 2.25175258906672110764
# ATen's float literals (0.8f, ...) where its double code compares with them
_F08, _F09, _F11, _F1E17 = (float(_f32(v)) for v in (0.8, 0.9, 1.1, 1.0e17))
_DIGAMMA_A = (8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
              -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
              8.33333333333333333333E-2)


def _digamma(x):
    """ATen's ``digamma_one<double, double>``."""
    if x == 0:
        return math.inf
    if math.isinf(x) or math.isnan(x):
        return x if x > 0 or math.isnan(x) else math.nan
    extra = 0.0
    if x < 0:
        if x == math.floor(x):
            return math.inf
        extra, x = -math.pi / math.tan(math.pi * x), 1 - x
    result = 0.0
    while x < 10:
        result -= 1 / x
        x += 1
    if x == 10:
        return result + _PSI_10 + extra
    y = 0.0
    if x < _F1E17:
        z = 1.0 / (x * x)
        poly = 0.0
        for coefficient in _DIGAMMA_A:
            poly = poly * z + coefficient
        y = z * poly
    return result + math.log(x) - (0.5 / x) - y + extra


class _C:
    """The C library's double functions on numpy float64 scalars: IEEE results (inf, NaN)
    where Python's ``math`` raises; arithmetic on these scalars divides by zero as C does."""
    log = staticmethod(lambda v: np.float64(_libm.log(v)))
    exp = staticmethod(lambda v: np.float64(_libm.exp(v)))
    sqrt = staticmethod(lambda v: np.float64(_libm.sqrt(v)))
    pow = staticmethod(lambda a, b: np.float64(_libm.pow(a, b)))


def _gamma_grad_one(alpha, x):
    """-(d/dalpha cdf(x; alpha)) / pdf(x; alpha) for a standard Gamma(alpha) draw x."""
    alpha, x = np.float64(alpha), np.float64(x)
    if x < _F08:
        numer, denom = 1.0, alpha
        series1, series2 = numer / denom, numer / (denom * denom)
        for i in range(1, 6):
            numer *= -x / i
            denom += 1
            series1 += numer / denom
            series2 += numer / (denom * denom)
        pow_x_alpha = _C.pow(x, alpha)
        gamma_pdf = _C.pow(x, alpha - 1) * _C.exp(-x)
        gamma_cdf = pow_x_alpha * series1
        gamma_cdf_alpha = (_C.log(x) - _digamma(alpha)) * gamma_cdf - pow_x_alpha * series2
        result = -gamma_cdf_alpha / gamma_pdf
        return 0.0 if np.isnan(result) else result
    if alpha > 8.0:
        if _F09 * alpha <= x <= _F11 * alpha:
            numer_1 = 1 + 24 * alpha * (1 + 12 * alpha)
            numer_2 = 1440 * (alpha * alpha) + 6 * x * (53 - 120 * x) - 65 * x * x / alpha + alpha * (107 + 3600 * x)
            return numer_1 * numer_2 / (1244160 * (alpha * alpha) * (alpha * alpha))
        denom = _C.sqrt(8 * alpha)
        term2 = denom / (alpha - x)
        term3 = _C.pow(x - alpha - alpha * _C.log(x / alpha), -1.5)
        term23 = term2 - term3 if x < alpha else term2 + term3
        term1 = _C.log(x / alpha) * term23 - _C.sqrt(2 / alpha) * (alpha + x) / ((alpha - x) * (alpha - x))
        stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
        numer = x * term1
        return -stirling * numer / denom
    u, v = _C.log(x / alpha), _C.log(alpha)
    coef = [c0 + u * (c1 + u * c2) for c0, c1, c2 in zip(*_GAMMA_UV)]
    p = coef[0] + v * (coef[1] + v * (coef[2] + v * coef[3]))
    q = coef[4] + v * (coef[5] + v * (coef[6] + v * coef[7]))
    return _C.exp(p / q)


_GAMMA_UV = ((0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089, 0.0014179084),
             (0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113, -0.0035938915,
              -0.00058392623),
             (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326, 0.00085092367,
              -1.5247877e-07))


def _standard_gamma_grad(alpha, x):
    shape = np.broadcast_shapes(tuple(alpha.shape), tuple(x.shape))
    a = np.broadcast_to(alpha.detach().cpu().numpy(), shape).astype(np.float64).reshape(-1)
    v = np.broadcast_to(x.detach().cpu().numpy(), shape).astype(np.float64).reshape(-1)
    with np.errstate(all="ignore"):
        values = np.asarray([_gamma_grad_one(ai, xi) for ai, xi in zip(a.tolist(), v.tolist())], np.float64)
    return _creation.tensor(values.astype(alpha.dtype.np).reshape(shape), dtype=alpha.dtype, device=alpha.device)


FUNCTIONS = {"_standard_gamma": _standard_gamma, "_sample_dirichlet": _sample_dirichlet, "binomial": binomial,
             "_standard_gamma_grad": _standard_gamma_grad}
