"""``softmax`` and ``log_softmax`` (one recorded entry each, the backend's kernel), the
functional forms that ``nn.functional`` and the attention ops share."""
import warnings

from .. import _creation, _dtype
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Function
from ..backend.opcodes import EXP, MUL, SUB, SUM
from . import elementwise as ew


def _kernel_dtype_name(dtype):
    return _dtype.scalar_type_name(dtype)


class Softmax(Function):
    grad_fn_name = "SoftmaxBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        out = x._new(x._backend.softmax(x._data, dim) if x._data.size else x._data.copy())
        ctx.dim = dim
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        if ew.kernels_serve(g, out):  # the ops' kernels, in the ops' order, without the ops
            backend, grad, data = g._backend, g._data, out._data
            if _rows_kernel_serves(backend, grad, data, ctx.dim):
                return g._new(backend.softmax_backward(grad, data, False)), None
            if _axis_kernel_serves(backend, grad, data, ctx.dim):
                return g._new(backend.softmax_backward_along(grad, data, ctx.dim, False)), None
            total = backend.reduce(SUM, backend.binary(MUL, grad, data), (ctx.dim,), True)
            return g._new(backend.binary(MUL, data, backend.binary(SUB, grad, total))), None
        return out * (g - (g * out).sum(ctx.dim, keepdim=True)), None


def _rows_kernel_serves(backend, grad, out, dim):
    """Whether the backend's ``softmax_backward`` (PyTorch's CPU kernel: rows of C-contiguous
    float32/float64 arrays, the last axis) takes this gradient; else the formula's kernels."""
    return (hasattr(backend, "softmax_backward") and dim == out.ndim - 1 and out.size and grad.shape == out.shape
            and grad.dtype is out.dtype and out.dtype.kind == "f" and out.dtype.itemsize >= 4
            and backend._flat(grad) and backend._flat(out))


def _axis_kernel_serves(backend, grad, out, dim):
    """Whether the backend's ``softmax_backward_along`` (PyTorch's CPU kernel for an axis before
    the last, float32/float64) takes this gradient."""
    return (hasattr(backend, "softmax_backward_along") and dim < out.ndim - 1 and out.size
            and grad.shape == out.shape and grad.dtype is out.dtype and out.dtype.kind == "f" and out.dtype.itemsize >= 4)


class LogSoftmax(Function):
    grad_fn_name = "LogSoftmaxBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        out = x._new(x._backend.softmax(x._data, dim, log=True) if x._data.size else x._data.copy())
        ctx.dim = dim
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        if ew.kernels_serve(g, out):  # the ops' kernels, in the ops' order, without the ops
            backend, grad = g._backend, g._data
            if _rows_kernel_serves(backend, grad, out._data, ctx.dim):
                return g._new(backend.softmax_backward(grad, out._data, True)), None
            if _axis_kernel_serves(backend, grad, out._data, ctx.dim):
                return g._new(backend.softmax_backward_along(grad, out._data, ctx.dim, True)), None
            exp = backend.unary(EXP, out._data)
            total = backend.reduce(SUM, grad, (ctx.dim,), True)
            return g._new(backend.binary(SUB, grad, backend.binary(MUL, exp, total))), None
        return g - out.exp() * g.sum(ctx.dim, keepdim=True), None


_REQUIRED = object()  # torch.softmax and Tensor.softmax take no implicit dim (nn.functional's do)


def _softmax_dim(x, dim, op):
    if dim is _REQUIRED:
        raise TypeError(f'{op}() missing 1 required positional arguments: "dim"')
    if dim is None:  # PyTorch's legacy choice, with its warning at the user's line
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to "
                      "include dim=X as an argument.", UserWarning, stacklevel=_creation._user_stacklevel())
        dim = 0 if x.ndim in (0, 1, 3) else 1
    d = _wrap_dim(dim, x.ndim, op)  # a 0-d tensor takes -1 and 0
    return d if x.ndim else 0


def _softmax_input(input, dtype, kernel):
    """The tensor the kernel runs on: ``input`` converted to ``dtype`` when given.  PyTorch's
    kernels have no integer or bool version: without ``dtype`` those are refused."""
    if dtype is None and isinstance(input, Tensor) and not input.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_kernel_dtype_name(input.dtype)}\'')
    return ew._float_input(input if dtype is None else input.to(dtype), kernel.split("_lastdim")[0].split("_kernel")[0])


def _kernel_name(input, dim, name):
    """PyTorch's kernel for ``dim``: the last dimension's, or the general one."""
    last = not isinstance(input, Tensor) or dim is None or input.ndim <= 1 or dim in (-1, input.ndim - 1)
    return f"{name}_lastdim_kernel_impl" if last else f"{name}_kernel_impl"


def softmax(input, dim=_REQUIRED, dtype=None):
    x = _softmax_input(input, dtype, _kernel_name(input, dim, "softmax"))
    if x.ndim == 0:
        _softmax_dim(x, dim, "softmax")
        return Softmax.apply(x.reshape(1), 0).reshape(())
    return Softmax.apply(x, _softmax_dim(x, dim, "softmax"))


def log_softmax(input, dim=_REQUIRED, dtype=None):
    x = _softmax_input(input, dtype, _kernel_name(input, dim, "log_softmax"))
    if x.ndim == 0:
        _softmax_dim(x, dim, "log_softmax")
        return LogSoftmax.apply(x.reshape(1), 0).reshape(())
    return LogSoftmax.apply(x, _softmax_dim(x, dim, "log_softmax"))
