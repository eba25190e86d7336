"""``tinytape.fft``: discrete Fourier transforms, computed by numpy's pocketfft.

As PyTorch's, every transform is one of three primitives, after its input is promoted and
resized (``n``/``s``: zero-padded, ConstantPadNdBackward0, or cut, SliceBackward0):

- ``FftC2C``: complex to complex (``fft`` of a complex tensor, ``fftn``, ``ifftn``...);
- ``FftR2C``: real to complex, the whole spectrum or its one-sided half (``fft`` of a real
  tensor, ``rfft``, ``rfftn``; ``ifft`` and ``ihfft`` of a real tensor conjugate its result);
- ``FftC2R``: a one-sided spectrum to a real signal (``irfft``, ``irfftn``; ``hfft`` of the
  conjugate).

Each primitive's gradient is its adjoint (the conjugate Wirtinger convention): the transform
the other way with the dual scaling (``backward`` <-> ``forward``, ``ortho`` itself), the
one-sided halves padded (R2C) or doubled (C2R) as PyTorch's ``fft_r2c_backward`` and
``fft_c2r_backward`` do.  ``norm`` names numpy's scaling of the numpy function called.
"""
import numpy as np

from . import _dtype
from ._tensor import Tensor, _wrap_dim
from .autograd.function import Function
from .ops import complex as complex_ops
from .ops.complex import _host

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


class FftC2C(Function):
    grad_fn_name = "FftC2CBackward0"

    @staticmethod
    def forward(ctx, x, dims, norm, forward):
        ctx.dims, ctx.norm, ctx.forward = dims, norm, forward
        transform = np.fft.fftn if forward else np.fft.ifftn
        dtype = x._data.dtype
        return x._new(_host(x, lambda data: transform(data, axes=dims, norm=norm).astype(dtype, copy=False), x))

    @staticmethod
    def backward(ctx, g):
        return FftC2C.apply(g, ctx.dims, _DUAL[ctx.norm], not ctx.forward), None, None, None


class FftR2C(Function):
    grad_fn_name = "FftR2CBackward0"

    @staticmethod
    def forward(ctx, x, dims, norm, onesided):
        ctx.dims, ctx.norm, ctx.onesided, ctx.last_size = dims, norm, onesided, x.shape[dims[-1]]
        transform, dtype = np.fft.rfftn if onesided else np.fft.fftn, x.dtype.to_complex().np
        return x._new(_host(x, lambda data: transform(data, axes=dims, norm=norm).astype(dtype, copy=False), x))

    @staticmethod
    def backward(ctx, g):
        last = ctx.dims[-1]
        if ctx.onesided and ctx.last_size > g.shape[last]:  # the half spectrum's gradient, zero-padded to the whole
            g = _pad(g, [0, 0] * (g.ndim - 1 - last) + [0, ctx.last_size - g.shape[last]])
        return complex_ops.real(FftC2C.apply(g, ctx.dims, _DUAL[ctx.norm], False)), None, None, None


class FftC2R(Function):
    grad_fn_name = "FftC2RBackward0"

    @staticmethod
    def forward(ctx, x, dims, norm, last_size):
        ctx.dims, ctx.norm = dims, norm
        sizes, dtype = [x.shape[d] for d in dims[:-1]] + [last_size], x.dtype.to_real().np
        return x._new(_host(x, lambda data: np.fft.irfftn(data, sizes, dims, norm).astype(dtype, copy=False), x))

    @staticmethod
    def backward(ctx, g):
        grad = FftR2C.apply(g, ctx.dims, _DUAL[ctx.norm], True)
        last = ctx.dims[-1]
        doubled = g.shape[last] - grad.shape[last]  # the bins a one-sided spectrum stands for twice
        if doubled > 0:
            scale = np.ones(grad.shape[last], grad.dtype.to_real().np)
            scale[1:1 + doubled] = 2
            grad = grad * grad._new(scale.reshape((-1,) + (1,) * (grad.ndim - 1 - last)))
        return grad, None, None, None


