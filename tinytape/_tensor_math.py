"""Tensor's operators and math methods (arithmetic, comparisons, reductions, products,
shapes and views, dtype and device casts): thin calls into the ops modules.  They are
written as a class body (so ``float``, ``type``, ``sum``... inside them still mean the
builtins) and attached to ``Tensor`` by ``tinytape._methods``."""
import numpy as np

from . import _dtype
from ._tensor import Tensor, _sizes, type_name

_T_WARNED = False


def _warn_T():
    """PyTorch's deprecation of ``x.T`` beyond two dims, once a process as its TORCH_WARN_ONCE."""
    global _T_WARNED
    _T_WARNED = True
    import warnings
    warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
                  "and it will throw an error in a future release. Consider `x.mT` to transpose batches of "
                  "matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a "
                  "tensor.", UserWarning, stacklevel=3)
from .ops import elementwise as elementwise_ops
from .ops import indexing as indexing_ops
from .ops import linalg as linalg_ops
from .ops import extremes
from .ops import reduction as reduction_ops
from .ops import shape as shape_ops


class TensorMath:
    # ------------------------------------------------------------------ conversion
    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)``."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        copy = kwargs.pop("copy", False)
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, (_dtype.dtype, type)) or (isinstance(a, str) and a.startswith("tinytape.")):
                dtype = _dtype.as_dtype(a)
            else:
                device = a
        out = self
        if device is not None and _dtype.as_device(device) != self.device:
            from ._creation import _to_device
            out = _to_device(out, _dtype.as_device(device))
        if dtype is not None and _dtype.as_dtype(dtype) is not out.dtype:
            out = elementwise_ops.to_dtype(out, _dtype.as_dtype(dtype))
        if copy and out is self:
            out = self.clone()
        return out

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    def long(self):
        return self.to(_dtype.int64)

    def bool(self):
        return self.to(_dtype.bool_)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def type(self, dtype=None):
        if dtype is None:
            name = type_name(self.dtype)
            return name.replace("tinytape.", "tinytape.cuda.", 1) if self.is_cuda else name
        from ._legacy import convert_type
        return convert_type(self, dtype)

    # ------------------------------------------------------------------ math
    # the ops' functions themselves where the tensor is their first operand (a call less:
    # 0.1 us of every operator)
    __add__ = elementwise_ops.add
    __sub__ = elementwise_ops.sub
    __mul__ = elementwise_ops.mul
    __truediv__ = elementwise_ops.div
    __pow__ = elementwise_ops.pow

    def __radd__(self, other):
        other = _from_numpy_operand(other, self)
        if isinstance(other, Tensor):
            return elementwise_ops.add(other, self)
        return elementwise_ops.add(self, other)  # a number goes second, as PyTorch's wrapped scalar

    def __rsub__(self, other):
        return elementwise_ops.sub(_from_numpy_operand(other, self), self)

    def __rmul__(self, other):
        if type(other) is float:  # ``lr * grad``: a number goes second, as PyTorch's wrapped scalar
            return elementwise_ops.mul(self, other)
        other = _from_numpy_operand(other, self)
        if isinstance(other, Tensor):
            return elementwise_ops.mul(other, self)
        return elementwise_ops.mul(self, other)  # a number goes second, as PyTorch's wrapped scalar

    def __rtruediv__(self, other):
        return elementwise_ops.div(_from_numpy_operand(other, self), self)

    def __rpow__(self, other):
        return elementwise_ops.pow(_from_numpy_operand(other, self), self)

    def __matmul__(self, other):
        return linalg_ops.matmul(self, other)

    def __rmatmul__(self, other):
        return linalg_ops.matmul(_from_numpy_operand(other, self), self)

    def __neg__(self):
        return elementwise_ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return elementwise_ops.abs(self)

    def __eq__(self, other):
        if other is None:  # PyTorch: a tensor is never None
            return False
        return elementwise_ops.eq(self, other)

    def __ne__(self, other):
        if other is None:
            return True
        return elementwise_ops.ne(self, other)

    def __lt__(self, other):
        return elementwise_ops.lt(self, other)

    def __le__(self, other):
        return elementwise_ops.le(self, other)

    def __gt__(self, other):
        return elementwise_ops.gt(self, other)

    def __ge__(self, other):
        return elementwise_ops.ge(self, other)

    def add(self, other, alpha=1):
        return elementwise_ops.add(self, other, alpha=alpha)

    def sub(self, other, alpha=1):
        return elementwise_ops.sub(self, other, alpha=alpha)

    def mul(self, other):
        return elementwise_ops.mul(self, other)

    def div(self, other, *, rounding_mode=None):
        return elementwise_ops.div(self, other, rounding_mode=rounding_mode)

    def pow(self, exponent):
        return elementwise_ops.pow(self, exponent)

    def neg(self):
        return elementwise_ops.neg(self)

    def exp(self):
        return elementwise_ops.exp(self)

    def log(self):
        return elementwise_ops.log(self)

    def sqrt(self):
        return elementwise_ops.sqrt(self)

    def abs(self):
        return elementwise_ops.abs(self)

    def sign(self):
        return elementwise_ops.sign(self)

    def sin(self):
        return elementwise_ops.sin(self)

    def cos(self):
        return elementwise_ops.cos(self)

    def tanh(self):
        return elementwise_ops.tanh(self)

    def sigmoid(self):
        return elementwise_ops.sigmoid(self)

    def relu(self):
        return elementwise_ops.relu(self)

    clamp = elementwise_ops.clamp

    clip = clamp

    def eq(self, other):
        return elementwise_ops.eq(self, other)

    def ne(self, other):
        return elementwise_ops.ne(self, other)

    def lt(self, other):
        return elementwise_ops.lt(self, other)

    def le(self, other):
        return elementwise_ops.le(self, other)

    def gt(self, other):
        return elementwise_ops.gt(self, other)

    def ge(self, other):
        return elementwise_ops.ge(self, other)

    sum = reduction_ops.sum

    mean = reduction_ops.mean

    def norm(self, *args, **kwargs):
        return reduction_ops.norm(self, *args, **kwargs)

    def max(self, *args, **kwargs):
        return reduction_ops.max(self, *args, **kwargs)

    def min(self, *args, **kwargs):
        return reduction_ops.min(self, *args, **kwargs)

    def all(self, *args, **kwargs):
        return reduction_ops.all(self, *args, **kwargs)

    def any(self, *args, **kwargs):
        return reduction_ops.any(self, *args, **kwargs)

    def argmax(self, *args, **kwargs):
        return reduction_ops.argmax(self, *args, **kwargs)

    def aminmax(self, **kwargs):
        return extremes.aminmax(self, **kwargs)

    def amax(self, dim=(), keepdim=False):
        return extremes.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return extremes.amin(self, dim, keepdim)

    def argmin(self, *args, **kwargs):
        return reduction_ops.argmin(self, *args, **kwargs)

    mm = linalg_ops.mm

    def matmul(self, other):
        return linalg_ops.matmul(self, other)

    def dot(self, other):
        return linalg_ops.dot(self, other)

    def mv(self, vec):
        return linalg_ops.mv(self, vec)

    def t(self):
        return shape_ops.t(self)

    @property
    def T(self):
        if self.ndim not in (0, 2) and not _T_WARNED:
            _warn_T()
        return shape_ops.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    def transpose(self, dim0, dim1):
        return shape_ops.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return shape_ops.permute(self, _sizes(dims))

    def reshape(self, *shape):
        return shape_ops.reshape(self, _sizes(shape))

    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (_dtype.dtype, type)):
            from .ops.strided import view_dtype
            return view_dtype(self, shape[0])
        return shape_ops.view(self, _sizes(shape))

    def view_as(self, other):
        return shape_ops.view(self, other.shape)

    def reshape_as(self, other):
        return shape_ops.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return shape_ops.flatten(self, start_dim, end_dim)

    def unsqueeze(self, dim):
        return shape_ops.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return shape_ops.squeeze(self, dim)

    def expand(self, *sizes):
        return shape_ops.expand(self, _sizes(sizes))

    def expand_as(self, other):
        return shape_ops.expand(self, other.shape)

    def contiguous(self):
        return shape_ops.contiguous(self)

    def is_contiguous(self):
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim=None):
        """Steps between elements, in elements, per dimension (dim: that one), as in PyTorch."""
        data = self._data  # numpy's strides are in bytes, a CUDA array's in elements
        steps = tuple(s // data.itemsize for s in data.strides) if isinstance(data, np.ndarray) else tuple(data.strides)
        if 0 in steps:
            steps = _torch_steps(data.shape, steps)
        if dim is None:
            return steps
        if not -max(self.ndim, 1) <= dim < max(self.ndim, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-max(self.ndim, 1)}, {max(self.ndim, 1) - 1}], but got {dim})")
        return steps[dim]

    def clone(self):
        return shape_ops.clone(self)

    def __getitem__(self, index):
        return indexing_ops.getitem(self, index)

    def __setitem__(self, index, value):
        indexing_ops.setitem(self, index, value)


