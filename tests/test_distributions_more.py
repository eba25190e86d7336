"""Tensor.cauchy_, log_normal_, geometric_ and torch.poisson (with normal's tensor forms and
random_ beside them) against PyTorch's seeded draws, bit for bit: several seeds, sizes
under and over 16 elements, each floating dtype, and the stream's state after each draw."""
import numpy as np
import pytest

import tinytape as tt
from pytorch_answers import pytorch


def _draw(m, what, seed, n, dtype):
    m.manual_seed(seed)
    d = getattr(m, dtype)
    if what == "cauchy":
        x = m.empty(n, dtype=d).cauchy_(0.5, 2.0)
    elif what == "cauchy_default":
        x = m.empty(2, n, dtype=d).cauchy_()
    elif what == "log_normal":
        x = m.empty(n, dtype=d).log_normal_(0.2, 0.7)
    elif what == "log_normal_default":
        x = m.empty(n, 2, dtype=d).log_normal_()
    elif what == "geometric":
        x = m.empty(n, dtype=d).geometric_(0.3)
    elif what == "geometric_int":
        x = m.empty(n, dtype=m.int64).geometric_(0.05)
    elif what == "poisson":
        x = m.poisson(m.linspace(0, 40, n, dtype=d))
    elif what == "poisson_small_rates":
        x = m.poisson(m.full((n,), 2.5, dtype=d))
    elif what == "normal_tensor_tensor":
        x = m.normal(m.arange(n, dtype=d), m.ones(n, dtype=d) * 2)
    elif what == "normal_tensor_float":
        x = m.normal(m.arange(n, dtype=d), 0.5)
    elif what == "normal_float_tensor":
        x = m.normal(0.5, m.arange(n, dtype=d))
    elif what == "not_contiguous":
        x = m.cat([m.empty(3, n, dtype=d).t().cauchy_().reshape(-1),
                   m.empty(n, 3, dtype=d).t().log_normal_().reshape(-1),
                   m.empty(2, 2 * n, dtype=d)[:, ::2].geometric_(0.4).reshape(-1),
                   m.poisson(m.full((3, n), 4.0, dtype=d).t()).reshape(-1)])
    elif what == "random_range":
        x = m.empty(n, dtype=d).random_(3, 20)
    after = m.rand(3, dtype=m.float64)  # the stream's state after the draw
    return [x.double().numpy(), after.numpy()]


KINDS = ["cauchy", "cauchy_default", "log_normal", "log_normal_default", "geometric", "geometric_int", "poisson",
         "poisson_small_rates", "normal_tensor_tensor", "normal_tensor_float", "normal_float_tensor", "random_range",
         "not_contiguous"]


@pytest.mark.parametrize("what", KINDS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_seeded_draws_match_pytorch_bit_for_bit(what, dtype):
    for seed, n in [(0, 5), (7, 37), (2024, 16)]:
        got = _draw(tt, what, seed, n, dtype)
        want = pytorch(_draw, what, seed, n, dtype)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


def test_generator_argument_and_poisson_grad():
    def draws(m):
        g = m.Generator().manual_seed(3)
        a = m.empty(4).cauchy_(generator=g)
        b = m.empty(4).log_normal_(generator=g)
        c = m.empty(4).geometric_(0.5, generator=g)
        rates = m.tensor([1.0, 12.0, 30.0], requires_grad=True)
        p = m.poisson(rates, generator=g)
        grad, = m.autograd.grad(p.sum(), rates)
        return [a.numpy(), b.numpy(), c.numpy(), p.detach().numpy(), p.grad_fn.name(), grad.numpy()]
    got, want = draws(tt), pytorch(draws)
    assert got[4] == want[4]
    for g, w in zip(got[:4] + got[5:], want[:4] + want[5:]):
        np.testing.assert_array_equal(g, w)


def test_errors_match_pytorch():
    def errors(m, kind):
        if kind == "cauchy_int":
            return m.empty(3, dtype=m.int64).cauchy_()
        if kind == "log_normal_std":
            return m.empty(3).log_normal_(0.0, -1.0)
        if kind == "geometric_p":
            return m.empty(3).geometric_(1.5)
        if kind == "poisson_negative":
            return m.poisson(m.tensor([-1.0]))
    for kind in ["cauchy_int", "log_normal_std", "geometric_p", "poisson_negative"]:
        with pytest.raises(Exception) as want:
            pytorch(errors, kind)
        with pytest.raises(want.type):
            errors(tt, kind)


@pytest.mark.gpu
def test_cuda_tensors_take_the_cpu_stream():
    def draws(device):
        tt.manual_seed(0)
        return [tt.empty(5, device=device).cauchy_(), tt.empty(5, device=device).log_normal_(),
                tt.empty(5, device=device).geometric_(0.3), tt.poisson(tt.full((5,), 3.0, device=device))]
    for g, w in zip(draws("cuda"), draws("cpu")):
        assert g.device.type == "cuda"
        np.testing.assert_array_equal(g.cpu().numpy(), w.numpy())
