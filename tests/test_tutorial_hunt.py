"""Idioms from the tutorials learners copy ("What is torch.nn really?", d2l's concise
implementations, makemore, CS231n's tensor notes) where ``import tinytape as torch`` once
printed something other than PyTorch: a Parameter reshaped to its own shape (d2l's BatchNorm
LeNet prints ``net[1].weight.reshape((-1,))``), ``Tensor.stride()``, the manual backprop of
makemore part 4 (``cmp('hpreact', ...)`` says "exact: False" because PyTorch's tanh backward
rounds ``1 - y*y`` once) and the warning of ``float()`` on a tensor that requires grad."""
import warnings

import numpy as np
import pytest

import tinytape
from pytorch_answers import pytorch


def _reshape_views(torch):
    p = torch.nn.Parameter(torch.arange(6.0))
    m = torch.ones(2, 3, requires_grad=True)
    row = m[0]
    same = [p.reshape((-1,)), p.reshape(6), m.reshape(2, 3), m.reshape_as(m), torch.reshape(m, (2, 3))]
    return {"views": same,
            "new_objects": [t is not p and t is not m for t in same],
            "types": [type(t).__name__ for t in same],
            "flatten_one_dim_is_self": [m.flatten(0, 0) is m, m.flatten(1) is m, row.flatten() is row],
            "flatten": [m.flatten(), torch.ones(()).flatten()]}


def test_reshape_to_own_shape_is_a_view_and_flatten_of_one_dim_is_the_tensor():
    ours, theirs = _reshape_views(tinytape), pytorch(_reshape_views)
    for key in ("new_objects", "types", "flatten_one_dim_is_self"):
        assert ours[key] == theirs[key], key
    for mine, recorded in zip(ours["views"] + ours["flatten"], theirs["views"] + theirs["flatten"]):
        assert (type(mine.grad_fn).__name__ if mine.grad_fn is not None else None) == recorded.grad_fn
        assert tuple(mine.shape) == recorded.shape and mine.requires_grad == recorded.requires_grad
        np.testing.assert_array_equal(mine.detach().numpy(), recorded.numpy())
    # the view shares memory with its Parameter, as in PyTorch
    p = tinytape.nn.Parameter(tinytape.zeros(3))
    with tinytape.no_grad():
        p.reshape(3)[0] = 5.0
    assert p[0].item() == 5.0


def _strides(torch):
    x = torch.ones(2, 3)
    return [x.stride(), x.t().stride(), x.stride(-1), x.stride(0), x[:, 1].stride(),
            x.expand(4, 2, 3).stride(), x.unsqueeze(1).stride(), torch.ones(()).stride(),
            x.view(3, 1, 2).stride(), x[:, ::2].stride(), x.t().contiguous().stride()]


def test_stride_matches_pytorch():
    assert _strides(tinytape) == [tuple(s) if isinstance(s, list) else s for s in pytorch(_strides)]
    with pytest.raises(IndexError, match="Dimension out of range"):
        tinytape.ones(2, 3).stride(2)


def _tanh_and_grad(torch, x, g):
    x = torch.tensor(x, requires_grad=True)
    y = torch.tanh(x)
    y.backward(torch.tensor(g))
    return y.detach(), x.grad


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_tanh_backward_is_bitwise_pytorchs_in_float32(device):
    """Where the forward values agree bit for bit (PyTorch's vectorised tanh differs from libm's
    in the last bit for some inputs), the gradients agree bit for bit too."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(4000) * 2).astype(np.float32)
    g = rng.standard_normal(4000).astype(np.float32)
    their_y, their_grad = pytorch(_tanh_and_grad, x, g)
    xt = tinytape.tensor(x, requires_grad=True, device=device)
    y = tinytape.tanh(xt)
    y.backward(tinytape.tensor(g, device=device))
    assert xt.grad.dtype == tinytape.float32 and their_grad.dtype == "float32"
    same = y.detach().cpu().numpy() == their_y.numpy()
    assert same.sum() > len(x) // 2
    np.testing.assert_array_equal(xt.grad.cpu().numpy()[same], their_grad.numpy()[same])


def _makemore_hpreact(torch):
    """makemore part 4: the hand-written tanh backward against autograd's."""
    g = torch.Generator().manual_seed(2147483647)
    hpreact = torch.randn(32, 64, generator=g, requires_grad=True)
    h = torch.tanh(hpreact)
    dh = torch.randn(32, 64, generator=g)
    (h * dh).sum().backward()
    dhpreact = (1.0 - h**2) * dh
    return [torch.all(dhpreact == hpreact.grad).item(), torch.allclose(dhpreact, hpreact.grad),
            (dhpreact - hpreact.grad).abs().max().item()]


