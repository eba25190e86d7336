"""Sparse COO tensors, the part of PyTorch's that sparse gradients use: what
``Embedding(sparse=True)`` gives its weight as gradient, ``sparse_coo_tensor``, ``to_sparse``,
``coalesce``, ``_indices``/``_values``, ``sparse_mask``, ``to_dense`` and the sums the autograd
engine makes when gradients accumulate.

A ``SparseCooTensor`` is a tensor (so the engine, hooks and dense arithmetic take it) whose
array holds its dense values; ``indices`` (sparse_dim x nnz, int64) and ``values`` (nnz x the
dense dims) are the COO description PyTorch shows, uncoalesced (repeated, unsorted indices
that sum) until ``coalesce()``."""
import numpy as np

from .. import _dtype
from .._printing import _add_suffixes, array_str
from .._tensor import Tensor


class SparseCooTensor(Tensor):
    __slots__ = ("_indices_t", "_values_t", "_coalesced")

    is_sparse = True

    @property
    def layout(self):
        return _dtype.sparse_coo

    def _indices(self):
        return self._indices_t

    def _values(self):
        return self._values_t

    def indices(self):
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
        return self._indices_t

    def values(self):
        if not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
        return self._values_t

    def is_coalesced(self):
        return self._coalesced

    def _nnz(self):
        return self._indices_t.shape[1]

    def sparse_dim(self):
        return self._indices_t.shape[0]

    def dense_dim(self):
        return self.ndim - self.sparse_dim()

    def coalesce(self):
        """Indices sorted and unique, the values of a repeated index summed (in their order)."""
        if self._coalesced:
            return self
        indices, values = self._indices_t.cpu().numpy(), self._values_t.cpu().numpy()
        keys = np.ravel_multi_index(tuple(indices), tuple(self.shape[:self.sparse_dim()])) if indices.size else \
            np.zeros(0, np.int64)
        unique, inverse = np.unique(keys, return_inverse=True)
        summed = np.zeros((len(unique),) + values.shape[1:], values.dtype)
        np.add.at(summed, inverse.reshape(-1), values)
        rows = np.stack(np.unravel_index(unique, tuple(self.shape[:self.sparse_dim()]))) if len(unique) else \
            np.zeros((self.sparse_dim(), 0), np.int64)
        return sparse_coo_tensor(_host(rows.astype(np.int64), device=self.device),
                                 _host(summed, self._values_t.dtype, self.device), tuple(self.shape), is_coalesced=True)

    def to_dense(self, dtype=None, *, masked_grad=None):
        dense = Tensor._make(self._backend.copy(self._data), backend=self._backend)
        return dense if dtype is None else dense.to(dtype)

    def zero_(self):
        """No entries left (PyTorch's sparse ``zero_``)."""
        self._indices_t = self._indices_t[:, :0]
        self._values_t = self._values_t[:0]
        self._data = self._backend.asarray(np.zeros(tuple(self.shape), self._values_t.dtype.np))
        self._coalesced = True
        self._version_counter[0] += 1
        return self

    def clone(self):
        return _make(self._indices_t.clone(), self._values_t.clone(), tuple(self.shape), self._coalesced)

    def detach(self):
        return _make(self._indices_t, self._values_t.detach(), tuple(self.shape), self._coalesced)

    def __neg__(self):
        return _make(self._indices_t, -self._values_t, tuple(self.shape), self._coalesced)

    def __mul__(self, other):
        if isinstance(other, Tensor):
            return NotImplemented if other.ndim else self * other.item()
        return _make(self._indices_t, self._values_t * other, tuple(self.shape), self._coalesced)

    __rmul__ = __mul__

    def __add__(self, other):
        """sparse + sparse: the same indices add their values, others are concatenated (as
        PyTorch's sparse add); sparse + dense: dense."""
        if not isinstance(other, SparseCooTensor):
            return self.to_dense() + other
        if tuple(other.shape) != tuple(self.shape):
            raise RuntimeError(f"add: expected 'self' and 'other' to have same size, but self has size "
                               f"{list(self.shape)} while other has size {list(other.shape)} (FYI: dense-sparse "
                               "addition does not currently support broadcasting)")
        return _merged(self, other)

    def __repr__(self):
        indent = len("tensor(")
        dtype = self.dtype
        suffixes = [f"device='{self.device}'"] if self.device.type != "cpu" else []
        suffixes += [f"size={tuple(self.shape)}", f"nnz={self._nnz()}"]
        if dtype not in (_dtype.get_default_dtype(), _dtype.int64, _dtype.bool_):
            suffixes.append(f"dtype={dtype!r}")
        suffixes.append(f"layout={self.layout!r}")
        if self.requires_grad:
            suffixes.append("requires_grad=True")
        parts = []
        for name, t in (("indices", self._indices_t), ("values", self._values_t)):
            arr = np.asarray(t.detach().cpu().numpy(), np.float32 if t.dtype is _dtype.bfloat16 else None)
            text = array_str(arr, indent + len(name) + len("=tensor("))
            parts.append(f"{name}=tensor({text}" + (f", size={tuple(arr.shape)})" if arr.size == 0 else ")"))
        text = "tensor(" + parts[0] + ",\n" + " " * indent + parts[1] + ",\n" + " " * indent + suffixes[0]
        return _add_suffixes(text, suffixes[1:], indent)  # (the first suffix on a line of its own, as PyTorch's)

    __str__ = __repr__


