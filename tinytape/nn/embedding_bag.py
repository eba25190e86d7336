"""``nn.EmbeddingBag`` and ``F.embedding_bag``: the rows of a weight table picked by indices,
reduced per bag (sum, mean or max) without forming the (indices, dim) lookup first.

Bags come from a 2-D input (one bag per row) or a 1-D input cut at ``offsets`` (with
``include_last_offset``, the last offset ends the last bag).  Entries equal to
``padding_idx`` are left out of their bag (and of a mean's count); an empty bag gives
zeros.  ``per_sample_weights`` scales each entry of a sum.  One tape entry,
EmbeddingBagBackward0, whose backward is written with recorded ops (the flat gather and
scatter-add of ``ops/shape.py``), so second derivatives and the CUDA path follow.  With
``sparse=True`` (sum and mean) the weight's gradient is PyTorch's sparse COO one: an entry
per kept lookup, in the input's order, uncoalesced, not itself differentiable.
"""
import numpy as np

from .. import _dtype
from .._creation import empty
from .._grad_mode import no_grad
from .._tensor import Tensor, type_name
from ..autograd.function import Function
from ..ops import elementwise as ew
from ..ops import reduction as red
from ..ops.shape import scatter_flat, take_flat
from ..ops.sparse_coo import sparse_gradient
from . import init
from .module import Module
from .parameter import Parameter
from .sparse import _check_padding_idx, _renorm_rows

_MODES = ("sum", "mean", "max")


def _host(t):
    return t._backend.to_numpy(t._data)


def _constant(like, array):
    from .._creation import tensor
    return tensor(np.asarray(array), dtype=like.dtype, device=like.device)


class _Bags:
    """The host-side plan: each kept entry's index, bag and position in the input."""

    def __init__(self, indices, starts, ends, padding_idx, dim):
        bag_of = np.zeros(indices.size, np.int64) - 1
        for b, (s, e) in enumerate(zip(starts, ends)):
            bag_of[s:e] = b
        keep = bag_of >= 0
        if padding_idx is not None:
            keep &= indices != padding_idx
        self.entries = np.flatnonzero(keep)  # positions in the flat input
        self.index, self.bag = indices[self.entries], bag_of[self.entries]
        self.count = len(starts)
        self.sizes = np.bincount(self.bag, minlength=self.count)
        self.dim = dim
        columns = np.arange(dim, dtype=np.int64)
        self.rows = self.index[:, None] * dim + columns  # the kept entries' rows in the flat table
        self.targets = self.bag[:, None] * dim + columns  # where each lands in the (bags, dim) output


class EmbeddingBagFunction(Function):
    grad_fn_name = "EmbeddingBagBackward0"

    @staticmethod
    def forward(ctx, weight, per_sample_weights, bags, mode, scale_grad_by_freq, sparse=False):
        ctx.bags, ctx.mode, ctx.scale_grad_by_freq, ctx.sparse = bags, mode, scale_grad_by_freq, sparse
        ctx.weight_shape = tuple(weight.shape)
        shape = (bags.count, bags.dim)
        if mode == "max":
            ctx.chosen, ctx.filled = _argmax_rows(_host(weight), bags)
            out = take_flat(weight, ctx.chosen)
            return ew.where(_constant(weight, ctx.filled).bool(), out, 0.0) if not ctx.filled.all() else out
        rows = take_flat(weight, bags.rows)
        if per_sample_weights is not None:
            rows = ew.mul(rows, take_flat(per_sample_weights, bags.entries).unsqueeze(1))
        ctx.save_for_backward(weight, per_sample_weights)
        out = scatter_flat(rows, bags.targets, shape)
        return ew.div(out, _constant(weight, np.maximum(bags.sizes, 1)[:, None])) if mode == "mean" else out

    @staticmethod
    def backward(ctx, g):
        bags, wants = ctx.bags, ctx.needs_input_grad
        if ctx.mode == "max":
            grad = g if ctx.filled.all() else ew.where(_constant(g, ctx.filled).bool(), g, 0.0)
            return scatter_flat(grad.contiguous(), ctx.chosen, ctx.weight_shape), None, None, None, None, None
        weight, per_sample_weights = ctx.saved_tensors
        weight_shape = ctx.weight_shape
        if ctx.mode == "mean":
            g = ew.div(g, _constant(g, np.maximum(bags.sizes, 1)[:, None]))
        per_entry = take_flat(g.contiguous(), bags.targets)  # (kept entries, dim)
        grad_weight = grad_psw = None
        if wants[0]:
            rows = per_entry
            if per_sample_weights is not None:
                rows = ew.mul(rows, take_flat(per_sample_weights, bags.entries).unsqueeze(1))
            if ctx.sparse:  # one entry per kept lookup, in the input's order, uncoalesced, as PyTorch's
                if ctx.scale_grad_by_freq:
                    raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
                grad_weight = sparse_gradient(_index_tensor(rows, bags.index), rows.detach(), weight_shape)
            elif ctx.scale_grad_by_freq:
                frequency = np.bincount(bags.index, minlength=weight_shape[0])[bags.index]
                rows = ew.div(rows, _constant(rows, frequency[:, None]))
            if not ctx.sparse:
                grad_weight = scatter_flat(rows, bags.rows, weight_shape)
        if wants[1] and per_sample_weights is not None:
            dots = red.sum(ew.mul(per_entry, take_flat(weight, bags.rows)), 1)
            grad_psw = scatter_flat(dots, bags.entries, tuple(per_sample_weights.shape))
        return grad_weight, grad_psw, None, None, None, None


