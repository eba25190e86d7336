"""More of PyTorch's elementwise family: ``copysign``, ``ldexp``, ``frexp``, ``heaviside``,
``float_power``, ``deg2rad``/``rad2deg``, ``sgn``, ``signbit``, ``isposinf``/``isneginf``,
``gcd``/``lcm``, the logical ops and the comparison aliases,
``unique_consecutive``, and the in-place forms of these and of ``special_math``'s."""
import collections
import math

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.function import Function
from . import elementwise as ew
from . import special_math as sm
from .composite_entry import composite_op


def copysign(input, other):
    name = "CopysignBackward0" if isinstance(other, Tensor) else "CopysignBackward1"
    return sm.host_binary(name, input, other, np.copysign,
                          lambda g, a, b, o: (sm._where0(a == 0, g * (o / a), g), g * 0), "copysign")


def ldexp(input, other):
    return sm.host_binary("LdexpBackward0", input, other, lambda a, b: a * np.exp2(b),
                          lambda g, a, b, o: (g * b.exp2(), g * o * math.log(2.0)), "ldexp")


class FrexpBackward0(Function):
    grad_fn_name = "FrexpBackward0"

    @staticmethod
    def forward(ctx, x):
        mantissa, exponent = np.frexp(sm._host(x))
        e = x._new(x._backend.asarray(np.array(exponent, np.int32, order="C")))
        ctx.save_for_backward(e)
        ctx.mark_non_differentiable(e)
        return x._new(x._backend.asarray(np.array(mantissa, x.dtype.np, order="C"))), e

    @staticmethod
    def backward(ctx, g, ge):
        e, = ctx.saved_tensors
        return g / e.to(g.dtype).exp2()


frexp_result = collections.namedtuple("frexp", ["mantissa", "exponent"])
frexp_result.__repr__ = lambda self: (f"tinytape.return_types.frexp(\nmantissa={self.mantissa!r},\n"
                                      f"exponent={self.exponent!r})")
frexp_result.__module__ = "tinytape.return_types"


def frexp(input):
    if not input.dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    return frexp_result(*FrexpBackward0.apply(input))


def heaviside(input, values):
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside(): argument 'values' (position 2) must be Tensor, not {type(values).__name__}")
    if input.dtype is not values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes")
    from .stacks import broadcast_tensors
    a, b = broadcast_tensors(input.detach(), values.detach())
    x, v = sm._host(a), sm._host(b)
    out = np.where(x == 0, v, (x > 0).astype(x.dtype)).astype(x.dtype)
    return a._new(a._backend.asarray(np.array(out, order="C")))


def float_power(input, exponent):
    """``input ** exponent`` in float64."""
    base = input.to(_dtype.float64) if isinstance(input, Tensor) else input
    exp = exponent.to(_dtype.float64) if isinstance(exponent, Tensor) else float(exponent)
    if not isinstance(base, Tensor):
        return ew.pow(float(base), exp)
    return ew.pow(base, exp)


def _float(x):
    return x if x.dtype.is_floating_point else x.to(_dtype.get_default_dtype())


def deg2rad(input):
    return composite_op("Deg2RadBackward0", lambda t: ew.mul(t, math.pi / 180), _float(input))


def rad2deg(input):
    return composite_op("Rad2DegBackward0", lambda t: ew.mul(t, 180 / math.pi), _float(input))


def sgn(input):
    return composite_op("SgnBackward0", lambda t: t.sign(), input)


def _bool_host(x, fn):
    return x._new(x._backend.asarray(np.array(fn(sm._host(x)), np.bool_, order="C")))


def signbit(input):
    return _bool_host(input, np.signbit)


def isposinf(input):
    return _bool_host(input, np.isposinf)


def isneginf(input):
    return _bool_host(input, np.isneginf)


def isreal(input):
    return _bool_host(input, lambda a: np.ones(a.shape, np.bool_))


def _integer_pair(input, other, fn, op):
    a, b = ew.operands(input, other, op)
    if a.dtype.is_floating_point:
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for '{_dtype.scalar_type_name(a.dtype)}'")
    out = fn(sm._host(a), sm._host(b))
    return a._new(a._backend.asarray(np.array(out, a.dtype.np, order="C")))


def gcd(input, other):
    return _integer_pair(input, other, np.gcd, "gcd")


def lcm(input, other):
    return _integer_pair(input, other, np.lcm, "lcm")


def _logical(fn):
    def op(input, other):
        a, b = ew.operands(input, other, fn.__name__)
        out = fn(sm._host(a) != 0, sm._host(b) != 0)
        from .stacks import broadcast_shapes
        shape = broadcast_shapes(tuple(a.shape), tuple(b.shape))
        return a._new(a._backend.asarray(np.array(np.broadcast_to(out, shape), np.bool_, order="C")))
    return op


logical_and, logical_or, logical_xor = (_logical(np.logical_and), _logical(np.logical_or),
                                        _logical(np.logical_xor))


