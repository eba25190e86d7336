"""What the op table (``tinytape/op_table.py``) derives on the tensor side: a Function class per
differentiable op (its kernel forward, its declared derivative as backward, its PyTorch
grad_fn name), the functions, the Tensor methods and operators.  The integer and bitwise
operators are here too: their kernels are table ops, their argument rules PyTorch's."""
from .. import _dtype
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend.opcodes import BITWISE_AND, BITWISE_NOT, BITWISE_OR, BITWISE_XOR, FLOOR_DIVIDE, MUL, NEG, POW, SUB
from . import dtype_rules
from . import elementwise as ew
from .. import op_table as table


# The derivatives a training step runs most, as the kernels their formulas in the table run,
# in the same order, called directly where ``ew.kernels_serve`` (nothing recorded, float32 or
# float64 operands of one dtype): each returns the gradient(s), or None to take the formula.
# A binary op's take the saved ``a`` and ``b`` (None where not saved).
# The formula's ops would add 3-4 us each on small tensors (checks, apply, context).

def _tanh_kernels(out, g):
    """``_tanh_derivative``: ``g * (1 - wide * wide).to(float32)`` with ``wide`` float64 for
    float32, ``g * (1 - out * out)`` for float64."""
    if not ew.kernels_serve(g, out):
        return None
    if ew.fuses(g):
        fused = ew.cpu_fused.tanh_backward(g._data, out._data)
        if fused is not None:
            return g._new(fused)
    backend, data = out._backend, out._data
    if data.dtype is ew._F32:
        wide = backend.astype(data, ew._F64)
        square = backend.binary(MUL, wide, wide)
        rest = backend.astype(backend.binary(SUB, backend.scalar(1, ew._F64), square), ew._F32)
    else:
        square = backend.binary(MUL, data, data)
        rest = backend.binary(SUB, backend.scalar(1, ew._F64), square)
    return g._new(backend.binary(MUL, g._data, rest))


def _sigmoid_kernels(out, g):
    """``g * (1 - out) * out``, PyTorch's sigmoid_backward order."""
    if not ew.kernels_serve(g, out):
        return None
    if ew.fuses(g):
        fused = ew.cpu_fused.sigmoid_backward(g._data, out._data)
        if fused is not None:
            return g._new(fused)
    backend, data = out._backend, out._data
    rest = backend.binary(SUB, backend.scalar(1, data.dtype), data)
    return g._new(backend.binary(MUL, backend.binary(MUL, g._data, rest), data))


def _mul_kernels(a, b, wants_a, wants_b, g):
    """``g * b`` and ``g * a``."""
    if (wants_a and not ew.kernels_serve(g, b)) or (wants_b and not ew.kernels_serve(g, a)):
        return None
    backend = g._backend
    return (g._new(backend.binary(MUL, g._data, b._data)) if wants_a else None,
            g._new(backend.binary(MUL, g._data, a._data)) if wants_b else None)


def _sub_kernels(a, b, wants_a, wants_b, g):
    """``g`` and ``-g``."""
    if wants_b and not ew.kernels_serve(g, g):
        return None
    return (g if wants_a else None), (g._new(g._backend.unary(NEG, g._data)) if wants_b else None)


def _add_kernels(a, b, wants_a, wants_b, g):
    """``g`` and ``g``: no kernel at all (the formula's own answer, with or without a graph)."""
    return (g if wants_a else None), (g if wants_b else None)


_KERNEL_DERIVATIVES = {"tanh": _tanh_kernels, "sigmoid": _sigmoid_kernels, "mul": _mul_kernels, "sub": _sub_kernels,
                       "add": _add_kernels}


# A complex op's gradient in PyTorch's convention (``ops/complex.py``): for a holomorphic op,
# ``g * conj(f'(z))``, which is the table's real formula run on the conjugate of the gradient,
# conjugated (each formula is ``g`` times a real-coefficient function of what it saved, whose
# conjugate is the same function's).  These are not holomorphic, or compare with a real number:
_COMPLEX_DERIVATIVES = {
    "abs": lambda x, g: g * x.sgn(),
    "pow": (None, lambda a, b, out, g: (g * _conj(out * a.log())).masked_fill((a == 0) & (b.real >= 0), 0.0)),
}


def _complex_gradient(derivative, saved, g):
    return _conj(derivative(*saved, g=_conj(g)))


def _conj(t):
    from .complex import conj_values  # (the gradient's conjugate: a plain tensor, as PyTorch's)
    return conj_values(t)


