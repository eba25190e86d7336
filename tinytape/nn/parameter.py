"""``Parameter``: a tensor that a ``Module`` registers as one of its parameters."""
from .._creation import empty
from .._tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor (``requires_grad=True`` by default) sharing ``data``'s storage.

    Assigning one to a module attribute registers it (``Module.parameters()`` finds it).
    Everything a ``Tensor`` does, a ``Parameter`` does; results of ops on it are plain
    tensors, as in PyTorch.
    """

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): expected a Tensor as data, got {type(data).__name__}")
        param = data.detach()  # same storage and version counter, no history
        param.__class__ = cls  # the same slots: the object becomes a Parameter in place
        param.requires_grad_(requires_grad)
        return param

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        copied = Parameter(self.detach().clone(), self.requires_grad)
        memo[id(self)] = copied
        return copied

    def __reduce__(self):
        return (Parameter, (self.detach(), self.requires_grad))

