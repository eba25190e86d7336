"""``tinytape.linalg``: norms (and the matrix functions of ``ops.composite``)."""

from .ops import reduction as reduction_ops


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    return reduction_ops.norm(x, ord, dim, keepdim)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """The vector 2-norm (of everything when ``dim`` is None and ``ord`` is None), a
    vector ``ord``-norm, or the Frobenius norm of matrices (``ord='fro'``)."""
    if ord is None or ord == "fro" or (isinstance(ord, (int, float)) and (dim is None or isinstance(dim, int))
                                       and (A.ndim == 1 or isinstance(dim, int))):
        if ord in (None, "fro"):
            ord = 2
        return vector_norm(A, ord, dim, keepdim, dtype=dtype)
    raise NotImplementedError(f"linalg.norm: ord={ord!r} over dims {dim} (matrix norms other than 'fro')")


def __getattr__(name):
    from .ops import composite
    if name in ("det", "inv"):
        return {"det": composite.TORCH_FUNCTIONS["det"], "inv": composite.TORCH_FUNCTIONS["inverse"]}[name]
    raise AttributeError(f"module 'tinytape.linalg' has no attribute '{name}'")