def _unary_function(op):
    """The Function class of a unary op of the table: the kernel forward, the declared
    derivative backward, saving what the derivative's parameters name."""
    kernels = _KERNEL_DERIVATIVES.get(op.name)
    assert op.saves in ((), ("x",), ("out",)), op.saves  # a unary derivative reads x, out or nothing
    saves_x, saves_out = op.saves == ("x",), op.saves == ("out",)
    code, differentiable = op.code, op.derivative is not None

    def forward(ctx, x):
        out = ew._unary(x, code)
        if saves_x:
            ctx.save_for_backward(x)
        elif saves_out:
            ctx.save_for_backward(out)
        if not differentiable:
            ctx.mark_non_differentiable(out)
        return out

    def backward(ctx, g):
        if kernels is not None:
            grad = kernels(*ctx.saved_tensors, g)
            if grad is not None:
                return grad
        saved = ctx.saved_tensors
        if saved and saved[0]._data.dtype.kind == "c" or g._data.dtype.kind == "c":
            if op.name in _COMPLEX_DERIVATIVES:
                return _COMPLEX_DERIVATIVES[op.name](*saved, g=g)
            return _complex_gradient(op.derivative, saved, g)
        return op.derivative(*saved, g=g)

    # named after the op (``Square``), not its grad_fn (``PowBackward0`` is Pow's too)
    return type(table.backward_name(op.name)[:-len("Backward0")], (Function,), {
        "grad_fn_name": op.grad_fn_name, "_forward_runs_kernels_only": True,
        "forward": staticmethod(forward), "backward": staticmethod(backward),
        "__doc__": f"``{op.name}``, elementwise: {op.element}"})


_SAVE_NOTHING = (False, False, False)
_NO_VALUES = {}  # read only
_NOTHING_SAVED = (None, None, None)


def _binary_function(op):
    """The Function class of a binary op of the table.  Forward saves, of ``a``, ``b`` and
    ``out``, what the derivatives of the operands that require grad read; backward runs
    those derivatives only."""
    grad_a, grad_b = op.derivative
    needs_a, needs_b = op.saves
    plans = {}  # needs_input_grad -> which of (a, b, out) to save
    for wants_a in (False, True):
        for wants_b in (False, True):
            read = set(needs_a if wants_a else ()) | set(needs_b if wants_b else ())
            plans[(wants_a, wants_b)] = tuple(name in read for name in ("a", "b", "out"))
    code = op.code
    kernels = _KERNEL_DERIVATIVES.get(op.name)
    pair = True if op.name == "pow" else None  # PyTorch's float pow kernel where the backend has it

    def forward(ctx, a, b):
        out = a._new(a._backend.binary(code, a._data, b._data) if pair is None else _pow_data(a, b))
        keep_a, keep_b, keep_out = plan = plans.get(ctx.needs_input_grad, _SAVE_NOTHING)
        if plan is not _SAVE_NOTHING and True in plan:
            ctx.save_for_backward(a if keep_a else None, b if keep_b else None, out if keep_out else None)
        return out

    def backward(ctx, g):
        saved = ctx.saved_tensors  # (a, b, out), each None where not saved; () when none was
        wants_a, wants_b = ctx.needs_input_grad
        if kernels is not None:
            a, b, _ = saved or _NOTHING_SAVED
            grads = kernels(a, b, wants_a, wants_b, g)
            if grads is not None:
                return grads
        values = dict(zip(("a", "b", "out"), saved)) if saved else _NO_VALUES
        if g._data.dtype.kind == "c":
            return (_complex_binary_gradient(0, grad_a, needs_a, values, g) if wants_a and grad_a else None,
                    _complex_binary_gradient(1, grad_b, needs_b, values, g) if wants_b and grad_b else None)
        return (grad_a(*(values[name] for name in needs_a), g=g) if wants_a and grad_a else None,
                grad_b(*(values[name] for name in needs_b), g=g) if wants_b and grad_b else None)

    def _complex_binary_gradient(side, derivative, needs, values, g):
        own = _COMPLEX_DERIVATIVES.get(op.name, (None, None))[side]
        saved = [values[name] for name in needs]
        return own(*saved, g=g) if own is not None else _complex_gradient(derivative, saved, g)

    return type(table.backward_name(op.name)[:-len("Backward0")], (Function,), {
        "grad_fn_name": op.grad_fn_name, "_forward_runs_kernels_only": True,
        "forward": staticmethod(forward), "backward": staticmethod(backward),
        "__doc__": f"``{op.name}``, elementwise: {op.element}"})


