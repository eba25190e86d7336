"""nn.utils.rnn's packed sequences against PyTorch: packing and padding (sorted or not,
batch_first, total_length), reprs and errors, and RNN/LSTM/GRU over packed batches
(outputs, final states per sequence length, gradients, grad_fn names); gradients of
packing against finite differences."""
import numpy as np
import pytest

import tinytape as tt
from helpers import check_grad
from pytorch_answers import pytorch

rng = np.random.default_rng(0)
X = rng.standard_normal((5, 4, 3))
LENGTHS = [3, 5, 1, 4]
H0 = np.random.default_rng(1).standard_normal((4, 4, 4))
C0 = np.random.default_rng(2).standard_normal((4, 4, 4))


def _name(t):
    return t.grad_fn.name() if hasattr(t.grad_fn, "name") else type(t.grad_fn).__name__


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths, enforce_sorted", [([5, 4, 3, 1], True), (LENGTHS, False), ([2, 2, 5, 2], False)])
def test_pack_and_pad_match_pytorch(lengths, enforce_sorted, batch_first):
    def answer(lib):
        x = lib.tensor(X.transpose(1, 0, 2).copy() if batch_first else X, requires_grad=True)
        packed = lib.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=batch_first,
                                                      enforce_sorted=enforce_sorted)
        padded, lens = lib.nn.utils.rnn.pad_packed_sequence(packed, batch_first=batch_first, padding_value=-1.5,
                                                            total_length=7)
        (padded * padded).sum().backward()
        return (packed.data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices, padded, lens,
                x.grad, _name(packed.data))
    ours, theirs = answer(tt), pytorch(answer)
    assert ours[-1] == theirs[-1]
    for a, b in zip(ours[:-1], theirs[:-1]):
        assert (a is None) == (b is None)
        if a is not None:
            assert tuple(a.shape) == b.shape and str(a.dtype).split(".")[-1] == b.dtype
            np.testing.assert_array_equal(a.detach().numpy(), b.numpy())


def test_pack_sequence_repr_unpack_and_errors():
    def answer(lib):
        rnn = lib.nn.utils.rnn
        seqs = [lib.tensor([1.0, 2, 3]), lib.tensor([4.0, 5]), lib.tensor([6.0, 7, 8, 9])]
        packed = rnn.pack_sequence(seqs, enforce_sorted=False)
        errors = []
        for call in (lambda: rnn.pack_sequence(seqs),
                     lambda: rnn.pack_padded_sequence(lib.zeros(3, 2), [2, 0], enforce_sorted=False),
                     lambda: rnn.pad_packed_sequence(packed, total_length=2)):
            try:
                call()
            except Exception as e:  # noqa: BLE001 - the type and message are the answer
                errors.append((type(e).__name__, str(e)))
        return (repr(packed), repr(rnn.pack_sequence(seqs[::-1][:2])),
                [t.tolist() for t in rnn.unpack_sequence(packed)], errors, isinstance(packed, tuple), packed.is_cuda)
    assert answer(tt) == pytorch(answer)


CASES = {
    "rnn_sorted": ("RNN", {}, [5, 4, 3, 1], True, False, False),
    "rnn_relu_two_layers_dropout": ("RNN", dict(nonlinearity="relu", num_layers=2, dropout=0.3), LENGTHS, False,
                                    False, False),
    "gru_unsorted": ("GRU", {}, LENGTHS, False, False, False),
    "gru_bidirectional_batch_first_hx": ("GRU", dict(bidirectional=True, batch_first=True), LENGTHS, False, True,
                                         True),
    "lstm_batch_first": ("LSTM", dict(batch_first=True), LENGTHS, False, True, False),
    "lstm_two_layers_bidirectional_hx": ("LSTM", dict(bidirectional=True, num_layers=2), LENGTHS, False, False,
                                         True),
    "lstm_projection_bidirectional_hx": ("LSTM", dict(proj_size=2, bidirectional=True), LENGTHS, False, False,
                                         True),
}


def run(lib, name):
    cls, options, lengths, enforce_sorted, batch_first, with_hx = CASES[name]
    lib.manual_seed(0)
    model = getattr(lib.nn, cls)(3, 4, **options).double()
    x = lib.tensor(X.transpose(1, 0, 2).copy() if batch_first else X, requires_grad=True)
    packed = lib.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    hx, leaves = None, [x]
    if with_hx:
        d = (2 if options.get("bidirectional") else 1) * options.get("num_layers", 1)
        h = lib.tensor(H0[:d, :, :options.get("proj_size") or 4].copy(), requires_grad=True)
        hx = (h, lib.tensor(C0[:d].copy(), requires_grad=True)) if cls == "LSTM" else h
        leaves += list(hx) if cls == "LSTM" else [hx]
    out, state = model(packed, hx)
    states = state if isinstance(state, tuple) else (state,)
    padded, lens = lib.nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first)
    (padded.sum() + sum((s * s).sum() for s in states)).backward()
    return (padded, lens, *states, *[t.grad for t in leaves],
            [type(out).__name__, _name(out.data)] + [_name(s) for s in states])


@pytest.mark.parametrize("name", sorted(CASES))
def test_recurrent_layers_on_packed_batches_match_pytorch(name):
    ours, theirs = run(tt, name), pytorch(lambda torch: run(torch, name))
    assert ours[-1] == theirs[-1]
    for a, b in zip(ours[:-1], theirs[:-1]):
        assert tuple(a.shape) == b.shape
        np.testing.assert_allclose(a.detach().numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def test_packed_final_states_are_each_sequences_last_step():
    # the final state of each sequence equals running it alone, unpadded
    tt.manual_seed(0)
    gru = tt.nn.GRU(3, 4).double()
    packed = tt.nn.utils.rnn.pack_padded_sequence(tt.tensor(X), LENGTHS, enforce_sorted=False)
    _, h_n = gru(packed)
    for i, n in enumerate(LENGTHS):
        _, alone = gru(tt.tensor(X[:n, i:i + 1]))
        np.testing.assert_allclose(h_n[0, i].detach().numpy(), alone[0, 0].detach().numpy(), rtol=1e-12)


def test_packing_gradients_match_finite_differences():
    def fn(x):
        packed = tt.nn.utils.rnn.pack_padded_sequence(x, LENGTHS, enforce_sorted=False)
        return tt.nn.utils.rnn.pad_packed_sequence(packed, batch_first=True)[0]
    check_grad(fn, X[:, :, :2])


@pytest.mark.gpu
def test_cuda_path_gives_the_cpu_values_and_gradients():
    def run(device):
        tt.manual_seed(0)
        lstm = tt.nn.LSTM(3, 2, bidirectional=True).double().to(device)
        x = tt.tensor(X[:, :3], device=device, requires_grad=True)
        packed = tt.nn.utils.rnn.pack_padded_sequence(x, [3, 5, 1], enforce_sorted=False)
        out, (h, c) = lstm(packed)
        padded, _ = tt.nn.utils.rnn.pad_packed_sequence(out)
        (padded.sum() + h.sum() + c.sum()).backward()
        return padded.detach().cpu().numpy(), h.detach().cpu().numpy(), x.grad.cpu().numpy()
    for a, b in zip(run("cpu"), run("cuda")):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
