"""``Embedding`` and ``F.embedding``: rows of a weight table picked by integer indices.

The lookup gathers the rows at flat positions the backend computes from the indices (and
checks against the table's size), and its gradient adds into them (recorded ops, so second
derivatives, the CUDA path and ``tinytape.compile`` follow); the gradient of
the ``padding_idx`` row is zero, and ``scale_grad_by_freq`` divides each row's gradient
by how often its index occurs in the batch, as PyTorch's ``EmbeddingBackward0``."""
from .. import _dtype
from .._creation import empty, zeros
from .._grad_mode import no_grad
from .._tensor import Tensor, type_name
from ..autograd.function import Function
from ..ops import elementwise as ew
from ..ops.indexing import _tensor_positions
from ..ops.shape import scatter_flat, take_flat
from ..ops.sparse_coo import sparse_gradient
from . import init
from .module import Module
from .parameter import Parameter


class _EmbeddingLookup(Function):
    grad_fn_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq, sparse=False):
        flat = indices.reshape(-1)
        try:  # the rows' flat positions, computed and bounds-checked on the backend (no row
            # counts from the end, as PyTorch's lookup: a negative index is out of range)
            ids = _tensor_positions(weight, (flat,), "embedding", wrap=False)
        except IndexError as error:
            raise IndexError(f"index out of range in self (weight {list(weight.shape)}): {error}") \
                from None
        ctx.save_for_backward(flat)
        ctx.ids, ctx.weight_shape = ids, tuple(weight.shape)
        ctx.padding_idx, ctx.scale_grad_by_freq, ctx.sparse = padding_idx, scale_grad_by_freq, sparse
        return take_flat(weight, ids).reshape(tuple(indices.shape) + (weight.shape[1],))

    @staticmethod
    def backward(ctx, grad):
        flat, = ctx.saved_tensors
        rows = grad.reshape(-1, ctx.weight_shape[1])
        if ctx.sparse:  # one entry per lookup (padding_idx's left out), uncoalesced, as PyTorch's
            if ctx.scale_grad_by_freq:
                raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
            if ctx.padding_idx >= 0:
                keep = flat != ctx.padding_idx
                flat, rows = flat[keep], rows[keep]
            return sparse_gradient(flat, rows, ctx.weight_shape), None, None, None, None
        if ctx.scale_grad_by_freq:  # each row's count added up by a kernel, at the lookup's checked positions
            ones = flat._new(flat._backend.full(tuple(flat.shape), 1, flat._data.dtype))
            counts = take_flat(scatter_flat(ones, flat._data, (ctx.weight_shape[0],)), flat._data)
            rows = rows / counts.unsqueeze(1).to(rows.dtype)
        if ctx.padding_idx >= 0:
            rows = ew.where((flat != ctx.padding_idx).unsqueeze(1), rows, 0.0)
        return scatter_flat(rows, ctx.ids, ctx.weight_shape), None, None, None, None


def _check_padding_idx(padding_idx, num_embeddings):
    if padding_idx is None:
        return None
    if padding_idx > 0:
        assert padding_idx < num_embeddings, "Padding_idx must be within num_embeddings"
    elif padding_idx < 0:
        assert padding_idx >= -num_embeddings, "Padding_idx must be within num_embeddings"
        padding_idx = num_embeddings + padding_idx
    return padding_idx


def _renorm_rows(weight, indices, max_norm, norm_type):
    """PyTorch's ``embedding_renorm_``: each row ``indices`` names whose ``norm_type``-norm
    exceeds ``max_norm`` is scaled in place to ``max_norm / (norm + 1e-7)`` times itself."""
    with no_grad():
        # every lookup's row (a row named twice is written twice, with the same numbers: each
        # is scaled from the rows as they were), so no unique() reads the indices on the host
        rows = indices.reshape(-1)
        picked = weight.index_select(0, rows)
        wide = picked.norm(norm_type, 1).to(_dtype.float64)  # the scale in float64, rounded once: PyTorch's double
        scale = ew.where(wide > max_norm, max_norm / (wide + 1e-7), 1.0).to(weight.dtype)
        weight[rows] = picked * scale.unsqueeze(1)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """``weight[input]``: each index of ``input`` replaced by that row of ``weight``."""
    for name, value in (("input", input), ("weight", weight)):
        if not isinstance(value, Tensor):
            raise TypeError(f"embedding(): argument '{name}' must be Tensor, not {type(value).__name__}")
    if input.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {type_name(input.dtype)} instead (while checking arguments for embedding)")
    if weight.dim() != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D, got shape {list(weight.shape)}")
    padding_idx = _check_padding_idx(padding_idx, weight.shape[0])
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    return _EmbeddingLookup.apply(weight, input, -1 if padding_idx is None else padding_idx,
                                  bool(scale_grad_by_freq), bool(sparse))


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``, initialised
    N(0, 1) as PyTorch's (the ``padding_idx`` row zero, and its gradient always zero)."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = _check_padding_idx(padding_idx, num_embeddings)
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            dtype = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
            self.weight = Parameter(empty(num_embeddings, embedding_dim, dtype=dtype, device=device),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            assert list(_weight.shape) == [num_embeddings, embedding_dim], \
                "Shape of weight does not match num_embeddings and embedding_dim"
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = "{num_embeddings}, {embedding_dim}"
        if self.padding_idx is not None:
            s += ", padding_idx={padding_idx}"
        if self.max_norm is not None:
            s += ", max_norm={max_norm}"
        if self.norm_type != 2:
            s += ", norm_type={norm_type}"
        if self.scale_grad_by_freq is not False:
            s += ", scale_grad_by_freq={scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s.format(**self.__dict__)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An ``Embedding`` whose weight is ``embeddings`` (shared, not copied); ``freeze``:
        the weight does not require grad."""
        assert embeddings.dim() == 2, "Embeddings parameter is expected to be 2-dimensional"
        rows, cols = embeddings.shape
        return cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, _freeze=freeze,
                   padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)
