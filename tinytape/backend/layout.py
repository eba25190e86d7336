"""Shape and layout logic shared by the backends."""
import numpy as np


def adjacent_runs(dims):
    """Sorted axes grouped into runs of adjacent ones: (0, 2, 3) -> [(0, 0), (2, 3)].
    Each run is reduced as the middle axis of an (outer, n, inner) view, no copy needed."""
    runs, start = [], None
    for i, d in enumerate(dims):
        if start is None:
            start = d
        if i + 1 == len(dims) or dims[i + 1] != d + 1:
            runs.append((start, d))
            start = None
    return runs


# ---- the layout of an elementwise result ----
# PyTorch allocates the result of an elementwise op (its TensorIterator) in the memory
# order of its operands: ``x.t() + 1``, ``x.t().exp()`` and ``x.t().float()`` come out
# transposed, dense.  The order decides ``stride()``, whether ``view`` works and in which
# order a later sum adds the elements (its last bits), so the backends follow it.  The
# kernels themselves only ever write C-contiguous results: a result of another order is
# computed over the operands permuted into that order, then permuted back (two views).

# backend method -> positions of its array operands, for the methods whose result can
# follow their operands' order (one taking ``out`` writes there, in that array's layout)
# (``fma(a, b, c)``, ``a * b + c``, serves ``add(c, a, alpha=b)``, ``addcmul(c, ...)`` and
# ``lerp``: PyTorch's first operand, which decides first, is the added one)
OPERANDS = {"unary": (1,), "binary": (1, 2), "compare": (1, 2), "where": (0, 1, 2), "fma": (2, 0, 1),
            "astype": (0,), "copy": (0,), "pow_scalar": (0,), "pow_pair": (0, 1)}
# the methods that follow it by themselves; ``copy`` is C-contiguous (ops write into their
# copies through flat positions), and ``clone`` asks for the order explicitly
ORDER_FOLLOWING = frozenset(OPERANDS) - {"copy"}


def _c_contiguous(x):
    return x.flags.c_contiguous if isinstance(x, np.ndarray) else x.is_contiguous()


def _row_major(x):
    """Whether ``x``'s strides fall strictly from axis to axis, leaving out axes of size 1 and
    broadcast ones: C order with gaps, which keeps every pair of axes as it is."""
    last = None
    for n, s in zip(x.shape, x.strides):
        if n != 1 and s:
            if last is not None and not s < last:
                return False
            last = s
    return True


def elementwise_order(shape, operands):
    """The axes of an elementwise result of ``shape`` from the slowest in memory to the
    fastest, as PyTorch's TensorIterator orders them over ``operands``; None for C order.

    An insertion sort of the axes, fastest first, where the first operand whose strides
    along two axes differ decides their order (an operand broadcast along either axis has
    no say; equal strides put the shorter axis first).  An operand of fewer than two
    axes is broadcast along one of every pair, so only operands of two axes or more are
    looked at."""
    if all(x.ndim < 2 or _c_contiguous(x) or _row_major(x) for x in operands):
        return None  # (no operand would reorder a pair: a column slice of a matrix, ``chunk``'s pieces)
    ndim = len(shape)
    strides = []
    for x in operands:
        if x.ndim < 2:
            continue
        lead = ndim - x.ndim
        st = (0,) * lead + tuple(0 if n == 1 and shape[lead + i] != 1 else s
                                 for i, (n, s) in enumerate(zip(x.shape, x.strides)))
        if len(st) - st.count(0) > 1:  # (broadcast along all axes but one: no say in any pair)
            strides.append(st)
    if not strides:
        return None

    def should_swap(d0, d1):
        for st in strides:
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return 1 if s0 > s1 else -1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    order = tuple(iteration_order(ndim, should_swap)[::-1])
    return None if order == tuple(range(ndim)) else order


def iteration_order(ndim, should_swap):
    """TensorIterator's insertion sort of ``ndim`` axes, fastest first, under its comparison
    ``should_swap(d0, d1)``: 1 puts ``d1`` before ``d0``, -1 keeps them, 0 is undecided (an
    undecided pair is passed over, so the result is not a plain sort's)."""
    fastest_first = list(range(ndim - 1, -1, -1))
    for i in range(1, ndim):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = should_swap(fastest_first[d0], fastest_first[d1])
            if c > 0:
                fastest_first[d0], fastest_first[d1] = fastest_first[d1], fastest_first[d0]
                d1 = d0
            elif c < 0:
                break
    return fastest_first


def dense_order(x):
    """The axes of ``x`` from the slowest in memory to the fastest where ``x`` is a dense,
    non-overlapping permutation of a C-contiguous array other than C order itself (the
    layout a leaf's ``.grad`` takes); None otherwise."""
    if x.ndim < 2 or _c_contiguous(x):
        return None
    shape, strides = x.shape, x.strides
    order = tuple(sorted(range(x.ndim), key=lambda d: -strides[d]))
    expected = x.itemsize if isinstance(x, np.ndarray) else 1
    for d in reversed(order):
        if shape[d] != 1:
            if strides[d] != expected:
                return None
            expected *= shape[d]
    return None if order == tuple(range(x.ndim)) else order


