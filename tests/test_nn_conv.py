"""Convolution, pooling, padding modes, batch norm and Unflatten: values, gradients and
grad_fn names against PyTorch's recorded answers, finite-difference gradients through the
shared gradcheck, on both backends (cuda = numba's simulator where there is no GPU),
modules' parameters, buffers and reprs, and errors that name the op and the shapes."""
import math
import warnings

import numpy as np
import pytest

import tinytape as tt
from helpers import check_grad
from pytorch_answers import pytorch
from tinytape import nn
from tinytape.nn import functional as F


def _rng():
    return np.random.default_rng(7)


# name -> (call taking (F, *tensors), input shapes)
CALLS = {
    "conv2d": (lambda F, x, w, b: F.conv2d(x, w, b), [(2, 3, 6, 5), (4, 3, 3, 2), (4,)]),
    "conv2d_stride_pad_dilation": (lambda F, x, w: F.conv2d(x, w, None, (2, 1), (1, 2), (2, 1)),
                                   [(2, 2, 7, 6), (3, 2, 3, 2)]),
    "conv2d_groups": (lambda F, x, w, b: F.conv2d(x, w, b, 1, 1, 1, 2), [(1, 4, 5, 5), (6, 2, 3, 3), (6,)]),
    "conv2d_depthwise": (lambda F, x, w: F.conv2d(x, w, groups=3, stride=2), [(2, 3, 6, 6), (3, 1, 2, 2)]),
    "conv2d_same_even_kernel": (lambda F, x, w: F.conv2d(x, w, padding="same", dilation=(1, 2)),
                                [(2, 2, 5, 6), (3, 2, 2, 4)]),
    "conv2d_valid": (lambda F, x, w: F.conv2d(x, w, padding="valid"), [(1, 2, 4, 5), (2, 2, 3, 3)]),
    "conv2d_unbatched": (lambda F, x, w, b: F.conv2d(x, w, b, stride=2), [(2, 5, 6), (3, 2, 2, 3), (3,)]),
    "conv1d": (lambda F, x, w, b: F.conv1d(x, w, b, 2, 1, 2), [(2, 3, 9), (4, 3, 3), (4,)]),
    "conv1d_same_groups_unbatched": (lambda F, x, w: F.conv1d(x, w, padding="same", groups=3), [(3, 8), (6, 1, 3)]),
    "max_pool2d": (lambda F, x: F.max_pool2d(x, 3, 2, 1), [(2, 3, 7, 8)]),
    "max_pool2d_ceil_dilation": (lambda F, x: F.max_pool2d(x, 2, 2, 1, 2, ceil_mode=True), [(2, 2, 7, 8)]),
    "max_pool2d_rect_unbatched": (lambda F, x: F.max_pool2d(x, (2, 3)), [(3, 7, 8)]),
    "max_pool1d": (lambda F, x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True), [(2, 3, 8)]),
    "avg_pool2d": (lambda F, x: F.avg_pool2d(x, 3, 2, 1), [(2, 3, 7, 8)]),
    "avg_pool2d_ceil_exclude_pad": (lambda F, x: F.avg_pool2d(x, 3, 2, 1, True, False), [(2, 2, 7, 8)]),
    "avg_pool2d_ceil_include_pad": (lambda F, x: F.avg_pool2d(x, 3, 2, 1, True, True), [(2, 2, 6, 8)]),
    "avg_pool2d_divisor": (lambda F, x: F.avg_pool2d(x, 2, divisor_override=3), [(1, 3, 6, 8)]),
    "avg_pool1d": (lambda F, x: F.avg_pool1d(x, 3, 2, 1), [(2, 3, 8)]),
    "adaptive_avg_pool2d": (lambda F, x: F.adaptive_avg_pool2d(x, (3, 5)), [(2, 3, 7, 8)]),
    "adaptive_avg_pool2d_global": (lambda F, x: F.adaptive_avg_pool2d(x, 1), [(2, 3, 5, 4)]),
    "adaptive_avg_pool2d_none": (lambda F, x: F.adaptive_avg_pool2d(x, (None, 2)), [(3, 5, 7)]),
    "adaptive_avg_pool1d": (lambda F, x: F.adaptive_avg_pool1d(x, 3), [(2, 3, 7)]),
    "pad_constant_crop": (lambda F, x: F.pad(x, (1, -2, 2, 0), value=3.0), [(2, 3, 5)]),
    "pad_reflect_1d": (lambda F, x: F.pad(x, (2, 1), mode="reflect"), [(2, 3, 5)]),
    "pad_reflect_2d": (lambda F, x: F.pad(x, (2, 1, 0, 2), mode="reflect"), [(3, 4, 5)]),
    "pad_replicate_2d": (lambda F, x: F.pad(x, (2, 1, 3, 0), mode="replicate"), [(1, 2, 4, 5)]),
    "pad_replicate_3d": (lambda F, x: F.pad(x, (1, 1, 0, 2, 1, 0), mode="replicate"), [(1, 2, 3, 3, 4)]),
    "pad_replicate_crop": (lambda F, x: F.pad(x, (-1, 2), mode="replicate"), [(2, 3, 5)]),
    "pad_circular_2d": (lambda F, x: F.pad(x, (2, 1, 1, 3), mode="circular"), [(1, 2, 4, 5)]),
    "pad_circular_crop": (lambda F, x: F.pad(x, (2, -1), mode="circular"), [(2, 3, 5)]),
    "batch_norm_train": (lambda F, x, w, b: F.batch_norm(x, None, None, w, b, True), [(4, 3, 2, 5), (3,), (3,)]),
    "batch_norm_train_1d": (lambda F, x: F.batch_norm(x, None, None, training=True, eps=1e-3), [(5, 3)]),
    "batch_norm_eval": (lambda F, x, w, b: F.batch_norm(x, x.new_tensor([0.5, -1.0, 2.0]),
                                                         x.new_tensor([0.7, 1.5, 0.2]), w, b), [(4, 3, 5), (3,), (3,)]),
}
CUDA_CALLS = ["conv2d_groups", "conv1d", "max_pool2d_ceil_dilation", "avg_pool2d_ceil_exclude_pad",
              "adaptive_avg_pool2d", "pad_reflect_2d", "batch_norm_train"]  # the simulator is slow: a few
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def _inputs(shapes):
    rng = _rng()
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("name, device", [(n, "cpu") for n in sorted(CALLS)]
                         + [pytest.param(n, "cuda", marks=pytest.mark.gpu) for n in CUDA_CALLS])
