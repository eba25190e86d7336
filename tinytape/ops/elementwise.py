"""Elementwise operations: arithmetic, unary math, activations, comparisons, casts."""
import builtins
import numbers

from .. import _dtype
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend.opcodes import (
    ABS, ADD, COS, DIV, EQ, EXP, GE, GT, LE, LOG, LT, MAXIMUM, MINIMUM, MUL, NE, NEG, POW,
    RELU, SIGMOID, SIGN, SIN, SQRT, SUB, TANH,
)


def _check_device(a, b, op):
    if a._be is not b._be:
        raise RuntimeError(f"{op}: Expected all tensors to be on the same device, but found at "
                           f"least two devices, {a.device} and {b.device}!")


_PY_SCALARS = (float, int, bool)


def _check_broadcast(sa, sb, op):
    for i, (da, db) in enumerate(zip(reversed(sa), reversed(sb))):
        if da != db and da != 1 and db != 1:
            dim = max(len(sa), len(sb)) - 1 - i
            raise RuntimeError(
                f"{op}: The size of tensor a ({da}) must match the size of tensor b ({db}) at "
                f"non-singleton dimension {dim} (shapes {list(sa)} and {list(sb)})")


def _scalar_tensor(like, value, dtype):
    return Tensor._make(like._be.scalar(value, dtype.np), be=like._be)


def operands(a, b, op):
    """``a`` and ``b`` as tensors of one dtype (PyTorch's promotion; python scalars are
    weakly typed), on one device."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb and a._be is b._be and a._data.dtype == b._data.dtype:
        if a._data.shape != b._data.shape:
            _check_broadcast(a._data.shape, b._data.shape, op)
        return a, b  # the common case, decided without building dtype objects
    if ta and tb:
        _check_broadcast(a._data.shape, b._data.shape, op)
        _check_device(a, b, op)
        dt = _dtype.result_type(a, b)  # a 0-d tensor promotes as a number would
    elif ta:
        if type(b) not in _PY_SCALARS and not isinstance(b, numbers.Number):
            raise TypeError(f"{op}: unsupported operand types Tensor and {type(b).__name__}")
        own = a.dtype
        dt = _dtype.promote_scalar(own, b)
        b = _scalar_tensor(a, b, dt)
        return (a if own is dt else to_dtype(a, dt)), b
    elif tb:
        if type(a) not in _PY_SCALARS and not isinstance(a, numbers.Number):
            raise TypeError(f"{op}: unsupported operand types {type(a).__name__} and Tensor")
        own = b.dtype
        dt = _dtype.promote_scalar(own, a)
        a = _scalar_tensor(b, a, dt)
        return a, (b if own is dt else to_dtype(b, dt))
    else:
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}")
    if a.dtype is not dt:
        a = to_dtype(a, dt)
    if b.dtype is not dt:
        b = to_dtype(b, dt)
    return a, b


def _float_input(x, op):
    """Floating-point math on an integer tensor computes in the default float dtype."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    return x if x.dtype.is_floating_point else to_dtype(x, _dtype.default_float)


def _binary(a, b, code):
    return a._new(a._be.binary(code, a._data, b._data))


def _unary(x, code):
    return x._new(x._be.unary(code, x._data))


def _mask(x, code, value):
    """1 where ``x (code) value`` holds, else 0, in ``x``'s dtype: a constant (its derivative
    is 0 wherever it is defined), so it is built from kernels directly, off the tape."""
    be = x._be
    hits = be.compare(code, x._data, be.scalar(value, x._data.dtype))
    return x._new(be.astype(hits, x._data.dtype))


# ---------------------------------------------------------------- casts


