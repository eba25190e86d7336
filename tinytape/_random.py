"""tinytape's random numbers: PyTorch's CPU generator, draw for draw.

``Generator`` holds an mt19937 engine seeded as PyTorch seeds it; each function here
draws host (numpy) samples the way PyTorch's CPU kernel for that op does, so a seeded
program prints PyTorch's numbers.  The kernels are in ``backend/cpu/random.py``.  Every
draw reads ``Generator.rng`` (a property): ``tinytape.compile`` watches it to refuse
functions that draw.
"""
import math
import secrets
import weakref

import numpy as np

from . import _dtype, _random_bounds
from .backend.cpu import random as kernels, stl_select
from .backend.layout import elementwise_order

DEFAULT_SEED = 67280421310721  # a new torch.Generator()'s seed
_STATE_BYTES = 5056  # sizeof(CPUGeneratorImplState)
_SMALL_RANDPERM = (2 ** 32 - 1) // 20  # randperm switches to 64-bit draws at this n


def _seed_value(seed):
    """PyTorch's seed: an int in [-2**63, 2**64), negatives taken modulo 2**64.  A sequence
    of ints (a tinytape extension, for independent streams) is hashed to one seed."""
    if isinstance(seed, (list, tuple, np.ndarray)):
        return int(np.random.SeedSequence([int(s) for s in seed]).generate_state(1, np.uint64)[0])
    seed = int(seed)
    if not -2 ** 63 <= seed < 2 ** 64:
        raise ValueError("Overflow when unpacking long long")
    return seed % 2 ** 64


class Generator:
    """A random stream: PyTorch's CPU generator (mt19937), seeded by ``manual_seed``."""

    # every generator alive (weakly): a compiled function's trace must not draw from any
    instances = weakref.WeakSet()

    def __init__(self, device="cpu"):
        self.device = _dtype.as_device(device)
        self._mt = np.zeros(kernels.N, np.uint32)
        self._ctr = np.zeros(2, np.int64)  # [left, next] of PyTorch's engine
        self._normal = np.zeros(2, np.float64)  # [valid, value]: the cached Box-Muller sine
        self._float_normal = np.zeros(2, np.float32)  # the float cache (kept in the state)
        self.manual_seed(DEFAULT_SEED)
        Generator.instances.add(self)

    def manual_seed(self, seed):
        """Seed the stream (an int; PyTorch keeps its low 32 bits in the engine); returns self."""
        self._seed = _seed_value(seed)
        kernels.seed(self._mt, self._ctr, self._seed & 0xFFFFFFFF)
        self._normal[:] = 0
        self._float_normal[:] = 0
        return self

    def seed(self):
        """Seed from the operating system's entropy; returns the seed."""
        value = secrets.randbits(64)
        self.manual_seed(value)
        return value

    @property
    def rng(self):
        """The stream every draw goes through (a property, so that a compiled function's
        trace sees where it draws)."""
        return self

    def initial_seed(self):
        return self._seed


    def get_state(self):
        """The state as PyTorch lays it out: a uint8 tensor of 5056 bytes."""
        from ._creation import tensor
        raw = bytearray(_STATE_BYTES)
        view = memoryview(raw)
        np.frombuffer(view[0:8], np.uint64)[0] = self._seed
        np.frombuffer(view[8:16], np.int32)[:] = (self._ctr[0], 1)
        np.frombuffer(view[16:24], np.uint64)[0] = self._ctr[1]
        np.frombuffer(view[24:24 + 8 * kernels.N], np.uint64)[:] = self._mt
        np.frombuffer(view[5024:5032], np.float64)[0] = self._normal[1] if self._normal[0] else 0.0
        np.frombuffer(view[5040:5044], np.int32)[0] = int(self._normal[0] != 0)
        np.frombuffer(view[5048:5052], np.float32)[0] = self._float_normal[1] if self._float_normal[0] else 0.0
        raw[5052] = int(self._float_normal[0] != 0)
        return tensor(np.frombuffer(bytes(raw), np.uint8), dtype=_dtype.uint8)

    def set_state(self, new_state):
        from ._tensor import Tensor
        if not isinstance(new_state, Tensor) or new_state.dtype is not _dtype.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        raw = np.ascontiguousarray(new_state.detach().cpu().numpy().reshape(-1)).tobytes()
        if len(raw) != _STATE_BYTES:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE_BYTES} but found the "
                               f"input RNG state size to be {len(raw)}")
        left = int(np.frombuffer(raw[8:12], np.int32)[0])
        position = int(np.frombuffer(raw[16:24], np.uint64)[0])
        words = np.frombuffer(raw[24:24 + 8 * kernels.N], np.uint64)
        if not (1 <= left <= kernels.N and position <= kernels.N) or (position == kernels.N and left != 1) \
                or (words >> np.uint64(32)).any():
            raise RuntimeError("Invalid mt19937 state")
        self._seed = int(np.frombuffer(raw[0:8], np.uint64)[0])
        self._mt[:] = words.astype(np.uint32)
        self._ctr[:] = (left, position)
        self._normal[:] = (float(np.frombuffer(raw[5040:5044], np.int32)[0] != 0),
                           np.frombuffer(raw[5024:5032], np.float64)[0])
        self._float_normal[:] = (float(raw[5052] != 0), np.frombuffer(raw[5048:5052], np.float32)[0])
        return self

    def clone_state(self):
        """A new generator in this one's state (seed and stream)."""
        twin = Generator(self.device)
        twin.set_state(self.get_state())
        return twin

    def graphsafe_get_state(self):
        raise NotImplementedError("graphsafe_get_state is not supported in this Generator")

    def graphsafe_set_state(self, state):
        raise NotImplementedError("graphsafe_set_state is not supported in this Generator")

    def get_offset(self):
        raise RuntimeError("CPU Generator does not use offset")

    def set_offset(self, offset):
        raise RuntimeError("CPU Generator does not use offset")

    def __repr__(self):  # PyTorch's generator is its C extension's class, torch._C.Generator
        return f"<tinytape._C.Generator object at {id(self):#x}>"


