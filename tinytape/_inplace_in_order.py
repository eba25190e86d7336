"""An elementwise in-place op on a tensor whose elements overlap in memory
(``x.as_strided((3, 3), (1, 1)).add_(1)``): as PyTorch's TensorIterator, element by element
in its iteration order, each element computed from the memory as the writes before it
left it (an element reached three times is added to three times)."""
import numpy as np

from ._grad_mode import no_grad
from ._memory import overlaps_itself
from ._tensor import Tensor
from .backend.cpu import cpu as _CPU
from .backend.layout import elementwise_order

# in-place ops that are not elementwise (an index or a matrix product decides what is written):
# they keep writing their whole result at once
NOT_ELEMENTWISE = frozenset((
    "setitem", "put_", "index_fill_", "index_copy_", "index_add_", "index_put_", "index_reduce_",
    "masked_scatter_", "scatter_", "scatter_add_", "scatter_reduce_", "tril_", "triu_", "renorm_",
    "cumsum_", "cumprod_", "addmm_", "addmv_", "baddbmm_", "addbmm_"))


def writes_in_order(tensor, op_name):
    """Whether ``tensor.<op_name>`` has to write element by element (its elements overlap)."""
    return (tensor._backend is _CPU and tensor._view is not None and isinstance(tensor._data, np.ndarray)
            and overlaps_itself(tensor._data))


def write_result(tensor, op_name, fn, args, result):
    """``result`` (``fn(tensor, *args)``) into ``tensor``'s overlapping elements: an elementwise op
    recomputed element by element; another op writes the elements its result changed (the
    ones it wrote, as far as can be seen), in C order."""
    # (through ``host_compute``: numpy's writes, element by element, which a trace refuses to
    # replay, so ``tinytape.compile`` runs such a step eagerly)
    if op_name not in NOT_ELEMENTWISE:
        tensor._backend.host_compute(lambda data: write_in_order(tensor, op_name, fn, args), tensor._data)
    else:
        tensor._backend.host_compute(lambda data: _write_changed(data, result._data), tensor._data)


def _write_changed(data, result):
    before = data.copy()
    after = np.ascontiguousarray(np.asarray(result).astype(data.dtype, copy=False))
    itemsize = data.dtype.itemsize  # (compared bit for bit: a NaN written over a NaN is no change)
    changed = (before.view(np.uint8).reshape(data.shape + (itemsize,))
               != after.view(np.uint8).reshape(data.shape + (itemsize,))).any(-1)
    for pos in zip(*np.nonzero(changed)):
        data[pos] = after[pos]


def write_in_order(tensor, op_name, fn, args):
    """``fn(element, *its arguments' elements)`` written into each element of ``tensor`` in
    TensorIterator's order (tensor arguments broadcast to its shape, read at that moment)."""
    data = tensor._data
    shape = data.shape
    operands = [a._data if a._data.shape == shape else np.broadcast_to(a._data, shape)
                for a in args if isinstance(a, Tensor)]
    order = elementwise_order(shape, [data, data] + [np.asarray(x) for x in operands if x.ndim]) or tuple(
        range(len(shape)))
    with no_grad():
        for moved in np.ndindex(*(shape[d] for d in order)):
            pos = [0] * len(shape)
            for d, i in zip(order, moved):
                pos[d] = i
            pos = tuple(pos) + (Ellipsis,)  # (a 0-d view, not a copy of the element)
            element_args = [Tensor._make(a._data[pos] if a._data.shape == shape else np.broadcast_to(
                a._data, shape)[pos], backend=_CPU) if isinstance(a, Tensor) else a for a in args]
            result = fn(Tensor._make(data[pos], backend=_CPU), *element_args)
            if result.shape != ():
                raise RuntimeError(f"{op_name}: an in-place write into a tensor whose elements overlap in memory "
                                   f"(shape {list(shape)}, strides {list(tensor.stride())}) is not supported "
                                   f"for this op; clone() the tensor first")
            data[pos] = np.asarray(result._data).astype(data.dtype, copy=False)
