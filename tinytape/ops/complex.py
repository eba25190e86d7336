"""Complex tensors' own ops: parts (``real``, ``imag``, ``view_as_real``, ``view_as_complex``),
conjugation, ``abs``/``angle``/``sgn``, and the constructors ``complex`` and ``polar``.

Gradients follow PyTorch's convention: a complex tensor's gradient is the conjugate Wirtinger
derivative times two, ``dL/dx + i dL/dy`` for a real loss ``L`` of ``z = x + iy``, so a
holomorphic op's gradient is ``g * conj(f'(z))`` (``from_table`` applies that to the op
table's formulas).  A real tensor's versions of these functions (``real`` is the tensor
itself, ``conj`` too) are those of ``view_ops`` and ``view_copies``, called from here.

``conj()`` is a view of its input with the conjugate bit set (``is_conj()``) and ``_neg_view()``
one with the negative bit (``is_neg()``), as PyTorch's lazy views: they hold the transformed
values in a buffer kept in line with the input's memory both ways (``_mirror_views``).
"""
import builtins

import numpy as np

from .. import _dtype
from .._mirror_views import bits, mirror_of, register
from .._tensor import Tensor
from ..autograd.function import Function
from . import view_copies, view_ops

def _complex(t):
    return t._data.dtype.kind == "c"


def _host(x, function, *tensors):
    """``function`` (numpy's, on arrays) of the tensors' data through the backend's
    ``host_compute``: the CPU backend's, which ``tinytape.compile`` refuses to trace."""
    return x._backend.host_compute(function, *(t._data for t in tensors))


def _data_view(x, data):
    """A tensor over ``data``, a numpy view of ``x``'s memory of another dtype: it shares
    ``x``'s version counter (a write through one is a write into the other) and is a view of
    ``x`` (``_base``), one whose elements are not ``x``'s: a write through it that autograd
    would record on ``x`` is refused (``_unrecordable``), not recorded wrong."""
    t = Tensor._make(data, version=x._version_counter, backend=x._backend)
    t._view = (x, _unrecordable)
    return t


def _unrecordable(ids):
    raise RuntimeError("a write through a view of a complex tensor's parts (view_as_real, view_as_complex, .real, "
                       ".imag) is not recorded by tinytape's autograd: write into a clone, or under no_grad()")


def _cpu_only(x, op):
    if x._backend.device.type != "cpu":
        raise RuntimeError(f"{op}: complex tensors are CPU tensors in tinytape (got a tensor on {x.device}); "
                           f"move it with .cpu()")


def _as_real(data):
    """The (..., 2) real view of complex ``data`` of any strides: its parts, a part's size apart."""
    parts = data.real
    return np.lib.stride_tricks.as_strided(parts, data.shape + (2,), parts.strides + (parts.itemsize,),
                                           writeable=data.flags.writeable)


def _as_complex(data):
    return data.view(np.complex64 if data.dtype == np.float32 else np.complex128).reshape(data.shape[:-1])


def _sgn(data):
    with np.errstate(all="ignore"):
        return np.where(data == 0, 0, data / np.abs(data)).astype(data.dtype)


def _pair(re, im):
    data = np.empty(np.broadcast_shapes(re.shape, im.shape), np.result_type(re.dtype, np.complex64))
    data.real, data.imag = re, im
    return data


def _polar(size, theta):
    return _pair(size * np.cos(theta), size * np.sin(theta))


class ViewAsReal(Function):
    grad_fn_name = "ViewAsRealBackward0"

    @staticmethod
    def forward(ctx, x):
        return _data_view(x, _host(x, _as_real, x))

    @staticmethod
    def backward(ctx, g):
        return view_as_complex(g.contiguous())


class ViewAsComplex(Function):
    grad_fn_name = "ViewAsComplexBackward0"

    @staticmethod
    def forward(ctx, x):
        return _data_view(x, _host(x, _as_complex, x))

    @staticmethod
    def backward(ctx, g):
        return view_as_real(g)


def view_as_real(input):
    """The complex ``input``'s memory as real numbers: a last dimension of 2 (real, imaginary), shared."""
    if not input.dtype.is_complex:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    if is_conj(input):
        raise RuntimeError("view_as_real doesn't work on unresolved conjugated tensors.  To resolve the conjugate "
                           "tensor so you can view it as real, use self.resolve_conj(); however, be warned that the "
                           "resulting tensor will NOT alias the original.")
    _cpu_only(input, "view_as_real")
    return ViewAsReal.apply(input)


