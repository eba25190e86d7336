"""dtypes and devices."""
import numbers

import numpy as np


class dtype:
    __slots__ = ("name", "np", "is_floating_point", "itemsize")

    def __init__(self, name, np_dtype):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return f"tinytape.{self.name}"

    def __reduce__(self):
        return (_from_name, (self.name,))


float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
int64 = dtype("int64", np.int64)
bool_ = dtype("bool", np.bool_)

_BY_NUMPY = {d.np: d for d in (float32, float64, int64, bool_)}
_BY_NAME = {"float32": float32, "float": float32, "float64": float64, "double": float64,
            "int64": int64, "long": int64, "bool": bool_}

default_float = float32


def _from_name(name):
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype):
    """The tinytape dtype holding numpy dtype ``np_dtype`` (other ints widen to int64,
    other floats to float32/float64 by size)."""
    np_dtype = np.dtype(np_dtype)
    found = _BY_NUMPY.get(np_dtype)
    if found is not None:
        return found
    if np_dtype.kind in "iu":
        return int64
    if np_dtype.kind == "f":
        return float64 if np_dtype.itemsize > 4 else float32
    raise TypeError(f"tinytape: can't hold numpy dtype {np_dtype}; supported: float32, float64, int64, bool")


def as_dtype(value):
    """Accept a tinytape dtype, a numpy dtype/type, python ``float``/``int``/``bool`` or a name."""
    if value is None or isinstance(value, dtype):
        return value
    if value is float:
        return float32
    if value is int:
        return int64
    if value is bool:
        return bool_
    if isinstance(value, str):
        name = value.rsplit(".", 1)[-1]
        if name in _BY_NAME:
            return _BY_NAME[name]
        raise TypeError(f"tinytape: unknown dtype '{value}'")
    return from_numpy_dtype(value)


def promote(a, b):
    """Result dtype of a binary op between two tensor dtypes (PyTorch's categories:
    bool < int64 < float32 < float64)."""
    if a is b:
        return a
    order = (bool_, int64, float32, float64)
    return a if order.index(a) > order.index(b) else b


def promote_scalar(t, scalar):
    """Result dtype of tensor dtype ``t`` with a python scalar (a weakly typed operand:
    it only lifts the category, never the width)."""
    kind = type(scalar)
    if kind is bool:
        return t
    if kind is int or (kind is not float and isinstance(scalar, numbers.Integral)):
        return int64 if t is bool_ else t
    return t if t.is_floating_point else default_float


class device:
    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if ":" in type:
            type, idx = type.split(":")
            index = int(idx)
        if type not in ("cpu", "cuda"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {type}")
        if type == "cuda" and index is None:
            index = 0
        self.type = type
        self.index = index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


cpu = device("cpu")


def as_device(value):
    if value is None:
        return cpu
    return value if isinstance(value, device) else device(value)
