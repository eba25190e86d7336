"""The elementwise op table: every elementwise op declared once.

A declaration names the op, gives its per-element definition (a Python expression in
``x``, or in ``a`` and ``b``, built from ``math`` and the total helpers of
``backend/scalar_ops.py``) and, for a differentiable op, its derivative as a formula on
tensors.  Everything else is derived from this list: the op codes
(``backend.opcodes``), both backends' per-element functions and the CPU kernels'
dispatch, the ``Function`` class with its PyTorch ``grad_fn`` name, the Tensor method
and the package export.  The module imports nothing from tinytape: it sits below every
layer, read by the backends, the compiler and ``ops`` alike.

A unary op's derivative is a function of the gradient ``g`` and of what it needs among
``x`` (the input) and ``out`` (the result); its parameter names say which of the two the
op saves.  A binary op's is a pair, the gradient of ``a`` and the gradient of ``b``, each
a function of ``g`` and of what it needs among ``a``, ``b`` and ``out`` (None: that
operand gets no gradient); the op saves only what the operands that require grad need.
Derivatives are written with tensor operations, so ``create_graph=True`` differentiates
them again.
"""
import hashlib
import inspect
import math

SQRT_2 = math.sqrt(2.0)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
GELU_BETA = 1.4142135623730951 * 1.1283791670955126 * 0.5  # PyTorch's M_SQRT2 * M_2_SQRTPI * 0.5
GELU_KAPPA = 0.044715


FUNCTION_CLASSES = {}  # op name -> its Function class, filled in by ops/from_table.py


def _other_op(name):
    """Another op of the table on tensors, for a derivative written with it (looked up
    when the derivative runs: the table imports nothing from tinytape, the ``ops`` layer
    registers its classes here)."""
    def apply(*tensors):
        return FUNCTION_CLASSES[name].apply(*tensors)
    return apply


class ElementwiseOp:
    """One declaration.  ``kind`` is "unary", "binary" or "compare"; ``numpy`` names a
    numpy ufunc the CPU backend may use instead of its own loop (numba's transcendental
    functions are several times slower than numpy's SIMD ones here) for both float dtypes,
``numpy_float64`` one for float64 only (numpy's float64 exp, log, sin... run Intel's SVML
routines, bit for bit PyTorch's MKL ones; the float32 ones are computed by
``backend/sleef.py``); ``float_only``: an
    integer input is computed in the default float dtype (PyTorch's rule for math
    functions); ``scalar_loop``: the per-element definition of PyTorch's scalar loop where it
    differs from the vector one (``backend/scalar_loop.py``: the C library's exp where the
    vectors use SLEEF's), computed on the elements PyTorch's CPU kernel leaves to that loop
    (``backend/layout.scalar_loop_layout``); ``function`` / ``method``: exported as
    ``tinytape.<name>`` / a Tensor
    method (False where a hand-written wrapper in ``ops`` does argument handling, or,
    for activations, where PyTorch has them in ``nn.functional`` only)."""

    def __init__(self, name, kind, element, derivative=None, *, grad_fn_name=None, numpy=None,
                 numpy_float64=None, float_only=False, function=True, method=True, aliases=(), scalar_loop=None):
        self.name, self.kind, self.element, self.derivative = name, kind, element, derivative
        self.scalar_loop = scalar_loop
        self.numpy, self.numpy_float64, self.float_only = numpy, numpy_float64, float_only
        self.function, self.method, self.aliases = function, method, tuple(aliases)
        self.grad_fn_name = grad_fn_name or backward_name(name)
        self.code = None  # assigned below, per kind, in declaration order
        if kind == "binary":
            self.saves = tuple(_needs(d) for d in derivative) if derivative else ((), ())
        else:
            self.saves = _needs(derivative)

    @property
    def code_name(self):
        return self.name.upper()

    def __repr__(self):
        return f"<{self.kind} op {self.name} = {self.element}>"


def _needs(derivative):
    """What a derivative reads besides the gradient: its parameter names but ``g``."""
    return tuple(p for p in inspect.signature(derivative).parameters if p != "g") if derivative else ()


def backward_name(name):
    """PyTorch's spelling of a grad_fn class: ``log1p`` -> ``Log1PBackward0``,
    ``leaky_relu`` -> ``LeakyReluBackward0`` (a letter after a digit is capitalised)."""
    words = []
    for word in name.split("_"):
        chars = list(word[:1].upper() + word[1:])
        for i in range(1, len(chars)):
            if chars[i - 1].isdigit() and chars[i].isalpha():
                chars[i] = chars[i].upper()
        words.append("".join(chars))
    return "".join(words) + "Backward0"


