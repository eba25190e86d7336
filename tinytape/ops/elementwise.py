"""Elementwise operations: arithmetic, unary math, activations, comparisons, casts."""
import builtins
import numbers
import warnings

from .. import _dtype
from .._grad_mode import _state
from .._creation import _user_stacklevel
from .._counters import ZERO as _VERSION_ZERO
from .._tensor import NumberVersion, Tensor
from ..autograd.function import Function
from ..autograd.tape import _local as _tape_local
from ..backend.cpu import fused as cpu_fused  # noqa: F401  (the kernels ``fuses`` admits)
from ..backend.cpu.backend import cpu as _cpu
from ..backend.opcodes import MUL, POW, RECIPROCAL, RSQRT, SQRT
from . import dtype_rules
from .. import op_table as table


def _check_device(a, b, op):
    if a._backend is not b._backend:
        raise RuntimeError(f"{op}: Expected all tensors to be on the same device, but found at "
                           f"least two devices, {a.device} and {b.device}!")


_PY_SCALARS = (float, int, bool)


def _check_broadcast(sa, sb, op):
    """PyTorch's error for shapes that do not broadcast, its words first (learners' programs
    print them), then the op and both shapes."""
    for i, (da, db) in enumerate(zip(reversed(sa), reversed(sb))):
        if da != db and da != 1 and db != 1:
            dim = max(len(sa), len(sb)) - 1 - i
            raise RuntimeError(f"The size of tensor a ({da}) must match the size of tensor b ({db}) at non-singleton "
                               f"dimension {dim} ({op}: shapes {list(sa)} and {list(sb)})")


def _scalar_tensor(like, value, dtype):
    return Tensor._make(like._backend.scalar(_dtype.wrapped_int(value, dtype.np), dtype.np),
                        version=NumberVersion(_VERSION_ZERO),
                        backend=like._backend)


