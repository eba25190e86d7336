"""Transformer layers and stacks against PyTorch: seeded initial weights (exactly), state
dict keys, reprs, outputs and input gradients in training (PyTorch's dropout draws) and
evaluation, masks, ``norm_first``, activations, ``batch_first`` and PyTorch's inference fast
path (its nested-tensor padding), to float32 rounding (PyTorch's attention runs through
scaled_dot_product_attention's kernels, an order of operations of its own)."""
import warnings

import numpy as np
import pytest

import tinytape as tt
from pytorch_answers import pytorch

pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")

rng = np.random.default_rng(0)
S = rng.standard_normal((5, 3, 8)).astype(np.float32)
T = rng.standard_normal((4, 3, 8)).astype(np.float32)
PAD = np.zeros((3, 5), bool)
PAD[1, 3:] = True
CAUSAL5 = np.triu(np.full((5, 5), -np.inf), 1).astype(np.float32)
CAUSAL4 = np.triu(np.full((4, 4), -np.inf), 1).astype(np.float32)
BF = S.transpose(1, 0, 2).copy()

CASES = {  # name -> (make(lib), inputs, train, forward keywords, with gradients)
    "encoder_layer_eval": (lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16), [S], False, {}, True),
    "encoder_layer_train": (lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16), [S], True, {}, True),
    "encoder_layer_gelu_norm_first": (lambda lib: lib.nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.2, activation="gelu", norm_first=True), [S], True, {}, True),
    "encoder_layer_callable_activation": (lambda lib: lib.nn.TransformerEncoderLayer(
        8, 4, 16, activation=lib.nn.GELU(approximate="tanh")), [S], True, {}, True),
    "encoder_layer_padding_mask": (lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), [S], True,
                                   {"src_key_padding_mask": PAD}, True),
    "encoder_layer_causal": (lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), [S], True,
                             {"src_mask": CAUSAL5, "is_causal": True}, True),
    "encoder_layer_fast_path": (lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), [BF],
                                False, {"src_key_padding_mask": PAD}, False),
    "encoder_stack_causal": (lambda lib: lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16), 2,
                                                                   lib.nn.LayerNorm(8)), [S], True,
                             {"mask": CAUSAL5}, True),
    "encoder_stack_nested_fast_path": (lambda lib: lib.nn.TransformerEncoder(
        lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2), [BF], False,
        {"src_key_padding_mask": PAD}, False),
    "decoder_layer": (lambda lib: lib.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.3), [T, S], True, {}, True),
    "decoder_stack_norm_first": (lambda lib: lib.nn.TransformerDecoder(lib.nn.TransformerDecoderLayer(
        8, 2, 16, norm_first=True), 2), [T, S], True, {"tgt_mask": CAUSAL4, "memory_key_padding_mask": PAD}, True),
    "transformer": (lambda lib: lib.nn.Transformer(8, 2, 2, 2, 16), [S, T], True, {"tgt_mask": CAUSAL4}, True),
    "transformer_batch_first_eval": (lambda lib: lib.nn.Transformer(
        8, 2, 1, 1, 16, norm_first=True, batch_first=True, activation=lib.nn.functional.gelu),
        [BF, T.transpose(1, 0, 2).copy()], False, {}, True),
}