class ToCopy(Function):
    grad_fn_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, dtype):
        out = x._new(x._be.astype(x._data, dtype.np))
        if not dtype.is_floating_point:
            ctx.mark_non_differentiable(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return g, None  # the engine casts it back to the input's dtype


def to_dtype(x, dtype):
    return ToCopy.apply(x, dtype)


# ---------------------------------------------------------------- arithmetic


class Add(Function):
    grad_fn_name = "AddBackward0"

    @staticmethod
    def forward(ctx, a, b):
        return _binary(a, b, ADD)

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    grad_fn_name = "SubBackward0"

    @staticmethod
    def forward(ctx, a, b):
        return _binary(a, b, SUB)

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    grad_fn_name = "MulBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return _binary(a, b, MUL)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return (g * b if b is not None else None), (g * a if a is not None else None)


class Div(Function):
    grad_fn_name = "DivBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return _binary(a, b, DIV)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        grad_a = g / b if ctx.needs_input_grad[0] else None
        grad_b = -g * a / (b * b) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class PowScalar(Function):
    grad_fn_name = "PowBackward0"

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        return _binary(x, _scalar_tensor(x, exponent, x.dtype), POW)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        e = ctx.exponent
        if e == 0:
            return g * 0, None
        if e == 2:
            return g * (x * 2), None  # the squared error's case: two ops, not three
        return g * e * (x ** (e - 1)), None


class Pow(Function):
    grad_fn_name = "PowBackward1"

    @staticmethod
    def forward(ctx, a, b):
        out = _binary(a, b, POW)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        grad_a = g * b * a ** (b - 1) if ctx.needs_input_grad[0] else None
        grad_b = None
        if ctx.needs_input_grad[1]:
            # d(a^b)/db = a^b log a, taken as 0 where a == 0 and b >= 0 (the limit)
            grad_b = where((a == 0) * (b >= 0), 0.0, g * out * log(a))
        return grad_a, grad_b


class Neg(Function):
    grad_fn_name = "NegBackward0"

    @staticmethod
    def forward(ctx, x):
        return _unary(x, NEG)

    @staticmethod
    def backward(ctx, g):
        return -g


def add(a, b, alpha=1):
    if alpha != 1:
        b = mul(b, alpha)
    return Add.apply(*operands(a, b, "add"))


def sub(a, b, alpha=1):
    if alpha != 1:
        b = mul(b, alpha)
    a, b = operands(a, b, "sub")
    if a.dtype is _dtype.bool_:
        raise RuntimeError("sub: subtraction of bool tensors is not supported; use logical_xor or ~")
    return Sub.apply(a, b)


def mul(a, b):
    return Mul.apply(*operands(a, b, "mul"))


def div(a, b):
    a, b = operands(a, b, "div")
    if not a.dtype.is_floating_point:  # true division, as PyTorch's default
        a, b = to_dtype(a, _dtype.default_float), to_dtype(b, _dtype.default_float)
    return Div.apply(a, b)


def pow(base, exponent):
    if isinstance(base, Tensor) and isinstance(exponent, numbers.Number):
        if base.dtype is _dtype.bool_ or (not base.dtype.is_floating_point and isinstance(exponent, float)):
            base = to_dtype(base, _dtype.default_float)
        if not base.dtype.is_floating_point and exponent < 0:
            raise RuntimeError("pow: integers to negative integer powers are not allowed")
        return PowScalar.apply(base, exponent)
    return Pow.apply(*operands(base, exponent, "pow"))


def neg(x):
    if x.dtype is _dtype.bool_:
        raise RuntimeError("neg: negation, the `-` operator, on a bool tensor is not supported")
    return Neg.apply(x)


# ---------------------------------------------------------------- unary math


class Exp(Function):
    grad_fn_name = "ExpBackward0"

    @staticmethod
    def forward(ctx, x):
        out = _unary(x, EXP)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class Log(Function):
    grad_fn_name = "LogBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _unary(x, LOG)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    grad_fn_name = "SqrtBackward0"

    @staticmethod
    def forward(ctx, x):
        out = _unary(x, SQRT)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g / (2 * out)


class Abs(Function):
    grad_fn_name = "AbsBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _unary(x, ABS)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * sign(x)


class Sign(Function):
    grad_fn_name = "SignBackward0"

    @staticmethod
    def forward(ctx, x):
        return _unary(x, SIGN)

    @staticmethod
    def backward(ctx, g):
        return g * 0


class Sin(Function):
    grad_fn_name = "SinBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _unary(x, SIN)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * cos(x)


class Cos(Function):
    grad_fn_name = "CosBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _unary(x, COS)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * sin(x)


class Tanh(Function):
    grad_fn_name = "TanhBackward0"

    @staticmethod
    def forward(ctx, x):
        out = _unary(x, TANH)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (1 - out * out)


class Sigmoid(Function):
    grad_fn_name = "SigmoidBackward0"

    @staticmethod
    def forward(ctx, x):
        out = _unary(x, SIGMOID)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out * (1 - out)


class Relu(Function):
    grad_fn_name = "ReluBackward0"

    @staticmethod
    def forward(ctx, x):
        out = _unary(x, RELU)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * _mask(out, GT, 0)  # 0 at x == 0, as PyTorch's threshold_backward


def exp(x):
    return Exp.apply(_float_input(x, "exp"))


def log(x):
    return Log.apply(_float_input(x, "log"))


def sqrt(x):
    return Sqrt.apply(_float_input(x, "sqrt"))


def abs(x):
    return Abs.apply(x)


def sign(x):
    return Sign.apply(x)


def sin(x):
    return Sin.apply(_float_input(x, "sin"))


def cos(x):
    return Cos.apply(_float_input(x, "cos"))


def tanh(x):
    return Tanh.apply(_float_input(x, "tanh"))


def sigmoid(x):
    return Sigmoid.apply(_float_input(x, "sigmoid"))


def relu(x):
    return Relu.apply(x)


# ---------------------------------------------------------------- clamp, maximum, minimum


class Clamp(Function):
    grad_fn_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        data = x._data
        if lo is not None:
            data = x._be.binary(MAXIMUM, data, x._be.scalar(lo, data.dtype))
        if hi is not None:
            data = x._be.binary(MINIMUM, data, x._be.scalar(hi, data.dtype))
        return x._new(data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        # the gradient passes where lo <= x <= hi, boundaries included (PyTorch's rule)
        if ctx.lo is not None:
            g = g * _mask(x, GE, ctx.lo)
        if ctx.hi is not None:
            g = g * _mask(x, LE, ctx.hi)
        return g, None, None


class ClampMin(Clamp):
    grad_fn_name = "ClampMinBackward0"


class ClampMax(Clamp):
    grad_fn_name = "ClampMaxBackward0"


def clamp(x, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    if not x.dtype.is_floating_point and any(isinstance(v, float) for v in (min, max)):
        x = to_dtype(x, _dtype.default_float)
    cls = Clamp if (min is not None and max is not None) else (ClampMin if min is not None else ClampMax)
    return cls.apply(x, min, max)


class Maximum(Function):
    grad_fn_name = "MaximumBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _binary(a, b, MAXIMUM)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        tie = (a == b) * 0.5  # ties split the gradient evenly, as PyTorch
        return g * ((a > b) + tie), g * ((a < b) + tie)


class Minimum(Function):
    grad_fn_name = "MinimumBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _binary(a, b, MINIMUM)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        tie = (a == b) * 0.5
        return g * ((a < b) + tie), g * ((a > b) + tie)


def maximum(a, b):
    return Maximum.apply(*operands(a, b, "maximum"))


def minimum(a, b):
    return Minimum.apply(*operands(a, b, "minimum"))


# ---------------------------------------------------------------- where


class Where(Function):
    grad_fn_name = "WhereBackward0"

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return a._new(a._be.where(cond._data, a._data, b._data))

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        zero = g * 0
        return (None,
                where(cond, g, zero) if ctx.needs_input_grad[1] else None,
                where(cond, zero, g) if ctx.needs_input_grad[2] else None)


def where(cond, a, b):
    """``a`` where ``cond`` holds, else ``b`` (scalars allowed for either)."""
    if not isinstance(cond, Tensor):
        raise TypeError(f"where(): argument 'condition' must be Tensor, not {type(cond).__name__}")
    if cond.dtype is not _dtype.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {cond.dtype.name}")
    a, b = operands(a, b, "where")
    _check_device(cond, a, "where")
    return Where.apply(cond, a, b)


# ---------------------------------------------------------------- comparisons (no gradient)


def _compare(a, b, code, op):
    a, b = operands(a, b, op)
    return a._new(a._be.compare(code, a._data, b._data))


def eq(a, b):
    return _compare(a, b, EQ, "eq")


def ne(a, b):
    return _compare(a, b, NE, "ne")


def lt(a, b):
    return _compare(a, b, LT, "lt")


def le(a, b):
    return _compare(a, b, LE, "le")


def gt(a, b):
    return _compare(a, b, GT, "gt")


def ge(a, b):
    return _compare(a, b, GE, "ge")


def equal(a, b):
    """True when ``a`` and ``b`` have the same shape and elements."""
    return a.shape == b.shape and builtins.bool(eq(a, b).all())
