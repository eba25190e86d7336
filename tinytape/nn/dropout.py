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
