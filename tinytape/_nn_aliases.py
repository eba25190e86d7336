"""The ``nn.functional`` names PyTorch also has as ``torch.*`` (``torch.selu``,
``torch.conv2d``, ``torch.max_pool2d``, ...): the same functions where the signatures
agree, PyTorch's argument orders where they do not (``torch.embedding(weight, input)``); and
``Tensor.prelu``."""
from .nn import functional as F

_SAME = ("adaptive_avg_pool1d", "avg_pool1d", "bilinear", "celu", "celu_", "channel_shuffle", "conv1d", "conv2d",
         "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "hardshrink", "max_pool1d", "max_pool2d",
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


def dropout_(input, p, train):
    return F.dropout(input, p, train, inplace=True)


def alpha_dropout_(input, p, train):
    return F.alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout_(input, p, train):
    return F.feature_alpha_dropout(input, p, train, inplace=True)


def feature_dropout(input, p, train):
    from .nn.breadth import _feature_dropout
    return _feature_dropout(input, p, train, False)


def feature_dropout_(input, p, train):
    from .nn.breadth import _feature_dropout
    return _feature_dropout(input, p, train, True)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


# the losses' ``torch.*`` forms take the reduction as PyTorch's enum (0: none, 1: mean, 2: sum);
# their default, as PyTorch's argument parser reads it, reduces nothing
_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(op, reduction):
    if isinstance(reduction, bool) or not isinstance(reduction, int):
        raise TypeError(f"{op}(): argument 'reduction' must be int, not {type(reduction).__name__}")
    return _REDUCTIONS.get(reduction, "none")  # (another number reduces nothing, as PyTorch's)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    return F.binary_cross_entropy_with_logits(input, target, weight, pos_weight=pos_weight,
                                              reduction=_reduction("binary_cross_entropy_with_logits", reduction))


def kl_div(input, target, reduction=0, *, log_target=False):
    import warnings
    with warnings.catch_warnings():  # (F.kl_div's advice about 'mean' is not torch.kl_div's)
        warnings.simplefilter("ignore")
        return F.kl_div(input, target, reduction=_reduction("kl_div", reduction), log_target=log_target)


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction("hinge_embedding_loss", reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    return F.margin_ranking_loss(input1, input2, target, margin,
                                 reduction=_reduction("margin_ranking_loss", reduction))


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction("cosine_embedding_loss", reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False, reduction=0):
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_reduction("triplet_margin_loss", reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_reduction("poisson_nll_loss", reduction))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0, zero_infinity=False):
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, _reduction("ctc_loss", reduction),
                      zero_infinity)


def adaptive_max_pool1d(input, output_size):
    """(values, indices) of the max over each adaptive window of the last dim (PyTorch's windows:
    ``[floor(i*n/o), ceil((i+1)*n/o))``)."""
    values = F.adaptive_max_pool1d(input, output_size)
    from . import _grad_mode
    from .ops.shape import cat
    n = input.shape[-1]
    o = output_size if isinstance(output_size, int) else output_size[0]
    with _grad_mode.no_grad():
        parts = []
        for i in range(o):
            start = (i * n) // o
            parts.append(input[..., start:-((-(i + 1) * n) // o)].argmax(-1, keepdim=True) + start)
        indices = cat(parts, -1)
    return values, indices


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode, return_indices=True)


def constant_pad_nd(input, pad, value=0):
    return F.pad(input, tuple(pad), value=value)


FUNCTIONS = {name: getattr(F, name) for name in _SAME}
FUNCTIONS.update(alpha_dropout=alpha_dropout, feature_alpha_dropout=feature_alpha_dropout, layer_norm=layer_norm,
                 group_norm=group_norm, embedding=embedding)
FUNCTIONS.update({f.__name__: f for f in (
    dropout_, alpha_dropout_, feature_alpha_dropout_, feature_dropout, feature_dropout_, batch_norm, instance_norm,
    binary_cross_entropy_with_logits, kl_div, hinge_embedding_loss, margin_ranking_loss, cosine_embedding_loss,
    triplet_margin_loss, poisson_nll_loss, ctc_loss, adaptive_max_pool1d, max_pool1d_with_indices, constant_pad_nd)},
    native_channel_shuffle=F.channel_shuffle)
METHODS = {"prelu": F.prelu}  # Tensor.prelu
