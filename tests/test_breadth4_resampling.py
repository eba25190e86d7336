"""Against PyTorch's recorded answers: ``interpolate``'s bicubic and trilinear modes (and
``nn.Upsample`` with them), ``affine_grid`` and ``grid_sample`` (values, gradients to the input,
the grid and theta, grad_fn names, errors), with the gradients checked by finite differences;
the cuda variants run the CUDA path (numba's simulator without a GPU)."""
import numpy as np
import pytest

import tinytape as tt
from helpers import check_grad
from test_breadth3 import DEVICES, check

F = tt.nn.functional
RNG = np.random.default_rng(0)
IMAGE = RNG.normal(size=(1, 2, 4, 5))
VOLUME = RNG.normal(size=(1, 1, 3, 4, 3))
GRID = RNG.uniform(-1.3, 1.3, size=(1, 3, 4, 2))
THETA = RNG.normal(size=(1, 2, 3)) * 0.5
TOLERANCE = {"float64": 1e-12, "float32": 2e-5}


def _weighted_sum(torch, outs):
    w = torch.tensor(np.linspace(-1, 1, 5000), dtype=outs[0].dtype).to(outs[0].device)
    return sum((o * w[:o.numel()].reshape(o.shape)).sum() for o in outs)


def _leaves(torch, dtype, *arrays):
    return [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True) for a in arrays]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bicubic_and_trilinear_interpolation(dtype, device):
    def run(torch, dev, image, volume):
        F = torch.nn.functional
        x, v = _leaves(torch, dtype, image, volume)
        xd, vd = x.to(dev), v.to(dev)
        outs = [F.interpolate(xd, scale_factor=2, mode="bicubic"),
                F.interpolate(xd, size=(7, 3), mode="bicubic", align_corners=True),
                torch.nn.Upsample(scale_factor=1.5, mode="bicubic")(xd),
                F.interpolate(vd, scale_factor=(2, 1.5, 2), mode="trilinear"),
                torch.nn.Upsample(size=(5, 5, 2), mode="trilinear", align_corners=True)(vd)]
        _weighted_sum(torch, outs).backward()
        return outs + [x.grad, v.grad, repr(torch.nn.Upsample(scale_factor=2, mode="bicubic", align_corners=True))]
    check(run, IMAGE, VOLUME, device=device, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


@pytest.mark.parametrize("case", ["trilinear_4d", "bicubic_3d", "bicubic_5d", "bilinear_5d", "unknown"])
def test_interpolation_mode_and_rank_errors(case):
    def run(torch, dev):
        mode, rank = {"trilinear_4d": ("trilinear", 4), "bicubic_3d": ("bicubic", 3), "bicubic_5d": ("bicubic", 5),
                      "bilinear_5d": ("bilinear", 5), "unknown": ("cubic", 4)}[case]
        return torch.nn.functional.interpolate(torch.ones((1, 1) + (3,) * (rank - 2)), scale_factor=2, mode=mode)
    check(run)


def test_interpolation_gradients_by_finite_differences():
    check_grad(lambda x: F.interpolate(x, scale_factor=1.5, mode="bicubic"), IMAGE[:, :1])
    check_grad(lambda x: F.interpolate(x, size=(3, 2), mode="bicubic", align_corners=True), IMAGE[:, :1])
    check_grad(lambda x: F.interpolate(x, scale_factor=(1, 2, 1.5), mode="trilinear"), VOLUME)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_values_and_gradients_to_input_and_grid(padding_mode, dtype, device):
    def run(torch, dev, image, grid):
        F = torch.nn.functional
        x, g = _leaves(torch, dtype, image, grid)
        outs = [F.grid_sample(x.to(dev), g.to(dev), mode=mode, padding_mode=padding_mode, align_corners=corners)
                for mode in ("bilinear", "nearest") for corners in (False, True)]
        _weighted_sum(torch, outs).backward()
        return outs + [x.grad, g.grad]
    check(run, IMAGE, GRID, device=device, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_over_volumes(padding_mode, device):
    grid = RNG.uniform(-1.2, 1.2, size=(1, 2, 2, 3, 3))

    def run(torch, dev, volume, g):
        F = torch.nn.functional
        x, gr = _leaves(torch, "float64", volume, g)
        outs = [F.grid_sample(x.to(dev), gr.to(dev), mode=mode, padding_mode=padding_mode, align_corners=corners)
                for mode in ("bilinear", "nearest") for corners in (False, True)]
        _weighted_sum(torch, outs).backward()
        return outs + [x.grad, gr.grad]
    check(run, VOLUME, grid, device=device, rtol=1e-12, atol=1e-12)
    check_grad(lambda x, g: F.grid_sample(x, g, padding_mode=padding_mode, align_corners=False), VOLUME[..., :2, :2],
               grid[:, :1, :2, :2])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_affine_grid_and_a_spatial_transformer(dtype, device):
    def run(torch, dev, image, theta):
        F = torch.nn.functional
        x, th = _leaves(torch, dtype, image, theta)
        grids = [F.affine_grid(th.to(dev), (1, 2, 3, 4), align_corners=corners) for corners in (False, True)]
        cube = F.affine_grid(torch.cat([th, th[:, :1]], 1)[:, :, :3].repeat(1, 1, 2)[:, :, :4].to(dev),
                             (1, 1, 2, 3, 2), align_corners=False)
        warped = F.grid_sample(x.to(dev), grids[0], align_corners=False)
        _weighted_sum(torch, grids + [cube, warped]).backward()
        return grids + [cube, warped, x.grad, th.grad]
    check(run, IMAGE, THETA, device=device, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


@pytest.mark.parametrize("case", ["theta_shape", "theta_dtype", "size_rank", "mode", "padding", "grid_last",
                                  "batch", "dtypes", "ranks", "bicubic_5d"])
def test_affine_grid_and_grid_sample_errors(case):
    def run(torch, dev):
        F = torch.nn.functional
        x, g = torch.ones(1, 1, 3, 3), torch.zeros(1, 2, 2, 2)
        return {"theta_shape": lambda: F.affine_grid(torch.zeros(1, 3, 3), [1, 1, 2, 2], align_corners=False),
                "theta_dtype": lambda: F.affine_grid(torch.zeros(1, 2, 3, dtype=torch.int64), [1, 1, 2, 2],
                                                     align_corners=False),
                "size_rank": lambda: F.affine_grid(torch.zeros(1, 2, 3), [1, 2, 2], align_corners=False),
                "mode": lambda: F.grid_sample(x, g, mode="area", align_corners=False),
                "padding": lambda: F.grid_sample(x, g, padding_mode="wrap", align_corners=False),
                "grid_last": lambda: F.grid_sample(x, torch.zeros(1, 2, 2, 3), align_corners=False),
                "batch": lambda: F.grid_sample(x, torch.zeros(2, 2, 2, 2), align_corners=False),
                "dtypes": lambda: F.grid_sample(x, g.double(), align_corners=False),
                "ranks": lambda: F.grid_sample(torch.ones(1, 2), torch.zeros(1, 1, 0), align_corners=False),
                "bicubic_5d": lambda: F.grid_sample(x[None], torch.zeros(1, 1, 1, 1, 3), mode="bicubic",
                                                    align_corners=False)}[case]()
    check(run)


def test_align_corners_left_out_warns():
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.affine_grid(tt.zeros(1, 2, 3), [1, 1, 2, 2])
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(tt.ones(1, 1, 2, 2), tt.zeros(1, 1, 1, 2))


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_and_affine_grid_gradients_by_finite_differences(padding_mode):
    for corners in (False, True):
        check_grad(lambda x, g: F.grid_sample(x, g, padding_mode=padding_mode, align_corners=corners),
                   IMAGE[:, :1, :3, :3], GRID[:, :2, :2])
    check_grad(lambda th: F.affine_grid(th, (1, 1, 3, 2), align_corners=False), THETA)