def _pow_data(a, b):
    """``a ** b``'s array: the backend's ``pow_pair`` (PyTorch's vector/scalar split of SLEEF's
    pow and the C library's) where it takes the operands, else the POW kernel."""
    fast = getattr(a._backend, "pow_pair", None)
    data = fast(a._data, b._data) if fast is not None else None
    return a._backend.binary(POW, a._data, b._data) if data is None else data


def _binary_wrapper(op, cls):
    def fn(input, other):
        a, b = ew.operands(input, other, op.name)
        if a._data.dtype.kind == "c":
            dtype_rules.check(op.name, a.dtype)
        if op.float_only and not a.dtype.is_floating_point:
            a, b = ew._float_input(a, op.name), ew._float_input(b, op.name)
        return cls.apply(a, b)
    fn.__name__ = fn.__qualname__ = op.name
    fn.__doc__ = f"Elementwise ``{op.element}`` (the op table's ``{op.name}``), operands broadcast and promoted."
    return fn


_ROUNDINGS = ("ceil", "floor", "round", "trunc", "fix")


def _unary_wrapper(op, cls):
    promoted = {dtype: target for (name, dtype), target in dtype_rules.PROMOTED.items() if name == op.name}
    refuses = op.name in dtype_rules.REFUSED  # else ``dtype_rules.check`` passes every dtype
    if op.float_only:
        def fn(input):
            if not refuses and isinstance(input, Tensor) and input._data.dtype.kind == "f":
                return cls.apply(input)  # a float tensor: nothing to check or cast, read in one attribute
            if isinstance(input, Tensor):
                dtype_rules.check(op.name, input.dtype)
            return cls.apply(ew._float_input(input, op.name))
    else:
        def fn(input):
            if not isinstance(input, Tensor):
                raise TypeError(f"{op.name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
            dtype_rules.check(op.name, input.dtype)
            if op.name in _ROUNDINGS and input._data.dtype.kind in "iu":
                return input.clone()  # an integer is its own ceil (-floor(-x) would wrap an unsigned one)
            if input.dtype.name in promoted:
                input = ew.to_dtype(input, _dtype.as_dtype(promoted[input.dtype.name]))
            return cls.apply(input)
    fn.__name__ = fn.__qualname__ = op.name
    fn.__doc__ = f"Elementwise ``{op.element}`` (the op table's ``{op.name}``)."
    return fn


CLASSES = table.FUNCTION_CLASSES  # op name -> Function class (the table's derivatives look them up there)
FUNCTIONS = {}  # name -> function, for every unary op of the table and the operators below
for _op in table.of_kind("unary"):
    CLASSES[_op.name] = _unary_function(_op)
    FUNCTIONS[_op.name] = _unary_wrapper(_op, CLASSES[_op.name])
    for _alias in _op.aliases:
        FUNCTIONS[_alias] = FUNCTIONS[_op.name]
for _op in table.of_kind("binary"):
    if _op.derivative:
        CLASSES[_op.name] = _binary_function(_op)
        if _op.function or _op.method:
            FUNCTIONS[_op.name] = _binary_wrapper(_op, CLASSES[_op.name])
            for _alias in _op.aliases:
                FUNCTIONS[_alias] = FUNCTIONS[_op.name]
Neg, Abs, Remainder = CLASSES["neg"], CLASSES["abs"], CLASSES["remainder"]
# PyTorch names the overloads: RemainderBackward0 for a number divisor, RemainderBackward1 for a tensor
RemainderTensor = type("RemainderTensor", (Remainder,), {"grad_fn_name": "RemainderBackward1"})


# ---------------------------------------------------------------- integer and bitwise operators


def _refuse_integer_zero(b, other):
    """PyTorch's error for an integer division by zero: ``other`` a Python number is
    checked as it is (no tensor value read, so ``i % 4`` compiles), a tensor's elements on
    the host."""
    if b.dtype.is_floating_point:
        return
    if not isinstance(other, Tensor):
        if other == 0:
            raise RuntimeError("ZeroDivisionError")
        return
    if bool((b == 0).any()):
        raise RuntimeError("ZeroDivisionError")


def floor_divide(input, other):
    a, b = ew.operands(input, other, "floor_divide")
    dtype_rules.check("floor_divide", a.dtype)
    _refuse_integer_zero(b, other)
    return floor_divide_checked(a, b)


def floor_divide_checked(a, b):
    """``a // b`` of operands already checked (``fmod``'s and ``div``'s own steps)."""
    out = ew._binary(a, b, FLOOR_DIVIDE)
    return out.detach() if out.requires_grad else out  # PyTorch does not differentiate it


def remainder(input, other):
    a, b = ew.operands(input, other, "remainder")
    dtype_rules.check("remainder", a.dtype)
    _refuse_integer_zero(b, other)
    return (RemainderTensor if isinstance(other, Tensor) else Remainder).apply(a, b)


def remainder_checked(a, b):
    """``a % b`` (tensors) of operands already checked (``fmod``'s and ``div``'s own steps)."""
    return RemainderTensor.apply(a, b)


def _bitwise(code, name):
    def fn(input, other):
        a, b = ew.operands(input, other, name)
        if a.dtype.is_floating_point:
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'{_dtype.scalar_type_name(a.dtype)}\'')
        return a._new(a._backend.binary(code, a._data, b._data))
    fn.__name__ = fn.__qualname__ = name
    return fn


