"""Matrix products: mm, mv, dot, matmul (1-D, 2-D and batched with broadcasting)."""
import math

from .. import _autocast, _dtype
from .._grad_mode import _state
from .._tensor import Tensor
from ..autograd.function import Function
from . import dtype_rules
from . import elementwise as ew
from .shape import UnsafeView


_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
            "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}


def _refuse_dtypes(a, b, op):
    """PyTorch's error for operands of two dtypes, in the words of the kernel ``op`` reaches."""
    name = _dtype.scalar_type_name
    if op == "matmul":
        op = "dot" if a.ndim == 1 and b.ndim == 1 else "mv" if a.ndim == 2 and b.ndim == 1 else \
            "bmm" if a.ndim == 3 and b.ndim == 3 else "mm"
    if op == "dot":
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {name(a.dtype)} and "
                           f"{name(b.dtype)}")
    if op == "mv":
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {name(b.dtype)}, "
                           f"{name(a.dtype)}, and {name(b.dtype)}")
    if op == "bmm":
        raise RuntimeError(f"expected scalar type {name(a.dtype)} but found {name(b.dtype)}")
    if op == "mm":
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_C_NAMES.get(a.dtype.name)} != "
                           f"{_C_NAMES.get(b.dtype.name)}")
    if op == "addmm":
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {name(a.dtype)} and {name(b.dtype)}")
    raise RuntimeError(f"{op}: expected both operands to have the same dtype, but got {a.dtype} and {b.dtype}")


def _check(a, b, op):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{op}(): expected Tensor arguments, got {type(a).__name__} and {type(b).__name__}")
    ew._check_device(a, b, op)
    if a._data.dtype != b._data.dtype:
        _refuse_dtypes(a, b, op)
    if op == "matmul":  # the kernel PyTorch's matmul reaches: dot, mv or mm
        op = "dot" if a.ndim == 1 and b.ndim == 1 else "mv" if a.ndim == 2 and b.ndim == 1 else "matmul"
    dtype_rules.check(op, a.dtype)


class Mm(Function):
    grad_fn_name = "MmBackward0"
    _forward_runs_kernels_only = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        if ctx.needs_input_grad[1]:  # b's layout, for its gradient's (``_transposed_product``)
            data = b._data
            ctx.b_transposed = data.ndim == 2 and data.strides[0] < data.strides[1]  # column-major
        return a._new(a._backend.matmul(a._data, b._data))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        if g.ndim == 2 and not _state.enabled and g._data.dtype.kind != "c":
            # no graph of the gradient to build (the common case): the backend multiplies
            # by the transposed storage directly, without two recorded transposes and checks
            backend = g._backend
            return ((g._new(backend.matmul(g._data, backend.swapaxes(b._data, 0, 1))) if b is not None else None),
                    (g._new(_transposed_product(backend, a._data, g._data, getattr(ctx, "b_transposed", False)))
                     if a is not None else None))
        # the transposes are views: the backend multiplies by them without copying; for a
        # batched product the engine sums the gradient over broadcast batch dims
        return (matmul(g, b.mH) if b is not None else None), (matmul(a.mH, g) if a is not None else None)


def _transposed_product(backend, a, g, b_transposed):
    """``a.T @ g``, the gradient of ``b`` in ``a @ b``, laid out as ``b`` is: where ``b`` is
    column-major (the transpose of a C-contiguous matrix, as ``linear``'s ``weight.t()``), it
    is computed as ``(g.T @ a).T``, so its transpose back (the weight's gradient) is C-contiguous and
    becomes ``.grad`` without a transposing copy (PyTorch's ``mm_mat2_backward`` does the same)."""
    if b_transposed:
        return backend.swapaxes(backend.matmul(backend.swapaxes(g, 0, 1), a), 0, 1)
    return backend.matmul(backend.swapaxes(a, 0, 1), g)


class Bmm(Mm):
    """The batched product (rank > 2, batch dims broadcast)."""

    grad_fn_name = "BmmBackward0"


