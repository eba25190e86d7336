"""Against PyTorch's recorded answers: ``EmbeddingBag`` and the 3-d layers (values, dtypes,
grad_fn names, errors), with their gradients checked by finite differences on the CPU and on
the CUDA path (numba's simulator without a GPU).  The comparison helpers are test_breadth3's."""
import numpy as np
import pytest

import tinytape as tt
from helpers import check_grad
from test_breadth3 import DEVICES, check


# ---------------------------------------------------------------- 5. EmbeddingBag

BAGS = {
    "offsets": dict(offsets=[0, 2, 2, 5]),
    "padding": dict(offsets=[0, 2, 2, 5], padding_idx=4),
    "last_offset": dict(offsets=[0, 2, 2, 5, 8], include_last_offset=True),
    "rows": dict(rows=True),
    "rows_padding": dict(rows=True, padding_idx=2),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("bags", BAGS)
def test_embedding_bag_values_gradients_and_names(bags, mode, device):
    spec = dict(BAGS[bags])
    table = np.random.default_rng(4).normal(size=(6, 3)).astype(np.float32)
    indices = np.array([1, 2, 4, 5, 4, 3, 2, 0])

    def run(torch, dev, w, idx):
        F = torch.nn.functional
        weight = torch.tensor(w, requires_grad=True)
        kwargs = {k: v for k, v in spec.items() if k in ("padding_idx", "include_last_offset")}
        if spec.get("rows"):
            out = F.embedding_bag(torch.tensor(idx).reshape(2, 4).to(dev), weight.to(dev), mode=mode, **kwargs)
        else:
            out = F.embedding_bag(torch.tensor(idx).to(dev), weight.to(dev), torch.tensor(spec["offsets"]).to(dev),
                                  mode=mode, **kwargs)
        (out * torch.arange(1.0, out.numel() + 1).reshape(out.shape).to(dev)).sum().backward()
        return [out, weight.grad]
    check(run, table, indices, device=device, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_embedding_bag_per_sample_weights_and_frequency_scaling(device):
    table = np.random.default_rng(5).normal(size=(6, 3))
    weights = np.random.default_rng(6).normal(size=8)

    def run(torch, dev, w, p):
        F = torch.nn.functional
        weight, per_sample = torch.tensor(w, requires_grad=True), torch.tensor(p, requires_grad=True)
        idx, offsets = torch.tensor([1, 2, 4, 5, 4, 3, 2, 0]).to(dev), torch.tensor([0, 2, 2, 5]).to(dev)
        out = F.embedding_bag(idx, weight.to(dev), offsets, mode="sum", per_sample_weights=per_sample.to(dev),
                              padding_idx=3)
        (out * torch.arange(1.0, 13.0, dtype=out.dtype).reshape(4, 3).to(dev)).sum().backward()
        scaled = torch.tensor(w, requires_grad=True)
        F.embedding_bag(idx, scaled.to(dev), offsets, mode="mean", scale_grad_by_freq=True).pow(2).sum().backward()
        return [out, weight.grad, per_sample.grad, scaled.grad]
    check(run, table, weights, device=device, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_gradcheck(mode, device):
    F = tt.nn.functional
    idx, offsets = tt.tensor([1, 2, 4, 5, 4, 3, 2, 0]), tt.tensor([0, 2, 2, 5])
    table = np.random.default_rng(7).normal(size=(6, 3))
    check_grad(lambda w: F.embedding_bag(idx.to(device), w.to(device), offsets.to(device), mode=mode,
                                         padding_idx=2) ** 2, table, second_order=device == "cpu")
    if mode == "sum":
        check_grad(lambda w, p: F.embedding_bag(idx.to(device), w.to(device), offsets.to(device), mode="sum",
                                                per_sample_weights=p.to(device)) ** 2,
                   table, np.random.default_rng(8).normal(size=8), second_order=device == "cpu")


def test_embedding_bag_module():
    def run(torch, dev):
        torch.manual_seed(0)
        bag = torch.nn.EmbeddingBag(5, 2, padding_idx=1)
        other = torch.nn.EmbeddingBag(10, 3, mode="max", max_norm=1.0, include_last_offset=True, padding_idx=2)
        pretrained = torch.nn.EmbeddingBag.from_pretrained(torch.arange(6.0).reshape(3, 2), mode="sum")
        return [repr(bag), repr(other), bag.weight, bag(torch.tensor([[0, 1], [2, 3]])),
                pretrained(torch.tensor([0, 2, 1]), torch.tensor([0, 1])), pretrained.weight.requires_grad]
    check(run, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("expr", ["psw_mean", "rows_offsets", "no_offsets", "first_offset", "mode", "float_input",
                                  "range", "last_offset", "psw_shape", "float_offsets"])
def test_embedding_bag_errors(expr):
    def run(torch, dev):
        F = torch.nn.functional
        w, idx, off = torch.zeros(6, 2), torch.tensor([1, 2, 4, 5, 4, 3, 2, 0]), torch.tensor([0, 2, 2, 5])
        return {"psw_mean": lambda: F.embedding_bag(idx, w, off, per_sample_weights=torch.ones(8), mode="mean"),
                "rows_offsets": lambda: F.embedding_bag(idx.reshape(2, 4), w, off),
                "no_offsets": lambda: F.embedding_bag(idx, w),
                "first_offset": lambda: F.embedding_bag(idx, w, torch.tensor([1, 2])),
                "mode": lambda: F.embedding_bag(idx, w, off, mode="foo"),
                "float_input": lambda: F.embedding_bag(idx.float(), w, off),
                "range": lambda: F.embedding_bag(torch.tensor([9]), w, torch.tensor([0])),
                "last_offset": lambda: F.embedding_bag(idx, w, torch.tensor([0, 9])),
                "psw_shape": lambda: F.embedding_bag(idx, w, off, per_sample_weights=torch.ones(7), mode="sum"),
                "float_offsets": lambda: F.embedding_bag(idx, w, off.float())}[expr]()
    check(run)


# ---------------------------------------------------------------- 6. three spatial dimensions

VOLUME = np.random.default_rng(9).normal(size=(2, 4, 5, 6, 7))
FILTERS = np.random.default_rng(10).normal(size=(6, 2, 2, 3, 2))

VOLUMETRIC = {
    "conv3d": lambda F, x, w: F.conv3d(x, w, w.sum((1, 2, 3, 4)), stride=(2, 1, 2), padding=(1, 0, 1),
                                       dilation=(2, 1, 1), groups=2),
    "conv3d_same": lambda F, x, w: F.conv3d(x, w[:, :, :, :, :1].repeat(1, 2, 1, 1, 1), padding="same"),
    "conv3d_unbatched": lambda F, x, w: F.conv3d(x[0], w[:, :1].repeat(1, 4, 1, 1, 1), stride=2),
    "max_pool3d": lambda F, x, w: F.max_pool3d(x, 2, return_indices=True),
    "max_pool3d_dilated": lambda F, x, w: F.max_pool3d(x, (3, 2, 1), dilation=(1, 2, 1), ceil_mode=True,
                                                       return_indices=True),
    "max_pool3d_padded": lambda F, x, w: F.max_pool3d(x[0], (2, 3, 2), stride=(1, 2, 2), padding=1,
                                                      return_indices=True),
    "avg_pool3d": lambda F, x, w: F.avg_pool3d(x, 2),
    "avg_pool3d_ceil": lambda F, x, w: F.avg_pool3d(x, (3, 2, 2), ceil_mode=True, padding=1,
                                                    count_include_pad=False),
    "avg_pool3d_divisor": lambda F, x, w: F.avg_pool3d(x, (2, 3, 2), stride=(1, 2, 2), padding=1,
                                                       divisor_override=5),
    "adaptive": lambda F, x, w: F.adaptive_avg_pool3d(x, (2, 3, 4)),
    "adaptive_none": lambda F, x, w: F.adaptive_avg_pool3d(x[1], (None, 2, 5)),
    "adaptive_global": lambda F, x, w: F.adaptive_avg_pool3d(x, 1),
}


@pytest.mark.parametrize("name", VOLUMETRIC)
def test_volumetric_ops_values_gradients_and_names(name):
    def run(torch, dev, x, w):
        a, b = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        out = VOLUMETRIC[name](torch.nn.functional, a, b)
        first = out[0] if isinstance(out, tuple) else out
        (first * first).sum().backward()
        return [out, a.grad] + ([b.grad] if b.grad is not None else [])
    check(run, VOLUME, FILTERS, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ["conv3d", "max_pool3d_padded", "avg_pool3d_ceil", "adaptive"])
def test_volumetric_gradcheck(name):
    F = tt.nn.functional
    x = VOLUME[:1, :4, :4, :5, :4]
    if name != "conv3d":
        check_grad(lambda x: (lambda out: out[0] if isinstance(out, tuple) else out)(VOLUMETRIC[name](F, x, None)),
                   x[:, :2, :3])
        return
    check_grad(lambda x, w: VOLUMETRIC[name](F, x, w), x[:, :, :3, :3, :2], FILTERS[:2, :, :, :2], second_order=True)


@pytest.mark.gpu
@pytest.mark.parametrize("name", VOLUMETRIC)
def test_volumetric_cuda_matches_the_cpu(name):
    """The CUDA path runs the same recorded ops on the other backend's kernels: its values and
    gradients are the CPU's, which the finite differences above check (the simulator runs
    a gradcheck's many forward passes too slowly for these sizes)."""
    F = tt.nn.functional
    x, w = VOLUME[:, :4, :3, :4, :3], FILTERS[:2, :, :, :2]
    results = []
    for device in ("cpu", "cuda"):
        a, b = tt.tensor(x, requires_grad=True), tt.tensor(w, requires_grad=True)
        out = VOLUMETRIC[name](F, a.to(device), b.to(device))
        first = out[0] if isinstance(out, tuple) else out
        (first * first).sum().backward()
        results.append([t.detach().cpu().numpy() for t in (first, a.grad) + ((b.grad,) if b.grad is not None else ())])
    for ours, reference in zip(*results):
        np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-12)


def test_volumetric_modules():
    def run(torch, dev, x):
        torch.manual_seed(0)
        conv = torch.nn.Conv3d(4, 6, 3, stride=2, padding=1, bias=False)
        reflect = torch.nn.Conv3d(4, 2, (1, 2, 2), padding=1, padding_mode="reflect")
        norm = torch.nn.BatchNorm3d(4)
        data = torch.tensor(x, dtype=torch.float32)
        pools = [torch.nn.MaxPool3d(2), torch.nn.AvgPool3d(3, 2), torch.nn.AdaptiveAvgPool3d((1, 2, None))]
        return ([repr(m) for m in [conv, reflect, norm] + pools] + [conv.weight, reflect.bias, conv(data),
                reflect(data), norm(data), norm.running_mean, norm.running_var] + [p(data) for p in pools])
    check(run, VOLUME, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("expr", ["conv_rank", "conv_channels", "conv_big_kernel", "pool_pad", "pool_rank",
                                  "norm_rank", "avg_divisor"])
def test_volumetric_errors(expr):
    def run(torch, dev):
        F, x = torch.nn.functional, torch.zeros(1, 2, 3, 3, 3)
        return {"conv_rank": lambda: F.conv3d(torch.zeros(2, 3, 3), torch.zeros(1, 2, 1, 1, 1)),
                "conv_channels": lambda: F.conv3d(x, torch.zeros(1, 3, 1, 1, 1)),
                "conv_big_kernel": lambda: F.conv3d(x, torch.zeros(1, 2, 4, 1, 1)),
                "pool_pad": lambda: F.max_pool3d(x, 2, padding=2),
                "pool_rank": lambda: F.avg_pool3d(torch.zeros(3, 3, 3), 2),
                "norm_rank": lambda: torch.nn.BatchNorm3d(2)(torch.zeros(2, 2, 3, 3)),
                "avg_divisor": lambda: F.avg_pool3d(x, 2, divisor_override=0)}[expr]()
    check(run)
