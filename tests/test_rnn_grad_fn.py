"""A float32 LSTM on the CPU records one ``MkldnnRnnLayerBackward0`` per layer and direction, as
PyTorch's oneDNN path does; other dtypes and projections keep their ops' entries."""
import numpy as np
import pytest

import tinytape as tt
from pytorch_answers import pytorch


def _names(lib):
    def name(t):
        return type(t.grad_fn).__name__ if t.grad_fn is not None else None

    seen = []
    for kw in [{}, {"num_layers": 2}, {"bidirectional": True}, {"proj_size": 2}, {"bias": False},
               {"num_layers": 2, "dropout": 0.5}, {"batch_first": True}]:
        for dtype in (lib.float32, lib.float64):
            lib.manual_seed(0)
            m = lib.nn.LSTM(3, 4, **kw).to(dtype)
            out, (h, c) = m(lib.randn(5, 2, 3, dtype=dtype))
            seen.append([name(out), name(h), name(c), sorted({type(f[0]).__name__ for f in h.grad_fn.next_functions}),
                         type(out.grad_fn.next_functions[0][0]).__name__])
    m = lib.nn.LSTM(3, 4)
    out, (h, c) = m(lib.randn(5, 3))
    seen.append([name(out), name(h), type(out.grad_fn.next_functions[0][0]).__name__])
    for module in (lib.nn.GRU(3, 4), lib.nn.RNN(3, 4)):
        out, h = module(lib.randn(5, 2, 3))
        seen.append([name(out), name(h)])
    return seen


def test_grad_fn_names_match_pytorch():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's "LSTM with projections is not supported with oneDNN"
        theirs = pytorch(_names)
    assert _names(tt) == theirs


@pytest.mark.parametrize("kw", [{}, {"num_layers": 2, "bidirectional": True}])
def test_gradients_through_the_layer_entries(kw):
    """The float32 path (one entry per layer) against the float64 one (the ops' own entries),
    first and second derivatives."""
    tt.manual_seed(0)
    m32 = tt.nn.LSTM(3, 4, **kw)
    m64 = tt.nn.LSTM(3, 4, **kw).double()
    m64.load_state_dict(m32.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    results = []
    for m, dtype in ((m32, tt.float32), (m64, tt.float64)):
        xt = tt.tensor(x, dtype=dtype, requires_grad=True)
        out, (h, c) = m(xt)
        assert (type(out.grad_fn).__name__ == "MkldnnRnnLayerBackward0") == (dtype is tt.float32 and not kw)
        loss = (out * out).sum() + h.sum() + (c * 3).sum()
        (gx,) = tt.autograd.grad(loss, xt, create_graph=True)
        (gx * gx).sum().backward()
        results.append([gx.detach().double().numpy(), xt.grad.double().numpy()] +
                       [p.grad.double().numpy() for p in m.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)


def test_backward_twice_with_retain_graph_and_no_recording_under_no_grad():
    tt.manual_seed(1)
    m = tt.nn.LSTM(2, 3)
    x = tt.randn(4, 1, 2)
    out, _ = m(x)
    out.sum().backward(retain_graph=True)
    first = m.weight_hh_l0.grad.clone()
    out.sum().backward()
    np.testing.assert_allclose(m.weight_hh_l0.grad.numpy(), 2 * first.numpy(), rtol=1e-6)
    with tt.no_grad():
        again, _ = m(x)
    assert again.grad_fn is None and tt.equal(again, out.detach())
