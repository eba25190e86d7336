"""What each op code computes on one element (or pair): the single definition both
backends compile, ``numba.njit`` for the CPU kernels and ``numba.cuda.jit(device=True)``
for the CUDA ones, so the two can't drift apart.

``unary_op(op, x)``, ``binary_op(op, a, b)`` and ``compare_op(op, a, b)`` are built
from the op table (``tinytape/op_table.py``): one branch per declared op, and an op
code no declaration has raises instead of falling through.  The helpers below keep
IEEE 754 results (1/0 = inf, 0/0 = nan, sqrt(-1) = nan) under every numba error model
and in plain Python, where numba's CUDA simulator runs them (``math.sqrt(-1.0)`` and
``1.0 / 0.0`` raise there); ``register_jitable`` makes each one callable from Python,
``njit`` and ``cuda.jit`` code alike.  The transcendental functions PyTorch's CPU kernels
compute with SLEEF or MKL come from ``sleef.py``.
"""
import functools
import math

import numpy as np
from numba.extending import register_jitable

from .. import op_table as table

SQRT_2 = table.SQRT_2
_EXP_MAX = 709.78  # math.exp overflows (OverflowError in Python) above this


_HELPERS = {}  # name -> the plain Python function: numba.cuda gets device-function copies


def _jitable(fn):
    # not inline="always": numba's IR inliner warns on these branches; LLVM inlines them anyway
    _HELPERS[fn.__name__] = fn
    return register_jitable(fn)


with np.errstate(invalid="ignore"):  # the processor's 0 / 0 (x86: its sign bit set), numpy's and PyTorch's
    _ZERO_BY_ZERO = float(np.float64(0.0) / np.float64(0.0))


@_jitable
def div(a, b):
    if b != 0:
        return a / b
    if a != a:
        return a + b  # a NaN dividend comes back, as from the processor's division
    if a == 0:
        return _ZERO_BY_ZERO
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


@_jitable
def power(a, b):
    if a == 0 and b < 0:  # C's pow: -0.0 to a negative odd integer power is -inf (Python raises)
        odd = abs(b) < 9007199254740992.0 and b == math.floor(b) and b % 2.0 != 0.0
        return math.copysign(math.inf, a) if odd else math.inf
    if a < 0 and abs(a) < math.inf and abs(b) < math.inf and b != math.floor(b):
        return math.nan  # a real power of a negative base has none (Python would give a complex)
    return a ** b


@_jitable
def floor(x):
    # math.floor returns an int (it raises on inf and nan): beyond 2**52 every float is whole
    # copysign keeps floor(-0.0) = -0.0
    return math.copysign(float(math.floor(x)), x) if abs(x) < 4503599627370496.0 else x


@_jitable
def round_half_even(x):
    if not abs(x) < 4503599627370496.0:
        return x
    r = float(math.floor(x + 0.5))
    if r - x == 0.5 and r % 2 != 0:
        r -= 1.0
    return math.copysign(r, x)


@_jitable
def remainder(a, b):
    if b == 0:
        return math.nan  # integer operands are refused before the kernel, as PyTorch does
    r = a % b
    return r if r != 0 else math.copysign(0.0, a)  # PyTorch's zero keeps the dividend's sign


@_jitable
def safe_sqrt(x):
    return math.sqrt(x) if x >= 0 else math.nan


@_jitable
def safe_log(x):
    if x > 0:
        return math.log(x) if x < math.inf else x
    return -math.inf if x == 0 else math.nan


@_jitable
def safe_log1p(x):
    if x > -1:
        return math.log1p(x) if x < math.inf else x
    return -math.inf if x == -1 else math.nan


@_jitable
def xlogy(a, b):
    """PyTorch's CPU ``xlogy``: nan where ``b`` is, 0 where ``a`` is 0, else ``a * log(b)`` with
    the C library's log in the operands' precision (its scalar loop's ``std::log``: compiled,
    ``math.log`` of a float32 is ``logf``)."""
    if b != b:
        return math.nan
    if a == 0:
        return 0.0
    return a * math.log(b)


