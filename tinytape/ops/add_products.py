"""``beta * input + alpha * product(a, b)``: ``addmm``, ``addmv``, ``baddbmm``, ``addbmm``, each
one tape entry whose forward runs kernels only (a compiled program replays it)."""
from .. import _autocast, _dtype
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend.opcodes import ADD, MUL, SUM
from . import elementwise as ew
from .linalg import Mm, Mv, _check, matmul
from .shape import broadcast


class _AddProduct(Function):
    """``beta * input + alpha * product(a, b)``: addmm, addmv, baddbmm, addbmm.  One entry on
    the tape (PyTorch's ``AddmmBackward0`` ...), its forward kernels only, so a compiled
    program replays it; ``beta == 0`` ignores ``input`` (its nan and inf too), as BLAS does."""

    _forward_runs_kernels_only = True

    @staticmethod
    def product(backend, a, b):
        return backend.matmul(a, b)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # forward and backward reach this subclass's product (ctx does not know its op
        # when nothing is recorded)
        cls.forward = staticmethod(lambda ctx, *args: _AddProduct._forward(cls, ctx, *args))
        cls.backward = staticmethod(lambda ctx, g: _AddProduct._backward(cls, ctx, g))

    @staticmethod
    def _forward(cls, ctx, input, a, b, beta, alpha):
        needs = ctx.needs_input_grad
        ctx.save_for_backward(a if needs[2] else None, b if needs[1] else None)
        ctx.beta, ctx.alpha = beta, alpha
        if needs[2]:  # b's layout, for its gradient's (``_transposed_product``)
            data = b._data
            ctx.b_transposed = data.ndim == 2 and data.strides[0] < data.strides[1]
        backend = a._backend
        if a.dtype not in (_dtype.float16, _dtype.bfloat16):
            return a._new(cls.combine(backend, input._data, a._data, b._data, beta, alpha))
        # PyTorch's CPU kernels for these: the product, its scaling and the sum in float, one rounding
        wide = [backend.astype(x._data, "float32") for x in (input, a, b)]
        return a._new(backend.astype(cls.combine(backend, *wide, beta, alpha, a._data.dtype), a._data.dtype))

    @classmethod
    def combine(cls, backend, input, a, b, beta, alpha, narrow=None):
        out = cls.product(backend, a, b)
        if alpha != 1:
            out = backend.binary(MUL, out, backend.scalar(alpha, out.dtype))
        if beta != 0:
            scaled = input if beta == 1 else backend.binary(MUL, input, backend.scalar(beta, input.dtype))
            out = backend.binary(ADD, out, scaled)
        return out

    @staticmethod
    def _backward(cls, ctx, g):
        a, b = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grad_input = (g if ctx.beta == 1 else g * ctx.beta) if needs[0] else None
        grad_a, grad_b = cls.product_grads(g, a, b, ctx)
        if ctx.alpha != 1:
            grad_a, grad_b = (None if t is None else t * ctx.alpha for t in (grad_a, grad_b))
        return grad_input, grad_a, grad_b, None, None


class Addmm(_AddProduct):
    grad_fn_name = "AddmmBackward0"

    @staticmethod
    def product_grads(g, a, b, ctx):
        return Mm.backward(_Saved(a, b, getattr(ctx, "b_transposed", False)), g)


class Addmv(_AddProduct):
    grad_fn_name = "AddmvBackward0"

    @staticmethod
    def product(backend, m, v):
        return backend.reshape(backend.matmul(m, backend.reshape(v, (-1, 1))), (-1,))

    @staticmethod
    def product_grads(g, m, v, ctx):
        return Mv.backward(_Saved(m, v), g)


class Baddbmm(_AddProduct):
    grad_fn_name = "BaddbmmBackward0"

    @staticmethod
    def product_grads(g, a, b, ctx):
        return (matmul(g, b.mH) if b is not None else None), (matmul(a.mH, g) if a is not None else None)


