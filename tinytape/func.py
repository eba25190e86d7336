"""``torch.func``: function transforms (``grad``, ``grad_and_value``, ``vjp``, ``jvp``,
``jacrev``, ``jacfwd``, ``hessian``, ``vmap``) and ``functional_call`` /
``stack_module_state``, built on the tape.

A transform differentiates with ``autograd.grad``: the inputs it differentiates are taken
off any graph they were on (``detach().requires_grad_()``), unless they are already being
differentiated (an outer transform, or the caller's own graph), in which case they are
aliased onto it and the gradients keep their graph (``create_graph``) -- so
``grad(grad(f))`` and ``hessian`` nest, and a transform's result carries a ``grad_fn``
exactly when its input did.  ``vmap`` maps a function over a batch dimension by calling it
once per slice and stacking the results: the values of a vectorised run, computed one
example at a time.
"""
import contextlib
import functools

from . import autograd
from ._creation import zeros_like
from ._dual import state as _dual_state
from ._grad_mode import enable_grad
from ._tensor import Tensor
from .ops.concat import stack as _stack

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap",
           "functional_call", "stack_module_state"]


# ---------------------------------------------------------------- pytrees (tuples, lists, dicts)


def _flatten(tree):
    """The leaves of nested tuples/lists/dicts, and a function that rebuilds the nest."""
    if isinstance(tree, (tuple, list)):
        parts = [_flatten(t) for t in tree]
        leaves = [leaf for p in parts for leaf in p[0]]

        def unflatten(values, parts=parts, kind=type(tree)):
            out, k = [], 0
            for p_leaves, rebuild in parts:
                out.append(rebuild(values[k:k + len(p_leaves)]))
                k += len(p_leaves)
            return kind(*out) if hasattr(kind, "_fields") else kind(out)
        return leaves, unflatten
    if isinstance(tree, dict):
        keys = list(tree)
        leaves, rebuild = _flatten([tree[k] for k in keys])
        return leaves, lambda values: dict(zip(keys, rebuild(values)))
    return [tree], lambda values: values[0]


# ---------------------------------------------------------------- reverse mode


def _watched(x):
    """``x`` as a tensor the transform differentiates, and whether its graph is kept."""
    if not isinstance(x, Tensor):
        raise RuntimeError(f"torch.func: expected the argument to differentiate to be a Tensor, got {type(x).__name__}")
    if x.requires_grad:  # an outer transform (or the caller) differentiates it too
        return x.view_as(x), True
    return x.detach().requires_grad_(), False


def _select(args, argnums):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise RuntimeError("torch.func: argnums must be non-empty")
    for n in nums:
        if not -len(args) <= n < len(args):
            raise RuntimeError(f"Got argnums={n}, but only {len(args)} positional inputs")
    return nums


def _prepare(args, argnums):
    """``args`` with the differentiated ones watched, their leaves, the rebuild and whether
    the gradients keep their graph."""
    nums = _select(args, argnums)
    args = list(args)
    leaves_per_arg, keep = {}, False
    for n in nums:
        leaves, rebuild = _flatten(args[n])
        watched = [_watched(leaf) for leaf in leaves]
        keep = keep or any(k for _, k in watched)
        leaves_per_arg[n] = ([w for w, _ in watched], rebuild)
        args[n] = rebuild([w for w, _ in watched])
    return args, nums, leaves_per_arg, keep


def _per_arg(flat, nums, leaves_per_arg):
    """``flat`` (one value per differentiated leaf, in order) regrouped into each argument's nest."""
    per_arg, k = [], 0
    for n in nums:
        leaves, rebuild = leaves_per_arg[n]
        per_arg.append(rebuild(list(flat[k:k + len(leaves)])))
        k += len(leaves)
    return per_arg


def _undo(value, keep):
    """A transform's result: off the transform's own graph unless an outer one needs it."""
    if keep:
        return value
    leaves, rebuild = _flatten(value)
    return rebuild([leaf.detach() if isinstance(leaf, Tensor) else leaf for leaf in leaves])


