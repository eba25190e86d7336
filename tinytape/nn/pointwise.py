"""The pointwise activations of ``nn.functional``, composed from tinytape's tensor ops.

Each one PyTorch gives its own grad_fn (``HardtanhBackward0``, ``EluBackward0``, ...) is a
``Function`` whose forward and derivative are tinytape expressions following PyTorch's CPU
kernel term for term (its vectorised path, where the scalar tail differs): the values agree
to rounding, and under ``create_graph`` the gradient is itself differentiable.  Where a
piecewise op is flat the gradient is *selected* (``where(inside, g, 0)``), never multiplied
by a 0/1 mask, so an inf or nan incoming gradient stays out there, as PyTorch's.
PyTorch's composites (``softsign``, ``tanhshrink``) are the same composites here."""
import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend.opcodes import ELU, LOGSIGMOID, SOFTPLUS
from ..ops import dtype_rules
from ..ops import elementwise as ew
from ..ops.elementwise import gelu as _gelu_erf
from ..ops.from_table import CLASSES

_MulExp, _SoftplusBackward = CLASSES["mul_exp"], CLASSES["softplus_backward"]  # a exp(b); a z / (z + 1), z = exp(b)


class _Pointwise(Function):
    """y = value(x, *params), dy/dx g = derivative(x, g, *params); saves x."""

    @staticmethod
    def value(x, *params):
        raise NotImplementedError

    @staticmethod
    def derivative(x, g, *params):
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx, x, *params):
        ctx.save_for_backward(x)
        ctx.params = params
        return cls.value(x, *params)

    @classmethod
    def backward(cls, ctx, g):
        (x,) = ctx.saved_tensors
        return (cls.derivative(x, g, *ctx.params),) + (None,) * len(ctx.params)


def _float_tensor(input, op, integers=False):
    """``input``, checked: PyTorch's kernels for these take floating tensors only (and
    integers too where ``integers``, the clamping ones)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not (input.dtype.is_floating_point or integers):
        raise NotImplementedError(f'"{op}_cpu" not implemented for '
                                  f"'{_dtype.scalar_type_name(input.dtype)}'")
    return input


def _apply(cls, input, params, inplace, op, integers=False):
    """``cls`` on ``input``; in place: the result copied into ``input`` (the Function saves
    a copy of the old values, so the backward does not read the overwritten ones)."""
    x = _float_tensor(input, op, integers)
    if not inplace:
        return cls.apply(x, *params)
    return input.copy_(cls.apply(x.clone() if x is input else x, *params))


# ---------------------------------------------------------------- piecewise linear


class Hardtanh(_Pointwise):
    grad_fn_name = "HardtanhBackward0"

    @staticmethod
    def value(x, lo, hi):
        return x.clamp(lo, hi)

    @staticmethod
    def derivative(x, g, lo, hi):  # strictly inside: 0 at either bound and at nan
        return ew.where((x > lo) & (x < hi), g, 0.0)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if isinstance(input, Tensor):
        dtype_rules.check("hardtanh", input.dtype)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if isinstance(input, Tensor) and not input.dtype.is_floating_point:  # bounds in the input's type
        min_val, max_val = int(min_val), int(max_val)
    return _apply(Hardtanh, input, (min_val, max_val), inplace, "hardtanh", integers=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """``hardtanh(input, 0, 6)``: PyTorch's grad_fn is HardtanhBackward0 too."""
    return hardtanh(input, 0.0, 6.0, inplace)


class Threshold(_Pointwise):
    grad_fn_name = "ThresholdBackward0"

    @staticmethod
    def value(x, threshold, value):
        return ew.where(x <= threshold, value, x)

    @staticmethod
    def derivative(x, g, threshold, value):  # nan is above any threshold: the gradient passes
        return ew.where(x <= threshold, 0.0, g)


def threshold(input, threshold, value, inplace=False):
    """``value`` where ``input <= threshold``, else ``input``."""
    return _apply(Threshold, input, (threshold, value), inplace, "threshold", integers=True)


def threshold_(input, threshold, value):
    return _apply(Threshold, input, (threshold, value), True, "threshold", integers=True)


_ONE_SIXTH_F32 = float(np.float32(1.0) / np.float32(6.0))  # PyTorch's constant, a float in every dtype


class Hardsigmoid(_Pointwise):
    grad_fn_name = "HardsigmoidBackward0"

    @staticmethod
    def value(x):
        return (x + 3).clamp(0.0, 6.0) / 6

    @staticmethod
    def derivative(x, g):
        return ew.where((x > -3) & (x < 3), g * _ONE_SIXTH_F32, 0.0)