def _torch_steps(shape, steps):
    """PyTorch's strides where numpy's say 0 without a broadcast: an added dim of size 1 steps
    over the dims after it (``unsqueeze``, ``x[None]``), an empty tensor's are contiguous ones."""
    if 0 in shape:
        if all(s == 0 for s in steps):
            steps, step = list(steps), 1
            for d in range(len(shape) - 1, -1, -1):
                steps[d], step = step, step * max(shape[d], 1)
        return tuple(steps)
    steps = list(steps)
    for d in range(len(shape) - 1, -1, -1):
        if shape[d] == 1 and steps[d] == 0:
            steps[d] = shape[d + 1] * steps[d + 1] if d + 1 < len(shape) else 1
    return tuple(steps)


def _from_numpy_operand(other, like):
    """A numpy array on the left of an operator becomes a tensor on ``like``'s device
    (numpy defers to us: ``__array_priority__``), as PyTorch does."""
    if isinstance(other, np.ndarray):
        from ._creation import tensor
        return tensor(other, device=like.device)
    return other


def _methods(namespace):
    """The methods a class body defined (its own dunders included)."""
    return {k: v for k, v in vars(namespace).items() if k not in ("__module__", "__qualname__", "__doc__",
                                                                 "__dict__", "__weakref__", "__hash__")}


METHODS = _methods(TensorMath)
