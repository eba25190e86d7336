"""Bit shifts: ``bitwise_left_shift`` / ``bitwise_right_shift`` and the ``<<``, ``>>``,
``<<=``, ``>>=`` operators, on integer tensors (and bool ones promoted by a number).

PyTorch's semantics: a shift by a negative amount or by the width of the dtype or more
gives 0 to the left and the sign (0 or -1) to the right; within range the left shift wraps
(``int8(1) << 7`` is -128) and the right shift is arithmetic for signed dtypes.  Computed
on the host in int64, where every narrower dtype's answer is the low bits of the wide one,
and not differentiable (as PyTorch's, integer-only).  A Python int operand is wrapped into
the tensor's dtype first, as PyTorch converts it (``int8 << 257`` shifts by 1).
"""
import numpy as np

from .. import _dtype
from .._tensor import Tensor
from . import elementwise as ew
from . import from_table
from . import special_math as sm

_WIDTH_64 = 64


def _wrapped_number(like, number):
    """A Python int operand as a 0-d tensor of ``like``'s integer dtype, wrapped as a C cast."""
    if isinstance(number, bool) or not isinstance(number, (int, np.integer)) or like.dtype.is_floating_point \
            or like.dtype is _dtype.bool_:
        return number
    value = np.array(int(number) & (2 ** 64 - 1), np.uint64).astype(like.dtype.np)
    return Tensor._make(like._backend.asarray(value), backend=like._backend)


def _shift(input, other, left):
    name = "lshift" if left else "rshift"
    op = "bitwise_left_shift" if left else "bitwise_right_shift"
    if isinstance(input, Tensor) and not isinstance(other, Tensor):
        other = _wrapped_number(input, other)
    elif isinstance(other, Tensor) and not isinstance(input, Tensor):
        input = _wrapped_number(other, input)
    a, b = ew.operands(input, other, op)
    if a.dtype.is_floating_point or a.dtype is _dtype.bool_:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{_dtype.scalar_type_name(a.dtype)}'")
    width = 8 * a.dtype.itemsize
    wide_a = sm._host(a).astype(np.int64)
    wide_b = sm._host(b).astype(np.int64)
    outside = (wide_b < 0) | (wide_b >= width)
    if left:
        out = np.where(outside, 0, np.left_shift(wide_a, np.clip(wide_b, 0, _WIDTH_64 - 1)))
    else:  # past the width: the sign, a shift by 63 of the value widened
        out = np.right_shift(wide_a, np.where(outside, _WIDTH_64 - 1, wide_b))
    return a._new(a._backend.asarray(np.array(out.astype(a.dtype.np), order="C")))


def bitwise_left_shift(input, other):
    """``input << other`` elementwise (integer dtypes)."""
    return _shift(input, other, True)


def bitwise_right_shift(input, other):
    """``input >> other`` elementwise (integer dtypes; arithmetic for signed ones)."""
    return _shift(input, other, False)


def _inplace(name, fn):
    def method(self, other):
        return self._inplace(name, fn, other)
    method.__name__ = method.__qualname__ = name
    return method


# the in-place forms of bitwise and, or, xor (their out-of-place forms are the op table's)
_LOGICAL = {"and": from_table.bitwise_and, "or": from_table.bitwise_or, "xor": from_table.bitwise_xor}
FUNCTIONS = {"bitwise_left_shift": bitwise_left_shift, "bitwise_right_shift": bitwise_right_shift}
METHODS = {
    **FUNCTIONS,
    "bitwise_left_shift_": _inplace("bitwise_left_shift_", bitwise_left_shift),
    "bitwise_right_shift_": _inplace("bitwise_right_shift_", bitwise_right_shift),
    "__lshift__": bitwise_left_shift, "__rshift__": bitwise_right_shift,
    "__rlshift__": lambda self, other: bitwise_left_shift(other, self),
    "__rrshift__": lambda self, other: bitwise_right_shift(other, self),
    "__ilshift__": _inplace("__ilshift__", bitwise_left_shift),
    "__irshift__": _inplace("__irshift__", bitwise_right_shift),
    **{f"bitwise_{name}_": _inplace(f"bitwise_{name}_", fn) for name, fn in _LOGICAL.items()},
    **{f"__i{name}__": _inplace(f"__i{name}__", fn) for name, fn in _LOGICAL.items()},
}
