"""Elementwise CPU kernels: one kernel per arity, the operation passed as an op code.

Kernels take flat C-contiguous buffers (one signature per dtype) or, for broadcasting
and strided inputs, read-only 4-D views whose broadcast dimensions have size 1; the
shape logic lives in Python (``tinytape.backend.cpu``).

The op code is tested once, outside the loop: each branch inlines the loop with the op
as a constant, so LLVM vectorises it.  Testing it per element instead made a 100 000-
element float32 subtraction 28x slower (520 us vs 18.5 us; numpy: 40 us).
"""
import numpy as np
from numba import njit

from .. import scalar_ops
from ..opcodes import (
    ABS, ADD, BCE, BCE_WITH_LOGITS, COS, DIV, EQ, EXP, GE, GT, LE, LOG, LT, MAXIMUM,
    MINIMUM, MUL, NE, NEG, POW, RECIPROCAL, RELU, SIGMOID, SIGN, SIN, SQRT, SUB, TANH,
)

# numba's transcendental functions run 5-60x slower than numpy's SIMD ufuncs on this
# llvmlite (measured, float32, 2 400 elements: exp 13.3 us vs 2.7 us, tanh 55.8 us vs
# 2.3 us; 100 000 elements: exp 624 us vs 68 us), so these op codes are served by
# numpy ufuncs writing into the preallocated output.  The rest run in ``unary`` below.
NUMPY_UNARY = {
    EXP: np.exp,
    LOG: np.log,
    TANH: np.tanh,
    SIN: np.sin,
    COS: np.cos,
}


_unary_op = njit(inline="always", nogil=True)(scalar_ops.unary_op)
_binary_op = njit(inline="always", nogil=True)(scalar_ops.binary_op)
_compare_op = njit(inline="always", nogil=True)(scalar_ops.compare_op)


@njit(inline="always", cache=True, nogil=True)
def _unary_loop(op, x, out):
    for i in range(x.size):
        out[i] = _unary_op(op, x[i])


@njit(cache=True, nogil=True)
def unary(op, x, out):
    if op == NEG:
        _unary_loop(NEG, x, out)
    elif op == ABS:
        _unary_loop(ABS, x, out)
    elif op == SQRT:
        _unary_loop(SQRT, x, out)
    elif op == RELU:
        _unary_loop(RELU, x, out)
    elif op == SIGN:
        _unary_loop(SIGN, x, out)
    elif op == RECIPROCAL:
        _unary_loop(RECIPROCAL, x, out)
    elif op == SIGMOID:
        _unary_loop(SIGMOID, x, out)


@njit(inline="always", cache=True, nogil=True)
def _binary_loop(op, a, b, out):
    for i in range(out.size):
        out[i] = _binary_op(op, a[i], b[i])


@njit(cache=True, nogil=True)
def binary(op, a, b, out):
    if op == ADD:
        _binary_loop(ADD, a, b, out)
    elif op == SUB:
        _binary_loop(SUB, a, b, out)
    elif op == MUL:
        _binary_loop(MUL, a, b, out)
    elif op == DIV:
        _binary_loop(DIV, a, b, out)
    elif op == POW:
        _binary_loop(POW, a, b, out)
    elif op == MAXIMUM:
        _binary_loop(MAXIMUM, a, b, out)
    elif op == MINIMUM:
        _binary_loop(MINIMUM, a, b, out)
    elif op == BCE_WITH_LOGITS:
        _binary_loop(BCE_WITH_LOGITS, a, b, out)
    elif op == BCE:
        _binary_loop(BCE, a, b, out)


@njit(inline="always", cache=True, nogil=True)
def _binary_inplace_loop(op, a, b):
    if b.size == 1:
        s = b[0]
        for i in range(a.size):
            a[i] = _binary_op(op, a[i], s)
    else:
        for i in range(a.size):
            a[i] = _binary_op(op, a[i], b[i])


