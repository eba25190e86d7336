"""Elementwise CPU kernels: one entry point per layout, the operation passed as an op code.

Kernels take flat C-contiguous buffers (one signature per dtype) or, for broadcasting
and strided inputs, read-only 4-D views whose broadcast dimensions have size 1; the
shape logic lives in Python (``tinytape.backend``).

Each entry point (``binary(op, a, b, out)``...) runs a kernel of its own per op code,
made from the op table (``_kernels_source``) and compiled on its first call for a dtype,
so a program pays only for the ops it uses.  In each the op is a constant, so LLVM
vectorises the loop: testing the code per element made a 100 000-element float32
subtraction 28x slower (520 us vs 18.5 us; numpy: 40 us).  A code the table does not
declare is a ValueError, never a kernel that returns its input or uninitialised memory.
Every kernel uses numba's ``error_model="numpy"``: IEEE 754 results (1/0 = inf) rather
than Python's ZeroDivisionError.
"""
import importlib.util
import os
import sys
import tempfile

import numpy as np
from numba import njit

from .. import scalar_ops
from ..sleef_arith import fma
from ... import op_table as table
from . import _cache

# Ops the table gives a numpy ufunc are served by it, writing into the preallocated output:
# ``NUMPY_UNARY`` for both float dtypes (sqrt and the roundings, exact in both; and the
# transcendental functions not yet in ``backend/sleef.py``), ``NUMPY_UNARY_FLOAT64`` for
# float64 only (numpy's float64 exp, log, sin... are Intel's SVML routines, bit for bit
# the MKL ones PyTorch calls; float32 exp, log, tanh run in ``unary`` from ``sleef.py``).
class _InFloat64:
    """A float64 numpy ufunc serving float32 arrays: the float64 result rounded once to float32.
    PyTorch's float32 sin, cos, tan, atan, asin, acos, log2, log10 (MKL's) are the correctly
    rounded value in 93-99.9 % of elements, which numpy's own float32 loops are in 71-92 %."""

    def __init__(self, ufunc):
        self.ufunc, self.__name__ = ufunc, ufunc.__name__

    def __call__(self, x, out=None, order="C"):
        if x.dtype != np.float32:
            return self.ufunc(x, out=out, order=order)
        if out is None:
            out = np.empty(x.shape, np.float32)
        return self.ufunc(x, out=out, dtype=np.float64, casting="same_kind")


_ROUNDED_FROM_FLOAT64 = ("sin", "cos", "tan", "arctan", "arcsin", "arccos", "log2", "log10")
NUMPY_UNARY_FLOAT64 = {**{op.code: getattr(np, op.numpy) for op in table.of_kind("unary") if op.numpy},
                       **{op.code: getattr(np, op.numpy_float64) for op in table.of_kind("unary") if op.numpy_float64}}
NUMPY_UNARY = {op.code: (_InFloat64 if op.numpy in _ROUNDED_FROM_FLOAT64 else lambda u: u)(getattr(np, op.numpy))
               for op in table.of_kind("unary") if op.numpy}


def numpy_unary(op, dtype):
    """The numpy ufunc that computes unary op ``op`` on a float array of ``dtype``, or None."""
    return (NUMPY_UNARY_FLOAT64 if dtype.itemsize == 8 else NUMPY_UNARY).get(op) if dtype.kind == "f" else None

_JIT = dict(nogil=True, error_model="numpy")


def element(kind, code):
    """Op ``code``'s per-element function alone (``scalar_ops.op_function``), jitted: a
    kernel's loop takes it as its ``op``, so typing the kernel types that op only (the
    whole table's branch chain made each kernel's first compile 3-6x slower: ``neg``
    0.56 s against 0.09 s)."""
    return njit(inline="always", **_JIT)(scalar_ops.op_function(kind, code))


@njit(inline="always", cache=True, **_JIT)
def _unary_loop(op, x, out):
    for i in range(x.size):
        out[i] = op(x[i])


