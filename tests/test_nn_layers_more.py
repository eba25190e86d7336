"""Embedding, LayerNorm, the recurrent layers and cells, MultiheadAttention, Softmin,
LazyLinear, Unflatten and three initialisers: values and gradients against PyTorch with the
same weights (a sine pattern loaded into both through ``load_state_dict``), finite
differences through the shared gradcheck, on both backends (cuda = numba's simulator where
there is no GPU), and a compiled LSTM/GRU training step against the eager one."""
import math
import warnings

import numpy as np
import pytest

import tinytape as tt
from helpers import check_grad
from pytorch_answers import pytorch
from tinytape import nn
from tinytape.nn import functional as F


def _rng():
    return np.random.default_rng(7)


def _pattern(shape, seed):
    """Deterministic weights: a sine wave over the flat index, different per parameter."""
    n = int(np.prod(shape))
    return 0.6 * np.sin(1.3 * np.arange(n) + 0.7 * seed + 0.3).reshape(shape)


def _state_of(module):
    return {k: _pattern(tuple(v.shape), i) for i, (k, v) in enumerate(module.state_dict().items())}


def _lazy(lib):
    m = lib.nn.LazyLinear(3)
    m(lib.zeros(1, 4))  # materialised as a Linear(4, 3)
    return m


def _x(*shape):
    return lambda rng: {"x": rng.standard_normal(shape)}


def _with(**arrays):
    def make(rng):
        return {k: (v(rng) if callable(v) else v) for k, v in arrays.items()}
    return make


def _normal(*shape):
    return lambda rng: rng.standard_normal(shape)


_CAUSAL = np.triu(np.ones((3, 3), bool), 1)
_PADDED = np.array([[False, False, True], [False, False, False]])


def _self(m, t, **kw):
    return m(t["x"], t["x"], t["x"], **kw)


