"""More of ``torch.nn`` (with ``breadth.py``): ``GroupNorm``, ``InstanceNorm1d/2d``,
``AdaptiveMaxPool1d/2d`` and ``Bilinear`` with their functional forms, composed from recorded
ops with PyTorch's formulas, parameters, initialisation and reprs."""
import math
import numbers
import warnings

from .. import _creation, _dtype
from .._grad_mode import is_grad_enabled, no_grad
from ..ops import elementwise as ew
from ..ops.normalization import batch_norm
from . import init
from .module import Module
from .normalization import _BatchNorm
from .parameter import Parameter


# ---------------------------------------------------------------- normalisation


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each sample's channels in ``num_groups`` groups (batch statistics of the
    (1, N * groups, ...) view), then scale and shift per channel."""
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={num_groups}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and (value.ndim != 1 or value.shape[0] != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape {list(value.shape)} and input of shape {list(input.shape)}")
    from ..ops.composite_entry import composite_op
    shape = (1, c) + (1,) * (input.ndim - 2)

    def compute(x, *affine):
        w, b = (list(affine) + [None, None])[:2] if weight is not None else (None, affine[0] if affine else None)
        if not is_grad_enabled() and _group_kernel_fits(x, w, b):  # the forward: PyTorch's CPU kernel
            return x._new(x._backend.group_norm(x._data, None if w is None else w._data,
                                                None if b is None else b._data, num_groups, eps))
        out = batch_norm(x.reshape(1, n * num_groups, -1), None, None, None, None, True, 0.0, eps).reshape(x.shape)
        if w is not None:
            out = ew.mul(out, w.reshape(shape))
        if b is not None:
            out = ew.add(out, b.reshape(shape))
        return out
    def first_grads(g, x, *affine):  # PyTorch's CPU kernel's gradients, where it applies
        w = affine[0] if weight is not None else None
        b = affine[-1] if bias is not None else None
        if g.dtype is not x.dtype or not _group_kernel_fits(x, w, b) or not hasattr(x._backend, "group_norm_backward"):
            return None
        dx, dw, db = x._backend.group_norm_backward(g._data, x._data, None if w is None else w._data, num_groups, eps)
        return (x._new(dx),) + tuple(x._new(d) for d, t in ((dw, w), (db, b)) if t is not None)
    compute.first_grads = first_grads
    return composite_op("NativeGroupNormBackward0", compute, input, *[t for t in (weight, bias) if t is not None])


def _group_kernel_fits(x, weight, bias):
    return (hasattr(x._backend, "group_norm") and x.dtype in (_dtype.float32, _dtype.float64) and x.numel() > 0
            and all(t is None or t.dtype is x.dtype for t in (weight, bias)))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Batch norm of the (1, N * C, ...) view, as PyTorch computes it; running statistics are
    the channels' means over the batch."""
    n, c = input.shape[0], input.shape[1]
    flat = input.reshape(1, n * c, *input.shape[2:])
    rm = running_mean.repeat(n) if running_mean is not None else None
    rv = running_var.repeat(n) if running_var is not None else None
    w = weight.repeat(n) if weight is not None else None
    b = bias.repeat(n) if bias is not None else None
    out = batch_norm(flat, rm, rv, w, b, use_input_stats, momentum, eps)
    if running_mean is not None and use_input_stats:
        with no_grad():
            running_mean.copy_(rm.reshape(n, c).mean(0))
            running_var.copy_(rv.reshape(n, c).mean(0))
    return out.reshape(input.shape)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Each element divided by ``(k + alpha * mean of the squares of ``size`` neighbouring
    channels) ** beta``, the window zero-padded at the ends (PyTorch's composition: the
    squares padded along the channels, their window averages, then the power)."""
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    from ..ops.nn_ops import pad
    from ..ops.selection import narrow
    c = input.shape[1]
    squares = ew.mul(input, input)
    widths = [0, 0] * (input.ndim - 2) + [size // 2, (size - 1) // 2]
    padded = pad(squares, widths)
    total = narrow(padded, 1, 0, c)
    for j in range(1, size):  # the window's elements added in order, as the pooling kernel
        total = ew.add(total, narrow(padded, 1, j, c))
    div = ew.pow(ew.add(ew.mul(ew.div(total, size), alpha), k), beta)
    return ew.div(input, div)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``input * rsqrt(mean(input ** 2) + eps)`` over the trailing ``normalized_shape``, times
    ``weight``; ``eps`` by default the dtype's machine epsilon (PyTorch's composition, in
    float32 for half-precision inputs)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape or len(shape) > input.ndim:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape [*, "
                           f"{', '.join(str(s) for s in shape)}], but got input of size{list(input.shape)}")
    x = input if input.dtype in (_dtype.float32, _dtype.float64) else input.to(_dtype.float32)
    if eps is None:
        from ..ops.composed import finfo
        eps = finfo(x.dtype).eps
    dims = tuple(range(input.ndim - 1, input.ndim - 1 - len(shape), -1))
    scale = ew.add(ew.pow(x, 2).mean(dims, keepdim=True), eps).rsqrt()
    out = ew.mul(x, scale)
    if weight is not None:
        out = ew.mul(out, weight)
    return out if out.dtype is input.dtype else out.to(input.dtype)


class RMSNorm(Module):
    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else normalized_shape
        self.normalized_shape = tuple(shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(_creation.empty(self.normalized_shape, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x):
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return "{normalized_shape}, eps={eps}, elementwise_affine={elementwise_affine}".format(**self.__dict__)


class LocalResponseNorm(Module):
    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return "{size}, alpha={alpha}, beta={beta}, k={k}".format(**self.__dict__)


class GroupNorm(Module):
    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        if affine:
            self.weight = Parameter(_creation.empty(num_channels, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(_creation.empty(num_channels, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(Module):
    _ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
        if affine:
            self.weight = Parameter(_creation.ones(num_features, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(_creation.zeros(num_features, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", _creation.zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", _creation.ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", _creation.tensor(0, dtype=_dtype.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    # the running statistics and affine parameters are reset as the batch norms' are
    reset_running_stats = _BatchNorm.reset_running_stats
    reset_parameters = _BatchNorm.reset_parameters

    def forward(self, input):
        if input.ndim not in self._ranks:
            raise ValueError(f"expected {self._ranks[0]}D or {self._ranks[1]}D input (got {input.ndim}D input)")
        feature_dim = input.ndim - self._ranks[0]
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match num_features "
                                 f"({self.num_features}), but got: {input.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You can silence this "
                          "warning by not passing in num_features, which is not used because affine=False",
                          stacklevel=2)
        unbatched = input.ndim == self._ranks[0]
        x = input.unsqueeze(0) if unbatched else input
        out = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats, self.momentum if self.momentum is not None
                            else 0.1, self.eps)
        return out.squeeze(0) if unbatched else out

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    _ranks = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    _ranks = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    _ranks = (4, 5)


# ---------------------------------------------------------------- pooling


def _max_kernel_fits(x):
    return hasattr(x._backend, "adaptive_max_pool") and x.dtype in (_dtype.float32, _dtype.float64)


def _adaptive_max_by_kernel(input, output_size, spatial, return_indices, op):
    """The pool by the backend's kernel (``AdaptiveMaxPoolKernel``): PyTorch's values,
    indices and gradient; a 1-d pool is its height-1 image, squeezed, as PyTorch's."""
    from ..ops import pooling, shape as sh
    if input.ndim not in (spatial + 1, spatial + 2):
        if spatial == 1:
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument #1 "
                               f"'self' (while checking arguments for {op})")
        raise RuntimeError(f"{op}(): Expected {spatial + 1}D or {spatial + 2}D tensor, but got: {list(input.shape)}")
    for d in range(1, input.ndim):
        if input.shape[d] == 0:
            raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch dimensions, but input has "
                               f"sizes {list(input.shape)} with dimension {d} being empty")
    sizes = (output_size,) * spatial if isinstance(output_size, numbers.Integral) or output_size is None \
        else tuple(output_size)
    if len(sizes) != spatial:
        raise RuntimeError(f"{op}: internal error: output_size.size() must be {spatial}")
    sizes = tuple(input.shape[input.ndim - spatial + i] if o is None else int(o) for i, o in enumerate(sizes))
    x = sh.unsqueeze(input, -2) if spatial == 1 else input
    kernel = pooling.AdaptiveMaxPoolKernel3D if spatial == 3 else pooling.AdaptiveMaxPoolKernel
    values, indices = kernel.apply(x, (1,) + sizes if spatial == 1 else sizes)
    if spatial == 1:
        values, indices = sh.squeeze(values, -2), sh.squeeze(indices, -2)
    return (values, indices) if return_indices else values


