"""The ``nn.functional`` names PyTorch also has as ``torch.*`` (``torch.selu``,
``torch.conv2d``, ``torch.max_pool2d``, ...): the same functions where the signatures
agree, PyTorch's argument orders where they do not (``torch.embedding(weight, input)``); and
``Tensor.prelu``."""
from .nn import functional as F

_SAME = ("adaptive_avg_pool1d", "avg_pool1d", "bilinear", "celu", "celu_", "conv1d", "conv2d", "conv3d",
         "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "hardshrink", "max_pool1d", "max_pool2d",
         "max_pool3d", "pdist", "pixel_shuffle", "pixel_unshuffle", "prelu", "rms_norm", "rrelu", "rrelu_",
         "selu", "selu_", "threshold", "threshold_")


def alpha_dropout(input, p, train):
    return F.alpha_dropout(input, p, train)


def feature_alpha_dropout(input, p, train):
    return F.feature_alpha_dropout(input, p, train)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    return F.group_norm(input, num_groups, weight, bias, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    return F.embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


FUNCTIONS = {name: getattr(F, name) for name in _SAME}
FUNCTIONS.update(alpha_dropout=alpha_dropout, feature_alpha_dropout=feature_alpha_dropout, layer_norm=layer_norm,
                 group_norm=group_norm, embedding=embedding)
METHODS = {"prelu": F.prelu}  # Tensor.prelu
