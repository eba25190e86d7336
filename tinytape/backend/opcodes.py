"""Operation codes shared by every backend's elementwise and reduction kernels.

One kernel per arity takes the op as an integer, so a kernel is compiled once per
dtype rather than once per operation; inside the kernel the code is a compile-time
constant comparison that LLVM hoists out of the loop.
"""

# unary
NEG, ABS, SQRT, RELU, SIGN, RECIPROCAL, EXP, LOG, TANH, SIGMOID, SIN, COS = range(12)

# binary (out = f(a, b))
ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, BCE_WITH_LOGITS, BCE = range(9)

# comparisons (bool out)
EQ, NE, LT, LE, GT, GE = range(6)

# reductions
SUM, MAX, MIN, SUMSQ = range(4)
