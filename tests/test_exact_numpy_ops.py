"""The float ops eager computes with numpy's own loops because they are exact (add, sub, mul,
div, negation, the reciprocal: correctly rounded, so numpy's bits are any kernel's), also on
0-d tensors and in place: their results keep PyTorch's shapes and dtypes, and the compiler
keeps them in its fused loops (no part of their own calling numpy)."""
import numpy as np
import pytest

import tinytape as tt
from pytorch_answers import pytorch

DTYPES = ("float32", "float64")


def _program(x, s):
    y = -x * s.reciprocal() + (1 / (x.abs() + 1)) - s
    z = y.sum()
    return z - z * s, (-s).reciprocal() / s


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_dim_results_are_tensors_of_the_dtype(dtype):
    s = tt.tensor(3.0, dtype=getattr(tt, dtype))
    for result in (-s, s.reciprocal(), s + s, s - s, s * s, s / s):
        assert isinstance(result, tt.Tensor) and result.shape == () and result.dtype == s.dtype
    got = [(-s).item(), s.reciprocal().item(), (s * s - s / s).item()]
    assert got == pytorch(lambda torch: [(-torch.tensor(3.0, dtype=getattr(torch, dtype))).item(),
                                         torch.tensor(3.0, dtype=getattr(torch, dtype)).reciprocal().item(),
                                         (torch.tensor(3.0, dtype=getattr(torch, dtype)) ** 2 - 1).item()])


@pytest.mark.parametrize("dtype", DTYPES)
def test_in_place_updates_write_the_same_storage(dtype):
    w = tt.tensor(np.linspace(-1, 1, 12).reshape(3, 4).astype(dtype))
    g = tt.tensor(np.linspace(2, 3, 12).reshape(3, 4).astype(dtype))
    before = w.data_ptr()
    expected = w.numpy() - np.asarray(0.1, dtype) * g.numpy()
    w -= 0.1 * g
    assert w.data_ptr() == before
    np.testing.assert_array_equal(w.numpy(), expected)
    w.mul_(tt.tensor(2.0, dtype=w.dtype))
    np.testing.assert_array_equal(w.numpy(), expected * 2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_compiled_keeps_them_fused_and_equal(dtype):
    from tinytape.compiler.segments import _host_call
    rng = np.random.default_rng(0)
    compiled = tt.compile(_program, fullgraph=True, background=False)
    for _ in range(3):
        x = tt.tensor(rng.standard_normal((5, 8)).astype(dtype))
        s = tt.tensor(rng.uniform(1, 2, ()).astype(dtype))
        for got, want in zip(compiled(x, s), _program(x, s)):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    (entry,) = next(iter(compiled.programs.values()))
    assert entry.kind == "fused" and getattr(entry.program, "not_fused", None) is None, entry.program.not_fused
    assert not any(_host_call(entry.program, c) for c in entry.program.capture.calls)


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_by_zero_nan_bits_agree_eager_compiled_and_pytorch(dtype):
    """0 / 0 is the processor's NaN (x86: its sign bit set) in eager's numpy loops, in the
    kernels' scalar division and in the fused code, as in PyTorch; a NaN dividend comes back."""
    def program(a, b, v, w):
        return a / b, v / w, (a - a) / (b * v.sum())
    bits = {"float32": np.uint32, "float64": np.uint64}[dtype]
    t = lambda values: tt.tensor(values, dtype=getattr(tt, dtype))  # noqa: E731
    compiled = tt.compile(program, fullgraph=True, background=False)
    # traced on finite values (the check at trace time sees no NaN), then divided by zero
    calls = [(t(1.0), t(2.0), t([1.0, 2.0, 3.0, 4.0]), t([1.0] * 4)),
             (t(0.0), t(0.0), t([0.0, np.nan, -np.nan, 1.0]), t([0.0] * 4))]
    for args in calls + calls[1:]:
        got, want = compiled(*args), program(*args)
        for g, e in zip(got, want):
            assert (g.numpy().view(bits) == e.numpy().view(bits)).all()
    assert compiled.traces == 1
    theirs = pytorch(lambda torch: bool(torch.signbit(torch.tensor(0.0, dtype=getattr(torch, dtype))
                                                     / torch.tensor(0.0, dtype=getattr(torch, dtype)))))
    assert bool(np.signbit(want[0].numpy())) == theirs
