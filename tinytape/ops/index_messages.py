"""Indexing errors in PyTorch's words: numpy's IndexError messages translated, then the
index and the shape (``indexing.py``'s getitem and setitem raise them)."""
import re

import numpy as np

from .._tensor import Tensor


def _torch_message(error, advanced, shape, index):
    """numpy's IndexError in PyTorch's words (an advanced index names dimension 0, as PyTorch's
    kernel does), then the index and the shape."""
    return f"{_torch_words(str(error), advanced)} (index {_show(index)} into a tensor of shape {list(shape)})"


def _torch_words(text, advanced):
    found = re.match(r"too many indices for array: array is (\d+)-dimensional", text)
    if found:
        return f"too many indices for tensor of dimension {found.group(1)}"
    found = re.match(r"index (-?\d+) is out of bounds for axis (\d+) with size (\d+)", text)
    if found:
        k, axis, size = found.groups()
        if size == "0":
            return "index is out of bounds for dimension with size 0"
        return f"index {k} is out of bounds for dimension {0 if advanced else axis} with size {size}"
    found = re.match(r"boolean index did not match indexed array along (?:axis|dimension) (\d+); size of "
                     r"(?:axis|dimension) is (\d+) but size of corresponding boolean (?:axis|dimension) is (\d+)", text)
    if found:
        axis, size, mask = found.groups()
        return (f"The shape of the mask [{mask}] at index {axis} does not match the shape of the indexed tensor "
                f"[{size}] at index {axis}")
    return text


def _show(index):
    return [i.tolist() if isinstance(i, np.ndarray) else f"<tensor of shape {list(i.shape)}>" if isinstance(i, Tensor)
            else i for i in index if i is not Ellipsis] or "..."


def _mismatch_words(x, idx, value):
    """PyTorch's words for a value that does not broadcast to what ``x[idx]`` selects."""
    target = list(np.lib.stride_tricks.as_strided(np.zeros(1), tuple(x.shape), (0,) * x.ndim)[idx].shape)
    if any(isinstance(i, (np.ndarray, list, Tensor)) for i in idx):
        return f"shape mismatch: value tensor of shape {list(value.shape)} cannot be broadcast to indexing " \
               f"result of shape {target}"
    try:
        value.expand(target)
    except RuntimeError as e:
        return str(e)
    return "shape mismatch"