class Dot(Function):
    grad_fn_name = "DotBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        n = a.shape[0]
        return a._new(a._backend.matmul(a._data.reshape(1, n), b._data.reshape(n, 1)).reshape(()))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return (g * b.conj() if b is not None else None), (g * a.conj() if a is not None else None)


class Mv(Function):
    grad_fn_name = "MvBackward0"

    @staticmethod
    def forward(ctx, m, v):
        ctx.save_for_backward(m if ctx.needs_input_grad[1] else None,
                              v if ctx.needs_input_grad[0] else None)
        return m._new(m._backend.matmul(m._data, v._data.reshape(-1, 1)).reshape(-1))

    @staticmethod
    def backward(ctx, g):
        m, v = ctx.saved_tensors
        grad_m = g.unsqueeze(1).mm(v.unsqueeze(0).conj()) if v is not None else None
        grad_v = m.t().conj().mv(g) if m is not None else None
        return grad_m, grad_v


def mm(a, b):
    if _autocast.state.__dict__:
        a, b = _autocast.lower(a, b)
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        x, y = a._data, b._data
        if (a._backend is b._backend and x.dtype is y.dtype and x.ndim == 2 and y.ndim == 2
                and x.shape[1] == y.shape[0] and x.dtype.kind != "b"):
            return Mm.apply(a, b)  # the common case, checked in a few reads (numpy's dtypes are singletons)
    _check(a, b, "mm")
    if a._data.ndim != 2 or b._data.ndim != 2:
        raise RuntimeError("self must be a matrix" if a._data.ndim != 2 else "mat2 must be a matrix")
    return _mm(a, b)


def _mm(a, b):
    """mm of operands already checked for type, device and dtype."""
    if a._data.shape[1] != b._data.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    return Mm.apply(a, b)


def mv(m, v):
    _check(m, v, "mv")
    if m.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"mv: vector + matrix @ vector expected, got 1, {m.ndim}, {v.ndim}")
    if m.shape[1] != v.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({m.shape[0]}), mat ({m.shape[0]}x{m.shape[1]}), "
                           f"vec ({v.shape[0]})")
    return Mv.apply(m, v)


def dot(a, b):
    _check(a, b, "dot")
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have "
                           f"the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively")
    return Dot.apply(a, b)


