"""``LazyLinear``: a ``Linear`` whose ``in_features`` is read from its first input.  Until
then its weight and bias are ``UninitializedParameter``s; the first call gives them their
shapes, initialises them as ``Linear`` does and turns the module into a ``Linear``."""
from .. import _dtype
from .._creation import empty
from .._grad_mode import no_grad
from .linear import Linear
from .parameter import Parameter


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
        return "<UninitializedParameter>"

    __str__ = __repr__


class LazyLinear(Linear):
    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def has_uninitialized_params(self):
        return any(isinstance(p, UninitializedParameter) for p in self.parameters())

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()

    def __call__(self, *args, **kwargs):
        if self.has_uninitialized_params():
            self.initialize_parameters(*args, **kwargs)
            self.__class__ = self.cls_to_become
        return Linear.__call__(self, *args, **kwargs)