@_jitable
def xlog1py(a, b):
    """``special.xlog1py`` as ``xlogy``, with the C library's ``log1p``."""
    if b != b:
        return math.nan
    if a == 0:
        return 0.0
    return a * math.log1p(b)


@_jitable
def safe_exp(x):
    return math.exp(x) if not x > _EXP_MAX else math.inf


@_jitable
def safe_expm1(x):
    return math.expm1(x) if not x > _EXP_MAX else math.inf


@_jitable
def safe_sinh(x):
    return math.sinh(x) if abs(x) < 710.0 else (x if x != x else math.copysign(math.inf, x))


@_jitable
def safe_cosh(x):
    return math.cosh(x) if abs(x) < 710.0 else abs(x) * math.inf  # nan stays nan


@_jitable
def sign(x):
    # constants, not x - x + 1: that is nan at +-inf.  sign(nan) is 0, as PyTorch's
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return 0.0


# exp, log, tanh, log1p, expm1 and the activations built on them as PyTorch's CPU kernels compute them (``sleef.py``),
# float32 or float64 by the argument's type.  numba.cuda compiles the math-module versions
# below under the same names instead (``_cuda_version``): PyTorch's CUDA kernels use CUDA's
# math library, and numba.cuda can't compile the type dispatch without a GPU.
from .sleef import bce_with_logits, exp, expm1, log, log1p, log_sigmoid, sigmoid, silu, softplus, tanh  # noqa: E402
from .erf import erf, gelu, gelu_backward  # noqa: E402
# the same activations as PyTorch's scalar loop computes them (the C library's exp), for the
# elements its CPU kernels leave to that loop (the op table's ``scalar_loop``)
from .scalar_loop import (  # noqa: E402,F401
    expm1_scalar_loop, sigmoid_scalar_loop, silu_scalar_loop, softplus_scalar_loop)
# mish, gelu (tanh) and the activations' gradients, PyTorch's kernels: vector and scalar-loop definitions
from . import activations as _activations  # noqa: E402
from .activations import (  # noqa: E402,F401
    gelu_tanh, gelu_tanh_backward, gelu_tanh_backward_scalar_loop, gelu_tanh_scalar_loop, mish, mish_backward,
    mish_backward_scalar_loop, mish_scalar_loop, mul_exp, mul_exp_scalar_loop, silu_backward,
    silu_backward_scalar_loop, softplus_backward, softplus_backward_scalar_loop)


def _cuda_version(name):
    def register(fn):
        _HELPERS[name] = fn
        return fn
    return register


_cuda_version("exp")(safe_exp)
_cuda_version("log")(safe_log)
_cuda_version("log1p")(safe_log1p)
_cuda_version("expm1")(safe_expm1)


@_cuda_version("xlogy")
def _cuda_xlogy(a, b):  # (``safe_log`` written out: a device copy calls no other helper)
    if b != b:
        return math.nan
    if a == 0:
        return 0.0
    if b > 0:
        return a * (math.log(b) if b < math.inf else b)
    return a * (-math.inf if b == 0 else math.nan)


@_cuda_version("xlog1py")
def _cuda_xlog1py(a, b):
    if b != b:
        return math.nan
    if a == 0:
        return 0.0
    if b > -1:
        return a * (math.log1p(b) if b < math.inf else b)
    return a * (-math.inf if b == -1 else math.nan)


@_cuda_version("softplus")
def _cuda_softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


@_cuda_version("log_sigmoid")
def _cuda_log_sigmoid(x):
    return min(x, 0.0) - math.log1p(math.exp(-abs(x)))


@_cuda_version("bce_with_logits")
def _cuda_bce_with_logits(a, b):
    return (1.0 - b) * a - (min(a, 0.0) - math.log1p(math.exp(-abs(a))))


@_cuda_version("erf")
def _cuda_erf(x):
    return math.erf(x)


@_cuda_version("gelu")
def _cuda_gelu(x):
    return 0.5 * x * (1.0 + math.erf(x * 0.7071067811865476))


