"""Wiring a Function's outputs into the tape: ``grad_fn`` on the differentiable outputs,
inputs changed in place taken over as outputs, and the role of each tensor saved."""
from .._mirror_views import MIRRORED, after_write
from .._tensor import Tensor


def _wire_outputs(node, args, outputs):
    """``grad_fn`` on each differentiable output of ``outputs`` (a tensor, or a tuple)."""
    outs = (outputs,) if type(outputs) is not tuple else outputs
    wired, shapes, dtypes, device = [], [], [], None
    for i, out in enumerate(outs):
        if isinstance(out, Tensor):
            if not (node._non_differentiable and _among(out, node._non_differentiable)):
                if _among(out, args) and not _among(out, node._dirty):
                    out = out._alias()  # forward returned an input: the output is a new tensor
                out._grad_fn, out._output_nr, out._requires_grad = node, i, True
            shapes.append(out._data.shape)
            dtypes.append(out._data.dtype)
            if device is None:
                device = out._backend.device
        else:
            shapes.append(None)
            dtypes.append(None)
        wired.append(out)
    node.output_shapes, node.output_dtypes = tuple(shapes), tuple(dtypes)
    node.device = device
    return wired


def _among(x, items):
    """Whether ``x`` is one of ``items``, by identity (``==`` on tensors is elementwise)."""
    for item in items:
        if item is x:
            return True
    return False


def _saved(t, args, outputs):
    """A saved tensor that is not the first output or operand: its role found by identity."""
    for i, o in enumerate(outputs):
        if o is t and t._grad_fn is not None:  # a non-differentiable output is kept as it is
            return (None, t._data, t._backend, t._version_counter, t._version_counter[0], i, _role("output", i))
    for i, a in enumerate(args):
        if a is t:
            return (t, None, None, t._version_counter, t._version_counter[0], None, _role("input", i))
    return (t, None, None, t._version_counter, t._version_counter[0], None, None)


_FIRST_INPUT, _SECOND_INPUT, _FIRST_OUTPUT = ("input", 0), ("input", 1), ("output", 0)
_ROLES = {(kind, i): (kind, i) for kind in ("input", "output") for i in range(8)}


def _role(kind, i):
    """``(kind, i)``, one shared tuple for the first few (not one per saved tensor)."""
    return _ROLES.get((kind, i)) or (kind, i)


def _take_dirty_inputs(node, args, outputs):
    """An input forward changed in place (``mark_dirty``) and returned is that output itself:
    its version moves on, and its history is now this entry's."""
    outs = (outputs,) if type(outputs) is not tuple else outputs
    for t in node._dirty:
        if t._grad_fn is None and t._requires_grad:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
        if not _among(t, outs):
            raise RuntimeError("Some elements marked as dirty during the forward method were not returned as "
                               "output. The inputs that are modified inplace must all be outputs of the Function.")
        t._version_counter[0] += 1
        if MIRRORED:  # (conjugate/negative views of this memory follow)
            after_write(t)