def _adaptive_max(input, output_size, spatial, return_indices, op):
    from ..ops.windows import _check_tensor, _POOL_KERNELS
    _check_tensor(input, op)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"{_POOL_KERNELS[op]}" not implemented for '
                                  f"'{_dtype.scalar_type_name(input.dtype)}'")
    if _max_kernel_fits(input):
        return _adaptive_max_by_kernel(input, output_size, spatial, return_indices, op)
    if return_indices:
        raise NotImplementedError(f"{op}: return_indices=True is not provided")
    sizes = (output_size,) * spatial if isinstance(output_size, numbers.Integral) or output_size is None \
        else tuple(output_size)
    out = input
    for axis, o in enumerate(sizes):
        d = input.ndim - spatial + axis
        n = input.shape[d]
        o = n if o is None else int(o)
        lead = (slice(None),) * d
        parts = [out[lead + (slice((i * n) // o, -((-(i + 1) * n) // o)),)].amax(d, keepdim=True) for i in range(o)]
        out = parts[0] if len(parts) == 1 else _cat(parts, d)
    return out


def _cat(parts, d):
    from ..ops.shape import cat
    return cat(parts, d)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    from ..ops.composite_entry import composite_op  # PyTorch pools a 2-D view and squeezes it
    if _max_kernel_fits(input):
        return _adaptive_max_by_kernel(input, output_size, 1, return_indices, "adaptive_max_pool1d")
    return composite_op("SqueezeBackward1",
                        lambda x: _adaptive_max(x, output_size, 1, return_indices, "adaptive_max_pool1d"), input)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    from ..ops.composite_entry import composite_op
    if _max_kernel_fits(input):
        return _adaptive_max_by_kernel(input, output_size, 2, return_indices, "adaptive_max_pool2d")
    return composite_op("AdaptiveMaxPool2DBackward0",
                        lambda x: _adaptive_max(x, output_size, 2, return_indices, "adaptive_max_pool2d"), input)


class AdaptiveMaxPool1d(Module):
    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return adaptive_max_pool1d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(AdaptiveMaxPool1d):
    def forward(self, input):
        return adaptive_max_pool2d(input, self.output_size, self.return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    if not _max_kernel_fits(input):
        raise NotImplementedError(f"adaptive_max_pool3d: not provided for {input.dtype} on {input.device}")
    return _adaptive_max_by_kernel(input, output_size, 3, return_indices, "adaptive_max_pool3d")


class AdaptiveMaxPool3d(AdaptiveMaxPool1d):
    def forward(self, input):
        return adaptive_max_pool3d(input, self.output_size, self.return_indices)


# ---------------------------------------------------------------- bilinear


def bilinear(input1, input2, weight, bias=None):
    """``y[..., o] = input1 @ weight[o] @ input2 + bias[o]``."""
    from ..ops.einsum import einsum
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else ew.add(out, bias)


class Bilinear(Module):
    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = Parameter(_creation.empty(out_features, in1_features, in2_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(_creation.empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


MODULES = ["RMSNorm", "LocalResponseNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
           "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "Bilinear"]
FUNCTIONAL = {"rms_norm": rms_norm, "local_response_norm": local_response_norm, "group_norm": group_norm, "instance_norm": instance_norm, "adaptive_max_pool1d": adaptive_max_pool1d,
              "adaptive_max_pool2d": adaptive_max_pool2d, "adaptive_max_pool3d": adaptive_max_pool3d, "bilinear": bilinear}
