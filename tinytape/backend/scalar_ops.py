"""What each op code computes on one element (or pair): the single definition both
backends compile, ``numba.njit`` for the CPU kernels and ``numba.cuda.jit(device=True)``
for the CUDA ones, so the two can't drift apart.  Plain Python; the kernel cache key
includes this file's hash (``backend/cpu/_cache.py``)."""
import math

from .opcodes import (
    ABS, ADD, BCE, BCE_WITH_LOGITS, COS, DIV, EQ, EXP, LE, LOG, LT, MAXIMUM, MINIMUM, MUL, NE,
    NEG, POW, RECIPROCAL, RELU, SIGMOID, SIGN, SIN, SQRT, SUB, TANH, GT,
)


def unary_op(op, x):
    if op == NEG:
        return -x
    if op == ABS:
        return abs(x)
    if op == SQRT:
        return math.sqrt(x)
    if op == RELU:
        return x - x if x <= 0 else x  # NaN propagates, as PyTorch's relu
    if op == SIGN:
        if x > 0:
            return x - x + 1
        if x < 0:
            return x - x - 1
        return x - x
    if op == RECIPROCAL:
        return 1.0 / x
    if op == SIGMOID:
        # exp(-|x|) never overflows; 1/(1+e) for x >= 0, e/(1+e) below.  Written without a
        # branch around the exp: on mixed signs a mispredicted branch cost 3x the exp
        e = math.exp(-abs(x))
        return (1.0 if x >= 0 else e) / (1.0 + e)
    if op == EXP:
        return math.exp(x)
    if op == LOG:
        return math.log(x)
    if op == TANH:
        return math.tanh(x)
    if op == SIN:
        return math.sin(x)
    if op == COS:
        return math.cos(x)
    return x


def binary_op(op, a, b):
    if op == ADD:
        return a + b
    if op == SUB:
        return a - b
    if op == MUL:
        return a * b
    if op == DIV:
        return a / b
    if op == POW:
        return a ** b
    if op == MAXIMUM:
        return a if (a > b or a != a) else b  # NaN propagates
    if op == MINIMUM:
        return a if (a < b or a != a) else b
    if op == BCE_WITH_LOGITS:
        # max(x, 0) - x*y + log(1 + exp(-|x|)): exact for any logit magnitude
        return max(a, 0.0) - a * b + math.log1p(math.exp(-abs(a)))
    if op == BCE:
        # logs clamped at -100 as PyTorch does, so p = 0 or 1 gives a finite loss
        return -(b * max(math.log(a), -100.0) + (1.0 - b) * max(math.log(1.0 - a), -100.0))
    return a


def compare_op(op, a, b):
    if op == EQ:
        return a == b
    if op == NE:
        return a != b
    if op == LT:
        return a < b
    if op == LE:
        return a <= b
    if op == GT:
        return a > b
    return a >= b
