"""Check analytical gradients against central finite differences (float64 inputs)."""
import numpy as np

from .._grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    pass


def _outputs(fn, inputs):
    out = fn(*inputs)
    from .._tensor import Tensor
    outs = (out,) if isinstance(out, Tensor) else tuple(out)
    return [o for o in outs if o.dtype.is_floating_point]


def _numerical_jacobian(fn, inputs, x, eps):
    """d(outputs)/dx, one column per element of ``x``, by (f(x+eps) - f(x-eps)) / 2eps."""
    original = x.detach().cpu().numpy().copy()
    columns = []
    with no_grad():
        storage = x.data  # writes through it reach x (any device, any layout) untracked
        for pos in np.ndindex(*original.shape):
            value = original[pos].item()
            storage[pos] = value + eps
            plus = [o.numpy(force=True).astype(np.float64).ravel() for o in _outputs(fn, inputs)]
            storage[pos] = value - eps
            minus = [o.numpy(force=True).astype(np.float64).ravel() for o in _outputs(fn, inputs)]
            storage[pos] = value
            columns.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)]))
    return np.stack(columns, axis=1) if columns else np.zeros((0, 0))


def _analytical_jacobian(outputs, x, create_graph=False):
    from . import grad
    from .._creation import zeros
    rows = []
    for out in outputs:
        if not out.requires_grad:  # constant in every input: a zero Jacobian, as PyTorch's gradcheck
            rows.extend(np.zeros(x.numel()) for _ in range(out.numel()))
            continue
        for i in range(out.numel()):
            onehot = zeros(out.shape, dtype=out.dtype, device=out.device)  # C order: its flat view
            onehot.view(-1)[i] = 1
            (g,) = grad(out, x, onehot, retain_graph=True, allow_unused=True)
            rows.append(np.zeros(x.numel()) if g is None else g.numpy(force=True).astype(np.float64).ravel())
    return np.stack(rows) if rows else np.zeros((0, x.numel()))


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None):
    """True when every input's analytical Jacobian matches the numerical one.

    ``inputs``: a tensor or tuple; those requiring grad are checked (use float64).  PyTorch's
    further checks are taken as options; the reverse-mode Jacobian is the one compared."""
    if check_forward_ad and not _forward_jacobians_match(fn, inputs, eps, atol, rtol, raise_exception):
        return False
    if not check_backward_ad:
        return True
    from .._tensor import Tensor
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    outputs = _outputs(fn, inputs)
    for k, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            continue
        analytical = _analytical_jacobian(outputs, x)
        numerical = _numerical_jacobian(fn, inputs, x, eps)
        if not np.allclose(analytical, numerical, rtol=rtol, atol=atol):
            if raise_exception:
                raise GradcheckError(
                    f"Jacobian mismatch for output 0 with respect to input {k} (shape {list(x.shape)}),\n"
                    f"numerical:{numerical}\nanalytical:{analytical}\n")
            return False
    return True


def _forward_jacobians_match(fn, inputs, eps, atol, rtol, raise_exception):
    """Each input's Jacobian built a column at a time by forward-mode AD (a one-hot tangent)
    against the numerical one."""
    from . import forward_ad
    from .._tensor import Tensor
    from .._creation import zeros_like
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for k, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            continue
        columns = []
        for i in range(x.numel()):
            tangent = zeros_like(x).detach()
            tangent.view(-1)[i] = 1
            with forward_ad.dual_level(), no_grad():
                args = [forward_ad.make_dual(a, tangent) if j == k else a for j, a in enumerate(inputs)]
                outs = fn(*args)
                outs = (outs,) if isinstance(outs, Tensor) else tuple(outs)
                parts = []
                for o in outs:
                    if isinstance(o, Tensor) and o.dtype.is_floating_point:
                        t = forward_ad.unpack_dual(o).tangent
                        parts.append(np.zeros(o.numel()) if t is None
                                     else t.numpy(force=True).astype(np.float64).ravel())
            columns.append(np.concatenate(parts) if parts else np.zeros(0))
        forward = np.stack(columns, axis=1) if columns else np.zeros((0, 0))
        numerical = _numerical_jacobian(fn, inputs, x, eps)
        if not np.allclose(forward, numerical, rtol=rtol, atol=atol):
            if raise_exception:
                raise GradcheckError(
                    f"Jacobian computed with forward mode mismatch for output 0 with respect to input {k},\n"
                    f"numerical:{numerical}\nanalytical:{forward}\n")
            return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0, check_undefined_grad=True,
                  check_grad_dtypes=False, check_batched_grad=False, check_fwd_over_rev=False,
                  check_rev_over_rev=True, fast_mode=False, masked=False):
    """gradcheck of the first derivatives (built with create_graph=True): checks the
    backward formulas are themselves differentiated correctly.  Without ``grad_outputs``
    they are drawn as PyTorch draws them (``make_tensor``: uniform in [-1, 1) of each output's
    type, float64 for an integer output), so the random streams stay in step with PyTorch's."""
    from . import grad
    from .._creation import empty
    from .._tensor import Tensor
    from .. import _dtype
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if grad_outputs is None:
        outs = fn(*inputs)
        outs = (outs,) if isinstance(outs, Tensor) else tuple(outs)
        vs = []
        for o in outs:
            if isinstance(o, Tensor) and o.requires_grad:
                shape = tuple(o.shape)
                apart = gen_non_contig_grad_outputs and o.numel() > 1  # every other element of a doubled last dim
                dtype = o.dtype if o.dtype.is_floating_point else _dtype.float64
                v = empty(shape[:-1] + (2 * shape[-1],) if apart else shape, dtype=dtype, device=o.device)
                v.uniform_(-1, 1)
                vs.append(v[..., 1::2] if apart else v)
    else:
        vs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)

    def first_derivative(*args):
        with enable_grad():  # the numerical Jacobian evaluates under no_grad
            outs = [o for o in _outputs(fn, args) if o.requires_grad]
            wrt = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
            grads = grad(outs, wrt, vs, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    if not check_rev_over_rev or not diff:
        return True
    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