def hardsigmoid(input, inplace=False):
    return _apply(Hardsigmoid, input, (), inplace, "hardsigmoid")


class Hardswish(_Pointwise):
    grad_fn_name = "HardswishBackward0"

    @staticmethod
    def value(x):
        return x * (x + 3).clamp(0.0, 6.0) / 6

    @staticmethod
    def derivative(x, g):  # PyTorch's vectorised kernel: 0 to -3, g from 3, x/3 + 1/2 between (and at nan)
        return ew.where(x <= -3, 0.0, ew.where(x >= 3, g, g * (x / 3 + 0.5)))


def hardswish(input, inplace=False):
    return _apply(Hardswish, input, (), inplace, "hardswish")


class LeakyRelu(_Pointwise):
    grad_fn_name = "LeakyReluBackward0"

    @staticmethod
    def value(x, slope):
        return ew.where(x > 0, x, x * slope)

    @staticmethod
    def derivative(x, g, slope):  # g where x > 0, else g * slope (nan and 0 included)
        return ew.where(x > 0, g, g * slope)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _apply(LeakyRelu, input, (negative_slope,), inplace, "leaky_relu")


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


class RreluWithNoise(_Pointwise):
    """``x`` times its noise (1 above 0, else a slope drawn on [lower, upper)) when training,
    else the leaky ReLU of slope ``(lower + upper) / 2``, as PyTorch's ``rrelu_with_noise``."""
    grad_fn_name = "RreluWithNoiseBackward0"

    @staticmethod
    def value(x, noise, slope):
        if noise is None:
            return ew.where(x > 0, x, x * slope)
        return x * noise if noise.dtype is x.dtype else (x.to(noise.dtype) * noise).to(x.dtype)

    @staticmethod
    def derivative(x, g, noise, slope):
        if noise is None:
            return ew.where(x > 0, g, g * slope)
        return g * noise.to(x.dtype)  # bfloat16: the noise kept rounded to it


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False, generator=None):
    """Randomized leaky ReLU: each element at or below 0 (in order) draws its slope from
    PyTorch's CPU stream as a double on [lower, upper)."""
    from .. import _creation, _random
    op = "rrelu_with_noise_out" if training else "leaky_relu"
    x = _float_tensor(input, op)
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    noise = None
    if training:
        if x.dtype is _dtype.float16:  # PyTorch's training kernel: float, double and bfloat16
            raise NotImplementedError(f'"rrelu_with_noise_out_cpu" not implemented for '
                                      f"'{_dtype.scalar_type_name(x.dtype)}'")
        opmath = np.float64 if x.dtype is _dtype.float64 else np.float32
        below = (x.detach().to(_dtype.float64).cpu().numpy() <= 0).reshape(-1)
        values = np.ones(below.shape[0], opmath)
        gen = _random.stream(generator)
        # 53-bit uniforms u, then u * (upper - lower) + lower as two roundings: rrelu's kernel
        # does not fuse them (uniform_'s does, so its draws differ in the last bit)
        u = _random.uniform(gen, int(below.sum()), _dtype.float64, 0.0, 1.0)
        lo, hi = float(opmath(lower)), float(opmath(upper))  # the bounds in the kernel's float first
        values[below] = (u * (hi - lo) + lo).astype(opmath)
        noise = _creation.tensor(values.reshape(tuple(x.shape)), device=x.device)
    return _apply(RreluWithNoise, input, (noise, (lower + upper) / 2), inplace, op)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    return rrelu(input, lower, upper, training, inplace=True, generator=generator)


# ---------------------------------------------------------------- exponential family


class Elu(_Pointwise):
    """PyTorch's elu kernel: scale x for x > 0, else alpha scale (exp(input_scale x) - 1)."""
    grad_fn_name = "EluBackward0"

    @staticmethod
    def value(x, alpha, scale, input_scale):  # (elu and selu: input_scale 1)
        # where x <= 0 the table's elu is expm1(x): SLEEF's in PyTorch's vectors, the C library's
        # in its scalar loop, over x's own inner loops as PyTorch's elu kernel runs them
        return ew.where(x > 0, x * scale, ew._unary(x, ELU) * (alpha * scale))

    @staticmethod
    def derivative(x, g, alpha, scale, input_scale):
        # PyTorch's elu_backward: g input_scale negcoef exp(x input_scale) where x <= 0, negcoef =
        # alpha * scale in the dtype; the exponential SLEEF's in its vectors, the C library's in
        # its scalar loop (``mul_exp``, over g's and x's inner loops as its kernel runs them)
        if g.dtype.is_floating_point and g.dtype.itemsize == 4:
            negcoef = float(np.float32(alpha) * np.float32(scale))
        else:
            negcoef = alpha * scale
        if input_scale == 1:
            below = _MulExp.apply(g * negcoef if negcoef != 1 else g, x)
        else:
            below = _MulExp.apply(g * input_scale * negcoef, x * input_scale)
        return ew.where(x > 0, g * scale if scale != 1 else g, below)


