"""Functions computed on the host (numpy / scipy.special: lgamma, digamma, erfinv, the
Bessel functions, zeta, fmax, isclose...) are one kernel call each on the CPU, so a
compiled step computes them again on each replay's values, as eager does, bit for bit,
their derivatives (PyTorch's formulas, more host functions) included."""
import numpy as np
import pytest

import tinytape as tt
from tinytape.autograd import grad

UNARY = {
    "lgamma": lambda x: tt.lgamma(x.abs() + 0.5), "digamma": lambda x: tt.digamma(x.abs() + 0.5),
    "polygamma": lambda x: tt.polygamma(2, x.abs() + 0.5), "erfinv": lambda x: tt.erfinv(x.tanh() * 0.9),
    "erfc": tt.erfc, "i0": tt.i0, "i0e": tt.special.i0e, "i1": tt.special.i1, "sinc": tt.sinc,
    "logit": lambda x: tt.logit(x.sigmoid()), "asinh": tt.asinh, "mvlgamma": lambda x: tt.mvlgamma(x.abs() + 2, 2),
    "ndtri": lambda x: tt.special.ndtri(x.sigmoid()), "log_ndtr": tt.special.log_ndtr,
}
BINARY = {
    "logaddexp": tt.logaddexp, "hypot": tt.hypot, "fmax": tt.fmax,
    "zeta": lambda x, y: tt.special.zeta(x.detach().abs() + 1.5, y.detach().abs() + 0.5),
}


def _inputs(seed, dtype):
    rng = np.random.default_rng(seed)
    return [tt.tensor(rng.standard_normal((4, 6)).astype(dtype), requires_grad=True) for _ in range(2)]


def _check(fn, dtype):
    compiled = tt.compile(fn, fullgraph=True)
    for seed in range(3):  # traces, then replays on other values
        x, y = _inputs(seed, dtype)
        got, want = compiled(x, y), fn(x, y)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    (entry,) = next(iter(compiled.programs.values()))
    return entry


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_host_functions_and_their_derivatives_replay_bit_for_bit(dtype):
    def unary(x, y):
        outs = [f(x) for f in UNARY.values()]
        total = sum((o * o).sum() for o in outs if o.requires_grad)
        return tuple(o.detach() for o in outs) + grad(total, (x,))

    def binary(x, y):
        outs = [f(x, y) for f in BINARY.values()]
        total = sum(o.sum() for o in outs if o.requires_grad)
        return tuple(o.detach() for o in outs) + grad(total, (x,), allow_unused=True)
    for fn in (unary, binary):
        _check(fn, dtype)


def test_isclose_replays_on_the_values_of_each_call():
    def close(x, y):
        return tt.isclose(x, y.detach() * 0 + x.detach().round(decimals=1), rtol=0.05, atol=0.01), x.detach() * 2
    entry = _check(close, "float32")
    assert entry.kind in ("fused", "python")