@_cuda_version("gelu_backward")
def _cuda_gelu_backward(g, x):
    cdf = 0.5 * (1.0 + math.erf(x * 0.7071067811865476))
    return g * (cdf + x * 0.3989422804014327 * math.exp(-0.5 * x * x))


@_cuda_version("tanh")
def _cuda_tanh(x):
    return math.tanh(x)


@_cuda_version("sigmoid")
def _cuda_sigmoid(x):
    # exp(-|x|) never overflows; 1/(1+e) for x >= 0, e/(1+e) below
    e = math.exp(-abs(x))
    return (1.0 if x >= 0 else e) / (1.0 + e)


@_cuda_version("silu")
def _cuda_silu(x):
    e = math.exp(-abs(x))
    return x * ((1.0 if x >= 0 else e) / (1.0 + e))


for _name in ("mish", "gelu_tanh", "mish_backward", "gelu_tanh_backward", "silu_backward", "softplus_backward",
              "mul_exp"):
    _cuda_version(_name)(getattr(_activations, "cuda_" + _name))


_ARGUMENTS = {"unary": "x", "binary": "a, b", "compare": "a, b"}


def source(kind):
    """The Python source of ``<kind>_op``: one branch per op of that kind in the table."""
    lines = [f"def {kind}_op(op, {_ARGUMENTS[kind]}):"]
    for op in table.of_kind(kind):
        lines += [f"    if op == {op.code}:  # {op.name}", f"        return {op.element}"]
    lines.append(f"    raise ValueError('{kind} op code not in the op table')")
    return "\n".join(lines) + "\n"


def _build(kind, helper=None):
    """``<kind>_op`` compiled from ``source(kind)``; ``helper`` wraps each per-element
    helper for a target that needs its own copies of them."""
    namespace = dict(globals())
    if helper is not None:
        namespace.update({name: helper(fn) for name, fn in _HELPERS.items()})
    exec(compile(source(kind), f"<op table: {kind}_op>", "exec"), namespace)
    return namespace[f"{kind}_op"]


@functools.cache
def op_function(kind, code):
    """One op's per-element definition alone, ``<kind>_<code>(x)`` or ``(a, b)``, the same
    expression as its branch of ``<kind>_op``: a fused program calls these, so its size (and
    numba's compile time) grows with its ops, not with the op table."""
    op = next(op for op in table.of_kind(kind) if op.code == code)
    name = f"{kind}_{code}"
    namespace = dict(globals())
    exec(compile(f"def {name}({_ARGUMENTS[kind]}):\n    return {op.element}\n", f"<op table: {name}>", "exec"),
         namespace)
    return register_jitable(namespace[name])


@functools.cache
def scalar_loop_function(code, kind="unary"):
    """Op ``code``'s definition in PyTorch's scalar loop (its ``scalar_loop``),
    ``<kind>_scalar_loop_<code>(x)`` (or ``(a, b)``), for the elements PyTorch's CPU kernel
    computes there."""
    op = next(op for op in table.of_kind(kind) if op.code == code)
    if op.scalar_loop is None:
        raise ValueError(f"{kind} op {op.name} has one definition for every element (no scalar_loop)")
    name = f"{kind}_scalar_loop_{code}"
    namespace = dict(globals())
    exec(compile(f"def {name}({_ARGUMENTS[kind]}):\n    return {op.scalar_loop}\n", f"<op table: {name}>", "exec"),
         namespace)
    return register_jitable(namespace[name])


unary_op = _build("unary")
binary_op = _build("binary")
compare_op = _build("compare")


@functools.cache
def cuda_op(kind):
    """``<kind>_op`` as a numba.cuda device function, its helpers device functions too:
    numba.cuda compiles a ``register_jitable`` helper for the current GPU, so without one
    (compiling to PTX for sm_80/sm_90) it could not compile it at all."""
    from numba import cuda

    def device(fn):
        return cuda.jit(device=True, inline=True)(fn)
    return device(_build(kind, device))