def positive(input):
    if input.dtype is _dtype.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def subtract(input, other, *, alpha=1):
    return ew.sub(input, other, alpha=alpha) if alpha != 1 else ew.sub(input, other)


# -------------------------------------------------------------------- unique_consecutive
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    from .._creation import tensor
    x = sm._host(input)
    if dim is None:
        flat = x.reshape(-1)
        starts = np.concatenate([[True], flat[1:] != flat[:-1]]) if flat.size else np.zeros(0, bool)
        values = flat[starts]
        inverse = (np.cumsum(starts) - 1).reshape(x.shape)
    else:
        d = dim % x.ndim
        moved = np.moveaxis(x, d, 0).reshape(x.shape[d], -1)
        starts = np.concatenate([[True], (moved[1:] != moved[:-1]).any(1)]) if moved.shape[0] else np.zeros(0, bool)
        values = np.moveaxis(np.moveaxis(x, d, 0)[starts], 0, d)
        inverse = np.cumsum(starts) - 1
    counts = np.diff(np.append(np.flatnonzero(starts), starts.size))
    out = input._new(input._backend.asarray(np.array(values, order="C")))
    extra = []
    if return_inverse:
        extra.append(tensor(inverse.astype(np.int64), device=input.device))
    if return_counts:
        extra.append(tensor(counts.astype(np.int64), device=input.device))
    return (out, *extra) if extra else out


FUNCTIONS = {
    "copysign": copysign, "ldexp": ldexp, "frexp": frexp, "heaviside": heaviside, "float_power": float_power,
    "deg2rad": deg2rad, "rad2deg": rad2deg, "sgn": sgn, "signbit": signbit, "isposinf": isposinf,
    "isneginf": isneginf, "isreal": isreal, "gcd": gcd, "lcm": lcm, "logical_and": logical_and,
    "logical_or": logical_or, "logical_xor": logical_xor, "positive": positive, "subtract": subtract,
    "unique_consecutive": unique_consecutive,
    "negative": lambda input: -input, "absolute": lambda input: input.abs(),
    "greater": ew.gt, "greater_equal": ew.ge, "less": ew.lt, "less_equal": ew.le, "not_equal": ew.ne,
}
METHODS = dict(FUNCTIONS)


def _inplace_of(name, fn):
    def method(self, *args, **kwargs):
        return self._inplace(name + "_", lambda x, *a: fn(x, *a, **kwargs), *args)
    method.__name__ = name + "_"
    return method


def _no_inplace_derivative(name):
    def derivative(g, x, out):
        raise NotImplementedError(f"the derivative for 'inplace version of {name}' is not implemented.")
    return derivative


for _name, _compute in (("asinh", sm._native("asinh")), ("acosh", sm._native("acosh")), ("atanh", np.arctanh)):
    # PyTorch records these three in place without a derivative: backward through them raises
    _fn = (lambda name, compute: lambda x: sm.host_unary(
        sm.backward_name(name), x, compute, _no_inplace_derivative(name), name))(_name, _compute)
    METHODS[_name + "_"] = METHODS["arc" + _name[1:] + "_"] = _inplace_of(_name, _fn)
for _name in ("exp2", "erfc", "erfinv", "lgamma",
              "digamma", "i0", "sinc", "logit", "hypot", "nextafter", "mvlgamma"):
    METHODS[_name + "_"] = _inplace_of(_name, sm.FUNCTIONS[_name])
for _name in ("copysign", "ldexp", "deg2rad", "rad2deg", "sgn", "gcd", "lcm", "logical_and", "logical_or",
              "logical_xor", "heaviside", "float_power", "subtract", "negative", "absolute"):
    METHODS[_name + "_"] = _inplace_of(_name, FUNCTIONS[_name])
for _alias, _name in (("arccos_", "acos_"), ("arcsin_", "asin_"), ("arctan_", "atan_"), ("fix_", "trunc_")):
    METHODS[_alias] = (lambda n: lambda self: getattr(self, n)())(_name)
METHODS["polygamma_"] = lambda self, n: self._inplace("polygamma_", lambda x: sm.polygamma(n, x))


# PyTorch's in-place functions of the math family (``torch.sin_(t)`` is ``t.sin_()``)
TORCH_INPLACE = (
    "abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_", "asin_",
    "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_",
    "deg2rad_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fix_", "floor_", "frac_", "gcd_", "i0_",
    "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_",
    "rad2deg_", "reciprocal_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_",
    "tan_", "tanh_", "trunc_", "xlogy_", "zero_", "fill_", "relu_")


def attach_torch_inplace(namespace):
    """``torch.<name>_`` for each in-place method above that Tensor has by now."""
    for name in TORCH_INPLACE:
        if name not in namespace and hasattr(Tensor, name):
            namespace[name] = (lambda n: lambda input, *args, **kwargs: getattr(input, n)(*args, **kwargs))(name)
