"""``Parameter``: a tensor that a ``Module`` registers as one of its parameters; ``Buffer``: a
plain tensor marked for a ``Module`` to register as a buffer when assigned to an attribute."""
import weakref

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
        if requires_grad and not (data.dtype.is_floating_point or data.dtype.is_complex):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
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



_BUFFERS = {}  # id of a tensor Buffer() marked -> (weak reference, persistent): identity, never ==


def buffer_persistence(tensor):
    """``persistent`` of a tensor ``Buffer()`` marked; None for any other object."""
    entry = _BUFFERS.get(id(tensor))
    return entry[1] if entry is not None and entry[0]() is tensor else None


class _BufferMeta(type):
    def __instancecheck__(cls, instance):  # a marked plain tensor, as PyTorch's Buffer
        return buffer_persistence(instance) is not None


class Buffer(metaclass=_BufferMeta):
    """``nn.Buffer(data, persistent=True)``: ``data`` detached (its requires_grad kept), a plain
    tensor that a module's attribute assignment registers as a buffer."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = empty(0)
        buffer = data.detach().requires_grad_(data.requires_grad)
        key = id(buffer)
        _BUFFERS[key] = (weakref.ref(buffer, lambda _: _BUFFERS.pop(key, None)), persistent)
        return buffer
