"""Operation codes shared by every backend's elementwise and reduction kernels.

One kernel per arity takes the op as an integer, so a kernel is compiled once per
dtype rather than once per operation; inside the CPU kernels the code is a compile-time
constant comparison that LLVM hoists out of the loop.  The elementwise codes are those
of the op table (``tinytape/op_table.py``): ``LOG1P`` is the code of the op declared
as ``log1p``; unary, binary and comparison codes are numbered apart.
"""
from .. import op_table as _table

globals().update({op.code_name: op.code for op in _table.OPS})

UNARY_CODES = _table.CODES["unary"]
BINARY_CODES = _table.CODES["binary"]
COMPARE_CODES = _table.CODES["compare"]

# reductions
SUM, MAX, MIN, SUMSQ = range(4)
REDUCE_CODES = (SUM, MAX, MIN, SUMSQ)
ARGREDUCE_CODES = (MAX, MIN)


def check(op, codes, entry):
    """ValueError, before any kernel runs, for an op code ``entry`` does not serve."""
    if op not in codes:
        raise ValueError(f"{entry}: op code {op!r} is not one this kernel serves (codes {min(codes)}..{max(codes)})")
