"""Autocast's state and its two casting policies (PyTorch's CPU lists, in part): inside
``autocast``, the ops that gain from a lower precision (matrix products, linear layers,
convolutions) take their float32/float16/bfloat16 tensor arguments in the autocast dtype,
and the losses take theirs in float32; float64 tensors are left as they are.  Outside,
it costs each such op one attribute read."""
import threading

_local = threading.local()  # per thread, as PyTorch's: {device type: dtype} while enabled
state = _local  # the ops test ``state.__dict__`` before calling ``lower``/``float32``: off, no call


def active(device_type="cpu"):
    """The dtype autocast casts to for ``device_type`` on this thread, or None."""
    return _local.__dict__.get(device_type)


def _set(device_type, dtype):
    previous = _local.__dict__.get(device_type)
    if dtype is None:
        _local.__dict__.pop(device_type, None)
    else:
        _local.__dict__[device_type] = dtype
    return previous


def _cast(value, dtype):
    from ._tensor import Tensor
    if isinstance(value, Tensor) and value.dtype.is_floating_point and value.dtype.name != "float64" \
            and value.dtype is not dtype:
        return value.to(dtype)
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, dtype) for v in value)
    return value


def lower(*tensors):
    """``tensors`` as the ops that gain from a lower precision take them (matmul, linear,
    conv): in the autocast dtype while autocast is on, else as they are.  The ops call it
    first thing (a call, not a wrapper: a warning an op gives still names its caller)."""
    dtype = _local.__dict__.get("cpu") or _local.__dict__.get("cuda")
    return tensors if dtype is None else tuple(_cast(t, dtype) for t in tensors)


def float32(*tensors):
    """``tensors`` as the losses take them: in float32 while autocast is on."""
    if not _local.__dict__:
        return tensors
    from ._dtype import float32 as f32
    return tuple(_cast(t, f32) for t in tensors)
