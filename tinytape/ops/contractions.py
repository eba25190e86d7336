"""PyTorch's products beyond matmul, each a few recorded ops: ``inner``, ``vdot``, ``tensordot``,
``kron``, ``addr``, ``chain_matmul``/``linalg.multi_dot`` (the cheapest order), ``linalg.vecdot``."""
import math
import numbers
import warnings

from .. import _creation
from .._tensor import Tensor, _wrap_dim
from . import elementwise as ew
from .windows import _check_tensor


# ---------------------------------------------------------------- products


def inner(input, other):
    """Sums of products over the last dims: shape ``input.shape[:-1] + other.shape[:-1]``."""
    _check_tensor(input, "inner", "input")
    _check_tensor(other, "inner", "other")
    if input.ndim == 0 or other.ndim == 0:
        return ew.mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([input.ndim - 1], [other.ndim - 1]))


def vdot(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.is_complex():  # the first operand conjugated
        from .composite_entry import composite_op
        return composite_op("VdotBackward0", lambda a, b: a.conj().dot(b), input, other)
    return input.dot(other)


def tensordot(a, b, dims=2, out=None):
    """Contract ``a``'s dims ``dims[0]`` with ``b``'s ``dims[1]`` (an int n: a's last n with
    b's first n), as one matrix product of the permuted, flattened operands."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, numbers.Integral):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, numbers.Integral) else list(da)
        db = [db] if isinstance(db, numbers.Integral) else list(db)
    if len(da) != len(db):
        raise RuntimeError(f"both dimension lists should have same length, got {len(da)} and {len(db)}")
    da = [_wrap_dim(d, a.ndim, "tensordot") for d in da]
    db = [_wrap_dim(d, b.ndim, "tensordot") for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[i]} in dim {i} "
                               f"and second has size {b.shape[j]} in dim {j}")
    free_a = [i for i in range(a.ndim) if i not in da]
    free_b = [j for j in range(b.ndim) if j not in db]
    k = math.prod(a.shape[i] for i in da)
    left = a.permute(tuple(free_a + da)).reshape(math.prod(a.shape[i] for i in free_a), k)
    right = b.permute(tuple(db + free_b)).reshape(k, math.prod(b.shape[j] for j in free_b))
    result = left.matmul(right).reshape([a.shape[i] for i in free_a] + [b.shape[j] for j in free_b])
    if out is not None:
        out.copy_(result)
        return out
    return result


def kron(input, other):
    from .composite_entry import composite_op
    return composite_op("UnsafeViewBackward0", _kron, input, other)


def _kron(input, other):
    n = max(input.ndim, other.ndim)
    a = input.reshape((1,) * (n - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (n - other.ndim) + tuple(other.shape))
    spread_a = a.reshape(tuple(s for d in a.shape for s in (d, 1)))
    spread_b = b.reshape(tuple(s for d in b.shape for s in (1, d)))
    return ew.mul(spread_a, spread_b).reshape(tuple(x * y for x, y in zip(a.shape, b.shape)))


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)`` (``input`` ignored where beta is 0)."""
    from .composite_entry import composite_op
    if vec1.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1 and vec2, but got {vec1.ndim}-D and {vec2.ndim}-D")

    def compute(x, a, b):
        prod = ew.mul(a.unsqueeze(1), b.unsqueeze(0))
        prod = prod if alpha == 1 else ew.mul(prod, alpha)
        if beta == 0:  # input's values (NaN included) are not read
            return ew.add(prod, _creation.zeros(*x.shape, dtype=x.dtype, device=x.device))
        return ew.add(x if beta == 1 else ew.mul(x, beta), prod)
    return composite_op("AddrBackward0", compute, input, vec1, vec2)


def chain_matmul(*matrices):
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
                  "parameters.", UserWarning, stacklevel=_creation._user_stacklevel())
    return multi_dot(matrices, "chain_matmul")


def multi_dot(tensors, op="linalg.multi_dot"):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{op}(): expected at least 2 tensors but got 0")
    if len(tensors) == 1:
        if op == "chain_matmul":
            return tensors[0]
        raise RuntimeError(f"{op}(): expected at least 2 tensors but got 1")
    first_1d, last_1d = tensors[0].ndim == 1, tensors[-1].ndim == 1
    mats = [t.unsqueeze(0) if i == 0 and first_1d else t.unsqueeze(1) if i == len(tensors) - 1 and last_1d else t
            for i, t in enumerate(tensors)]
    for i, t in enumerate(mats):
        if t.ndim != 2:
            raise RuntimeError(f"{op}(): tensor {i} must be 2D but got {tensors[i].ndim}D")
    result = _cheapest_product(mats)
    if first_1d:
        result = result.squeeze(0)
    if last_1d:
        result = result.squeeze(-1)
    return result


def _cheapest_product(mats):
    """The product in the order of fewest multiplications (the matrix-chain order PyTorch uses)."""
    n = len(mats)
    if n == 2:
        return mats[0].mm(mats[1])
    p = [mats[0].shape[0]] + [m.shape[1] for m in mats]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def product(i, j):
        if i == j:
            return mats[i]
        k = split[i][j]
        return product(i, k).mm(product(k + 1, j))
    return product(0, n - 1)


def vecdot(x, y, *, dim=-1):
    return ew.mul(x, y).sum(dim)