def grad_and_value(func, argnums=0, has_aux=False):
    """``func``'s gradient with respect to ``args[argnums]`` and its value."""
    def wrapper(*args, **kwargs):
        with enable_grad():
            args, nums, leaves_per_arg, keep = _prepare(args, argnums)
            out = func(*args, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError("grad_and_value(f)(*args): output of function f should be a tuple: "
                                       "(output, aux) if has_aux is True")
                out, aux = out
            if not isinstance(out, Tensor) or out.numel() != 1:
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {out.dim() if isinstance(out, Tensor) else 'no'} dims. Maybe you "
                                   "wanted to use the vjp or jacrev APIs instead?")
            flat = [leaf for n in nums for leaf in leaves_per_arg[n][0]]
            grads = autograd.grad(out, flat, create_graph=keep, allow_unused=True, materialize_grads=True)
        per_arg = _per_arg(grads, nums, leaves_per_arg)
        g = per_arg[0] if isinstance(argnums, int) else tuple(per_arg)
        g, out = _undo(g, keep), _undo(out, keep)
        return (g, (out, _undo(aux, keep))) if has_aux else (g, out)
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """``func``'s gradient with respect to ``args[argnums]`` (``func`` returns a scalar)."""
    with_value = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = with_value(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)``: ``vjp_fn(cotangents)`` is the vector-Jacobian product."""
    with enable_grad():
        args, nums, leaves_per_arg, keep = _prepare(primals, tuple(range(len(primals))))
        out = func(*args)
        aux = None
        if has_aux:
            out, aux = out
    out_leaves, _ = _flatten(out)

    def vjp_fn(*cotangents):
        cot = _flatten(cotangents[0] if len(cotangents) == 1 else cotangents)[0]
        if len(cot) != len(out_leaves):
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as pytree structure of "
                               f"outputs to the function ({len(cot)} vs {len(out_leaves)} tensors)")
        flat = [leaf for n in nums for leaf in leaves_per_arg[n][0]]
        with enable_grad():
            grads = autograd.grad(out_leaves, flat, cot, retain_graph=True, create_graph=keep, allow_unused=True,
                                  materialize_grads=True)
        return tuple(_undo(g, keep) for g in _per_arg(grads, nums, leaves_per_arg))
    result = (_undo(out, keep), vjp_fn)
    return (*result, _undo(aux, keep)) if has_aux else result


def jvp(func, primals, tangents, *, has_aux=False):
    """``(func(*primals), J @ tangents)``: the Jacobian-vector product, as the vector-Jacobian
    product of a vector-Jacobian product (reverse mode twice)."""
    _refuse_inside_a_dual_level()
    if len(primals) != len(tangents):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have the same length")
    with enable_grad():
        args, nums, leaves_per_arg, keep = _prepare(primals, tuple(range(len(primals))))
        out = func(*args)
        aux = None
        if has_aux:
            out, aux = out
        out_leaves, rebuild_out = _flatten(out)
        flat = [leaf for n in nums for leaf in leaves_per_arg[n][0]]
        dummies = [zeros_like(o).requires_grad_() for o in out_leaves]
        vjps = autograd.grad(out_leaves, flat, dummies, create_graph=True, allow_unused=True, materialize_grads=True)
        tangent_leaves = [t for tangent in tangents for t in _flatten(tangent)[0]]
        products = autograd.grad(vjps, dummies, tangent_leaves, create_graph=keep, allow_unused=True,
                                 materialize_grads=True)
    result = (_undo(out, keep), _undo(rebuild_out(list(products)), keep))
    return (*result, _undo(aux, keep)) if has_aux else result


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None):
    """The Jacobian of ``func`` with respect to ``args[argnums]``: ``out.shape + arg.shape``,
    a row per output element (reverse mode)."""
    def wrapper(*args, **kwargs):
        with enable_grad():
            args, nums, leaves_per_arg, keep = _prepare(args, argnums)
            out = func(*args, **kwargs)
            aux = None
            if has_aux:
                out, aux = out
            out_leaves, rebuild_out = _flatten(out)
            flat = [leaf for n in nums for leaf in leaves_per_arg[n][0]]
            per_output = []
            for o in out_leaves:
                rows = []
                for i in range(o.numel()):
                    rows.append(autograd.grad(o.reshape(-1)[i], flat, retain_graph=True, create_graph=keep,
                                              allow_unused=True, materialize_grads=True))
                per_output.append([_stack([r[j] for r in rows]).reshape(tuple(o.shape) + tuple(x.shape))
                                   if rows else zeros_like(x).reshape(tuple(o.shape) + tuple(x.shape))
                                   for j, x in enumerate(flat)])
        jacobians = []
        for blocks in per_output:
            per_arg = _per_arg(blocks, nums, leaves_per_arg)
            jacobians.append(per_arg[0] if isinstance(argnums, int) else tuple(per_arg))
        result = _undo(rebuild_out(jacobians), keep)
        return (result, _undo(aux, keep)) if has_aux else result
    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of ``func`` (the values forward mode gives, computed in reverse)."""
    backward = jacrev(func, argnums, has_aux=has_aux)

    @functools.wraps(func)
    def forward_mode(*args, **kwargs):
        _refuse_inside_a_dual_level()
        return backward(*args, **kwargs)
    return forward_mode


def _refuse_inside_a_dual_level():
    """PyTorch's forward-mode transforms take a forward-AD level of their own, and only one
    may be open: inside ``forward_ad.dual_level()`` they refuse."""
    if _dual_state.level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")


def hessian(func, argnums=0):
    """The Hessian of a scalar ``func``: ``jacfwd(jacrev(func))``."""
    return jacfwd(jacrev(func, argnums), argnums)


