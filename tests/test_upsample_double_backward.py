"""linear, bilinear and trilinear ``interpolate`` differentiated twice: the gradient's entry is
named per mode as PyTorch's (``UpsampleBilinear2DBackwardBackward0``), and its own gradient is
the forward kernel's."""
import pytest

from helpers import check_against_pytorch

MODES = [("linear", (2, 3, 5)), ("bilinear", (2, 3, 4, 5)), ("trilinear", (1, 2, 3, 4, 5))]


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode,shape", MODES, ids=[m for m, _ in MODES])
def test_second_derivative_named_per_mode(mode, shape, align_corners):
    def run(t):
        t.manual_seed(0)
        x = t.randn(*shape, dtype=t.float64).requires_grad_()
        out = t.nn.functional.interpolate(x, scale_factor=1.7, mode=mode, align_corners=align_corners)
        g, = t.autograd.grad((out * out).sum(), [x], create_graph=True)
        h, = t.autograd.grad((g * g).sum(), [x])
        return [out, g, h]
    check_against_pytorch(run)