bitwise_and = _bitwise(BITWISE_AND, "bitwise_and")
bitwise_or = _bitwise(BITWISE_OR, "bitwise_or")
bitwise_xor = _bitwise(BITWISE_XOR, "bitwise_xor")


def bitwise_not(input):
    if input.dtype is _dtype.bool_:
        return ew.eq(input, False)
    if input.dtype.is_floating_point:
        raise NotImplementedError(f"\"bitwise_not_cpu\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'")
    return input._new(input._backend.unary(BITWISE_NOT, input._data))


def logical_not(input):
    return ew.eq(input, 0)


def isinf(input):
    return ew.eq(ew.abs(input), float("inf")) if input.dtype.is_floating_point else ew.ne(input, input)


def isfinite(input):
    return ew.eq(input - input, 0) if input.dtype.is_floating_point else ew.eq(input, input)


_round_half_even = FUNCTIONS["round"]


def round(input, *, decimals=None):  # noqa: A001  (PyTorch's name)
    """Half-to-even rounding; at ``decimals`` digits through pointwise.py (RoundBackward1, as
    PyTorch's overload with ``decimals``, given even as 0)."""
    if decimals is not None:
        from .pointwise import round as round_decimals
        return round_decimals(input, decimals=decimals)
    return _round_half_even(input)


FUNCTIONS.update(round=round, floor_divide=floor_divide, remainder=remainder, bitwise_and=bitwise_and, bitwise_or=bitwise_or,
                 bitwise_xor=bitwise_xor, bitwise_not=bitwise_not, logical_not=logical_not, isinf=isinf,
                 isfinite=isfinite)

# ---------------------------------------------------------------- exports, Tensor methods and operators

EXPORTS = {name: fn for name, fn in FUNCTIONS.items()
           if name not in table.BY_NAME or table.BY_NAME[name].function}  # tinytape.<name>
EXPORTS.update({alias: FUNCTIONS[alias] for op in table.OPS if op.function for alias in op.aliases})

TENSOR_METHODS = {op.name: FUNCTIONS[op.name] for op in table.OPS if op.kind != "compare" and op.method}
TENSOR_METHODS.update({alias: FUNCTIONS[alias] for op in table.OPS if op.method for alias in op.aliases})
TENSOR_METHODS.update(
    round=round, floor_divide=floor_divide, remainder=remainder, bitwise_and=bitwise_and, bitwise_or=bitwise_or,
    bitwise_xor=bitwise_xor, bitwise_not=bitwise_not, logical_not=logical_not, isinf=isinf, isfinite=isfinite,
    __floordiv__=floor_divide, __rfloordiv__=lambda self, other: floor_divide(other, self),
    __mod__=remainder, __rmod__=lambda self, other: remainder(other, self),
    __and__=bitwise_and, __rand__=lambda self, other: bitwise_and(other, self),
    __or__=bitwise_or, __ror__=lambda self, other: bitwise_or(other, self),
    __xor__=bitwise_xor, __rxor__=lambda self, other: bitwise_xor(other, self),
    __invert__=lambda self: _invert(self),
)


def _invert(x):
    """``~x``: PyTorch's operator refuses floating tensors with a TypeError (``bitwise_not`` itself
    raises NotImplementedError)."""
    if x.dtype.is_floating_point:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return bitwise_not(x)
for _name, _method in TENSOR_METHODS.items():
    if _name not in vars(Tensor):  # a method the class writes out itself takes precedence
        setattr(Tensor, _name, _method)
