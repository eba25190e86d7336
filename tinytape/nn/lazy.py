"""Lazy modules: ``LazyLinear``, ``LazyConv1d``/``2d``/``3d``, ``LazyConvTranspose1d``/``2d``/``3d`` and
``LazyBatchNorm1d``/``2d``/``3d``, ``LazyInstanceNorm1d``/``2d``/``3d`` read their input size (``in_features``, ``in_channels``,
``num_features``) from their first input.  Until then their parameters are
``UninitializedParameter``s (and the batch norms' running statistics
``UninitializedBuffer``s); the first call gives them their shapes, initialises them as the
eager module does and turns the module into that module (``Linear``, ``Conv2d``, ...), as
PyTorch's ``LazyModuleMixin`` does."""
from .. import _dtype
from .._creation import empty
from .._grad_mode import no_grad
from .._tensor import Tensor
from .conv import Conv1d, Conv2d
from .conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .normalization import BatchNorm1d, BatchNorm2d
from .norms_pools import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .parameter import Parameter
from .volumetric import BatchNorm3d, Conv3d


_NO_SHAPE = ("Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
             "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call "
             "`forward` to initialize the parameters before accessing their attributes.")


def _no_shape(self):
    raise RuntimeError(_NO_SHAPE)


class UninitializedParameter(Parameter):
    """A parameter without a shape yet; ``materialize(shape)`` gives it one (in place: the
    same object becomes a ``Parameter``)."""

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        dtype = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
        param = Parameter.__new__(cls, empty(0, dtype=dtype, device=device), requires_grad)
        param.__class__ = cls
        return param

    def materialize(self, shape, device=None, dtype=None):
        with no_grad():
            self.data = empty(*shape, dtype=dtype or self.dtype, device=device or self.device)
        self.__class__ = self.cls_to_become

    def __repr__(self):
        return f"<{type(self).__name__}>"

    def __deepcopy__(self, memo):  # still uninitialised: a copied lazy module sizes its own
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self.device, self.dtype)
        return memo[id(self)]

    shape = property(_no_shape)  # PyTorch's refusal: it has none yet

    __str__ = __repr__


class UninitializedBuffer(Tensor):
    """A buffer without a shape yet; ``materialize(shape)`` makes it a plain tensor."""

    __slots__ = ()

    def __new__(cls, requires_grad=False, device=None, dtype=None):
        dtype = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
        buffer = empty(0, dtype=dtype, device=device)
        buffer.__class__ = cls
        return buffer

    def materialize(self, shape, device=None, dtype=None):
        with no_grad():
            self.data = empty(*shape, dtype=dtype or self.dtype, device=device or self.device)
        self.__class__ = Tensor

    __repr__ = __str__ = UninitializedParameter.__repr__
    shape = property(_no_shape)

    def __deepcopy__(self, memo):  # PyTorch's buffer has no copy of its own: its refusal
        raise ValueError(
            "Attempted to use an uninitialized parameter in <function Tensor.__deepcopy__>. This error happens "
            "when you are using a `LazyModule` or explicitly manipulating `torch.nn.parameter.UninitializedBuffer` "
            "objects. When using LazyModules Call `forward` with a dummy batch to initialize the parameters before "
            "calling torch functions")


_UNINITIALIZED = (UninitializedParameter, UninitializedBuffer)


class _LazyModule:
    """What every lazy module shares: ``initialize_parameters(input)`` sizes the
    uninitialised tensors from the first input, then the module becomes ``cls_to_become``."""

    cls_to_become = None

    def has_uninitialized_params(self):
        return any(isinstance(t, _UNINITIALIZED)
                   for t in list(self._parameters.values()) + list(self._buffers.values()))

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self._input_size() != 0:
            self.cls_to_become.reset_parameters(self)

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            with no_grad():
                size = self._size_from(input)
                self._set_input_size(size)
                for name, shape in self._shapes(size).items():
                    tensor = getattr(self, name)
                    if isinstance(tensor, _UNINITIALIZED):
                        tensor.materialize(shape)
                self.reset_parameters()

    def __call__(self, *args, **kwargs):
        if self.has_uninitialized_params():
            self.initialize_parameters(*args, **kwargs)
        if not self.has_uninitialized_params() and type(self).cls_to_become is not None:
            self.__class__ = type(self).cls_to_become
        return self.__class__.__call__(self, *args, **kwargs)


class LazyLinear(_LazyModule, Linear):
    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def _input_size(self):
        return self.in_features

    def _size_from(self, input):
        return input.shape[-1]

    def _set_input_size(self, size):
        self.in_features = size

    def _shapes(self, size):
        return {"weight": (self.out_features, size), "bias": (self.out_features,)}


class _LazyConvNd(_LazyModule):
    def __init__(self, out_channels, kernel_size, *args, bias=True, device=None, dtype=None, **kwargs):
        super().__init__(0, 0, kernel_size, *args, bias=False, device=device, dtype=dtype, **kwargs)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def _input_size(self):
        return self.in_channels

    def _size_from(self, input):
        return input.shape[1] if input.dim() == self._spatial + 2 else input.shape[0]

    def _set_input_size(self, size):
        self.in_channels = size
        if size % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")

    def _shapes(self, size):
        if self.transposed:
            weight = (size, self.out_channels // self.groups, *self.kernel_size)
        else:
            weight = (self.out_channels, size // self.groups, *self.kernel_size)
        return {"weight": weight, "bias": (self.out_channels,)}


class LazyConv1d(_LazyConvNd, Conv1d):
    cls_to_become = Conv1d


class LazyConv2d(_LazyConvNd, Conv2d):
    cls_to_become = Conv2d


class LazyConvTranspose1d(_LazyConvNd, ConvTranspose1d):
    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvNd, ConvTranspose2d):
    cls_to_become = ConvTranspose2d


class LazyConv3d(_LazyConvNd, Conv3d):
    cls_to_become = Conv3d


class LazyConvTranspose3d(_LazyConvNd, ConvTranspose3d):
    cls_to_become = ConvTranspose3d


class _LazyBatchNorm(_LazyModule):
    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None):
        super().__init__(0, eps, momentum, False, False, device=device, dtype=dtype)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = empty((), dtype=_dtype.int64, device=device).fill_(0)

    def _input_size(self):
        return self.num_features

    def _size_from(self, input):
        return input.shape[1]

    def _set_input_size(self, size):
        self.num_features = size

    def _shapes(self, size):
        return dict.fromkeys(("weight", "bias", "running_mean", "running_var"), (size,))


class LazyBatchNorm1d(_LazyBatchNorm, BatchNorm1d):
    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm, BatchNorm2d):
    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyBatchNorm, BatchNorm3d):
    cls_to_become = BatchNorm3d


class _LazyInstanceNorm(_LazyBatchNorm):  # affine, with running statistics, as the lazy batch norms
    pass


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    cls_to_become = InstanceNorm3d
