"""Reductions' argument parsing as PyTorch's: which (dim, keepdim) combinations each
accepts and the shape it gives, ``aminmax``, and ``histogram``'s not-differentiable entry."""
import numpy as np
import pytest

import tinytape as tt
from pytorch_answers import pytorch
from helpers import gradcheck

NAMES = ["sum", "mean", "prod", "amax", "amin", "std", "var", "norm", "logsumexp", "max", "min",
         "argmax", "argmin", "all", "any", "nansum", "nanmean", "median", "nanmedian", "count_nonzero",
         "std_mean", "var_mean", "aminmax"]
CALLS = [dict(keepdim=True), dict(dim=None, keepdim=True), dict(keepdims=True), dict(dim=None),
         dict(dim=1, keepdim=True), dict(axis=0)]


def _outcomes(torch):
    a = torch.arange(6.).reshape(2, 3)
    out = {}
    for name in NAMES:
        for kw in CALLS:
            key = f"{name}({', '.join(f'{k}={v}' for k, v in kw.items())})"
            try:
                r = getattr(a, name)(**kw)
                out[key] = [list(t.shape) for t in r] if isinstance(r, tuple) else list(r.shape)
            except Exception as e:
                out[key] = type(e).__name__
    return out


def test_which_dim_and_keepdim_combinations_each_reduction_takes():
    ours, theirs = _outcomes(tt), pytorch(_outcomes)
    assert {k: v for k, v in ours.items() if v != theirs[k]} == {}


def test_keepdim_without_a_dim_names_the_function():
    with pytest.raises(TypeError, match=r"sum\(\) received an invalid combination of arguments"):
        tt.ones(2, 3).sum(keepdim=True)
    with pytest.raises(TypeError, match=r"max\(\)"):
        tt.max(tt.ones(2, 3), None)


def _aminmax(torch):
    x = torch.tensor([[1.0, 3.0, 3.0], [-2.0, -2.0, 0.5]], requires_grad=True)
    low, high = torch.aminmax(x, dim=1, keepdim=True)
    (2 * low + 3 * high).sum().backward()
    whole = x.detach().aminmax()
    ints = torch.aminmax(torch.tensor([[1, 2], [3, 4]]), dim=0)
    return low, high, x.grad, whole.min, whole.max, ints.min, ints.max, type(whole).__name__, low.grad_fn.name()


def test_aminmax_values_gradient_and_grad_fn_match_pytorch():
    for ours, theirs in zip(_aminmax(tt), pytorch(_aminmax)):
        if isinstance(theirs, str):
            assert ours == theirs
        else:
            np.testing.assert_array_equal(ours.detach().numpy(), theirs.numpy())
            assert str(ours.dtype).split(".")[-1] == theirs.dtype


def test_aminmax_gradient_against_finite_differences():
    x = tt.randn(3, 4, dtype=tt.float64, requires_grad=True)
    assert gradcheck(lambda t: tt.aminmax(t, dim=0).max * 2 + tt.aminmax(t, dim=0).min, (x,))


def test_aminmax_of_an_empty_dimension_raises():
    with pytest.raises(RuntimeError, match="aminmax"):
        tt.aminmax(tt.ones(2, 0), dim=1)


def _histogram(torch):
    x = torch.tensor([0.1, 0.5, 0.9, 0.4], requires_grad=True)
    h = torch.histogram(x, 3)
    try:
        h.hist.sum().backward()
        raised = None
    except RuntimeError as e:
        raised = str(e)
    plain = torch.histogram(x.detach(), 3)
    return (type(h.hist.grad_fn).__name__, h.hist.requires_grad, h.bin_edges.requires_grad, raised,
            plain.hist.requires_grad, len(h.hist.grad_fn.next_functions))


def test_histogram_of_a_tensor_that_requires_grad_records_an_entry_that_refuses_backward():
    assert _histogram(tt) == tuple(pytorch(_histogram))
