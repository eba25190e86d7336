"""Sampling and counting: random draws into tensors (tinytape's generator) and host-side
counts (unique values, non-zero positions, histograms).  None of these has a gradient."""

import collections

import numpy as np

from .. import _creation, _dtype, _random
from .._tensor import Tensor
from .. import _grad_mode
from ..autograd.function import Function
from . import dtype_rules
from .windows import _check_tensor


def _fill(self, samples):
    """Write host samples (drawn in order) into ``self``: in row-major order when ``self`` is
    contiguous, in its memory order otherwise (as PyTorch's TensorIterator walks it)."""
    samples = np.asarray(samples)
    if self.ndim > 1 and not self.is_contiguous():
        strides = self.cpu()._data.strides if self.device.type == "cpu" else None
        if strides is not None:
            order = sorted(range(self.ndim), key=lambda d: -abs(strides[d]))
            walked = samples.reshape([self.shape[d] for d in order])
            samples = np.transpose(walked, np.argsort(order))
    if self.device.type == "cpu" and samples.dtype == self.dtype.np:
        # the draw's own array, viewed: a compiled step copies each replay's draw (a host
        # copy here would be a constant of the trace)
        return self.copy_(Tensor._make(samples.reshape(self.shape)))
    source = _creation.tensor(np.ascontiguousarray(samples).reshape(self.shape), dtype=self.dtype,
                              device=self.device)
    return self.copy_(source)


def _draw(self, draw, generator, *args):
    """``draw``'s samples for ``self``: on the CPU in float32/float64 one kernel call on the
    generator's engine (``_random.recorded_draw``), which a compiled step replays with the
    generator's next numbers."""
    if self.device.type == "cpu" and self.dtype in _creation._RECORDED_DRAWS:
        return _random.recorded_draw(draw, generator, self.numel(), self.dtype, *args)
    return draw(_stream(generator), self.numel(), self.dtype, *args)


def _stream(generator):
    return _random.stream(generator)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with N(mean, std) samples, PyTorch's stream and algorithm for the size and dtype."""
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {float(std):g}")
    return _fill(self, _draw(self, _random.normal, generator, mean, std, self.is_contiguous()))


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    return _fill(self, _draw(self, _random.uniform, generator, a, b))


def exponential_(self, lambd=1.0, *, generator=None):
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    gen = _stream(generator)
    return _fill(self, _random.exponential(gen, self.numel(), self.dtype, lambd))


_UNGIVEN = object()  # random_(to) and random_() told apart from random_(from, None)


def random_(self, low=_UNGIVEN, high=_UNGIVEN, *, generator=None):
    """Integers drawn uniformly from [low, high): from [0, low) when only one bound is given,
    from [low, the dtype's largest] when ``high`` is None, over the dtype's whole range (the
    floating ones: its exact integers) when none is."""
    gen = _stream(generator)
    if low is _UNGIVEN:
        return _fill(self, _random.random_full(gen, self.numel(), self.dtype))
    if high is _UNGIVEN:
        low, high = 0, low
    return _fill(self, _random.random_from_to(gen, self.numel(), self.dtype, low, high))


def _probabilities(p, op):
    values = p.detach().cpu().numpy() if p.dtype is not _dtype.bfloat16 else p.detach().cpu()._data
    as64 = np.asarray(values, np.float64)
    if ((as64 < 0) | (as64 > 1) | np.isnan(as64)).any():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message "
                           "be improved?  If so, please report an enhancement request to PyTorch.)")
    return values


def bernoulli_(self, p=0.5, *, generator=None):
    """1 with probability ``p`` (a number, or a tensor broadcast to ``self``), else 0."""
    gen = _stream(generator)
    if isinstance(p, Tensor):
        values = np.broadcast_to(_probabilities(p, "bernoulli_"), self.shape)
        return _fill(self, _random.bernoulli_tensor(gen, values))
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    return _fill(self, _random.bernoulli_scalar(gen, self.numel(), p))


