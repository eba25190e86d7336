"""The CPU backend's short paths for the common layouts (``binary``, ``compare``, ``where``,
``reduce``, ``fill``) give what the shared planning (``Backend``) gives, bit for bit, on
every layout either one takes: same shape, a 0-d number on either side, a broadcast
number, views, empty and one-element arrays, each dtype family."""
import numpy as np
import pytest

from tinytape.backend.base import Backend
from tinytape.backend.cpu import cpu
from tinytape.backend.opcodes import ADD, DIV, GT, LE, MAXIMUM, MUL, POW, SUB, SUM, SUMSQ, MAX

SPECIAL = np.array([0.0, -0.0, 1.5, -2.25, np.inf, -np.inf, np.nan, 3e38, 1e-40, 7.0], np.float64)


def _layouts(dtype):
    """(a, b) pairs: each a layout the short paths take or must leave to the planning."""
    rng = np.random.default_rng(0)
    if np.dtype(dtype).kind == "f":
        base = rng.standard_normal((4, 10)).astype(dtype)
        base[0] = SPECIAL.astype(dtype)
    elif np.dtype(dtype).kind == "b":
        base = rng.random((4, 10)) > 0.5
    else:
        base = rng.integers(-5, 6, (4, 10)).astype(dtype)
    other = base[::-1].copy()
    number = np.asarray(base[0, 2], dtype)
    return {
        "same shape": (base, other),
        "number second": (base, number),
        "number first": (number, base),
        "broadcast number first": (np.broadcast_to(number, base.shape), other),
        "transposed": (base.T, other.T),
        "row broadcast": (base, other[:1]),
        "one element": (base[:1, :1].copy(), other[:1, :1].copy()),
        "empty": (base[:0], other[:0]),
        "0-d both": (number, np.asarray(other[1, 1], dtype)),
        "1-d": (base[1].copy(), other[1].copy()),
    }


def _same(x, y):
    assert x.shape == y.shape and x.dtype == y.dtype
    bits = {2: np.uint16, 4: np.uint32, 8: np.uint64}
    if x.dtype.kind == "f":  # bits: signed zeros, nans
        x, y = np.reshape(x, -1).view(bits[x.itemsize]), np.reshape(y, -1).view(bits[y.itemsize])
    np.testing.assert_array_equal(x, y)


# each (dtype, op) compiles kernels of its own: the default run takes every op in float32 and
# the integer family through ADD and DIV (a float result), the slow set every pair
@pytest.mark.parametrize("dtype, op", [
    pytest.param(dtype, op, marks=() if dtype == np.float32 or (dtype == np.int64 and op in (ADD, DIV))
                 else pytest.mark.slow)
    for dtype in (np.float32, np.float64, np.int64, np.int32) for op in (ADD, SUB, MUL, DIV, MAXIMUM, POW)
    if not (op == POW and np.dtype(dtype).kind == "i")])  # refused before
def test_binary_matches_the_shared_planning(dtype, op):
    for name, (a, b) in _layouts(dtype).items():
        with np.errstate(all="ignore"):
            _same(cpu.binary(op, a, b), Backend.binary(cpu, op, a, b))


@pytest.mark.parametrize("dtype", [np.float32, pytest.param(np.float64, marks=pytest.mark.slow),
                                   pytest.param(np.int64, marks=pytest.mark.slow)])
def test_binary_in_place_matches_the_shared_planning(dtype):
    for name, (a, b) in _layouts(dtype).items():
        if np.broadcast_shapes(a.shape, b.shape) != a.shape or not a.flags.writeable:
            continue
        fast, planned = a.copy(), a.copy()
        out = cpu.binary(SUB, fast, b, out=fast)
        Backend.binary(cpu, SUB, planned, b, out=planned)
        assert out is fast, name
        _same(fast, planned)


# the default run: float32 and bool (an integer family of its own); the slow set float64 and int64 too
SOME_DTYPES = [np.float32, pytest.param(np.float64, marks=pytest.mark.slow),
               pytest.param(np.int64, marks=pytest.mark.slow), np.bool_]


@pytest.mark.parametrize("dtype", SOME_DTYPES)
def test_compare_matches_the_shared_planning(dtype):
    for name, (a, b) in _layouts(dtype).items():
        for op in (GT, LE):
            _same(cpu.compare(op, a, b), Backend.compare(cpu, op, a, b))


@pytest.mark.parametrize("dtype", SOME_DTYPES)
def test_where_matches_the_shared_planning(dtype):
    for name, (a, b) in _layouts(dtype).items():
        shape = np.broadcast_shapes(a.shape, b.shape)
        rng = np.random.default_rng(1)
        for cond in (rng.random(shape) > 0.5, np.zeros(shape, bool), np.ones(shape, bool)):
            _same(cpu.where(cond, a, b), Backend.where(cpu, cond, a, b))
    cond = np.array([True, False, True])
    _same(cpu.where(cond, np.asarray(1.0), np.asarray(2.0)), np.array([1.0, 2.0, 1.0]))  # two numbers


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", [SUM, SUMSQ, MAX])
def test_full_reduction_matches_the_shared_planning(dtype, op):
    for name, (a, b) in _layouts(dtype).items():
        if not a.size or op == SUM and not a.flags.c_contiguous:
            continue  # a strided float sum adds in PyTorch's order (test_sum_order.py), not a C-order copy's
        for keepdim in (False, True):
            _same(cpu.reduce(op, a, (), keepdim), Backend.reduce(cpu, op, a, (), keepdim))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("size", [0, 1, 100, 5000])
@pytest.mark.parametrize("value", [0, 1.5, -0.0, float("nan"), 12345, 2 ** 24 + 1])
def test_fill_matches_writing_the_number(dtype, size, value):
    x = np.ones(size, dtype)
    with np.errstate(over="ignore"):  # 2 ** 24 + 1 is inf in float16, on either side
        cpu.fill(x, value)
        _same(x, np.full(size, np.asarray(value, dtype)))