def test_values_gradients_and_grad_fn_match_pytorch(name, device):
    call, shapes = CALLS[name]
    arrays = _inputs(shapes)
    out_grad = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # padding='same' with an even kernel warns, as PyTorch's
        leaves = [tt.tensor(a, device=device, requires_grad=True) for a in arrays]
        out = call(F, *leaves)
        out_grad = np.random.default_rng(1).standard_normal(tuple(out.shape))
        out.backward(tt.tensor(out_grad, device=device))

    def answer(torch, arrays, out_grad):
        leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = call(torch.nn.functional, *leaves)
        result.backward(torch.tensor(out_grad))
        return result, [t.grad for t in leaves]
    expected, grads = pytorch(answer, arrays, out_grad)
    assert type(out.grad_fn).__name__ == expected.grad_fn
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
    for leaf, grad in zip(leaves, grads):
        np.testing.assert_allclose(leaf.grad.cpu().numpy(), grad.numpy(), rtol=1e-10, atol=1e-12)


# name -> (call, small input shapes, also second derivatives)
GRADCHECKED = {
    "conv2d_groups": (CALLS["conv2d_groups"][0], [(1, 4, 3, 3), (4, 2, 2, 2), (4,)], True),
    "conv2d_stride_pad_dilation": (CALLS["conv2d_stride_pad_dilation"][0], [(1, 2, 5, 4), (2, 2, 2, 2)], True),
    "conv1d_same_groups_unbatched": (CALLS["conv1d_same_groups_unbatched"][0], [(3, 5), (3, 1, 2)], False),
    "max_pool2d_ceil_dilation": (CALLS["max_pool2d_ceil_dilation"][0], [(1, 2, 5, 4)], True),
    "max_pool1d": (CALLS["max_pool1d"][0], [(1, 2, 7)], False),
    "avg_pool2d_ceil_include_pad": (CALLS["avg_pool2d_ceil_include_pad"][0], [(1, 1, 5, 6)], True),
    "adaptive_avg_pool2d": (CALLS["adaptive_avg_pool2d"][0], [(1, 2, 4, 6)], True),
    "pad_reflect_2d": (CALLS["pad_reflect_2d"][0], [(2, 3, 3)], True),
    "pad_circular_crop": (CALLS["pad_circular_crop"][0], [(1, 2, 4)], False),
    "pad_constant_crop": (CALLS["pad_constant_crop"][0], [(1, 2, 4)], True),
    "batch_norm_train": (CALLS["batch_norm_train"][0], [(3, 2, 1, 2), (2,), (2,)], True),
    "batch_norm_eval": (CALLS["batch_norm_eval"][0], [(2, 3, 2), (3,), (3,)], False),
}