default_generator = Generator()
default_generator.manual_seed(secrets.randbits(64))  # as PyTorch: a fresh seed per process


def engine(generator=None):
    """The engine arrays (mt, counters) of the generator a draw uses, for draws a backend
    kernel makes (dropout): a compiled program replays such a draw from the generator's
    state at each call, advancing it in place, as eager does.  (Not through ``rng``: the
    compiler refuses the draws that go through it, which a replay would repeat.)"""
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"expected a tinytape.Generator, got {type(generator).__name__}")
    g = generator or default_generator
    return g._mt, g._ctr


def engines():
    """The engine arrays of every generator alive (with the cached Box-Muller sine)."""
    return [a for g in list(Generator.instances) for a in (g._mt, g._ctr, g._normal)]


def recorded_draw(draw, generator, *args):
    """``draw(generator, *args)`` (``normal``, ``uniform``) as a kernel call of the CPU
    backend on the generator's engine arrays: a compiled program replays the draw from the
    generator's state at each call, as it replays dropout's."""
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"expected a tinytape.Generator, got {type(generator).__name__}")
    g = generator or default_generator
    from .backend.cpu import cpu
    return cpu.random_draw(draw, g._mt, g._ctr, g._normal, *args)


def stream(generator):
    """The generator a draw uses (the default one when None), through its ``rng`` property."""
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"expected a tinytape.Generator, got {type(generator).__name__}")
    return (generator or default_generator).rng


def dense_order(t):
    """The layout ``empty_like(t)`` takes (its dimensions, outermost in memory first) where it
    is not C order: PyTorch's preserved memory format sorts ``t``'s dimensions by stride (a
    dense ``t``'s own layout), and a draw then fills memory in order.  None for C order."""
    if t.ndim < 2:
        return None
    return elementwise_order(t._data.shape, (t._data,))


# --------------------------------------------------------------------------- draws
def _to(values, dtype):
    """float64 samples as ``dtype`` the way PyTorch's ``static_cast`` rounds them (a double
    goes to float16/bfloat16 through float)."""
    if dtype is _dtype.float64:
        return values
    with np.errstate(over="ignore", invalid="ignore"):  # a C cast: out of range is infinite, no warning
        return values.astype(np.float32).astype(dtype.np, copy=False)