def _pad(x, pad):
    from .ops.nn_ops import pad as constant_pad
    return constant_pad(x, pad)


# ---------------------------------------------------------------- arguments, as PyTorch checks them


def _norm(norm, inverse=False):
    """numpy's scaling word for PyTorch's ``norm`` of a transform in the direction numpy's
    function runs (``inverse``: the function runs the other way, the scaling read dually)."""
    if norm is None:
        norm = "backward"
    if norm not in _DUAL:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return _DUAL[norm] if inverse else norm


def _promoted(x, fname, complex_input=None):
    """``x`` as a transform reads it: integers in the default float dtype; ``complex_input``
    True: made complex (ToCopyBackward0), False: refused if complex."""
    if not isinstance(x, Tensor):
        raise TypeError(f"fft_{fname}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    if x.device.type != "cpu":
        raise RuntimeError(f"fft_{fname}: tinytape computes Fourier transforms on the CPU only (got a tensor on "
                           f"{x.device}); move it with .cpu() first")
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = x.to(_dtype.default_float)
    elif x.dtype in (_dtype.float16, _dtype.bfloat16):
        raise RuntimeError(f"Unsupported dtype {_dtype.scalar_type_name(x.dtype)}")
    if complex_input is True and not x.dtype.is_complex:
        x = x.to(x.dtype.to_complex())
    if complex_input is False and x.dtype.is_complex:
        what, fname = ("real-valued input", "rfftn") if fname in ("rfft2", "rfftn") else ("real input", fname)
        raise TypeError(f"{fname} expects a {what} tensor, but got {_dtype.scalar_type_name(x.dtype)}")
    return x


def _dims_and_sizes(x, s, dim, default_all=True):
    """PyTorch's ``canonicalize_fft_shape_and_dim_args``: the transformed dims and their sizes."""
    if dim is not None:
        dim = [dim] if isinstance(dim, int) else list(dim)
        dims = [_wrap_dim(d, x.ndim, "fft") for d in dim]
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
    if s is not None:
        s = [s] if isinstance(s, int) else list(s)
        if dim is not None and len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
        if len(s) > x.ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {x.ndim} dimensions.")
        if dim is None:
            dims = list(range(x.ndim - len(s), x.ndim))
        sizes = [x.shape[d] if n == -1 else n for d, n in zip(dims, s)]
    else:
        if dim is None:
            dims = list(range(x.ndim)) if default_all else [x.ndim - 1]
        sizes = [x.shape[d] for d in dims]
    for n in sizes:
        if n < 1:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return tuple(dims), sizes


def _resized(x, dims, sizes):
    """``x`` zero-padded or cut along ``dims`` to ``sizes`` (PyTorch's ``resize_fft_input``)."""
    pad = [0, 0] * x.ndim
    for d, n in zip(dims, sizes):
        if x.shape[d] > n:
            x = x.narrow(d, 0, n)
        elif x.shape[d] < n:
            pad[2 * (x.ndim - 1 - d) + 1] = n - x.shape[d]
    return _pad(x, pad) if any(pad) else x


# ---------------------------------------------------------------- the transforms


def _c2c(fname, x, s, dim, norm, forward, default_all):
    x = _promoted(x, fname, complex_input=True)
    dims, sizes = _dims_and_sizes(x, s, dim, default_all)
    return FftC2C.apply(_resized(x, dims, sizes), dims, _norm(norm), forward)


def _r2c(fname, x, s, dim, norm, forward, onesided, default_all):
    x = _promoted(x, fname, complex_input=False if onesided else None)
    dims, sizes = _dims_and_sizes(x, s, dim, default_all)
    if x.dtype.is_complex:
        return FftC2C.apply(_resized(x, dims, sizes), dims, _norm(norm), forward)
    out = FftR2C.apply(_resized(x, dims, sizes), dims, _norm(norm, inverse=not forward), onesided)
    return out if forward else complex_ops.conj(out)


def _c2r(fname, x, s, dim, norm, forward, default_all):
    x = _promoted(x, fname, complex_input=True)
    dims, sizes = _dims_and_sizes(x, s, dim, default_all)
    last = dims[-1]
    if s is None or (s[-1] if not isinstance(s, int) else s) == -1:
        sizes[-1] = 2 * (x.shape[last] - 1)
    if sizes[-1] < 1:
        raise RuntimeError(f"Invalid number of data points ({sizes[-1]}) specified")
    x = _resized(x, dims, sizes[:-1] + [sizes[-1] // 2 + 1])
    if forward:  # hfft: the inverse transform of the conjugate, scaled the other way
        return FftC2R.apply(complex_ops.conj(x), dims, _norm(norm, inverse=True), sizes[-1])
    return FftC2R.apply(x, dims, _norm(norm), sizes[-1])


def fft(input, n=None, dim=-1, norm=None):
    return _r2c("fft", input, n, dim, norm, True, False, False)


def ifft(input, n=None, dim=-1, norm=None):
    return _r2c("ifft", input, n, dim, norm, False, False, False)


def rfft(input, n=None, dim=-1, norm=None):
    return _r2c("rfft", input, n, dim, norm, True, True, False)


def irfft(input, n=None, dim=-1, norm=None):
    return _c2r("irfft", input, n, dim, norm, False, False)


def hfft(input, n=None, dim=-1, norm=None):
    return _c2r("hfft", input, n, dim, norm, True, False)


def ihfft(input, n=None, dim=-1, norm=None):
    return _r2c("ihfft", input, n, dim, norm, False, True, False)


def fftn(input, s=None, dim=None, norm=None):
    return _c2c("fftn", input, s, dim, norm, True, True)


def ifftn(input, s=None, dim=None, norm=None):
    return _c2c("ifftn", input, s, dim, norm, False, True)


def rfftn(input, s=None, dim=None, norm=None):
    return _r2c("rfftn", input, s, dim, norm, True, True, True)


def irfftn(input, s=None, dim=None, norm=None):
    return _c2r("irfftn", input, s, dim, norm, False, True)


def fft2(input, s=None, dim=(-2, -1), norm=None):
    return _c2c("fft2", input, s, dim, norm, True, True)


def ifft2(input, s=None, dim=(-2, -1), norm=None):
    return _c2c("ifft2", input, s, dim, norm, False, True)


def rfft2(input, s=None, dim=(-2, -1), norm=None):
    return _r2c("rfft2", input, s, dim, norm, True, True, True)


def irfft2(input, s=None, dim=(-2, -1), norm=None):
    return _c2r("irfft2", input, s, dim, norm, False, True)


# ---------------------------------------------------------------- frequencies and shifts


def _frequencies(values, n, d, dtype, device, requires_grad):
    from ._creation import tensor
    dtype = _dtype.as_dtype(dtype) or _dtype.default_float
    # PyTorch's arange(...).mul_(1.0 / (n * d)): the factor rounded to the dtype, one product each
    scaled = values.astype(dtype.np) * np.asarray(1.0 / (n * d)).astype(dtype.np)
    return tensor(scaled, dtype=dtype, device=device, requires_grad=requires_grad)


def fftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies of an ``n``-point transform with sample spacing ``d``."""
    values = np.concatenate([np.arange((n + 1) // 2), np.arange(-(n // 2), 0)])
    return _frequencies(values, n, d, dtype, device, requires_grad)


def rfftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False):
    return _frequencies(np.arange(n // 2 + 1), n, d, dtype, device, requires_grad)


def _shifted(input, dim, inverse):
    dims = list(range(input.ndim)) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    shifts = [(input.shape[d] + inverse) // 2 for d in dims]
    return input.roll(shifts, dims)


def fftshift(input, dim=None):
    """The zero frequency moved to the middle (a roll by half of each dim)."""
    return _shifted(input, dim, False)


def ifftshift(input, dim=None):
    return _shifted(input, dim, True)
