"""``F.unfold`` / ``F.fold`` and ``nn.Unfold`` / ``nn.Fold``: every sliding block of an image
as a column, and the columns summed back into an image (each the other's adjoint).

They are the convolution's window kernels (``ops/windows.py``'s ``Im2Col`` / ``Col2Im``)
with PyTorch's (N, C * kh * kw, L) layout: one tape entry each, named as PyTorch's
(Im2ColBackward0, Col2ImBackward0), whose backward is the other op, so second derivatives
follow.
"""
import numbers

from ..autograd.function import Function
from ..ops import shape as sh
from ..ops.windows import Col2Im, Im2Col, _check_tensor, _dtype_name
from .module import Module


def _pair(v, name):
    v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(v) != 2 or not all(isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in v):
        raise RuntimeError(f"{name} must be an int or a pair of ints, got {v!r}")
    return tuple(int(i) for i in v)


def _geometry(n, c, size, kernel_size, dilation, padding, stride, op):
    (h, w), (kh, kw) = size, kernel_size
    (dh, dw), (ph, pw), (sh_, sw) = dilation, padding, stride
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {kh} kernel_width: {kw}")
    if sh_ <= 0 or sw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {sh_} stride_width: {sw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {dh} "
                           f"dilation_width: {dw}")
    if ph < 0 or pw < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {ph} pad_width: {pw}")
    oh = (h + 2 * ph - (dh * (kh - 1) + 1)) // sh_ + 1
    ow = (w + 2 * pw - (dw * (kw - 1) + 1)) // sw + 1
    if oh < 1 or ow < 1:
        raise RuntimeError(f"Given {'output_size=' if op == 'fold' else 'input with spatial size '}({h}, {w}), "
                           f"kernel_size=({kh}, {kw}), dilation=({dh}, {dw}), padding=({ph}, {pw}), calculated "
                           f"shape of the array of sliding blocks as ({oh}, {ow}), but its components must be at "
                           "least one.")
    return (n, c, h, w, kh, kw, sh_, sw, ph, pw, dh, dw, oh, ow)


def _columns_layout(cols, geometry):
    """Im2Col's (c * kh * kw, n * L) as PyTorch's (n, c * kh * kw, L)."""
    n, blocks = geometry[0], geometry[12] * geometry[13]
    return sh.contiguous(sh.permute(sh.reshape(cols, (cols.shape[0], n, blocks)), (1, 0, 2)))


def _im2col_layout(blocks):
    """PyTorch's (n, c * kh * kw, L) as Im2Col's (c * kh * kw, n * L)."""
    n, rows, count = blocks.shape
    return sh.reshape(sh.permute(blocks, (1, 0, 2)), (rows, n * count))


class Unfold2D(Function):
    grad_fn_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, geometry):
        ctx.geometry = geometry
        return _columns_layout(Im2Col.apply(x, geometry, 0.0), geometry)

    @staticmethod
    def backward(ctx, g):
        return Fold2D.apply(g, ctx.geometry), None


class Fold2D(Function):
    grad_fn_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, blocks, geometry):
        ctx.geometry = geometry
        return Col2Im.apply(_im2col_layout(blocks), geometry)

    @staticmethod
    def backward(ctx, g):
        return Unfold2D.apply(g, ctx.geometry), None


def _check_floating(input, kernel):
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"{kernel}_out_cpu\" not implemented for '{_dtype_name(input.dtype)}'")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding blocks of an (N, C, H, W) or (C, H, W) input as columns: (N, C * kh * kw, L)."""
    _check_tensor(input, "unfold")
    if input.ndim not in (3, 4):
        if input.ndim < 3:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-input.ndim}, "
                             f"{input.ndim - 1}], but got 2)")
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {list(input.shape)}")
    _check_floating(input, "im2col")
    batched = input if input.ndim == 4 else sh.unsqueeze(input, 0)
    n, c, h, w = batched.shape
    geometry = _geometry(n, c, (h, w), _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation"),
                         _pair(padding, "padding"), _pair(stride, "stride"), "unfold")
    out = Unfold2D.apply(batched, geometry)
    return out if input.ndim == 4 else sh.squeeze(out, 0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Columns (N, C * kh * kw, L) or (C * kh * kw, L) summed back into an image of ``output_size``."""
    _check_tensor(input, "fold")
    if input.ndim not in (2, 3):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {list(input.shape)}")
    _check_floating(input, "col2im")
    batched = input if input.ndim == 3 else sh.unsqueeze(input, 0)
    kernel = _pair(kernel_size, "kernel_size")
    n, rows, count = batched.shape
    if rows % (kernel[0] * kernel[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={rows} and kernel_size=({kernel[0]}, {kernel[1]}).")
    dilation, padding, stride = _pair(dilation, "dilation"), _pair(padding, "padding"), _pair(stride, "stride")
    size = _pair(output_size, "output_size")
    geometry = _geometry(n, rows // (kernel[0] * kernel[1]), size, kernel, dilation, padding, stride, "fold")
    oh, ow = geometry[12], geometry[13]
    if oh * ow != count:
        raise RuntimeError(f"Given output_size=({size[0]}, {size[1]}), kernel_size=({kernel[0]}, {kernel[1]}), "
                           f"dilation=({dilation[0]}, {dilation[1]}), padding=({padding[0]}, {padding[1]}), "
                           f"stride=({stride[0]}, {stride[1]}), expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {oh} * {ow} = {oh * ow}, but got input.size(2)="
                           f"{count}.")
    out = Fold2D.apply(sh.contiguous(batched), geometry)
    return out if input.ndim == 3 else sh.squeeze(out, 0)


class Unfold(Module):
    """Extracts sliding local blocks of a batched image (``F.unfold``)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Combines sliding local blocks into an image of ``output_size`` (``F.fold``)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


MODULES = {"Unfold": Unfold, "Fold": Fold}
FUNCTIONAL = {"unfold": unfold, "fold": fold}
