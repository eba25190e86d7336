"""Tensor: an n-d array on a device, plus what autograd needs to differentiate it.

The data is a backend array (numpy on the CPU).  Views (basic indexing, ``view``,
``transpose``...) share it; so does ``detach()`` and ``.data``.  ``_version`` is a
one-element list shared by a tensor and its views: in-place writes bump it, and the
tape uses it to refuse a backward through a saved tensor that changed since.
"""
import numbers
import warnings
import weakref

import numpy as np

from . import _dtype
from ._grad_mode import _state

_CPU = None  # the CPU backend, bound at the bottom of this module


class Size(tuple):
    """A shape: a tuple that prints as ``tinytape.Size([2, 3])``."""

    def __repr__(self):
        return f"tinytape.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


def type_name(dtype):
    """Legacy type names (``tinytape.FloatTensor``) used in error messages."""
    names = {"float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor", "bool": "BoolTensor"}
    name = dtype.name if isinstance(dtype, _dtype.dtype) else _dtype.from_numpy_dtype(dtype).name
    return "tinytape." + names[name]


class _RemovableHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Tensor:
    __slots__ = ("_data", "_be", "_requires_grad", "_grad", "_grad_fn", "_output_nr",
                 "_version", "_hooks", "_retains_grad", "_view", "__weakref__")
    # numpy's operators defer to ours: np.float64(2.) * t is a tensor on the tape
    __array_priority__ = 1000

    # ------------------------------------------------------------------ creation
    def __new__(cls, *args, **kwargs):
        """Legacy constructor: ``Tensor([1, 2])`` (float32 data), ``Tensor(2, 3)``
        (uninitialised float32 of that shape), ``Tensor()`` (empty)."""
        device = kwargs.pop("device", None)
        if kwargs:
            raise TypeError(f"Tensor(): unexpected keyword arguments {sorted(kwargs)}")
        from ._creation import empty, tensor
        if len(args) == 1 and not isinstance(args[0], numbers.Integral):
            data = args[0]
            if isinstance(data, Tensor):
                return data.detach()
            return tensor(data, dtype=_dtype.float32, device=device)
        if not all(isinstance(a, numbers.Integral) for a in args):
            raise TypeError(f"Tensor(): expected data or integer sizes, got {args!r}")
        return empty(*args, dtype=_dtype.float32, device=device) if args else empty(0, device=device)

    @staticmethod
    def _make(data, requires_grad=False, grad_fn=None, output_nr=0, version=None, be=None):
        t = object.__new__(Tensor)
        t._data = data
        t._be = be if be is not None else _CPU
        t._requires_grad = requires_grad
        t._grad = None
        t._grad_fn = grad_fn
        t._output_nr = output_nr
        t._version = version if version is not None else [0]
        t._hooks = None
        t._retains_grad = False
        t._view = None  # (parent, replay) for a view: see ops.shape.view_base_and_ids
        return t

    def _new(self, data):
        """A fresh tensor (no history) on this tensor's device."""
        return Tensor._make(data, be=self._be)

    def _alias(self):
        """A new tensor object sharing this one's data, version counter and history."""
        return Tensor._make(self._data, self._requires_grad, self._grad_fn, self._output_nr,
                            self._version, self._be)

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    def dim(self):
        return self._data.ndim

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    nelement = numel

    @property
    def dtype(self):
        return _dtype.from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        return self._be.device

    @property
    def is_cuda(self):
        return self._be.device.type == "cuda"

    def element_size(self):
        return self._data.itemsize

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        if self._grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients (got {self.dtype})")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed want "
                "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the "
                "non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you access "
                "the leaf Tensor instead.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
            if value.shape != self.shape or value.dtype is not self.dtype:
                raise RuntimeError(
                    f"assigned grad has data of a different size or type: expected {list(self.shape)} "
                    f"{self.dtype}, got {list(value.shape)} {value.dtype}")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def data(self):
        """This tensor's data as a tensor outside autograd: same storage, its own version
        counter, so writes through it are not seen by the tape (as PyTorch's ``.data``)."""
        return Tensor._make(self._data, be=self._be)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data
        self._be = value._be

    @property
    def output_nr(self):
        return self._output_nr

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        return Tensor._make(self._data, version=self._version, be=self._be)

    def detach_(self):
        self._grad_fn, self._requires_grad, self._output_nr = None, False, 0
        return self

    def retain_grad(self):
        """Keep this non-leaf's gradient in ``.grad`` at backward (after its hooks ran)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        node = self._grad_fn
        if node._retained is None:
            node._retained = {}
        node._retained[self._output_nr] = weakref.ref(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient.  Returns a handle with ``remove()``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        return self._add_hook(hook)

    def _add_hook(self, hook):
        if self._grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self._grad_fn
            if node._hooks is None:
                node._hooks = {}
            hooks = node._hooks.setdefault(self._output_nr, [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    # ------------------------------------------------------------------ conversion
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._be.to_numpy(self._data).reshape(-1)[0].item()

    def tolist(self):
        return self._be.to_numpy(self._data).tolist()

    def numpy(self, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self._be.device.type != "cpu" and not force:
            raise TypeError(f"can't convert {self._be.device} device type tensor to numpy. "
                            "Use Tensor.cpu() to copy the tensor to host memory first.")
        return self._be.to_numpy(self._data)

    def __array__(self, dtype=None, copy=None):
        arr = self._be.to_numpy(self._data)
        return arr.astype(dtype) if dtype is not None else arr

    def _scalar(self, kind):
        if self._data.size != 1:
            raise ValueError(f"only one element tensors can be converted to Python scalars "
                             f"({kind}() of a tensor of shape {list(self.shape)})")
        return self.item()

    def __float__(self):
        return float(self._scalar("float"))

    def __int__(self):
        return int(self._scalar("int"))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {list(self.shape)}); use .any() or .all()")
        return bool(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self):
        return id(self)

    def __repr__(self):
        from ._printing import tensor_repr
        return tensor_repr(self)

    __str__ = __repr__

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec) if spec else repr(self)

    def __reduce__(self):
        return (_rebuild, (self._be.to_numpy(self._data), self._requires_grad))

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

    # ------------------------------------------------------------------ in place
    def _check_inplace(self, op, view=False):
        flags = getattr(self._data, "flags", None)
        if flags is not None and not flags.writeable:
            raise RuntimeError(f"{op}: the tensor's memory is read-only (it shares a non-writable numpy "
                               f"array, shape {list(self.shape)}); make a writable copy first (.clone())")
        if self._grad_fn is None and self._requires_grad and _state.enabled:
            raise RuntimeError(
                f"a {'view of a ' if view else ''}leaf Variable that requires grad is being used in an "
                f"in-place operation ({op}, shape {list(self.shape)}). Update it under "
                "`with tinytape.no_grad():` or through `.data`.")

    def _inplace(self, op_name, fn, *args):
        """Run ``fn(self, *args)`` and write the result into this tensor's storage.

        Untracked (no grad mode, or nothing requires grad): the result is computed and
        copied in.  Tracked: ``fn`` runs on a snapshot of the old value, so entries that
        saved it keep a valid copy, and this tensor takes the new entry as its history.
        Through a view, the write is also recorded on the view's base (as PyTorch's
        CopySlices), and the view's history is re-derived from the base's new one.
        """
        self._check_inplace(op_name)
        tracked = _state.enabled and (self._requires_grad or any(
            isinstance(a, Tensor) and a._requires_grad for a in args))
        base = ids = None
        if tracked and self._view is not None:
            base, ids = _sh.view_base_and_ids(self)
            base._check_inplace(op_name, view=True)
        source = self
        if tracked:
            source = Tensor._make(self._data.copy(), self._requires_grad, self._grad_fn,
                                  self._output_nr, None, self._be)
        result = fn(source, *args)
        if result.shape != self.shape:
            raise RuntimeError(
                f"{op_name}: output with shape {list(self.shape)} doesn't match the broadcast "
                f"shape {list(result.shape)}")
        if base is not None:  # recorded (it copies the old base) before the storage changes
            new_base = _ix.CopySlices.apply(base._alias(), ids, result)
        self._be.copy_into(self._data, result._data)
        self._version[0] += 1
        if base is not None:
            base._grad_fn, base._output_nr, base._requires_grad = new_base._grad_fn, 0, True
            result = _sh.take_flat(base, ids)  # the view's history, re-derived from its base
        if tracked:
            self._grad_fn, self._output_nr, self._requires_grad = result._grad_fn, result._output_nr, True
        return self

    def _add_into(self, other):
        """``self += other`` on raw storage: the gradient-accumulation fast path."""
        self._be.binary(_ADD, self._data, other._data.astype(self._data.dtype, copy=False), out=self._data)
        self._version[0] += 1

    def _inplace_binary(self, op_name, code, fn, other, *extra):
        """In-place arithmetic.  Untracked, it runs the kernel straight into this
        tensor's storage (the optimizer-update path); tracked, through ``_inplace``."""
        other_t = isinstance(other, Tensor)
        if not self._data.flags.writeable if self._be is _CPU else False:
            self._check_inplace(op_name)
        if not _state.enabled or not (self._requires_grad or (other_t and other._requires_grad)):
            if extra and extra[0] != 1:
                other = other * extra[0]  # alpha
            data = other._data if other_t else self._be.scalar(other, self._data.dtype)
            if ((not other_t or (other.dtype is self.dtype and other._be is self._be
                                 and not self._be.may_alias(self._data, data)))
                    and (self.dtype.is_floating_point or not isinstance(other, float))
                    and _broadcasts_to(data.shape, self._data.shape)):
                self._be.binary(code, self._data, data, out=self._data)
                self._version[0] += 1
                return self
            return self._inplace(op_name, fn, other)
        return self._inplace(op_name, fn, other, *extra)

    def add_(self, other, alpha=1):
        return self._inplace_binary("add_", _ADD, _ew.add, other, alpha)

    def sub_(self, other, alpha=1):
        return self._inplace_binary("sub_", _SUB, _ew.sub, other, alpha)

    def mul_(self, other):
        return self._inplace_binary("mul_", _MUL, _ew.mul, other)

    def div_(self, other):
        if not self.dtype.is_floating_point:
            return self._inplace("div_", _ew.div, other)  # refused: true division gives floats
        return self._inplace_binary("div_", _DIV, _ew.div, other)

    def pow_(self, exponent):
        return self._inplace("pow_", _ew.pow, exponent)

    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", _ew.clamp, min, max)

    def relu_(self):
        return self._inplace("relu_", _ew.relu)

    def exp_(self):
        return self._inplace("exp_", _ew.exp)

    def neg_(self):
        return self._inplace("neg_", _ew.neg)

    def zero_(self):
        return self._inplace("zero_", _ix.fill, 0)

    def fill_(self, value):
        return self._inplace("fill_", _ix.fill, value)

    def copy_(self, src):
        return self._inplace("copy_", _ix.fill, src)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)