def bernoulli(input, p=None, *, generator=None):
    """A tensor like ``input`` of 0/1 draws with probabilities ``input`` (or the number ``p``)."""
    _check_tensor(input, "bernoulli")
    out = _creation.empty(input.shape, dtype=input.dtype, device=input.device)
    return bernoulli_(out, input if p is None else p, generator=generator)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn from each row of non-negative weights ``input`` (1-D or 2-D), with
    PyTorch's checks in its order."""
    _check_tensor(input, "multinomial")
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.dtype.is_floating_point:
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{_dtype.scalar_type_name(input.dtype)}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    n = input.shape[-1]
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if n > 2 ** 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    host = input.detach().cpu()
    weights = np.atleast_2d(host.numpy() if input.dtype is not _dtype.bfloat16 else host._data)
    check = weights.astype(np.float64)
    if not replacement or num_samples == 1:
        if check.size and (not (check.max() < np.inf) or not (check.min() >= 0)):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if (check.sum(axis=1) == 0).any():
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    else:  # the kernel's checks, row by row, entry by entry
        for row in check:
            bad = np.flatnonzero(~(row >= 0) | ~np.isfinite(row))
            if bad.size:
                kind = "< 0" if not row[bad[0]] >= 0 else "= infinity or NaN"
                raise RuntimeError(f"invalid multinomial distribution (encountering probability entry {kind})")
            if not row.sum() > 0:
                raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    gen = _stream(generator)
    order = _random.dense_order(input) if input.ndim == 2 else None  # PyTorch's empty_like keeps the layout
    out = _random.multinomial(gen, np.ascontiguousarray(weights), int(num_samples), replacement, order)
    return _creation.tensor(out if input.ndim == 2 else out[0], dtype=_dtype.int64, device=input.device)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of ``input`` (sorted), optionally with the inverse map and counts."""
    data = input.detach().cpu().numpy()
    if dim is not None:  # the distinct slices along ``dim``, in lexicographic order
        from .._tensor import _wrap_dim
        d = _wrap_dim(dim, input.ndim, "unique_dim")
        if data.shape[d] == 0:
            values, inverse, counts = data, np.zeros(0, np.int64), np.zeros(0, np.int64)
        else:
            values, inverse, counts = np.unique(data, return_inverse=True, return_counts=True, axis=d)
        inverse_shape = (data.shape[d],)
    else:
        # every NaN distinct, as PyTorch's sort-based unique keeps them
        values, inverse, counts = np.unique(data, return_inverse=True, return_counts=True, equal_nan=False)
        inverse_shape = input.shape
    out = [_creation.tensor(values, dtype=input.dtype, device=input.device)]
    if return_inverse:
        out.append(_creation.tensor(inverse.reshape(inverse_shape), dtype=_dtype.int64, device=input.device))
    if return_counts:
        out.append(_creation.tensor(counts, dtype=_dtype.int64, device=input.device))
    return out[0] if len(out) == 1 else tuple(out)


def nonzero(input, *, as_tuple=False):
    found = np.nonzero(input.detach().cpu().numpy().reshape(input.shape or (1,)))
    if as_tuple:
        return tuple(_creation.tensor(i, dtype=_dtype.int64, device=input.device) for i in found)
    if not input.ndim:  # a 0-d input: one row of no coordinates where it is non-zero
        return _creation.tensor(np.zeros((len(found[0]), 0), np.int64), dtype=_dtype.int64, device=input.device)
    # PyTorch fills the coordinates dim by dim: the (n, ndim) result is laid out column by column
    by_dim = _creation.tensor(np.stack(found, 0).reshape(input.ndim, -1), dtype=_dtype.int64, device=input.device)
    return Tensor._make(by_dim._backend.permute(by_dim._data, (1, 0)), backend=by_dim._backend)


def histc(input, bins=100, min=0, max=0):
    """Counts of ``input``'s values in ``bins`` equal bins over [min, max] (the data's range
    when both are 0), binned as PyTorch's kernel: ``int((x - min) * bins / (max - min))`` in
    the input's dtype, the maximum in the last bin, values outside left out."""
    dtype_rules.check("histc", input.dtype)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    values = input.detach().cpu().numpy().reshape(-1)
    work = np.float32 if values.dtype.itemsize < 4 else values.dtype.type
    values = values.astype(work)
    low, high = work(min), work(max)
    if low == 0 and high == 0 and values.size:
        low, high = values.min(), values.max()
    if low == high:
        low, high = low - 1, high + 1
    if not (np.isfinite(low) and np.isfinite(high)):
        raise RuntimeError(f"torch.histc: range of [{low}, {high}] is not finite")
    if low > high:
        raise RuntimeError("torch.histc: max must be larger than min")
    inside = values[(values >= low) & (values <= high)]
    with np.errstate(invalid="ignore", over="ignore"):
        pos = ((inside - low) * work(bins) / (high - low)).astype(np.int64)
    pos[pos == bins] = bins - 1
    counts = np.bincount(pos, minlength=bins)[:bins]
    return _creation.tensor(counts, dtype=input.dtype, device=input.device)


