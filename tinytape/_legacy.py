"""The pre-0.4 (2018) API that old notebooks use: ``FloatTensor(2, 3)``,
``t.type(tinytape.FloatTensor)``, ``tinytape.cuda.FloatTensor``."""
from . import _dtype


class _LegacyTensorType(type):
    """``FloatTensor`` and friends: call one to make a tensor of its dtype; pass one to
    ``Tensor.type``; ``isinstance(t, FloatTensor)`` checks dtype and device."""

    def __call__(cls, *args):
        _require_device(cls)
        # data goes straight to the type's dtype: through float32 first, LongTensor([2**24 + 1])
        # and DoubleTensor([0.1]) would lose digits, and ByteTensor([300]) would wrap
        t = legacy_new(args, {}, cls.dtype, typed=True)
        return t if t.dtype is cls.dtype else t.to(cls.dtype)

    def __instancecheck__(cls, obj):
        from ._tensor import Tensor
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.device.type == cls.device_type

    def __repr__(cls):
        return f"<class '{cls.type_name}'>"


def _legacy(name, dtype, device_type):
    prefix = "tinytape.cuda." if device_type == "cuda" else "tinytape."
    return _LegacyTensorType(name, (), {"dtype": dtype, "device_type": device_type, "type_name": prefix + name})


FloatTensor = _legacy("FloatTensor", _dtype.float32, "cpu")
DoubleTensor = _legacy("DoubleTensor", _dtype.float64, "cpu")
LongTensor = _legacy("LongTensor", _dtype.int64, "cpu")
BoolTensor = _legacy("BoolTensor", _dtype.bool_, "cpu")
BFloat16Tensor = _legacy("BFloat16Tensor", _dtype.bfloat16, "cpu")
IntTensor = _legacy("IntTensor", _dtype.int32, "cpu")
ShortTensor = _legacy("ShortTensor", _dtype.int16, "cpu")
CharTensor = _legacy("CharTensor", _dtype.int8, "cpu")
ByteTensor = _legacy("ByteTensor", _dtype.uint8, "cpu")
HalfTensor = _legacy("HalfTensor", _dtype.float16, "cpu")
_CPU_TYPES = (FloatTensor, DoubleTensor, LongTensor, BoolTensor, BFloat16Tensor, IntTensor, ShortTensor, CharTensor,
              ByteTensor, HalfTensor)
CUDA_TYPES = {t.__name__: _legacy(t.__name__, t.dtype, "cuda") for t in _CPU_TYPES}
_BY_NAME = {t.type_name: t for t in (*_CPU_TYPES, *CUDA_TYPES.values())}


def _require_device(cls):
    if cls.device_type == "cuda":
        from .backend import for_device
        try:
            for_device(_dtype.device("cuda"))
        except RuntimeError as e:
            raise RuntimeError(f"{cls.type_name}: {e}") from None


def convert_type(t, target):
    """``t.type(target)``: a legacy type (or its name, ``'torch.FloatTensor'`` too) or a dtype."""
    if isinstance(target, str):
        name = target.replace("torch.", "tinytape.", 1)
        if name not in _BY_NAME:
            raise ValueError(f"type(): invalid type: '{target}'")
        target = _BY_NAME[name]
    if isinstance(target, _LegacyTensorType):
        _require_device(target)
        return t.to(device=target.device_type, dtype=target.dtype)
    return t.to(_dtype.as_dtype(target))
# the C++ names PyTorch's TensorOptions print for each dtype
_CPP_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int", "int16": "short int",
              "int8": "signed char", "uint8": "unsigned char", "bool": "bool", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _options(dtype, device):
    """A tensor's options as PyTorch prints them in a legacy constructor's refusal."""
    where = device.type if device.index is None else f"{device.type}:{device.index}"
    return (f"TensorOptions(dtype={_CPP_NAMES.get(dtype.name, dtype.name)}, device={where}, layout=Strided, "
            "requires_grad=false (default), pinned_memory=false (default), memory_format=(nullopt))")


def _legacy_new_mismatch(args, kwargs):
    """PyTorch's words for ``Tensor(...)`` called with keywords it does not take."""
    def label(v):
        kind = type(v)
        return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
    got = ", ".join([label(a) for a in args] + [f"{k}={label(v)}" for k, v in kwargs.items()])
    return (f"new() received an invalid combination of arguments - got ({got}), but expected one of:\n"
            " * (*, torch.device device = None)\n"
            f"      didn't match because some of the keywords were incorrect: {', '.join(kwargs)}\n"
            " * (torch.Storage storage)\n * (Tensor other)\n * (tuple of ints size, *, torch.device device = None)\n"
            " * (object data, *, torch.device device = None)\n")


def legacy_new(args, kwargs, dtype=_dtype.float32, typed=False):
    """``Tensor(...)``: ``Tensor([1, 2])`` (float32 data), ``Tensor(2, 3)`` (uninitialised
    float32 of that shape), ``Tensor()`` (empty), ``Tensor(t)`` (an alias of ``t``, whatever its
    dtype); what PyTorch's ``new()`` refuses, refused.  ``dtype``: the legacy type's
    (``LongTensor([1, 2])``), ``typed``: called as that type (whose alias must be of its dtype)."""
    import numbers
    from ._creation import empty, tensor
    from ._tensor import Tensor
    device = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(_legacy_new_mismatch(args, kwargs))
    if len(args) == 1 and not isinstance(args[0], numbers.Integral):
        data = args[0]
        if isinstance(data, Tensor):
            if typed and data.dtype is not dtype:
                raise TypeError(f"expected {_options(dtype, data.device)} (got {_options(data.dtype, data.device)})")
            return data[...]  # (PyTorch's alias: a view that keeps the history, AliasBackward0)
        if isinstance(data, str):
            raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
        if not hasattr(data, "__len__") and not hasattr(data, "__array__"):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        return tensor(data, dtype=dtype, device=device)
    if not all(isinstance(a, numbers.Integral) for a in args):
        raise TypeError(f"Tensor(): expected data or integer sizes, got {args!r}")
    return empty(*args, dtype=dtype, device=device) if args else empty(0, dtype=dtype, device=device)


def tensor_new(self, *args, **kwargs):
    """``Tensor.new``: ``legacy_new`` at this tensor's dtype and on its device (``x.new(2, 3)``,
    ``x.new([1, 2])``; a tensor given must be of this dtype)."""
    kwargs.setdefault("device", self.device)
    return legacy_new(args, kwargs, self.dtype, typed=True)
