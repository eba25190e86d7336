"""The elementwise calls of the ops whose PyTorch CPU kernel computes some elements by a
scalar lambda other than its vector definition (the op table's ``scalar_loop``: sigmoid,
silu, softplus, elu, mish, gelu's tanh approximation and the activations' gradients): each
element by the definition PyTorch's ``cpu_kernel_vec`` gives it (``layout.operands_loop_layout``)."""
import numba
import numpy as np

from ..layout import GRAIN_SIZE, VECTOR_BYTES, gelu_grain, operands_loop_layout
from ..opcodes import GELU_TANH
from . import elementwise as _elementwise

_unary_split = _elementwise.BY_OP["unary_split"]
_binary_split = _elementwise.BY_OP["binary_split"]
_VECTOR_PAIR_BYTES = 2 * VECTOR_BYTES  # cpu_kernel_vec's chunk: two vectors


def unary_split(op, x):
    """Unary op ``op`` on a non-empty float32/float64 ``x`` laid out in its result's order
    (``call_in_order``: PyTorch's inner loops)."""
    out = np.empty(x.shape, x.dtype)
    n, threads = x.size, numba.get_num_threads()
    grain = gelu_grain(n, threads) if op == GELU_TANH else GRAIN_SIZE
    if x.flags.c_contiguous and (n < grain or threads == 1):
        _unary_split[op](x.reshape(-1), out.reshape(-1), n, n, _VECTOR_PAIR_BYTES // x.itemsize)
    else:
        row, part, width = operands_loop_layout(x.shape, (x.strides,), x.itemsize, threads, grain)
        _unary_split[op](np.ascontiguousarray(x).reshape(-1), out.reshape(-1), row, part, width)
    return out


def binary_split(op, a, b):
    """Binary op ``op`` on float32/float64 ``a`` and ``b`` of one dtype, broadcast, laid out in
    their result's order; the result C-contiguous."""
    shape = np.broadcast_shapes(a.shape, b.shape)
    out = np.empty(shape, a.dtype)
    n, threads = out.size, numba.get_num_threads()
    if not n:
        return out
    if a.shape == b.shape and a.flags.c_contiguous and b.flags.c_contiguous and (n < GRAIN_SIZE or threads == 1):
        _binary_split[op](a.reshape(-1), b.reshape(-1), out.reshape(-1), n, n, _VECTOR_PAIR_BYTES // a.itemsize)
        return out
    a, b = np.broadcast_to(a, shape), np.broadcast_to(b, shape)
    row, part, width = operands_loop_layout(shape, (a.strides, b.strides), a.itemsize, threads)
    _binary_split[op](np.ascontiguousarray(a).reshape(-1), np.ascontiguousarray(b).reshape(-1), out.reshape(-1),
                      row, part, width)
    return out
