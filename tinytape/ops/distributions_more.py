"""More of PyTorch's random fills: ``Tensor.cauchy_``, ``log_normal_``, ``geometric_`` and
``torch.poisson``, drawn from tinytape's mt19937 stream as PyTorch's CPU kernels draw them
(one serial pass over the elements, each transformed in double and cast to the dtype):

- cauchy_(median, sigma): median + sigma * tan(pi * (u - 0.5)), u a 53-bit uniform;
- log_normal_(mean, std): exp(normal_distribution<double>(mean, std)), the scalar
  Box-Muller with its cached second sample, for any size;
- geometric_(p): ceil(log(u) / log1p(-p));
- poisson(rates): per element, Knuth's product of uniforms below rate 10, Hoermann's
  transformed rejection from 10 up.

The transforms run through Python's ``math`` (the C library's tan, log, exp: what
PyTorch's serial kernels call), so the samples are PyTorch's bit for bit."""
import math

import numpy as np

from .. import _creation, _dtype, _random, _random_bounds
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend.cpu import random as kernels
from .sampling import _fill


def _uniforms(gen, n):
    out = np.empty(n, np.float64)
    kernels.uniform64(gen._mt, gen._ctr, out, 0.0, 1.0)
    return out


def _floating(self, kernel):
    if not self.dtype.is_floating_point:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype.scalar_type_name(self.dtype)}'")


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    if not self.dtype.is_floating_point:
        raise RuntimeError("Cauchy distribution is a continuous probability distribution. dtype must be a floating "
                           f"point but you specified {_random_bounds.CPP_NAMES.get(self.dtype.name, self.dtype.name)}")
    gen = _random.stream(generator)
    median, sigma = float(median), float(sigma)
    tan, pi = math.tan, math.pi
    samples = [median + sigma * tan(pi * (u - 0.5)) for u in _uniforms(gen, self.numel()).tolist()]
    return _fill(self, _random._to(np.array(samples, np.float64), self.dtype))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    _floating(self, "log_normal_cpu")
    if not std > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    gen = _random.stream(generator)
    normal = np.empty(self.numel(), np.float64)
    kernels.normal_scalar(gen._mt, gen._ctr, gen._normal, normal, float(mean), float(std))
    exp = math.exp
    samples = np.array([exp(v) for v in normal.tolist()], np.float64)
    return _fill(self, _random._to(samples, self.dtype))


def geometric_(self, p, *, generator=None):
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    gen = _random.stream(generator)
    log, denominator = math.log, math.log1p(-float(p))
    samples = np.array([math.ceil(log(u) / denominator) if u > 0 else math.inf
                        for u in _uniforms(gen, self.numel()).tolist()], np.float64)
    if self.dtype.is_floating_point:
        return _fill(self, _random._to(samples, self.dtype))
    return _fill(self, _dtype.host_cast(samples.astype(np.int64), self.dtype.np))


class _Uniform:
    """One 53-bit uniform at a time (poisson draws a number of them that depends on the
    values drawn)."""

    def __init__(self, gen):
        self.gen, self.buffer = gen, np.empty(1, np.float64)

    def __call__(self):
        kernels.uniform64(self.gen._mt, self.gen._ctr, self.buffer, 0.0, 1.0)
        return float(self.buffer[0])


def _sample_poisson(rate, uniform):
    if rate >= 10:
        slam, loglam = math.sqrt(rate), math.log(rate)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            U = uniform() - 0.5
            V = uniform()
            us = 0.5 - abs(U)
            k = (2 * a / us + b) * U + rate + 0.43
            # PyTorch's (int64_t) cast: a value out of range (an infinite rate) becomes INT64_MIN
            k = math.floor(k) if -2.0 ** 63 <= k < 2.0 ** 63 else -2 ** 63
            if us >= 0.07 and V <= vr:
                return k
            if k < 0 or (us < 0.013 and V > us):
                continue
            if (math.log(V) + math.log(invalpha) - math.log(a / (us * us) + b)) <= \
                    (-rate + k * loglam - math.lgamma(k + 1)):
                return k
    if rate == 0:
        return 0
    enlam, x, prod = math.exp(-rate), 0, 1.0
    while True:
        prod *= uniform()
        if prod > enlam:
            x += 1
        else:
            return x


class PoissonBackward0(Function):
    grad_fn_name = "PoissonBackward0"

    @staticmethod
    def forward(ctx, rates, generator):
        r = np.asarray(rates.detach().double().cpu().numpy(), np.float64).reshape(-1)
        if (r < 0).any() or np.isnan(r).any():
            raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
        uniform = _Uniform(_random.stream(generator))
        samples = np.array([_sample_poisson(v, uniform) for v in r.tolist()], np.float64)
        return _creation.tensor(_random._to(samples, rates.dtype).reshape(tuple(rates.shape)), dtype=rates.dtype,
                                device=rates.device)

    @staticmethod
    def backward(ctx, g):
        return g * 0, None


def poisson(input, generator=None):
    if not isinstance(input, Tensor):
        raise TypeError(f"poisson(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'")
    return PoissonBackward0.apply(input, generator)


FUNCTIONS = {"poisson": poisson}
METHODS = {"cauchy_": cauchy_, "log_normal_": log_normal_, "geometric_": geometric_}
