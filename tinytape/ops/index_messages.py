"""Indexing errors in PyTorch's words: numpy's IndexError messages translated (``indexing.py``'s
getitem and setitem raise them); a message with no PyTorch counterpart keeps numpy's words and
names the index and the shape."""
import re

import numpy as np

from .._tensor import Tensor


def _torch_message(error, advanced, shape, index):
    """numpy's IndexError in PyTorch's words (an advanced index names dimension 0, as PyTorch's
    kernel does)."""
    text = str(error)
    words = _torch_words(text, advanced, shape, index)
    return words if words is not None else f"{text} (index {_show(index)} into a tensor of shape {list(shape)})"


def _torch_words(text, advanced, shape, index):
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
        return _mask_words(index, list(shape), int(found.group(1)))
    found = re.match(r"shape mismatch: indexing arrays could not be broadcast together with shapes (.*)", text)
    if found:
        shapes = re.findall(r"\(([^)]*)\)", found.group(1))
        listed = ", ".join("[" + ", ".join(d.strip() for d in s.split(",") if d.strip()) + "]" for s in shapes)
        return f"shape mismatch: indexing tensors could not be broadcast together with shapes {listed}"
    return None


def _is_mask(item):
    return isinstance(item, (np.ndarray, Tensor)) and str(item.dtype).endswith("bool")


def _mask_words(index, shape, axis):
    """PyTorch's message for the boolean mask in ``index`` that does not match dimension ``axis``
    (numpy's count) of ``shape``.  PyTorch names the tensor as its basic items left it: a
    ``None`` inserts a dimension of 1, an integer removes its dimension."""
    items = list(index) if isinstance(index, tuple) else [index]
    used = sum(i.ndim if _is_mask(i) else 1 for i in items if i is not None and i is not Ellipsis)
    at = next((k for k, i in enumerate(items) if i is Ellipsis), None)
    if at is not None:
        items[at:at + 1] = [slice(None)] * (len(shape) - used)
    shown, dim, found = [], 0, None
    for item in items:
        if item is None:
            shown.append(1)
            continue
        n = item.ndim if _is_mask(item) else 1
        if _is_mask(item) and found is None and dim <= axis < dim + n:
            found = list(item.shape), axis - dim, len(shown) + axis - dim
        if not isinstance(item, (int, np.integer)):
            shown.extend(shape[dim:dim + n])
        dim += n
    shown.extend(shape[dim:])
    mask_shape, mask_dim, where = found or ([], 0, axis)
    return (f"The shape of the mask {mask_shape} at index {mask_dim} does not match the shape of the indexed "
            f"tensor {shown} at index {where}")


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
