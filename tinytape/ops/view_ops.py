"""The view ops whose result is a new set of strides over the input's memory (``diagonal``,
``Tensor.unfold``), and the attribute views PyTorch gives a real tensor (``H``, ``mH``,
``adjoint``, ``real``), with ``untyped_storage``.

As PyTorch's, ``diagonal`` and ``unfold`` share their input's memory: a write through them
is seen in the input (and recorded on the base like any view's), ``stride()`` and
``is_contiguous()`` are those of the strided view.  Their gradients are the incoming one
added into zeros of the input's shape at the positions the view reads (overlapping windows
of ``unfold`` accumulate)."""
import numpy as np

from .._tensor import _wrap_dim
from ..autograd.function import Function
from . import shape as sh


def _strided_replay(offset, shape, strides):
    """The same cut of any array of the input's shape (``view_base_and_ids``'s ids)."""
    def replay(a):
        a = np.ascontiguousarray(a)
        return np.lib.stride_tricks.as_strided(a.reshape(-1)[offset:] if a.size else a.reshape(-1), shape,
                                               tuple(s * a.itemsize for s in strides))
    return replay


def _view(x, cut):
    """The view ``cut(steps) -> (offset, shape, strides)`` makes of ``x``: read through ``x``'s
    own memory steps, and replayed on C-ordered arrays of ``x``'s shape."""
    offset, shape, strides = cut(x.stride())
    data = x._backend.strided_view(x._data, offset, shape, strides)
    return sh._view_of(x, data, _strided_replay(*cut(_c_strides(x.shape))))


def _c_strides(shape):
    steps = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        steps[d] = steps[d + 1] * shape[d + 1]
    return tuple(steps)


class Diagonal(Function):
    grad_fn_name = "DiagonalBackward0"
    _forward_runs_kernels_only = True  # (a view made in the caller's grad mode: see shape._view_of)

    @staticmethod
    def forward(ctx, x, cut):
        ctx.in_shape, ctx.cut = x.shape, cut
        return _view(x, cut)

    @staticmethod
    def backward(ctx, g):
        shape = tuple(ctx.in_shape)
        ids = _strided_replay(*ctx.cut(_c_strides(shape)))(np.arange(int(np.prod(shape)), dtype=np.int64)
                                                             .reshape(shape))
        return sh.scatter_flat(g.contiguous(), np.ascontiguousarray(ids), shape), None


class Unfold(Diagonal):
    grad_fn_name = "UnfoldBackward0"


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the matrices in dims ``dim1`` and ``dim2``, as the last dimension (a view)."""
    from .windows import _check_tensor
    _check_tensor(input, "diagonal", "input")
    d1, d2 = _wrap_dim(dim1, input.ndim, "diagonal"), _wrap_dim(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    offset = int(offset)
    rows, cols = input.shape[d1], input.shape[d2]
    start_r, start_c = max(-offset, 0), max(offset, 0)
    length = max(min(rows - start_r, cols - start_c), 0)
    rest = [d for d in range(input.ndim) if d not in (d1, d2)]
    shape = tuple(input.shape[d] for d in rest) + (length,)

    def cut(steps):
        first = start_r * steps[d1] + start_c * steps[d2] if length else 0
        return first, shape, tuple(steps[d] for d in rest) + (steps[d1] + steps[d2],)
    return Diagonal.apply(input, cut)


def unfold(self, dimension, size, step):
    """Windows of ``size`` elements every ``step`` along ``dimension``: that dim becomes the
    windows' count and a last dim of ``size`` is added (a view, as ``Tensor.unfold``)."""
    d = _wrap_dim(dimension, self.ndim, "unfold") if self.ndim else 0
    n = self.shape[d] if self.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if self.ndim == 0:
        return Unfold.apply(self, lambda steps: (0, (1,), (1,)))
    shape = tuple(self.shape[:d]) + ((n - size) // step + 1,) + tuple(self.shape[d + 1:]) + (size,)

    def cut(steps):
        return 0, shape, tuple(steps[:d]) + (steps[d] * step,) + tuple(steps[d + 1:]) + (steps[d],)
    return Unfold.apply(self, cut)


# ---------------------------------------------------------------- a real tensor's conjugate views


def _H(self):
    if self.ndim != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor."
                           + (" For batches of matrices, consider using tensor.mH" if self.ndim > 2 else ""))
    return sh.transpose(self, 0, 1)


def _mH(self):
    if self.ndim < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got {self.ndim}-D "
                           "tensor.")
    return sh.transpose(self, -2, -1)


def _mT(self):
    if self.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self.ndim}-D "
                           "tensor.")
    return sh.transpose(self, -2, -1)


def adjoint(input):
    """The conjugate transpose of the last two dims: of a real tensor, its transpose."""
    if input.ndim < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of matrices. Got "
                           f"{input.ndim}-D tensor.")
    return sh.transpose(input, -2, -1)


def real(input):
    """A real tensor's real part: the tensor itself."""
    return input


def imag(input):
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


class UntypedStorage:
    """The memory a tensor (and its views) reads: its address and size in bytes."""

    def __init__(self, base):
        self._base_tensor = base

    def data_ptr(self):
        return self._base_tensor.data_ptr()

    def nbytes(self):
        return self._base_tensor.numel() * self._base_tensor.element_size()

    def size(self):
        return self.nbytes()

    def __len__(self):
        return self.nbytes()

    @property
    def device(self):
        return self._base_tensor.device

    def element_size(self):
        return 1

    def tolist(self):
        return list(np.ascontiguousarray(self._base_tensor.detach().cpu().numpy()).view(np.uint8).reshape(-1))


def untyped_storage(self):
    base = self._base if self._view is not None else self
    return UntypedStorage(base)


FUNCTIONS = {"diagonal": diagonal, "adjoint": adjoint, "real": real, "imag": imag}
METHODS = {"diagonal": diagonal, "unfold": unfold, "adjoint": adjoint, "untyped_storage": untyped_storage,
           "H": property(_H), "mH": property(_mH), "mT": property(_mT), "real": property(real),
           "imag": property(imag)}