def view_as_complex(input):
    """A float32/float64 ``input`` with a last dimension of 2 read as complex numbers (shared memory)."""
    if input.dtype not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f"view_as_complex is only supported for half, float and double tensors, but got a tensor of "
                           f"scalar type: {_dtype.scalar_type_name(input.dtype)}")
    if input.ndim == 0 or input.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if input.stride(-1) != 1:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % 2 for s in input.stride()[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    _cpu_only(input, "view_as_complex")
    return ViewAsComplex.apply(input)


def real(input):
    """The real parts: a view (``view_as_real(input)[..., 0]``, recorded so: SelectBackward0)."""
    if not input.dtype.is_complex:
        return view_ops.real(input)
    return _parts(input).select(-1, 0)


def imag(input):
    """The imaginary parts: a view; of a conjugate view, one with the negative bit (``is_neg()``)."""
    if not input.dtype.is_complex:
        return view_ops.imag(input)
    return _parts(input).select(-1, 1)


def _parts(input):
    """``view_as_real(input)``; of a conjugate view, the real view of its (conjugated) values,
    through which writes reach the input as through PyTorch's ``x.conj().imag``."""
    if is_conj(input):
        _cpu_only(input, "view_as_real")
        return ViewAsReal.apply(input)
    return view_as_real(input)


# ---------------------------------------------------------------- conjugate and negative views


def _same_positions(ids):
    return ids  # (a conjugate or negative view's elements lie where its input's do)


def _mirror(x, kind, function):
    """A view of ``x`` holding ``function`` of its values, kept in line with ``x`` (``kind``); of a
    view of that kind, a view of the memory that one views (the bit flipped back)."""
    info = mirror_of(x)
    if info is not None and info[1] == kind:
        out = Tensor._make(info[0]._data, version=x._version_counter, backend=x._backend)
    else:
        out = Tensor._make(_host(x, function, x), version=x._version_counter, backend=x._backend)
        register(out, x, kind)
    out._view = (x, _same_positions)
    return out


class Conj(Function):
    grad_fn_name = "ConjBackward0"

    @staticmethod
    def forward(ctx, x):
        return _mirror(x, "conj", np.conj)

    @staticmethod
    def backward(ctx, g):
        return conj(g)


class ConjPhysical(Function):
    grad_fn_name = "ConjPhysicalBackward0"

    @staticmethod
    def forward(ctx, x):
        return x._new(_host(x, np.conj, x))

    @staticmethod
    def backward(ctx, g):
        return conj_physical(g)


class ConjValues(ConjPhysical):
    """The conjugate as a plain tensor, recorded as ``conj()`` is: the gradient formulas' own
    conjugation, whose result PyTorch gives without the bit."""
    grad_fn_name = "ConjBackward0"

    @staticmethod
    def backward(ctx, g):
        return conj_values(g)


def conj_values(input):
    return ConjValues.apply(input) if _complex(input) else input


class NegView(Function):
    grad_fn_name = "NegViewBackward0"

    @staticmethod
    def forward(ctx, x):
        return _mirror(x, "neg", np.negative)

    @staticmethod
    def backward(ctx, g):
        return g.neg()


def recorded_mirror_write(view, op_name):
    """For an in-place op recorded through ``view``, a conjugate or negative view of a tensor
    that is no view itself: (its new values as the base's, the view re-derived from the base)."""
    info = mirror_of(view)
    if info is None or info[0]._view is not None:
        raise RuntimeError(
            f"{op_name}: a write recorded by autograd through a view of a conjugate or negative view, or through one "
            f"of a view (shape {list(view.shape)}), is not supported: write into the tensor it views, into a clone, "
            "or under no_grad()")
    return (conj_physical, Conj.apply) if info[1] == "conj" else (lambda t: t.neg(), NegView.apply)


def conj(input):
    """The complex conjugate, a view with ``is_conj()`` set; a real tensor itself."""
    if not _complex(input):
        return input
    return Conj.apply(input)


def conj_physical(input):
    if not _complex(input):
        return input
    return ConjPhysical.apply(input)


def conj_physical_(self):
    if _complex(self):
        self.copy_(self.conj_physical())
    return self


def resolve_conj(input):
    """``input`` with its conjugation applied (a copy, ``is_conj()`` unset) where the bit is set."""
    return input.clone() if is_conj(input) else input


def is_conj(input):
    return _complex(input) and bits(input)[0]


def _neg_view(input):
    """A view of ``input`` holding its negated values, ``is_neg()`` set (PyTorch's negative bit)."""
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"neg_cpu\" not implemented for 'Bool'")
    if input._backend.device.type != "cpu":
        raise RuntimeError(f"_neg_view: negative views are CPU tensors in tinytape (got a tensor on {input.device}); "
                           "move it with .cpu()")
    return NegView.apply(input)


def resolve_neg(input):
    return input.clone() if is_neg(input) else input


def is_neg(input):
    return bits(input)[1]


def is_complex(input):
    return input.dtype.is_complex


# ---------------------------------------------------------------- modulus and argument


class Angle(Function):
    grad_fn_name = "AngleBackward0"

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z._new(_host(z, np.angle, z).astype(z._data.real.dtype))

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        # PyTorch's angle_backward: g * z / |z|^2 * i, 0 at the origin
        return (g * z / z.abs().pow(2) * 1j).masked_fill(z == 0, 0)