class histogram_result(collections.namedtuple("histogram", ["hist", "bin_edges"])):
    """What ``histogram`` returns, printed as PyTorch's ``torch.return_types.histogram``."""
    __slots__ = ()
    __module__ = "tinytape.return_types"

    def __repr__(self):
        return f"tinytape.return_types.histogram(\nhist={self.hist!r},\nbin_edges={self.bin_edges!r})"

    __str__ = __repr__


histogram_result.__name__ = histogram_result.__qualname__ = "histogram"  # PyTorch's type name


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """Counts (or weights' sums) of ``input``'s values in bins and the bins' edges, as PyTorch:
    ``bins`` equal bins from linspace over ``range`` (the data's min and max, widened by 0.5
    each way when equal) or the edges given as a tensor; a bin holds edges[i] <= x < edges[i+1],
    the last one its right edge too; ``density`` divides by the total, then by each bin's width."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'")
    values = input.detach().cpu().numpy().reshape(-1)
    if isinstance(bins, Tensor):
        if bins.ndim != 1 or bins.shape[0] < 1:
            raise RuntimeError("torch.histogram(): bins tensor should have one dimension and at least 1 entry")
        edges = bins.detach().cpu().numpy().astype(values.dtype)
    else:
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
        if range is not None:
            low, high = float(range[0]), float(range[1])
        elif values.size:
            low, high = float(values.min()), float(values.max())
        else:
            low, high = 0.0, 0.0
        if low > high:
            raise RuntimeError(f"torch.histogram(): min should not exceed max, but got min {low} max {high} "
                               f"for dimension 0")
        if not (np.isfinite(low) and np.isfinite(high)):
            raise RuntimeError(f"torch.histogram(): range of [{low}, {high}] is not finite")
        if low == high:
            low, high = low - 0.5, high + 0.5
        edges = _creation.linspace(low, high, bins + 1, dtype=input.dtype).numpy()
    w = None
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise RuntimeError("torch.histogram(): if weight tensor is provided it should have the same shape "
                               "as the input tensor excluding its innermost dimension")
        w = weight.detach().cpu().numpy().reshape(-1).astype(np.float64)
    inside = (values >= edges[0]) & (values <= edges[-1])
    pos = np.searchsorted(edges, values[inside], side="right") - 1
    pos = np.minimum(pos, len(edges) - 2)
    hist = np.bincount(pos, None if w is None else w[inside], minlength=len(edges) - 1)[:len(edges) - 1]
    hist = hist.astype(values.dtype)
    if density:
        hist = hist / hist.sum(dtype=values.dtype)
        hist = (hist / np.diff(edges)).astype(values.dtype)
    results = (_creation.tensor(hist, dtype=input.dtype, device=input.device),
               _creation.tensor(edges, dtype=input.dtype, device=input.device))
    inputs = [t for t in (input, weight) if t is not None]
    if _grad_mode.is_grad_enabled() and any(t.requires_grad for t in inputs):
        results = NotDifferentiable.apply("histogram", results, *inputs)
    return histogram_result(*results)


class NotDifferentiable(Function):
    """The entry PyTorch records for an op without a derivative (``histogram``): the result
    requires grad, and a backward through it raises."""

    grad_fn_name = "NotImplemented"

    @staticmethod
    def forward(ctx, op, results, *inputs):
        ctx.op = op
        return results  # (a tuple: not inputs of the entry)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(f"derivative for aten::{ctx.op} is not implemented")


def bincount(input, weights=None, minlength=0):
    dtype_rules.check("bincount", input.dtype)
    if input.dtype.is_floating_point:
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if input.ndim != 1:
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got shape {list(input.shape)}")
    values = input.cpu().numpy()
    if (values < 0).any():
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != input.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    w = None if weights is None else weights.detach().cpu().numpy()
    counts = np.bincount(values, w, minlength)
    dtype = _dtype.int64 if weights is None else (weights.dtype if weights.dtype.is_floating_point else _dtype.float64)
    return _creation.tensor(counts, dtype=dtype, device=input.device)