def operands(a, b, op):
    """``a`` and ``b`` as tensors of one dtype (PyTorch's promotion; python scalars are
    weakly typed), on one device."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb and a._backend is b._backend and a._data.dtype is b._data.dtype:  # builtin dtypes are singletons
        if a._data.dtype.char in dtype_rules.LIMITED_CHARS:
            dtype_rules.check_unsigned(op, a.dtype)
        if a._data.shape != b._data.shape:
            _check_broadcast(a._data.shape, b._data.shape, op)
        return a, b  # the common case, decided without building dtype objects
    if ta and (type(b) is float or type(b) is int) and a._data.dtype.kind == "f":
        # a floating tensor and a python number (weakly typed): the tensor's dtype
        return a, Tensor._make(a._backend.scalar(b, a._data.dtype), False, None, 0, NumberVersion(_VERSION_ZERO),
                               a._backend)
    if ta and tb:
        _check_broadcast(a._data.shape, b._data.shape, op)
        _check_device(a, b, op)
        dt = _dtype.result_type(a, b)  # a 0-d tensor promotes as a number would
    elif ta:
        if type(b) not in _PY_SCALARS and not isinstance(b, numbers.Number):
            raise TypeError(f"{op}: unsupported operand types Tensor and {type(b).__name__}")
        own = a.dtype
        dt = _dtype.promote_scalar(own, b)
        if dt in _dtype.LIMITED_UNSIGNED:
            dtype_rules.check_unsigned(op, dt)
        b = _scalar_tensor(a, b, dt)
        return (a if own is dt else to_dtype(a, dt)), b
    elif tb:
        if type(a) not in _PY_SCALARS and not isinstance(a, numbers.Number):
            raise TypeError(f"{op}: unsupported operand types {type(a).__name__} and Tensor")
        own = b.dtype
        dt = _dtype.promote_scalar(own, a)
        if dt in _dtype.LIMITED_UNSIGNED:
            dtype_rules.check_unsigned(op, dt)
        a = _scalar_tensor(b, a, dt)
        return a, (b if own is dt else to_dtype(b, dt))
    else:
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}")
    if dt in _dtype.LIMITED_UNSIGNED:
        dtype_rules.check_unsigned(op, dt)
    if a.dtype is not dt:
        a = to_dtype(a, dt)
    if b.dtype is not dt:
        b = to_dtype(b, dt)
    return a, b


_HALF, _BFLOAT16 = _dtype.float16.np, _dtype.bfloat16.np


def _opmath_operands(a, b, op):
    """``operands`` for mul and div.  A float16/bfloat16 tensor's second operand that is a
    number or a 0-d tensor stays in float32, unrounded: PyTorch's kernels for these two
    read such an operand in their float32 compute type (elsewhere, add and sub included,
    promotion rounds it to the tensor's dtype).  The backend computes in float32 and
    rounds once.  ``Tensor.mul_``/``div_`` apply the same rule on their untracked path."""
    if isinstance(a, Tensor) and (a._data.dtype is _HALF or a._data.dtype is _BFLOAT16):
        if isinstance(b, Tensor):
            if not b._data.ndim and b._backend is a._backend and b.dtype is not _dtype.bool_:
                return a, (b if b.dtype is _dtype.float32 else to_dtype(b, _dtype.float32))
        elif type(b) in (float, int) or isinstance(b, numbers.Real) and not isinstance(b, bool):
            return a, _scalar_tensor(a, b, _dtype.float32)
    return operands(a, b, op)


def _float_input(x, op):
    """Floating-point math on an integer tensor computes in the default float dtype."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    return x if x.dtype.is_floating_point or x.dtype.is_complex else to_dtype(x, _dtype.default_float)


def _binary(a, b, code):
    return a._new(a._backend.binary(code, a._data, b._data))


def _unary(x, code):
    return x._new(x._backend.unary(code, x._data))


_POW_SPECIAL = {2: lambda x: _binary(x, x, MUL), 3: lambda x: _binary(_binary(x, x, MUL), x, MUL),
                -2: lambda x: _unary(_binary(x, x, MUL), RECIPROCAL), -1: lambda x: _unary(x, RECIPROCAL),
                -0.5: lambda x: _unary(x, RSQRT), 0.5: lambda x: _unary(x, SQRT)}  # PyTorch's sqrt, rsqrt
_WIDE = (_dtype.float32.np, _dtype.float64.np)  # dtypes whose products by a number round as the op's
_F32, _F64 = _WIDE


def kernels_serve(a, b):
    """Whether a backward formula on tensors ``a`` and ``b`` can call the backend's kernels
    itself, as its ops would call them: nothing is being recorded (a backward without
    ``create_graph``) and both are float32 (or both float64) on one backend, so the ops
    would neither promote, nor cast, nor record.  It saves each op's checks, ``apply`` and
    context (3-4 us an op on small tensors, most of a formula's time)."""
    if _state.enabled:
        return False
    dtype = a._data.dtype
    return (dtype is _F32 or dtype is _F64) and b._data.dtype is dtype and a._backend is b._backend


def fuses(t):
    """Whether a formula on the CPU tensor ``t`` may run as one of ``cpu_fused``'s kernels
    instead of its kernel sequence (the same bits): nothing records kernels — a trace or an
    open ``Tape`` sees the sequence, which the compiler fuses with its neighbours."""
    return t._backend is _cpu and not _tape_local.stack


# ---------------------------------------------------------------- casts


class ToCopy(Function):
    grad_fn_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, dtype):
        if x._data.dtype.kind == "c" and not dtype.is_complex and not _warned_complex_cast:
            _warn_complex_cast()
        out = x._new(x._backend.astype(x._data, dtype.np))
        if not (dtype.is_floating_point or dtype.is_complex):
            ctx.mark_non_differentiable(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return g, None  # the engine casts it back to the input's dtype


_warned_complex_cast = False


def _warn_complex_cast():
    global _warned_complex_cast
    _warned_complex_cast = True  # once a process, as PyTorch's TORCH_WARN_ONCE
    warnings.warn("Casting complex values to real discards the imaginary part", UserWarning,
                  stacklevel=_user_stacklevel())


def to_dtype(x, dtype):
    return ToCopy.apply(x, dtype)


# ---------------------------------------------------------------- arithmetic
# Add, Sub, Mul, Div and Pow are the op table's (derived at the end of this file); their
# functions here take numbers on either side, alpha= and PyTorch's promotions.


class PowScalar(Function):
    """A tensor to a number's power: PyTorch's scalar overload, the number not an input."""
    grad_fn_name = "PowBackward0"
    _forward_runs_kernels_only = True

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        if exponent in _POW_SPECIAL and (x._data.dtype in _WIDE or x._data.dtype.name == "bfloat16"
                                         or exponent == 2 and x._data.dtype.kind == "f"):
            # PyTorch's products and quotients (powf differs in the last bit for ~30% of cubes),
            # bfloat16's too (each step rounded to bfloat16, as its Vectorized<BFloat16> ops)
            return _POW_SPECIAL[exponent](x)
        fast = getattr(x._backend, "pow_scalar", None)
        data = fast(x._data, exponent) if fast is not None and isinstance(exponent, (int, float)) else None
        if data is not None:  # float32 on the CPU: PyTorch's SLEEF powf
            return x._new(data)
        return _binary(x, _scalar_tensor(x, exponent, x.dtype), POW)

    @staticmethod
    def backward(ctx, g):
        (x,), e = ctx.saved_tensors, ctx.exponent
        if e == 0:
            return g.new_zeros(g.shape), None  # PyTorch's zeros_like (g * 0 is nan where g is inf)
        if x._data.dtype.kind == "c":  # PyTorch's complex convention: g * conj(e x^(e-1))
            return g * (e * (x ** (e - 1))).conj(), None
        if e == 2:
            data = x._data
            if not _state.enabled and data.dtype in _WIDE:
                # the squared error's case with no graph of the gradient kept: the two
                # products' kernels directly, as the ops below run them (2 x 3 us less)
                backend = x._backend
                twice = backend.binary(MUL, data, backend.scalar(2, data.dtype))
                return g._new(backend.binary(MUL, g._data, twice)), None
            return g * (x * 2), None  # two ops, not three
        return g * (e * (x ** (e - 1))), None  # PyTorch's grouping: grad * (e * x^(e-1))


def _fusable(a, b, alpha):
    """Whether ``a + alpha * b`` runs as one fused multiply-add: two float32 (or float64)
    tensors of one dtype and a real number ``alpha``."""
    return (isinstance(a, Tensor) and isinstance(b, Tensor) and a._data.dtype is b._data.dtype
            and a._data.dtype in _WIDE and isinstance(alpha, numbers.Real) and not isinstance(alpha, Tensor))


def _scaled(a, b, alpha):
    """Whether ``alpha`` scales ``b``: it is not 1, or it is a compiled function's number
    argument (``_dtype.runtime_number``) where the fused multiply-add gives ``a + b`` at 1."""
    return _dtype.runtime_number(alpha) and _fusable(a, b, alpha) or alpha != 1


def add(a, b, alpha=1):
    if (type(alpha) is not int or alpha != 1) and _scaled(a, b, alpha):  # (the default 1 decided at once)
        if _fusable(a, b, alpha):
            _check_broadcast(a._data.shape, b._data.shape, "add")
            _check_device(a, b, "add")
            return AddScaled.apply(a, b, alpha)
        promoted = _promoted_for_alpha(a, b, alpha, "add")
        if promoted is not None:
            return AddScaled.apply(*promoted, alpha)
        b = _times_alpha(a, b, alpha)
    return Add.apply(*operands(a, b, "add"))


def _promoted_for_alpha(a, b, alpha, op):
    """``a`` and ``b`` in their floating result dtype for ``a + alpha * b``: PyTorch promotes
    both first and scales the promoted ``b`` (float16/bfloat16 in float32), rounding once; None
    where that is not the case (a number, an integer or complex result, a tensor alpha)."""
    if not (isinstance(a, Tensor) and isinstance(b, Tensor) and isinstance(alpha, numbers.Real)) or isinstance(
            alpha, Tensor) or not _dtype.result_type(a, b).is_floating_point:
        return None
    return operands(a, b, op)


def _times_alpha(a, b, alpha):
    """``b * alpha`` for ``add``/``sub``: a number's product in Python (PyTorch's Scalar
    arithmetic), a tensor's by ``mul``; a float alpha refused for integer operands."""
    if isinstance(alpha, float) and all(not (isinstance(x, Tensor) and x.dtype.is_floating_point)
                                        and not isinstance(x, float) for x in (a, b)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    return b * alpha if not isinstance(b, Tensor) else mul(b, alpha)


def check_bool_sub(a, b):
    """PyTorch refuses a subtraction with a bool (tensor or number) on either side (``1 - mask``)."""
    a_bool = isinstance(a, bool) or isinstance(a, Tensor) and a.dtype is _dtype.bool_
    b_bool = isinstance(b, bool) or isinstance(b, Tensor) and b.dtype is _dtype.bool_
    if not (a_bool or b_bool):
        return
    if a_bool and b_bool:
        raise NotImplementedError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                                  "Use the `^` or `logical_xor()` operator instead.")
    raise NotImplementedError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                              "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def sub(a, b, alpha=1):
    check_bool_sub(a, b)
    if _scaled(a, b, alpha):
        if _fusable(a, b, alpha):
            _check_broadcast(a._data.shape, b._data.shape, "sub")
            _check_device(a, b, "sub")
            return SubScaled.apply(a, b, alpha)
        promoted = _promoted_for_alpha(a, b, alpha, "sub")
        if promoted is not None:
            return SubScaled.apply(*promoted, alpha)
        b = _times_alpha(a, b, alpha)
    cls = Sub if isinstance(a, Tensor) else Rsub
    a, b = operands(a, b, "sub")
    if a._data.dtype.kind == "b":
        raise NotImplementedError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                                  "Use the `^` or `logical_xor()` operator instead.")
    return cls.apply(a, b)


