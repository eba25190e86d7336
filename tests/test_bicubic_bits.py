"""``interpolate(mode="bicubic")`` and ``nn.Upsample(mode="bicubic")`` bit for bit as PyTorch's
CPU kernels compute them: values and the input's gradient, float32 and float64, up- and
downsampling to sizes and by scale factors (with and without ``recompute_scale_factor``),
both ``align_corners``, several batches and channels, non-contiguous inputs; the second
derivative through the backward's adjoint; finite-difference gradchecks on the CPU and the
CUDA path (numba's simulator without a GPU); compiled equals eager; the kernels' bounds."""
import numpy as np
import pytest

import tinytape as tt
from helpers import check_against_pytorch, check_grad
from test_breadth3 import check

DTYPES = ["float32", "float64"]
SHAPE = (2, 3, 8, 9)

CASES = {
    "up_to_size": dict(size=(13, 17)),
    "down_to_size": dict(size=(3, 4)),
    "up_and_down": dict(size=(11, 3)),
    "one_row": dict(size=(1, 9)),
    "same_size": dict(size=(8, 9)),
    "scale_2_3": dict(scale_factor=2.3),
    "scale_pair": dict(scale_factor=(1.7, 0.45)),
    "scale_pair_recomputed": dict(scale_factor=(1.7, 0.45), recompute_scale_factor=True),
    "scale_down": dict(scale_factor=0.6),
    "scale_to_same_size": dict(scale_factor=1.05),  # 8 x 9 again: the forward reads at 1 / 1.05
    "scale_large": dict(scale_factor=3.7, recompute_scale_factor=False),
}


def _randn(t, dtype, *shape, seed=0):
    t.manual_seed(seed)
    return t.randn(*shape, dtype=getattr(t, dtype))


def _layouts(x):
    """The same values as a contiguous tensor, a transposed view, channels-last strides and a
    slice with steps (each a view of ``x``, so the gradient reaches it)."""
    wide = x.repeat(1, 1, 1, 2)
    return [x, x.transpose(2, 3).contiguous().transpose(2, 3) * 1, x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2),
            wide[:, :, :, ::2]]


def _with_gradients(t, outs, x):
    """The outputs, then the gradient of ``(out * weights).sum()`` to ``x`` for each."""
    grads = []
    for i, out in enumerate(outs):
        t.manual_seed(100 + i)
        weights = t.randn(*out.shape, dtype=out.dtype).to(out.device)
        grads += list(t.autograd.grad((out * weights).sum(), [x], retain_graph=True))
    return list(outs) + grads


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("case", list(CASES))
def test_bicubic_as_pytorch(case, align_corners, dtype):
    def run(t):
        x = _randn(t, dtype, *SHAPE).requires_grad_()
        outs = [t.nn.functional.interpolate(v, mode="bicubic", align_corners=align_corners, **CASES[case])
                for v in _layouts(x)]
        return _with_gradients(t, outs, x)

    check_against_pytorch(run)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1, 5, 5), (3, 2, 4, 11), (1, 4, 23, 2)])
def test_upsample_module_as_pytorch(shape, dtype):
    def run(t):
        x = _randn(t, dtype, *shape, seed=1).requires_grad_()
        modules = [t.nn.Upsample(scale_factor=2, mode="bicubic"),
                   t.nn.Upsample(size=(7, 6), mode="bicubic", align_corners=True),
                   t.nn.Upsample(scale_factor=(0.5, 1.5), mode="bicubic")]
        return [repr(m) for m in modules] + _with_gradients(t, [m(x) for m in modules], x)

    check_against_pytorch(run)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("align_corners", [False, True])
def test_second_derivative_as_pytorch(align_corners, dtype):
    """The backward differentiated again: its adjoint is the forward kernel (grad_fn
    ``UpsampleBicubic2DBackwardBackward0``)."""
    def run(t):
        x = _randn(t, dtype, 2, 2, 5, 7).requires_grad_()
        out = t.nn.functional.interpolate(x, size=(9, 4), mode="bicubic", align_corners=align_corners)
        g, = t.autograd.grad((out * out).sum(), [x], create_graph=True)
        t.manual_seed(7)
        h, = t.autograd.grad((g * t.randn(*g.shape, dtype=g.dtype)).sum(), [x])
        return [out, g, h]

    check_against_pytorch(run)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("kwargs", [dict(size=(5, 3)), dict(scale_factor=1.5), dict(size=(2, 7), align_corners=True)])
def test_bicubic_gradcheck(kwargs, device):
    """The backward and its adjoint against finite differences (the CUDA path's kernels too)."""
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 5))

    def f(v):
        return tt.nn.functional.interpolate(v.to(device), mode="bicubic", **kwargs) ** 2

    check_grad(f, x, second_order=True)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_bicubic_on_each_device_near_pytorch(dtype, device):
    """The CUDA path sums in another order: its values and gradients near PyTorch's."""
    def run(torch, dev):
        x = _randn(torch, dtype, 2, 2, 6, 5).requires_grad_()
        outs = [torch.nn.functional.interpolate(x.to(dev), mode="bicubic", **kw)
                for kw in (dict(size=(9, 4)), dict(scale_factor=(1.5, 2.0), align_corners=True))]
        return _with_gradients(torch, outs, x)

    tolerance = 1e-12 if dtype == "float64" else 1e-5
    check(run, device=device, rtol=0 if device == "cpu" else tolerance, atol=0 if device == "cpu" else tolerance)


@pytest.mark.parametrize("dtype", DTYPES)
def test_compiled_bicubic_equals_eager(dtype):
    from test_kernel_bits import _compiled_equals_eager
    F = tt.nn.functional
    _compiled_equals_eager(lambda x: (F.interpolate(x, size=(7, 12), mode="bicubic") ** 2).sum()
                           + F.interpolate(x, scale_factor=0.7, mode="bicubic", align_corners=True).sum(),
                           (2, 3, 5, 6), dtype=dtype)


def test_kernels_check_their_bounds():
    """A tap outside the input, or arrays shorter than the sizes they are read as, raise an
    IndexError naming the op rather than reading or writing past the buffers."""
    from tinytape.backend.cpu import upsample_cubic as kernels
    x = np.zeros(2 * 4 * 5)
    taps_h, taps_w = kernels.cubic_taps(4, 6, False, None, x.dtype), kernels.cubic_taps(5, 3, False, None, x.dtype)
    out, rows = np.zeros(2 * 6 * 3), np.zeros(4)
    kernels.bicubic_2d(x, 2, 4, 5, *taps_h, *taps_w, rows, out)  # in bounds: no error
    bad_index = taps_w[0].copy()
    bad_index[1, 2] = 5
    with pytest.raises(IndexError, match="upsample_bicubic2d: a tap outside"):
        kernels.bicubic_2d(x, 2, 4, 5, *taps_h, bad_index, taps_w[1], rows, out)
    with pytest.raises(IndexError, match="upsample_bicubic2d: an array is shorter"):
        kernels.bicubic_2d(x[:-1], 2, 4, 5, *taps_h, *taps_w, rows, out)
    with pytest.raises(IndexError, match="upsample_bicubic2d_backward: a tap outside"):
        kernels.bicubic_2d_backward(out, 2, 4, 5, *taps_h, bad_index, taps_w[1], np.zeros_like(x))
    with pytest.raises(IndexError, match="upsample_bicubic2d_backward: an array is shorter"):
        kernels.bicubic_2d_backward(out, 2, 4, 5, *taps_h, *taps_w, np.zeros(x.size - 1))
