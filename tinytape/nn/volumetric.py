"""Layers over three spatial dimensions: ``Conv3d``, ``MaxPool3d``, ``AvgPool3d``,
``AdaptiveAvgPool3d`` and ``BatchNorm3d``, with PyTorch's parameters, arguments and reprs
(the ops are ``ops/volumetric.py``'s)."""
from ..ops import volumetric as V
from .conv import _ConvNd
from .normalization import _BatchNorm
from .pooling import AdaptiveAvgPool1d, AvgPool2d, _MaxPoolNd


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W) or (C_in, D, H, W); weight
    (C_out, C_in / groups, kd, kh, kw)."""
    _spatial = 3
    _conv = staticmethod(V.conv3d)


class MaxPool3d(_MaxPoolNd):
    _pool = staticmethod(V.max_pool3d)


class AvgPool3d(AvgPool2d):
    _pool = staticmethod(V.avg_pool3d)


class AdaptiveAvgPool3d(AdaptiveAvgPool1d):
    def forward(self, input):
        return V.adaptive_avg_pool3d(input, self.output_size)


class BatchNorm3d(_BatchNorm):
    """Over (N, C, D, H, W) inputs, per channel C."""
    _ranks = (5,)


MODULES = {"Conv3d": Conv3d, "MaxPool3d": MaxPool3d, "AvgPool3d": AvgPool3d, "AdaptiveAvgPool3d": AdaptiveAvgPool3d,
           "BatchNorm3d": BatchNorm3d}
FUNCTIONAL = V.FUNCTIONAL
