"""Where a tensor's numpy array lies in memory: the writeable alias of a read-only view of
writeable memory (``expand``'s views), and whether an array repeats memory locations."""
import numpy as np


def writable_alias(data, repeats_only=True):
    """A writeable array over the memory of ``data``, a read-only view of writeable memory
    (``expand``'s views and the views taken of them; with ``repeats_only``, only those that
    repeat elements); None for any other array."""
    if data.flags.writeable or repeats_only and 0 not in data.strides:
        return None
    root = data
    while isinstance(root.base, np.ndarray):
        root = root.base
    if not root.flags.writeable or not root.flags.c_contiguous:
        return None
    offset = data.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    try:
        return np.ndarray(data.shape, data.dtype, buffer=root, offset=offset, strides=data.strides)
    except (TypeError, ValueError):  # (memory outside the root's buffer: not a view of it)
        return None


def repeats_elements(data):
    """Whether two elements of the array share a memory location through a zero stride (PyTorch's
    MemOverlap::Yes, which its in-place ops refuse; other overlaps it leaves to the kernels)."""
    return data.size > 0 and any(step == 0 and size > 1 for step, size in zip(data.strides, data.shape))


OVERLAP_MESSAGE = ("unsupported operation: more than one element of the written-to tensor refers to a single "
                   "memory location. Please clone() the tensor before performing the operation.")


def overlaps_itself(data):
    """Whether two elements of the array, of nonzero strides, share a memory location
    (``as_strided((3, 3), (1, 1))``: PyTorch's MemOverlap::TooHard, whose in-place ops run
    element by element, each reading what the ones before it wrote)."""
    flags = data.flags
    if flags.c_contiguous or flags.f_contiguous or data.ndim < 2:
        return False
    dims = sorted((abs(step), size) for step, size in zip(data.strides, data.shape) if size > 1)
    if len(dims) < 2 or 0 in (step for step, _ in dims):
        return False
    reach = 0  # (axes each stepping past all the faster ones together: no overlap)
    for step, size in dims:
        if step <= reach:
            break
        reach += step * (size - 1)
    else:
        return False
    offsets = np.zeros((), np.int64)
    for step, size in zip(data.strides, data.shape):
        offsets = np.add.outer(offsets, np.arange(size, dtype=np.int64) * step)
    return np.unique(offsets).size < data.size