@njit(cache=True, nogil=True)
def binary_inplace(op, a, b):
    """``a = a (op) b`` (``b`` flat of ``a``'s size, or of size 1).  Its own kernel: with ``out`` aliasing ``a``, ``binary``'s loop
    fails LLVM's runtime overlap check and runs unvectorised (68 us vs 15 us, 100 000
    float32)."""
    if op == ADD:
        _binary_inplace_loop(ADD, a, b)
    elif op == SUB:
        _binary_inplace_loop(SUB, a, b)
    elif op == MUL:
        _binary_inplace_loop(MUL, a, b)
    elif op == DIV:
        _binary_inplace_loop(DIV, a, b)
    elif op == POW:
        _binary_inplace_loop(POW, a, b)
    elif op == MAXIMUM:
        _binary_inplace_loop(MAXIMUM, a, b)
    elif op == MINIMUM:
        _binary_inplace_loop(MINIMUM, a, b)


@njit(inline="always", cache=True, nogil=True)
def _binary_scalar_loop(op, a, s, out, scalar_first):
    if scalar_first:
        for i in range(out.size):
            out[i] = _binary_op(op, s, a[i])
    else:
        for i in range(out.size):
            out[i] = _binary_op(op, a[i], s)


@njit(cache=True, nogil=True)
def binary_scalar(op, a, s, out, scalar_first):
    """``out = a (op) s`` (or ``s (op) a``) for a flat ``a`` and a scalar ``s``: the
    ``lr * grad`` case, 4x faster than going through the strided kernel."""
    if op == ADD:
        _binary_scalar_loop(ADD, a, s, out, scalar_first)
    elif op == SUB:
        _binary_scalar_loop(SUB, a, s, out, scalar_first)
    elif op == MUL:
        _binary_scalar_loop(MUL, a, s, out, scalar_first)
    elif op == DIV:
        _binary_scalar_loop(DIV, a, s, out, scalar_first)
    elif op == POW:
        _binary_scalar_loop(POW, a, s, out, scalar_first)
    elif op == MAXIMUM:
        _binary_scalar_loop(MAXIMUM, a, s, out, scalar_first)
    elif op == MINIMUM:
        _binary_scalar_loop(MINIMUM, a, s, out, scalar_first)
    elif op == BCE_WITH_LOGITS:
        _binary_scalar_loop(BCE_WITH_LOGITS, a, s, out, scalar_first)
    elif op == BCE:
        _binary_scalar_loop(BCE, a, s, out, scalar_first)


@njit(inline="always", cache=True, nogil=True)
def _bcast(x, out):
    """Per-dimension index multipliers: 0 where ``x`` has size 1 against ``out`` (it is
    broadcast), 1 elsewhere, so operands need no np.broadcast_to view."""
    return ((x.shape[0] != 1) * 1, (x.shape[1] != 1) * 1, (x.shape[2] != 1) * 1, (x.shape[3] != 1) * 1)


@njit(inline="always", cache=True, nogil=True)
def _binary_nd_loop(op, a, b, out):
    d0, d1, d2, d3 = out.shape
    a0, a1, a2, a3 = _bcast(a, out)
    b0, b1, b2, b3 = _bcast(b, out)
    for i in range(d0):
        for j in range(d1):
            for k in range(d2):
                for m in range(d3):
                    out[i, j, k, m] = _binary_op(op, a[i * a0, j * a1, k * a2, m * a3],
                                                 b[i * b0, j * b1, k * b2, m * b3])


