"""dtypes and devices."""
import numbers

import ml_dtypes
import numpy as np


class dtype:
    __module__ = "tinytape"  # printed as PyTorch prints it: <class 'torch.dtype'>
    __slots__ = ("name", "np", "is_floating_point", "is_complex", "itemsize", "is_signed")

    def __init__(self, name, np_dtype, is_floating_point=None):
        self.name = name
        self.np = np.dtype(np_dtype)
        # ml_dtypes' bfloat16 is a numpy dtype of kind "V": its kind does not say it floats
        self.is_floating_point = self.np.kind == "f" if is_floating_point is None else is_floating_point
        self.is_complex = self.np.kind == "c"
        self.itemsize = self.np.itemsize
        self.is_signed = self.is_floating_point or self.is_complex or self.np.kind == "i"

    def to_real(self):
        """The dtype of a complex dtype's parts (``complex64`` -> ``float32``); others: itself."""
        return _REAL_OF.get(self.name, self)

    def to_complex(self):
        """The complex dtype with parts of this float dtype (``float64`` -> ``complex128``)."""
        if self.is_complex:
            return self
        if self.name not in _COMPLEX_OF:
            raise RuntimeError(f"Unsupported dtype {self.name} for a complex tensor")
        return _COMPLEX_OF[self.name]

    def __repr__(self):
        return f"tinytape.{self.name}"

    def __reduce__(self):
        return (_from_name, (self.name,))


float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
int64 = dtype("int64", np.int64)
bool_ = dtype("bool", np.bool_)
# storage types: held, cast to and from, and computed in where a kernel takes them
float16 = dtype("float16", np.float16)
int32 = dtype("int32", np.int32)
int16 = dtype("int16", np.int16)
int8 = dtype("int8", np.int8)
uint8 = dtype("uint8", np.uint8)
# wider unsigned types: PyTorch's "limited support" dtypes (creation, casts, comparisons, bitwise
# ops and a few more: ``ops/unsigned_support.py`` lists what each op does with them)
uint16 = dtype("uint16", np.uint16)
uint32 = dtype("uint32", np.uint32)
uint64 = dtype("uint64", np.uint64)
LIMITED_UNSIGNED = (uint16, uint32, uint64)
# held as ml_dtypes' bfloat16 (rounded to nearest even from float32, as PyTorch's)
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, is_floating_point=True)
# complex numbers: pairs of float32 / float64 (numpy's layout and PyTorch's: real part first)
complex64 = dtype("complex64", np.complex64)
complex128 = dtype("complex128", np.complex128)
_REAL_OF = {"complex64": float32, "complex128": float64}
_COMPLEX_OF = {"float32": complex64, "float64": complex128, "float16": complex64, "bfloat16": complex64}

ALL = (float32, float64, int64, bool_, float16, int32, int16, int8, uint8, bfloat16, complex64, complex128,
       uint16, uint32, uint64)
_BY_NUMPY = {d.np: d for d in ALL}
_BY_NAME = {"float32": float32, "float": float32, "float64": float64, "double": float64,
            "int64": int64, "long": int64, "bool": bool_, "float16": float16, "half": float16,
            "int32": int32, "int": int32, "int16": int16, "short": int16, "int8": int8, "uint8": uint8,
            "uint16": uint16, "uint32": uint32, "uint64": uint64,
            "bfloat16": bfloat16, "complex64": complex64, "cfloat": complex64, "complex128": complex128,
            "cdouble": complex128}

default_float = float32
BFLOAT16 = bfloat16.np  # a singleton numpy dtype: ``is`` compares it


def _from_name(name):
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype):
    """The tinytape dtype holding numpy dtype ``np_dtype`` (other ints widen to int64; other
    floats to float32/float64 by size)."""
    np_dtype = np.dtype(np_dtype)
    found = _BY_NUMPY.get(np_dtype)
    if found is not None:
        return found
    if np_dtype.kind in "iu":
        return int64
    if np_dtype.kind == "f":
        return float64 if np_dtype.itemsize > 4 else float32
    if np_dtype.kind == "c":
        return complex128 if np_dtype.itemsize > 8 else complex64
    raise TypeError(f"can't convert np.ndarray of type numpy.{np_dtype.type.__name__}. The only supported types are: "
                    "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint64, uint32, "
                    "uint16, uint8, and bool.")


