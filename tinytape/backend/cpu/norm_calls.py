"""The CPU backend's normalisation kernels (``moments.py``): layer norm and batch norm as
PyTorch's CPU kernels compute them, forward and backward, over C-contiguous copies of
float32/float64 buffers; as ``NormCalls``, a base class of ``CPUBackend``."""
import numba
import numpy as np

from . import group_norm_grad as _group_norm_grad
from . import moments as _moments
from . import vector_norm as _vector_norm


class NormCalls:
    def vector_norm(self, x, p, dims, keepdim):
        """The ``p``-norm of ``x`` over ``dims``: float32/float64 in PyTorch's CPU kernel's order
        (``vector_norm.py``; bfloat16 accumulated in float32 as PyTorch's); other dtypes and empty arrays as ``Backend.vector_norm``."""
        if x.size and (x.dtype == np.float32 or x.dtype == np.float64 or x.dtype.name == "bfloat16"):
            return _vector_norm.vector_norm(x, p, dims, keepdim)
        return super().vector_norm(x, p, dims, keepdim)

    def layer_norm(self, x, weight, bias, cols, eps):
        """(out, mean, rstd) of PyTorch's CPU ``layer_norm`` over the last ``cols`` elements of
        the float32/float64 ``x`` (``moments.layer_norm_rows``); weight and bias of ``cols``
        elements or None."""
        flat = np.ascontiguousarray(x).reshape(-1)
        rows = flat.size // cols
        out, mean, rstd = np.empty(flat.size, x.dtype), np.empty(rows, x.dtype), np.empty(rows, x.dtype)
        affine = (weight is not None) + 2 * (bias is not None)
        ones = np.ones(cols, x.dtype)
        _moments.layer_norm_rows(flat, rows, cols, _row(weight, ones), _row(bias, ones), affine, x.dtype.type(eps),
                                 out, mean, rstd)
        return out.reshape(x.shape), mean, rstd

    def layer_norm_backward(self, grad, x, weight, mean, rstd, cols, wants):
        """(dx, dweight, dbias) of ``layer_norm``; those ``wants`` does not ask for are zeros."""
        flat = np.ascontiguousarray(x).reshape(-1)
        rows = flat.size // cols
        dx, dw, db = np.zeros(flat.size, x.dtype), np.zeros(cols, x.dtype), np.zeros(cols, x.dtype)
        _moments.layer_norm_backward_rows(np.ascontiguousarray(grad, x.dtype).reshape(-1), flat, rows, cols,
                                          _row(weight, np.ones(cols, x.dtype)), weight is not None, mean, rstd,
                                          dx, dw, db, wants[0], wants[1], wants[2], numba.get_num_threads())
        return dx.reshape(x.shape), dw, db

    def group_norm(self, x, weight, bias, groups, eps):
        """PyTorch's CPU ``group_norm`` of the float32/float64 (N, C, ...) ``x``
        (``moments.group_norm_rows``); weight and bias of C elements or None."""
        flat = np.ascontiguousarray(x).reshape(-1)
        batch, channels = x.shape[0], x.shape[1]
        inner = flat.size // max(batch * channels, 1)
        out = np.empty(flat.size, x.dtype)
        mean, rstd = np.empty(batch * groups, x.dtype), np.empty(batch * groups, x.dtype)
        ones = np.ones(channels, x.dtype)
        _moments.group_norm_rows(flat, batch * groups, groups, channels // groups, inner, _row(weight, ones),
                                 _row(bias, ones), (weight is not None) + 2 * (bias is not None), float(eps), out, mean,
                                 rstd)
        return out.reshape(x.shape)

    def group_norm_backward(self, grad, x, weight, groups, eps):
        """(dx, dweight, dbias) of ``group_norm`` as PyTorch's CPU kernel computes them
        (``group_norm_grad.py``), from the mean and rstd its forward kernel saves."""
        flat = np.ascontiguousarray(x).reshape(-1)
        batch, channels = x.shape[0], x.shape[1]
        inner = flat.size // max(batch * channels, 1)
        mean, rstd = np.empty(batch * groups, x.dtype), np.empty(batch * groups, x.dtype)
        ones = np.ones(channels, x.dtype)
        _moments.group_norm_rows(flat, batch * groups, groups, channels // groups, inner, ones, ones, 0, float(eps),
                                 np.empty(flat.size, x.dtype), mean, rstd)
        dx, dw, db = np.empty(flat.size, x.dtype), np.empty(channels, x.dtype), np.empty(channels, x.dtype)
        _group_norm_grad.group_norm_grads(np.ascontiguousarray(grad, x.dtype).reshape(-1), flat, mean, rstd,
                                          _row(weight, ones), batch, channels, inner, groups,
                                          8 if x.dtype == np.float32 else 4, dx, dw, db)
        return dx.reshape(x.shape), dw, db

    def pdist_two(self, diff):
        """The 2-norm of each row of the 2-D float32/float64 ``diff``, in PyTorch's ``pdist`` order."""
        flat = np.ascontiguousarray(diff).reshape(-1)
        out = np.empty(diff.shape[0], diff.dtype)
        return _group_norm_grad.pdist_two_rows(flat, diff.shape[0], diff.shape[1], 8 if diff.dtype == np.float32 else 4,
                                               out)

    def batch_norm(self, x, weight, bias, running_mean, running_var, training, momentum, eps):
        """(out, mean, invstd, new running mean, new running variance) of PyTorch's CPU batch
        norm over the channels (dim 1) of the float32/float64 (N, C, L...) ``x``; the running
        statistics given (else size 0) and, in training, updated into new arrays."""
        flat = np.ascontiguousarray(x).reshape(-1)
        batch, channels = x.shape[0], x.shape[1]
        inner = flat.size // max(batch * channels, 1)
        dtype = x.dtype
        if training:
            mean, var_sum = np.empty(channels, dtype), np.empty(channels, dtype)
            _moments.batch_norm_stats(flat, batch, channels, inner, numba.get_num_threads(), mean, var_sum)
        else:
            mean, var_sum = np.ascontiguousarray(running_mean, dtype).copy(), np.empty(channels, dtype)
        empty = np.empty(0, dtype)
        running = [empty if r is None else np.ascontiguousarray(r, dtype) for r in (running_mean, running_var)]
        updated = [np.empty(channels, dtype) if training and r is not None else empty
                   for r in (running_mean, running_var)]
        scale, shift, invstd = np.empty(channels, dtype), np.empty(channels, dtype), np.empty(channels, dtype)
        ones = np.ones(channels, dtype)
        _moments.batch_norm_coefficients(mean, var_sum, batch * inner, *running, bool(training), float(momentum),
                                         float(eps), _row(weight, ones), _row(bias, ones),
                                         (weight is not None) + 2 * (bias is not None), scale, shift, invstd, *updated)
        out = np.empty(flat.size, dtype)
        _moments.batch_norm_transform(flat, batch, channels, inner, scale, shift, out)
        return out.reshape(x.shape), mean, invstd, updated[0], updated[1]

    def batch_norm_backward(self, grad, x, weight, mean, invstd, running_var, training, eps):
        """(dx, dweight, dbias) of ``batch_norm`` (PyTorch's CPU kernel): ``mean``/``invstd``
        the saved batch statistics in training, the running mean (and ``running_var``) else."""
        flat = np.ascontiguousarray(x).reshape(-1)
        batch, channels = x.shape[0], x.shape[1]
        dtype = x.dtype
        dx, dw, db = np.empty(flat.size, dtype), np.empty(channels, dtype), np.empty(channels, dtype)
        ones = np.ones(channels, dtype)
        grad, mean, invstd = (np.ascontiguousarray(a, dtype).reshape(-1) for a in (grad, mean, invstd))
        if x.ndim == 2:  # PyTorch's channels-last kernel
            _moments.batch_norm_backward_channels_last(
                grad, flat, batch, channels, _row(weight, ones), weight is not None, mean, invstd,
                _row(running_var, ones), bool(training), float(eps), numba.get_num_threads(), dx, dw, db)
        else:
            _moments.batch_norm_backward_rows(grad, flat, batch, channels, flat.size // max(batch * channels, 1),
                                              _row(weight, ones), weight is not None, mean, invstd,
                                              _row(running_var, ones), bool(training), float(eps), dx, dw, db)
        return dx.reshape(x.shape), dw, db


def _row(t, default):
    return default if t is None else np.ascontiguousarray(t, default.dtype).reshape(-1)