def _gradcheck_inputs(name, shapes):
    arrays = _inputs(shapes)
    if name.startswith("max_pool"):  # distinct values: finite differences never cross a tie
        arrays[0] = np.random.default_rng(3).permutation(arrays[0].size).reshape(arrays[0].shape) / 7.0
    return arrays


@pytest.mark.parametrize("name", sorted(GRADCHECKED))
def test_gradcheck(name):
    """Finite differences (and, where marked, second derivatives) on small inputs."""
    call, shapes, second_order = GRADCHECKED[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_grad(lambda *t: call(F, *t), *_gradcheck_inputs(name, shapes), second_order=second_order)


@pytest.mark.gpu
def test_gradcheck_cuda():
    """Finite differences through the CUDA kernels (the simulator runs a kernel launch in
    seconds: a tiny convolution then a max pool, inputs moved to the device inside)."""
    def fn(x, w):
        return F.max_pool2d(F.conv2d(x.to("cuda"), w.to("cuda"), padding=(0, 1)), (1, 2), 1).cpu()
    check_grad(fn, np.array([[[[0.3, -1.2, 0.7], [1.1, 0.2, -0.5]]]]), np.array([[[[0.9, -0.4]]]]))


@pytest.mark.gpu
def test_window_kernels_are_adjoint_on_cuda():
    """<im2col(x), y> == <x, col2im(y)>: the CUDA pair with stride, padding and dilation
    (what makes each the other's gradient), and im2col agrees with the CPU kernel."""
    from tinytape.ops.windows import Col2Im, Im2Col
    geometry = (2, 2, 5, 4, 2, 3, 2, 1, 1, 2, 2, 1, 2, 4)
    rng = _rng()
    x_np, y_np = rng.standard_normal(geometry[:4]), rng.standard_normal((2 * 2 * 3, 2 * 2 * 4))
    x, y = tt.tensor(x_np, device="cuda"), tt.tensor(y_np, device="cuda")
    cols = Im2Col.apply(x, geometry, 0.0)
    np.testing.assert_allclose(cols.cpu().numpy(), Im2Col.apply(tt.tensor(x_np), geometry, 0.0).numpy())
    left = (cols * y).sum().item()
    right = (x * Col2Im.apply(y, geometry)).sum().item()
    assert abs(left - right) < 1e-10


def test_max_pool_indices_match_pytorch():
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 8))
    x[0, 0, :2, :2] = 1.5  # a tie: the first in scan order wins, as PyTorch's
    cases = [((3, 2, 1), {}), ((2, 2, 1, 2), {"ceil_mode": True}), (((2, 3),), {})]
    for args, kwargs in cases:
        values, indices = F.max_pool2d(tt.tensor(x), *args, return_indices=True, **kwargs)
        expected = pytorch(lambda torch, x: torch.nn.functional.max_pool2d(torch.tensor(x), *args,
                                                                             return_indices=True, **kwargs), x)
        np.testing.assert_array_equal(values.numpy(), expected[0].numpy())
        np.testing.assert_array_equal(indices.numpy(), expected[1].numpy())
        assert indices.dtype == tt.int64 and not indices.requires_grad
    # windows whose inputs are all -inf tie with the padding: the input wins, as PyTorch's
    x_inf = np.full((1, 1, 3, 4), -np.inf)
    x_inf[0, 0, 2, 3] = 1.0
    for args in ((2, 2, 1), (3, 2, 1, 2, True)):
        leaf = tt.tensor(x_inf, requires_grad=True)
        values, indices = F.max_pool2d(leaf, *args, return_indices=True)
        values.sum().backward()

        def answer(torch, x, args=args):
            leaf = torch.tensor(x, requires_grad=True)
            values, indices = torch.nn.functional.max_pool2d(leaf, *args, return_indices=True)
            values.sum().backward()
            return values, indices, leaf.grad
        expected = pytorch(answer, x_inf)
        np.testing.assert_array_equal(values.detach().numpy(), expected[0].numpy())
        np.testing.assert_array_equal(indices.numpy(), expected[1].numpy())
        np.testing.assert_array_equal(leaf.grad.numpy(), expected[2].numpy())
    values, indices = F.max_pool1d(tt.tensor(x[0]), 3, 2, 1, return_indices=True)
    expected = pytorch(lambda torch, x: torch.nn.functional.max_pool1d(torch.tensor(x), 3, 2, 1, return_indices=True),
                       x[0])
    np.testing.assert_array_equal(indices.numpy(), expected[1].numpy())