def call_order(name, args):
    """The order of the result of backend method ``name`` called with ``args`` (None for C
    order, or where the call writes into an ``out`` array)."""
    positions = OPERANDS[name]
    if name in ("astype", "copy"):  # PyTorch's ``to`` and ``clone``: the one operand's order
        return elementwise_order(args[0].shape, args[:1])
    last = max(positions)
    if len(args) > last + 1 and args[last + 1] is not None and name in ("binary", "fma"):
        return None  # an ``out`` given positionally
    operands = [args[i] for i in positions if i < len(args)]
    if all(x.ndim < 2 or _c_contiguous(x) or _row_major(x) for x in operands):
        return None  # (``elementwise_order``'s first test, before the broadcast shape)
    shape = np.broadcast_shapes(*(x.shape for x in operands)) if len(operands) > 1 else operands[0].shape
    return elementwise_order(tuple(shape), operands)


def call_in_order(backend, name, order, args):
    """``backend.<name>(*args)`` computed over its operands permuted into ``order`` (so the
    kernel writes a C-contiguous result) and permuted back: a result laid out in ``order``.
    Every step is a call on ``backend``, so a trace records the two views and the kernel."""
    ndim = len(order)
    positions = OPERANDS[name]
    moved = list(args)
    for i in positions:
        x = moved[i]
        if x.ndim:
            while x.ndim < ndim:
                x = backend.expand_dims(x, 0)
            moved[i] = backend.permute(x, order)
    if elementwise_order(tuple(tuple(moved[positions[0]].shape) if len(positions) == 1 else np.broadcast_shapes(
            *(moved[i].shape for i in positions))), [moved[i] for i in positions]) is not None:
        # (an order the sort does not find again over the permuted operands: their copies)
        for i in positions:
            if moved[i].ndim:
                moved[i] = backend.contiguous(moved[i])
    result = getattr(backend, name)(*moved)
    if result is None:  # (``pow_scalar``'s answer where its kernel does not serve)
        return None
    return backend.permute(result, tuple(order.index(d) for d in range(ndim)))


def in_operands_order(backend, name, *args):
    """``backend.<name>(*args)`` with its result in its operands' order (``clone``)."""
    order = call_order(name, args)
    return getattr(backend, name)(*args) if order is None else call_in_order(backend, name, order, args)


# ---- which elements PyTorch's CPU kernels compute in their scalar loop ----
GRAIN_SIZE = 32768  # at::internal::GRAIN_SIZE: TensorIterator splits no fewer elements among threads
VECTOR_BYTES = 64  # AVX512, the capability PyTorch's CPU kernels dispatch to on this machine


GELU_THREADING = 16384  # GeluKernelImpl: above this many elements, a grain of numel / threads


def scalar_loop_layout(shape, strides, itemsize, threads, grain=GRAIN_SIZE):
    """``(row, part, width)`` of a unary elementwise op on an operand of ``shape`` and byte
    ``strides``: ``operands_loop_layout`` of the one operand."""
    return operands_loop_layout(shape, (strides,), itemsize, threads, grain)


def operands_loop_layout(shape, operand_strides, itemsize, threads, grain=GRAIN_SIZE):
    """``(row, part, width)`` of an elementwise op on operands of the result's ``shape`` (the
    byte strides of each, broadcast along an axis: 0), its elements counted in the order
    PyTorch's TensorIterator visits them (C order of ``shape``: the operands' memory order, the
    order ``call_in_order`` computes it in).

    TensorIterator coalesces the dimensions whose strides chain, in every operand, into one
    and hands its kernel inner loops of ``row`` elements (the coalesced innermost dimension);
    with more than one thread and ``grain`` elements or more, each thread's ``part`` of them
    (``parallel_for``'s split) ends its inner loop early.  ``cpu_kernel_vec`` computes the
    chunks of ``width`` elements (two vectors) from each inner loop's start with the vector
    definition and the rest with the scalar one; an inner loop where an operand steps other
    than one element (or where more than one is broadcast) is all scalar, ``width`` 0."""
    n = 1
    for size in shape:
        n *= size
    axes = [d for d, size in enumerate(shape) if size != 1]
    row, width = n, 2 * VECTOR_BYTES // itemsize
    if axes:
        last = axes[-1]
        row = shape[last]
        inner = [strides[last] for strides in operand_strides]
        broadcast = sum(1 for stride in inner if stride == 0)
        if broadcast > 1 or any(stride not in (0, itemsize) for stride in inner):
            width = 0  # (one operand broadcast alone: ``is_contiguous_scalar``, still vectors)
        for d in reversed(axes[:-1]):
            if any(strides[d] != row * stride for strides, stride in zip(operand_strides, inner)):
                break
            row *= shape[d]
    part = n
    if threads > 1 and n >= grain:
        used = min(threads, -(-n // grain))
        part = -(-n // used)
    return row, part, width


def gelu_grain(n, threads):
    """The grain of PyTorch's gelu kernel over ``n`` elements (``GeluKernelImpl``)."""
    return max(n // threads, 1) if n > GELU_THREADING else GRAIN_SIZE
