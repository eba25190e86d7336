"""The ``*_copy`` forms of the view ops (``torch.diagonal_copy``, ``torch.permute_copy``, ...:
the view's values in a fresh contiguous tensor, its entry named ``<View>Backward0_copy`` as
PyTorch's), the conjugation queries and no-ops of a real tensor (``conj``, ``is_conj``,
``resolve_neg``, ...), ``angle``, and the window functions (``hann_window``, ...)."""
import math

from .. import _creation, _dtype
from .composite_entry import composite_op
from .shape import cat


def _copy_of(name, view):
    """``torch.<name>``: ``view(input, *args)`` copied, one entry ``grad_fn_name(args)``."""
    def copy(input, *args, **kwargs):
        return composite_op(view.grad_fn_name(*args, **kwargs),
                            lambda x: view(x, *args, **kwargs).clone(), input)
    copy.__name__ = copy.__qualname__ = name
    return copy


def _pieces_copy(name, grad_fn_name, pieces):
    """``torch.<name>``: each piece of ``pieces(input, *args)`` copied, each its own entry."""
    def copy(input, *args, **kwargs):
        count = len(pieces(input.detach(), *args, **kwargs))
        return tuple(composite_op(grad_fn_name, lambda x, i=i: pieces(x, *args, **kwargs)[i].clone(), input)
                     for i in range(count))
    copy.__name__ = copy.__qualname__ = name
    return copy


def _named(grad_fn_name, fn):
    fn.grad_fn_name = grad_fn_name if callable(grad_fn_name) else (lambda *a, **k: grad_fn_name)
    return fn


def _squeeze_name(dim=None):
    return "SqueezeBackward0_copy" if dim is None else \
        "SqueezeBackward1_copy" if isinstance(dim, int) else "SqueezeBackward2_copy"


def _view_copy_name(size_or_dtype, *rest):
    return "ViewBackward0_copy"


_VIEWS = {
    "alias_copy": _named("AliasBackward0_copy", lambda x: x.view(x.shape)),
    "as_strided_copy": _named("AsStridedBackward0_copy", lambda x, size, stride, storage_offset=None:
                              x.as_strided(size, stride, storage_offset)),
    "diagonal_copy": _named("DiagonalBackward0_copy", lambda x, offset=0, dim1=0, dim2=1:
                            x.diagonal(offset, dim1, dim2)),
    "expand_copy": _named("ExpandBackward0_copy", lambda x, size, *, implicit=False: x.expand(*size)),
    "permute_copy": _named("PermuteBackward0_copy", lambda x, dims: x.permute(*dims)),
    "select_copy": _named("SelectBackward0_copy", lambda x, dim, index: x.select(dim, index)),
    "slice_copy": _named("SliceBackward0_copy", lambda x, dim=0, start=None, end=None, step=1:
                         x[(slice(None),) * (dim % max(x.ndim, 1)) + (slice(start, end, step),)]),
    "squeeze_copy": _named(_squeeze_name, lambda x, dim=None: x.squeeze() if dim is None else x.squeeze(dim)),
    "t_copy": _named("TBackward0_copy", lambda x: x.t()),
    "transpose_copy": _named("TransposeBackward0_copy", lambda x, dim0, dim1: x.transpose(dim0, dim1)),
    "unfold_copy": _named("UnfoldBackward0_copy", lambda x, dimension, size, step: x.unfold(dimension, size, step)),
    "unsqueeze_copy": _named("UnsqueezeBackward0_copy", lambda x, dim: x.unsqueeze(dim)),
}


def view_copy(input, size):
    """``input.view(size)`` copied; with a dtype, its memory read as that dtype (a copy, outside autograd)."""
    if isinstance(size, _dtype.dtype):
        return input.detach().view(size).clone()
    return composite_op("ViewBackward0_copy", lambda x: x.view(tuple(size)).clone(), input)


# ---------------------------------------------------------------- a real tensor's conjugation


def _itself(input):
    return input


def _false(input):
    return False


def conj_physical_(self):
    return self


def angle(input):
    """The argument of each element: 0 for a non-negative real, pi for a negative one (NaN kept);
    integers and bools give floats, and the gradient is 0, as PyTorch's."""
    if not input.dtype.is_floating_point:
        input = input.to(_dtype.get_default_dtype())

    def compute(x):
        zero = x * 0
        return (zero + math.pi).where(x < 0, zero).where(x == x, x)
    return composite_op("AngleBackward0", compute, input)


# ---------------------------------------------------------------- windows (PyTorch's formulas, step by step)