class Addbmm(_AddProduct):
    grad_fn_name = "AddbmmBackward0"

    @staticmethod
    def product(backend, a, b):
        return backend.reduce(SUM, backend.matmul(a, b), (0,), False)

    @classmethod
    def combine(cls, backend, out, a, b, beta, alpha, narrow=None):
        if narrow is None:
            return super().combine(backend, out, a, b, beta, alpha)
        # PyTorch's loop of addmm_ over the batch, each sum rounded (no batch: beta rounded first)
        beta = beta if a.shape[0] else float(backend.astype(backend.scalar(beta, narrow), "float32"))
        for i in range(max(a.shape[0], 1)):  # out: the input, then the running sum
            rows = [backend.index(t, (slice(i, i + 1),)) for t in (a, b)]
            out = super().combine(backend, out, *rows, 1 if i else beta, alpha)
            out = backend.astype(backend.astype(out, narrow), "float32")
        return out

    @staticmethod
    def product_grads(g, a, b, ctx):
        g = g.unsqueeze(0)
        return ((matmul(g, b.mT) if b is not None else None),
                (matmul(a.mT, broadcast(g, (a.shape[0],) + tuple(g.shape[1:]))) if a is not None else None))


class _Saved:
    """What Mm/Mv's backward read from their ctx: the two operands (either may be None) and
    whether the second is column-major."""

    def __init__(self, a, b, b_transposed=False):
        self.saved_tensors = (a, b)
        self.b_transposed = b_transposed


def _add_product(cls, op, input, a, b, beta, alpha, out_shape):
    _check(a, b, op)
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    ew._check_device(input, a, op)
    if input.dtype is not a.dtype:
        raise RuntimeError(f"{op}: expected self and mat2 to have the same dtype, but got: "
                           f"{input.dtype} != {a.dtype}")
    shape = tuple(input.shape)
    if len(shape) > len(out_shape):
        raise RuntimeError(f"expand({input.type()}{{{list(shape)}}}, size={list(out_shape)}): the "
                           f"number of sizes provided ({len(out_shape)}) must be greater or equal to the number of "
                           f"dimensions in the tensor ({len(shape)})")
    for k in range(1, len(shape) + 1):  # expand's words, at the last dim that does not fit
        if shape[-k] not in (1, out_shape[-k]):
            raise RuntimeError(f"The expanded size of the tensor ({out_shape[-k]}) must match the existing size "
                               f"({shape[-k]}) at non-singleton dimension {len(out_shape) - k}.  Target sizes: "
                               f"{list(out_shape)}.  Tensor sizes: {list(shape)}")
    return cls.apply(input, a, b, beta, alpha)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``, ``input`` broadcast to the product's shape."""
    if _autocast.state.__dict__:
        input, mat1, mat2 = _autocast.lower(input, mat1, mat2)
    _check(mat1, mat2, "addmm")
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"addmm: {'mat1' if mat1.ndim != 2 else 'mat2'} must be a matrix, got "
                           f"{mat1.ndim if mat1.ndim != 2 else mat2.ndim}-D tensor")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and "
                           f"{mat2.shape[0]}x{mat2.shape[1]})")
    return _add_product(Addmm, "addmm", input, mat1, mat2, beta, alpha, (mat1.shape[0], mat2.shape[1]))


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)``."""
    _check(mat, vec, "addmv")
    if mat.ndim != 2 or vec.ndim != 1 or mat.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({list(input.shape)}), mat ({'x'.join(map(str, mat.shape))}), "
                           f"vec ({'x'.join(map(str, vec.shape))})")
    return _add_product(Addmv, "addmv", input, mat, vec, beta, alpha, (mat.shape[0],))


def _check_batches(b1, b2, op):
    _check(b1, b2, op)
    if b1.ndim != 3 or b2.ndim != 3:
        raise RuntimeError(f"{op}: batch1 must be a 3D tensor, got {list(b1.shape)} and {list(b2.shape)}")
    if b1.shape[0] != b2.shape[0] or b1.shape[2] != b2.shape[1]:
        raise RuntimeError(f"{op}: Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b1.shape[0]}, {b1.shape[2]}] but got: [{b2.shape[0]}, {b2.shape[1]}].")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * (batch1 @ batch2)``, one product per batch."""
    if _autocast.state.__dict__:
        input, batch1, batch2 = _autocast.lower(input, batch1, batch2)
    _check_batches(batch1, batch2, "baddbmm")
    return _add_product(Baddbmm, "baddbmm", input, batch1, batch2, beta, alpha,
                        (batch1.shape[0], batch1.shape[1], batch2.shape[2]))


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_i (batch1[i] @ batch2[i])``."""
    if _autocast.state.__dict__:
        input, batch1, batch2 = _autocast.lower(input, batch1, batch2)
    _check_batches(batch1, batch2, "addbmm")
    return _add_product(Addbmm, "addbmm", input, batch1, batch2, beta, alpha, (batch1.shape[1], batch2.shape[2]))