def _from_numpy_operand(other, like):
    """A numpy array on the left of an operator becomes a tensor on ``like``'s device
    (numpy defers to us: ``__array_priority__``), as PyTorch does."""
    if isinstance(other, np.ndarray):
        from ._creation import tensor
        return tensor(other, device=like.device)
    return other


def _rebuild(data, requires_grad):
    return Tensor._make(np.array(data), requires_grad=requires_grad)


def _sizes(args):
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(args) == 1 and isinstance(args[0], (tuple, list, Size)):
        return tuple(args[0])
    return tuple(args)


def _broadcasts_to(shape, target):
    """Whether ``shape`` broadcasts to exactly ``target``."""
    if len(shape) > len(target):
        return False
    return all(s == 1 or s == t for s, t in zip(shape[::-1], target[::-1]))


def _wrap_dim(dim, ndim, op):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


from .backend.cpu import cpu as _CPU  # noqa: E402
from .backend.opcodes import ADD as _ADD, DIV as _DIV, MUL as _MUL, SUB as _SUB  # noqa: E402
from .ops import elementwise as _ew  # noqa: E402
from .ops import linalg as _la  # noqa: E402
from .ops import reduction as _red  # noqa: E402
from .ops import shape as _sh  # noqa: E402
from .ops import indexing as _ix  # noqa: E402
from .ops.composite import TENSOR_METHODS as _COMPOSITE_METHODS  # noqa: E402

for _name, _method in _COMPOSITE_METHODS.items():
    if not hasattr(Tensor, _name):  # a method the class defines itself takes precedence
        setattr(Tensor, _name, _method)
