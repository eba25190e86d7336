"""Tensor: an n-d array on a device, plus what autograd needs to differentiate it.

The data is a backend array (numpy on the CPU).  Views (basic indexing, ``view``,
``transpose``...) share it; so does ``detach()`` and ``.data``.  ``_version_counter`` is a
one-element list shared by a tensor and its views: in-place writes bump it, and the
tape uses it to refuse a backward through a saved tensor that changed since
(``_version`` reads it as an int, as PyTorch's; one that still takes the counter's old
``t._version[0] += 1``).
"""
import warnings
import weakref

import numpy as np

from . import _dtype
from ._counters import NumberVersion, next_hook_id  # noqa: F401  (the ops and modules import them from here)
from ._grad_mode import _state as _grad_state
from ._inference import InferenceCounter as _InferenceCounter
from . import _inference, _legacy, _mirror_views, _tensor_options
from .backend.cpu import cpu as _CPU

_new_tensor = object.__new__


class _VersionInt(int):
    """``Tensor._version``: the counter's value, an int; ``[0]`` reads and writes the counter
    itself, for code written when ``_version`` was the shared one-element list."""

    def __new__(cls, counter):
        value = super().__new__(cls, counter[0])
        value._counter = counter
        return value

    def __getitem__(self, i):
        return self._counter[i]

    def __setitem__(self, i, value):
        self._counter[i] = value

class Size(tuple):
    """A shape: a tuple that prints as ``tinytape.Size([2, 3])``."""
    __module__ = "tinytape"  # printed as PyTorch prints it: <class 'torch.Size'>

    def __repr__(self):
        return f"tinytape.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    # a slice, a concatenation with a tuple (either side) and a repetition stay shapes, as PyTorch's
    def __getitem__(self, i):
        item = tuple.__getitem__(self, i)
        return Size(item) if type(i) is slice else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            raise TypeError(f"can only concatenate tuple (not {type(other).__name__}) to tinytape.Size")
        return _checked_size(tuple.__add__(self, other))

    def __radd__(self, other):
        return _checked_size(tuple.__add__(other, self))

    def __mul__(self, n):
        return Size(tuple(self) * n)

    __rmul__ = __mul__


def _checked_size(items):
    for k, item in enumerate(items):
        if not hasattr(type(item), "__index__"):
            raise TypeError(f"tinytape.Size() takes an iterable of 'int' (item {k} is '{type(item).__name__}')")
    return Size(items)


def type_name(dtype):
    """Legacy type names (``tinytape.FloatTensor``) used in error messages."""
    names = {"float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor", "bool": "BoolTensor",
             "float16": "HalfTensor", "bfloat16": "BFloat16Tensor", "int32": "IntTensor", "int16": "ShortTensor",
             "int8": "CharTensor", "uint8": "ByteTensor", "complex64": "ComplexFloatTensor",
             "complex128": "ComplexDoubleTensor"}
    name = dtype.name if isinstance(dtype, _dtype.dtype) else _dtype.from_numpy_dtype(dtype).name
    return "tinytape." + names.get(name, f"UInt{name[4:]}Tensor")  # (uint16, uint32, uint64)


