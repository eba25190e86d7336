"""The bounds ``random_``/``randint`` draw between, as PyTorch settles them before drawing
(DistributionTemplates.h): for a floating dtype, bounds the dtype cannot hold are moved inward
to values it holds; then both are checked against the dtype's range, with a warning past the
range in which a floating dtype holds every integer."""
import warnings

import numpy as np

from . import _dtype

# the C++ names PyTorch's messages give the dtypes
CPP_NAMES = {"uint8": "unsigned char", "int8": "signed char", "int16": "short int", "int32": "int",
              "int64": "long int", "bool": "bool", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
              "float32": "float", "float64": "double"}
_DIGITS = {"float64": 53, "float32": 24, "float16": 11, "bfloat16": 8}
_FLOAT_MAX = {"float64": 1.7976931348623157e308, "float32": 3.4028234663852886e38, "float16": 65504.0,
              "bfloat16": 3.3895313892515355e38}
INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1


def _through(value, dtype):
    """``static_cast<int64_t>(static_cast<scalar_t>(value))``: an int64 rounded to the
    floating dtype (through float for the 16-bit ones) and back; a value out of int64's range
    comes back as INT64_MIN, as x86 converts it."""
    if dtype is _dtype.float64:
        x = float(np.float64(value))
    else:
        x = np.array([value], np.int64).astype(np.float32)
        x = float(_dtype.host_cast(x, dtype.np).astype(np.float32)[0]) if dtype is not _dtype.float32 else float(x[0])
    return int(x) if np.isfinite(x) and -2.0 ** 63 <= x < 2.0 ** 63 else INT64_MIN


def _step(value, digits):
    """``1 << (n - digits + 1)``, n the index of ``value``'s highest set bit."""
    return 1 << (max(abs(value).bit_length() - 1, 0) - digits + 1)


def _check_in_range(low, high_inc, dtype):
    name = CPP_NAMES.get(dtype.name, dtype.name)
    if dtype.is_floating_point:
        bottom, top = -_FLOAT_MAX[dtype.name], _FLOAT_MAX[dtype.name]
    elif dtype is _dtype.bool_:
        bottom, top = 0, 1
    else:
        info = np.iinfo(dtype.np)
        bottom, top = int(info.min), int(info.max)
    for value, what in ((low, "from"), (high_inc, "to - 1")):
        if not bottom <= value <= top:
            raise RuntimeError(f"{what} is out of bounds for {name}")
    if dtype.is_floating_point:
        digits = _DIGITS[dtype.name]
        for value, what in ((low, "from"), (high_inc, "to - 1")):
            if value < -(1 << digits) or value > (1 << digits):
                from ._creation import _user_stacklevel
                warnings.warn(f"{what} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision limitations "
                              f"{name} can support discrete uniform distribution only within this range. This "
                              "warning will become an error in version 1.7 release, please fix the code in advance",
                              UserWarning, stacklevel=_user_stacklevel())


def from_to(dtype, low, high):
    """(base, span) of the integers ``random_(low, high)`` draws: [low, high), or [low, the
    dtype's largest] when ``high`` is None (2**digits for a floating dtype).  A span of 2**64
    (int64's whole range) is returned as None."""
    low = int(low)
    floating = dtype.is_floating_point
    digits = _DIGITS.get(dtype.name)
    if high is not None:
        high = int(high)
        if low >= high:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
        if floating:
            up, down = _through(low + 1, dtype), _through(high - 1, dtype)
            low = up + _step(low + 1, digits) if up < low else low
            high = down - _step(high - 1, digits) if down >= high else high
            if low >= high:
                raise RuntimeError("random_ expects 'from' casted to dtype to be less than 'to' casted to dtype, "
                                   f"but got from={low} >= to={high}")
        _check_in_range(low, high - 1, dtype)
        return low, high - low
    if low == INT64_MIN:
        return low, None
    if floating:
        high_inc = min(1 << digits, INT64_MAX)
        up = _through(low + 1, dtype)
        low = up + _step(low + 1, digits) if up < low else low
        if low >= high_inc:
            raise RuntimeError("random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' casted "
                               f"to dtype, but got from={low} > to_inc={high_inc}")
    else:
        high_inc = 1 if dtype is _dtype.bool_ else int(np.iinfo(dtype.np).max)
    _check_in_range(low, high_inc, dtype)
    return low, high_inc - low + 1


_CONVERT_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int"}
_RANDPERM_LIMITS = {"float16": ("2049", "Half"), "float32": ("2^24+1", "Float"), "float64": ("2^53+1", "Double")}


def randperm_fits(n, dtype):
    """PyTorch's checks that ``n - 1`` fits ``dtype`` and that a floating dtype holds every
    integer up to it."""
    if dtype is _dtype.bool_:
        raise NotImplementedError("\"randperm\" not implemented for 'Bool'")
    top = n - 1 if n > 0 else n
    if dtype.name in _CONVERT_NAMES:
        limit = int(np.iinfo(dtype.np).max)
        if top > limit:
            raise RuntimeError(f"value cannot be converted to type {_CONVERT_NAMES[dtype.name]} without overflow")
    if dtype.name in _RANDPERM_LIMITS:
        bits = {"float16": 11, "float32": 24, "float64": 53}[dtype.name]
        if n > (1 << bits) + 1:
            words, name = _RANDPERM_LIMITS[dtype.name]
            raise RuntimeError(f"n cannot be greater than {words} for {name} type.")
