"""Elementwise CPU kernels: one kernel per entry point, the operation passed as an op code.

Kernels take flat C-contiguous buffers (one signature per dtype) or, for broadcasting
and strided inputs, read-only 4-D views whose broadcast dimensions have size 1; the
shape logic lives in Python (``tinytape.backend``).

The op code is tested once, outside the loop: each branch inlines the loop with the op
as a constant, so LLVM vectorises it.  Testing it per element instead made a 100 000-
element float32 subtraction 28x slower (520 us vs 18.5 us; numpy: 40 us).  Those
branches are generated from the op table (``_dispatch_source``): one per declared op,
ending in an error, so a kernel never returns its input or uninitialised memory for a
code it does not know.  Every kernel uses numba's ``error_model="numpy"``: IEEE 754
results (1/0 = inf) rather than Python's ZeroDivisionError.
"""
import importlib.util
import os
import sys
import tempfile

import numpy as np
from numba import njit

from .. import scalar_ops
from ...ops import table
from . import _cache

# numba's transcendental functions run 5-60x slower than numpy's SIMD ufuncs on this
# llvmlite (measured, float32, 2 400 elements: exp 13.3 us vs 2.7 us, tanh 55.8 us vs
# 2.3 us; 100 000 elements: exp 624 us vs 68 us), so ops the table gives a numpy ufunc
# are served by it, writing into the preallocated output.  The rest run in ``unary``.
NUMPY_UNARY = {op.code: getattr(np, op.numpy) for op in table.of_kind("unary") if op.numpy}

_JIT = dict(nogil=True, error_model="numpy")
_unary_op = njit(inline="always", **_JIT)(scalar_ops.unary_op)
_binary_op = njit(inline="always", **_JIT)(scalar_ops.binary_op)
_compare_op = njit(inline="always", **_JIT)(scalar_ops.compare_op)


@njit(inline="always", cache=True, **_JIT)
def _unary_loop(op, x, out):
    for i in range(x.size):
        out[i] = _unary_op(op, x[i])


@njit(inline="always", cache=True, **_JIT)
def _binary_loop(op, a, b, out):
    for i in range(out.size):
        out[i] = _binary_op(op, a[i], b[i])


@njit(inline="always", cache=True, **_JIT)
def _binary_inplace_loop(op, a, b):
    # its own kernel: with ``out`` aliasing ``a``, ``binary``'s loop fails LLVM's runtime
    # overlap check and runs unvectorised (68 us vs 15 us, 100 000 float32)
    if b.size == 1:
        s = b[0]
        for i in range(a.size):
            a[i] = _binary_op(op, a[i], s)
    else:
        for i in range(a.size):
            a[i] = _binary_op(op, a[i], b[i])


@njit(inline="always", cache=True, **_JIT)
def _binary_scalar_loop(op, a, s, out, scalar_first):
    # the ``lr * grad`` case, 4x faster than going through the strided kernel
    if scalar_first:
        for i in range(out.size):
            out[i] = _binary_op(op, s, a[i])
    else:
        for i in range(out.size):
            out[i] = _binary_op(op, a[i], s)


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
                    out[i, j, k, m] = _binary_op(op, a[i * a0, j * a1, k * a2, m * a3],
                                                 b[i * b0, j * b1, k * b2, m * b3])


@njit(inline="always", cache=True, **_JIT)
def _compare_loop(op, a, b, out):
    for i in range(out.size):
        out[i] = _compare_op(op, a[i], b[i])


@njit(inline="always", cache=True, **_JIT)
def _compare_scalar_loop(op, a, s, out, scalar_first):
    if scalar_first:
        for i in range(out.size):
            out[i] = _compare_op(op, s, a[i])
    else:
        for i in range(out.size):
            out[i] = _compare_op(op, a[i], s)


@njit(inline="always", cache=True, **_JIT)
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
def fill(out, value):
    """Every element of the flat buffer ``out`` set to ``value`` (of its dtype): LLVM makes
    the loop vector stores (100 000 float32: 2.2 us; np.copyto from a 0-d array: 7.2 us)."""
    for i in range(out.size):
        out[i] = value


# entry point -> (op kind, its parameters, the loop it runs)
ENTRY_POINTS = {
    "unary": ("unary", "x, out", "_unary_loop"),
    "binary": ("binary", "a, b, out", "_binary_loop"),
    "binary_inplace": ("binary", "a, b", "_binary_inplace_loop"),
    "binary_scalar": ("binary", "a, s, out, scalar_first", "_binary_scalar_loop"),
    "binary_nd": ("binary", "a, b, out", "_binary_nd_loop"),
    "compare": ("compare", "a, b, out", "_compare_loop"),
    "compare_scalar": ("compare", "a, s, out, scalar_first", "_compare_scalar_loop"),
    "compare_nd": ("compare", "a, b, out", "_compare_nd_loop"),
}


def _dispatch_source():
    """A module of kernels, one per entry point: a branch per op code of the table
    calling the entry point's loop with that code as a constant, then an error."""
    lines = ['"""Generated from tinytape/ops/table.py by tinytape/backend/cpu/elementwise.py."""',
             "from numba import njit",
             "from tinytape.backend.cpu.elementwise import " + ", ".join(sorted({e[2] for e in ENTRY_POINTS.values()}))]
    for name, (kind, params, loop) in ENTRY_POINTS.items():
        lines += ["", "", '@njit(cache=True, nogil=True, error_model="numpy")', f"def {name}(op, {params}):"]
        for i, op in enumerate(table.of_kind(kind)):
            lines += [f"    {'if' if i == 0 else 'elif'} op == {op.code}:  # {op.name}",
                      f"        {loop}({op.code}, {params})"]
        lines += ["    else:", f"        raise ValueError('{name}: op code not in the op table')"]
    return "\n".join(lines) + "\n"


def _write_atomically(folder, path, text):
    os.makedirs(folder, exist_ok=True)
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)  # a concurrent import reads the old or the new text whole


def _load_dispatch():
    """Write the generated kernels under the versioned cache folder (only when their text
    changed, so numba's on-disk cache of them stays valid) and import them."""
    text = _dispatch_source()
    folder = os.path.join(_cache.cache_root(), "generated")
    path = os.path.join(folder, "elementwise_dispatch.py")
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
            path = os.path.join(folder, "elementwise_dispatch.py")
            _write_atomically(folder, path, text)
    spec = importlib.util.spec_from_file_location("tinytape_generated_elementwise_dispatch", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # numba's cache finds the kernels' module by name when it loads them
    spec.loader.exec_module(module)
    return module


_dispatch = _load_dispatch()
unary = _dispatch.unary
binary = _dispatch.binary
binary_inplace = _dispatch.binary_inplace
binary_scalar = _dispatch.binary_scalar
binary_nd = _dispatch.binary_nd
compare = _dispatch.compare
compare_scalar = _dispatch.compare_scalar
compare_nd = _dispatch.compare_nd
