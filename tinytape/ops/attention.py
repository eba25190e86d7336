"""``scaled_dot_product_attention``: ``softmax(q k^T * scale + mask) v``.

For 3-D and 4-D inputs with no dropout and one head size, PyTorch's CPU path is its fused
flash kernel: one tape entry, ``ScaledDotProductFlashAttentionForCpuBackward0``, whose
backward is the attention's gradient written out (below, with recorded ops, so it can be
differentiated again), its output laid out as the query is.  Other calls (dropout, 5-D
inputs, a value head size of its own, a mask that requires grad) are PyTorch's math path:
the recorded ops themselves."""
import math

import numpy as np

from .. import _dtype
from ..autograd.function import Function
from ..backend.layout import call_in_order, elementwise_order
from . import elementwise as ew
from . import linalg as la
from . import reduction as red
from . import shape as sh
from .softmax import softmax
from .windows import _constant


def _weights(query, key, mask, scale):
    """softmax(q k^T * scale + mask) over the keys; ``mask`` bool (False: masked) or additive."""
    scores = ew.mul(la.matmul(query, sh.transpose(key, -2, -1)), scale)
    if mask is not None:
        scores = ew.where(mask, scores, -math.inf) if mask.dtype is _dtype.bool_ else ew.add(scores, mask)
    return softmax(scores, -1)


def _grouped(t, groups):
    """Key or value heads each repeated for the ``groups`` query heads they serve."""
    return t if groups == 1 else t.repeat_interleave(groups, -3)


def _ungrouped(g, groups):
    """The gradient of ``_grouped``: each head's copies summed."""
    if groups == 1:
        return g
    return red.sum(sh.reshape(g, tuple(g.shape[:-3]) + (g.shape[-3] // groups, groups) + tuple(g.shape[-2:])), -3)


def _laid_out_as(out, query):
    """``out`` in ``query``'s memory order, as the fused kernel allocates its output (``empty_like``
    the query, whose heads are often a transposed (batch, length, heads, size) projection): so
    ``out.transpose(1, 2).view(...)`` works where it works in PyTorch."""
    order = elementwise_order(query._data.shape, (query._data,))  # (PyTorch's infer_dense_strides)
    return out if order is None else out._new(call_in_order(out._backend, "copy", order, (out._data,)))


class ScaledDotProductFlashAttentionForCpu(Function):
    grad_fn_name = "ScaledDotProductFlashAttentionForCpuBackward0"

    @staticmethod
    def forward(ctx, query, key, value, mask, scale, groups):
        ctx.save_for_backward(query, key, value)
        ctx.mask, ctx.scale, ctx.groups = mask, scale, groups
        return _laid_out_as(la.matmul(_weights(query, _grouped(key, groups), mask, scale), _grouped(value, groups)),
                            query)

    @staticmethod
    def backward(ctx, g):
        query, key, value = ctx.saved_tensors
        k, v = _grouped(key, ctx.groups), _grouped(value, ctx.groups)
        p = _weights(query, k, ctx.mask, ctx.scale)
        grad_v = la.matmul(sh.transpose(p, -2, -1), g)
        grad_p = la.matmul(g, sh.transpose(v, -2, -1))
        # the softmax's backward: p * (dp - sum(dp * p)); masked entries have p = 0
        grad_scores = ew.mul(p, ew.sub(grad_p, red.sum(ew.mul(grad_p, p), -1, keepdim=True)))
        grad_s = ew.mul(grad_scores, ctx.scale)
        grad_q = la.matmul(grad_s, k)
        grad_k = la.matmul(sh.transpose(grad_s, -2, -1), query)
        return grad_q, _ungrouped(grad_k, ctx.groups), _ungrouped(grad_v, ctx.groups), None, None, None


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    groups = 1
    if enable_gqa and key.ndim >= 3 and query.shape[-3] != key.shape[-3]:
        # grouped-query attention: each key/value head serves query.size(-3) // key.size(-3) query heads
        if query.shape[-3] % key.shape[-3] or key.shape[-3] != value.shape[-3]:
            raise RuntimeError(f"scaled_dot_product_attention: number of heads in key and value must divide the "
                               f"number of heads in query (query {list(query.shape)}, key {list(key.shape)}, "
                               f"value {list(value.shape)})")
        groups = query.shape[-3] // key.shape[-3]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    mask = attn_mask
    if is_causal:
        mask = _constant(query, np.tril(np.ones((query.shape[-2], key.shape[-2]), bool)), _dtype.bool_)
    if dropout_p == 0.0 and query.ndim in (3, 4) and value.shape[-1] == query.shape[-1] == key.shape[-1] \
            and query.ndim == key.ndim == value.ndim and not (attn_mask is not None and attn_mask.requires_grad):
        if query.ndim == 3:  # PyTorch gives the fused kernel a batch of one
            return sh.squeeze(ScaledDotProductFlashAttentionForCpu.apply(
                sh.unsqueeze(query, 0), sh.unsqueeze(key, 0), sh.unsqueeze(value, 0), mask, scale, groups), 0)
        return ScaledDotProductFlashAttentionForCpu.apply(query, key, value, mask, scale, groups)
    weights = _weights(query, _grouped(key, groups), mask, scale)
    if dropout_p > 0.0:  # PyTorch's math path: at::dropout on the attention weights
        from .nn_ops import dropout
        weights = dropout(weights, dropout_p, True)
    return la.matmul(weights, _grouped(value, groups))