def own_dtype(arr):
    """``arr`` described by numpy's own dtype object for its type: an unpickled array (a
    pickled dataset, a tensor sent between processes) holds an equal copy of it, and the
    kernels' fast paths compare dtypes by identity; a view, sharing the memory."""
    found = _BY_NUMPY.get(arr.dtype)
    return arr if found is None or found.np is arr.dtype else arr.view(found.np)


def host_cast(arr, np_dtype):
    """Host data as numpy dtype ``np_dtype``.  To bfloat16 through float32 first: PyTorch
    converts a double (or an integer) to float and then rounds to bfloat16, while
    ml_dtypes rounds a double directly (the results differ near bfloat16 ties)."""
    arr = np.asarray(arr)
    if np_dtype is BFLOAT16 and arr.dtype is not BFLOAT16 and arr.dtype != np.float32:
        with np.errstate(over="ignore"):  # 1e39 becomes inf, silently, as in PyTorch
            arr = arr.astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # inf and out-of-range casts: no warning, as PyTorch
        return own_dtype(arr.astype(np_dtype, copy=False))


_C_TYPE_NAMES = {"int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t", "uint8": "uint8_t",
                 "uint16": "uint16_t", "uint32": "uint32_t", "uint64": "uint64_t"}


def runtime_number(x):
    """Whether ``x`` stands for a number argument of a function being compiled (an input
    of its program: ``compiler/scalars.py``), which an op passes on as the number, unread."""
    return getattr(type(x), "_stands_for_number", False)


def wrapped_int(value, np_dtype):
    """A Python int as an operand of an integer tensor's arithmetic or comparison:
    PyTorch reads it into the tensor's type with two's complement wrap-around
    (``uint8 * 300`` multiplies by 44, ``uint8 == 300`` compares with 44)."""
    if (type(value) is int or runtime_number(value) and isinstance(value, int)) and np_dtype.kind in "iu":
        info = np.iinfo(np_dtype)
        if not info.min <= value <= info.max and -(1 << 63) <= value < 1 << 64:
            bits = 8 * np_dtype.itemsize
            value &= (1 << bits) - 1
            if np_dtype.kind == "i" and value >= 1 << (bits - 1):
                value -= 1 << bits
    return value


def real_value(value, c_type):
    """A one-element tensor's value for ``float()``/``int()``: a complex one's real part where it
    has no imaginary part, else PyTorch's error (its checked conversion to ``c_type``)."""
    if type(value) is complex:
        if value.imag:
            raise RuntimeError(f"value cannot be converted to type {c_type} without overflow")
        return value.real
    return value


def fitting_int(value, np_dtype):
    """A Python int stored into an integer dtype (fill, masked_fill, full, clamp): PyTorch's
    RuntimeError when it does not fit; a negative one down to -max wraps into an unsigned type."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or np_dtype.kind not in "iu":
        return value
    value, info = int(value), np.iinfo(np_dtype)
    if info.min <= value <= info.max:
        return value
    if np_dtype.kind == "u" and -info.max <= value < 0:
        return value + info.max + 1
    if np_dtype.itemsize == 8:
        raise OverflowError("int too big to convert")
    raise RuntimeError(f"value cannot be converted to type {_C_TYPE_NAMES[np_dtype.name]} without overflow")


_SCALAR_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
                      "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                      "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64", "bool": "Bool",
                      "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def scalar_type_name(d):
    """PyTorch's name of a dtype in its error messages (``Float``, ``Long``, ...)."""
    return _SCALAR_TYPE_NAMES.get(d.name, d.name)


def as_dtype(value):
    """Accept a tinytape dtype, a numpy dtype/type, python ``float``/``int``/``bool`` or a name."""
    if value is None or isinstance(value, dtype):
        return value
    if value is float:  # Python's float is a double, whatever the default dtype (PyTorch's reading)
        return float64
    if value is int:
        return int64
    if value is bool:
        return bool_
    if value is complex:
        return complex128
    if isinstance(value, str):
        name = value.rsplit(".", 1)[-1]
        if name in _BY_NAME:
            return _BY_NAME[name]
        raise TypeError(f"tinytape: unknown dtype '{value}'")
    return from_numpy_dtype(value)


def category(d):
    """PyTorch's kinds, in promotion order: bool 0 < integer 1 < floating 2 < complex 3."""
    return 2 if d.is_floating_point else 3 if d.is_complex else 0 if d is bool_ else 1