# name -> (module factory taking the library, input arrays from an rng, call(module, tensors, lib))
CASES = {
    "rnn_tanh": (lambda lib: lib.nn.RNN(3, 4), _x(5, 2, 3), lambda m, t, lib: m(t["x"])),
    "rnn_relu_2_layers_bidirectional": (
        lambda lib: lib.nn.RNN(3, 4, num_layers=2, nonlinearity="relu", bidirectional=True), _x(4, 2, 3),
        lambda m, t, lib: m(t["x"])),
    "rnn_h0_batch_first": (lambda lib: lib.nn.RNN(3, 4, batch_first=True), _with(x=_normal(2, 5, 3), h=_normal(1, 2, 4)),
                           lambda m, t, lib: m(t["x"], t["h"])),
    "rnn_unbatched": (lambda lib: lib.nn.RNN(3, 4, num_layers=2), _with(x=_normal(5, 3), h=_normal(2, 4)),
                      lambda m, t, lib: m(t["x"], t["h"])),
    "lstm": (lambda lib: lib.nn.LSTM(3, 4), _x(5, 2, 3), lambda m, t, lib: m(t["x"])),
    "lstm_2_layers_bidirectional_batch_first_h0_c0": (
        lambda lib: lib.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
        _with(x=_normal(2, 4, 3), h=_normal(4, 2, 4), c=_normal(4, 2, 4)),
        lambda m, t, lib: m(t["x"], (t["h"], t["c"]))),
    "lstm_proj_no_bias": (lambda lib: lib.nn.LSTM(3, 5, proj_size=2, bias=False), _x(4, 2, 3),
                          lambda m, t, lib: m(t["x"])),
    "lstm_unbatched": (lambda lib: lib.nn.LSTM(3, 4), _with(x=_normal(5, 3), h=_normal(1, 4), c=_normal(1, 4)),
                       lambda m, t, lib: m(t["x"], (t["h"], t["c"]))),
    "lstm_dropout_eval": (lambda lib: lib.nn.LSTM(3, 4, num_layers=2, dropout=0.5).eval(), _x(4, 2, 3),
                          lambda m, t, lib: m(t["x"])),
    "gru": (lambda lib: lib.nn.GRU(3, 4), _x(5, 2, 3), lambda m, t, lib: m(t["x"])),
    "gru_2_layers_bidirectional_no_bias": (
        lambda lib: lib.nn.GRU(3, 4, num_layers=2, bidirectional=True, bias=False),
        _with(x=_normal(4, 2, 3), h=_normal(4, 2, 4)), lambda m, t, lib: m(t["x"], t["h"])),
    "gru_unbatched_batch_first": (lambda lib: lib.nn.GRU(3, 4, batch_first=True), _x(5, 3),
                                  lambda m, t, lib: m(t["x"])),
    "rnn_cell": (lambda lib: lib.nn.RNNCell(3, 4), _with(x=_normal(2, 3), h=_normal(2, 4)),
                 lambda m, t, lib: m(t["x"], t["h"])),
    "rnn_cell_relu_no_hx": (lambda lib: lib.nn.RNNCell(3, 4, nonlinearity="relu"), _x(2, 3),
                            lambda m, t, lib: m(t["x"])),
    "lstm_cell": (lambda lib: lib.nn.LSTMCell(3, 4), _with(x=_normal(2, 3), h=_normal(2, 4), c=_normal(2, 4)),
                  lambda m, t, lib: m(t["x"], (t["h"], t["c"]))),
    "lstm_cell_unbatched_no_hx": (lambda lib: lib.nn.LSTMCell(3, 4, bias=False), _x(3),
                                  lambda m, t, lib: m(t["x"])),
    "gru_cell": (lambda lib: lib.nn.GRUCell(3, 4), _with(x=_normal(2, 3), h=_normal(2, 4)),
                 lambda m, t, lib: m(t["x"], t["h"])),
    "gru_cell_unbatched": (lambda lib: lib.nn.GRUCell(3, 4), _with(x=_normal(3), h=_normal(4)),
                           lambda m, t, lib: m(t["x"], t["h"])),
    "embedding": (lambda lib: lib.nn.Embedding(6, 3), _with(i=np.array([[0, 2, 2], [5, 1, 2]])),
                  lambda m, t, lib: m(t["i"])),
    "embedding_padding_idx": (lambda lib: lib.nn.Embedding(6, 3, padding_idx=2),
                              _with(i=np.array([[0, 2, 2], [5, 1, 2]])), lambda m, t, lib: m(t["i"])),
    "embedding_negative_padding_scale_grad_by_freq": (
        lambda lib: lib.nn.Embedding(6, 3, padding_idx=-1, scale_grad_by_freq=True),
        _with(i=np.array([0, 5, 3, 3, 3, 0])), lambda m, t, lib: m(t["i"])),
    "embedding_max_norm": (lambda lib: lib.nn.Embedding(6, 3, max_norm=0.7), _with(i=np.array([1, 4, 4])),
                           lambda m, t, lib: (m(t["i"]), m.weight * 1.0)),
    "layer_norm": (lambda lib: lib.nn.LayerNorm(4), _x(2, 3, 4), lambda m, t, lib: m(t["x"])),
    "layer_norm_2d_shape": (lambda lib: lib.nn.LayerNorm((3, 4), eps=1e-3), _x(2, 3, 4), lambda m, t, lib: m(t["x"])),
    "layer_norm_no_affine": (lambda lib: lib.nn.LayerNorm([4], elementwise_affine=False), _x(3, 4),
                             lambda m, t, lib: m(t["x"])),
    "layer_norm_no_bias": (lambda lib: lib.nn.LayerNorm(4, bias=False), _x(3, 4), lambda m, t, lib: m(t["x"])),
    "mha_self": (lambda lib: lib.nn.MultiheadAttention(4, 2), _x(3, 2, 4), lambda m, t, lib: _self(m, t)),
    "mha_cross_kdim_vdim": (lambda lib: lib.nn.MultiheadAttention(4, 2, kdim=3, vdim=5),
                            _with(q=_normal(3, 2, 4), k=_normal(5, 2, 3), v=_normal(5, 2, 5)),
                            lambda m, t, lib: m(t["q"], t["k"], t["v"])),
    "mha_batch_first_per_head_weights": (
        lambda lib: lib.nn.MultiheadAttention(4, 2, batch_first=True), _x(2, 3, 4),
        lambda m, t, lib: _self(m, t, average_attn_weights=False)),
    "mha_bool_masks": (lambda lib: lib.nn.MultiheadAttention(4, 2), _with(x=_normal(3, 2, 4), a=_CAUSAL, p=_PADDED),
                       lambda m, t, lib: _self(m, t, attn_mask=t["a"], key_padding_mask=t["p"])),
    "mha_float_mask_no_weights": (lambda lib: lib.nn.MultiheadAttention(4, 2),
                                  _with(x=_normal(3, 2, 4), a=np.where(_CAUSAL, -1.5, 0.25)),
                                  lambda m, t, lib: _self(m, t, attn_mask=t["a"], need_weights=False)),
    "mha_is_causal": (lambda lib: lib.nn.MultiheadAttention(4, 2), _with(x=_normal(3, 2, 4), a=_CAUSAL),
                      lambda m, t, lib: _self(m, t, attn_mask=t["a"], is_causal=True, need_weights=False)),
    "mha_unbatched_no_bias_3d_mask": (
        lambda lib: lib.nn.MultiheadAttention(4, 2, bias=False),
        _with(x=_normal(3, 4), a=np.stack([_CAUSAL, _CAUSAL.T])), lambda m, t, lib: _self(m, t, attn_mask=t["a"])),
    "mha_bias_kv_zero_attn": (lambda lib: lib.nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True),
                              _with(x=_normal(3, 2, 4), p=_PADDED),
                              lambda m, t, lib: _self(m, t, key_padding_mask=t["p"])),
    "softmin": (lambda lib: lib.nn.Softmin(dim=1), _x(3, 4), lambda m, t, lib: m(t["x"])),
    "unflatten": (lambda lib: lib.nn.Unflatten(1, (2, -1)), _x(3, 6), lambda m, t, lib: m(t["x"]).tanh()),
    "lazy_linear": (_lazy, _x(5, 4), lambda m, t, lib: m(t["x"])),
}

