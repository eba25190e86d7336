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
