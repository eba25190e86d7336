"""Against PyTorch's recorded answers: ``gumbel_softmax`` (seeded draws), max unpooling,
power-average pooling and the ``*_scatter`` functions (values, dtypes, grad_fn names, errors),
with their gradients checked by finite differences; the cuda variants run the CUDA path
(numba's simulator without a GPU)."""
import numpy as np
import pytest

import tinytape as tt
from helpers import check_grad
from test_breadth3 import DEVICES, check

F = tt.nn.functional
WEIGHTS = np.linspace(-1.0, 2.0, 1000)


def _weighted_sum(torch, out):
    """A loss whose gradient differs per element."""
    w = torch.tensor(WEIGHTS[:out.numel()].reshape(tuple(out.shape)), dtype=out.dtype).to(out.device)
    return (out * w).sum()


# ---------------------------------------------------------------- gumbel_softmax


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_seeded_draws_and_straight_through_gradient(hard, device):
    logits = np.linspace(-2, 2, 24).reshape(2, 3, 4)

    def run(torch, dev, x):
        torch.manual_seed(5)
        leaf = torch.tensor(x, requires_grad=True)
        soft = torch.nn.functional.gumbel_softmax(leaf.to(dev), tau=0.5, hard=hard, dim=1)
        again = torch.nn.functional.gumbel_softmax(leaf.float().to(dev), hard=hard)
        _weighted_sum(torch, soft).backward()
        return [soft, again, leaf.grad]
    check(run, logits, device=device, rtol=1e-6, atol=1e-6)


def test_gumbel_softmax_eps_is_deprecated():
    with pytest.warns(UserWarning, match="deprecated"):
        F.gumbel_softmax(tt.zeros(3), eps=1e-3)


def test_gumbel_softmax_gradient_by_finite_differences():
    def fn(x):
        tt.manual_seed(0)
        return F.gumbel_softmax(x, tau=0.7)
    check_grad(fn, np.random.default_rng(1).normal(size=(3, 4)))


# ---------------------------------------------------------------- max unpooling


