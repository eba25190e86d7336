"""Small names PyTorch programs reach for, each a few recorded ops: ``unravel_index``,
``rsub``, ``scalar_tensor``, ``range`` (deprecated), ``typename``, ``is_same_size``,
``is_signed``; the methods ``narrow_copy``, ``split_with_sizes``, ``unsafe_split``/
``unsafe_chunk``, ``sum_to_size``, ``put``/``put_``, ``resize_as_``,
``get_device``, the ``greater_``/``less_``/``not_equal_`` spellings and the layout flags."""
import math
import warnings

import numpy as np

from .. import _creation, _dtype
from .._tensor import Tensor
from . import elementwise as ew
from .composite_entry import composite_op
from .windows import _check_tensor, _constant


def unravel_index(indices, shape):
    """The coordinates in ``shape`` of each flat index, one int64 tensor per dim."""
    _check_tensor(indices, "unravel_index", "indices")
    if indices.dtype.is_floating_point or indices.dtype is _dtype.bool_:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got " + str(shape))
    flat = indices.cpu().numpy().astype(np.int64)
    size = math.prod(shape)
    if ((flat < -size) | (flat >= size)).any():
        raise RuntimeError(f"'indices' must be in range [{-size}, {size - 1}]")
    coords = np.unravel_index(flat % max(size, 1), shape)
    return tuple(_creation.tensor(np.asarray(c, np.int64), device=indices.device) for c in coords)


def rsub(input, other, *, alpha=1):
    """``other - alpha * input``."""
    _check_tensor(input, "rsub")
    if isinstance(other, Tensor):
        return composite_op("RsubBackward0", lambda a, b: ew.sub(b, a, alpha=alpha), input, other)
    dtype = input.dtype if input.dtype.is_floating_point or isinstance(other, (bool, int)) else \
        _dtype.get_default_dtype()
    return composite_op("RsubBackward1", lambda a: ew.sub(_constant(a, np.asarray(other), dtype),
                                                          a if alpha == 1 else ew.mul(a, alpha)), input)


def scalar_tensor(s, *, dtype=None, device=None, layout=None, pin_memory=None, requires_grad=False):
    return _creation.tensor(s, dtype=dtype or _dtype.get_default_dtype(), device=device,
                            requires_grad=requires_grad)


def range_(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``[start, end]`` with ``step`` (end included): deprecated, as PyTorch warns."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    dtype = dtype or _dtype.get_default_dtype()
    if step == 0:
        raise RuntimeError("step must be nonzero")
    n = int(math.floor((end - start) / step)) + 1
    if n < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    values = start + np.arange(max(n, 0), dtype=np.float64) * step
    return _creation.tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)


def typename(obj):
    if isinstance(obj, Tensor):
        return obj.type()
    kind = type(obj)
    module = kind.__module__
    return kind.__qualname__ if module in ("builtins", "__builtin__", None) else f"{module}.{kind.__qualname__}"


def is_same_size(input, other):
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input):
    return input.dtype.is_signed


def narrow_copy(self, dim, start, length):
    return composite_op("NarrowCopyBackward0", lambda x: x.narrow(dim, start, length).clone(), self)


def split_with_sizes(self, split_sizes, dim=0):
    return self.split(list(split_sizes), dim)


def _unsafe(parts, self):
    """``parts`` (views of ``self``) as copies recorded as ``UnsafeSplitBackward0``."""
    return tuple(composite_op("UnsafeSplitBackward0", lambda x, i=i: parts(x)[i].clone(), self)
                 for i in range(len(parts(self.detach()))))


def unsafe_split(self, split_size, dim=0):
    return _unsafe(lambda x: x.split(split_size, dim), self)


def unsafe_chunk(self, chunks, dim=0):
    return _unsafe(lambda x: x.chunk(chunks, dim), self)


def sum_to_size(self, *size):
    """The sum of ``self`` down to ``size`` (which ``self`` broadcasts from)."""
    size = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else tuple(size)
    lead = self.ndim - len(size)
    if lead < 0 or any(s not in (1, n) for s, n in zip(size, self.shape[lead:])):
        raise RuntimeError(f"size {{{', '.join(map(str, size))}}} is not expandable to size "
                           f"{{{', '.join(map(str, self.shape))}}}.")
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size) if s == 1 and self.shape[lead + i] != 1)
    if not dims:
        return self
    return self.sum(dims, keepdim=True).reshape(size) if lead else self.sum(dims, keepdim=True)


def put(self, index, source, accumulate=False):
    """``self`` with ``source`` written (added, with ``accumulate``) at the flat positions ``index``."""
    if isinstance(source, Tensor) and source.dtype is not self.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{_dtype.scalar_type_name(self.dtype)} and source.dtype = "
                           f"{_dtype.scalar_type_name(source.dtype)}")
    n = self.numel()
    flat = index.cpu().numpy().reshape(-1).astype(np.int64)
    if ((flat < -n) | (flat >= n)).any():
        bad = int(flat[(flat < -n) | (flat >= n)][0])
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    if source.numel() != flat.shape[0]:
        raise RuntimeError(f"put_(): Expected source and index to have the same number of elements, but got "
                           f"source.numel() = {source.numel()}, index.numel() = {flat.shape[0]}")
    ids = _creation.tensor(flat % max(n, 1), device=self.device)

    def compute(x, s):
        return x.reshape(-1).index_put((ids,), s.reshape(-1), accumulate=accumulate).reshape(tuple(x.shape))
    return composite_op("PutBackward0", compute, self, source)


def put_(self, index, source, accumulate=False):
    return self._inplace("put_", put, index, source, accumulate)


def resize_as_(self, the_template, memory_format=None):
    return self.resize_(tuple(the_template.shape))


def get_device(self):
    return -1 if self.device.type == "cpu" else (self.device.index or 0)


FUNCTIONS = {"unravel_index": unravel_index, "rsub": rsub, "scalar_tensor": scalar_tensor, "range": range_,
             "typename": typename, "is_same_size": is_same_size, "is_signed": is_signed,
             "narrow_copy": narrow_copy, "split_with_sizes": split_with_sizes, "unsafe_split": unsafe_split,
             "unsafe_chunk": unsafe_chunk, "get_device": get_device, "put": put, "resize_as_": resize_as_,
             "detach": lambda input: input.detach()}
METHODS = {"narrow_copy": narrow_copy, "split_with_sizes": split_with_sizes, "unsafe_split": unsafe_split,
           "unsafe_chunk": unsafe_chunk, "sum_to_size": sum_to_size, "put": put, "put_": put_,
           "resize_as_": resize_as_, "get_device": get_device, "is_same_size": is_same_size,
           "is_signed": is_signed, "ger": lambda self, vec2: self.outer(vec2),
           "greater_": lambda self, other: self.gt_(other), "greater_equal_": lambda self, other: self.ge_(other),
           "less_": lambda self, other: self.lt_(other), "less_equal_": lambda self, other: self.le_(other),
           "not_equal_": lambda self, other: self.ne_(other),
           "is_cpu": property(lambda self: self.device.type == "cpu"), "is_sparse": property(lambda self: False),
           "is_quantized": property(lambda self: False), "is_meta": property(lambda self: False)}
