"""The signature of a compiled call: which program its arguments select."""
from .. import _autocast, _dtype
from .._mirror_views import _INFO, mirror_of
from .._grad_mode import is_grad_enabled
from .._inference import _state as _inference_state
from .._tensor import Tensor
from ..autograd import anomaly as _anomaly
from .guards import float_bits


def _signature(args, kwargs, tensors, constants=None):
    """Hashable description of the arguments; tensors are appended to ``tensors``.  A tensor is described by its class,
    layout (shape, dtype, strides), device and autograd state (hooks included); Python atoms by type and value
    (``2`` is not ``2.0``, ``0.0`` not ``-0.0``; numbers not in ``constants`` by type: ``scalars.py``); other objects
    by identity (their contents are guarded); an inference tensor (its version counter's class) or a conjugate or
    negative view is another signature.  The key ends with grad mode, the default dtype, autocast's and which tensor
    arguments share a storage, since a program traced with ``f(x, x)`` reads one buffer where ``f(x, y)`` needs two."""
    mode = modes()
    if not kwargs and all(type(a) is Tensor for a in args):  # the common case, inline
        tensors += args
        key = tuple([(a._data.shape, a._data.dtype, a._data.strides, a._backend, a._requires_grad,
                      a._grad is None or _grad_layout(a),
                      a._grad_fn.__class__, (tuple(map(id, a._hooks)) if a._hooks else None),
                      a._retains_grad, a._version_counter.__class__, _mirror(a) if _INFO else None) for a in args]) + mode
        return key + _sharing(tensors) if len(tensors) > 1 else key

    def sig(v):
        if isinstance(v, Tensor):
            tensors.append(v)
            d = v._data
            return (type(v), d.shape, d.dtype.str, d.strides, v._backend.device.type, v._requires_grad,
                    v._grad is None or _grad_layout(v), v._grad_fn.__class__,
                    (tuple(map(id, v._hooks)) if v._hooks else None), v._retains_grad,
                    v._version_counter.__class__, _mirror(v) if _INFO else None)
        if v is None or type(v) in (bool, int, str, bytes):
            return (type(v), v)
        if type(v) in (float, complex):
            return (type(v), float_bits(v))  # (-0.0 is not 0.0, nor -nan nan)
        if type(v) in (list, tuple):
            return (type(v),) + tuple(sig(x) for x in v)
        if type(v) is dict:  # in order: a program traced with {a, b} returns them in that order
            return (dict,) + tuple((sig(k), sig(x)) for k, x in v.items())
        return ("id", id(v), type(v))  # the object itself; its contents are guarded
    def arg(k, v):  # a number not in ``constants``: a program input, by type
        return ("in", type(v)) if constants is not None and type(v) in (int, float) and k not in constants else sig(v)
    key = tuple(arg(i, a) for i, a in enumerate(args)) + tuple((k, arg(k, v)) for k, v in kwargs.items()) + mode
    return key + _sharing(tensors) if len(tensors) > 1 else key


def modes():
    """Grad mode, the default dtype, anomaly detection, inference mode and autocast: the
    switches every op reads (a function that leaves one changed is refused: ``__init__``)."""
    autocast = _autocast._local.__dict__
    return (is_grad_enabled(), _dtype.default_float, _anomaly._state.enabled, _inference_state.enabled,
            autocast.get("cpu"), autocast.get("cuda"))


def _mirror(t):
    """A conjugate or negative view's kind ("conj", "neg"), or None: its values live in a
    buffer of its own that writes must keep in line with its source's memory."""
    info = mirror_of(t)
    return None if info is None else info[1]


def _grad_layout(t):
    """An argument's ``.grad`` layout: a program reads the gradient through the strides it
    was traced with (a sum's kernel walks them), so another layout is another signature."""
    g = t._grad._data
    return (g.shape, g.dtype.str, g.strides)


def _storage(t):
    """The array owning a tensor's memory (numpy views point at it; CUDA views hold it)."""
    d = t._data
    base = getattr(d, "base", None)
    if base is None:
        base = getattr(d, "buf", None)
    return d if base is None else base


def _sharing(tensors):
    """Per tensor argument, the first argument whose memory it shares (views of one array
    count as sharing, whether or not they overlap), and where in that memory it starts."""
    owners = [_storage(t) for t in tensors]
    firsts = tuple(next(j for j in range(i + 1) if owners[j] is o) for i, o in enumerate(owners))
    if firsts == tuple(range(len(firsts))):
        return firsts
    return firsts + tuple(_offset(t._data, o) for t, o in zip(tensors, owners))


def _offset(arr, owner):
    try:
        return arr.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    except AttributeError:  # a device array
        return getattr(arr, "offset", None)
