"""``Dropout``: the module of ``F.dropout`` (defined with the ops, in ``ops/nn_ops.py``)."""
from ..ops.nn_ops import dropout
from .module import Module


class Dropout(Module):
    """Training: zero each element with probability ``p``, scale the rest by 1/(1-p).
    Evaluation (``eval()``): the identity."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


_SELU_ALPHA = 1.7580993408473766  # -selu's scale * alpha: where SELU's output saturates


def _alpha_dropout(input, p, training, inplace, feature):
    """PyTorch's alpha dropout: one ``bernoulli_(1 - p)`` draw per element (per (sample,
    channel) for ``feature``), dropped values set to SELU's saturation and the result scaled
    and shifted (``a x + b``) to keep the mean and variance of a standard normal."""
    import math

    from .. import _creation
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        zero = _creation.zeros((), dtype=input.dtype, device=input.device)
        return input.mul_(zero) if inplace else input * zero
    shape = tuple(input.shape)
    if feature:
        if input.ndim < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        shape = shape[:2] + (1,) * (input.ndim - 2)
        noise = _creation.empty(*shape, dtype=input.dtype, device=input.device).bernoulli_(1 - p)
    else:  # PyTorch's empty_like: a permuted input's layout, which the draws fill in order
        noise = _creation.empty_like(input).bernoulli_(1 - p)
    a = 1.0 / math.sqrt((_SELU_ALPHA * _SELU_ALPHA * p + 1) * (1 - p))
    b = noise.add(-1).mul_(_SELU_ALPHA * a).add_(_SELU_ALPHA * a * p)
    noise.mul_(a)
    return (input.mul_(noise) if inplace else input * noise).add_(b)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _alpha_dropout(input, p, training, inplace, feature=False)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _alpha_dropout(input, p, training, inplace, feature=True)


class AlphaDropout(Dropout):
    def forward(self, input):
        return alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(Dropout):
    def forward(self, input):
        return feature_alpha_dropout(input, self.p, self.training)
