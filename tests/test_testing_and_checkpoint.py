"""``torch.testing`` (``assert_close``'s tolerances and reports, ``make_tensor``'s draws) and
``torch.utils.checkpoint`` (both variants: outputs, grad_fn names, gradients, dropout
replayed from the generator state the piece started with), against PyTorch's."""
import warnings

import pytest

import tinytape
from helpers import check_against_pytorch


def _outcome(f):
    try:
        return repr(f())
    except Exception as e:  # noqa: BLE001 - the error is the answer
        return f"{type(e).__name__}: {e}"


def test_assert_close_passes_and_reports_as_pytorchs():
    def run(torch):
        tc = torch.testing.assert_close
        t, nan = torch.tensor, float("nan")
        cases = [lambda: tc(t([1., 2.]), t([1., 2.0000001])), lambda: tc(t([1., 2.]), t([1., 2.1])),
                 lambda: tc(torch.arange(6.).view(2, 3), torch.arange(6.).view(2, 3) * 1.01),
                 lambda: tc(t([1, 2]), t([1, 3])), lambda: tc(t([True]), t([False])),
                 lambda: tc(t([1., 2.]), t([1., 2.], dtype=torch.float64)),
                 lambda: tc(t([1., 2.]), t([1., 2.], dtype=torch.float64), check_dtype=False),
                 lambda: tc(t([1., 2.]), t([1., 2., 3.])), lambda: tc(t([nan]), t([nan])),
                 lambda: tc(t([nan, 1.]), t([nan, 1.]), equal_nan=True), lambda: tc(t([nan, 1.]), t([1., 1.])),
                 lambda: tc(2.0, 2.1), lambda: tc(2.0, 2.0 + 1e-9), lambda: tc(2, 3), lambda: tc(t(2.), t(2.5)),
                 lambda: tc([t(1.), t(2.)], [t(1.), t(2.5)]), lambda: tc({"a": [t([1.]), t([3.])]}, {"a": [t([1.]), t([2.])]}),
                 lambda: tc(t([1., 2.]), t([1., 2.1]), rtol=0.1, atol=0), lambda: tc(t([1.]), t([1.1]), rtol=0.1),
                 lambda: tc(t([1., 2.]), t([1., 2.1]), rtol=0, atol=0), lambda: tc(t([1.]), t([2.]), msg="custom"),
                 lambda: tc(t([1.]), t([2.]), msg=lambda m: m.splitlines()[0] + "!"), lambda: tc(t([1.]), 1.0),
                 lambda: tc(t([0., 1.]), t([1e-3, 1.])), lambda: tc(t([1.], dtype=torch.float16), t([1.001], dtype=torch.float16)),
                 lambda: tc(t([1.], dtype=torch.float16), t([1.01], dtype=torch.float16))]
        return [_outcome(c) for c in cases]
    check_against_pytorch(run)


def test_make_tensor_draws_pytorchs_numbers():
    def run(torch):
        torch.manual_seed(0)
        mk = torch.testing.make_tensor
        return [mk(2, 3, dtype=torch.float32, device="cpu"), mk((4,), dtype=torch.int64, device="cpu"),
                mk(4, dtype=torch.bool, device="cpu"), mk(5, dtype=torch.uint8, device="cpu"),
                mk(3, dtype=torch.float64, device="cpu", low=0, high=1, requires_grad=True),
                mk(2, 3, dtype=torch.float32, device="cpu", noncontiguous=True).is_contiguous(),
                mk(6, dtype=torch.int32, device="cpu", low=-2, high=2, exclude_zero=True),
                _outcome(lambda: mk(2, dtype=torch.float32, device="cpu", low=3, high=1)),
                _outcome(lambda: mk(2, dtype=torch.int64, device="cpu", requires_grad=True))]
    check_against_pytorch(run)


@pytest.mark.parametrize("use_reentrant", [True, False, None])
def test_checkpoint_gives_the_gradients_of_the_plain_run(use_reentrant):
    def run(torch):
        import importlib
        checkpoint = importlib.import_module(f"{torch.__name__}.utils.checkpoint")
        torch.manual_seed(0)
        x = torch.randn(4, 3, requires_grad=True)
        w = torch.randn(3, 3, requires_grad=True)

        def piece(a, b):
            return torch.nn.functional.dropout(torch.tanh(a * b[0] + b[1]), 0.5, training=True) * 2  # (no gemm: BLAS rounds apart)

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = checkpoint.checkpoint(piece, x, w, use_reentrant=use_reentrant)
        y.sum().backward()
        model = torch.nn.Sequential(torch.nn.Tanh(), torch.nn.ReLU(), torch.nn.Softplus(), torch.nn.Sigmoid())
        z = checkpoint.checkpoint_sequential(model, 2, x.detach().requires_grad_(), use_reentrant=bool(use_reentrant))
        z.sum().backward()
        return [y, x.grad, w.grad, z, torch.rand(2), len(caught),
                [str(c.message)[:60] for c in caught]]
    check_against_pytorch(run)
