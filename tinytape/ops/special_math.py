"""Special functions (``lgamma``, ``digamma``, ``polygamma``, ``erfc``, ``erfinv``, the
modified Bessel functions, ``ndtri``, ``zeta``, ...) and the inverse hyperbolic functions,
each one tape entry named as PyTorch names it.

The values come from numpy / scipy.special on the host, computed in float64 and rounded
to the input's dtype (a GPU tensor's data is copied over and the result copied back);
the derivatives are PyTorch's formulas (``derivatives.yaml``) written with recorded ops,
so second derivatives work.  An integer input is computed in the default float dtype, as
PyTorch's math functions do.
"""
import math

import ml_dtypes
import numpy as np
import scipy.special as sc

from .. import _dtype
from .._tensor import Tensor
from ..backend.cpu import special as special_kernels
from ..autograd.function import Function
from . import elementwise as ew

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)


def _host(t):
    return t._backend.to_numpy(t._data)


def _float_input(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    if x.dtype.is_floating_point:
        return x
    return x.to(_dtype.get_default_dtype())


def _back(like, values, dtype=None):
    return like._new(like._backend.asarray(_rounded(values, (dtype or like.dtype).np)))


def _rounded(values, dtype):
    """The float64 results as a fresh C-ordered array of ``dtype`` (through float64 once)."""
    values = np.asarray(values)
    arr = values.astype(dtype) if values.dtype == dtype else values.astype(np.float64).astype(dtype)
    return np.array(arr, order="C")


def _computed(compute, dtype, *arrays):
    """``compute`` on host arrays (in float64, unless it computes in their own dtype),
    rounded to ``dtype``."""
    with np.errstate(all="ignore"):
        if not getattr(compute, "native", False):
            arrays = [a.astype(np.float64) for a in arrays]
        return _rounded(compute(*arrays), dtype)


def _on_host(compute, like, *inputs):
    """``compute`` of the inputs' values as a tensor like ``like``: on the CPU one kernel
    call, so a compiled program computes it again on the replay's values."""
    if like.device.type == "cpu":
        from ..backend.cpu import cpu
        return like._new(cpu.host_call(_computed, compute, like.dtype.np, *(t._data for t in inputs)))
    return like._new(like._backend.asarray(_computed(compute, like.dtype.np, *(_host(t) for t in inputs))))


class _HostUnary(Function):
    """``compute`` (float64 numpy -> float64 numpy) on the host; ``derivative(g, x, out)``
    with tensors."""

    @staticmethod
    def forward(ctx, x, compute, derivative):
        out = _on_host(compute, x, x)
        ctx.derivative = derivative
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if ctx.derivative is None:
            raise NotImplementedError(f"the derivative for '{ctx.name()[:-len('Backward0')].lower()}' is not "
                                      "implemented.")
        return ctx.derivative(g, x, out), None, None


_CLASSES = {}


def host_unary(grad_fn_name, x, compute, derivative, op):
    cls = _CLASSES.get(grad_fn_name)
    if cls is None:
        cls = _CLASSES[grad_fn_name] = type(grad_fn_name[:-len("Backward0")], (_HostUnary,),
                                            {"grad_fn_name": grad_fn_name})
    return cls.apply(_float_input(x, op), compute, derivative)


def backward_name(name):
    return {"asinh": "AsinhBackward0", "acosh": "AcoshBackward0", "atanh": "AtanhBackward0"}[name]


def _unary(name, grad_fn_name, compute, derivative):
    def fn(input, *, out=None):
        result = host_unary(grad_fn_name, input, compute, derivative, name)
        if out is not None:
            out.copy_(result)
            return out
        return result
    fn.__name__ = name
    return fn


def _where0(cond, value, g):
    """``value`` where ``cond`` is false, 0 where it is true (selected, not multiplied)."""
    return ew.where(cond, ew.mul(g, 0), value)


# ------------------------------------------------------------------ values with PyTorch's edges
def _native(name):
    """PyTorch's own scalar kernel for ``name`` in the input's dtype (``backend/cpu/special.py``)."""
    def compute(x):
        return special_kernels.run(name, x)
    compute.native = True
    return compute


def _lgamma(x):
    return np.where(np.isneginf(x), np.inf, sc.gammaln(x))


def _polygamma(n):
    if n == 0:
        return _native("digamma")
    if n == 1:
        return _native("trigamma")
    return lambda x: sc.polygamma(n, x)


def _erfinv(x):
    return sc.erfinv(x)


asinh = _unary("asinh", "AsinhBackward0", _native("asinh"), lambda g, x, out: g * (x * x + 1).rsqrt())
acosh = _unary("acosh", "AcoshBackward0", _native("acosh"), lambda g, x, out: g * (x * x - 1).rsqrt())
atanh = _unary("atanh", "AtanhBackward0", np.arctanh, lambda g, x, out: g / (1 - x * x))  # PyTorch: grad * 1 / (1 - x^2)
exp2 = _unary("exp2", "Exp2Backward0", np.exp2, lambda g, x, out: g * out * math.log(2.0))
erfc = _unary("erfc", "ErfcBackward0", sc.erfc, lambda g, x, out: g * (-2 / _SQRT_PI) * (-(x * x)).exp())
erfinv = _unary("erfinv", "ErfinvBackward0", _erfinv, lambda g, x, out: g * (0.5 * _SQRT_PI) * (out * out).exp())
erfcx = _unary("erfcx", "SpecialErfcxBackward0", sc.erfcx, lambda g, x, out: g * (2 * x * out - 2 / _SQRT_PI))
lgamma = _unary("lgamma", "LgammaBackward0", _lgamma, lambda g, x, out: g * digamma(x))
digamma = _unary("digamma", "DigammaBackward0", _native("digamma"), lambda g, x, out: g * polygamma(1, x))
i0 = _unary("i0", "I0Backward0", _native("i0"), lambda g, x, out: g * i1(x))
i0e = _unary("i0e", "SpecialI0EBackward0", _native("i0e"), lambda g, x, out: g * (i1e(x) - x.sign() * out))
i1 = _unary("i1", "SpecialI1Backward0", _native("i1"), lambda g, x, out: _bessel1_grad(
    g, x, lambda safe: i0(safe) - out * safe.reciprocal()))
i1e = _unary("i1e", "SpecialI1EBackward0", _native("i1e"), lambda g, x, out: _bessel1_grad(
    g, x, lambda safe: i0e(safe) - out * (safe.sign() + safe.reciprocal())))


def _bessel1_grad(g, x, formula):
    """PyTorch's i1/i1e backward: ``formula`` at x (at the dtype's eps where |x| is not above
    it, where the gradient is 0.5)."""
    eps = float(ml_dtypes.finfo(x.dtype.np).eps)  # (ml_dtypes.finfo knows bfloat16 too)
    big = x.abs() > eps
    safe = ew.where(big, x, eps)
    return g * ew.where(big, formula(safe), 0.5)


sinc = _unary("sinc", "SincBackward0", _native("sinc"), lambda g, x, out: _where0(
    x == 0, g * (((math.pi * x).cos() - out) / ew.where(x == 0, ew.mul(x, 0) + 1, x)), g))
entr = _unary("entr", "SpecialEntrBackward0", _native("entr"), lambda g, x, out: g * -(1 + x.log()))
ndtri = _unary("ndtri", "SpecialNdtriBackward0", sc.ndtri, lambda g, x, out: g * _SQRT_2PI * (out * out / 2).exp())
log_ndtr = _unary("log_ndtr", "SpecialLogNdtrBackward0", sc.log_ndtr,
                  lambda g, x, out: g * ((-(x * x) / 2 - out).exp() / _SQRT_2PI))


def polygamma(n, input, *, out=None):
    if not isinstance(n, int) or n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    result = host_unary("PolygammaBackward0", input, _polygamma(n), lambda g, x, o: g * polygamma(n + 1, x),
                        "polygamma")
    return _out(result, out)


def _out(result, out):
    if out is not None:
        out.copy_(result)
        return out
    return result


def mvlgamma(input, p):
    """log of the multivariate gamma function of dimension ``p``."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = _float_input(input, "mvlgamma")
    constant = p * (p - 1) / 4 * math.log(math.pi)

    def compute(a):
        # as PyTorch's kernel: a + arange(-(p-1)/2, 0.5, 0.5) and lgamma in the dtype, the
        # terms summed in order (in float32 for the 16-bit dtypes), the constant added last
        wide = np.float64 if a.dtype == np.float64 else np.float32
        args = a[..., None] + np.arange(-(p - 1) / 2, 0.5, 0.5).astype(a.dtype)
        terms = _lgamma(args.astype(np.float64)).astype(a.dtype).astype(wide)
        total = terms[..., 0]
        for i in range(1, p):
            total = total + terms[..., i]
        return (total.astype(a.dtype).astype(wide) + wide(constant)).astype(a.dtype)
    compute.native = True

    def derivative(g, xx, o):
        return g * sum(digamma(xx - i / 2) for i in range(p))
    return host_unary("MvlgammaBackward0", x, compute, derivative, "mvlgamma")


def logit(input, eps=None):
    """log(x / (1 - x)), x clamped to [eps, 1 - eps] when eps is given (gradient 0 outside)."""
    x = _float_input(input, "logit")

    def compute(a):
        if eps is not None:  # clamped in the dtype, as PyTorch's kernel
            low = a.dtype.type(eps)
            a = np.clip(a, low, a.dtype.type(1) - low)
        if a.dtype == np.float64:  # numpy's log: PyTorch's float64 bits
            return np.log(a / (1 - a))
        return special_kernels.run("logit", a)  # the C library's logf, as PyTorch's float kernel
    compute.native = True

    def derivative(g, xx, o):
        d = g / (xx * (1 - xx) + 0.0)  # (+0.0: -0 is +0, so 1/x is +inf at -0, as PyTorch's)
        if eps is None:  # NaN outside [0, 1], as PyTorch's kernel
            return ew.where(ew.lt(xx, 0) | ew.gt(xx, 1), math.nan, d)
        return _where0(ew.lt(xx, eps) | ew.gt(xx, 1 - eps), d, g)
    return host_unary("LogitBackward0", x, compute, derivative, "logit")


def ndtr(input):
    """PyTorch's composition, (1 + erf(x / sqrt(2))) * 0.5 (its grad_fn is a MulBackward)."""
    x = _float_input(input, "ndtr")
    return ew.mul(ew.add(ew.erf(ew.mul(x, math.sqrt(0.5))), 1), 0.5)


# ------------------------------------------------------------------------------ binary ops
class _HostBinary(Function):
    @staticmethod
    def forward(ctx, a, b, compute, derivative):
        out = _on_host(compute, a, a, b)
        ctx.derivative = derivative
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        ga, gb = ctx.derivative(g, a, b, out, ctx.needs_input_grad)
        return (ga if ctx.needs_input_grad[0] else None), (gb if ctx.needs_input_grad[1] else None), None, None


def host_binary(grad_fn_name, a, b, compute, derivative, op, floating=True):
    from .stacks import broadcast_tensors
    a, b = ew.operands(a, b, op)
    if floating and not a.dtype.is_floating_point:
        a, b = a.to(_dtype.get_default_dtype()), b.to(_dtype.get_default_dtype())
    a, b = broadcast_tensors(a, b)
    cls = _CLASSES.get(grad_fn_name)
    if cls is None:
        cls = _CLASSES[grad_fn_name] = type(grad_fn_name[:-len("Backward0")], (_HostBinary,),
                                            {"grad_fn_name": grad_fn_name})
    return cls.apply(a, b, compute, _with_needs(derivative))


def _with_needs(derivative):
    """``derivative(g, a, b, out)`` as the Function calls it (with which inputs need grads)."""
    if derivative is None or getattr(derivative, "takes_needs", False):
        return derivative
    return lambda g, a, b, out, needs: derivative(g, a, b, out)


def _not_implemented(op, which, other_derivative=None):
    """PyTorch's error for the operand(s) in ``which`` (0, 1) it has no derivative for."""
    def derivative(g, a, b, out, needs):
        for i in which:
            if needs[i]:
                raise NotImplementedError(f"the derivative for '{op}' is not implemented.")
        return None, (other_derivative(g, a, b, out) if other_derivative and needs[1] else None)
    derivative.takes_needs = True
    return derivative


def _logaddexp(a, b):
    m = np.maximum(a, b)
    return np.where(np.isinf(a) & (a == b), a, m + np.log1p(np.exp(-np.abs(a - b))))


def _logaddexp2(a, b):
    m = np.maximum(a, b)
    return np.where(np.isinf(a) & (a == b), a, m + np.log1p(np.exp2(-np.abs(a - b))) / math.log(2.0))


def logaddexp(input, other):
    return host_binary("LogaddexpBackward0", input, other, _logaddexp,
                       lambda g, a, b, o: (g / (1 + (b - a).exp()), g / (1 + (a - b).exp())), "logaddexp")


def logaddexp2(input, other):
    return host_binary("Logaddexp2Backward0", input, other, _logaddexp2,
                       lambda g, a, b, o: (g / (1 + (b - a).exp2()), g / (1 + (a - b).exp2())), "logaddexp2")


def hypot(input, other):
    return host_binary("HypotBackward0", input, other, np.hypot,
                       lambda g, a, b, o: (g * a / o, g * b / o), "hypot")


def xlog1py(input, other):
    from .composed import xlog_family
    return xlog_family("xlog1py", ("SpecialXlog1PyBackward0", "SpecialXlog1PyBackward1", "SpecialXlog1PyBackward2"),
                       input, other)


def zeta(input, other):
    # d/dq zeta(x, q) = -x zeta(x + 1, q), PyTorch's; none for x
    return host_binary("SpecialZetaBackward0", input, other, sc.zeta, _not_implemented(
        "zeta", (0,), lambda g, a, b, o: g * -a * zeta(a + 1, b)), "zeta")


def gammainc(input, other):
    # d/dx P(a, x) = exp(-x) x^(a-1) / Gamma(a) (PyTorch's); none for a
    return host_binary("IgammaBackward0", input, other, sc.gammainc, _not_implemented(
        "igamma: input", (0,), lambda g, a, b, o: g * (-b + (a - 1) * b.log() - lgamma(a)).exp()), "igamma")


def gammaincc(input, other):
    return host_binary("IgammacBackward0", input, other, sc.gammaincc, _not_implemented(
        "igammac: input", (0,), lambda g, a, b, o: -g * (-b + (a - 1) * b.log() - lgamma(a)).exp()), "igammac")


def fmax(input, other):
    return host_binary("FmaxBackward0", input, other, np.fmax, _fmax_derivative(True), "fmax", floating=False)


def fmin(input, other):
    return host_binary("FminBackward0", input, other, np.fmin, _fmax_derivative(False), "fmin", floating=False)


def _fmax_derivative(is_max):
    # PyTorch's (maximum's): a tie splits the gradient, a NaN on either side passes it to both
    def derivative(g, a, b, o):
        shared = ew.where(ew.eq(a, b), ew.div(g, 2), g)
        a_loses, b_loses = (ew.lt(a, b), ew.gt(a, b)) if is_max else (ew.gt(a, b), ew.lt(a, b))
        return _where0(a_loses, shared, g), _where0(b_loses, shared, g)
    return derivative


def nextafter(input, other):
    a, b = ew.operands(input, other, "nextafter")
    out = np.nextafter(_host(a), _host(b))
    return _back(a, out)


FUNCTIONS = {
    "asinh": asinh, "acosh": acosh, "atanh": atanh, "arcsinh": asinh, "arccosh": acosh, "arctanh": atanh,
    "exp2": exp2, "erfc": erfc, "erfinv": erfinv, "lgamma": lgamma, "digamma": digamma, "polygamma": polygamma,
    "mvlgamma": mvlgamma, "i0": i0, "sinc": sinc, "logit": logit, "logaddexp": logaddexp,
    "logaddexp2": logaddexp2, "hypot": hypot, "igamma": gammainc, "igammac": gammaincc, "fmax": fmax,
    "fmin": fmin, "nextafter": nextafter,
}
METHODS = dict(FUNCTIONS)
METHODS["polygamma"] = lambda self, n: polygamma(n, self)
