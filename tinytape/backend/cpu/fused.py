"""Fused CPU kernels for eager autograd: one pass where a formula runs several kernels.

Each function here computes, in one numba loop, exactly what a short sequence of the
backend's kernels computes — the same float operations on the same operands in the same
order, each rounded to the dtype as the kernels round it — so its result is the sequence's
bit for bit (``tests/test_fused_kernels.py`` holds them to it, nan, infinities and -0.0
included).  They save the Python of each kernel call and each intermediate array: a
cross-entropy's forward is ten kernel calls on a batch of 16, each 2-4 us of Python around
a few hundred nanoseconds of arithmetic.

Only eager autograd calls them, and only where nothing records kernels
(``ops.elementwise.fuses``): a trace or an open ``Tape`` sees the sequence itself, which
the compiler fuses with its neighbours.  Each returns None for a layout it does not take
(the caller then runs the sequence).
"""
import numpy as np
from numba import njit

from .. import kernel_errors
from ..scalar_ops import div
from . import cascade as _cascade

_F32, _F64, _BOOL, _I64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.bool_), np.dtype(np.int64)
_JIT = dict(cache=True, nogil=True, error_model="numpy")


def _float(x):
    return x.dtype is _F32 or x.dtype is _F64


# ---- nll_loss (class indices, no class weights): forward and backward

@njit(**_JIT)
def _nll_forward(logp, target, ignore_index, mean, ids, neg_w, w, valid, losses, total, denominator, status):
    n, c = logp.shape
    if target.shape[0] != n or ids.shape[0] != n or neg_w.shape[0] != n or w.shape[0] != n or valid.shape[0] != n \
            or losses.shape[0] != n or total.shape[0] < 1 or denominator.shape[0] < 1 or status.shape[0] < 2:
        raise IndexError("nll_loss: buffers of mismatched sizes")
    for b in range(n):
        t = target[b]
        keep = t != ignore_index
        safe = t if keep else 0
        if safe < 0 or safe >= c:
            status[0] = 1
            status[1] = safe
            return
        ids[b] = b * c + safe
        valid[b] = keep
        w[b] = 1 if keep else 0
        neg_w[b] = w[b] * -1
        losses[b] = logp[b, safe] * neg_w[b]
    _cascade.nll_sum(losses, valid, total)
    if mean:
        _cascade.nll_sum(w, valid, denominator)
        total[0] = div(total[0], denominator[0])


def nll_forward(logp, target, ignore_index, mean):
    """``NllLoss.forward``'s kernels on (n, c) log-probabilities and an int64 target:
    ``(ids, neg_w, valid, total, denominator)`` (the flat positions read, -1 or -0.0 per
    row, the rows whose target is not ``ignore_index``, the reduced loss, the mean's
    denominator or None); None for another layout.  A target outside [0, c) other than
    ``ignore_index`` is nll_loss's IndexError."""
    if not _float(logp) or logp.ndim != 2 or not logp.flags.c_contiguous or target.dtype is not _I64 \
            or target.ndim != 1 or not target.flags.c_contiguous:
        return None
    n, dtype = logp.shape[0], logp.dtype
    ids, valid = np.empty(n, _I64), np.empty(n, _BOOL)
    neg_w, w, losses = np.empty(n, dtype), np.empty(n, dtype), np.empty(n, dtype)
    total, denominator, status = np.empty((), dtype), np.empty((), dtype), np.zeros(2, _I64)
    _nll_forward(logp, target, ignore_index, mean, ids, neg_w, w, valid, losses, total.reshape(1),
                 denominator.reshape(1), status)
    if status[0]:
        raise IndexError(f"Target {status[1]} is out of bounds.")
    return ids, neg_w, valid, total, denominator if mean else None


@njit(**_JIT)
def _nll_backward(g, denominator, mean, neg_w, valid, ids, scale, out):
    # each step's result stored in the dtype, as each kernel of the sequence stores it
    scale[0] = g[0]
    if mean:
        scale[0] = div(g[0], denominator[0])
    one_grad = g.shape[0] == 1
    n = ids.shape[0]
    if neg_w.shape[0] != n or valid.shape[0] != n or (not one_grad and g.shape[0] != n) or scale.shape[0] < 3:
        raise IndexError("nll_loss backward: buffers of mismatched sizes")
    for b in range(n):
        k = ids[b]
        if k < 0 or k >= out.shape[0]:
            raise kernel_errors.IndexError("nll_loss backward: position {} is out of bounds for {}", k, out.shape[0])
        scale[1] = neg_w[b] * (scale[0] if one_grad else g[b])
        out[k] += scale[1] if valid[b] else scale[2]


def nll_backward(g, denominator, neg_w, valid, ids, shape):
    """``NllLoss.backward``'s kernels: ``g`` (divided by the mean's ``denominator``) times
    ``neg_w``, 0 where not ``valid``, added into zeros of ``shape`` at ``ids``."""
    if g.dtype is not neg_w.dtype or not g.flags.c_contiguous or (g.ndim and g.shape != neg_w.shape) \
            or not neg_w.size:
        return None
    out = np.zeros(shape, g.dtype)
    mean = denominator is not None
    flat_g = g.reshape(-1)
    scale = np.zeros(3, g.dtype)  # (the quotient, one row's gradient, a 0 of the dtype)
    _nll_backward(flat_g, denominator.reshape(1) if mean else flat_g, mean, neg_w, valid, ids, scale, out.reshape(-1))
    return out


# ---- elementwise derivatives (softmax's and log_softmax's gradients are kernels already:
# ``nn.softmax_backward_rows``, ``nn.log_softmax_backward_rows``)

@njit(**_JIT)
def _tanh_backward_float32(g, out, result):
    if g.shape[0] != result.shape[0] or out.shape[0] != result.shape[0]:
        raise IndexError("tanh_backward: buffers of mismatched sizes")
    for i in range(result.shape[0]):
        wide = np.float64(out[i])
        result[i] = g[i] * np.float32(1.0 - wide * wide)


@njit(**_JIT)
def _tanh_backward(g, out, result):
    if g.shape[0] != result.shape[0] or out.shape[0] != result.shape[0]:
        raise IndexError("tanh_backward: buffers of mismatched sizes")
    for i in range(result.shape[0]):
        result[i] = g[i] * (1.0 - out[i] * out[i])


@njit(**_JIT)
def _sigmoid_backward(g, out, one, result):
    if g.shape[0] != result.shape[0] or out.shape[0] != result.shape[0]:
        raise IndexError("sigmoid_backward: buffers of mismatched sizes")
    for i in range(result.shape[0]):
        result[i] = g[i] * (one - out[i]) * out[i]


def _same_flat(g, out):
    return g.dtype is out.dtype and _float(g) and g.shape == out.shape and g.flags.c_contiguous \
        and out.flags.c_contiguous and g.size


def tanh_backward(g, out):
    """``g * (1 - out * out)``, the product and difference in float64 for float32 (as
    ``_tanh_derivative``)."""
    if not _same_flat(g, out):
        return None
    result = np.empty(g.shape, g.dtype)
    (_tanh_backward_float32 if g.dtype is _F32 else _tanh_backward)(g.reshape(-1), out.reshape(-1),
                                                                    result.reshape(-1))
    return result


def sigmoid_backward(g, out):
    """``g * (1 - out) * out``, PyTorch's order."""
    if not _same_flat(g, out):
        return None
    result = np.empty(g.shape, g.dtype)
    _sigmoid_backward(g.reshape(-1), out.reshape(-1), g.dtype.type(1), result.reshape(-1))
    return result
