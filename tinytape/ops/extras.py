"""Assorted functions PyTorch tutorials reach for: dtype queries (``result_type``,
``promote_types``, ``can_cast``), ``rot90``, ``vander``, ``isin``, ``cov``/``corrcoef``,
``fill_diagonal_`` and ``is_nonzero``, each composed from recorded ops as PyTorch composes it
(so its gradient follows), or one entry under PyTorch's name where PyTorch records one."""
import warnings

from .. import _creation, _dtype
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Function
from . import elementwise as ew
from . import shape as sh
from .windows import _check_tensor


def rot90(input, k=1, dims=(0, 1)):
    """``input`` turned ``k`` quarter turns in the plane of ``dims`` (from the first towards the
    second), as PyTorch composes it: flips and a transpose (a view of the flip)."""
    _check_tensor(input, "rot90")
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = (_wrap_dim(d, input.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    return Rot90.apply(input, k % 4, d0, d1)


class Rot90(Function):
    """rot90 as one entry (PyTorch's Rot90Backward0): flips and a transpose forward, the
    opposite turn backward."""

    grad_fn_name = "Rot90Backward0"

    @staticmethod
    def forward(ctx, x, k, d0, d1):
        ctx.k, ctx.dims = k, (d0, d1)
        if k == 1:
            return x.flip(d1).transpose(d0, d1)
        if k == 2:
            return x.flip(d0, d1)
        if k == 3:
            return x.flip(d0).transpose(d0, d1)
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        return rot90(g, -ctx.k, ctx.dims), None, None, None


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-d ``x``: columns ``x ** (N - 1)`` ... ``x ** 0``
    (``increasing``: the other way), as PyTorch builds it (ones, then a running product)."""
    _check_tensor(x, "vander")
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    dtype = _dtype.promote(x.dtype, _dtype.int64)
    out = _creation.ones((x.shape[0], n), dtype=dtype, device=x.device)
    if n > 1:
        powers = sh.cat([out[:, :1], x.unsqueeze(1).expand(x.shape[0], n - 1).to(dtype)], 1)
        out = powers.cumprod(1)
    return out if increasing else out.flip(1)


def result_type(tensor, other):
    """The dtype a binary op on ``tensor`` and ``other`` (tensors or numbers) gives."""
    if not isinstance(tensor, Tensor) and not isinstance(other, Tensor):  # two numbers: as 0-d tensors
        tensor, other = _creation.tensor(tensor), _creation.tensor(other)
    return _dtype.result_type(tensor, other)


def promote_types(type1, type2):
    """The smallest dtype both ``type1`` and ``type2`` convert to without losing their kind."""
    return _dtype.promote(_dtype.as_dtype(type1), _dtype.as_dtype(type2))


def can_cast(from_, to):
    """Whether PyTorch's casting rules let an op write a ``from_`` result into a ``to`` output:
    never to a lower kind (complex > floating > integer > bool)."""
    return _dtype.category(_dtype.as_dtype(from_)) <= _dtype.category(_dtype.as_dtype(to))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of ``elements`` is among ``test_elements`` (either may be a number)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments - got (numbers), but expected "
                        "at least one Tensor")
    like = elements if isinstance(elements, Tensor) else test_elements
    if not isinstance(elements, Tensor):
        elements = _creation.tensor(elements, device=like.device)
    if not isinstance(test_elements, Tensor):
        test_elements = _creation.tensor(test_elements, device=like.device)
    flat = test_elements.reshape(-1)
    if not flat.numel():
        found = _creation.zeros(elements.shape, dtype=_dtype.bool_, device=elements.device)
    else:
        found = ew.eq(elements.unsqueeze(-1), flat).any(-1)
    return ew.eq(found, False) if invert else found


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in ``input``'s rows (observations in its
    columns), with frequency and observation weights, as PyTorch computes it."""
    _check_tensor(input, "cov")
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.ndim} dimensions")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    if not x.dtype.is_floating_point:
        x = x.to(_dtype.default_float)
    w = fweights
    if aweights is not None:
        w = aweights if w is None else ew.mul(w, aweights)
    if w is None:
        w_sum = _creation.tensor(x.shape[1], device=x.device)
    else:
        w_sum = w.sum()
    avg = ew.div((x if w is None else ew.mul(x, w)).sum(1), w_sum)
    if w is not None and correction != 0:
        scale = ew.div(ew.mul(w, aweights).sum(), w_sum) if aweights is not None else 1
        norm_factor = ew.sub(w_sum, ew.mul(scale, correction))
    else:
        norm_factor = ew.sub(w_sum, correction)
    if bool(norm_factor <= 0):
        from .._creation import _user_stacklevel
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", UserWarning, stacklevel=_user_stacklevel())
        norm_factor = ew.mul(norm_factor, 0)
    x = ew.sub(x, avg.unsqueeze(1))
    c = x.mm((x if w is None else ew.mul(x, w)).t())
    return ew.div(c, norm_factor).squeeze()


def corrcoef(input):
    """Pearson's correlation coefficients of the variables in ``input``'s rows."""
    c = cov(input)
    if c.ndim == 0:
        return ew.div(c, c)
    std = c.diagonal().sqrt()
    c = ew.div(c, std.reshape(-1, 1))
    c = ew.div(c, std.reshape(1, -1))
    return c.clamp(-1, 1)


def fill_diagonal_(self, fill_value, wrap=False):
    """The main diagonal (every index equal) set to ``fill_value`` in place; ``wrap``: a
    tall matrix's diagonal starts again below every ``columns + 1`` rows, as PyTorch's."""
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    height, width = self.shape[0], self.shape[1]
    size = min(height, width)
    if wrap and self.ndim == 2 and height > width + 1:
        step = width + 1
        flat = [m * step for m in range((height * width + step - 1) // step)]
        index = (_creation.tensor([p // width for p in flat]), _creation.tensor([p % width for p in flat]))
    else:
        index = (_creation.arange(size),) * self.ndim
    self[index] = fill_value
    return self


def is_nonzero(input):
    """Whether the one-element ``input`` is not zero."""
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous" if not input.numel() else
                           "Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item() != 0)


def is_signed(self):
    return self.dtype.is_signed


def hardshrink(input, lambd=0.5):
    """0 where ``|x| <= lambd``, else ``x`` (``F.hardshrink`` and the Tensor method)."""
    from .composite_entry import composite_op
    return composite_op("HardshrinkBackward0", lambda x: ew.where(ew.le(ew.abs(x), lambd), 0, x), input)


FUNCTIONS = {"result_type": result_type, "promote_types": promote_types, "can_cast": can_cast, "rot90": rot90,
             "vander": vander, "isin": isin, "cov": cov, "corrcoef": corrcoef, "is_nonzero": is_nonzero}
METHODS = {"rot90": rot90, "cov": cov, "corrcoef": corrcoef, "fill_diagonal_": fill_diagonal_,
           "is_nonzero": is_nonzero, "is_signed": is_signed, "hardshrink": hardshrink}