def _index_tensor(like, array):
    from .._creation import tensor
    return tensor(np.asarray(array, np.int64), device=like.device)


def _argmax_rows(table, bags):
    """For each bag and column, the flat table position of its largest entry (the first of
    equal ones, as PyTorch's loop keeps), and which bags have any entry."""
    dim = bags.dim
    chosen = np.zeros((bags.count, dim), np.int64)
    best = np.full((bags.count, dim), -np.inf)
    seen = np.zeros(bags.count, bool)
    for index, bag in zip(bags.index, bags.bag):
        values = table[index]
        better = ~seen[bag] | (values > best[bag])
        best[bag] = np.where(better, values, best[bag])
        chosen[bag] = np.where(better, index * dim + np.arange(dim), chosen[bag])
        seen[bag] = True
    return chosen, np.repeat(seen[:, None], dim, 1)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """The bags' sums, means or maxima of ``weight``'s rows picked by ``input``: (bags, dim)."""
    for name, value in (("input", input), ("weight", weight)):
        if not isinstance(value, Tensor):
            raise TypeError(f"embedding_bag(): argument '{name}' must be Tensor, not {type(value).__name__}")
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
                         f"must have the same shape as the input ({input.shape})".replace("tinytape.Size", "torch.Size"))
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed "
                             f"length sequences. However, found offsets of type {type(offsets)}".replace(
                                 "tinytape._tensor.Tensor", "torch.Tensor").replace("tinytape.Tensor", "torch.Tensor"))
        n, length = input.shape
        starts, ends = np.arange(n) * length, np.arange(1, n + 1) * length
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        _check_index_dtype(input)
        _check_index_dtype(offsets)
        cut = _host(offsets).astype(np.int64)
        if cut.size and cut[0] != 0:
            raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                               f"position 0. However, got {cut[0]}\n[ torch.LongTensor{{}} ]")
        if cut.size and cut[-1] > input.shape[0]:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {input.shape[0]} but got "
                               f"offsets[-1] of {cut[-1]}")
        if (np.diff(cut) < 0).any():
            raise RuntimeError(f"embedding_bag: offsets must not decrease, got {cut.tolist()}")
        if include_last_offset:
            starts, ends = cut[:-1], cut[1:]
        else:
            starts, ends = cut, np.append(cut[1:], input.shape[0])
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    _check_index_dtype(input)
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    indices = _host(input).astype(np.int64).reshape(-1)
    bad = np.flatnonzero((indices < 0) | (indices >= weight.shape[0]))
    if bad.size:
        raise RuntimeError(f"Index {bad[0]} of input takes value {indices[bad[0]]} which is not in the valid range "
                           f"[0, {weight.shape[0]})")
    padding_idx = _check_padding_idx(padding_idx, weight.shape[0])
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    bags = _Bags(indices, starts, ends, padding_idx, weight.shape[1])
    psw = per_sample_weights.reshape(-1) if per_sample_weights is not None else None
    return EmbeddingBagFunction.apply(weight, psw, bags, mode, bool(scale_grad_by_freq), bool(sparse))


def _check_index_dtype(t):
    if t.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {type_name(t.dtype).replace('tinytape.', 'torch.')} instead (while "
                           "checking arguments for embedding_bag)")


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings (``F.embedding_bag``); the weight N(0, 1),
    its ``padding_idx`` row zero."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None, device=None,
                 dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.padding_idx = _check_padding_idx(padding_idx, num_embeddings)
        if _weight is None:
            dtype = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
            self.weight = Parameter(empty(num_embeddings, embedding_dim, dtype=dtype, device=device))
            self.reset_parameters()
        else:
            assert list(_weight.shape) == [num_embeddings, embedding_dim], \
                "Shape of weight does not match num_embeddings and embedding_dim"
            self.weight = Parameter(_weight)
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input, offsets=None, per_sample_weights=None):
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                             self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        assert embeddings.dim() == 2, "Embeddings parameter is expected to be 2-dimensional"
        rows, cols = embeddings.shape
        bag = cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, max_norm=max_norm,
                  norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag


MODULES = {"EmbeddingBag": EmbeddingBag}
FUNCTIONAL = {"embedding_bag": embedding_bag}
