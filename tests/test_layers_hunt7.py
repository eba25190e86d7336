"""Normalisation layers give PyTorch's CPU bits: ``LayerNorm`` / ``F.layer_norm`` (mean and
variance by ATen's ``RowwiseMoments``, the output and the gradients as its kernels round
them) and ``BatchNorm``/``InstanceNorm`` over (N, C, L...) inputs (the batch statistics,
the running statistics and the output, in training and in evaluation).  Each test runs a
reference-page style program under tinytape and compares it with PyTorch's recorded answer.
PyTorch's side runs on one thread (the gradients of the weight and the bias add per-thread
buffers)."""
import contextlib

import pytest

from helpers import check_against_pytorch

check = check_against_pytorch


@contextlib.contextmanager
def _one_thread(torch):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("shape, normalized, affine", [
    ((4, 7, 32), (32,), True), ((2, 1000), (1000,), True), ((3, 5, 64), (64,), False),
    ((3, 5, 7, 4), (7, 4), True), ((4, 37), (37,), False), ((3, 13), (13,), True), ((6, 5), (5,), True), ((2, 3, 129), (129,), False)])
def test_layer_norm_values_and_gradients(shape, normalized, affine):
    def run(torch):
        with _one_thread(torch):
            torch.manual_seed(0)
            x = (torch.randn(*shape) * 3 + 2).requires_grad_()
            ln = torch.nn.LayerNorm(normalized, elementwise_affine=affine)
            if affine:
                with torch.no_grad():
                    ln.weight.normal_()
                    ln.bias.normal_()
            y = ln(x)
            (y.pow(3) * torch.linspace(-1, 1, y.shape[-1])).sum().backward()
            grads = (ln.weight.grad, ln.bias.grad) if affine else ()
            return (y, x.grad) + grads
    check(run)


def test_functional_layer_norm_float64_and_odd_widths():
    def run(torch):
        with _one_thread(torch):
            torch.manual_seed(1)
            x = torch.randn(3, 48, dtype=torch.float64, requires_grad=True)
            y = torch.nn.functional.layer_norm(x, (48,), eps=1e-6)
            y.sin().sum().backward()
            results = [y, x.grad]
            for n in (1, 3, 7, 9, 13, 100, 3001):
                x = (torch.randn(4, n) * 5 - 1).requires_grad_()
                w, b = torch.randn(n, requires_grad=True), torch.randn(n, requires_grad=True)
                out = torch.nn.functional.layer_norm(x, (n,), w, b)
                out.pow(2).sum().backward()
                results += [out, x.grad, w.grad, b.grad]
            return results
    check(run)


@pytest.mark.parametrize("module, shape", [("BatchNorm2d", (8, 3, 5, 5)), ("BatchNorm1d", (4, 6, 17)),
                                           ("BatchNorm3d", (2, 3, 4, 5, 6))])
def test_batch_norm_training_and_evaluation_values_and_running_statistics(module, shape):
    def run(torch):
        torch.manual_seed(2)
        bn = getattr(torch.nn, module)(shape[1], momentum=0.3)
        with torch.no_grad():
            bn.weight.normal_()
            bn.bias.normal_()
        results = []
        for step in range(3):
            x = torch.randn(*shape) * (step + 1) + step
            results += [bn(x), bn.running_mean.clone(), bn.running_var.clone()]
        bn.eval()
        results.append(bn(torch.randn(*shape)))
        return results + [bn.num_batches_tracked.clone(), list(bn.state_dict())]
    check(run)


def test_functional_batch_norm_and_instance_norm_forward():
    def run(torch):
        torch.manual_seed(3)
        x = torch.randn(6, 4, 9) * 2 + 1
        rm, rv = torch.zeros(4), torch.ones(4)
        y = torch.nn.functional.batch_norm(x, rm, rv, training=True, momentum=0.2, eps=1e-3)
        y_eval = torch.nn.functional.batch_norm(x, rm, rv, torch.randn(4), torch.randn(4))
        inorm = torch.nn.InstanceNorm1d(4, affine=True, track_running_stats=True)
        z = inorm(x)
        z2 = torch.nn.InstanceNorm2d(3)(torch.randn(2, 3, 8, 9))
        return y, rm, rv, y_eval, z, inorm.running_mean, inorm.running_var, z2
    check(run)


@pytest.mark.parametrize("module, shape, train", [("BatchNorm2d", (8, 3, 5, 5), True), ("BatchNorm1d", (4, 6, 17), True),
                                                  ("BatchNorm3d", (2, 3, 4, 5, 6), False), ("BatchNorm2d", (3, 2, 4, 4), False)])
def test_batch_norm_gradients(module, shape, train):
    def run(torch):
        torch.manual_seed(4)
        bn = getattr(torch.nn, module)(shape[1])
        with torch.no_grad():
            bn.weight.normal_()
            bn.bias.normal_()
            bn.running_var.uniform_(0.5, 2.0)
        bn.train(train)
        x = (torch.randn(*shape) * 2 - 1).requires_grad_()
        y = bn(x)
        (y.pow(3) * torch.linspace(-2, 2, shape[-1])).sum().backward()
        return y, x.grad, bn.weight.grad, bn.bias.grad
    check(run)


