"""The limited unsigned dtypes (uint16, uint32, uint64) at the door of every op.

PyTorch computes only some ops on these dtypes (``unsigned_support.COMPUTED``) and refuses the
others, most with ``"<kernel>" not implemented for 'UInt32'`` (``dtype_rules.UNSIGNED_REFUSED``).
The arithmetic and comparisons ask ``dtype_rules`` in their own code (``CHECKED_INSIDE``);
``install`` puts a gate in front of each other refused ``tinytape.<name>`` function and
``Tensor.<name>`` method: a call whose computation would run in a limited dtype raises
PyTorch's error; any other call goes straight on.  Ops PyTorch computes are left as they are
(no gate, no cost).

A call computes in a limited dtype when its first tensor (or first of a list of tensors, as
``cat`` takes) has one, unless its second argument makes the computation floating (a float
number, or a floating-point or complex tensor: ``x + 1.5`` is float32).  A second integer
tensor of another dtype is left to the op, whose type promotion raises PyTorch's "Promotion
for uint16, uint32, uint64 types is not supported" error.
"""
import functools
import numbers

from .. import _dtype
from .._tensor import Tensor
from . import dtype_rules

LIMITED_NUMPY = frozenset(d.np for d in _dtype.LIMITED_UNSIGNED)


def limited_dtype(first, second=None):
    """The limited dtype a call on ``first`` (a tensor or a list of them) and ``second`` computes
    in, or None."""
    if type(first) in (list, tuple) and first:
        first = first[0]
    if not isinstance(first, Tensor) or first._data.dtype not in LIMITED_NUMPY:
        return None
    if isinstance(second, Tensor):
        if second.dtype.is_floating_point or second.dtype.is_complex:
            return None
    elif isinstance(second, numbers.Number) and not isinstance(second, numbers.Integral):
        return None
    return _dtype.from_numpy_dtype(first._data.dtype)


def _gated(name, fn):
    @functools.wraps(fn)
    def gate(*args, **kwargs):
        if args:  # the common case (a tensor of another dtype) decided in two attribute reads
            first = args[0]
            if type(first) is Tensor and first._data.dtype.char not in dtype_rules.LIMITED_CHARS:
                return fn(*args, **kwargs)
            dtype = limited_dtype(first, args[1] if len(args) > 1 else kwargs.get("other"))
        else:  # PyTorch's keywords: torch.max(input=x)
            dtype = limited_dtype(kwargs.get("input"), kwargs.get("other"))
        if dtype is not None:
            dtype_rules.check_unsigned(name, dtype)
        return fn(*args, **kwargs)
    gate._unsigned_gate = True
    return gate


# clamp's refusal names the kernel its bounds choose: (min, max) as "number", "tensor" or None
_CLAMP_KERNELS = {("number", None): "clamp_min_scalar_cpu", (None, "number"): "clamp_max_scalar_cpu",
                  ("number", "number"): "clamp_scalar_cpu", ("tensor", None): "maximum_cpu",
                  (None, "tensor"): "minimum_cpu"}
_CLAMPS = ("clamp", "clamp_", "clip", "clip_")


def _gated_clamp(name, fn):
    @functools.wraps(fn)
    def gate(input, min=None, max=None, **kwargs):
        if isinstance(input, Tensor) and input._data.dtype.char in dtype_rules.LIMITED_CHARS:
            bounds = tuple(None if b is None else "tensor" if isinstance(b, Tensor) else "number" for b in (min, max))
            kernel = _CLAMP_KERNELS.get(bounds, "clamp_cpu")
            if limited_dtype(input, next((b for b in (min, max) if b is not None), None)) is not None:
                raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.scalar_type_name(input.dtype)}\'')
        return fn(input, min, max, **kwargs)
    gate._unsigned_gate = True
    return gate


def _gated_factory(name, fn):
    """A factory (``arange``, ``eye``...) refuses making a tensor of a limited dtype it has no kernel for."""
    @functools.wraps(fn)
    def gate(*args, **kwargs):
        dtype = kwargs.get("dtype")
        if dtype is not None and dtype in _dtype.LIMITED_UNSIGNED:
            dtype_rules.check_unsigned(name, dtype)
        return fn(*args, **kwargs)
    gate._unsigned_gate = True
    return gate


# refused names whose own code asks ``dtype_rules`` (the operands' promotion, the unary wrappers):
# the operators and arithmetic every program runs, kept free of a gate's call
CHECKED_INSIDE = frozenset("""
__abs__ __add__ __floordiv__ __ge__ __gt__ __iadd__ __ifloordiv__ __ilshift__ __imod__ __ipow__ __irshift__
__isub__ __le__ __lshift__ __lt__ __mod__ __neg__ __pow__ __radd__ __rfloordiv__ __rlshift__ __rmod__ __rpow__
__rrshift__ __rshift__ __rsub__ __sub__ abs abs_ absolute absolute_ add sub rsub subtract subtract_ lt lt_ le le_
gt gt_ ge ge_ less less_ less_equal less_equal_ greater greater_ greater_equal greater_equal_ neg neg_ negative
negative_ pow pow_ maximum minimum floor_divide floor_divide_ remainder remainder_ fmod fmod_ max min
""".split())


def install(namespace):
    """Put the gate in front of each refused function of ``namespace`` and method of Tensor."""
    for key in dtype_rules.UNSIGNED_REFUSED.keys() - CHECKED_INSIDE:
        owner, _, name = key.rpartition(".")
        if owner == "factory":
            namespace[name] = _gated_factory(key, namespace[name])
            continue
        gated = _gated_clamp if name in _CLAMPS else _gated
        if owner in ("", "torch") and callable(namespace.get(name)) and not hasattr(namespace[name], "_unsigned_gate"):
            namespace[name] = gated(key, namespace[name])
        method = Tensor.__dict__.get(name)
        if owner in ("", "Tensor") and callable(method) and not hasattr(method, "_unsigned_gate"):
            setattr(Tensor, name, gated(key, method))