def test_max_pool_gradient_of_shared_maximum_accumulates():
    """Overlapping windows that pick the same element add their gradients there."""
    x = tt.tensor([[[[0.0, 1.0, 0.0], [0.0, 9.0, 0.0], [0.0, 2.0, 0.0]]]], requires_grad=True)
    F.max_pool2d(x, 2, 1).sum().backward()
    assert x.grad.tolist() == [[[[0.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 0.0]]]]


# ---------------------------------------------------------------- modules

MODULES = {
    "conv2d": (lambda lib: lib.nn.Conv2d(3, 4, 3), (2, 3, 6, 5)),
    "conv2d_full": (lambda lib: lib.nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                                              groups=2, bias=False), (2, 4, 7, 6)),
    "conv2d_same_reflect": (lambda lib: lib.nn.Conv2d(2, 3, 3, padding="same", padding_mode="reflect"), (2, 2, 5, 6)),
    "conv2d_replicate": (lambda lib: lib.nn.Conv2d(2, 3, 3, padding=2, padding_mode="replicate"), (1, 2, 4, 4)),
    "conv2d_circular_even": (lambda lib: lib.nn.Conv2d(2, 2, (2, 4), padding="same", padding_mode="circular"),
                             (2, 2, 5, 6)),
    "conv1d": (lambda lib: lib.nn.Conv1d(3, 4, 3, stride=2, padding=1), (2, 3, 9)),
    "conv1d_circular": (lambda lib: lib.nn.Conv1d(2, 4, 3, padding=1, groups=2, padding_mode="circular"), (2, 7)),
    "max_pool2d": (lambda lib: lib.nn.MaxPool2d(2), (2, 3, 5, 6)),
    "max_pool1d": (lambda lib: lib.nn.MaxPool1d(3, 1, 1), (2, 3, 6)),
    "avg_pool2d": (lambda lib: lib.nn.AvgPool2d(3, 2, 1, count_include_pad=False), (2, 3, 5, 6)),
    "avg_pool1d": (lambda lib: lib.nn.AvgPool1d(2), (2, 3, 6)),
    "adaptive_avg_pool2d": (lambda lib: lib.nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 5, 7)),
    "adaptive_avg_pool1d": (lambda lib: lib.nn.AdaptiveAvgPool1d(4), (2, 3, 7)),
    "batch_norm2d": (lambda lib: lib.nn.BatchNorm2d(3), (4, 3, 2, 3)),
    "batch_norm1d_eval": (lambda lib: lib.nn.BatchNorm1d(3).eval(), (4, 3, 5)),
    "batch_norm1d_no_affine": (lambda lib: lib.nn.BatchNorm1d(3, affine=False, momentum=None), (4, 3)),
    "batch_norm2d_no_bias": (lambda lib: lib.nn.BatchNorm2d(2, bias=False), (3, 2, 2, 2)),
    "unflatten": (lambda lib: lib.nn.Unflatten(1, (2, -1)), (3, 6)),
    "small_cnn": (lambda lib: lib.nn.Sequential(
        lib.nn.Conv2d(1, 4, 3, padding=1), lib.nn.BatchNorm2d(4), lib.nn.ReLU(), lib.nn.MaxPool2d(2),
        lib.nn.Conv2d(4, 4, 3), lib.nn.ReLU(), lib.nn.AdaptiveAvgPool2d(1), lib.nn.Flatten(),
        lib.nn.Linear(4, 3), lib.nn.Unflatten(1, (3, 1))), (2, 1, 8, 8)),
}