def _window_start(name, window_length, dtype, layout, device, requires_grad):
    dtype = _dtype.get_default_dtype() if dtype is None else dtype
    if not dtype.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    if window_length <= 1:
        return (_creation.ones if window_length else _creation.empty)(
            window_length, dtype=dtype, device=device, requires_grad=requires_grad), None
    return None, dtype


def _window_end(window, periodic, requires_grad):
    window = window[:-1].clone() if periodic else window
    return window.requires_grad_(requires_grad) if requires_grad else window


def _cosines(name, window_length, periodic, alpha, beta, dtype, layout, device, requires_grad):
    done, dtype = _window_start(name, window_length, dtype, layout, device, requires_grad)
    if done is not None:
        return done
    n = window_length + 1 if periodic else window_length
    window = _creation.arange(n, dtype=dtype, device=device)
    window = ((window * (math.pi * 2.0 / (n - 1))).cos() * -beta) + alpha
    return _window_end(window, periodic, requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                requires_grad=False):
    return _cosines("hann_window", window_length, periodic, 0.5, 0.5, dtype, layout, device, requires_grad)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   pin_memory=False, requires_grad=False):
    return _cosines("hamming_window", window_length, periodic, alpha, beta, dtype, layout, device, requires_grad)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    done, dtype = _window_start("bartlett_window", window_length, dtype, layout, device, requires_grad)
    if done is not None:
        return done
    n = window_length + 1 if periodic else window_length
    window = _creation.arange(n, dtype=dtype, device=device) * (2.0 / (n - 1))
    half = ((n - 1) >> 1) + 1
    window = cat([window[:half], window[half:] * -1 + 2], 0)
    return _window_end(window, periodic, requires_grad)


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    done, dtype = _window_start("blackman_window", window_length, dtype, layout, device, requires_grad)
    if done is not None:
        return done
    n = window_length + 1 if periodic else window_length
    window = _creation.arange(n, dtype=dtype, device=device) * (math.pi / (n - 1))
    window = (window * 4).cos() * 0.08 - (window * 2).cos() * 0.5 + 0.42
    return _window_end(window, periodic, requires_grad)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  pin_memory=False, requires_grad=False):
    done, dtype = _window_start("kaiser_window", window_length, dtype, layout, device, requires_grad)
    if done is not None:
        return done
    n = window_length + 1 if periodic else window_length
    a = _creation.arange(n, dtype=dtype, device=device)
    alpha = (n - 1) / 2.0
    beta_t = _creation.tensor(beta, dtype=dtype, device=device)
    r = (a - alpha) / alpha
    # 1 - r**2 in one rounding: PyTorch's compiled kernel fuses it into a multiply-add
    one_minus = _creation.ones(n, dtype=dtype, device=device).addcmul(r, r, value=-1)
    window = (beta_t * one_minus.abs().sqrt()).i0() / beta_t.i0()
    return _window_end(window, periodic, requires_grad)


_CONJ = {"conj": _itself, "resolve_conj": _itself, "resolve_neg": _itself, "conj_physical": _itself,
         "is_complex": _false, "is_conj": _false, "is_neg": _false}
FUNCTIONS = {**{name: _copy_of(name, view) for name, view in _VIEWS.items()},
             "split_copy": _pieces_copy("split_copy", "SplitBackward0_copy", lambda x, size, dim=0: x.split(size, dim)),
             "split_with_sizes_copy": _pieces_copy("split_with_sizes_copy", "SplitWithSizesBackward0_copy",
                                                   lambda x, sizes, dim=0: x.split(list(sizes), dim)),
             "unbind_copy": _pieces_copy("unbind_copy", "UnbindBackward0_copy", lambda x, dim=0: x.unbind(dim)),
             "view_copy": view_copy, **_CONJ, "conj_physical_": conj_physical_, "angle": angle,
             "hann_window": hann_window, "hamming_window": hamming_window, "bartlett_window": bartlett_window,
             "blackman_window": blackman_window, "kaiser_window": kaiser_window}
METHODS = {**_CONJ, "conj_physical_": conj_physical_, "angle": angle,
           "is_shared": _false, "share_memory_": _itself, "to_dense": lambda self, dtype=None, *, masked_grad=None:
           self if dtype is None else self.to(dtype),
           "const_data_ptr": lambda self: self.data_ptr(), "dim_order": lambda self, *, ambiguity_check=False:
           tuple(sorted(range(self.ndim), key=lambda d: -self.stride(d)))}
for _device in ("is_xpu", "is_mps", "is_ipu", "is_maia", "is_mtia", "is_xla", "is_vulkan", "is_mkldnn", "is_nested"):
    METHODS[_device] = property(_false)
