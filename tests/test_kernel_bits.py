"""Elementwise ops and their gradients bit for bit as PyTorch's CPU kernels compute them
(its vector and scalar loops, its derivative formulas term for term): float32 and float64,
odd lengths and non-contiguous operands.  ``tools/bit_hunt.py`` finds the ones that differ."""
import math

import pytest

from helpers import check_against_pytorch

DTYPES = ["float32", "float64"]
SHAPES = [(1,), (7,), (67,), (13, 31)]


def _randn(t, dtype, *shape, seed=0):
    t.manual_seed(seed)
    return t.randn(*shape, dtype=getattr(t, dtype))


def _with_gradients(t, outputs, inputs):
    """The outputs and, for each, the gradients of ``(out * weights).sum()`` (weights seeded)."""
    result = list(outputs)
    for i, out in enumerate(outputs):
        t.manual_seed(100 + i)
        weights = t.randn(*out.shape, dtype=out.dtype)
        result += list(t.autograd.grad((out * weights).sum(), inputs, retain_graph=True, allow_unused=True))
    return [r for r in result if r is not None]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_xlogy_xlog1py_as_pytorch(shape, dtype):
    """The C library's log and log1p (PyTorch's scalar loops); the first operand's gradient
    ``xlogy(g, y)``, not 0, where it is 0 (0 there only where y is outside the log's domain)."""
    def run(t):
        x = t.nn.functional.relu(_randn(t, dtype, *shape)).requires_grad_()  # zeros in about half
        y = _randn(t, dtype, *shape, seed=1).abs().requires_grad_()
        z = (_randn(t, dtype, *shape, seed=2) * 2).requires_grad_()  # below -1 in places
        outs = [t.xlogy(x, y), t.special.xlog1py(x, y), t.xlogy(x, z), t.special.xlog1py(x, z),
                t.xlogy(x.t() if x.dim() == 2 else x, y.t() if y.dim() == 2 else y)]
        return _with_gradients(t, outs, [x, y, z])

    check_against_pytorch(run)


@pytest.mark.parametrize("dtype", DTYPES)
def test_xlogy_special_values_and_numbers(dtype):
    def run(t):
        values = [0.0, -0.0, 1.0, -1.0, 0.5, math.inf, -math.inf, math.nan, 3.0]
        x = t.tensor([[a] * len(values) for a in values], dtype=getattr(t, dtype)).requires_grad_()
        y = t.tensor([values] * len(values), dtype=getattr(t, dtype)).requires_grad_()
        outs = [t.xlogy(x, y), t.special.xlog1py(x, y), t.xlogy(x, 2.5), t.xlogy(2.5, y), t.xlogy(x, -1.0),
                t.special.xlog1py(x, -2.0), t.special.xlog1py(0.5, y), t.special.xlogy(x, y)]
        grad_fns = [type(o.grad_fn).__name__ for o in outs]
        return [grad_fns] + _with_gradients(t, outs, [x, y])

    check_against_pytorch(run)


def test_xlogy_promotes_integers_and_mixed_floats():
    def run(t):
        t.manual_seed(0)
        ints = t.randint(0, 4, (6,))
        y = t.rand(6, dtype=t.float64) + 0.5
        return [t.xlogy(ints, ints + 1), t.xlogy(ints, y), t.special.xlog1py(ints, y.float()),
                t.xlogy(y.float(), y)]

    check_against_pytorch(run)


# ---- compiled programs compute these ops as eager does, bit for bit

