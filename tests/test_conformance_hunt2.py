"""Differences from PyTorch found by running the same small programs under both: grad_fn names
of composed ops, dtypes of bool inputs, legacy empty tensors in cat, keyword forms, missing
functions and modules.  Each test runs one program under tinytape and asks PyTorch's recorded
answer for the same program."""
import numpy as np
import pytest

import tinytape
from pytorch_answers import Recorded, pytorch


def _grad_fn(t):
    return type(t.grad_fn).__name__ if t.grad_fn is not None else None


def assert_same(ours, theirs, path="result"):
    """tinytape's answer equals PyTorch's recorded one: tensors by values (bit for bit), dtype,
    shape, grad_fn name and requires_grad; containers item by item; the rest by ==."""
    if isinstance(theirs, Recorded):
        assert isinstance(ours, tinytape.Tensor), f"{path}: {type(ours).__name__} where PyTorch gives a tensor"
        assert str(ours.dtype).split(".")[1] == theirs.dtype, f"{path}: dtype {ours.dtype} != {theirs.dtype}"
        assert tuple(ours.shape) == theirs.shape, f"{path}: shape {tuple(ours.shape)} != {theirs.shape}"
        assert _grad_fn(ours) == theirs.grad_fn, f"{path}: grad_fn {_grad_fn(ours)} != {theirs.grad_fn}"
        assert ours.requires_grad == theirs.requires_grad, f"{path}: requires_grad"
        mine = ours.detach().float().numpy() if "bfloat16" in str(ours.dtype) else ours.detach().numpy()
        np.testing.assert_array_equal(mine, theirs.numpy(), err_msg=path)
    elif isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs), f"{path}: {ours!r} != {theirs!r}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs), f"{path}: keys {list(ours)} != {list(theirs)}"
        for k in theirs:
            assert_same(ours[k], theirs[k], f"{path}[{k!r}]")
    else:
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"


def check(fn):
    assert_same(fn(tinytape), pytorch(fn))


def _with_grad(f, data=((1.5, -2.0, 3.25), (0.5, 4.0, -1.0))):
    """f's result on a leaf that requires grad, and that leaf's gradient of a weighted sum."""
    def run(torch):
        a = torch.tensor(data, requires_grad=True)
        y = f(torch, a)
        first = y[0] if isinstance(y, (tuple, list)) else y
        (first * torch.arange(1.0, first.numel() + 1).reshape(first.shape)).sum().backward()
        return [y, a.grad]
    return run


# ---------------------------------------------------------------- dtypes and shapes


def test_triangles_of_a_bool_mask_stay_bool_and_mask_attention():
    def run(torch):
        mask = torch.triu(torch.ones(3, 3, dtype=torch.bool), diagonal=1)
        torch.manual_seed(0)
        mha = torch.nn.MultiheadAttention(4, 2, batch_first=True)
        q = torch.randn(1, 3, 4)
        _, w = mha(q, q, q, attn_mask=mask)
        return [mask, torch.tril(torch.ones(2, 2, dtype=torch.bool)), w.detach()]
    ours, theirs = run(tinytape), pytorch(run)
    assert_same(ours[:2], theirs[:2])
    np.testing.assert_allclose(ours[2].numpy(), theirs[2].numpy(), rtol=1e-5, atol=1e-6)


def test_cat_skips_legacy_empty_tensors_but_promotes_with_them():
    check(lambda torch: [torch.cat([torch.tensor([]), torch.ones(2, 3)]),
                         torch.cat([torch.ones(2, 3), torch.tensor([]), torch.ones(1, 3)], dim=0),
                         torch.cat([torch.tensor([1, 2]), torch.tensor([])]),
                         torch.cat([torch.tensor([]), torch.tensor([])]),
                         torch.cat([torch.ones(2, 2), torch.tensor([])], dim=1)])


# ---------------------------------------------------------------- grad_fn names


@pytest.mark.parametrize("name", ["index_select", "scatter_src", "scatter_value"])
def test_grad_fn_names_of_indexing_ops(name):
    ops = {"index_select": lambda torch, a: a.index_select(1, torch.tensor([2, 0, 2])),
           "scatter_src": lambda torch, a: torch.zeros(2, 3).scatter(1, torch.tensor([[0, 1, 2], [2, 0, 1]]), a),
           "scatter_value": lambda torch, a: a.scatter(1, torch.tensor([[0], [2]]), 2.0)}
    check(_with_grad(ops[name]))


COMPOSED = {
    "prod": lambda torch, a: a.prod(), "prod_dim": lambda torch, a: a.prod(1, keepdim=True),
    "prod_dtype": lambda torch, a: torch.prod(a, -1, dtype=torch.float64),
    "repeat": lambda torch, a: a.repeat(2, 1, 1), "roll": lambda torch, a: a.roll(1),
    "roll_dims": lambda torch, a: a.roll((1, 2), (0, 1)), "trace": lambda torch, a: torch.trace(a),
    "diag_of_matrix": lambda torch, a: torch.diag(a, 1), "diag_of_vector": lambda torch, a: torch.diag(a[0], -1),
    "none_index": lambda torch, a: a[None], "none_after_slice": lambda torch, a: a[1:, None],
    "select_after_none": lambda torch, a: a[None, 0], "ellipsis_none": lambda torch, a: a[..., None],
    "interpolate_nearest": lambda torch, a: torch.nn.functional.interpolate(a[None], scale_factor=2),
    "interpolate_linear": lambda torch, a: torch.nn.functional.interpolate(a[None], size=5, mode="linear"),
    "interpolate_bilinear": lambda torch, a: torch.nn.functional.interpolate(a[None, None], size=(3, 4),
                                                                              mode="bilinear"),
    "pairwise_distance": lambda torch, a: torch.nn.functional.pairwise_distance(a, a.flip(0) * 2),
}


@pytest.mark.parametrize("name", sorted(COMPOSED))
def test_grad_fn_names_of_composed_ops(name):
    ours, theirs = _with_grad(COMPOSED[name])(tinytape), pytorch(_with_grad(COMPOSED[name]))
    if name.startswith(("interpolate", "pairwise")):  # values to rounding, names exactly
        assert _grad_fn(ours[0]) == theirs[0].grad_fn
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.detach().numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
    else:
        assert_same(ours, theirs)


def test_integer_and_empty_products_keep_pytorch_dtypes():
    check(lambda torch: [torch.tensor([[1, -2, 3], [4, 0, -1]]).prod(1), torch.tensor([True, False]).prod(),
                         torch.ones(0).prod(), torch.tensor(3.0).prod(0), torch.tensor([[1, 2]]).repeat(2, 1),
                         torch.tensor([1, 2, 3]).roll(1)])