@pytest.mark.parametrize("name, device", [(n, "cpu") for n in sorted(MODULES)]
                         + [pytest.param(n, "cuda", marks=pytest.mark.gpu)
                            for n in ("batch_norm2d", "conv1d_circular")])
def test_module_matches_pytorch_with_its_state_dict(name, device):
    """PyTorch's parameters and buffers load by name and shape; the output, the input's
    and every parameter's gradient, the updated buffers and the repr are PyTorch's."""
    make, shape = MODULES[name]
    rng = _rng()
    ours = make(tt)

    def state_of(torch):
        theirs = make(torch).double()
        state = {k: v.numpy().copy() for k, v in theirs.state_dict().items()}
        return {k: (v if v.dtype != np.float64 else rng_state[k]) for k, v in state.items()}, repr(theirs)
    rng_state = {k: rng.standard_normal(tuple(v.shape)) + (1.5 if "var" in k else 0.0)
                 for k, v in ours.state_dict().items()}
    state, theirs_repr = pytorch(state_of)
    assert repr(ours) == theirs_repr
    assert sorted(state) == sorted(ours.state_dict())
    ours = ours.to(device, tt.float64)
    ours.load_state_dict({k: tt.tensor(v) for k, v in state.items()})
    x_np = rng.standard_normal(shape)
    weights = rng.standard_normal(tuple(ours(tt.tensor(x_np, device=device)).shape))
    x = tt.tensor(x_np, device=device, requires_grad=True)
    out = ours(x)
    (out * tt.tensor(weights, device=device)).sum().backward()

    def answer(torch, state, x_np, weights):
        theirs = make(torch).double()
        theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
        theirs(torch.tensor(x_np))  # the same two calls as ours (buffers move twice in training)
        xt = torch.tensor(x_np, requires_grad=True)
        result = theirs(xt)
        (result * torch.tensor(weights)).sum().backward()
        return (result, xt.grad, [q.grad for _, q in theirs.named_parameters()],
                {k: v for k, v in theirs.state_dict().items()})
    expected, expected_grad, parameter_grads, buffers = pytorch(answer, state, x_np, weights)
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected.numpy(), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(x.grad.cpu().numpy(), expected_grad.numpy(), rtol=1e-9, atol=1e-12)
    for (n, p), q in zip(ours.named_parameters(), parameter_grads):
        np.testing.assert_allclose(p.grad.cpu().numpy(), q.numpy(), rtol=1e-9, atol=1e-11, err_msg=n)
    for k, v in ours.state_dict().items():
        np.testing.assert_allclose(v.cpu().numpy(), buffers[k].numpy(), rtol=1e-12, atol=1e-12, err_msg=k)


def test_conv_default_initialisation_follows_pytorchs_formula():
    """kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
    the bias, fan_in = in_channels / groups * prod(kernel_size)."""
    tt.manual_seed(0)
    conv = nn.Conv2d(8, 16, (3, 5), groups=2)
    assert tuple(conv.weight.shape) == (16, 4, 3, 5) and tuple(conv.bias.shape) == (16,)
    bound = 1 / math.sqrt(4 * 3 * 5)
    for p in (conv.weight, conv.bias):
        values = p.detach().numpy()
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.8 * bound
    assert abs(conv.weight.detach().numpy().std() - bound / math.sqrt(3)) < 0.1 * bound
    bn = nn.BatchNorm2d(5)
    assert bn.weight.tolist() == [1.0] * 5 and bn.bias.tolist() == [0.0] * 5
    assert bn.running_var.tolist() == [1.0] * 5 and bn.num_batches_tracked.dtype == tt.int64


