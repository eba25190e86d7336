"""``_dirichlet_grad(x, alpha, total)``: the reparameterised gradient of a Beta(alpha,
total - alpha) draw x with respect to alpha, scaled by 1 / (1 - x) (ATen's
``dirichlet_grad_one``: Taylor series near 0 and near 1, a Rice saddle point when both
concentrations pass 6, a rational correction to an analytic approximation otherwise),
evaluated on the host with ATen's mix of precisions: for float32 inputs the series run in
float32 arithmetic (with the C library's logf and powf), the rest in double."""
import ctypes
import math

import numpy as np

from .. import _creation, _dtype
from .gamma_sampling import _C, _DIGAMMA_A, _PSI_10, _digamma, _libm


class _Double:
    """scalar_t = double: float64 arithmetic, the C library's log and pow."""
    S, log, pow = np.float64, _C.log, _C.pow


class _Single:
    """scalar_t = float: float32 arithmetic, logf and powf (what ATen's template computes in
    ``scalar_t`` for float inputs)."""
    S, log, pow = np.float32, staticmethod(lambda v: np.float32(_libm.logf(v))), \
        staticmethod(lambda a, b: np.float32(_libm.powf(a, b)))


_libm.logf.restype, _libm.logf.argtypes = ctypes.c_float, [ctypes.c_float]
_libm.powf.restype, _libm.powf.argtypes = ctypes.c_float, [ctypes.c_float, ctypes.c_float]
_libm.tanf.restype, _libm.tanf.argtypes = ctypes.c_float, [ctypes.c_float]


def _digamma_of(x, f):
    """``digamma_one<scalar_t, double>``: ``x`` and its recurrence in scalar_t, the sums in double."""
    if f is _Double:
        return _digamma(x)
    S = f.S
    x = S(x)
    if x == 0:
        return S(math.inf)
    if not np.isfinite(x):
        return x if x > 0 or np.isnan(x) else S(math.nan)
    extra = 0.0
    if x < 0:
        if x == S(math.floor(x)):
            return S(math.inf)
        pi = S(math.pi)
        extra = float(-pi / S(_libm.tanf(pi * x)))
        x = S(1) - x
    result = 0.0
    while x < 10:
        result -= float(S(1) / x)
        x = x + S(1)
    if x == 10:
        return S(result + _PSI_10 + extra)
    y = 0.0
    if x < S(1.0e17):
        z = 1.0 / float(x * x)
        poly = 0.0
        for coefficient in _DIGAMMA_A:
            poly = poly * z + coefficient
        y = z * poly
    return S(result + float(f.log(x)) - float(S(0.5) / x) - y + extra)


def _grad_alpha_small(x, alpha, beta, f=_Double):
    S = f.S
    factor = _digamma_of(alpha, f) - _digamma_of(alpha + beta, f) - f.log(x)
    numer = S(1)
    series = numer / alpha * (factor + S(1) / alpha)
    for i in range(1, 11):
        numer *= (S(i) - beta) * x / S(i)
        denom = alpha + S(i)
        series += numer / denom * (factor + S(1) / denom)
    result = x * f.pow(S(1) - x, -beta) * series
    return S(0) if math.isnan(result) else result


def _grad_beta_small(x, alpha, beta, f=_Double):
    S = f.S
    factor = _digamma_of(alpha + beta, f) - _digamma_of(beta, f)
    numer, betas, dbetas, series = S(1), S(1), S(0), factor / alpha
    for i in range(1, 9):
        numer *= -x / S(i)
        dbetas = dbetas * (beta - S(i)) + betas
        betas = betas * (beta - S(i))
        series += numer / (alpha + S(i)) * (dbetas + factor * betas)
    result = -f.pow(S(1) - x, S(1) - beta) * series
    return S(0) if math.isnan(result) else result


