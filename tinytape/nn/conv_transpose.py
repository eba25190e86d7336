"""``ConvTranspose1d``/``2d``/``3d`` (and ``F.conv_transpose1d/2d/3d``) with PyTorch's
parameters, initialisation and repr: the gradient of a convolution with respect to its input,
computed as a convolution of the input spread out by ``stride`` (zeros between its
elements), padded by ``dilation * (kernel - 1) - padding``, with the kernel flipped and its
channel axes swapped."""
import math

import numpy as np

from .. import _autocast, _creation, _dtype
from ..ops import shape as sh
from ..ops.composite_entry import composite_op
from ..ops.nn_ops import pad
from ..ops.volumetric import conv3d
from ..ops.windows import conv1d, conv2d
from . import init
from .conv import _ConvNd, _ntuple
from .conv_transpose_checks import check_conv_transpose
from .module import Module
from .parameter import Parameter


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, n):
    stride, padding, output_padding, dilation = check_conv_transpose(input, weight, bias, stride, padding,
                                                                     output_padding, groups, dilation, n)
    kernel = tuple(weight.shape[2:])

    def compute(x, w, *b):
        if any(s > 1 for s in stride):  # zeros between the input's elements
            sizes = tuple(x.shape[:2]) + tuple((length - 1) * s + 1 for length, s in zip(x.shape[2:], stride))
            grid = np.zeros(sizes, bool)
            grid[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)] = True
            ids = np.flatnonzero(grid)
            x = sh.scatter_flat(x.reshape(-1), ids, sizes)
        amounts = []
        for k, p, d, op in zip(reversed(kernel), reversed(padding), reversed(dilation), reversed(output_padding)):
            edge = d * (k - 1) - p
            amounts += [edge, edge + op]
        if any(amounts):
            x = pad(x, tuple(amounts))
        g = groups
        flipped = w.flip(tuple(range(2, 2 + n)))
        cin, cout = w.shape[0], w.shape[1]
        turned = flipped.reshape(g, cin // g, cout, math.prod(kernel)).transpose(1, 2)  # (rank 4 for the CUDA path)
        turned = turned.contiguous().reshape(g * cout, cin // g, *kernel)
        conv = {1: conv1d, 2: conv2d, 3: conv3d}[n]
        bias = b[0].to(x.dtype) if b else None  # (PyTorch's 1-D and 2-D kernels cast it; 3-D ones refuse)
        return conv(x, turned, bias, 1, 0, dilation, g)
    unbatched = input.ndim == n + 1  # as PyTorch's: the batched op between an unsqueeze and a squeeze
    tensors = (input.unsqueeze(0) if unbatched else input, weight) + ((bias,) if bias is not None else ())
    out = composite_op("ConvolutionBackward0", compute, *tensors)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    if _autocast.state.__dict__:
        input, weight, bias = _autocast.lower(input, weight, bias)
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    if _autocast.state.__dict__:
        input, weight, bias = _autocast.lower(input, weight, bias)
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    if _autocast.state.__dict__:
        input, weight, bias = _autocast.lower(input, weight, bias)
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)


class _ConvTransposeNd(Module):
    _spatial = 0

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        n = self._spatial
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = _ntuple(kernel_size, n), _ntuple(stride, n), _ntuple(padding, n)
        self.dilation, self.output_padding = _ntuple(dilation, n), _ntuple(output_padding, n)
        self.groups, self.padding_mode, self.transposed = groups, padding_mode, True
        dtype = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
        self.weight = Parameter(_creation.empty(in_channels, out_channels // groups, *self.kernel_size, dtype=dtype,
                                                device=device))
        if bias:
            self.bias = Parameter(_creation.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def forward(self, input, output_size=None):
        if self.padding_mode != "zeros":  # (changed after construction)
            raise ValueError(f"Only `zeros` padding mode is supported for {type(self).__name__}")
        output_padding = self._output_padding(input, output_size, self.stride, self.padding, self.kernel_size,
                                              self._spatial, self.dilation)
        return _conv_transpose(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                               self.groups, self.dilation, self._spatial)

    def _output_padding(self, input, output_size, stride, padding, kernel_size, num_spatial_dims, dilation=None):
        """``self.output_padding``, or the one that makes the output ``output_size`` (its spatial
        sizes, or all of them with the batch and channel axes), in PyTorch's words where none can."""
        if output_size is None:
            return list(self.output_padding)
        num_non_spatial_dims = 2 if input.dim() == num_spatial_dims + 2 else 1
        if len(output_size) == num_non_spatial_dims + num_spatial_dims:
            output_size = output_size[num_non_spatial_dims:]
        if len(output_size) != num_spatial_dims:
            raise ValueError(f"ConvTranspose{num_spatial_dims}D: for {input.dim()}D input, output_size must have "
                             f"{num_spatial_dims} or {num_non_spatial_dims + num_spatial_dims} elements "
                             f"(got {len(output_size)})")
        min_sizes = [(input.size(d + num_non_spatial_dims) - 1) * stride[d] - 2 * padding[d]
                     + (dilation[d] if dilation is not None else 1) * (kernel_size[d] - 1) + 1
                     for d in range(num_spatial_dims)]
        max_sizes = [min_sizes[d] + stride[d] - 1 for d in range(num_spatial_dims)]
        for size, min_size, max_size in zip(output_size, min_sizes, max_sizes):
            if size < min_size or size > max_size:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes range from "
                                 f"{min_sizes} to {max_sizes} (for an input of {input.size()[2:]})")
        return [output_size[d] - min_sizes[d] for d in range(num_spatial_dims)]

    extra_repr = _ConvNd.extra_repr  # PyTorch's _ConvNd.extra_repr, output_padding included


class ConvTranspose1d(_ConvTransposeNd):
    _spatial = 1


class ConvTranspose2d(_ConvTransposeNd):
    _spatial = 2


class ConvTranspose3d(_ConvTransposeNd):
    _spatial = 3