def _compiled_equals_eager(fn, *shapes, dtype="float32", seeds=3):
    import numpy as np

    import tinytape as tt
    from tinytape.autograd import grad

    def run(*xs):
        loss = fn(*xs)
        return (loss.detach(),) + grad(loss, xs)

    for fuse in (True, False):
        compiled = tt.compile(run, fullgraph=True, fuse=fuse)
        for seed in range(seeds):  # the first call traces, the others replay
            rng = np.random.default_rng(seed)
            xs = [tt.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]
            for got, want in zip(compiled(*xs), run(*xs)):
                np.testing.assert_array_equal(got.numpy(), want.numpy())
        assert compiled.traces == 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_compiled_xlogy_equals_eager(dtype):
    import tinytape as tt
    _compiled_equals_eager(lambda x, y: (tt.xlogy(x.relu(), y.abs()) * y).sum()
                           + tt.special.xlog1py(x.relu(), y).mul(x).sum(), (5, 7), (5, 7), dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_pow_by_numbers_as_pytorch(shape, dtype):
    """PyTorch's special exponents (products, reciprocals, rsqrt) and SLEEF's pow; gradients
    ``g * (e * x ** (e - 1))`` (0.5 and 1.5 go through sqrt, MKL's: not compared here)."""
    def run(t):
        x = (_randn(t, dtype, *shape).abs() + 0.1).requires_grad_()
        outs = [x ** e for e in (2, 3, -1, -2, -0.5, 4, 0.3, -1.5, 2.5)]
        return _with_gradients(t, outs, [x]) + [x.detach() ** 1.5]

    check_against_pytorch(run)


def test_bfloat16_pow_by_numbers_as_pytorch():
    """bfloat16: each product or reciprocal rounded to bfloat16 (Vectorized<BFloat16>'s ops)."""
    def run(t):
        t.manual_seed(0)
        x = (t.randn(300).abs() + 0.01).to(t.bfloat16)
        return [x ** e for e in (0.5, -1, 2, 3, -2, 1.5, 0.3, -1.5, 4)]

    check_against_pytorch(run)


# ---- interpolate's linear modes: the generic kernel and bilinear's channels-last one

INTERPOLATIONS = {
    "linear": lambda t, x, a: [t.nn.functional.interpolate(x[0], scale_factor=s, mode="linear", align_corners=a)
                               for s in (2.3, 0.6, 1.0)] + [t.nn.functional.interpolate(x[0], size=50, mode="linear",
                                                                                      align_corners=a)],
    "bilinear_small": lambda t, x, a: [t.nn.functional.interpolate(x, size=(5, 11), mode="bilinear", align_corners=a),
                                       t.nn.functional.interpolate(x, scale_factor=(1.7, 0.5), mode="bilinear",
                                                                   align_corners=a)],
    "bilinear_large": lambda t, x, a: [t.nn.functional.interpolate(x, size=(70, 61), mode="bilinear", align_corners=a)],
    "bilinear_channels_last": lambda t, x, a: [t.nn.functional.interpolate(
        x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2), size=(90, 50), mode="bilinear", align_corners=a)],
    "trilinear": lambda t, x, a: [t.nn.functional.interpolate(x.unsqueeze(2).expand(-1, -1, 3, -1, -1) * 1.5,
                                                              size=(4, 5, 11), mode="trilinear", align_corners=a)],
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("channels", [3, 5, 19])
@pytest.mark.parametrize("name", list(INTERPOLATIONS))
def test_interpolate_linear_modes_as_pytorch(name, channels, align_corners, dtype):
    def run(t):
        x = _randn(t, dtype, 2, channels, 8, 9).requires_grad_()
        outs = INTERPOLATIONS[name](t, x, align_corners)
        return _with_gradients(t, outs, [x])

    check_against_pytorch(run)


@pytest.mark.parametrize("dtype", DTYPES)
def test_compiled_interpolate_equals_eager(dtype):
    import tinytape as tt
    F = tt.nn.functional
    _compiled_equals_eager(lambda x: (F.interpolate(x, size=(7, 12), mode="bilinear") ** 2).sum()
                           + F.interpolate(x[:, :, 0], scale_factor=1.5, mode="linear", align_corners=True).sum(),
                           (2, 3, 5, 6), dtype=dtype)


@pytest.mark.parametrize("mode,shape,size", [("linear", (1, 2, 5), (7,)), ("bilinear", (1, 2, 4, 5), (6, 3)),
                                             ("trilinear", (1, 1, 3, 4, 3), (4, 2, 5))])
@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_kernels_gradcheck(mode, shape, size, align_corners):
    """The kernels' backward and its adjoint (second derivatives) against finite differences."""
    import numpy as np

    import tinytape as tt
    from helpers import check_grad
    check_grad(lambda x: tt.nn.functional.interpolate(x, size=size, mode=mode, align_corners=align_corners) ** 2,
               np.random.default_rng(0).standard_normal(shape), second_order=True)


# ---- batch norm over (batch, channels) rows: PyTorch's channels-last kernel

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(13, 31), (4, 67), (64, 16), (9, 5), (2, 3)])
@pytest.mark.parametrize("affine", [False, True])
def test_batch_norm_rows_training_gradients_as_pytorch(shape, affine, dtype):
    """dx fuses ``(x - mean) * k`` into its subtraction in the channels of full vectors only."""
    def run(t):
        x = _randn(t, dtype, *shape).requires_grad_()
        w = (_randn(t, dtype, shape[1], seed=1) if affine else None)
        b = (_randn(t, dtype, shape[1], seed=2) if affine else None)
        if affine:
            w.requires_grad_()
            b.requires_grad_()
        out = t.nn.functional.batch_norm(x, None, None, w, b, training=True)
        return _with_gradients(t, [out], [x] + ([w, b] if affine else []))

    check_against_pytorch(run)


# ---- addcmul and addcdiv: PyTorch's derivative formulas term for term

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_addcmul_addcdiv_gradients_as_pytorch(shape, dtype):
    def run(t):
        x, y = _randn(t, dtype, *shape).requires_grad_(), _randn(t, dtype, *shape, seed=1).requires_grad_()
        z = (_randn(t, dtype, *shape, seed=2).abs() + 1).requires_grad_()
        outs = [f(x, y, z, value=v) for f in (t.addcmul, t.addcdiv) for v in (1, 0.3, -2)]
        return [type(outs[3].grad_fn).__name__] + _with_gradients(t, outs, [x, y, z])

    check_against_pytorch(run)


def test_addcdiv_gradcheck():
    import numpy as np

    import tinytape as tt
    from helpers import check_grad
    rng = np.random.default_rng(0)
    check_grad(lambda x, y, z: tt.addcdiv(x, y, z, value=0.7), rng.standard_normal((3, 4)),
               rng.standard_normal((3, 4)), rng.uniform(1, 2, (3, 4)), second_order=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_compiled_addcdiv_equals_eager(dtype):
    import tinytape as tt
    _compiled_equals_eager(lambda x, y: (tt.addcdiv(x, y, y.abs() + 1, value=0.3) ** 2).sum()
                           + tt.addcmul(x, x, y, value=-2).sum(), (4, 9), (4, 9), dtype=dtype)
