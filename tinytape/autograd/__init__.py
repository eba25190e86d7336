"""Reverse-mode automatic differentiation over the tape: ``backward``, ``grad``, grad
modes, custom ``Function``s and ``gradcheck``."""
import warnings

from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .accumulate_grad import register_post_accumulate_grad_hook
from .engine import run_backward
from .gradcheck import gradcheck, gradgradcheck
from . import graph  # noqa: F401
from . import forward_ad  # noqa: F401
from .function import Function
from .._grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .. import _grad_mode as grad_mode  # noqa: F401  (torch.autograd.grad_mode.no_grad)
from .._inference import inference_mode, is_inference_mode_enabled  # noqa: F401

grad_mode.inference_mode = inference_mode  # torch.autograd.grad_mode.inference_mode
from .._tensor import Tensor as _Tensor

__all__ = ["backward", "grad", "Function", "Variable", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "gradcheck", "gradgradcheck", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled", "functional", "inference_mode"]


def _tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """``Tensor.backward``: the gradient of this tensor with respect to the graph leaves,
    accumulated into their ``.grad`` (``tinytape.autograd.backward(self, ...)``)."""
    backward(self, gradient, retain_graph, create_graph, inputs=inputs)


TENSOR_METHODS = {"backward": _tensor_backward, "register_post_accumulate_grad_hook": register_post_accumulate_grad_hook}


def _as_tuple(x):
    if x is None:
        return None
    return (x,) if isinstance(x, _Tensor) else tuple(x)


def _root_grads(outputs, grad_outputs):
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            data = out._data  # ones_like(out), without its argument parsing (once per backward)
            g = _Tensor._make(out._backend.full(data.shape, 1, data.dtype), backend=out._backend)
        elif g.shape != out.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and "
                               f"output[{i}] has a shape of {out.shape}.")
        elif g.dtype is not out.dtype:
            g = g.to(out.dtype)
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) (weighted by ``grad_tensors``) into the leaves' ``.grad``."""
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors) or (None,) * len(tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"got {len(grad_tensors)} gradients for {len(tensors)} tensors")
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        import warnings
        from .._creation import _user_stacklevel
        warnings.warn("Using backward() with create_graph=True will create a reference cycle between the parameter "
                      "and its gradient which can cause a memory leak. We recommend using autograd.grad when "
                      "creating the graph to avoid this. If you have to use this function, make sure to reset the "
                      ".grad fields of your parameters to None after use to break the cycle and avoid the leak.",
                      UserWarning, stacklevel=_user_stacklevel())
    roots = _root_grads(tensors, grad_tensors)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        from .engine import _accumulate
        grads = run_backward(tensors, roots, retain_graph, create_graph, inputs=inputs)
        for t, g in zip(inputs, grads):
            if g is not None:
                _accumulate(t, g, True, create_graph)
        return
    run_backward(tensors, roots, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple; ``.grad`` is untouched."""
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    grad_outputs = _as_tuple(grad_outputs) or (None,) * len(outputs)
    for i, t in enumerate(inputs):
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_grads(outputs, grad_outputs)
    grads = run_backward(outputs, roots, retain_graph, create_graph, inputs=inputs)
    result = []
    for i, (t, g) in enumerate(zip(inputs, grads)):
        if g is None:
            if materialize_grads:
                from .._creation import zeros_like
                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior.")
        elif not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)


class _VariableMeta(type):
    def __instancecheck__(cls, other):  # every tensor is a Variable, as PyTorch answers
        return isinstance(other, _Tensor)


class Variable(metaclass=_VariableMeta):
    """The pre-0.4 wrapper: a new tensor sharing ``data``'s memory, a leaf that requires grad
    only as asked (PyTorch's ``Variable(x)`` drops ``x``'s graph and its requires_grad)."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        if not isinstance(data, _Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        t = data.detach()
        if requires_grad:
            t.requires_grad_(True)
        return t

