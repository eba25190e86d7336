"""The elementwise op table: every elementwise op declared once.

A declaration names the op, gives its per-element definition (a Python expression in
``x``, or in ``a`` and ``b``, built from ``math`` and the total helpers of
``backend/scalar_ops.py``) and, for a differentiable unary op, its derivative as a
formula on tensors.  Everything else is derived from this list: the op codes
(``backend.opcodes``), both backends' per-element functions and the CPU kernels'
dispatch, the ``Function`` class with its PyTorch ``grad_fn`` name, the Tensor method
and the package export.  The module imports nothing from tinytape, so the backends and
the compiler read it without import cycles.

A derivative is a function of the gradient ``g`` and of what it needs among ``x`` (the
input) and ``out`` (the result); its parameter names say which of the two the op saves.
It is written with tensor operations, so ``create_graph=True`` differentiates it again.
"""
import hashlib
import inspect
import math

SQRT_2 = math.sqrt(2.0)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


class ElementwiseOp:
    """One declaration.  ``kind`` is "unary", "binary" or "compare"; ``numpy`` names a
    numpy ufunc the CPU backend may use instead of its own loop (numba's transcendental
    functions are several times slower than numpy's SIMD ones here); ``float_only``: an
    integer input is computed in the default float dtype (PyTorch's rule for math
    functions); ``function`` / ``method``: exported as ``tinytape.<name>`` / a Tensor
    method (False where a hand-written wrapper in ``ops`` does argument handling, or,
    for activations, where PyTorch has them in ``nn.functional`` only)."""

    def __init__(self, name, kind, element, derivative=None, *, grad_fn_name=None, numpy=None,
                 float_only=False, function=True, method=True, aliases=()):
        self.name, self.kind, self.element, self.derivative = name, kind, element, derivative
        self.numpy, self.float_only = numpy, float_only
        self.function, self.method, self.aliases = function, method, tuple(aliases)
        self.grad_fn_name = grad_fn_name or backward_name(name)
        self.code = None  # assigned below, per kind, in declaration order
        self.saves = tuple(p for p in inspect.signature(derivative).parameters if p != "g") if derivative else ()

    @property
    def code_name(self):
        return self.name.upper()

    def __repr__(self):
        return f"<{self.kind} op {self.name} = {self.element}>"


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

