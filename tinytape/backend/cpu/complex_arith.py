"""Complex arrays on the CPU: numpy's complex loops, by op code.

The elementwise, comparison and reduction entry points of ``CPUBackend`` hand a complex
(complex64 / complex128) array here before any njit kernel sees it: the kernels are
compiled for real dtypes, and numpy's complex loops (Smith's division, C99 ``cexp``,
``clog``, ``csqrt``) are the ones PyTorch's CPU kernels match to float tolerance.  An op
code with no complex meaning is a ValueError (the ops layer refuses those first, with
PyTorch's words).
"""
import numpy as np

from ..opcodes import (ABS, ACOS, ADD, ASIN, ATAN, COS, COSH, DIV, EQ, EXP, EXPM1, LOG, LOG1P, LOG2, LOG10, MUL, NE,
                       NEG, POW, RECIPROCAL, RSQRT, SIGMOID, SIN, SINH, SQRT, SQUARE, SUB, SUM, TAN, TANH)

UNARY = {NEG: np.negative, ABS: np.abs, SQRT: np.sqrt, EXP: np.exp, LOG: np.log, TANH: np.tanh, SIN: np.sin,
         COS: np.cos, SQUARE: np.square, LOG1P: np.log1p, EXPM1: np.expm1, LOG2: np.log2, LOG10: np.log10,
         TAN: np.tan, ATAN: np.arctan, ASIN: np.arcsin, ACOS: np.arccos, SINH: np.sinh, COSH: np.cosh,
         RECIPROCAL: np.reciprocal, RSQRT: lambda x: np.reciprocal(np.sqrt(x)),
         SIGMOID: lambda x: np.reciprocal(1 + np.exp(-x))}
BINARY = {ADD: np.add, SUB: np.subtract, MUL: np.multiply, DIV: np.true_divide, POW: np.power}
COMPARE = {EQ: np.equal, NE: np.not_equal}


def _quiet(function, *arrays):
    """``function`` on the arrays with numpy's warnings off (division by 0, overflow: inf
    and nan silently, as PyTorch's), the result an array (0-d included) of the inputs' dtype."""
    with np.errstate(all="ignore"):
        return np.asarray(function(*arrays))


def _served(table, op, entry):
    function = table.get(op)
    if function is None:
        raise ValueError(f"{entry}: op code {op!r} has no complex kernel")
    return function


def unary(op, x):
    out = _quiet(_served(UNARY, op, "unary"), x)
    return out if op == ABS else out.astype(x.dtype, copy=False)


def binary(op, a, b, out=None):
    result = _quiet(_served(BINARY, op, "binary"), a, b).astype(a.dtype, copy=False)
    if out is None:
        return result
    np.copyto(out, result)
    return out


def compare(op, a, b):
    return _quiet(_served(COMPARE, op, "compare"), a, b)


def reduce(op, x, dims, keepdim):
    if op != SUM:
        raise ValueError(f"reduce: op code {op!r} has no complex kernel")
    return np.asarray(np.sum(x, axis=tuple(dims) if dims else None, keepdims=keepdim), dtype=x.dtype)


def where(cond, a, b):
    return np.where(cond, a, b)