GPU_CASES = ["lstm_cell", "gru_unbatched_batch_first", "rnn_cell", "embedding_padding_idx", "layer_norm_2d_shape",
             "mha_bool_masks"]  # the simulator is slow: a few small ones


def _flat(result):
    if isinstance(result, (tuple, list)):
        return [leaf for r in result for leaf in _flat(r)]
    return [result]


def _tensors(lib, arrays, device=None):
    extra = {} if device is None else {"device": device}
    return {k: lib.tensor(v, requires_grad=v.dtype == np.float64, **extra) for k, v in arrays.items()}


def _run(lib, name, state, arrays, weights=None, device=None):
    """Outputs, the float inputs' gradients and the parameters' gradients of one case, with
    loss = sum(output * weights)."""
    make, _, call = CASES[name]
    module = make(lib).double()
    if device is not None:
        module = module.to(device)
    module.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    tensors = _tensors(lib, arrays, device)
    outputs = [o for o in _flat(call(module, tensors, lib)) if o is not None]
    if weights is None:
        return module, tensors, outputs
    loss = sum((o * lib.tensor(w, **({} if device is None else {"device": device}))).sum()
               for o, w in zip(outputs, weights))
    loss.backward()
    return (outputs, {k: t.grad for k, t in tensors.items() if t.requires_grad},
            [p.grad for _, p in module.named_parameters()])


def _numpy(t):
    return t.detach().cpu().numpy() if hasattr(t, "cpu") else t.numpy()


@pytest.mark.parametrize("name, device", [(n, "cpu") for n in sorted(CASES)]
                         + [pytest.param(n, "cuda", marks=pytest.mark.gpu) for n in GPU_CASES])
def test_values_and_gradients_match_pytorch(name, device):
    rng = _rng()
    make, arrays_of, _ = CASES[name]
    state = _state_of(make(tt))
    arrays = arrays_of(rng)
    _, _, outputs = _run(tt, name, state, arrays, device=device)
    weights = [rng.standard_normal(tuple(o.shape)) for o in outputs]
    ours, input_grads, parameter_grads = _run(tt, name, state, arrays, weights, device=device)

    def answer(torch, state, arrays, weights):
        outputs, input_grads, parameter_grads = _run(torch, name, state, arrays, weights)
        return outputs, input_grads, parameter_grads, [o.grad_fn.name() for o in outputs]
    theirs, their_input_grads, their_parameter_grads, grad_fns = pytorch(answer, state, arrays, weights)
    assert len(ours) == len(theirs)
    for o, e in zip(ours, theirs):
        assert tuple(o.shape) == tuple(e.shape)
        np.testing.assert_allclose(_numpy(o), e.numpy(), rtol=1e-10, atol=1e-12)
    for k, g in input_grads.items():
        np.testing.assert_allclose(_numpy(g), their_input_grads[k].numpy(), rtol=1e-9, atol=1e-11, err_msg=k)
    assert len(parameter_grads) == len(their_parameter_grads)
    for (n, _), g, e in zip(make(tt).named_parameters(), parameter_grads, their_parameter_grads):
        if e is None:
            assert g is None, n
        else:
            np.testing.assert_allclose(_numpy(g), e.numpy(), rtol=1e-9, atol=1e-11, err_msg=n)
    if name.startswith(("embedding", "layer_norm")):  # one tape entry, named as PyTorch's
        assert ours[0].grad_fn.name() == grad_fns[0]