U, B, C = "unary", "binary", "compare"

def _origin_reciprocal(a, b):
    squared = a * a + b * b
    return squared.reciprocal().masked_fill(squared == 0, 0.0)


def _tanh_derivative(out, g):
    # PyTorch's kernel is g * (1 - out * out) with 1 - out * out fused (one rounding, an FMA); for
    # float32 the product is exact in float64, so float64 arithmetic rounds as the FMA does.
    if out.dtype.itemsize == 4 and out.dtype.is_floating_point:
        wide = out.double()
        return g * (1 - wide * wide).to(out.dtype)
    return g * (1 - out * out)


# the second derivatives of the activations whose gradients are kernels of their own (for
# create_graph): d/dx of the first derivative, as formulas on tensors
def _silu_second(x):
    s = x.sigmoid()
    return s * (1 - s) * (2 + x * (1 - 2 * s))


def _mish_second(x):
    s, t = x.sigmoid(), x.exp().log1p().tanh()
    return (1 - t * t) * s * (2 + x * (1 - s) - 2 * x * t * s)


def _gelu_tanh_second(x):
    t = ((x + x * x * x * GELU_KAPPA) * GELU_BETA).tanh()
    inner = (1 + 3 * GELU_KAPPA * x * x) * GELU_BETA
    return (1 - t * t) * (inner + 0.5 * x * (6 * GELU_BETA * GELU_KAPPA * x - 2 * t * inner * inner))


def _backward_op(name, second):
    """The derivatives of ``name``(g, x) = g f'(x): ``name``(g', x) and g' g f''(x)."""
    return (lambda b, g: _other_op(name)(g, b), lambda a, b, g: g * a * second(b))