def _grad_alpha_mid(x, alpha, beta):
    x, alpha, beta = np.float64(x), np.float64(alpha), np.float64(beta)
    total = alpha + beta
    mean = alpha / total
    std = _C.sqrt(alpha * beta / (total + 1)) / total
    if mean - 0.1 * std <= x <= mean + 0.1 * std:
        poly = 47 * x * (beta * beta) * (beta * beta) + alpha * (
            (43 + 20 * (16 + 27 * beta) * x) * (beta * beta) * beta + alpha * (
                3 * (59 + 180 * beta - 90 * x) * (beta * beta) + alpha * (
                    (453 + 1620 * beta * (1 - x) - 455 * x) * beta + alpha * (8 * (1 - x) * (135 * beta - 11)))))
        prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
        prefactor_den = 12960 * alpha * alpha * alpha * beta * beta * (1 + 12 * total)
        return prefactor_num / (1 - x) * poly / prefactor_den
    prefactor = -x / _C.sqrt(2 * alpha * beta / total)
    stirling = ((1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha)) * (1 + 1 / (12 * beta) + 1 / (288 * beta * beta))
                / (1 + 1 / (12 * total) + 1 / (288 * total * total)))
    term1_num = 2 * (alpha * alpha) * (x - 1) + alpha * beta * (x - 1) - x * (beta * beta)
    axbx = alpha * (x - 1) + beta * x
    term1_den = _C.sqrt(2 * alpha / beta) * _C.pow(total, 1.5) * axbx * axbx
    term1 = term1_num / term1_den
    term2 = 0.5 * _C.log(alpha / (total * x))
    term3 = _C.sqrt(8 * alpha * beta / total) / (beta * x + alpha * (x - 1))
    term4_base = beta * _C.log(beta / (total * (1 - x))) + alpha * _C.log(alpha / (total * x))
    term4 = _C.pow(term4_base, -1.5)
    return stirling * prefactor * (term1 + term2 * (term3 + (term4 if x < mean else -term4)))


_COEFFICIENTS = (((((1.003668233, -0.01061107488, -0.0657888334, 0.01201642863),
         (0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033),
         (-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013)),
        ((0.221950385, -0.3187676331, 0.01799915743, 0.01074823814),
         (-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057),
         (0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05)),
        ((-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565),
         (0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181),
         (0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05))),
       (((1, -0.02924021934, -0.04438342661, 0.007285809825),
         (0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521),
         (-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149)),
        ((0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273),
         (0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956),
         (-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05)),
        ((0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05),
         (0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05),
         (-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06)))))


def _dirichlet_grad_one(x, alpha, total, f=_Double):
    """``dirichlet_grad_one<scalar_t, double>`` on scalar_t inputs (``f`` says which)."""
    S = f.S
    x_, alpha_, total_ = np.float64(x), np.float64(alpha), np.float64(total)
    x, alpha, total = S(x), S(alpha), S(total)
    beta = total - alpha
    beta_ = total_ - alpha_
    boundary = total * x * (S(1) - x)
    if x <= S(0.5) and boundary < S(2.5):
        return _grad_alpha_small(x, alpha, beta, f)
    if x >= S(0.5) and boundary < S(0.75):
        return -_grad_beta_small(S(1) - x, beta, alpha, f)
    if alpha > 6 and beta > 6:
        return _grad_alpha_mid(x_, alpha_, beta_)
    u = _C.log(x_)
    a = _C.log(alpha_) - u
    b = _C.log(total_) - a
    pow_u, pow_a = (1, u, u * u), (1, a, a * a)
    p = q = 0.0
    for i in range(3):
        for j in range(3):
            ua = pow_u[i] * pow_a[j]
            c0, c1 = _COEFFICIENTS[0][i][j], _COEFFICIENTS[1][i][j]
            p += ua * (c0[0] + b * (c0[1] + b * (c0[2] + b * c0[3])))
            q += ua * (c1[0] + b * (c1[1] + b * (c1[2] + b * c1[3])))
    approx = x_ * float(_digamma_of(total_, f) - _digamma_of(alpha_, f)) / beta_
    return p / q * approx


def _dirichlet_grad(x, alpha, total):
    if not (tuple(x.shape) == tuple(alpha.shape) == tuple(total.shape)):
        raise RuntimeError(f"_dirichlet_grad: expected x, alpha and total of one shape, got {list(x.shape)}, "
                           f"{list(alpha.shape)} and {list(total.shape)}")
    columns = [np.ascontiguousarray(t.detach().cpu().numpy()).astype(np.float64).reshape(-1) for t in (x, alpha, total)]
    f = _Single if x.dtype is _dtype.float32 else _Double
    with np.errstate(all="ignore"):
        values = np.asarray([float(_dirichlet_grad_one(*v, f)) for v in zip(*(c.tolist() for c in columns))],
                            np.float64)
    return _creation.tensor(values.astype(x.dtype.np).reshape(tuple(x.shape)), dtype=x.dtype, device=x.device)


FUNCTIONS = {"_dirichlet_grad": _dirichlet_grad}