def _floating(dtype, kernel):
    """PyTorch's error for a floating-point kernel asked for an integer dtype."""
    if not dtype.is_floating_point:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype.scalar_type_name(dtype)}'")


def uniform(gen, n, dtype, low=0.0, high=1.0):
    """``uniform_(low, high)``: n samples of floating ``dtype``; of a complex one, both parts
    drawn so, real part first (PyTorch's draw into ``view_as_real``)."""
    if dtype.is_complex:
        return uniform(gen, 2 * n, dtype.to_real(), low, high).view(dtype.np)
    _floating(dtype, "check_uniform_bounds")
    if dtype is _dtype.float64:
        out = np.empty(n, np.float64)
        kernels.uniform64(gen._mt, gen._ctr, out, float(low), float(high) - float(low))
        return out
    out = np.empty(n, np.float32)
    lo, hi = np.float32(low), np.float32(high)
    kernels.uniform32(gen._mt, gen._ctr, out, 24, lo, np.float32(hi - lo))
    if dtype is _dtype.float32:
        return out
    # float16/bfloat16: drawn as float32 and rounded; a sample that rounds up to ``high``
    # becomes ``low``, keeping the range half-open
    out = out.astype(dtype.np)
    top, bottom = np.asarray([hi, lo], np.float32).astype(dtype.np)
    out[out >= top] = bottom
    return out


def normal(gen, n, dtype, mean=0.0, std=1.0, contiguous=True):
    """``normal_(mean, std)``: PyTorch's block Box-Muller for 16 or more contiguous
    elements, its cached scalar Box-Muller otherwise.  A complex dtype: both parts drawn
    with ``std / sqrt(2)``, real part first (PyTorch's draw into ``view_as_real``)."""
    if dtype.is_complex:
        return normal(gen, 2 * n, dtype.to_real(), mean, std / math.sqrt(2), contiguous).view(dtype.np)
    _floating(dtype, "normal_kernel_cpu")
    if n >= 16 and contiguous:
        if dtype is _dtype.float32:
            out = np.empty(n, np.float32)
            kernels.normal_fill32(gen._mt, gen._ctr, out, np.float32(mean), np.float32(std))
            return out
        if dtype is _dtype.float64:
            out = np.empty(n, np.float64)
            kernels.normal_fill64(gen._mt, gen._ctr, out, float(mean), float(std))
            return out
        return _normal_fill_reduced(gen, n, dtype, mean, std)
    out = np.empty(n, np.float64)
    kernels.normal_scalar(gen._mt, gen._ctr, gen._normal, out, float(mean), float(std))
    return _to(out, dtype)


def _normal_fill_reduced(gen, n, dtype, mean, std):
    """float16/bfloat16, 16 elements or more: the float32 block fill on the whole blocks,
    then 16 fresh draws filled for the last 16 elements, rounded to the dtype."""
    whole = n - n % 16
    out = np.empty(n, np.float32)
    mean, std = np.float32(mean), np.float32(std)
    kernels.normal_fill32(gen._mt, gen._ctr, out[:whole], mean, std)
    if n % 16:
        tail = np.empty(16, np.float32)
        kernels.normal_fill32(gen._mt, gen._ctr, tail, mean, std)
        out[n - 16:] = tail
    return out.astype(dtype.np)


def exponential(gen, n, dtype, lambd=1.0):
    if not dtype.is_floating_point:
        raise RuntimeError("Exponential distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_dtype.scalar_type_name(dtype)}")
    out = np.empty(n, np.float64)
    kernels.exponential(gen._mt, gen._ctr, out, float(lambd))
    return _to(out, dtype)


def bernoulli_scalar(gen, n, p):
    """n draws of ``u < p`` (u: 53 bits), as booleans."""
    out = np.empty(n, np.bool_)
    kernels.bernoulli64(gen._mt, gen._ctr, np.array([float(p)]), out)
    return out


def bernoulli_tensor(gen, p):
    """One draw per element of the host array ``p``: a double p compares a 53-bit uniform,
    any other dtype a 24-bit float one."""
    flat = np.ascontiguousarray(p).reshape(-1)
    out = np.empty(flat.shape[0], np.bool_)
    if flat.dtype == np.float64:
        kernels.bernoulli64(gen._mt, gen._ctr, flat, out)
    else:
        kernels.bernoulli32(gen._mt, gen._ctr, flat.astype(np.float32), out)
    return out.reshape(np.shape(p))


