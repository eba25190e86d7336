"""The distances: ``cosine_similarity`` and ``pairwise_distance``, with their modules
``CosineSimilarity`` and ``PairwiseDistance``."""
import numpy as np

from .. import _dtype
from ..autograd.function import Function
from ..ops import elementwise as ew
from ..ops.shape import broadcast
from .module import Module


class _ClampMinKeepGradient(Function):
    """max(x, lo), with the gradient of x itself: PyTorch's cosine_similarity clamps the
    norms in place under no_grad, so the backward sees the clamped value in the division
    and the plain norm's derivative."""

    grad_fn_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, x, lo):
        return x.clamp(min=lo)

    @staticmethod
    def backward(ctx, g):
        return g, None


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps)) over ``dim``, the inputs broadcast
    (PyTorch's order: each normalised first, so the result stays within [-1, 1])."""
    from .. import linalg
    x1, x2 = ew.operands(x1, x2, "cosine_similarity")
    if not x1.dtype.is_floating_point:
        x1, x2 = ew._float_input(x1, "cosine_similarity"), ew._float_input(x2, "cosine_similarity")
    shape = np.broadcast_shapes(x1.shape, x2.shape)
    x1, x2 = broadcast(x1, shape), broadcast(x2, shape)
    n1 = _ClampMinKeepGradient.apply(linalg.vector_norm(x1, 2, dim, keepdim=True), eps)
    n2 = _ClampMinKeepGradient.apply(linalg.vector_norm(x2, 2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of ``x1 - x2 + eps`` over the last dim, one entry named NormBackward1 as
    PyTorch's."""
    from ..ops.composite_entry import composite_op
    dim = max(x1.ndim, x2.ndim) - 1
    return composite_op("NormBackward1", lambda a, b: (a - b + eps).norm(p, dim, keepdim), x1, x2)

class CosineSimilarity(Module):
    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


def pdist(input, p=2.0):
    """The p-norm distances between every pair of rows ``i < j`` of a 2-D ``input``, in
    the order of the upper triangle (``PdistBackward0``)."""
    from ..linalg import vector_norm
    from ..ops.composite_entry import composite_op
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    first, second = np.triu_indices(input.shape[0], 1)
    from .. import _creation
    rows = [_creation.tensor(ids.astype(np.int64), device=input.device) for ids in (first, second)]

    def compute(x):
        diff = ew.sub(x.index_select(0, rows[0]), x.index_select(0, rows[1]))
        if p == 2:  # PyTorch's pdist kernel is not its norm's: its own order, where the backend has it
            from .._grad_mode import is_grad_enabled
            if not is_grad_enabled() and hasattr(diff._backend, "pdist_two") and diff.numel() \
                    and diff.dtype in (_dtype.float32, _dtype.float64):
                return diff._new(diff._backend.pdist_two(diff._data))
            return diff.mul(diff).sum(1).sqrt()
        if p != float("inf"):
            return vector_norm(diff, float(p), 1)
        # PyTorch's gradient gives every coordinate tied for the largest |difference| the
        # whole sign(difference) (a max norm's gradient would share it among the ties): the
        # distance's value, plus a zero whose gradient is that
        size = diff.abs()
        dist = vector_norm(diff.detach(), float(p), 1)
        ties = ew.eq(size.detach(), dist.unsqueeze(1))
        return dist + ((size - size.detach()) * ties).sum(1)
    return composite_op("PdistBackward0", compute, input)
