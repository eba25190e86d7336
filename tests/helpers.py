"""Shared test helpers: the one gradcheck used by every op test, and seed-output matching."""
import re

import numpy as np

import tinytape as tt
from tinytape.autograd import gradcheck, gradgradcheck


def check_grad(fn, *inputs, second_order=False, atol=1e-5, rtol=1e-3, eps=1e-6):
    """Assert fn's gradients (and, with ``second_order``, its second derivatives) match
    central finite differences.  numpy arrays become float64 leaves requiring grad; other
    inputs (tensors not requiring grad, python scalars) pass through."""
    leaves = tuple(tt.tensor(np.asarray(x, np.float64), requires_grad=True) if isinstance(x, np.ndarray) else x
                   for x in inputs)
    assert gradcheck(fn, leaves, eps=eps, atol=atol, rtol=rtol)
    if second_order:
        assert gradgradcheck(fn, leaves, eps=eps, atol=atol, rtol=rtol)
    return leaves


def normalize(text):
    """Object addresses vary between runs: ``<AddBackward0 object at 0x...>``."""
    return re.sub(r" at 0x[0-9a-f]+>", " at 0x...>", text)


def _grad_fn_name(t):
    return type(t.grad_fn).__name__ if t.grad_fn is not None else None


def assert_same(ours, theirs, path="result", exact_types=False):
    """tinytape's answer equals PyTorch's recorded one (``pytorch_answers.Recorded``): tensors by
    values (bit for bit), dtype, shape, grad_fn name and requires_grad; containers item by item
    (namedtuples field by field); strings with the package's name read as torch's; the rest by ==
    (``exact_types``: containers and numbers of PyTorch's very type too, ``1`` is not ``1.0``)."""
    from pytorch_answers import Recorded
    if isinstance(theirs, Recorded):
        assert isinstance(ours, tt.Tensor), f"{path}: {type(ours).__name__} where PyTorch gives a tensor"
        assert str(ours.dtype).split(".")[1] == theirs.dtype, f"{path}: dtype {ours.dtype} != {theirs.dtype}"
        assert tuple(ours.shape) == theirs.shape, f"{path}: shape {tuple(ours.shape)} != {theirs.shape}"
        assert _grad_fn_name(ours) == theirs.grad_fn, f"{path}: grad_fn {_grad_fn_name(ours)} != {theirs.grad_fn}"
        assert ours.requires_grad == theirs.requires_grad, f"{path}: requires_grad"
        mine = ours.detach().float().numpy() if "bfloat16" in str(ours.dtype) else _values(ours)
        np.testing.assert_array_equal(mine, theirs.numpy(), err_msg=path)
    elif isinstance(theirs, tuple) and hasattr(theirs, "_fields"):  # a namedtuple: field by field
        assert getattr(ours, "_fields", None) == theirs._fields, f"{path}: fields of {ours!r} != {theirs!r}"
        for f in theirs._fields:
            assert_same(getattr(ours, f), getattr(theirs, f), f"{path}.{f}", exact_types)
    elif isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs), f"{path}: {ours!r} != {theirs!r}"
        assert not exact_types or type(ours) is type(theirs), f"{path}: {type(ours).__name__} != {type(theirs).__name__}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{path}[{i}]", exact_types)
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs), f"{path}: keys {list(ours)} != {list(theirs)}"
        for k in theirs:
            assert_same(ours[k], theirs[k], f"{path}[{k!r}]", exact_types)
    elif isinstance(theirs, str):
        assert isinstance(ours, str) and ours.replace("tinytape", "torch") == theirs, f"{path}: {ours!r} != {theirs!r}"
    else:
        assert ours == theirs and (not exact_types or type(ours) is type(theirs)), f"{path}: {ours!r} != {theirs!r}"


def _values(t):
    """A tensor's values as numpy's (a conjugate or negative view's resolved, as the recorder does)."""
    return t.detach().resolve_conj().resolve_neg().numpy()


def check_against_pytorch(fn):
    """``fn(tinytape)`` equals PyTorch's recorded ``fn(torch)`` (``assert_same``)."""
    from pytorch_answers import pytorch
    assert_same(fn(tt), pytorch(fn))


def assert_close_to(ours, theirs, path="result", rtol=2e-6, atol=1e-6, grad_fn=True, requires_grad=False):
    """As ``assert_same``, with tensor values compared to ``rtol``/``atol`` (sums, BLAS and MKL
    routines round apart from PyTorch's in the last bits): dtype, shape and, as asked, the
    grad_fn name and requires_grad exactly."""
    from pytorch_answers import Recorded
    if isinstance(theirs, Recorded):
        assert isinstance(ours, tt.Tensor), f"{path}: {type(ours).__name__} where PyTorch gives a tensor"
        assert str(ours.dtype).split(".")[1] == theirs.dtype and tuple(ours.shape) == theirs.shape, path
        assert not grad_fn or _grad_fn_name(ours) == theirs.grad_fn, f"{path}: grad_fn {_grad_fn_name(ours)}"
        assert not requires_grad or ours.requires_grad == theirs.requires_grad, f"{path}: requires_grad"
        np.testing.assert_allclose(_values(ours), theirs.numpy(), rtol=rtol, atol=atol, err_msg=path)
    elif isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs), f"{path}: {ours!r} != {theirs!r}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_close_to(a, b, f"{path}[{i}]", rtol, atol, grad_fn, requires_grad)
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs), f"{path}: keys {list(ours)} != {list(theirs)}"
        for k in theirs:
            assert_close_to(ours[k], theirs[k], f"{path}[{k!r}]", rtol, atol, grad_fn, requires_grad)
    else:
        assert (ours.replace("tinytape", "torch") if isinstance(ours, str) else ours) == theirs, \
            f"{path}: {ours!r} != {theirs!r}"


def check_close_to_pytorch(fn, **tolerances):
    """``fn(tinytape)`` close to PyTorch's recorded ``fn(torch)`` (``assert_close_to``)."""
    from pytorch_answers import pytorch
    assert_close_to(fn(tt), pytorch(fn), **tolerances)


def error_of(call):
    """(type name, message) of the exception ``call()`` raises, None if it returns: the answer
    the conformance programs compare with PyTorch's."""
    try:
        call()
    except Exception as e:  # noqa: BLE001 - the type and the words are the answer
        return type(e).__name__, str(e)
    return None


def outcome_of(f):
    """``f()``, or "Type: message" of what it raises: the answer compared with PyTorch's."""
    try:
        return f()
    except Exception as e:  # noqa: BLE001 - the error is the answer
        return f"{type(e).__name__}: {e}"