def test_parameter_names_shapes_and_order_are_pytorchs():
    factories = {
        "lstm": lambda lib: lib.nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2),
        "gru": lambda lib: lib.nn.GRU(3, 4, num_layers=2, bias=False),
        "rnn": lambda lib: lib.nn.RNN(2, 3, 1, "relu", True, True, 0.0, True),
        "cells": lambda lib: lib.nn.ModuleList([lib.nn.RNNCell(2, 3), lib.nn.LSTMCell(2, 3), lib.nn.GRUCell(2, 3, False)]),
        "mha": lambda lib: lib.nn.ModuleList([lib.nn.MultiheadAttention(4, 2), lib.nn.MultiheadAttention(
            4, 1, kdim=2, vdim=3, add_bias_kv=True, bias=False)]),
        "embedding_layer_norm": lambda lib: lib.nn.ModuleList([lib.nn.Embedding(5, 2), lib.nn.LayerNorm((2, 3))]),
    }

    def described(lib):
        return {name: ([(k, list(v.shape)) for k, v in make(lib).state_dict().items()], repr(make(lib)))
                for name, make in factories.items()}
    assert described(tt) == pytorch(described)


def _bounds_check(values, bound):
    """Uniform on (-bound, bound): within it, mean and variance within four standard errors."""
    assert np.abs(values).max() <= bound
    assert abs(values.mean()) < 4 * bound / math.sqrt(3 * values.size)
    assert abs(values.var() / (bound ** 2 / 3) - 1) < 4 * math.sqrt(0.8 / values.size)


def test_default_initialisation_is_pytorchs_distribution():
    tt.manual_seed(0)
    lstm = nn.LSTM(30, 50, num_layers=2, bidirectional=True)
    for p in lstm.parameters():
        assert p.dtype is tt.float32
    _bounds_check(np.concatenate([p.detach().numpy().ravel() for p in lstm.parameters()]), 1 / math.sqrt(50))
    cell = nn.GRUCell(30, 40)
    _bounds_check(np.concatenate([p.detach().numpy().ravel() for p in cell.parameters()]), 1 / math.sqrt(40))
    emb = nn.Embedding(300, 40, padding_idx=3).weight.detach().numpy()
    assert np.all(emb[3] == 0)
    rest = np.delete(emb, 3, 0)
    assert abs(rest.mean()) < 4 / math.sqrt(rest.size) and abs(rest.var() - 1) < 4 * math.sqrt(2 / rest.size)
    mha = nn.MultiheadAttention(40, 4)
    assert np.all(mha.in_proj_bias.detach().numpy() == 0) and np.all(mha.out_proj.bias.detach().numpy() == 0)
    _bounds_check(mha.in_proj_weight.detach().numpy(), math.sqrt(6 / (40 + 120)))
    ln = nn.LayerNorm((2, 3))
    assert np.all(ln.weight.detach().numpy() == 1) and np.all(ln.bias.detach().numpy() == 0)
    tt.manual_seed(0)
    assert np.array_equal(nn.LSTM(30, 50, num_layers=2, bidirectional=True).weight_hh_l1_reverse.detach().numpy(),
                          lstm.weight_hh_l1_reverse.detach().numpy())  # seeded
    assert nn.GRU(2, 3, dtype=tt.float64).weight_ih_l0.dtype is tt.float64


def test_embedding_padding_row_gets_no_gradient_and_from_pretrained_freezes():
    weights = tt.tensor(_pattern((4, 3), 0), requires_grad=True)
    out = F.embedding(tt.tensor([[1, 3], [3, 0]]), weights, padding_idx=3)
    (out * tt.tensor(_pattern((2, 2, 3), 1))).sum().backward()
    grad = weights.grad.numpy()
    assert np.all(grad[3] == 0) and np.all(grad[2] == 0) and np.all(grad[[0, 1]] != 0)
    assert out.grad_fn.name() == "EmbeddingBackward0"
    table = tt.tensor(_pattern((4, 2), 2))
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and np.array_equal(frozen(tt.tensor([2])).numpy(), table.numpy()[[2]])
    assert frozen(tt.tensor([2])).grad_fn is None
    trained = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    assert trained.weight.requires_grad and not np.all(trained.weight.detach().numpy()[0] == 0)  # kept as given
    with pytest.raises(AssertionError, match="2-dimensional"):
        nn.Embedding.from_pretrained(tt.ones(3))


