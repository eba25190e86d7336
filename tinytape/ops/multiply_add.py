"""Fused multiply-adds, rounded once as PyTorch's vectorised CPU kernels round them
(``vec::fmadd``): ``a + alpha * b`` (``add``/``sub`` with ``alpha``), ``addcmul``, and
``fused_multiply_add`` under ``lerp``.  The kernel is ``backend.fma``: one implementation
for eager code and for ``tinytape.compile``'s fused loops."""
import numbers

from .._tensor import Tensor
from ..autograd.function import Function
from ..backend.opcodes import ADD, MUL
from . import elementwise as ew


def _add_scaled(ctx, a, b, alpha):
    ctx.alpha = alpha
    backend, x, y = a._backend, a._data, b._data
    if x.dtype.itemsize == 2:  # float16, bfloat16: PyTorch's scalar loop (a tensor under 32 elements):
        # alpha and its product with b rounded to the dtype, then the sum rounded
        product = backend.binary(MUL, y, backend.scalar(alpha, x.dtype))
        return a._new(backend.binary(ADD, x, product))
    return a._new(backend.fma(y, backend.scalar(alpha, x.dtype), x))


class AddScaled(Function):
    """``a + alpha * b`` with one rounding, as PyTorch's CPU kernel (``vec::fmadd(b, alpha, a)``,
    ``alpha`` rounded to the tensors' dtype); SubScaled is ``a - alpha * b``."""
    grad_fn_name = "AddBackward0"
    _forward_runs_kernels_only = True

    @staticmethod
    def forward(ctx, a, b, alpha):
        return _add_scaled(ctx, a, b, alpha)

    @staticmethod
    def backward(ctx, g):
        return g, (ew.mul(g, ctx.alpha) if ctx.needs_input_grad[1] else None), None


class SubScaled(AddScaled):
    grad_fn_name = "SubBackward0"

    @staticmethod
    def forward(ctx, a, b, alpha):
        return _add_scaled(ctx, a, b, -alpha)


def fused_multiply_add(x, y, z):
    """``x * y + z`` rounded once, on tensors that record nothing (inside a forward); ``y``
    may be a number, rounded to ``x``'s dtype."""
    backend = x._backend
    y = y._data if isinstance(y, Tensor) else backend.scalar(y, x._data.dtype)
    return x._new(backend.fma(x._data, y, z._data))


class Addcmul(Function):
    """``input + value * t1 * t2`` as PyTorch's CPU kernel: ``value * t1`` rounded, then one
    fused multiply-add (``vec::fmadd``)."""
    grad_fn_name = "AddcmulBackward0"
    _forward_runs_kernels_only = True

    @staticmethod
    def forward(ctx, input, t1, t2, value):
        ctx.value = value
        ctx.save_for_backward(t1 if ctx.needs_input_grad[2] else None, t2 if ctx.needs_input_grad[1] else None)
        backend, data = input._backend, t1._data
        scaled = data if value == 1 else backend.binary(MUL, data, backend.scalar(value, data.dtype))
        return input._new(backend.fma(scaled, t2._data, input._data))

    @staticmethod
    def backward(ctx, g):
        t1, t2 = ctx.saved_tensors
        value = ctx.value  # PyTorch's grad * (tensor2 * value), grad * (tensor1 * value)
        return (g, ew.mul(g, ew.mul(t2, value)) if ctx.needs_input_grad[1] else None,
                ew.mul(g, ew.mul(t1, value)) if ctx.needs_input_grad[2] else None, None)


class Addcdiv(Function):
    """``input + value * tensor1 / tensor2`` (its kernel's order), with PyTorch's derivatives:
    ``grad * (value / tensor2)`` and ``-grad * (tensor1 * value / (tensor2 * tensor2))``."""
    grad_fn_name = "AddcdivBackward0"

    @staticmethod
    def forward(ctx, input, t1, t2, value):
        ctx.value = value
        ctx.save_for_backward(t1 if ctx.needs_input_grad[2] else None,
                              t2 if ctx.needs_input_grad[1] or ctx.needs_input_grad[2] else None)
        unit = isinstance(value, numbers.Number) and value == 1  # (in a trace ``value`` may be a 0-d tensor)
        return ew.add(input, ew.div(t1 if unit else ew.mul(t1, value), t2))

    @staticmethod
    def backward(ctx, g):
        t1, t2 = ctx.saved_tensors
        value = ctx.value
        # ``value / tensor2``: ATen's Scalar / Tensor, a tensor filled with value divided by tensor2
        grad1 = ew.mul(g, ew.div(t2.new_full(t2.shape, value), t2)) if ctx.needs_input_grad[1] else None
        grad2 = ew.mul(ew.neg(g), ew.div(ew.mul(t1, value), ew.mul(t2, t2))) if ctx.needs_input_grad[2] else None
        return g, grad1, grad2, None


def addcdiv(input, tensor1, tensor2, value=1):
    """``input + value * tensor1 / tensor2`` for float32/float64 tensors of one dtype (the
    others composed, promoted as the ops promote)."""
    tensors = (input, tensor1, tensor2)
    if (all(isinstance(t, Tensor) for t in tensors) and isinstance(value, numbers.Real)
            and input._data.dtype in ew._WIDE and all(t._data.dtype is input._data.dtype for t in tensors)):
        return Addcdiv.apply(input, tensor1, tensor2, value)
    unit = isinstance(value, numbers.Number) and value == 1
    return ew.add(input, ew.div(tensor1 if unit else ew.mul(tensor1, value), tensor2))


def addcmul(input, tensor1, tensor2, value=1):
    """``input + value * tensor1 * tensor2``: fused (one rounding after ``value * tensor1``) for
    float32/float64 tensors of one dtype, as PyTorch's CPU kernel; else composed."""
    tensors = (input, tensor1, tensor2)
    if (all(isinstance(t, Tensor) for t in tensors) and isinstance(value, numbers.Real)
            and input._data.dtype in ew._WIDE and all(t._data.dtype is input._data.dtype for t in tensors)):
        for x, y in ((input, tensor1), (input, tensor2), (tensor1, tensor2)):
            ew._check_broadcast(x._data.shape, y._data.shape, "addcmul")
            ew._check_device(x, y, "addcmul")
        return Addcmul.apply(input, tensor1, tensor2, value)
    return ew.add(input, ew.mul(ew.mul(tensor1, tensor2), value))