def mul(a, b):
    return Mul.apply(*_opmath_operands(a, b, "mul"))


def div(a, b, *, rounding_mode=None):
    if rounding_mode is not None:  # 'trunc' / 'floor': DivBackward2, in pointwise.py
        from .pointwise import div as rounded_div
        return rounded_div(a, b, rounding_mode=rounding_mode)
    if isinstance(b, Tensor) and not isinstance(a, Tensor) and isinstance(a, numbers.Number):
        return mul(reciprocal(b), a)  # a number over a tensor: PyTorch's rewrite (MulBackward0)
    a, b = _opmath_operands(a, b, "div")
    if not (a.dtype.is_floating_point or a.dtype.is_complex):  # true division, as PyTorch's default
        a, b = to_dtype(a, _dtype.default_float), to_dtype(b, _dtype.default_float)
    return Div.apply(a, b)


def pow(base, exponent):
    if isinstance(base, Tensor) and (type(exponent) in _PY_SCALARS or isinstance(exponent, numbers.Number)):
        if base._data.dtype.kind == "f" and type(exponent) is not complex:  # a floating base: no cast, no integer rule
            return PowScalar.apply(base, exponent)
        target = _dtype.promote_scalar(base.dtype, exponent)  # bool ** 2 is int64, int ** 2.5 float
        if target is _dtype.bool_:  # bool ** bool: the base where the exponent is True, else all True
            return base.clone() if exponent else base.new_ones(base.shape)
        if target is not base.dtype:
            base = to_dtype(base, target)
        if not (base.dtype.is_floating_point or base.dtype.is_complex) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return PowScalar.apply(base, exponent)
    cls = Pow if isinstance(base, Tensor) else PowScalarBase
    a, b = operands(base, exponent, "pow")
    dtype_rules.check("pow", a.dtype)
    return cls.apply(a, b)