RECURRENT = {
    "lstm": lambda: nn.LSTM(2, 2),
    "gru_batch_first": lambda: nn.GRU(2, 2, batch_first=True),
    "rnn_relu": lambda: nn.RNN(2, 2, nonlinearity="relu"),
    "lstm_2_layers_bidirectional_proj": lambda: nn.LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=1),
    "lstm_cell": lambda: nn.LSTMCell(2, 2),
    "gru_cell": lambda: nn.GRUCell(2, 3),
    "rnn_cell": lambda: nn.RNNCell(2, 2),
}


@pytest.mark.parametrize("name, device", [(n, "cpu") for n in RECURRENT if "2_layers" not in n]
                         + [pytest.param("lstm_2_layers_bidirectional_proj", "cpu", marks=pytest.mark.slow)]
                         + [pytest.param("rnn_cell", "cuda", marks=pytest.mark.gpu)])
def test_gradcheck_recurrent_layers_and_cells(name, device):
    """Finite differences for the input, the initial state (cells) and every parameter."""
    rng = _rng()
    model = RECURRENT[name]().to(device, tt.float64)
    params = list(model.parameters())
    if "cell" not in name:
        x = tt.tensor(rng.standard_normal((2, 2, 2)), device=device, requires_grad=True)
        assert tt.autograd.gradcheck(lambda x, *ps: model(x)[0], (x, *params))
        return
    x = tt.tensor(rng.standard_normal((2, 2)), device=device, requires_grad=True)
    h = tt.tensor(rng.standard_normal((2, model.hidden_size)), device=device, requires_grad=True)
    lstm = isinstance(model, nn.LSTMCell)
    assert tt.autograd.gradcheck(lambda x, h, *ps: _flat(model(x, (h, h * 0.5) if lstm else h)), (x, h, *params))


def test_gradcheck_through_the_shared_helper():
    """Embedding, layer norm and attention, second order too where the backward is a tape entry."""
    rng = _rng()
    index = tt.tensor([[0, 2], [2, 1]])  # the padding row unused: its zero gradient is then the derivative
    check_grad(lambda w: F.embedding(index, w, padding_idx=3).tanh(),
               rng.standard_normal((4, 3)), second_order=True)
    check_grad(lambda x, w, b: F.layer_norm(x, (2, 3), w, b, 1e-3).tanh(), rng.standard_normal((2, 2, 3)),
               rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), second_order=True)
    check_grad(lambda x: F.layer_norm(x, (3,)), rng.standard_normal((2, 3)), second_order=True)
    mha = nn.MultiheadAttention(4, 2, kdim=3, vdim=2).double()
    mask = tt.tensor(_CAUSAL[:2, :3].copy())
    check_grad(lambda q, k, v, *ps: mha(q, k, v, attn_mask=mask)[0], rng.standard_normal((2, 1, 4)),
               rng.standard_normal((3, 1, 3)), rng.standard_normal((3, 1, 2)), *mha.parameters())
    check_grad(lambda x: F.softmin(x, 1), rng.standard_normal((2, 3)), second_order=True)


@pytest.mark.gpu
def test_gradcheck_on_cuda_embedding_layer_norm_attention():
    rng = _rng()
    w = tt.tensor(rng.standard_normal((4, 2)), device="cuda", requires_grad=True)
    index = tt.tensor([1, 3, 1], device="cuda")
    assert tt.autograd.gradcheck(lambda w: F.embedding(index, w, padding_idx=2), (w,))
    x = tt.tensor(rng.standard_normal((2, 3)), device="cuda", requires_grad=True)
    g = tt.tensor(rng.standard_normal(3), device="cuda", requires_grad=True)
    assert tt.autograd.gradcheck(lambda x, g: F.layer_norm(x, (3,), g, g * 0.5), (x, g))
    mha = nn.MultiheadAttention(2, 1).to("cuda", tt.float64)
    q = tt.tensor(rng.standard_normal((2, 1, 2)), device="cuda", requires_grad=True)
    mha.requires_grad_(False)  # the parameters' gradients on cuda: test_values_and_gradients_match_pytorch
    assert tt.autograd.gradcheck(lambda q: mha(q, q, q)[0], (q,))