# ---------------------------------------------------------------- vmap


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over dimension ``in_dims`` of its inputs, results stacked along
    ``out_dims``."""
    def wrapper(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap(func, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
                             f"structure of `inputs`. in_dims has structure {len(dims)} but inputs has {len(args)}")
        mapped, sizes = [], []
        for arg, dim in zip(args, dims):
            leaves, rebuild = _flatten(arg)
            leaf_dims = _flatten(dim)[0] if isinstance(dim, (tuple, list, dict)) else [dim] * len(leaves)
            for leaf, d in zip(leaves, leaf_dims):
                if d is not None and isinstance(leaf, Tensor):
                    if not -leaf.dim() <= d < max(leaf.dim(), 1) or leaf.dim() == 0:
                        raise ValueError(f"vmap(func, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input "
                                         f"but the input is of type {type(leaf)}. We cannot vmap over non-Tensor "
                                         f"arguments" if not isinstance(leaf, Tensor) else
                                         f"vmap(func)(<inputs>): Got in_dim={d} for some input, but that input is "
                                         f"a Tensor of dimensionality {leaf.dim()} so expected in_dim to satisfy "
                                         f"-{leaf.dim()} <= in_dim < {leaf.dim()}.")
                    sizes.append(leaf.shape[d])
            mapped.append((leaves, rebuild, leaf_dims))
        if not sizes:
            raise ValueError("vmap(func, in_dims=..., ...)(<inputs>): at least one input must be a Tensor mapped "
                             "over a dimension (in_dims not None)")
        if len(set(sizes)) != 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                             f"{sizes} for the mapped dimension")
        results = []
        for i in range(sizes[0]):
            call_args = [rebuild([leaf.select(d, i) if d is not None and isinstance(leaf, Tensor) else leaf
                                  for leaf, d in zip(leaves, leaf_dims)])
                         for leaves, rebuild, leaf_dims in mapped]
            results.append(func(*call_args, **kwargs))
        leaves0, rebuild_out = _flatten(results[0])
        columns = [[_flatten(r)[0][k] for r in results] for k in range(len(leaves0))]
        odims = _flatten(out_dims)[0] if isinstance(out_dims, (tuple, list)) else [out_dims] * len(columns)
        odims = _flatten(out_dims)[0] if isinstance(out_dims, (tuple, list)) else [out_dims] * len(columns)
        for col, d in zip(columns, odims):
            if d is not None and not isinstance(col[0], Tensor):
                raise ValueError(f"vmap({getattr(func, '__name__', func)}, ...): `{getattr(func, '__name__', func)}` "
                                 f"must only return Tensors, got type {type(col[0])}. Did you mean to set out_dims= "
                                 "to None for output?")
        return rebuild_out([col[0] if d is None else _stack(col, d) for col, d in zip(columns, odims)])
    return wrapper


# ---------------------------------------------------------------- modules as functions


@contextlib.contextmanager
def _swapped(module, tensors):
    """``module`` with the named parameters and buffers replaced by ``tensors`` for a while."""
    saved = []
    try:
        for name, value in tensors.items():
            owner_path, _, leaf = name.rpartition(".")
            owner = module.get_submodule(owner_path) if owner_path else module
            table = owner._parameters if leaf in owner._parameters else owner._buffers if leaf in owner._buffers \
                else None
            if table is None:
                raise AttributeError(f"{type(owner).__name__} has no parameter or buffer named '{leaf}'")
            saved.append((table, leaf, table[leaf]))
            table[leaf] = value
        yield
    finally:
        for table, leaf, old in reversed(saved):
            table[leaf] = old


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` computed with the given parameters and buffers in place of
    its own (which are left as they were)."""
    dicts = parameter_and_buffer_dicts if isinstance(parameter_and_buffer_dicts, (tuple, list)) \
        else (parameter_and_buffer_dicts,)
    tensors = {}
    for d in dicts:
        for name, value in d.items():
            if name in tensors:
                raise ValueError(f"{name} appeared in multiple dictionaries; behavior of functional call is ambiguous")
            tensors[name] = value
    if strict:
        expected = {n for n, _ in module.named_parameters()} | {n for n, _ in module.named_buffers()}
        missing, unexpected = sorted(expected - set(tensors)), sorted(set(tensors) - expected)
        if missing or unexpected:
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                               f"Missing key(s): {', '.join(map(repr, missing))}.\n\t"
                               f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if tie_weights:  # a weight shared under two names takes the one value given for either
        by_object = {}
        for name, t in list(module.named_parameters(remove_duplicate=False)) + \
                list(module.named_buffers(remove_duplicate=False)):
            by_object.setdefault(id(t), []).append(name)
        for names in by_object.values():
            given = [n for n in names if n in tensors]
            for n in names:
                if given and n not in tensors:
                    tensors[n] = tensors[given[0]]
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    with _swapped(module, tensors):
        return module(*args, **(kwargs or {}))


def stack_module_state(models):
    """The parameters and buffers of same-shaped ``models`` stacked along a new first
    dimension: ``(params, buffers)`` dicts, for ``vmap`` over an ensemble."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    params = {name: _stack([dict(m.named_parameters())[name] for m in models]).detach().requires_grad_()
              for name, _ in models[0].named_parameters()}
    buffers = {name: _stack([dict(m.named_buffers())[name] for m in models])
               for name, _ in models[0].named_buffers()}
    return params, buffers