def run(lib, name):
    make, inputs, train, keywords, grad = CASES[name]
    lib.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = make(lib)
    weights = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    model.train(train)
    xs = [lib.tensor(x, requires_grad=grad) for x in inputs]
    keywords = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in keywords.items()}
    lib.manual_seed(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's prototype-nested-tensor notice
        if grad:
            out = model(*xs, **keywords)
            out.sum().backward()
        else:
            with lib.no_grad():
                out = model(*xs, **keywords)
    return (weights, out, [x.grad for x in xs] if grad else [], repr(model),
            [str(w.message) for w in caught if "nested" in str(w.message)])


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch(name):
    weights, out, grads, text, warned = run(tt, name)
    their_weights, theirs, their_grads, their_text, their_warned = pytorch(lambda torch: run(torch, name))
    assert list(weights) == list(their_weights)  # the state dict's keys, in PyTorch's order
    for key in weights:
        np.testing.assert_array_equal(weights[key], their_weights[key], err_msg=key)  # seeded: exactly
    assert text == their_text and warned == their_warned
    assert (out.grad_fn.name() if out.grad_fn else None) == theirs.grad_fn
    np.testing.assert_allclose(out.detach().numpy(), theirs.numpy(), rtol=1e-5, atol=2e-6)
    for g, h in zip(grads, their_grads):
        np.testing.assert_allclose(g.numpy(), h.numpy(), rtol=1e-5, atol=2e-6)


def test_pytorch_state_dict_loads_and_gives_its_outputs():
    def answer(torch):
        torch.manual_seed(5)
        model = torch.nn.Transformer(8, 2, 1, 1, 16, dropout=0.0)
        with torch.no_grad():
            out = model(torch.tensor(S), torch.tensor(T))
        return {k: v.numpy() for k, v in model.state_dict().items()}, out
    weights, theirs = pytorch(answer)
    model = tt.nn.Transformer(8, 2, 1, 1, 16, dropout=0.0)
    model.load_state_dict({k: tt.tensor(v) for k, v in weights.items()})
    with tt.no_grad():
        out = model(tt.tensor(S), tt.tensor(T))
    np.testing.assert_allclose(out.numpy(), theirs.numpy(), rtol=1e-5, atol=2e-6)


def test_square_subsequent_mask_and_errors():
    def answer(lib):
        mask = lib.nn.Transformer.generate_square_subsequent_mask(4, dtype=lib.float64)
        errors = []
        for call in (lambda: lib.nn.TransformerEncoderLayer(8, 2, activation="tanh"),
                     lambda: lib.nn.Transformer(8, 2, 1, 1, 16)(lib.randn(5, 3, 8), lib.randn(4, 2, 8)),
                     lambda: lib.nn.Transformer(8, 2, 1, 1, 16)(lib.randn(5, 3, 8), lib.randn(4, 3, 6)),
                     lambda: lib.nn.TransformerEncoderLayer(8, 2, 16)(lib.randn(5, 3, 8),
                                                                   src_mask=lib.zeros(5, 5, dtype=lib.int64))):
            try:
                call()
            except Exception as e:  # noqa: BLE001 - the type and message are the answer
                errors.append((type(e).__name__, str(e)))
        return mask, errors
    mask, errors = answer(tt)
    their_mask, their_errors = pytorch(answer)
    assert mask.dtype is tt.float64 and np.array_equal(mask.numpy(), their_mask.numpy())
    assert errors == their_errors


@pytest.mark.gpu
def test_cuda_path_gives_the_cpu_values_and_gradients():
    def run(device):
        tt.manual_seed(0)
        model = tt.nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, norm_first=True).double().to(device)
        tgt = tt.tensor(T[:3, :2, :4], dtype=tt.float64, device=device, requires_grad=True)
        memory = tt.tensor(S[:2, :2, :4], dtype=tt.float64, device=device)
        out = model(tgt, memory, tgt_mask=tt.nn.Transformer.generate_square_subsequent_mask(3, device=device,
                                                                                           dtype=tt.float64))
        out.sum().backward()
        return out.detach().cpu().numpy(), tgt.grad.cpu().numpy(), model.linear1.weight.grad.cpu().numpy()
    for a, b in zip(run("cpu"), run("cuda")):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.slow  # ~6 s: tracing and fusing the layer's forward, backward and step
def test_compiled_training_step_replays_as_eager():
    # dropout draws, attention and the optimizer's step all replay: compiled equals eager bit for bit
    def run(compiled):
        tt.manual_seed(0)
        model = tt.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1)
        opt = tt.optim.NAdam(model.parameters(), lr=1e-3)
        x = tt.randn(5, 3, 8)

        def step():
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            opt.step()
            return loss
        f = tt.compile(step) if compiled else step
        return [f().item() for _ in range(4)], model.linear1.weight.detach().numpy().copy(), f
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no eager fallback
        eager, compiled = run(False), run(True)
    assert eager[0] == compiled[0] and np.array_equal(eager[1], compiled[1])
    assert compiled[2].traces == 2
