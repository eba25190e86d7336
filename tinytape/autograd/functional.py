"""Derivatives of whole functions, as ``torch.autograd.functional``: ``vjp``, ``jvp``,
``jacobian``, ``hessian``, ``vhp`` and ``hvp``, built on ``autograd.grad`` (reverse mode;
a Jacobian-vector product is the derivative of a vector-Jacobian product, the
"double-vjp" trick, so no forward mode is needed)."""
from .._grad_mode import enable_grad
from .._tensor import Tensor
from ..ops.shape import stack


def _tuple(x, name):
    single = isinstance(x, Tensor)
    xs = (x,) if single else tuple(x)
    if not all(isinstance(t, Tensor) for t in xs):
        raise TypeError(f"The {name} given to the function must be either a Tensor or a tuple of Tensors")
    return xs, single


def _leaves(inputs, create_graph):
    """Fresh leaves requiring grad (graph-connected to ``inputs`` when ``create_graph``)."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(True)
                 for t in inputs)


def _grads(outputs, inputs, grad_outputs, create_graph, strict=False):
    from . import grad
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        found = (None,) * len(inputs)
    else:
        found = grad([o for o, _ in pairs], inputs, [g for _, g in pairs], retain_graph=True,
                     create_graph=create_graph, allow_unused=True)
    if strict and any(g is None for g in found):
        raise RuntimeError("The output of the user-provided function is independent of an input "
                           "(strict=True); use strict=False to get zeros")
    from .._creation import zeros_like
    return tuple(zeros_like(x) if g is None else g for g, x in zip(found, inputs))


def _ones_for(outputs, v, name):
    if v is None:
        if any(o.numel() != 1 for o in outputs):
            raise RuntimeError(f"The vector v can only be None if the user-provided function returns a "
                               f"single Tensor with a single element ({name})")
        from .._creation import ones_like
        return tuple(ones_like(o) for o in outputs)
    vs, _ = _tuple(v, "v")
    for o, g in zip(outputs, vs):
        if o.shape != g.shape:
            raise RuntimeError(f"{name}: v has shape {list(g.shape)}, the output {list(o.shape)}")
    return vs


def _result(xs, single, create_graph):
    xs = tuple(x if create_graph else x.detach() for x in xs)
    return xs[0] if single else xs


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product."""
    xs, single_in = _tuple(inputs, "inputs")
    with enable_grad():
        leaves = _leaves(xs, create_graph)
        outs, single_out = _tuple(func(*leaves), "outputs of the user-provided function")
        vs = _ones_for(outs, v, "vjp")
        grads = _grads(outs, leaves, vs, create_graph, strict)
    return _result(outs, single_out, create_graph), _result(grads, single_in, create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, as the derivative of a vjp in its
    cotangent."""
    xs, single_in = _tuple(inputs, "inputs")
    with enable_grad():
        leaves = _leaves(xs, create_graph)
        outs, single_out = _tuple(func(*leaves), "outputs of the user-provided function")
        if v is None:
            if any(x.numel() != 1 for x in xs):
                raise RuntimeError("The vector v can only be None if the input to the user-provided "
                                   "function is a single Tensor with a single element (jvp)")
            from .._creation import ones_like
            vs = tuple(ones_like(x) for x in xs)
        else:
            vs, _ = _tuple(v, "v")
        from .._creation import zeros_like
        cotangents = tuple(zeros_like(o).requires_grad_(True) for o in outs)
        pulled = _grads(outs, leaves, cotangents, True, strict)
        pushed = _grads(pulled, cotangents, vs, create_graph, strict)
    return _result(outs, single_out, create_graph), _result(pushed, single_out, create_graph)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """d func / d inputs, shaped output.shape + input.shape (a tuple per output/input)."""
    xs, single_in = _tuple(inputs, "inputs")
    from .._creation import zeros
    with enable_grad():
        leaves = _leaves(xs, create_graph)
        outs, single_out = _tuple(func(*leaves), "outputs of the user-provided function")
        table = []
        for out in outs:
            flat = out.reshape(-1)
            rows = []
            for i in range(flat.numel()):
                onehot = zeros(flat.shape, dtype=out.dtype, device=out.device)
                onehot[i] = 1
                rows.append(_grads((out,), leaves, (onehot.reshape(out.shape),), create_graph, strict))
            per_input = []
            for j, x in enumerate(leaves):
                if rows:
                    block = stack([r[j] for r in rows]).reshape(out.shape + x.shape)
                else:
                    block = zeros(out.shape + x.shape, dtype=x.dtype, device=x.device)
                per_input.append(block if create_graph else block.detach())
            table.append(per_input[0] if single_in else tuple(per_input))
    return table[0] if single_out else tuple(table)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Jacobian of the gradient of a scalar function."""
    xs, single_in = _tuple(inputs, "inputs")

    def gradient(*args):
        out = func(*args)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor with a single element")
        g = _grads((out.reshape(()),), args, (_one(out),), True, strict)
        return g[0] if single_in else g

    return jacobian(gradient, inputs, create_graph=create_graph, strict=strict)


def _one(out):
    from .._creation import ones
    return ones((), dtype=out.dtype, device=out.device)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar function."""
    xs, single_in = _tuple(inputs, "inputs")
    with enable_grad():
        leaves = _leaves(xs, create_graph)
        out = func(*leaves)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to vhp/hvp should return a single Tensor with a single element")
        g = _grads((out.reshape(()),), leaves, (_one(out),), True, strict)
        vs = _tuple(v, "v")[0] if v is not None else _ones_for(leaves, None, "vhp")
        products = _grads(g, leaves, vs, create_graph, strict)
    return (out if create_graph else out.detach()), _result(products, single_in, create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): equal to vhp's for the symmetric Hessian of a twice
    differentiable function."""
    return vhp(func, inputs, v, create_graph, strict)