@njit(inline="always", cache=True, **_JIT)
def _unary_split_loop(op, scalar_op, x, out, row, part, width):
    """PyTorch's ``cpu_kernel_vec`` over flat ``x``: inner loops of ``row`` elements, cut
    where a thread's ``part`` ends; in each, the chunks of ``width`` from its start by the
    vector definition ``op``, the rest by the scalar one (``layout.scalar_loop_layout``)."""
    n = x.size
    if out.size != n or row < 1 or part < 1 or width < 0:
        raise IndexError("unary_split: out's size differs from x's, or a loop size below 1")
    start = 0
    while start < n:
        stop = min((start // row + 1) * row, (start // part + 1) * part, n)
        vectors = stop - (stop - start) % width if width else start
        x_part, out_part = x[start:vectors], out[start:vectors]
        for i in range(x_part.size):  # (over slices: LLVM vectorises this loop, not one from ``start``)
            out_part[i] = op(x_part[i])
        for i in range(vectors, stop):
            out[i] = scalar_op(x[i])
        start = stop


@njit(inline="always", cache=True, **_JIT)
def _binary_split_loop(op, scalar_op, a, b, out, row, part, width):
    """``_unary_split_loop`` for a binary op over flat ``a`` and ``b`` (each of ``out``'s size,
    their elements in PyTorch's iteration order)."""
    n = out.size
    if a.size != n or b.size != n or row < 1 or part < 1 or width < 0:
        raise IndexError("binary_split: an operand's size differs from out's, or a loop size below 1")
    start = 0
    while start < n:
        stop = min((start // row + 1) * row, (start // part + 1) * part, n)
        vectors = stop - (stop - start) % width if width else start
        a_part, b_part, out_part = a[start:vectors], b[start:vectors], out[start:vectors]
        for i in range(out_part.size):
            out_part[i] = op(a_part[i], b_part[i])
        for i in range(vectors, stop):
            out[i] = scalar_op(a[i], b[i])
        start = stop


@njit(inline="always", cache=True, **_JIT)
def _binary_loop(op, a, b, out):
    for i in range(out.size):
        out[i] = op(a[i], b[i])


@njit(inline="always", cache=True, **_JIT)
def _binary_inplace_loop(op, a, b):
    # its own kernel: with ``out`` aliasing ``a``, ``binary``'s loop fails LLVM's runtime
    # overlap check and runs unvectorised (68 us vs 15 us, 100 000 float32)
    if b.size == 1:
        s = b[0]
        for i in range(a.size):
            a[i] = op(a[i], s)
    else:
        for i in range(a.size):
            a[i] = op(a[i], b[i])


@njit(inline="always", cache=True, **_JIT)
def _binary_scalar_loop(op, a, s, out, scalar_first):
    # the ``lr * grad`` case, 4x faster than going through the strided kernel
    if scalar_first:
        for i in range(out.size):
            out[i] = op(s, a[i])
    else:
        for i in range(out.size):
            out[i] = op(a[i], s)


@njit(inline="always", cache=True, **_JIT)
def _bcast(x, out):
    """Per-dimension index multipliers: 0 where ``x`` has size 1 against ``out`` (it is
    broadcast), 1 elsewhere, so operands need no np.broadcast_to view."""
    return ((x.shape[0] != 1) * 1, (x.shape[1] != 1) * 1, (x.shape[2] != 1) * 1, (x.shape[3] != 1) * 1)


@njit(inline="always", cache=True, **_JIT)
def _binary_nd_loop(op, a, b, out):
    d0, d1, d2, d3 = out.shape
    a0, a1, a2, a3 = _bcast(a, out)
    b0, b1, b2, b3 = _bcast(b, out)
    for i in range(d0):
        for j in range(d1):
            for k in range(d2):
                for m in range(d3):
                    out[i, j, k, m] = op(a[i * a0, j * a1, k * a2, m * a3],
                                                 b[i * b0, j * b1, k * b2, m * b3])


@njit(inline="always", cache=True, **_JIT)
def _compare_loop(op, a, b, out):
    for i in range(out.size):
        out[i] = op(a[i], b[i])


@njit(inline="always", cache=True, **_JIT)
def _compare_scalar_loop(op, a, s, out, scalar_first):
    if scalar_first:
        for i in range(out.size):
            out[i] = op(s, a[i])
    else:
        for i in range(out.size):
            out[i] = op(a[i], s)


@njit(inline="always", cache=True, **_JIT)
def _compare_nd_loop(op, a, b, out):
    d0, d1, d2, d3 = out.shape
    a0, a1, a2, a3 = _bcast(a, out)
    b0, b1, b2, b3 = _bcast(b, out)
    for i in range(d0):
        for j in range(d1):
            for k in range(d2):
                for m in range(d3):
                    out[i, j, k, m] = op(a[i * a0, j * a1, k * a2, m * a3],
                                                  b[i * b0, j * b1, k * b2, m * b3])


@njit(cache=True, **_JIT)
def where_flat(cond, a, b, out):
    """``where_nd`` over flat buffers: ``cond`` and ``out`` of one size, ``a`` and ``b`` of
    that size or of one element (a number).  A gradient selected against 0, 2-3x faster
    than the strided loop."""
    n = out.size
    if a.size == n:
        if b.size == n:
            for i in range(n):
                out[i] = a[i] if cond[i] else b[i]
        else:
            s = b[0]
            for i in range(n):
                out[i] = a[i] if cond[i] else s
    elif b.size == n:
        s = a[0]
        for i in range(n):
            out[i] = s if cond[i] else b[i]
    else:
        sa, sb = a[0], b[0]
        for i in range(n):
            out[i] = sa if cond[i] else sb


@njit(cache=True, **_JIT)
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


@njit(cache=True, **_JIT)
def fma_flat(a, b, c, out):
    """``out = a * b + c``, rounded once (LLVM's fma: the FMA instruction, vectorised), over
    flat buffers: each operand of ``out``'s size or of one element (a number).  The layouts
    the optimizers meet (``add`` with ``alpha``: ``b`` a number; ``addcmul``, ``lerp``) get
    loops of their own, which LLVM vectorises."""
    n = out.size
    if (a.size != n and a.size != 1) or (b.size != n and b.size != 1) or (c.size != n and c.size != 1) or (
            n and min(a.size, b.size, c.size) == 0):
        raise IndexError("fma: an operand's size is neither the output's nor 1")
    if a.size == n and c.size == n:
        if b.size == n:
            for i in range(n):
                out[i] = fma(a[i], b[i], c[i])
        else:
            s = b[0]
            for i in range(n):
                out[i] = fma(a[i], s, c[i])
    elif a.size == 1 and b.size == n and c.size == n:
        s = a[0]
        for i in range(n):
            out[i] = fma(s, b[i], c[i])
    else:
        sa, sb, sc = a.size == n, b.size == n, c.size == n
        for i in range(n):
            out[i] = fma(a[i * sa], b[i * sb], c[i * sc])


@njit(cache=True, **_JIT)
def fill(out, value):
    """Every element of the flat buffer ``out`` set to ``value`` (of its dtype): LLVM makes
    the loop vector stores (100 000 float32: 2.2 us; np.copyto from a 0-d array: 7.2 us)."""
    for i in range(out.size):
        out[i] = value


# entry point -> (op kind, its parameters, the loop it runs)
ENTRY_POINTS = {
    "unary": ("unary", "x, out", "_unary_loop"),
    # the unary ops whose PyTorch scalar loop differs from its vectors (the table's ``scalar_loop``)
    "unary_split": ("unary", "x, out, row, part, width", "_unary_split_loop"),
    "binary": ("binary", "a, b, out", "_binary_loop"),
    "binary_split": ("binary", "a, b, out, row, part, width", "_binary_split_loop"),
    "binary_inplace": ("binary", "a, b", "_binary_inplace_loop"),
    "binary_scalar": ("binary", "a, s, out, scalar_first", "_binary_scalar_loop"),
    "binary_nd": ("binary", "a, b, out", "_binary_nd_loop"),
    "compare": ("compare", "a, b, out", "_compare_loop"),
    "compare_scalar": ("compare", "a, s, out, scalar_first", "_compare_scalar_loop"),
    "compare_nd": ("compare", "a, b, out", "_compare_nd_loop"),
}


def _ops_of(entry):
    kind = ENTRY_POINTS[entry][0]
    return [op for op in table.of_kind(kind) if not entry.endswith("_split") or op.scalar_loop]


SCALAR_LOOP_CODES = frozenset(op.code for op in _ops_of("unary_split"))
BINARY_SCALAR_LOOP_CODES = frozenset(op.code for op in _ops_of("binary_split"))


def _kernel_name(entry, op):
    return f"{entry}__{op.name}"


def _kernels_source():
    """A module of plain functions, one per entry point and op of its kind, each calling
    the entry point's loop with that op's per-element function (``<kind>_<code>``, a global
    of the module set by ``_ByOp`` before the kernel's first compile).  They are compiled one
    by one, on first call (``_ByOp``)."""
    lines = ['"""Generated from tinytape/op_table.py by tinytape/backend/cpu/elementwise.py."""',
             "from tinytape.backend.cpu.elementwise import element, "
             + ", ".join(sorted({e[2] for e in ENTRY_POINTS.values()}))]
    for entry, (kind, params, loop) in ENTRY_POINTS.items():
        for op in _ops_of(entry):
            scalar = f"{kind}_scalar_loop_{op.code}, " if entry.endswith("_split") else ""
            lines += ["", "", f"def {_kernel_name(entry, op)}({params}):  # op code {op.code}",
                      f"    {loop}({kind}_{op.code}, {scalar}{params})"]
    return "\n".join(lines) + "\n"


def _write_atomically(folder, path, text):
    os.makedirs(folder, exist_ok=True)
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)  # a concurrent import reads the old or the new text whole


def _load_kernels():
    """Write the generated functions under the versioned cache folder (only when their text
    changed: numba's on-disk cache of them is keyed by the file's timestamp) and import them."""
    text = _kernels_source()
    folder = os.path.join(_cache.cache_root(), "generated")
    path = os.path.join(folder, "elementwise_kernels.py")
    try:
        with open(path) as f:
            current = f.read()
    except OSError:
        current = None
    if current != text:
        try:
            _write_atomically(folder, path, text)
        except OSError:  # a read-only cache folder: the kernels still load, compiled afresh
            folder = tempfile.mkdtemp(prefix="tinytape-")
            path = os.path.join(folder, "elementwise_kernels.py")
            _write_atomically(folder, path, text)
    spec = importlib.util.spec_from_file_location("tinytape_generated_elementwise_kernels", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # numba's cache finds the kernels' module by name when it loads them
    spec.loader.exec_module(module)
    return module


_generated = _load_kernels()


class _ByOp(dict):
    """Op code -> one entry point's kernel for that op, made on first use.

    A single kernel per entry point, a branch per op, compiles every op of its kind on its
    first call for a dtype: 25 s of the seed run's first step went there (binary_inplace
    10 s, binary_scalar 8 s), where one op's kernel compiles in 0.1-0.4 s.  Each of these
    compiles per dtype on its first call and is cached on disk."""

    def __init__(self, entry):
        super().__init__()
        self.entry = entry
        self.ops = {op.code: op for op in _ops_of(entry)}

    def __missing__(self, code):
        op = self.ops.get(code) if isinstance(code, (int, np.integer)) else None
        if op is None:  # a switch over op codes ends in an error, never a fall-through
            raise ValueError(f"{self.entry}: op code {code!r} not in the op table")
        kind = ENTRY_POINTS[self.entry][0]
        if not hasattr(_generated, f"{kind}_{code}"):  # the global the kernel passes its loop
            setattr(_generated, f"{kind}_{code}", element(kind, code))
        if self.entry.endswith("_split") and not hasattr(_generated, f"{kind}_scalar_loop_{code}"):
            setattr(_generated, f"{kind}_scalar_loop_{code}",
                    njit(inline="always", **_JIT)(scalar_ops.scalar_loop_function(code, kind)))
        kernel = njit(cache=True, **_JIT)(getattr(_generated, _kernel_name(self.entry, op)))
        self[code] = kernel
        return kernel


BY_OP = {entry: _ByOp(entry) for entry in ENTRY_POINTS}


def _entry_point(name):
    kernels = BY_OP[name]

    def entry(op, *args):
        kernels[op](*args)
    entry.__name__ = entry.__qualname__ = name
    entry.__doc__ = f"``{name}({ENTRY_POINTS[name][1]})`` of op code ``op``: its kernel, compiled on first use."
    return entry


unary = _entry_point("unary")
unary_split = _entry_point("unary_split")
binary = _entry_point("binary")
binary_split = _entry_point("binary_split")
binary_inplace = _entry_point("binary_inplace")
binary_scalar = _entry_point("binary_scalar")
binary_nd = _entry_point("binary_nd")
compare = _entry_point("compare")
compare_scalar = _entry_point("compare_scalar")
compare_nd = _entry_point("compare_nd")