@pytest.mark.parametrize("device", DEVICES)
def test_max_unpool_after_max_pool_with_indices(device):
    image = np.random.default_rng(0).normal(size=(1, 2, 5, 6))

    def run(torch, dev, x):
        F = torch.nn.functional
        leaf = torch.tensor(x, requires_grad=True)
        img = leaf.to(dev)
        out, idx = F.max_pool2d(img, 2, return_indices=True)
        two = F.max_unpool2d(out, idx, 2, output_size=(5, 6))
        one = torch.nn.MaxUnpool1d(2)(*F.max_pool1d(img[0], 2, return_indices=True))
        overlap = torch.nn.MaxUnpool2d(3, 2, 1)(*F.max_pool2d(img, 3, 2, 1, return_indices=True), output_size=(5, 6))
        three = torch.nn.MaxUnpool3d(2)(*F.max_pool3d(img[None], 2, return_indices=True))
        (_weighted_sum(torch, two) + _weighted_sum(torch, one) + _weighted_sum(torch, overlap)
         + _weighted_sum(torch, three)).backward()
        return [two, one, overlap, three, leaf.grad, repr(torch.nn.MaxUnpool1d(3, 2, 1)),
                repr(torch.nn.MaxUnpool2d(2))]
    check(run, image, device=device, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", ["size", "length", "index", "dtype"])
def test_max_unpool_errors(case):
    def run(torch, dev):
        F = torch.nn.functional
        out, idx = F.max_pool2d(torch.ones(1, 1, 4, 4), 2, return_indices=True)
        if case == "size":
            return F.max_unpool2d(out, idx, 2, output_size=(9, 4))
        if case == "length":
            return F.max_unpool2d(out, idx, 2, output_size=(4,))
        if case == "index":
            return F.max_unpool2d(out, torch.where(idx == idx.max(), idx + 20, idx), 2)  # one bad index
        return F.max_unpool2d(out, idx.int(), 2)
    check(run)


def test_max_unpool_gradient_by_finite_differences():
    idx = tt.tensor([[[0, 3], [5, 6]]]).reshape(1, 1, 2, 2)
    check_grad(lambda x: F.max_unpool2d(x, idx, 2), np.random.default_rng(2).normal(size=(1, 1, 2, 2)))


# ---------------------------------------------------------------- power-average pooling


@pytest.mark.parametrize("device", DEVICES)
def test_lp_pool_values_gradients_and_reprs(device):
    image = np.random.default_rng(3).normal(size=(1, 2, 5, 6))

    def run(torch, dev, x):
        F = torch.nn.functional
        leaf = torch.tensor(x, requires_grad=True)
        img = leaf.to(dev)
        outs = [F.lp_pool2d(img, 2, (2, 3), ceil_mode=True), torch.nn.LPPool1d(1.5, 3, 2)(img[0].abs() + 0.1),
                F.lp_pool1d(img[0], 3, 2), torch.nn.LPPool2d(float("inf"), 2)(img),
                F.lp_pool3d(img[None], 2, 2)]
        sum(_weighted_sum(torch, o) for o in outs).backward()
        return outs + [leaf.grad, repr(torch.nn.LPPool2d(2, 3)), repr(torch.nn.LPPool1d(1.5, 2, 1, ceil_mode=True))]
    check(run, image, device=device, rtol=1e-12, atol=1e-12)


def test_lp_pool_norm_zero_and_gradient():
    with pytest.raises(ValueError, match="non-zero"):
        F.lp_pool2d(tt.ones(1, 1, 2, 2), 0, 2)
    check_grad(lambda x: F.lp_pool2d(x, 2, 2), np.random.default_rng(4).normal(size=(1, 1, 4, 4)))
    check_grad(lambda x: F.lp_pool1d(x, 3, 2), np.random.default_rng(5).normal(size=(1, 2, 4)) + 3.0)


# ---------------------------------------------------------------- slice, select and diagonal scatter


@pytest.mark.parametrize("device", DEVICES)
def test_scatter_into_views_values_gradients_and_names(device):
    def run(torch, dev, x, y):
        a, s = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
        base, src = a.to(dev), s.to(dev)
        outs = [torch.slice_scatter(base, src, 0, 1, 3), base.select_scatter(src[:, 0].repeat(2), 1, 2),
                torch.diagonal_scatter(base, src[0, :3] * 2, 2), base.slice_scatter(src.reshape(5, 2)[:4], dim=1,
                                                                                  start=-3, step=2),
                torch.diagonal_scatter(base, src[1, :3], -1, 1, 0), torch.select_scatter(base, src[0], 0, -1)]
        sum(_weighted_sum(torch, o) for o in outs).backward()
        ints = torch.slice_scatter(torch.zeros(4, 5, dtype=torch.int64), torch.ones(2, 5), 0, 1, 3)
        return outs + [a.grad, s.grad, ints]
    check(run, np.arange(20.0).reshape(4, 5), -np.arange(10.0).reshape(2, 5), device=device)


@pytest.mark.parametrize("case", ["slice_shape", "select_index", "dim", "step", "diagonal_shape", "same_dims"])
def test_scatter_into_views_errors(case):
    def run(torch, dev):
        a = torch.zeros(4, 5)
        return {"slice_shape": lambda: torch.slice_scatter(a, torch.ones(2, 4), 0, 1, 3),
                "select_index": lambda: torch.select_scatter(a, torch.ones(5), 0, 7),
                "dim": lambda: torch.slice_scatter(a, torch.ones(4, 2), 3),
                "step": lambda: torch.slice_scatter(a, torch.ones(4, 2), 1, step=0),
                "diagonal_shape": lambda: torch.diagonal_scatter(a, torch.ones(3)),
                "same_dims": lambda: torch.diagonal_scatter(a, torch.ones(4), 0, 1, 1)}[case]()
    check(run)


def test_scatter_into_views_gradients_by_finite_differences():
    rng = np.random.default_rng(6)
    check_grad(lambda a, s: tt.slice_scatter(a, s, 1, 0, 4, 2), rng.normal(size=(3, 4)), rng.normal(size=(3, 2)),
               second_order=True)
    check_grad(lambda a, s: tt.select_scatter(a, s, 0, 1), rng.normal(size=(3, 4)), rng.normal(size=4))
    check_grad(lambda a, s: tt.diagonal_scatter(a, s, -1), rng.normal(size=(3, 4)), rng.normal(size=2))


# ---------------------------------------------------------------- ConvTranspose3d


@pytest.mark.parametrize("device", DEVICES)
def test_conv_transpose3d_module_and_function(device):
    volume = np.random.default_rng(7).normal(size=(2, 4, 2, 3, 2))

    def run(torch, dev, x):
        torch.manual_seed(0)
        layer = torch.nn.ConvTranspose3d(4, 6, (2, 3, 2), stride=(2, 1, 2), padding=(0, 1, 1), output_padding=(1, 0, 1),
                                         groups=2, dilation=(1, 2, 1)).to(dev)
        leaf = torch.tensor(x, requires_grad=True)
        out = layer(leaf.float().to(dev))
        plain = torch.nn.functional.conv_transpose3d(leaf.to(dev)[0], layer.weight.double().to(dev), stride=2)
        (_weighted_sum(torch, out) + _weighted_sum(torch, plain)).backward()
        return [out, plain, leaf.grad, layer.weight.grad, layer.bias.grad, repr(layer)]
    check(run, volume, device=device, rtol=1e-5, atol=1e-5)


def test_conv_transpose3d_errors_and_gradient():
    def run(torch, dev):
        return torch.nn.functional.conv_transpose3d(torch.ones(1, 3, 2, 2, 2), torch.ones(2, 1, 1, 1, 1))
    check(run)
    check_grad(lambda x, w, b: F.conv_transpose3d(x, w, b, stride=(1, 2, 1), padding=(0, 0, 1)),
               np.random.default_rng(8).normal(size=(1, 2, 2, 2, 3)), np.random.default_rng(9).normal(size=(2, 1, 2, 2, 2)),
               np.random.default_rng(10).normal(size=1))


# ---------------------------------------------------------------- view(dtype), bitwise in place


@pytest.mark.parametrize("device", DEVICES)
def test_view_as_another_dtype_shares_memory(device):
    def run(torch, dev):
        x = torch.tensor([1.0, -2.0, 0.5, 3.0], requires_grad=True).to(dev)
        out = [x.view(torch.int32), x.view(torch.int32).requires_grad, x.view(torch.float32).requires_grad]
        a = torch.tensor([1.0, 2.0, -4.0, 8.0]).to(dev)
        bits = a.view(torch.int32)
        bits[0] = 0
        bits.add_(1)
        out += [a.clone(), a._version, bits._version]
        a.mul_(2)
        out += [bits.clone(), torch.tensor([1, 2], dtype=torch.int64).to(dev).view(torch.float64),
                torch.arange(6.0, dtype=torch.float64).reshape(2, 3).to(dev).view(torch.int64)]
        z = torch.arange(8.0).reshape(2, 4).to(dev)
        out += [z.view(torch.float64), z.view(torch.int16), z.view(torch.uint8), z[:, 2:].view(torch.float64),
                z.t().view(torch.int32), z.view(torch.bfloat16).float()]
        return out
    check(run, device=device)


@pytest.mark.parametrize("case", ["odd_size", "stride", "last_stride", "scalar"])
def test_view_as_another_dtype_errors(case):
    def run(torch, dev):
        source, dtype = {"odd_size": (torch.zeros(3), torch.float64), "stride": (torch.zeros(2, 3)[:, :2], torch.float64),
                         "last_stride": (torch.zeros(2, 2).t(), torch.int16),
                         "scalar": (torch.tensor(1.0), torch.int16)}[case]
        return source.view(dtype)
    check(run)


@pytest.mark.parametrize("device", DEVICES)
def test_bitwise_in_place(device):
    def run(torch, dev):
        i = torch.tensor([12, 10, 7], dtype=torch.int32).to(dev)
        j, k, m = i.clone(), i.clone(), torch.tensor([True, False]).to(dev)
        j &= 6
        k |= torch.tensor([1, 1, 8], dtype=torch.int32).to(dev)
        m ^= True
        out = [j, k, m, i.clone().bitwise_xor_(5), i.clone().bitwise_or_(16), i.bitwise_and_(3), i]
        try:
            torch.ones(2).to(dev).bitwise_and_(1)
        except NotImplementedError as error:
            out.append(str(error).replace("cuda", "cpu"))
        return out
    check(run, device=device)


# ---------------------------------------------------------------- tinytape.compile replays them

COMPILED = {
    "grid_sample": (lambda x, w: F.grid_sample(x, w, padding_mode="reflection", align_corners=False).pow(2).sum(),
                    (1, 1, 3, 3), (1, 2, 2, 2)),
    "bicubic": (lambda x, w: (F.interpolate(x, scale_factor=2, mode="bicubic") * w).sum(), (1, 1, 3, 3), (6, 6)),
    "affine_grid": (lambda x, w: F.affine_grid(x, (1, 1, 3, 3), align_corners=False).pow(2).mul(w).sum(),
                    (1, 2, 3), (3, 3, 2)),
    "slice_scatter": (lambda x, w: tt.slice_scatter(x, w, 0, 1, 3).pow(2).sum(), (4, 5), (2, 5)),
    "diagonal_scatter": (lambda x, w: tt.diagonal_scatter(x, w, 1).pow(2).sum(), (4, 5), (4,)),
    "lp_pool": (lambda x, w: (F.lp_pool2d(x, 2, 2) * w).sum(), (1, 1, 4, 4), (2, 2)),
    "conv_transpose3d": (lambda x, w: F.conv_transpose3d(x, w, stride=2).pow(2).sum(), (1, 2, 2, 2, 2),
                         (2, 1, 2, 2, 2)),
}


@pytest.mark.parametrize("name", COMPILED)
def test_compiled_equals_eager(name):
    f, shape_x, shape_w = COMPILED[name]

    def run(x, w):
        loss = f(x, w)
        return (loss,) + tuple(tt.autograd.grad(loss, [x, w]))
    compiled = tt.compile(run, fullgraph=True)
    rng = np.random.default_rng(11)
    for _ in range(2):  # the first call traces, the second replays with new values
        x, w = (tt.tensor(rng.normal(size=s), requires_grad=True) for s in (shape_x, shape_w))
        for got, want in zip(compiled(x, w), run(x, w)):
            np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert compiled.traces == 1


def test_lazy_3d_convolutions_become_their_eager_modules():
    def run(torch, dev):
        torch.manual_seed(0)
        up = torch.nn.LazyConvTranspose3d(4, 2, stride=2)
        out = up(torch.ones(1, 3, 2, 2, 2))
        torch.manual_seed(1)
        conv = torch.nn.LazyConv3d(4, 2)
        return [type(up).__name__, repr(up), out, up.weight, type(conv).__name__, conv(torch.ones(3, 3, 3, 3))]
    check(run, rtol=1e-6, atol=1e-6)