def promote(a, b):
    """Result dtype of a binary op between two tensor dtypes: the higher kind wins; within
    a kind, the smallest type holding both (int8 with uint8 is int16, as in PyTorch).  A
    complex type with a float one has the wider of their parts (complex64 with float64 is
    complex128)."""
    if a is b:
        return a
    if (a in LIMITED_UNSIGNED or b in LIMITED_UNSIGNED) and not (a.is_floating_point or b.is_floating_point):
        raise RuntimeError("Promotion for uint16, uint32, uint64 types is not supported, attempted to promote "
                           f"{scalar_type_name(a)} and {scalar_type_name(b)}")
    ca, cb = category(a), category(b)
    if ca != cb:
        high, low = (a, b) if ca > cb else (b, a)
        if high.is_complex and low.is_floating_point:
            return promote(high.to_real(), low).to_complex()
        return high
    return from_numpy_dtype(np.promote_types(a.np, b.np))


def result_type(a, b):
    """PyTorch's result type of a binary op on tensors and python numbers.  Operands rank
    as tensors with dimensions > 0-d tensors > python numbers: a lower-ranked operand
    changes the result only when its kind (bool < integer < floating) is higher, so
    ``ones(2) * tensor(0.5, dtype=float64)`` is float32 and ``ones(2) * 0.5`` too."""
    groups = ([], [], [])  # dimensioned tensors, 0-d tensors, python numbers
    for x in (a, b):
        if hasattr(x, "_data"):
            groups[0 if x._data.ndim else 1].append(x.dtype)
        else:
            groups[2].append(x)
    result = None
    for dtypes in groups[:2]:
        if dtypes:
            found = dtypes[0] if len(dtypes) == 1 else promote(*dtypes)
            if result is None:
                result = found
            elif category(found) > category(result):  # a complex one keeps a float's width (PyTorch's rule)
                result = result.to_complex() if found.is_complex and result.is_floating_point else found
    for scalar in groups[2]:
        result = promote_scalar(result, scalar) if result is not None else None
    return result


def promote_scalar(t, scalar):
    """Result dtype of tensor dtype ``t`` with a python scalar (a weakly typed operand:
    it only lifts the category, never the width)."""
    kind = type(scalar)
    if kind is bool:
        return t
    if kind is int or (kind is not float and isinstance(scalar, numbers.Integral)):
        return int64 if t is bool_ else t
    if kind is complex or (kind is not float and not isinstance(scalar, numbers.Real)
                           and isinstance(scalar, numbers.Complex)):
        return t.to_complex() if t.is_floating_point or t.is_complex else default_float.to_complex()
    return t if t.is_floating_point or t.is_complex else default_float


class layout:
    """A tensor's memory layout: every tinytape tensor is ``strided`` (dense, with strides)."""
    __module__ = "tinytape"  # printed as PyTorch prints it: <class 'torch.layout'>
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"tinytape.{self.name}"

    def __reduce__(self):
        return (_layout_named, (self.name,))


def _layout_named(name):
    return sparse_coo if name == "sparse_coo" else strided


strided = layout("strided")
sparse_coo = layout("sparse_coo")  # (sparse gradients: ops.sparse_coo)


class device:
    __module__ = "tinytape"  # printed as PyTorch prints it: <class 'torch.device'>
    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if isinstance(type, numbers.Integral) and not isinstance(type, bool):  # device(0): the accelerator's
            if type < 0:
                raise RuntimeError("Device index must not be negative")
            type, index = "cuda", int(type)
        if ":" in type:
            type, idx = type.split(":")
            index = int(idx)
        if type not in ("cpu", "cuda", "meta"):
            raise RuntimeError("Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, "
                               "xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone device type at start of device "
                               f"string: {type}")
        self.type = type  # device("cuda") keeps no index, as PyTorch's (a CUDA tensor's is cuda:0)
        self.index = index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"

    def __eq__(self, other):  # a string is not equal to a device (PyTorch's torch.device("cpu") != "cpu")
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


cpu = device("cpu")


def as_device(value):
    if value is None:
        return cpu
    return value if isinstance(value, device) else device(value)


def get_default_device():
    """The device factory functions put tensors on: the CPU."""
    return cpu


def get_default_dtype():
    """The dtype of float tensors made from python numbers (float32 unless changed)."""
    return default_float


def set_default_dtype(d):
    """Make ``d`` (a floating-point dtype) the default float dtype, as PyTorch's."""
    global default_float
    d = as_dtype(d)
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    default_float = d