def test_batch_norm_running_statistics_over_steps_match_pytorch():
    """momentum 0.1 and None (the cumulative average), track_running_stats off, then eval."""
    rng = _rng()
    batches = [rng.standard_normal((4, 3, 2, 2)) * (i + 1) for i in range(4)]
    for momentum in (0.1, None):
        bn = nn.BatchNorm2d(3, momentum=momentum).double()
        for b in batches:
            bn(tt.tensor(b))

        def answer(torch, batches, momentum=momentum):
            theirs = torch.nn.BatchNorm2d(3, momentum=momentum).double()
            for b in batches:
                theirs(torch.tensor(b))
            theirs.eval()
            return theirs.running_mean, theirs.running_var, theirs.num_batches_tracked, theirs(torch.tensor(batches[0]))
        mean, var, count, evaluated = pytorch(answer, batches)
        np.testing.assert_allclose(bn.running_mean.numpy(), mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(bn.running_var.numpy(), var.numpy(), rtol=1e-12)
        assert bn.num_batches_tracked.item() == count.item() == 4
        bn.eval()
        np.testing.assert_allclose(bn(tt.tensor(batches[0])).detach().numpy(), evaluated.numpy(), rtol=1e-12)
    free = nn.BatchNorm1d(3, track_running_stats=False)
    assert free.running_mean is None and free.num_batches_tracked is None
    out = free.eval()(tt.tensor(batches[0][:, :, 0, 0], dtype=tt.float32)).detach()  # batch statistics in eval too
    np.testing.assert_allclose(out.numpy().mean(0), 0.0, atol=1e-6)


def test_modules_run_under_compile_as_eagerly():
    """A CNN training step through ``tinytape.compile`` gives the eager step's losses and
    running statistics; a fallback to eager (a warning) fails the test."""
    def run(compiled):
        tt.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(3, 2, 2, padding_mode="reflect", padding=1), nn.AvgPool2d(2, 1),
                              nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 2))
        opt = tt.optim.SGD(model.parameters(), lr=0.1)
        x, y = tt.randn(2, 1, 6, 6), tt.randn(2, 2)

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        step = tt.compile(step) if compiled else step
        losses = [step(x, y).item() for _ in range(4)]
        return losses, model[1].running_var.tolist(), model[1].num_batches_tracked.item()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled = run(True)
    assert compiled == run(False)


# ---------------------------------------------------------------- errors