def _merged(a, b):
    """PyTorch's sparse add: one pass over both entry lists as if each were sorted, taking the
    smaller index first and summing the values of equal ones (uncoalesced lists come out in
    that interleaved order)."""
    ia, ib = a._indices_t.cpu().numpy(), b._indices_t.cpu().numpy()
    va, vb = a._values_t.detach().cpu().numpy(), b._values_t.detach().cpu().numpy()
    na, nb = ia.shape[1], ib.shape[1]
    columns, values, i, j = [], [], 0, 0
    while i < na or j < nb:
        if i >= na:
            order = -1
        elif j >= nb:
            order = 1
        else:
            ka, kb = tuple(ia[:, i]), tuple(ib[:, j])
            order = 1 if ka < kb else -1 if ka > kb else 0
        if order > 0:
            columns.append(ia[:, i]), values.append(va[i])
            i += 1
        elif order < 0:
            columns.append(ib[:, j]), values.append(vb[j])
            j += 1
        else:
            columns.append(ia[:, i]), values.append(va[i] + vb[j])
            i, j = i + 1, j + 1
    indices = np.stack(columns, 1) if columns else np.zeros((ia.shape[0], 0), np.int64)
    values = np.stack(values) if values else np.zeros((0,) + va.shape[1:], va.dtype)
    return _make(_host(indices.astype(np.int64), device=a.device),
                 _host(values.astype(va.dtype), a._values_t.dtype, a.device), tuple(a.shape), a._coalesced and b._coalesced)


def _host(array, dtype=None, device=None):
    """A tensor of ``array`` (of ``dtype``) on ``device``: the COO parts are computed on the host."""
    t = Tensor._make(np.ascontiguousarray(array))
    t = t if dtype is None else t.to(dtype)
    return t if device is None or str(device) == "cpu" else t.to(device)


def _make(indices, values, size, coalesced):
    dense = np.zeros(tuple(size), values.dtype.np)
    if indices.shape[1]:
        np.add.at(dense, tuple(indices.cpu().numpy()), values.detach().cpu().numpy())
    t = object.__new__(SparseCooTensor)
    t._data, t._backend = values._backend.asarray(dense), values._backend
    t._requires_grad, t._grad, t._grad_fn, t._output_nr = False, None, None, 0
    t._version_counter, t._hooks, t._retains_grad, t._view, t._views = [0], None, False, None, None
    t._indices_t, t._values_t, t._coalesced = indices, values, coalesced
    return t


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, requires_grad=False,
                      check_invariants=None, is_coalesced=None):
    """A sparse COO tensor of ``size`` (by default the smallest that holds the indices)."""
    from .._creation import tensor
    indices = indices if isinstance(indices, Tensor) else tensor(indices)
    values = values if isinstance(values, Tensor) else tensor(values)
    if dtype is not None:
        values = values.to(dtype)
    if indices.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(indices.shape)}")
    indices = indices.to(_dtype.int64)
    if size is None:
        rows = indices.cpu().numpy()
        size = tuple(int(r.max()) + 1 if r.size else 0 for r in rows) + tuple(values.shape[1:])
    elif indices.shape[1] and (indices.cpu().numpy().max(1) >= np.asarray(size[:indices.shape[0]])).any():
        raise RuntimeError(f"size is inconsistent with indices: for dim 0, size is {size[0]} but found index "
                           f"{int(indices.cpu().numpy()[0].max())}")
    t = _make(indices, values, tuple(size), bool(is_coalesced))
    return t.requires_grad_(requires_grad) if requires_grad else t


def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """The nonzero elements (of the first ``sparse_dim`` dims' entries), coalesced."""
    arr = self.detach().cpu().numpy()
    sparse_dim = self.ndim if sparse_dim is None else sparse_dim
    lead = arr.reshape(arr.shape[:sparse_dim] + (-1,)) if sparse_dim < self.ndim else arr[..., None]
    rows = np.stack(np.nonzero(lead.any(-1))) if sparse_dim else np.zeros((0, 1), np.int64)
    values = arr[tuple(rows)] if sparse_dim else arr[None]
    return sparse_coo_tensor(_host(rows.astype(np.int64).reshape(sparse_dim, -1), device=self.device),
                             _host(values, self.dtype, self.device), tuple(self.shape), is_coalesced=True)


def sparse_mask(self, mask):
    """``self``'s values at ``mask``'s indices, as a sparse tensor with them."""
    if not isinstance(mask, SparseCooTensor):
        raise RuntimeError("sparse_mask: expected mask to be a sparse COO tensor")
    rows = mask._indices_t.cpu().numpy()
    return _make(mask._indices_t, _host(self.detach().cpu().numpy()[tuple(rows)], self.dtype, self.device),
                 tuple(self.shape), mask._coalesced)


def sparse_gradient(indices, rows, size):
    """The gradient of an embedding table as PyTorch's sparse one: one entry per lookup."""
    return _make(indices.reshape(1, -1).to(_dtype.int64), rows, size, False)


METHODS = {"to_sparse": to_sparse, "sparse_mask": sparse_mask}
