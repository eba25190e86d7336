"""``gumbel_softmax``, max unpooling (``max_unpool1d/2d/3d``, ``MaxUnpool1d/2d/3d``) and power-average
pooling (``lp_pool1d/2d/3d``, ``LPPool1d/2d/3d``), composed from recorded ops as PyTorch composes
them, so their values, gradients and grad_fn names are PyTorch's and ``tinytape.compile`` replays
them."""
import math
import warnings

from .. import _creation, _dtype
from .._tensor import Tensor
from ..ops import elementwise as ew
from ..ops import pooling as P
from ..ops import shape as sh
from ..ops import volumetric as V
from ..ops.composite_entry import composite_op
from ..ops.pooling import _tuple
from ..ops.scatter import scatter
from ..ops.softmax import softmax
from .module import Module


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """Softmax of ``(logits + g) / tau`` with Gumbel noise ``g = -log(Exp(1))`` drawn from the
    generator as PyTorch draws it; ``hard=True``: the one-hot of the argmax, with the soft
    sample's gradient (straight-through)."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    noise = _creation.empty(tuple(logits.shape), dtype=logits.dtype, device=logits.device).exponential_()
    gumbels = ew.div(ew.add(logits, ew.neg(ew.log(noise))), tau)
    y_soft = softmax(gumbels, dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = scatter(_creation.zeros(tuple(logits.shape), dtype=logits.dtype, device=logits.device), dim, index, 1.0)
    return ew.add(ew.sub(y_hard, y_soft.detach()), y_soft)


# ---------------------------------------------------------------- max unpooling


def _unpool_output_size(input, kernel, stride, padding, output_size):
    spatial = len(kernel)
    default = [(input.shape[-spatial + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(spatial)]
    if output_size is None:
        return default
    if len(output_size) == spatial + 2:
        output_size = output_size[2:]
    if len(output_size) != spatial:
        raise ValueError(f"output_size should be a sequence containing {spatial} or {spatial + 2} elements, but it "
                         f"has a length of '{len(output_size)}'")
    for d in range(spatial):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < output_size[d] < high:
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {low} and {high})')
    return list(output_size)


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, spatial):
    op = f"max_unpool{spatial}d"
    kernel = _tuple(kernel_size, spatial, "kernel_size", op)
    stride = kernel if stride is None else _tuple(stride, spatial, "stride", op)
    padding = _tuple(padding, spatial, "padding", op)
    sizes = _unpool_output_size(input, kernel, stride, padding, output_size)
    if spatial == 1:  # PyTorch's: a width-1 image through max_unpool2d, squeezed
        out = _unpool(sh.unsqueeze(input, -1), sh.unsqueeze(indices, -1), sizes + [1], "max_unpool2d")
        return sh.squeeze(out, -1)
    return _unpool(input, indices, sizes, op)


def _unpool(input, indices, sizes, op):
    spatial = len(sizes)
    if not isinstance(indices, Tensor) or indices.dtype is not _dtype.int64:
        got = _dtype.scalar_type_name(indices.dtype) if isinstance(indices, Tensor) else type(indices).__name__
        raise RuntimeError(f"elements in indices should be type int64 but got: {got}")
    if input.ndim not in (spatial + 1, spatial + 2) or tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}(): Expected {spatial + 1}D or {spatial + 2}D input and indices of the input's "
                           f"shape, but got input of shape {list(input.shape)} and indices of shape "
                           f"{list(indices.shape)}")
    planes = math.prod(sizes)
    ids = indices._backend.to_numpy(indices._data)
    bad = ids[(ids < 0) | (ids >= planes)]
    if bad.size:
        raise RuntimeError(f"Found an invalid max index: {int(bad.flat[-1])} (output volumes are of size "
                           f"{'x'.join(str(s) for s in sizes)})")
    lead = tuple(input.shape[:-spatial])
    flat_index = sh.reshape(indices, lead + (-1,))

    def unpool(x):
        zeros = _creation.zeros(lead + (planes,), dtype=x.dtype, device=x.device)
        return sh.reshape(scatter(zeros, -1, flat_index, sh.reshape(x, lead + (-1,))), lead + tuple(sizes))
    return composite_op(f"MaxUnpool{spatial}DBackward0", unpool, input)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3)


class _MaxUnpoolNd(Module):
    _spatial = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        n = self._spatial
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", type(self).__name__)
        self.stride = self.kernel_size if stride is None else _tuple(stride, n, "stride", type(self).__name__)
        self.padding = _tuple(padding, n, "padding", type(self).__name__)

    def forward(self, input, indices, output_size=None):
        return _max_unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size, self._spatial)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    _spatial = 1


class MaxUnpool2d(_MaxUnpoolNd):
    _spatial = 2


class MaxUnpool3d(_MaxUnpoolNd):
    _spatial = 3


# ---------------------------------------------------------------- power-average pooling


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, spatial):
    max_pool, avg_pool = {1: (P.max_pool1d, P.avg_pool1d), 2: (P.max_pool2d, P.avg_pool2d),
                          3: (V.max_pool3d, V.avg_pool3d)}[spatial]
    if isinstance(norm_type, (int, float)):
        if norm_type == 0:
            raise ValueError(f"norm_type must be a non-zero value, but got {norm_type}")
        if norm_type == math.inf:
            return max_pool(ew.abs(input), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -math.inf:
            return ew.neg(max_pool(ew.neg(ew.abs(input)), kernel_size, stride, 0, 1, ceil_mode))
    window = math.prod(_tuple(kernel_size, spatial, "kernel_size", f"lp_pool{spatial}d")) if spatial > 1 \
        else kernel_size
    out = avg_pool(ew.pow(input, norm_type), kernel_size, stride, 0, ceil_mode)
    return ew.pow(ew.mul(ew.mul(ew.sign(out), ew.relu(ew.abs(out))), window), 1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3)


class _LPPoolNd(Module):
    _spatial = 2

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, input):
        return _lp_pool(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode, self._spatial)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    _spatial = 1


class LPPool2d(_LPPoolNd):
    _spatial = 2


class LPPool3d(_LPPoolNd):
    _spatial = 3


MODULES = {"MaxUnpool1d": MaxUnpool1d, "MaxUnpool2d": MaxUnpool2d, "MaxUnpool3d": MaxUnpool3d,
           "LPPool1d": LPPool1d, "LPPool2d": LPPool2d, "LPPool3d": LPPool3d}
FUNCTIONAL = {"gumbel_softmax": gumbel_softmax, "max_unpool1d": max_unpool1d, "max_unpool2d": max_unpool2d,
              "max_unpool3d": max_unpool3d, "lp_pool1d": lp_pool1d, "lp_pool2d": lp_pool2d, "lp_pool3d": lp_pool3d}