def test_batch_norm1d_on_rows_values_running_statistics_and_parameter_gradients():
    def run(torch):
        with _one_thread(torch):
            torch.manual_seed(5)
            bn = torch.nn.BatchNorm1d(37)
            results = []
            for n in (20, 3, 64):
                x = (torch.randn(n, 37) * 2 + 1).requires_grad_()
                y = bn(x)
                y.pow(3).sum().backward()
                results += [y, bn.running_mean.clone(), bn.running_var.clone()]
            bn.eval()
            x = torch.randn(5, 37, requires_grad=True)
            y = bn(x)
            y.pow(3).sum().backward()
            return results + [bn.weight.grad, bn.bias.grad, y, x.grad]
    check(run)


def test_group_norm_forward():
    def run(torch):
        torch.manual_seed(6)
        results = []
        for shape, groups, affine in (((4, 6, 7, 3), 3, True), ((2, 4, 33), 2, False), ((3, 8, 5, 5), 1, True),
                                      ((2, 6), 2, True)):
            gn = torch.nn.GroupNorm(groups, shape[1], affine=affine)
            if affine:
                with torch.no_grad():
                    gn.weight.normal_()
                    gn.bias.normal_()
            x = torch.randn(*shape) * 3 + 1
            results += [gn(x), torch.nn.functional.group_norm(x.double(), groups), repr(gn)]
        return results
    check(run)


@pytest.mark.parametrize("size_in, size_out", [((10,), (4,)), ((7, 9), (3, 5)), ((10, 10), (4, 3)), ((6, 6), (3, 3)),
                                               ((3, 4, 5), (5, 3, 7)), ((5, 7, 6), (2, 3, 4))])
def test_adaptive_avg_pool_uneven_bins_values_and_gradients(size_in, size_out):
    def run(torch):
        torch.manual_seed(7)
        x = torch.randn(2, 3, *size_in, requires_grad=True)
        pool = getattr(torch.nn, f"AdaptiveAvgPool{len(size_in)}d")(size_out)
        y = pool(x)
        (y * torch.randn(y.shape)).sum().backward()
        x64 = x.detach().double().requires_grad_()
        y64 = pool(x64)
        g, = torch.autograd.grad(y64.pow(2).sum(), x64, create_graph=True)
        g.pow(2).sum().backward()
        if len(size_in) == 1:  # (the gradient of its unsqueeze is recorded as a view, PyTorch's as a squeeze)
            g = g.detach()
        return y, x.grad, y64, g, x64.grad, repr(pool)
    check(run)


def test_adaptive_max_pool_indices_gradients_ties_nan_and_errors():
    def run(torch):
        F = torch.nn.functional
        torch.manual_seed(8)
        results = []
        for size_in, size_out in (((10,), 3), ((7, 9), (3, 5)), ((5, 7, 6), (2, 3, 4)), ((6, 5), (4, None))):
            x = torch.randn(2, 3, *size_in, requires_grad=True)
            pool = getattr(torch.nn, f"AdaptiveMaxPool{len(size_in)}d")(size_out, return_indices=True)
            y, i = pool(x)
            (y * y).sum().backward()
            results += [y, i, x.grad, repr(pool)]
        x = torch.tensor([[[1., 3., 3., 2.], [float("nan"), 0., 5., 5.]]], requires_grad=True)
        y = torch.nn.AdaptiveMaxPool1d(3)(x)
        y.sum().backward()
        results += [y, x.grad]
        for f, shape in ((F.adaptive_max_pool1d, (3,)), (F.adaptive_max_pool1d, (2, 0, 3)),
                         (F.adaptive_max_pool2d, (2, 3, 0)), (F.adaptive_max_pool3d, (2, 3)),
                         (F.adaptive_max_pool3d, (1, 2, 0, 3)), (F.adaptive_max_pool2d, (1, 2, 3, 4, 5))):
            with pytest.raises(RuntimeError) as caught:
                f(torch.randn(*shape), 2)
            results.append(str(caught.value))
        return results
    check(run)


@pytest.mark.parametrize("mode, size, scale, shape", [
    ("area", (3, 4), None, (1, 2, 5, 7)), ("area", None, 0.6, (1, 2, 5, 7)), ("area", 3, None, (2, 3, 5)),
    ("area", (2, 3, 4), None, (1, 1, 3, 4, 5)), ("nearest-exact", None, (1.5, 2.2), (1, 2, 5, 7)),
    ("nearest-exact", None, 3, (1, 2, 5, 7)), ("nearest-exact", 7, None, (1, 2, 5)),
    ("nearest-exact", None, 1.5, (1, 1, 3, 4, 5)), ("nearest", (10, 14), None, (1, 2, 5, 7)),
    ("nearest", (13, 3), None, (1, 2, 5, 7)), ("nearest", None, 1.7, (1, 2, 5))])