def test_makemore_manual_tanh_backward_compares_as_in_pytorch():
    assert _makemore_hpreact(tinytape) == pytorch(_makemore_hpreact)


def test_tanh_gradients_check_and_the_float32_second_derivative_agrees():
    from helpers import check_grad
    x = np.random.default_rng(1).standard_normal(5)
    check_grad(lambda t: tinytape.tanh(t), x, second_order=True)
    seconds = []
    for dtype in (tinytape.float32, tinytape.float64):
        t = tinytape.tensor(x, dtype=dtype, requires_grad=True)
        (first,) = tinytape.autograd.grad(tinytape.tanh(t).sum(), t, create_graph=True)
        assert first.dtype == dtype
        first.sum().backward()
        seconds.append(t.grad.numpy().astype(np.float64))
    np.testing.assert_allclose(seconds[0], seconds[1], rtol=1e-5, atol=1e-6)


def test_float_of_a_tensor_requiring_grad_warns_once():
    import tinytape._tensor as tensor_module
    tensor_module._warned_scalar_grad = False
    t = tinytape.ones(3, requires_grad=True).sum()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        int(t), f"{t:.2f}", float(t.detach())  # these stay quiet in PyTorch
        assert caught == []
        value = "%f" % t  # float() underneath, as d2l's float(l.sum())
        float(t)  # once a process
    assert value == "3.000000"
    assert len(caught) == 1 and caught[0].category is UserWarning
    assert str(caught[0].message).startswith(
        "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.")


def _histograms(torch, h, w):
    h, w = torch.tensor(h), torch.tensor(w)
    cases = [torch.histogram(h, density=True),  # makemore part 3's activation plots
             torch.histogram(h, bins=7), h.histogram(5, range=(-0.5, 0.5)),
             torch.histogram(h, bins=torch.tensor([-1.0, -0.25, 0.0, 0.9])),
             torch.histogram(h, bins=6, weight=w, density=True),
             torch.histogram(torch.tensor([2.0, 2.0]), bins=4), torch.histogram(h.double(), bins=3)]
    return [(c.hist, c.bin_edges, type(c).__name__, [len(c), c[0] is c.hist, c[1] is c.bin_edges]) for c in cases]


def test_histogram_matches_pytorch():
    rng = np.random.default_rng(3)
    h = np.tanh(rng.standard_normal(3000) * 1.5).astype(np.float32)
    w = rng.random(3000).astype(np.float32)
    ours, theirs = _histograms(tinytape, h, w), pytorch(_histograms, h, w)
    for (hist, edges, name, fields), (their_hist, their_edges, their_name, their_fields) in zip(ours, theirs):
        assert (name, fields) == (their_name, their_fields)
        assert hist.dtype == getattr(tinytape, their_hist.dtype) and edges.dtype == hist.dtype
        np.testing.assert_array_equal(edges.numpy(), their_edges.numpy())
        np.testing.assert_allclose(hist.numpy(), their_hist.numpy(), rtol=1e-6)
    shown = repr(tinytape.histogram(tinytape.tensor([1.0, 2.0]), 2))
    assert shown.startswith("tinytape.return_types.histogram(\nhist=")
    with pytest.raises(NotImplementedError, match="histogramdd"):
        tinytape.histogram(tinytape.tensor([1, 2]), bins=3)


def _groups(torch):
    w = torch.nn.Parameter(torch.ones(2))
    out = {}
    for name in ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]:
        opt = getattr(torch.optim, name)([w], lr=0.1)
        out[name] = [list(opt.param_groups[0].items())[1:], list(opt.state_dict()["param_groups"][0])]
    sgd = torch.optim.SGD([{"params": [w], "foreach": False}], lr=0.1, momentum=0.9)
    torch.optim.lr_scheduler.StepLR(sgd, step_size=2)
    out["sgd_with_scheduler"] = sgd.state_dict()["param_groups"]
    return out


