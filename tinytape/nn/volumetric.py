"""Layers over three spatial dimensions: ``Conv3d``, ``MaxPool3d``, ``AvgPool3d``,
``AdaptiveAvgPool3d`` and ``BatchNorm3d``, with PyTorch's parameters, arguments and reprs
(the ops are ``ops/volumetric.py``'s)."""
from ..ops import volumetric as V
from .conv import _ConvNd
from .module import Module
from .normalization import _BatchNorm
from .pooling import AdaptiveAvgPool1d, _MaxPoolNd


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W) or (C_in, D, H, W); weight
    (C_out, C_in / groups, kd, kh, kw)."""
    _spatial = 3
    _conv = staticmethod(V.conv3d)


class MaxPool3d(_MaxPoolNd):
    _pool = staticmethod(V.max_pool3d)


class AvgPool3d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return V.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool3d(AdaptiveAvgPool1d):
    def forward(self, input):
        return V.adaptive_avg_pool3d(input, self.output_size)


class BatchNorm3d(_BatchNorm):
    """Over (N, C, D, H, W) inputs, per channel C."""
    _ranks = (5,)


MODULES = {"Conv3d": Conv3d, "MaxPool3d": MaxPool3d, "AvgPool3d": AvgPool3d, "AdaptiveAvgPool3d": AdaptiveAvgPool3d,
           "BatchNorm3d": BatchNorm3d}
FUNCTIONAL = V.FUNCTIONAL