@njit(cache=True, nogil=True)
def binary_nd(op, a, b, out):
    if op == ADD:
        _binary_nd_loop(ADD, a, b, out)
    elif op == SUB:
        _binary_nd_loop(SUB, a, b, out)
    elif op == MUL:
        _binary_nd_loop(MUL, a, b, out)
    elif op == DIV:
        _binary_nd_loop(DIV, a, b, out)
    elif op == POW:
        _binary_nd_loop(POW, a, b, out)
    elif op == MAXIMUM:
        _binary_nd_loop(MAXIMUM, a, b, out)
    elif op == MINIMUM:
        _binary_nd_loop(MINIMUM, a, b, out)
    elif op == BCE_WITH_LOGITS:
        _binary_nd_loop(BCE_WITH_LOGITS, a, b, out)
    elif op == BCE:
        _binary_nd_loop(BCE, a, b, out)


@njit(inline="always", cache=True, nogil=True)
def _compare_loop(op, a, b, out):
    for i in range(out.size):
        out[i] = _compare_op(op, a[i], b[i])


@njit(cache=True, nogil=True)
def compare(op, a, b, out):
    if op == EQ:
        _compare_loop(EQ, a, b, out)
    elif op == NE:
        _compare_loop(NE, a, b, out)
    elif op == LT:
        _compare_loop(LT, a, b, out)
    elif op == LE:
        _compare_loop(LE, a, b, out)
    elif op == GT:
        _compare_loop(GT, a, b, out)
    else:
        _compare_loop(GE, a, b, out)


@njit(inline="always", cache=True, nogil=True)
def _compare_scalar_loop(op, a, s, out, scalar_first):
    if scalar_first:
        for i in range(out.size):
            out[i] = _compare_op(op, s, a[i])
    else:
        for i in range(out.size):
            out[i] = _compare_op(op, a[i], s)


@njit(cache=True, nogil=True)
def compare_scalar(op, a, s, out, scalar_first):
    if op == EQ:
        _compare_scalar_loop(EQ, a, s, out, scalar_first)
    elif op == NE:
        _compare_scalar_loop(NE, a, s, out, scalar_first)
    elif op == LT:
        _compare_scalar_loop(LT, a, s, out, scalar_first)
    elif op == LE:
        _compare_scalar_loop(LE, a, s, out, scalar_first)
    elif op == GT:
        _compare_scalar_loop(GT, a, s, out, scalar_first)
    else:
        _compare_scalar_loop(GE, a, s, out, scalar_first)


@njit(inline="always", cache=True, nogil=True)
def _compare_nd_loop(op, a, b, out):
    d0, d1, d2, d3 = out.shape
    a0, a1, a2, a3 = _bcast(a, out)
    b0, b1, b2, b3 = _bcast(b, out)
    for i in range(d0):
        for j in range(d1):
            for k in range(d2):
                for m in range(d3):
                    out[i, j, k, m] = _compare_op(op, a[i * a0, j * a1, k * a2, m * a3],
                                                  b[i * b0, j * b1, k * b2, m * b3])


@njit(cache=True, nogil=True)
def compare_nd(op, a, b, out):
    if op == EQ:
        _compare_nd_loop(EQ, a, b, out)
    elif op == NE:
        _compare_nd_loop(NE, a, b, out)
    elif op == LT:
        _compare_nd_loop(LT, a, b, out)
    elif op == LE:
        _compare_nd_loop(LE, a, b, out)
    elif op == GT:
        _compare_nd_loop(GT, a, b, out)
    else:
        _compare_nd_loop(GE, a, b, out)


@njit(cache=True, nogil=True)
def where_nd(cond, a, b, out):
    d0, d1, d2, d3 = out.shape
    c0, c1, c2, c3 = _bcast(cond, out)
    a0, a1, a2, a3 = _bcast(a, out)
    b0, b1, b2, b3 = _bcast(b, out)
    for i in range(d0):
        for j in range(d1):
            for k in range(d2):
                for m in range(d3):
                    if cond[i * c0, j * c1, k * c2, m * c3]:
                        out[i, j, k, m] = a[i * a0, j * a1, k * a2, m * a3]
                    else:
                        out[i, j, k, m] = b[i * b0, j * b1, k * b2, m * b3]