def _raised(fn):
    """(type name, message) of what fn raises, with PyTorch's names spelled as tinytape's."""
    try:
        fn()
    except Exception as error:  # noqa: BLE001
        return type(error).__name__, str(error).replace("torch.", "tinytape.").replace("torch", "tinytape")
    return None


ERRORS = {
    "rnn_input_dims": lambda lib: lib.nn.RNN(3, 4)(lib.zeros(2, 2, 2, 3)),
    "gru_input_dims": lambda lib: lib.nn.GRU(3, 4)(lib.zeros(3)),
    "lstm_input_size": lambda lib: lib.nn.LSTM(3, 4)(lib.zeros(5, 2, 2)),
    "rnn_hidden_size": lambda lib: lib.nn.RNN(3, 4)(lib.zeros(5, 2, 3), lib.zeros(1, 3, 4)),
    "rnn_unbatched_hidden_dims": lambda lib: lib.nn.RNN(3, 4)(lib.zeros(5, 3), lib.zeros(1, 1, 4)),
    "lstm_hidden_dims": lambda lib: lib.nn.LSTM(3, 4)(lib.zeros(5, 2, 3), (lib.zeros(2, 4), lib.zeros(2, 4))),
    "lstm_cell_size": lambda lib: lib.nn.LSTM(3, 4)(lib.zeros(5, 2, 3), (lib.zeros(1, 2, 4), lib.zeros(1, 2, 3))),
    "lstm_dtype": lambda lib: lib.nn.LSTM(3, 4)(lib.zeros(5, 2, 3, dtype=lib.float64)),
    "rnn_nonlinearity": lambda lib: lib.nn.RNN(3, 4, nonlinearity="gelu"),
    "gru_proj_size": lambda lib: lib.nn.GRU(3, 4, proj_size=2),
    "lstm_proj_size": lambda lib: lib.nn.LSTM(3, 4, proj_size=4),
    "rnn_dropout": lambda lib: lib.nn.RNN(3, 4, dropout=1.5),
    "rnn_cell_input_dims": lambda lib: lib.nn.RNNCell(3, 4)(lib.zeros(1, 2, 3)),
    "lstm_cell_hx_dims": lambda lib: lib.nn.LSTMCell(3, 4)(lib.zeros(2, 3), (lib.zeros(2, 4), lib.zeros(1, 2, 4))),
    "embedding_index_dtype": lambda lib: lib.nn.functional.embedding(lib.tensor([1.0]), lib.ones(3, 2)),
    "embedding_padding_idx": lambda lib: lib.nn.Embedding(3, 2, padding_idx=3),
    "mha_heads": lambda lib: lib.nn.MultiheadAttention(5, 2),
    "mha_query_dims": lambda lib: lib.nn.MultiheadAttention(4, 2)(lib.zeros(4), lib.zeros(4), lib.zeros(4)),
    "mha_mask_shape": lambda lib: lib.nn.MultiheadAttention(4, 2)(lib.zeros(3, 1, 4), lib.zeros(3, 1, 4),
                                                                  lib.zeros(3, 1, 4), attn_mask=lib.zeros(2, 3)),
    "mha_is_causal_without_mask": lambda lib: lib.nn.MultiheadAttention(4, 2)(
        lib.zeros(3, 1, 4), lib.zeros(3, 1, 4), lib.zeros(3, 1, 4), is_causal=True),
    "unflatten_sizes": lambda lib: lib.nn.Unflatten(1, (2, 2))(lib.zeros(3, 5)),
    "unflatten_type": lambda lib: lib.nn.Unflatten(1, 4),
    "orthogonal_dims": lambda lib: lib.nn.init.orthogonal_(lib.zeros(3)),
    "dirac_dims": lambda lib: lib.nn.init.dirac_(lib.zeros(3, 3)),
    "dirac_groups": lambda lib: lib.nn.init.dirac_(lib.zeros(3, 3, 3), groups=2),
    "sparse_dims": lambda lib: lib.nn.init.sparse_(lib.zeros(3, 3, 3), 0.5),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_are_pytorchs(name):
    theirs = pytorch(lambda torch: _raised(lambda: ERRORS[name](torch)))
    ours = _raised(lambda: ERRORS[name](tt))
    assert ours is not None and theirs is not None
    assert ours[0] == theirs[0]
    if name not in ("lstm_dtype", "embedding_index_dtype"):  # dtype spellings differ
        assert ours[1] == theirs[1]


def test_warnings_are_pytorchs():
    def warned(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.nn.LSTM(3, 4, dropout=0.2)
            lib.nn.functional.softmin(lib.ones(2, 3))
        return [str(w.message) for w in caught]
    assert warned(tt) == pytorch(warned)


def test_dropout_between_layers_only_in_training():
    tt.manual_seed(1)
    gru = nn.GRU(3, 8, num_layers=2, dropout=0.5).double()
    x = tt.tensor(_rng().standard_normal((4, 2, 3)))
    eval_out = gru.eval()(x)[0].detach().numpy()
    assert np.array_equal(gru(x)[0].detach().numpy(), eval_out)  # deterministic without dropout
    train_a, train_b = gru.train()(x)[0].detach().numpy(), gru(x)[0].detach().numpy()
    assert not np.allclose(train_a, eval_out) and not np.allclose(train_a, train_b)
    one_layer = nn.GRU(3, 8, num_layers=1).double()
    assert np.array_equal(one_layer.train()(x)[0].detach().numpy(), one_layer.eval()(x)[0].detach().numpy())


def test_lazy_linear_materialises_on_first_call():
    tt.manual_seed(0)
    lazy = nn.LazyLinear(3)
    assert isinstance(lazy.weight, nn.UninitializedParameter) and repr(lazy.weight) == "<UninitializedParameter>"
    assert repr(lazy) == "LazyLinear(in_features=0, out_features=3, bias=True)"
    weight = lazy.weight
    out = lazy(tt.ones(2, 5))
    assert type(lazy) is nn.Linear and lazy.in_features == 5 and tuple(out.shape) == (2, 3)
    assert lazy.weight is weight and type(weight) is nn.Parameter and tuple(weight.shape) == (3, 5)
    _bounds_check(weight.detach().numpy(), 1 / math.sqrt(5))
    out.sum().backward()
    assert tuple(lazy.weight.grad.shape) == (3, 5) and tuple(lazy.bias.grad.shape) == (3,)
    assert nn.LazyLinear(2, bias=False)(tt.ones(1, 4)).shape == (1, 2)


def test_init_orthogonal_dirac_sparse():
    tt.manual_seed(0)
    for shape, gain in (((4, 6), 1.0), ((6, 3), 2.0), ((3, 2, 2), 0.5)):
        w = nn.init.orthogonal_(tt.empty(*shape), gain=gain).numpy().reshape(shape[0], -1)
        small = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(small, gain ** 2 * np.eye(len(small)), atol=1e-5)
    w = tt.empty(4, 2, 3, dtype=tt.float64)
    assert nn.init.dirac_(w, groups=2) is w
    x = tt.tensor(_rng().standard_normal((1, 4, 5)))
    y = F.conv1d(x[:, :2], w[:2], padding=1)  # the first group's filters: the identity on its channels
    np.testing.assert_allclose(y.numpy(), x[:, :2].numpy(), rtol=1e-6)
    assert w.numpy().sum() == 4
    w = nn.init.sparse_(tt.empty(10, 7), sparsity=0.3, std=0.5).numpy()
    assert np.all((w == 0).sum(0) == 3) and w.std() > 0.2


@pytest.mark.parametrize("kind", ["LSTM", pytest.param("GRU", marks=pytest.mark.slow)])
def test_compiled_training_step_gives_eager_values(kind):
    """One SGD step through a recurrent layer, compiled (fullgraph: no silent fallback),
    equals the eager step bit for bit, over several steps."""
    def make():
        tt.manual_seed(0)
        model = getattr(nn, kind)(3, 4).double()
        opt = tt.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            out, _ = model(x)
            loss = (out[-1] - y).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return model, step
    rng = _rng()
    data = [(tt.tensor(rng.standard_normal((3, 2, 3))), tt.tensor(rng.standard_normal((2, 4)))) for _ in range(3)]
    eager_model, eager = make()
    compiled_model, step = make()
    compiled = tt.compile(step, fullgraph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x, y in data:
            assert eager(x, y).item() == compiled(x, y).item()
    for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())


@pytest.mark.slow
def test_compiled_attention_block_gives_eager_values():
    def make():
        tt.manual_seed(0)
        ln, mha = nn.LayerNorm(4).double(), nn.MultiheadAttention(4, 2, batch_first=True).double()
        opt = tt.optim.SGD(list(ln.parameters()) + list(mha.parameters()), lr=0.1)
        mask = tt.tensor(_CAUSAL)

        def step(x):
            h = ln(x)
            out, weights = mha(h, h, h, attn_mask=mask)
            loss = out.pow(2).mean() + weights.pow(2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return step
    rng = _rng()
    eager, compiled = make(), tt.compile(make(), fullgraph=True)
    for _ in range(3):
        x = tt.tensor(rng.standard_normal((2, 3, 4)))
        assert eager(x).item() == compiled(x).item()


def test_compiled_embedding_step_gives_eager_values_and_checks_indices():
    """The lookup's positions are computed and bounds-checked by a kernel, so a compiled
    step replays it (an index out of range is still an IndexError), ``max_norm``'s
    renormalisation of the rows looked up too."""
    def make(max_norm=None):
        tt.manual_seed(0)
        emb = nn.Embedding(7, 3, padding_idx=0, max_norm=max_norm).double()
        opt = tt.optim.SGD(emb.parameters(), lr=0.5)

        def step(i):
            loss = emb(i).tanh().sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return emb, step
    batches = [tt.tensor([[1, 2, 0], [3, 6, 5]]), tt.tensor([[4, 2, 2], [0, 1, 5]]), tt.tensor([[1, 1, 0], [3, 3, 5]])]
    eager_emb, eager = make()
    compiled_emb, step = make()
    compiled = tt.compile(step, fullgraph=True)
    for i in batches:
        assert compiled(i).item() == eager(i).item()
    assert np.array_equal(compiled_emb.weight.detach().numpy(), eager_emb.weight.detach().numpy())
    assert np.all(compiled_emb.weight.detach().numpy()[0] == 0)
    with pytest.raises(IndexError, match="index 7 is out of bounds for dimension 0 with size 7"):
        compiled(tt.tensor([[1, 2, 0], [3, 7, 5]]))
    eager_emb, eager = make(max_norm=0.5)
    compiled_emb, step = make(max_norm=0.5)
    compiled = tt.compile(step, fullgraph=True)
    for i in batches:  # (rows named twice renormalised once, as eagerly)
        assert compiled(i).item() == eager(i).item()
        assert np.array_equal(compiled_emb.weight.detach().numpy(), eager_emb.weight.detach().numpy())


@pytest.mark.parametrize("make", [lambda: nn.Conv2d(1, 2, 3), lambda: nn.BatchNorm1d(3), lambda: nn.LayerNorm(3),
                                  lambda: nn.GRU(3, 4), lambda: nn.Embedding(5, 3),
                                  lambda: nn.MultiheadAttention(4, 2), lambda: nn.LazyLinear(3)],
                         ids=["conv", "batchnorm", "layernorm", "gru", "embedding", "attention", "lazy"])
def test_new_layers_take_the_default_dtype(make):
    tt.set_default_dtype(tt.float64)
    try:
        layer = make()
    finally:
        tt.set_default_dtype(tt.float32)
    params = list(layer.parameters())
    assert params and all(p.dtype is tt.float64 for p in params)


def test_compiled_embedding_step_scales_gradients_by_frequency_as_eager():
    """``scale_grad_by_freq``: each row's count is added up by a kernel at the lookup's
    positions (no host read), so a compiled step replays it with eager's numbers."""
    def make():
        tt.manual_seed(0)
        emb = nn.Embedding(6, 3, scale_grad_by_freq=True)
        opt = tt.optim.SGD(emb.parameters(), lr=0.5)

        def step(i):
            loss = (emb(i) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.detach()
        return emb, step
    (eager_emb, eager), (compiled_emb, step) = make(), make()
    compiled = tt.compile(step, fullgraph=True)
    for i in ([[1, 2, 1], [4, 1, 0]], [[5, 5, 5], [0, 3, 5]], [[2, 2, 1], [1, 1, 1]]):
        assert compiled(tt.tensor(i)).item() == eager(tt.tensor(i)).item()
        assert np.array_equal(compiled_emb.weight.detach().numpy(), eager_emb.weight.detach().numpy())