_WIDE_RANGE = 2 ** 28  # ranges this wide take 64-bit draws (measured on PyTorch 2.14)


def random_from_to(gen, n, dtype, low, high):
    """``random_(low, high)``: (draw % span) + base over the bounds PyTorch settles on
    (``_random_bounds``); ``high`` None: up to the dtype's largest integer."""
    low, span = _random_bounds.from_to(dtype, low, high)
    out = np.empty(n, np.int64)
    if span is None:  # int64's whole range: one 64-bit draw each, as it is
        if dtype.is_floating_point and dtype.name not in ("float64", "float32", "bfloat16") \
                or dtype is _dtype.bool_:
            raise NotImplementedError("\"random_full_64_bits_range_kernel_cpu\" not implemented for "
                                      f"'{_dtype.scalar_type_name(dtype)}'")
        if dtype.name not in ("int64", "float64", "float32", "bfloat16"):
            raise RuntimeError("random_full_64_bits_range_kernel_cpu handles only int64, double, float and bfloat16")
        kernels.draw64(gen._mt, gen._ctr, out.view(np.uint64))
        return _dtype.host_cast(out, dtype.np)
    kernels.randint_from_to(gen._mt, gen._ctr, out, np.uint64(span), low, span >= _WIDE_RANGE)
    return _dtype.host_cast(out, dtype.np)


def random_full(gen, n, dtype):
    """``random_()``: integers on [0, 2**digits] for floating dtypes, [0, max] for integers."""
    if dtype is _dtype.bool_:
        out = np.empty(n, np.int64)
        kernels.randint_from_to(gen._mt, gen._ctr, out, np.uint64(2), 0, False)
        return out.astype(np.bool_)
    if dtype.is_floating_point:
        digits = {"float64": 53, "float32": 24, "float16": 11, "bfloat16": 8}[dtype.name]
        span, wide = 2 ** digits + 1, dtype is _dtype.float64
    else:
        span, wide = int(np.iinfo(dtype.np).max) + 1, dtype is _dtype.int64
    out = np.empty(n, np.int64)
    kernels.randint_from_to(gen._mt, gen._ctr, out, np.uint64(span), 0, wide)
    return _dtype.host_cast(out, dtype.np)


def randperm(gen, n):
    out = np.empty(int(n), np.int64)
    (kernels.randperm_small if n < _SMALL_RANDPERM else kernels.randperm_large)(gen._mt, gen._ctr, out)
    return out


def multinomial(gen, weights, num_samples, replacement, order=None):
    """Row-wise category indices from host ``weights`` (2-D, validated by the caller): the
    exponential race (argmax / top-k of w / Exp(1)) without replacement or for one sample,
    a binary search of the cumulative distribution otherwise.  ``order`` (the weights'
    layout, outermost dimension first): the Exp(1) draws fill that layout in memory order."""
    rows, n = weights.shape
    if not replacement or num_samples == 1:
        dtype = _dtype.from_numpy_dtype(weights.dtype)
        q = exponential(gen, rows * n, dtype)
        if order is None:
            q = q.reshape(rows, n)
        else:
            q = np.transpose(q.reshape([(rows, n)[d] for d in order]), np.argsort(order))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            q = (weights / q).astype(weights.dtype)
        if num_samples == 1:
            return np.argmax(q, axis=1)[:, None]
        return stl_select.topk_rows(np.ascontiguousarray(q, np.float64), num_samples)
    acc = np.float64 if weights.dtype == np.float64 else np.float32
    cum = np.cumsum(weights.astype(acc), axis=1, dtype=acc)
    cum = (cum / cum[:, -1:]).astype(acc)
    out = np.empty((rows, num_samples), np.int64)
    kernels.multinomial_replacement(gen._mt, gen._ctr, np.ascontiguousarray(cum), out)
    return out


# ---- the default generator's functions (``torch.manual_seed``...)
def manual_seed(seed):
    """Seed the default generator; returns it."""
    return default_generator.manual_seed(seed)


def seed():
    """Seed the default generator from the operating system's entropy; returns the seed."""
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state (a uint8 tensor laid out as PyTorch's)."""
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)
