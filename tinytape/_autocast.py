"""Autocast's state and its two casting policies (PyTorch's CPU lists, in part): inside
``autocast``, the ops that gain from a lower precision (matrix products, linear layers,
convolutions) take their float32/float16/bfloat16 tensor arguments in the autocast dtype,
and the losses take theirs in float32; float64 tensors are left as they are.  Outside,
each wrapped op costs one dictionary read."""
import functools
import threading

_local = threading.local()  # per thread, as PyTorch's: {device type: dtype} while enabled


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


def _policy(target):
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            dtype = _local.__dict__.get("cpu") or _local.__dict__.get("cuda")
            if dtype is None:
                return fn(*args, **kwargs)
            to = dtype if target is None else target()
            return fn(*(_cast(a, to) for a in args), **{k: _cast(v, to) for k, v in kwargs.items()})
        return wrapper
    return decorate


lower_precision = _policy(None)  # matmul, linear, conv: in the autocast dtype


def _float32():
    from ._dtype import float32
    return float32


in_float32 = _policy(_float32)  # losses: in float32
