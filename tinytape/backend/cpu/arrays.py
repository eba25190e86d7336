"""The CPU backend's shared pieces: the kernels indexed by op code, numpy's loops for the
four IEEE operations, and the array helpers (strided 4-D views, C-contiguous copies,
matmul operands) that ``backend.py`` and ``kernel_calls.py`` both use."""
import numpy as np

from ..opcodes import ADD, DIV, MUL, SUB
from . import elementwise as _elementwise

_ND = 4  # rank of the strided elementwise kernels
_FILL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # the fill kernel's signatures: the gradients' dtypes
_BOOL = np.dtype(np.bool_)
# op code -> kernel, per entry point: indexed straight from the fast paths (no wrapper frame)
_unary = _elementwise.BY_OP["unary"]
_unary_split = _elementwise.BY_OP["unary_split"]  # (the ops of ``_elementwise.SCALAR_LOOP_CODES``)
_binary = _elementwise.BY_OP["binary"]
_binary_inplace = _elementwise.BY_OP["binary_inplace"]
_binary_scalar = _elementwise.BY_OP["binary_scalar"]
_binary_nd = _elementwise.BY_OP["binary_nd"]
_compare = _elementwise.BY_OP["compare"]
_compare_scalar = _elementwise.BY_OP["compare_scalar"]
_compare_nd = _elementwise.BY_OP["compare_nd"]


# numpy's own loops for the four IEEE operations on float32/float64: correctly rounded, so
# the same numbers as the kernels' (and a compiled program's) ``a + b``, with numpy's
# broadcasting and allocation in one C call instead of three reshapes and a dispatch
_NUMPY_BINARY = {ADD: np.add, SUB: np.subtract, MUL: np.multiply, DIV: np.true_divide}
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)  # builtin dtypes are singletons: ``is`` compares
_NUMPY_UNARY, _NUMPY_UNARY_FLOAT64 = _elementwise.NUMPY_UNARY, _elementwise.NUMPY_UNARY_FLOAT64

try:  # numpy's floating-point error state, switched to "ignore" without np.errstate's 1 us
    from numpy._core._multiarray_umath import _make_extobj
    from numpy._core._ufunc_config import _extobj_contextvar as _errors
    _QUIET = _make_extobj(all="ignore")
except (ImportError, AttributeError, TypeError):  # another numpy: errstate itself
    _errors = None


def _quietly(ufunc, *args, **kwargs):
    """``ufunc(*args)`` with IEEE results (inf, nan) and no numpy warnings, as PyTorch's."""
    if _errors is None:
        with np.errstate(all="ignore"):
            return ufunc(*args, **kwargs)
    token = _errors.set(_QUIET)
    try:
        return ufunc(*args, **kwargs)
    finally:
        _errors.reset(token)


def _readonly(view):
    view = view.view()
    view.flags.writeable = False
    return view


def _as_nd_input(x, shape):
    """``x`` (broadcastable to ``shape``) as a read-only 4-D strided view: its rank padded
    with leading size-1 dims, which the nd kernels broadcast by index (np.broadcast_to
    would cost ~7 us a call).  One kernel signature per dtype, whatever the layout."""
    if len(shape) > _ND:
        return _readonly(np.broadcast_to(x, shape).reshape((-1,) + tuple(shape[-(_ND - 1):])))  # may copy; rare
    v = x[(None,) * (_ND - x.ndim)] if x.ndim < _ND else x
    return v if not v.flags.writeable else _readonly(v)


def _as_nd_output(out):
    shape = out.shape
    if len(shape) < _ND:
        return out.reshape((1,) * (_ND - len(shape)) + shape)
    return out.reshape((-1,) + shape[-(_ND - 1):])


def _c(x):
    """``x`` as a C-contiguous array (np.ascontiguousarray would turn 0-d into 1-d)."""
    return x if x.flags.c_contiguous else np.ascontiguousarray(x)


def _flat(x):
    return _c(x).reshape(-1)


def _matmul_operand(x):
    """(C-contiguous array, transposed?) for a 2-D operand, copying only when neither
    ``x`` nor ``x.T`` is C-contiguous."""
    if x.flags.c_contiguous:
        return x, False
    if x.T.flags.c_contiguous:
        return x.T, True
    return np.ascontiguousarray(x), False