def bmm(a, b):
    if _autocast.state.__dict__:
        a, b = _autocast.lower(a, b)
    _check(a, b, "bmm")
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if a.ndim != 3 else "batch2 must be a 3D tensor")
    if b.shape[:2] != (a.shape[0], a.shape[2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    return Bmm.apply(a, b)


def matmul(a, b):
    """PyTorch's matmul: dot, mv, mm, or a batched product with broadcast batch dims."""
    if _autocast.state.__dict__:
        a, b = _autocast.lower(a, b)
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        x, y = a._data, b._data
        if (a._backend is b._backend and x.dtype is y.dtype and x.ndim == 2 and y.ndim == 2
                and x.shape[1] == y.shape[0] and x.dtype.kind != "b"):
            return Mm.apply(a, b)  # two matrices: mm's common case, as ``mm`` checks it
    _check(a, b, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    if a.ndim == 1 and b.ndim == 1:
        return dot(a, b)
    if a.ndim == 2 and b.ndim == 1:
        return mv(a, b)
    if a.ndim == 1 and b.ndim == 2:
        if a.shape[0] != b.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied (1x{a.shape[0]} and "
                               f"{b.shape[0]}x{b.shape[1]})")
        return _mm(a.unsqueeze(0), b).squeeze(0)
    if a.ndim == 2 and b.ndim == 2:
        return _mm(a, b)
    if _folds(a, b):  # (a size mismatch: the mm's, mv's or bmm's error, as PyTorch's)
        # PyTorch's fold of the larger operand's batch into rows: one mm (or mv), then a view
        transpose = b.ndim > a.ndim
        t1, t2 = (b.mT, a.t() if a.ndim == 2 else a) if transpose else (a, b)
        shape = t1.shape[:-1] + ((t2.shape[1],) if t2.ndim == 2 else ())
        rows = t1.reshape(-1, t1.shape[-1])
        if t2.ndim == 1:
            return UnsafeView.apply(mv(rows, t2), shape, False)
        out = UnsafeView.apply(_mm(rows, t2), shape, False)
        return out.mT.contiguous() if transpose else out
    return _batched(a, b)


def _batched(a, b):
    """PyTorch's batched matmul: each operand expanded to the broadcast batch and viewed as
    (batch, rows, cols), one bmm, the result viewed in the output's shape (UnsafeViewBackward0
    over BmmBackward0); a 3-d operand of batch 1 that needs grad is squeezed to a matrix first."""
    dim_a, dim_b = a.ndim, b.ndim
    if dim_a == 3 and dim_b == 3 and a.shape[0] != b.shape[0]:
        if a.shape[0] == 1 and a.requires_grad:
            return matmul(a.squeeze(0), b)
        if b.shape[0] == 1 and b.requires_grad:
            return matmul(a, b.squeeze(0))
    n, m1 = (a.shape[-2] if dim_a > 1 else 1), a.shape[-1]
    m2, p = (b.shape[-2], b.shape[-1]) if dim_b > 1 else (b.shape[0], 1)
    batch = _broadcast_batch(a.shape[:max(dim_a - 2, 0)], b.shape[:max(dim_b - 2, 0)])
    count = math.prod(batch)
    lhs = a.expand(batch + (n, m1)).reshape(count, n, m1)
    if dim_b == 1:
        rhs = b.expand(batch + (m2,)).reshape(count, m2).unsqueeze(2)
    else:
        rhs = b.expand(batch + (m2, p)).reshape(count, m2, p)
    if m1 != m2:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{count}, {m1}] "
                           f"but got: [{count}, {m2}].")
    out = Bmm.apply(lhs, rhs)
    if dim_b == 1:
        out = out.squeeze(-1)
    return UnsafeView.apply(out, batch + ((n,) if dim_a > 1 else ()) + ((p,) if dim_b > 1 else ()), False)


def _broadcast_batch(sa, sb):
    """The broadcast of two batch shapes, with PyTorch's error (infer_size's) where they clash."""
    ndim = max(len(sa), len(sb))
    sa, sb = (1,) * (ndim - len(sa)) + tuple(sa), (1,) * (ndim - len(sb)) + tuple(sb)
    for i, (da, db) in enumerate(zip(sa, sb)):
        if da != db and da != 1 and db != 1:
            raise RuntimeError(f"The size of tensor a ({da}) must match the size of tensor b ({db}) at "
                               f"non-singleton dimension {i}")
    return tuple(db if da == 1 else da for da, db in zip(sa, sb))


def _folds(a, b):
    """Whether PyTorch's matmul folds a batch (one operand 3-d or more, the other 1-d or 2-d)
    into one mm/mv: always where the smaller operand needs grad, never for a 2-d first operand
    otherwise, and where the larger one's batch dims view as rows."""
    larger_first = a.ndim >= b.ndim
    if not (max(a.ndim, b.ndim) >= 3 and min(a.ndim, b.ndim) <= 2):
        return False
    if (b if larger_first else a).requires_grad:  # the smaller operand's gradient: one mm, not a batch of them
        return True
    if a.ndim == 2:
        return False
    t1 = a if larger_first else b.mT
    if not t1.numel():
        return True
    shape, strides = t1.shape, t1.stride()
    return all(strides[i] == strides[i + 1] * shape[i + 1] for i in range(t1.ndim - 2))


from .add_products import (Addbmm, Addmm, Addmv, Baddbmm, addbmm, addmm, addmv,  # noqa: E402,F401
                           baddbmm)  # (beta * input + alpha * product: the ops' own module)