class _RemovableHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook
        self.id = next_hook_id()

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Tensor:
    __module__ = "tinytape"  # type(t) prints as <class 'tinytape.Tensor'>, PyTorch's <class 'torch.Tensor'>
    __slots__ = ("_data", "_backend", "_requires_grad", "_grad", "_grad_fn", "_output_nr",
                 "_version_counter", "_hooks", "_retains_grad", "_view", "_views", "__weakref__")
    # numpy's operators defer to ours: np.float64(2.) * t is a tensor on the tape
    __array_priority__ = 1000

    # ------------------------------------------------------------------ creation
    def __new__(cls, *args, **kwargs):
        """Legacy constructor: ``Tensor([1, 2])`` (float32 data), ``Tensor(2, 3)``
        (uninitialised float32 of that shape), ``Tensor()`` (empty)."""
        from ._legacy import legacy_new
        return legacy_new(args, kwargs)

    @staticmethod
    def _make(data, requires_grad=False, grad_fn=None, output_nr=0, version=None, backend=None):
        t = object.__new__(Tensor)
        t._data = data
        t._backend = backend if backend is not None else _CPU
        t._requires_grad = requires_grad
        t._grad = None
        t._grad_fn = grad_fn
        t._output_nr = output_nr
        t._version_counter = version if version is not None else [0]
        t._hooks = None
        t._retains_grad = False
        t._view = None  # (parent, replay) for a view: see ops.shape.view_base_and_ids
        t._views = None  # weak references to the views of this storage made in grad mode (ops.shape)
        return t

    def _new(self, data):
        """A fresh tensor (no history) on this tensor's device: ``_make``'s body, inline
        (every op's output comes here; a call less is 0.1 us of each)."""
        t = _new_tensor(Tensor)
        t._data = data
        t._backend = self._backend
        t._requires_grad = False
        t._grad = None
        t._grad_fn = None
        t._output_nr = 0
        t._version_counter = [0]
        t._hooks = None
        t._retains_grad = False
        t._view = None
        t._views = None
        return t

    def _alias(self):
        """A new tensor object sharing this one's data, version counter and history."""
        return Tensor._make(self._data, self._requires_grad, self._grad_fn, self._output_nr,
                            self._version_counter, self._backend)

    # ------------------------------------------------------------------ attributes
    @property
    def _base(self):
        """The tensor whose storage this view shares (the first one of a chain of views); None
        for a tensor that is not a view."""
        if self._view is None:
            return None
        t = self
        while t._view is not None:
            t = t._view[0]
        return t

    def _is_view(self):
        return self._view is not None

    @property
    def _version(self):
        if self._version_counter.__class__ is _InferenceCounter:
            raise RuntimeError(_inference.VERSION_MESSAGE)
        return _VersionInt(self._version_counter)

    def is_inference(self):
        """Whether this tensor was made inside ``inference_mode()`` (or is a view of one that was)."""
        return self._version_counter.__class__ is _InferenceCounter

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    def dim(self):
        return self._data.ndim

    ndimension = dim  # PyTorch's older name

    @property
    def layout(self):
        return _dtype.strided

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    nelement = numel

    @property
    def dtype(self):
        # the table of held dtypes first: it answers without converting (half the time)
        return _dtype._BY_NUMPY.get(self._data.dtype) or _dtype.from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        return self._backend.device

    def is_pinned(self, device=None):
        return False  # tensors here never live in page-locked host memory
    pin_memory, new = _tensor_options.pin_memory, _legacy.tensor_new

    @property
    def is_cuda(self):
        return self._backend.device.type == "cuda"

    @property
    def is_meta(self):
        return self._backend.device.type == "meta"

    def element_size(self):
        return self._data.itemsize

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if value and not (self.dtype.is_floating_point or self.dtype.is_complex):  # the setter's own words
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        if self._grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if requires_grad and not (self.dtype.is_floating_point or self.dtype.is_complex):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if requires_grad and self._version_counter.__class__ is _InferenceCounter and not _inference._state.enabled:
            raise RuntimeError(_inference.REQUIRES_GRAD_MESSAGE)
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
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
                "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
                "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor "
                "by mistake, make sure you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 "
                "for more information.", UserWarning, stacklevel=2)
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
        out = Tensor._make(self._data, backend=self._backend)
        return _mirror_views.keep_bits(self, out) if _mirror_views.MIRRORED else out

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data
        self._backend = value._backend

    @property
    def output_nr(self):
        return self._output_nr

    # ------------------------------------------------------------------ autograd
    # ``backward`` is autograd's, attached by that layer (``_methods.attach_all``): this one imports none of it

    def detach(self):  # (a conjugate/negative view's alias keeps its bit)
        out = Tensor._make(self._data, version=self._version_counter, backend=self._backend)
        return _mirror_views.keep_bits(self, out) if _mirror_views.MIRRORED else out

    @property
    def retains_grad(self):
        """Whether ``retain_grad()`` was called on this non-leaf (a leaf: False)."""
        return bool(self._retains_grad) and self._grad_fn is not None

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
        if self._backend.device.type == "meta":
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        return self._backend.to_numpy(self._data).reshape(-1)[0].item()

    def tolist(self):
        return self._backend.to_numpy(self._data).tolist()

    def numpy(self, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self._backend.device.type != "cpu" and not force:
            raise TypeError(f"can't convert {self._backend.device} device type tensor to numpy. "
                            "Use Tensor.cpu() to copy the tensor to host memory first.")
        if self._data.dtype is _dtype.BFLOAT16:  # numpy has no bfloat16 of its own, as PyTorch says
            raise TypeError("Got unsupported ScalarType BFloat16")
        if _mirror_views.MIRRORED and not force:
            _mirror_views.refuse_numpy(self)
        return self._backend.to_numpy(self._data)

    def __array__(self, dtype=None, copy=None):
        if _mirror_views.MIRRORED:
            _mirror_views.refuse_numpy(self)
        arr = self._backend.to_numpy(self._data)
        return arr.astype(dtype) if dtype is not None else arr

    def _scalar(self, kind):
        if self._data.size != 1:
            raise ValueError(f"only one element tensors can be converted to Python scalars "
                             f"({kind}() of a tensor of shape {list(self.shape)})")
        return self.item()

    def __float__(self):
        global _warned_scalar_grad
        if self._requires_grad and not _warned_scalar_grad and _grad_state.enabled:
            _warned_scalar_grad = True  # once a process, as PyTorch's TORCH_WARN_ONCE
            warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
                          "behavior.\nConsider using tensor.detach() first.", UserWarning, stacklevel=2)
        return float(_dtype.real_value(self._scalar("float"), "double"))

    def __int__(self):
        value = int(_dtype.real_value(self._scalar("int"), "int64_t"))
        if value >= 1 << 63:  # a uint64 beyond int64: PyTorch's checked conversion refuses it
            raise RuntimeError("value cannot be converted to type int64_t without overflow")
        return value

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
        return (_rebuild, (self._backend.to_numpy(self._data), self._requires_grad))

_warned_scalar_grad = False  # float() of a tensor that requires grad warns once, as in PyTorch


def _rebuild(data, requires_grad):
    return Tensor._make(_dtype.own_dtype(np.array(data)), requires_grad=requires_grad)


def _sizes(args):
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(args) == 1 and isinstance(args[0], (tuple, list, Size)):
        return tuple(args[0])
    return tuple(args)


def _wrap_dim(dim, ndim, op):
    dim = dim if type(dim) is int else _tensor_options.dim_index(dim, op)  # (a tuple, a numpy int, ...)
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n