def test_interpolate_area_and_nearest_values_and_gradients(mode, size, scale, shape):
    def run(torch):
        torch.manual_seed(9)
        x = torch.randn(*shape, requires_grad=True)
        y = torch.nn.functional.interpolate(x, size=size, scale_factor=scale, mode=mode)
        (y * torch.randn(y.shape)).sum().backward()
        up = torch.nn.Upsample(size=size, scale_factor=scale, mode=mode)
        return y, x.grad, up(x.detach()), repr(up)
    check(run)


@pytest.mark.parametrize("rank, kernel, stride, padding, ceil_mode, count_include_pad, divisor", [
    (2, 3, 1, 0, False, True, None), (2, 3, 2, 1, True, False, None), (2, 2, 1, 0, False, True, 3),
    (2, (3, 2), (2, 1), 1, True, True, None), (1, 3, 2, 1, True, False, None), (3, 3, 2, 1, True, False, None),
    (3, (2, 3, 2), (1, 2, 1), (1, 1, 0), True, True, None)])
def test_avg_pool_overlapping_windows_values_and_gradients(rank, kernel, stride, padding, ceil_mode, count_include_pad,
                                                         divisor):
    def run(torch):
        torch.manual_seed(10)
        x = torch.randn(*(2, 3, 9, 8, 7)[:rank + 2], requires_grad=True)
        pool = getattr(torch.nn, f"AvgPool{rank}d")(kernel, stride, padding, ceil_mode, count_include_pad,
                                                     *([divisor] if rank > 1 else []))
        y = pool(x)
        (y * torch.randn(y.shape)).sum().backward()
        x64 = x.detach().double().requires_grad_()
        g, = torch.autograd.grad(pool(x64).pow(2).sum(), x64, create_graph=True)
        g.pow(2).sum().backward()
        if rank == 1:
            g = g.detach()
        return y, x.grad, g, x64.grad, repr(pool)
    check(run)


def test_pooling_padding_and_divisor_errors():
    def run(torch):
        F = torch.nn.functional
        calls = [lambda: F.max_pool2d(torch.randn(1, 1, 4, 4), 3, padding=2),
                 lambda: F.avg_pool2d(torch.randn(1, 1, 4, 4), (3, 5), padding=(2, 1)),
                 lambda: F.avg_pool1d(torch.randn(1, 1, 4), 3, padding=2),
                 lambda: F.max_pool1d(torch.randn(1, 1, 4), 3, padding=2),
                 lambda: F.avg_pool2d(torch.randn(1, 1, 4, 4), (3, 3), padding=(1, 2)),
                 lambda: F.max_pool2d(torch.randn(1, 1, 9, 9), 3, padding=2, dilation=2),
                 lambda: F.max_pool2d(torch.randn(1, 1, 9, 9), 3, padding=-1),
                 lambda: F.max_pool1d(torch.randn(1, 1, 9), 3, padding=-1),
                 lambda: F.avg_pool2d(torch.randn(1, 1, 4, 4), 2, divisor_override=0),
                 lambda: F.avg_pool3d(torch.randn(1, 1, 4, 4, 4), 2, divisor_override=0)]
        messages = []
        for call in calls:
            with pytest.raises(RuntimeError) as caught:
                call()
            messages.append(str(caught.value))
        return messages
    check(run)


def test_norm_and_pool_kernels_check_their_buffers():
    """The CPU kernels refuse buffers shorter than their shapes (numba checks nothing)."""
    import numpy as np
    from tinytape.backend.cpu import adaptive_pool, moments
    x, small, ones = np.ones(12, np.float32), np.ones(2, np.float32), np.ones(4, np.float32)
    calls = {
        "layer_norm": lambda: moments.layer_norm_rows(x, 4, 4, ones, ones, 3, np.float32(1e-5), x, ones, ones),
        "layer_norm_backward": lambda: moments.layer_norm_backward_rows(x, x, 3, 4, small, True, ones, ones, x, ones,
                                                                        ones, True, True, True, 1),
        "batch_norm": lambda: moments.batch_norm_stats(x, 2, 3, 4, 1, ones, ones),
        "group_norm": lambda: moments.group_norm_rows(x, 2, 2, 2, 3, small, small, 3, 1e-5, x, ones, ones),
        "adaptive_avg_pool": lambda: adaptive_pool.adaptive_avg_pool(x, 2, (1, 3, 3), (1, 2, 2), x),
        "adaptive_max_pool": lambda: adaptive_pool.adaptive_max_pool(x, 1, (1, 3, 4), (1, 2, 2), x,
                                                                     np.zeros(2, np.int64)),
    }
    for name, call in calls.items():
        with pytest.raises(IndexError, match=name):
            call()