OPS = [
    # ---- unary: the first twelve keep their historical op codes
    ElementwiseOp("neg", U, "-x", lambda g: -g, method=False, function=False),
    ElementwiseOp("abs", U, "abs(x)", lambda x, g: g * x.sign(), method=False, function=False),
    ElementwiseOp("sqrt", U, "safe_sqrt(x)", lambda out, g: g / (2 * out), float_only=True, numpy="sqrt"),
    ElementwiseOp("relu", U, "x if (x > 0 or x != x) else 0.0",  # relu(-inf) = 0, relu(nan) = nan
                  # out.sign() is the 0/1 mask as a recorded op: the gradient stays
                  # differentiable (to zeros) under create_graph, as PyTorch's
                  lambda out, g: g * out.sign()),
    ElementwiseOp("sign", U, "sign(x)", lambda g: g * 0),
    ElementwiseOp("reciprocal", U, "div(1.0, x)", lambda out, g: -g * out * out, float_only=True),
    ElementwiseOp("exp", U, "safe_exp(x)", lambda out, g: g * out, float_only=True, numpy="exp"),
    ElementwiseOp("log", U, "safe_log(x)", lambda x, g: g / x, float_only=True, numpy="log"),
    ElementwiseOp("tanh", U, "math.tanh(x)", lambda out, g: g * (1 - out * out), float_only=True, numpy="tanh"),
    ElementwiseOp("sigmoid", U, "sigmoid(x)", lambda out, g: g * out * (1 - out), float_only=True),
    ElementwiseOp("sin", U, "math.sin(x) if abs(x) < math.inf else math.nan", lambda x, g: g * x.cos(),
                  float_only=True, numpy="sin"),
    ElementwiseOp("cos", U, "math.cos(x) if abs(x) < math.inf else math.nan", lambda x, g: -g * x.sin(),
                  float_only=True, numpy="cos"),
    # ---- unary math
    ElementwiseOp("square", U, "x * x", lambda x, g: g * (2 * x), grad_fn_name="PowBackward0"),
    ElementwiseOp("log1p", U, "safe_log1p(x)", lambda x, g: g / (x + 1), float_only=True, numpy="log1p"),
    ElementwiseOp("expm1", U, "safe_expm1(x)", lambda out, g: g * (out + 1), float_only=True, numpy="expm1"),
    ElementwiseOp("log2", U, "safe_log(x) / math.log(2.0)", lambda x, g: g / (x * math.log(2.0)),
                  float_only=True, numpy="log2"),
    ElementwiseOp("log10", U, "safe_log(x) / math.log(10.0)", lambda x, g: g / (x * math.log(10.0)),
                  float_only=True, numpy="log10"),
    ElementwiseOp("rsqrt", U, "div(1.0, safe_sqrt(x))", lambda out, g: g * -0.5 * out * out * out, float_only=True),
    ElementwiseOp("erf", U, "math.erf(x)", lambda x, g: g * (2 / math.sqrt(math.pi)) * (-(x * x)).exp(),
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
    ElementwiseOp("floor", U, "floor(x)", lambda g: g * 0, numpy="floor"),
    ElementwiseOp("ceil", U, "-floor(-x)", lambda g: g * 0, numpy="ceil"),
    ElementwiseOp("trunc", U, "floor(x) if x >= 0 else -floor(-x)", lambda g: g * 0, numpy="trunc",
                  aliases=("fix",)),
    ElementwiseOp("round", U, "round_half_even(x)", lambda g: g * 0, numpy="rint"),
    # ---- activations (PyTorch's default parameters)
    ElementwiseOp("softplus", U, "max(x, 0.0) + safe_log1p(math.exp(-abs(x)))", lambda x, g: g * x.sigmoid(),
                  float_only=True, method=False, function=False),
    ElementwiseOp("silu", U, "x * sigmoid(x)",
                  lambda x, g: g * (x.sigmoid() * (1 + x * (1 - x.sigmoid()))), float_only=True, method=False,
                  function=False),
    ElementwiseOp("gelu", U, "0.5 * x * (1.0 + math.erf(x / SQRT_2))",
                  lambda x, g: g * (0.5 * (1 + (x / SQRT_2).erf()) + x * (-0.5 * x * x).exp() / math.sqrt(2 * math.pi)),
                  float_only=True, method=False, function=False),
    ElementwiseOp("bitwise_not", U, "-x - 1", function=False, method=False),  # integers; bool goes through eq
    # ---- binary (their Functions are in ops/elementwise.py: they choose which gradients to compute)
    ElementwiseOp("add", B, "a + b"),
    ElementwiseOp("sub", B, "a - b"),
    ElementwiseOp("mul", B, "a * b"),
    ElementwiseOp("div", B, "div(a, b)"),
    ElementwiseOp("pow", B, "power(a, b)"),
    ElementwiseOp("maximum", B, "a if (a > b or a != a) else b"),  # NaN propagates
    ElementwiseOp("minimum", B, "a if (a < b or a != a) else b"),
    # max(x, 0) - x*y + log(1 + exp(-|x|)): exact for any logit magnitude
    ElementwiseOp("bce_with_logits", B, "max(a, 0.0) - a * b + safe_log1p(math.exp(-abs(a)))"),
    # logs clamped at -100 as PyTorch does, so p = 0 or 1 gives a finite loss
    ElementwiseOp("bce", B, "-(b * max(safe_log(a), -100.0) + (1.0 - b) * max(safe_log(1.0 - a), -100.0))"),
    ElementwiseOp("floor_divide", B, "floor(div(a, b))"),
    ElementwiseOp("remainder", B, "remainder(a, b)"),
    ElementwiseOp("bitwise_and", B, "int(a) & int(b)"),
    ElementwiseOp("bitwise_or", B, "int(a) | int(b)"),
    ElementwiseOp("bitwise_xor", B, "int(a) ^ int(b)"),
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
    text = "\n".join(f"{op.kind} {op.code} {op.name} {op.element}" for op in OPS)
    return hashlib.sha1(text.encode()).hexdigest()[:8]
