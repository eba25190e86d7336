"""Tensor's operators and math methods (arithmetic, comparisons, reductions, products,
shapes and views, dtype and device casts): thin calls into the ops modules.  They are
written as a class body (so ``float``, ``type``, ``sum``... inside them still mean the
builtins) and attached to ``Tensor`` by ``tinytape._methods``."""
import numpy as np

from . import _dtype
from ._tensor import Tensor, _sizes, type_name
from .ops import elementwise as _ew
from .ops import indexing as _ix
from .ops import linalg as _la
from .ops import reduction as _red
from .ops import shape as _sh


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
            out = _ew.to_dtype(out, _dtype.as_dtype(dtype))
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
    def __add__(self, other):
        return _ew.add(self, other)

    def __radd__(self, other):
        return _ew.add(_from_numpy_operand(other, self), self)

    def __sub__(self, other):
        return _ew.sub(self, other)

    def __rsub__(self, other):
        return _ew.sub(_from_numpy_operand(other, self), self)

    def __mul__(self, other):
        return _ew.mul(self, other)

    def __rmul__(self, other):
        return _ew.mul(_from_numpy_operand(other, self), self)

    def __truediv__(self, other):
        return _ew.div(self, other)

    def __rtruediv__(self, other):
        return _ew.div(_from_numpy_operand(other, self), self)

    def __pow__(self, other):
        return _ew.pow(self, other)

    def __rpow__(self, other):
        return _ew.pow(_from_numpy_operand(other, self), self)

    def __matmul__(self, other):
        return _la.matmul(self, other)

    def __rmatmul__(self, other):
        return _la.matmul(_from_numpy_operand(other, self), self)

    def __neg__(self):
        return _ew.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ew.abs(self)

    def __eq__(self, other):
        return _ew.eq(self, other)

    def __ne__(self, other):
        return _ew.ne(self, other)

    def __lt__(self, other):
        return _ew.lt(self, other)

    def __le__(self, other):
        return _ew.le(self, other)

    def __gt__(self, other):
        return _ew.gt(self, other)

    def __ge__(self, other):
        return _ew.ge(self, other)

    def add(self, other, alpha=1):
        return _ew.add(self, other, alpha=alpha)

    def sub(self, other, alpha=1):
        return _ew.sub(self, other, alpha=alpha)

    def mul(self, other):
        return _ew.mul(self, other)

    def div(self, other):
        return _ew.div(self, other)

    def pow(self, exponent):
        return _ew.pow(self, exponent)

    def neg(self):
        return _ew.neg(self)

    def exp(self):
        return _ew.exp(self)

    def log(self):
        return _ew.log(self)

    def sqrt(self):
        return _ew.sqrt(self)

    def abs(self):
        return _ew.abs(self)

    def sign(self):
        return _ew.sign(self)

    def sin(self):
        return _ew.sin(self)

    def cos(self):
        return _ew.cos(self)

    def tanh(self):
        return _ew.tanh(self)

    def sigmoid(self):
        return _ew.sigmoid(self)

    def relu(self):
        return _ew.relu(self)

    def clamp(self, min=None, max=None):
        return _ew.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _ew.maximum(self, other)

    def minimum(self, other):
        return _ew.minimum(self, other)

    def eq(self, other):
        return _ew.eq(self, other)

    def ne(self, other):
        return _ew.ne(self, other)

    def lt(self, other):
        return _ew.lt(self, other)

    def le(self, other):
        return _ew.le(self, other)

    def gt(self, other):
        return _ew.gt(self, other)

    def ge(self, other):
        return _ew.ge(self, other)

    def sum(self, *args, **kwargs):
        return _red.sum(self, *args, **kwargs)

    def mean(self, *args, **kwargs):
        return _red.mean(self, *args, **kwargs)

    def norm(self, *args, **kwargs):
        return _red.norm(self, *args, **kwargs)

    def max(self, *args, **kwargs):
        return _red.max(self, *args, **kwargs)

    def min(self, *args, **kwargs):
        return _red.min(self, *args, **kwargs)

    def all(self, *args, **kwargs):
        return _red.all(self, *args, **kwargs)

    def any(self, *args, **kwargs):
        return _red.any(self, *args, **kwargs)

    def argmax(self, *args, **kwargs):
        return _red.argmax(self, *args, **kwargs)

    def argmin(self, *args, **kwargs):
        return _red.argmin(self, *args, **kwargs)

    def mm(self, other):
        return _la.mm(self, other)

    def matmul(self, other):
        return _la.matmul(self, other)

    def dot(self, other):
        return _la.dot(self, other)

    def mv(self, vec):
        return _la.mv(self, vec)

    def t(self):
        return _sh.t(self)

    @property
    def T(self):
        return _sh.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return _sh.transpose(self, -2, -1)

    def transpose(self, dim0, dim1):
        return _sh.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return _sh.permute(self, _sizes(dims))

    def reshape(self, *shape):
        return _sh.reshape(self, _sizes(shape))

    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (_dtype.dtype, type)):
            raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
        return _sh.view(self, _sizes(shape))

    def view_as(self, other):
        return _sh.view(self, other.shape)

    def reshape_as(self, other):
        return _sh.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _sh.flatten(self, start_dim, end_dim)

    def unsqueeze(self, dim):
        return _sh.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return _sh.squeeze(self, dim)

    def expand(self, *sizes):
        return _sh.expand(self, _sizes(sizes))

    def expand_as(self, other):
        return _sh.expand(self, other.shape)

    def contiguous(self):
        return _sh.contiguous(self)

    def is_contiguous(self):
        return bool(self._data.flags.c_contiguous)

    def clone(self):
        return _sh.clone(self)

    def __getitem__(self, index):
        return _ix.getitem(self, index)

    def __setitem__(self, index, value):
        _ix.setitem(self, index, value)


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