def angle(input):
    return Angle.apply(input) if _complex(input) else view_copies.angle(input)


class Sgn(Function):
    grad_fn_name = "SgnBackward0"

    @staticmethod
    def forward(ctx, z):
        out = z._new(_host(z, _sgn, z))
        ctx.save_for_backward(z, out)
        return out

    @staticmethod
    def backward(ctx, g):
        z, sgn = ctx.saved_tensors
        # PyTorch's sgn_backward: (g - sgn * Re(g conj(sgn))) / |z|, 0 at the origin
        size = z.abs()
        return ((g - sgn * real(g * conj(sgn))) / size).masked_fill(size == 0, 0)


def sgn(input):
    if not _complex(input):
        from .elementwise_more import sgn as real_sgn
        return real_sgn(input)
    return Sgn.apply(input)


# ---------------------------------------------------------------- constructors


class Complex(Function):
    grad_fn_name = "ComplexBackward0"

    @staticmethod
    def forward(ctx, re, im):
        return re._new(_host(re, _pair, re, im))

    @staticmethod
    def backward(ctx, g):
        return real(g), imag(g)


def complex(real, imag):  # noqa: A001  (PyTorch's name)
    """``real + i imag`` of two float tensors of one dtype (float32 or float64), broadcast."""
    for name, t in (("real", real), ("imag", imag)):
        if not isinstance(t, Tensor):
            raise TypeError(f"complex(): argument '{name}' (position {1 + (name == 'imag')}) must be Tensor, not "
                            f"{type(t).__name__}")
    if real.dtype is not imag.dtype:
        raise RuntimeError(f"Expected object of scalar type {_dtype.scalar_type_name(real.dtype)} but got scalar type "
                           f"{_dtype.scalar_type_name(imag.dtype)} for second argument")
    if real.dtype not in (_dtype.float32, _dtype.float64, _dtype.float16):
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_dtype.scalar_type_name(real.dtype)} and {_dtype.scalar_type_name(imag.dtype)}")
    return Complex.apply(real, imag)


class Polar(Function):
    grad_fn_name = "PolarBackward0"

    @staticmethod
    def forward(ctx, size, theta):
        ctx.save_for_backward(size, theta)
        return size._new(_host(size, _polar, size, theta))

    @staticmethod
    def backward(ctx, g):
        size, theta = ctx.saved_tensors
        unit = Complex.apply(theta.cos(), theta.sin())  # d z / d abs
        # a real input's gradient is Re(conj(g) dz/dinput); d z / d angle = i abs unit
        return real(conj(g) * unit), real(conj(g) * unit * size * 1j)


def polar(abs, angle):  # noqa: A002  (PyTorch's names)
    """``abs * (cos(angle) + i sin(angle))``."""
    if abs.dtype is not angle.dtype or abs.dtype not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f"Expected both inputs to be Float or Double tensors but got "
                           f"{_dtype.scalar_type_name(abs.dtype)} and {_dtype.scalar_type_name(angle.dtype)}")
    return Polar.apply(abs, angle)


def _conjugated(transpose):
    """A transposing view of ``view_ops`` (``H``, ``mH``, ``adjoint``), conjugated for a complex tensor."""
    def view(self):
        out = transpose(self)
        return conj(out) if _complex(self) else out
    return view


def _complex_value(self):
    """``complex(t)``: a one-element tensor's value as a Python complex."""
    return builtins.complex(self._scalar("complex"))

FUNCTIONS = {"view_as_real": view_as_real, "view_as_complex": view_as_complex, "real": real, "imag": imag,
             "conj": conj, "conj_physical": conj_physical, "conj_physical_": conj_physical_,
             "resolve_conj": resolve_conj, "is_conj": is_conj, "is_complex": is_complex, "angle": angle,
             "sgn": sgn, "complex": complex, "polar": polar, "_neg_view": _neg_view, "resolve_neg": resolve_neg,
             "is_neg": is_neg}
def _set_real(self, value):
    real(self).copy_(value)


def _set_imag(self, value):
    imag(self).copy_(value)


METHODS = {"real": property(real, _set_real), "imag": property(imag, _set_imag),
           "conj": conj, "conj_physical": conj_physical, "conj_physical_": conj_physical_,
           "resolve_conj": resolve_conj, "is_conj": is_conj, "is_complex": is_complex, "angle": angle, "sgn": sgn,
           "_neg_view": _neg_view, "resolve_neg": resolve_neg, "is_neg": is_neg,
           "__complex__": _complex_value, "H": property(_conjugated(view_ops._H)),
           "mH": property(_conjugated(view_ops._mH)), "adjoint": _conjugated(view_ops.adjoint)}
FUNCTIONS["adjoint"] = METHODS["adjoint"]