OPS = [
    # ---- unary: the first twelve keep their historical op codes
    ElementwiseOp("neg", U, "-x", lambda g: -g, method=False, function=False, numpy="negative"),
    ElementwiseOp("abs", U, "abs(x)", lambda x, g: g * x.sign(), method=False, function=False),
    ElementwiseOp("sqrt", U, "safe_sqrt(x)", lambda out, g: g / (2 * out), float_only=True, numpy="sqrt"),
    ElementwiseOp("relu", U, "x if (x > 0 or x != x) else 0.0",  # relu(-inf) = 0, relu(nan) = nan
                  # selected, not multiplied by a 0/1 mask (an inf or nan gradient stays
                  # out where relu is flat), as PyTorch's threshold_backward; the 0 is read
                  # from out, so under create_graph the gradient stays differentiable
                  lambda out, g: out.where(out <= 0, g)),
    # piecewise constant: zeros, as PyTorch's zeros_like(grad) (g * 0 is nan where g is inf)
    ElementwiseOp("sign", U, "sign(x)", lambda g: g.new_zeros(g.shape)),
    ElementwiseOp("reciprocal", U, "div(1.0, x)", lambda out, g: -g * (out * out), float_only=True,
                  numpy="reciprocal"),  # PyTorch's order
    ElementwiseOp("exp", U, "exp(x)", lambda out, g: g * out, float_only=True, numpy_float64="exp"),
    ElementwiseOp("log", U, "log(x)", lambda x, g: g / x, float_only=True, numpy_float64="log"),
    ElementwiseOp("tanh", U, "tanh(x)", _tanh_derivative, float_only=True),
    ElementwiseOp("sigmoid", U, "sigmoid(x)", lambda out, g: g * (1 - out) * out, float_only=True,  # PyTorch's order
                  scalar_loop="sigmoid_scalar_loop(x)"),
    ElementwiseOp("sin", U, "math.sin(x) if abs(x) < math.inf else math.nan", lambda x, g: g * x.cos(),
                  float_only=True, numpy="sin"),
    ElementwiseOp("cos", U, "math.cos(x) if abs(x) < math.inf else math.nan", lambda x, g: -g * x.sin(),
                  float_only=True, numpy="cos"),
    # ---- unary math
    ElementwiseOp("square", U, "x * x", lambda x, g: g * (2 * x), grad_fn_name="PowBackward0"),
    ElementwiseOp("log1p", U, "log1p(x)", lambda x, g: g / (x + 1), float_only=True),
    ElementwiseOp("expm1", U, "expm1(x)", lambda out, g: g * (out + 1), float_only=True),
    ElementwiseOp("log2", U, "safe_log(x) / math.log(2.0)", lambda x, g: g / (x * math.log(2.0)),
                  float_only=True, numpy="log2"),
    ElementwiseOp("log10", U, "safe_log(x) / math.log(10.0)", lambda x, g: g / (x * math.log(10.0)),
                  float_only=True, numpy="log10"),
    ElementwiseOp("rsqrt", U, "div(1.0, safe_sqrt(x))", lambda out, g: g * -0.5 * (out * out * out), float_only=True),
    ElementwiseOp("erf", U, "erf(x)", lambda x, g: g * (2 / math.sqrt(math.pi)) * (-(x * x)).exp(),
                  float_only=True),
    ElementwiseOp("tan", U, "math.tan(x) if abs(x) < math.inf else math.nan", lambda out, g: g * (1 + out * out),
                  float_only=True, numpy="tan"),
    ElementwiseOp("atan", U, "math.atan(x)", lambda x, g: g / (1 + x * x), float_only=True, numpy="arctan",
                  aliases=("arctan",)),
    ElementwiseOp("asin", U, "math.asin(x) if abs(x) <= 1 else math.nan", lambda x, g: g * (1 - x * x).rsqrt(),
                  float_only=True, numpy="arcsin", aliases=("arcsin",)),
    ElementwiseOp("acos", U, "math.acos(x) if abs(x) <= 1 else math.nan", lambda x, g: -g * (1 - x * x).rsqrt(),
                  float_only=True, numpy="arccos", aliases=("arccos",)),
    ElementwiseOp("sinh", U, "safe_sinh(x)", lambda x, g: g * x.cosh(), float_only=True, numpy="sinh"),
    ElementwiseOp("cosh", U, "safe_cosh(x)", lambda x, g: g * x.sinh(), float_only=True, numpy="cosh"),
    ElementwiseOp("floor", U, "floor(x)", lambda g: g.new_zeros(g.shape), numpy="floor"),
    ElementwiseOp("ceil", U, "-floor(-x)", lambda g: g.new_zeros(g.shape), numpy="ceil"),
    ElementwiseOp("trunc", U, "floor(x) if x >= 0 else -floor(-x)", lambda g: g.new_zeros(g.shape), numpy="trunc",
                  aliases=("fix",)),
    ElementwiseOp("round", U, "round_half_even(x)", lambda g: g.new_zeros(g.shape), numpy="rint"),
    # ---- activations (PyTorch's default parameters)
    # (their gradients: PyTorch's backward kernels, the table's binary ``*_backward`` ops)
    ElementwiseOp("softplus", U, "softplus(x)", lambda x, g: g.where(x > 20, _other_op("softplus_backward")(g, x)),
                  float_only=True, method=False, function=False, scalar_loop="softplus_scalar_loop(x)"),
    ElementwiseOp("silu", U, "silu(x)",
                  lambda x, g: _other_op("silu_backward")(g, x), float_only=True, method=False,
                  function=False, scalar_loop="silu_scalar_loop(x)"),
    ElementwiseOp("gelu", U, "gelu(x)", lambda x, g: _other_op("gelu_backward")(g, x),
                  float_only=True, method=False, function=False),
    ElementwiseOp("bitwise_not", U, "-x - 1", method=False),  # integers; bool goes through eq
    # nn.functional's logsigmoid: PyTorch's min(x, 0) - log1p(exp(-|x|))
    ElementwiseOp("logsigmoid", U, "log_sigmoid(x)", lambda x, g: g * (-x).sigmoid(), float_only=True,
                  method=False, function=False, grad_fn_name="LogSigmoidBackward0"),
    # nn.functional's elu with alpha 1 (PyTorch's kernel: expm1 in its vectors, std::expm1 in its scalar
    # loop); elu and selu compute their x <= 0 side with it
    ElementwiseOp("elu", U, "x if x > 0 else expm1(x)", lambda x, g: _other_op("mul_exp")(g, x).where(x <= 0, g),
                  float_only=True, method=False, function=False, scalar_loop="x if x > 0 else expm1_scalar_loop(x)"),
    # x tanh(softplus(x)) and gelu(approximate='tanh'): SLEEF's exp, log1p, tanh in PyTorch's vectors
    ElementwiseOp("mish", U, "mish(x)", lambda x, g: _other_op("mish_backward")(g, x), float_only=True,
                  method=False, function=False, scalar_loop="mish_scalar_loop(x)"),
    ElementwiseOp("gelu_tanh", U, "gelu_tanh(x)", lambda x, g: _other_op("gelu_tanh_backward")(g, x),
                  float_only=True, method=False, function=False, grad_fn_name="GeluBackward0",
                  scalar_loop="gelu_tanh_scalar_loop(x)"),
    # ---- binary.  add, sub, mul, div and pow keep hand-written functions in ops/elementwise.py
    # (alpha=, number operands, integer promotion); the bce ops are the losses' pointwise terms
    ElementwiseOp("add", B, "a + b", (lambda g: g, lambda g: g), function=False, method=False),
    ElementwiseOp("sub", B, "a - b", (lambda g: g, lambda g: -g), function=False, method=False),
    ElementwiseOp("mul", B, "a * b", (lambda b, g: g * b, lambda a, g: g * a), function=False, method=False),
    ElementwiseOp("div", B, "div(a, b)", (lambda b, g: g / b, lambda a, b, g: -g * ((a / b) / b)),  # PyTorch's grouping
                  function=False, method=False),
    # 0 where the exponent is 0 (0 * 0**-1 would be nan); d/db = a^b log a, taken as its
    # limit 0 where a == 0 and b >= 0: PyTorch's values
    ElementwiseOp("pow", B, "power(a, b)",
                  (lambda a, b, g: (g * (b * a ** (b - 1))).masked_fill(b == 0, 0.0),
                   lambda a, b, out, g: (g * (out * a.log())).masked_fill((a == 0) & (b >= 0), 0.0)),
                  grad_fn_name="PowBackward1", function=False, method=False),
    # ties split the gradient evenly; the gradient is selected, never multiplied by a
    # mask (an inf stays inf where it passes, 0 where it doesn't): PyTorch's formulas
    ElementwiseOp("maximum", B, "a if (a > b or a != a) else b",  # NaN propagates
                  (lambda a, b, g: (g / 2).where(a == b, g).masked_fill(a < b, 0.0),
                   lambda a, b, g: (g / 2).where(a == b, g).masked_fill(a > b, 0.0))),
    ElementwiseOp("minimum", B, "a if (a < b or a != a) else b",
                  (lambda a, b, g: (g / 2).where(a == b, g).masked_fill(a > b, 0.0),
                   lambda a, b, g: (g / 2).where(a == b, g).masked_fill(a < b, 0.0))),
    # PyTorch's formulas, term for term, so the values agree to the bit (an infinite logit
    # included): (1 - y) x - log_sigmoid(x), log_sigmoid(x) = min(x, 0) - log(1 + exp(-|x|))
    # GELU's derivative as PyTorch's GeluBackward0 computes it: one op, g (cdf(x) + x pdf(x))
    ElementwiseOp("gelu_backward", B, "gelu_backward(a, b)",
                  (lambda b, g: _other_op("gelu_backward")(g, b),
                   lambda a, b, g: g * a * (2 - b * b) * (-0.5 * b * b).exp() / math.sqrt(2 * math.pi)),
                  function=False, method=False),
    ElementwiseOp("bce_with_logits", B, "bce_with_logits(a, b)",
                  (lambda a, b, g: (a.sigmoid() - b) * g, lambda a, g: -a * g), function=False, method=False,
                  grad_fn_name="BinaryCrossEntropyWithLogitsBackward0"),
    # logs clamped at -100 as PyTorch does, so p = 0 or 1 gives a finite loss; the
    # derivative is PyTorch's formula, (p - y) / max(p (1 - p), 1e-12)
    ElementwiseOp("bce", B, "(b - 1.0) * max(safe_log1p(-a), -100.0) - b * max(safe_log(a), -100.0)",
                  (lambda a, b, g: (a - b) / (a * (1 - a)).clamp(min=1e-12) * g,
                   lambda a, g: ((1 - a).log() - a.log()) * g), function=False, method=False,
                  grad_fn_name="BinaryCrossEntropyBackward0"),
    # these five have functions in ops/from_table.py: integer division by zero is refused,
    # the bitwise ops take integers and bool only
    # Python's floor division of floats, as PyTorch's (through fmod: 2.5 // 0.001 is 2499, the
    # exact quotient being just below 2500; -0.5 // inf is -1); by zero, IEEE's a / b
    ElementwiseOp("floor_divide", B, "div(a, b) if b == 0 else a // b"),  # not differentiable, as PyTorch's
    ElementwiseOp("remainder", B, "remainder(a, b)", (lambda g: g, lambda a, b, g: -g * (a // b))),
    ElementwiseOp("bitwise_and", B, "int(a) & int(b)"),
    ElementwiseOp("bitwise_or", B, "int(a) | int(b)"),
    ElementwiseOp("bitwise_xor", B, "int(a) ^ int(b)"),
    ElementwiseOp("atan2", B, "math.atan2(a, b)",
                  # PyTorch's: times 1 / (a^2 + b^2), taken as 0 where that is 1 / 0 (at the origin)
                  (lambda a, b, g: g * b * _origin_reciprocal(a, b), lambda a, b, g: g * -a * _origin_reciprocal(a, b)),
                  float_only=True, aliases=("arctan2",)),
    # PyTorch's scalar loops (the C library's log, log1p); the first operand's derivative is
    # ``xlogy(g, b)``, 0 where a == 0 and b is outside the log's domain (its directional derivative)
    ElementwiseOp("xlogy", B, "xlogy(a, b)",
                  (lambda a, b, g: _other_op("xlogy")(g, b).masked_fill((a == 0) & (b <= 0), 0.0),
                   lambda a, b, g: g * a / b), float_only=True, function=False, method=False),
    ElementwiseOp("xlog1py", B, "xlog1py(a, b)",
                  (lambda a, b, g: _other_op("xlog1py")(g, b).masked_fill((a == 0) & (b <= -1), 0.0),
                   lambda a, b, g: g * a / (b + 1)), float_only=True, function=False, method=False,
                  grad_fn_name="SpecialXlog1PyBackward0"),
    # the activations' gradients as PyTorch's backward kernels, (dy, x) -> dy f'(x), each split
    # between its vector and scalar-loop definitions as PyTorch's CPU kernel splits its operands'
    # inner loops; ``softplus_backward`` below the threshold, of beta x, and ``mul_exp`` (a exp(b):
    # elu's, of dy * input_scale * alpha scale and input_scale x) where x <= 0
    ElementwiseOp("silu_backward", B, "silu_backward(a, b)", _backward_op("silu_backward", _silu_second),
                  float_only=True, function=False, method=False, scalar_loop="silu_backward_scalar_loop(a, b)"),
    ElementwiseOp("mish_backward", B, "mish_backward(a, b)", _backward_op("mish_backward", _mish_second),
                  float_only=True, function=False, method=False, scalar_loop="mish_backward_scalar_loop(a, b)"),
    ElementwiseOp("gelu_tanh_backward", B, "gelu_tanh_backward(a, b)",
                  _backward_op("gelu_tanh_backward", _gelu_tanh_second), float_only=True, function=False, method=False,
                  grad_fn_name="GeluBackwardBackward0", scalar_loop="gelu_tanh_backward_scalar_loop(a, b)"),
    ElementwiseOp("softplus_backward", B, "softplus_backward(a, b)",
                  _backward_op("softplus_backward", lambda x: x.sigmoid() * (1 - x.sigmoid())),
                  float_only=True, function=False, method=False, scalar_loop="softplus_backward_scalar_loop(a, b)"),
    ElementwiseOp("mul_exp", B, "mul_exp(a, b)", (lambda b, g: _other_op("mul_exp")(g, b),
                                                  lambda a, b, g: _other_op("mul_exp")(g * a, b)),
                  float_only=True, function=False, method=False, grad_fn_name="EluBackwardBackward0",
                  scalar_loop="mul_exp_scalar_loop(a, b)"),
    # ---- comparisons (bool out)
    ElementwiseOp("eq", C, "a == b"),
    ElementwiseOp("ne", C, "a != b"),
    ElementwiseOp("lt", C, "a < b"),
    ElementwiseOp("le", C, "a <= b"),
    ElementwiseOp("gt", C, "a > b"),
    ElementwiseOp("ge", C, "a >= b"),
]

for _kind in (U, B, C):
    for _code, _op in enumerate(o for o in OPS if o.kind == _kind):
        _op.code = _code

BY_NAME = {op.name: op for op in OPS}
CODES = {kind: tuple(op.code for op in OPS if op.kind == kind) for kind in (U, B, C)}


def of_kind(kind):
    return [op for op in OPS if op.kind == kind]


def table_hash():
    """Changes whenever a per-element definition or an op code does: part of the CPU
    kernel cache's folder name, so a changed table never loads stale machine code."""
    text = "\n".join(f"{op.kind} {op.code} {op.name} {op.element} {op.scalar_loop}" for op in OPS)
    return hashlib.sha1(text.encode()).hexdigest()[:8]