def test_param_groups_list_pytorchs_options_in_its_order():
    """d2l and the nn tutorial print ``opt.param_groups`` / ``opt.state_dict()``."""
    ours, theirs = _groups(tinytape), pytorch(_groups)
    for name in theirs:
        if name == "sgd_with_scheduler":
            assert ours[name] == theirs[name]
        else:
            assert [list(pair) for pair in ours[name][0]] == [list(pair) for pair in theirs[name][0]], name
            assert ours[name][1] == theirs[name][1], name


def _modes(torch, labels, values):
    labels, values = torch.tensor(labels), torch.tensor(values, requires_grad=True)
    picked = torch.mode(labels, dim=1)  # a k-nearest-neighbour vote
    m = values.mode(0, keepdim=True)
    m.values.sum().backward()
    return [picked.values, picked.indices, type(picked).__name__, m.values, m.indices, values.grad,
            labels.mode(), torch.mode(torch.tensor(4.0)), torch.mode(torch.tensor([1.0, float("nan"), float("nan")]))]


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_mode_matches_pytorch(device):
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 4, (20, 7))
    values = rng.integers(0, 3, (6, 5)).astype(np.float32) / 2
    theirs = pytorch(_modes, labels, values)
    lt = tinytape.tensor(labels, device=device)
    vt = tinytape.tensor(values, requires_grad=True, device=device)
    picked, m = tinytape.mode(lt, dim=1), vt.mode(0, keepdim=True)
    m.values.sum().backward()
    ours = [picked.values, picked.indices, type(picked).__name__, m.values, m.indices, vt.grad, lt.mode(),
            tinytape.mode(tinytape.tensor(4.0)), tinytape.mode(tinytape.tensor([1.0, float("nan"), float("nan")]))]
    assert ours[2] == theirs[2] and m.values.grad_fn.name() == theirs[3].grad_fn
    for mine, recorded in zip(ours[:2] + ours[3:6], theirs[:2] + theirs[3:6]):
        np.testing.assert_array_equal(mine.detach().cpu().numpy(), recorded.numpy())
    for mine, recorded in zip(ours[6:], theirs[6:]):
        np.testing.assert_array_equal(mine.values.cpu().numpy(), recorded[0].numpy())
        np.testing.assert_array_equal(mine.indices.cpu().numpy(), recorded[1].numpy())
    with pytest.raises(IndexError, match="mode"):
        tinytape.mode(tinytape.ones(0))


def test_mode_gradient_checks():
    from helpers import check_grad
    x = np.random.default_rng(6).standard_normal((4, 3))  # distinct values: the smallest is chosen
    check_grad(lambda t: tinytape.mode(t, 1).values, x)


AXIS_CALLS = ["A.cumsum(axis=0)", "A.cumprod(axis=1)", "A.softmax(axis=1)", "torch.log_softmax(A, axis=1)",
              "torch.cat([A, A], axis=0)", "torch.stack([A, A], axis=1)", "A.unsqueeze(axis=0)",
              "A[None].squeeze(axis=0)", "A.sort(axis=1, descending=True).values", "A.argsort(axis=1)",
              "A.amax(1, keepdims=True)", "A.amin(axis=0)", "A.nansum(axis=1)", "A.median(axis=1).values",
              "A.topk(2, axis=1).indices", "A.gather(axis=1, index=torch.zeros(5, 1, dtype=torch.long))",
              "A.index_select(axis=0, index=torch.tensor([0, 3]))", "A.count_nonzero(axis=0)",
              "torch.cumsum(A, axis=1)", "A.sum(axis=1, keepdims=True)"]


def _axis_calls(torch):
    A = torch.arange(20.0).reshape(5, 4) - 6
    return [eval(call, {"torch": torch, "A": A}) for call in AXIS_CALLS]


def test_numpy_axis_and_keepdims_names_as_pytorch_takes_them():
    """d2l writes ``A.cumsum(axis=0)`` and ``A.sum(axis=1, keepdims=True)``."""
    for call, mine, recorded in zip(AXIS_CALLS, _axis_calls(tinytape), pytorch(_axis_calls)):
        assert tuple(mine.shape) == recorded.shape, call
        np.testing.assert_allclose(mine.numpy(), recorded.numpy(), rtol=1e-6, err_msg=call)