class Celu(Elu):
    grad_fn_name = "CeluBackward0"

    @staticmethod
    def value(x, alpha, scale, input_scale):
        return ew.where(x > 0, x * scale, (x * input_scale).expm1() * (alpha * scale))


def elu(input, alpha=1.0, inplace=False):
    return _apply(Elu, input, (alpha, 1.0, 1.0), inplace, "elu")


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    return _apply(Elu, input, (_SELU_ALPHA, _SELU_SCALE, 1.0), inplace, "elu")


def selu_(input):
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _apply(Celu, input, (alpha, 1.0, 1.0 / alpha), inplace, "elu")


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


class LogSigmoid(_Pointwise):
    grad_fn_name = "LogSigmoidBackward0"

    @staticmethod
    def value(x):  # min(x, 0) - log1p(exp(-|x|)), one kernel with PyTorch's exp and log1p
        return ew._unary(x, LOGSIGMOID)

    @staticmethod
    def derivative(x, g):  # (1 - z / (1 + z)) for x < 0, else z / (1 + z), z = exp(-|x|)
        z = (-x.abs()).exp()
        r = z / (z + 1)
        return ew.where(x < 0, 1 - r, r) * g


def logsigmoid(input):
    return LogSigmoid.apply(_float_tensor(input, "log_sigmoid"))


class Softplus(_Pointwise):
    grad_fn_name = "SoftplusBackward0"

    @staticmethod
    def value(x, beta, threshold):
        if beta == 1 and threshold == 20:  # the defaults: one kernel with PyTorch's exp and log1p
            return ew._unary(x, SOFTPLUS)
        bx = x * beta
        if threshold <= 20:  # (the table's softplus is bx itself above 20: masked here)
            return ew.where(bx > threshold, x, ew._unary(bx, SOFTPLUS) / beta)
        return ew.where(bx > threshold, x, bx.exp().log1p() / beta)

    @staticmethod
    def derivative(x, g, beta, threshold):
        # PyTorch's softplus_backward: g where beta x > threshold, else g z / (z + 1), z = exp(beta x)
        bx = x * beta if beta != 1 else x
        return ew.where(bx > threshold, g, _SoftplusBackward.apply(g, bx))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""
    return Softplus.apply(_float_tensor(input, "softplus"), beta, threshold)


# x tanh(softplus(x)) and gelu's tanh approximation, values and gradients: the op table's
# ``mish``, ``gelu_tanh`` and their ``*_backward`` ops (PyTorch's kernels, SLEEF's tanh)
Mish, GeluTanh = CLASSES["mish"], CLASSES["gelu_tanh"]


def mish(input, inplace=False):
    return _apply(Mish, input, (), inplace, "mish")


def gelu(input, approximate="none"):
    if isinstance(input, Tensor):
        dtype_rules.check("gelu", input.dtype)
    if approximate == "none":
        return _gelu_erf(input)
    if approximate == "tanh":
        return GeluTanh.apply(_float_tensor(input, "GeluKernelImpl"))
    raise RuntimeError("approximate argument must be either none or tanh.")


# ---------------------------------------------------------------- PyTorch's composites


def softsign(input):
    """``input / (|input| + 1)`` (grad_fn DivBackward0, as PyTorch's composite)."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    """``input - tanh(input)`` (grad_fn SubBackward0, as PyTorch's composite)."""
    return input - input.tanh()


__all__ = ["hardtanh", "hardtanh_", "relu6", "threshold", "threshold_", "hardsigmoid", "hardswish", "leaky_relu",
           "leaky_relu_", "rrelu", "rrelu_", "elu", "elu_", "selu", "selu_", "celu", "celu_", "logsigmoid", "softplus",
           "mish", "gelu", "softsign", "tanhshrink"]
