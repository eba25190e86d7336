"""Views of broadcasts in fused code: a transposed broadcast read by a later loop (the
gradient of a bias, expanded and transposed for a product) and a returned broadcast of a
value the same part computes (a mean's gradient handed out whole).  The fused code must
read the memory behind the broadcast, not past it, and keep that memory until the end."""
import numpy as np

import tinytape as tt
import tinytape.nn.functional as F


def _fused_and_equal(fn, make_args, calls=3, kernel_calls=False):
    compiled = tt.compile(fn, fullgraph=True, background=False)
    for i in range(calls):
        args = make_args(i)
        want = fn(*args)
        got = compiled(*args)
        for g, w in zip(got, want):
            assert g.shape == w.shape and g.dtype == w.dtype
            np.testing.assert_array_equal(g.detach().numpy(), w.detach().numpy())
    (entry,) = next(iter(compiled.programs.values()))
    why = getattr(entry.program, "not_fused", None)
    assert entry.kind == "fused", why
    # (a call the generator leaves to its kernel between fused parts is named here: "calls i-j ...")
    assert why is None or kernel_calls and why.startswith("calls "), why


def test_transposed_broadcast_of_a_bias_gradient():
    rng = np.random.default_rng(0)
    weight = tt.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    bias = tt.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)

    def step(x):
        weight.grad = bias.grad = None
        rows = x.transpose(0, 1).reshape(4, 2)
        loss = F.linear(rows, weight, bias).sum(0).square().sum()
        loss.backward()
        return loss, weight.grad, bias.grad

    _fused_and_equal(step, lambda i: (tt.tensor(rng.standard_normal((2, 2, 2)).astype(np.float32)),))


def test_permuted_broadcast_read_by_a_loop():
    rng = np.random.default_rng(1)

    def program(x, v):
        spread = (v * 2).reshape(1, 3, 4).expand(5, 3, 4).permute(2, 0, 1)
        return (spread + x,)

    _fused_and_equal(program, lambda i: (tt.tensor(rng.standard_normal((4, 5, 3)).astype(np.float32)),
                                         tt.tensor(rng.standard_normal((3, 4)).astype(np.float32))))


def test_returned_broadcast_of_a_value_computed_in_the_part():
    rng = np.random.default_rng(2)

    def program(x):
        return ((x * 3).reshape(4, 1, 8).expand(4, 5, 8), x.sum())

    _fused_and_equal(program, lambda i: (tt.tensor(rng.standard_normal((4, 8)).astype(np.float32)),))


def test_attention_block_step_fuses():
    """Multi-head attention and a mean over the sequence, then a classifier: every gradient
    through the fused code, bit for bit."""
    import tinytape.nn as nn
    rng = np.random.default_rng(3)
    tt.manual_seed(0)
    attention, head = nn.MultiheadAttention(8, 2, batch_first=True), nn.Linear(8, 5)
    params = list(attention.parameters()) + list(head.parameters())

    def step(x, y):
        for p in params:
            p.grad = None
        h, _ = attention(x, x, x, need_weights=False)
        loss = F.cross_entropy(head(h.mean(1)), y)
        loss.backward()
        return [loss] + [p.grad for p in params]

    _fused_and_equal(step, lambda i: (tt.tensor(rng.standard_normal((4, 5, 8)).astype(np.float32)),
                                      tt.tensor(rng.integers(0, 5, 4))), kernel_calls=True)