def neg(x):
    dtype_rules.check("neg", x.dtype)
    if x.dtype is _dtype.bool_:
        raise NotImplementedError("Negation, the `-` operator, on a bool tensor is not supported. If you are "
                                  "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return Neg.apply(x)


def abs(x):
    dtype_rules.check("abs", x.dtype)
    return Abs.apply(x)


# ---------------------------------------------------------------- comparisons (no gradient)


def _compare(a, b, code, op):
    a, b = operands(a, b, op)
    if a._data.dtype.kind == "c":
        dtype_rules.check(op, a.dtype)
    return a._new(a._backend.compare(code, a._data, b._data))


def _comparison(op):
    def compare(a, b):
        return _compare(a, b, op.code, op.name)
    compare.__name__ = compare.__qualname__ = op.name
    compare.__doc__ = f"Elementwise ``{op.element}``, a bool tensor (no gradient)."
    return compare


_COMPARISONS = {op.name: _comparison(op) for op in table.of_kind("compare")}
eq, ne, lt, le, gt, ge = (_COMPARISONS[name] for name in ("eq", "ne", "lt", "le", "gt", "ge"))


def equal(a, b):
    """True when ``a`` and ``b`` have the same shape and elements."""
    return a.shape == b.shape and builtins.bool(eq(a, b).all())


def _by_number(name, grad_fn_name, op):
    """``op(x, n)`` for a Python number ``n`` as one entry named as PyTorch's Scalar overload
    (``mul(Tensor, Scalar)``: MulBackward1; ``div(Tensor, Scalar)``: DivBackward1), where a
    composite of PyTorch's ends in one; its gradient is ``op(g, n)``."""
    def forward(ctx, x, n):
        ctx.n = n
        return op(x, n)

    def backward(ctx, g):
        return op(g, ctx.n), None
    return type(name, (Function,), {"grad_fn_name": grad_fn_name, "forward": staticmethod(forward),
                                    "backward": staticmethod(backward)})


MulByNumber = _by_number("MulByNumber", "MulBackward1", lambda x, n: mul(x, n))
DivByNumber = _by_number("DivByNumber", "DivBackward1", lambda x, n: div(x, n))


from .masking import Where, where  # noqa: E402,F401  (select by a condition, beside masked_fill)
from .from_table import CLASSES, FUNCTIONS  # noqa: E402  (the table's ops, built on the helpers above)

Add, Sub, Mul, Div, Pow, Maximum, Minimum, Neg, Abs = (
    CLASSES[name] for name in ("add", "sub", "mul", "div", "pow", "maximum", "minimum", "neg", "abs"))
reciprocal = FUNCTIONS["reciprocal"]


class Rsub(Sub):
    grad_fn_name = "RsubBackward1"  # a number minus a tensor
    number_inputs = (0,)  # PyTorch's scalar overload: next_functions lists the tensor only


class PowScalarBase(Pow):
    grad_fn_name = "PowBackward2"  # a number to a tensor power
    number_inputs = (0,)


from .clamping import Clamp, ClampTensor, clamp  # noqa: E402,F401  (on the helpers above)

# ``a + alpha * b``, ``addcmul``: one rounding, as PyTorch's kernels (multiply_add.py, on the helpers above)
from .multiply_add import AddScaled, SubScaled, addcdiv, addcmul, fused_multiply_add  # noqa: E402,F401

globals().update({cls.__name__: cls for cls in CLASSES.values() if cls.__name__ not in globals()})
globals().update({name: fn for name, fn in FUNCTIONS.items() if name not in globals()})