BAD_CALLS = {
    "conv channels": (lambda: F.conv2d(tt.ones(1, 3, 4, 4), tt.ones(2, 2, 3, 3)),
                      r"Given groups=1, weight of size \[2, 2, 3, 3\], expected input\[1, 3, 4, 4\] to have 2 channels"),
    "conv groups": (lambda: F.conv2d(tt.ones(1, 4, 4, 4), tt.ones(3, 2, 3, 3), groups=2),
                    r"Given groups=2, expected weight to be divisible by 2"),
    "conv kernel too big": (lambda: F.conv2d(tt.ones(1, 2, 2, 2), tt.ones(3, 2, 3, 3)),
                            r"Calculated padded input size per channel: \(2 x 2\). Kernel size: \(3 x 3\)"),
    "conv input rank": (lambda: F.conv2d(tt.ones(2, 2), tt.ones(3, 2, 3, 3)),
                        r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of "
                        r"size: \[2, 2\]"),
    "conv1d weight rank": (lambda: F.conv1d(tt.ones(1, 2, 4), tt.ones(3, 2, 3, 3)),
                           r"Expected 4-dimensional input for 4-dimensional weight \[3, 2, 3, 3\]"),
    "conv bias": (lambda: F.conv2d(tt.ones(1, 2, 4, 4), tt.ones(3, 2, 3, 3), tt.ones(2)),
                  r"Given weight of size \[3, 2, 3, 3\], expected bias to be 1-dimensional with 3 elements"),
    "conv same strided": (lambda: F.conv2d(tt.ones(1, 2, 4, 4), tt.ones(3, 2, 3, 3), stride=2, padding="same"),
                          "padding='same' is not supported for strided convolutions"),
    "conv stride": (lambda: F.conv2d(tt.ones(1, 2, 4, 4), tt.ones(3, 2, 3, 3), stride=0),
                    "non-positive stride is not supported"),
    "conv dtype": (lambda: F.conv2d(tt.ones(1, 2, 4, 4, dtype=tt.float64), tt.ones(3, 2, 3, 3)),
                   "expected scalar type Double but found Float"),
    "pool padding": (lambda: F.max_pool2d(tt.ones(1, 1, 4, 4), 2, padding=2),
                     "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1"),
    "pool too small": (lambda: F.max_pool2d(tt.ones(1, 1, 2, 2), 3),
                       r"Given input size: \(1x2x2\). Calculated output size: \(1x0x0\). Output size is"),
    "pool rank": (lambda: F.max_pool2d(tt.ones(4, 4), 2), r"^non-empty 3D or 4D \(batch mode\) tensor expected for input$"),
    "avg pool padding": (lambda: F.avg_pool2d(tt.ones(1, 1, 4, 4), 2, padding=2), "pad should be at most half"),
    "reflect too wide": (lambda: F.pad(tt.ones(1, 1, 3), (3, 3), mode="reflect"),
                         r"Padding size should be less than the corresponding input dimension, but got: padding "
                         r"\(3, 3\) at dimension 2 of input \[1, 1, 3\]"),
    "circular wraps twice": (lambda: F.pad(tt.ones(1, 1, 3), (4, 4), mode="circular"),
                             "Padding value causes wrapping around more than once"),
    "batch_norm one value": (lambda: F.batch_norm(tt.ones(1, 3), tt.zeros(3), tt.ones(3), training=True),
                             r"Expected more than 1 value per channel when training, got input size"),
    "batch_norm sizes": (lambda: F.batch_norm(tt.ones(2, 3), tt.zeros(4), tt.ones(4)),
                         "running_mean should contain 3 elements not 4"),
    "BatchNorm2d rank": (lambda: nn.BatchNorm2d(3)(tt.ones(2, 3, 4)), r"expected 4D input \(got 3D input\)"),
    "Conv2d groups": (lambda: nn.Conv2d(3, 4, 3, groups=2), "in_channels must be divisible by groups"),
    "Conv2d padding mode": (lambda: nn.Conv2d(3, 4, 3, padding_mode="mirror"), "padding_mode must be one of"),
    "Unflatten sizes": (lambda: nn.Unflatten(1, (2, 4))(tt.ones(2, 6)),
                        r"unflatten: Provided sizes \[2, 4\] don't multiply up to the size of dim 1 \(6\)"),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_calls_raise_pytorchs_error_type_naming_op_and_shapes(case):
    call, message = BAD_CALLS[case]
    with pytest.raises((RuntimeError, ValueError)) as ours:
        call()
    assert ours.match(message)

    def theirs(torch, case):
        namespace = {"tt": torch, "F": torch.nn.functional, "nn": torch.nn}
        fn = BAD_CALLS[case][0]
        rebound = type(fn)(fn.__code__, {**fn.__globals__, **namespace})
        try:
            rebound()
        except Exception as e:
            return type(e).__name__
        return None
    assert type(ours.value).__name__ == pytorch(theirs, case)


def test_window_kernels_check_their_buffers():
    """The CPU kernels refuse buffers smaller than the geometry (numba checks nothing);
    the backend refuses a geometry that does not fit the image."""
    from tinytape.backend.cpu import windows
    geometry = (1, 1, 4, 4, 2, 2, 1, 1, 0, 0, 1, 1, 3, 3)
    with pytest.raises(IndexError, match="im2col"):
        windows.im2col(np.zeros(15), np.zeros(36), geometry, 0.0)
    with pytest.raises(IndexError, match="col2im"):
        windows.col2im(np.zeros(35), np.zeros(16), geometry)
    backend = tt.ones(1)._backend
    with pytest.raises(ValueError, match="im2col: window geometry"):
        backend.im2col(np.zeros((1, 1, 4, 5)), geometry)
    cols = backend.im2col(np.arange(16.0).reshape(1, 1, 4, 4), geometry)
    assert cols.shape == (4, 9) and cols[3].tolist() == [5.0, 6.0, 7.0, 9.0, 10.0, 11.0, 13.0, 14.0, 15.0]
