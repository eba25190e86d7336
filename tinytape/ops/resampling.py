"""Resampling: ``interpolate`` (nearest, linear, bilinear, bicubic, trilinear), ``affine_grid``
and ``grid_sample`` (bilinear and nearest; zeros, border and reflection padding), each one tape
entry under PyTorch's name.  The linear modes and bicubic run the backend's kernels (PyTorch's
CPU bits) for float32 and float64; the rest are composed from recorded ops (gathers of the
neighbours, weighted), so their gradients (to the input and to the grid) are those of the ops
used."""
import itertools
import math
import warnings

import numpy as np

from .. import _creation, _dtype
from . import elementwise as ew
from . import scatter
from . import linalg as la
from . import pointwise
from . import shape as sh
from ..autograd.function import Function
from .composite_entry import composite_op
from .windows import _check_tensor, _constant

_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"
_SPATIAL = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_CUBIC_A = -0.75  # PyTorch's cubic convolution coefficient


def _source_positions(out_size, in_size, scale, align_corners, mode):
    """Input coordinates each output position samples along one axis (PyTorch's rules; a
    cubic's are not clamped at 0)."""
    out = np.arange(out_size, dtype=np.float64)
    if mode in ("nearest", "nearest-exact"):  # in float32, as PyTorch's nearest_idx
        if out_size == in_size:
            return np.arange(out_size, dtype=np.int64)
        if mode == "nearest" and out_size == 2 * in_size:
            return np.arange(out_size, dtype=np.int64) >> 1
        step = np.float32(in_size) / np.float32(out_size) if scale is None or scale <= 0 else np.float32(1.0 / scale)
        at = (out + 0.5) * np.float64(step) if mode == "nearest-exact" else out.astype(np.float32) * step
        return np.minimum(np.floor(at.astype(np.float32)), in_size - 1).astype(np.int64)
    if align_corners:
        return out * ((in_size - 1) / (out_size - 1)) if out_size > 1 else np.zeros(out_size)
    step = in_size / out_size if scale is None else 1.0 / scale
    real = (out + 0.5) * step - 0.5
    return real if mode == "bicubic" else np.clip(real, 0.0, None)


def _cubic_weights(t):
    """The four taps' weights of PyTorch's cubic convolution at fractions ``t``."""
    a = _CUBIC_A
    near = lambda x: ((a + 2) * x - (a + 3)) * x * x + 1  # noqa: E731  (|x| <= 1)
    far = lambda x: ((a * x - 5 * a) * x + 8 * a) * x - 4 * a  # noqa: E731  (1 < |x| < 2)
    return [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resize the spatial dimensions of (N, C, ...) ``input``: ``nearest`` and ``nearest-exact``
    (1-3 spatial dims; the source cell ``floor(i * s)`` / ``floor((i + 0.5) * s)``), ``area``
    (the adaptive average pool),
    ``linear``/``bilinear``/``trilinear`` (gathers of the two neighbours along each axis,
    weighted), ``bicubic`` (four neighbours, PyTorch's cubic convolution, clamped at the border)."""
    _check_tensor(input, "interpolate")
    spatial = input.ndim - 2
    if mode in _SPATIAL and spatial in (1, 2, 3) and _SPATIAL[mode] != spatial:
        if mode != "bicubic":
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {_SPATIAL[mode] + 2}D input")
    if spatial < 1 or mode not in ("nearest", "nearest-exact", "area", *_SPATIAL) or (
            mode in _SPATIAL and _SPATIAL[mode] != spatial) or (mode == "area" and spatial > 3):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
                                  f"the modes: {_MODES} (got {mode})")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not provided")
    in_sizes = tuple(input.shape[2:])
    scales = None if scale_factor is None else (
        tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * spatial)
    sizes = (tuple(size) if isinstance(size, (tuple, list)) else (size,) * spatial) if size is not None else \
        tuple(int(math.floor(s * f)) for s, f in zip(in_sizes, scales))
    use_scale = scales if scales is not None and not recompute_scale_factor else (None,) * spatial
    if mode == "area":  # PyTorch's: the adaptive average pool to the new size
        from . import pooling, volumetric
        pool = {1: pooling.adaptive_avg_pool1d, 2: pooling.adaptive_avg_pool2d, 3: volumetric.adaptive_avg_pool3d}
        return pool[spatial](input, sizes)
    name = {"nearest": "Nearest", "nearest-exact": "NearestExact", "linear": "Linear", "bilinear": "Bilinear",
            "bicubic": "Bicubic", "trilinear": "Trilinear"}[mode]
    by_kernel = input.dtype in (_dtype.float32, _dtype.float64) and input.numel() > 0 and all(sizes)
    if by_kernel and mode in ("linear", "bilinear", "trilinear") and hasattr(input._backend, "upsample_linear"):
        return _linear_kernel_class(f"Upsample{name}{spatial}DBackward0").apply(input, sizes, bool(align_corners),
                                                                                use_scale)
    if by_kernel and mode == "bicubic":
        return UpsampleBicubic2D.apply(input, sizes, bool(align_corners), use_scale)
    return composite_op(f"Upsample{name}{spatial}DBackward0",
                        lambda x: _interpolate(x, sizes, in_sizes, use_scale, align_corners, mode), input)


class _UpsampleLinearKernel(Function):
    """Linear, bilinear or trilinear resampling by the backend's kernel (PyTorch's CPU bits); its
    backward the kernel's adjoint, itself differentiable (``create_graph``)."""

    @staticmethod
    def forward(ctx, x, sizes, align_corners, scales):
        ctx.shape_in, ctx.align_corners, ctx.scales = tuple(x.shape), align_corners, scales
        return x._new(x._backend.upsample_linear(x._data, sizes, align_corners, scales))

    adjoint = None  # its mode's ``_UpsampleLinearAdjoint`` (``_linear_kernel_class``)

    @classmethod
    def _differentiate(cls, ctx, g):
        return cls.adjoint.apply(g, ctx.shape_in, ctx.align_corners, ctx.scales), None, None, None


class _UpsampleLinearAdjoint(Function):
    kernel = None  # its mode's ``_UpsampleLinearKernel``

    @staticmethod
    def forward(ctx, g, shape_in, align_corners, scales):
        ctx.sizes, ctx.align_corners, ctx.scales = tuple(g.shape[2:]), align_corners, scales
        return g._new(g._backend.upsample_linear_backward(g._data, shape_in, align_corners, scales))

    @classmethod
    def _differentiate(cls, ctx, gg):
        return cls.kernel.apply(gg, ctx.sizes, ctx.align_corners, ctx.scales), None, None, None


class UpsampleBicubic2D(Function):
    """Bicubic resampling by the backend's kernel (PyTorch's CPU bits); its backward the
    kernel's adjoint, whose own backward is the forward kernel (``create_graph``)."""
    grad_fn_name = "UpsampleBicubic2DBackward0"

    @staticmethod
    def forward(ctx, x, sizes, align_corners, scales):
        ctx.shape_in, ctx.align_corners, ctx.scales = tuple(x.shape), align_corners, scales
        return x._new(x._backend.upsample_bicubic(x._data, sizes, align_corners, scales))

    @staticmethod
    def backward(ctx, g):
        return UpsampleBicubic2DBackward.apply(g, ctx.shape_in, ctx.align_corners, ctx.scales), None, None, None


class UpsampleBicubic2DBackward(Function):
    grad_fn_name = "UpsampleBicubic2DBackwardBackward0"

    @staticmethod
    def forward(ctx, g, shape_in, align_corners, scales):
        ctx.sizes, ctx.align_corners, ctx.scales = tuple(g.shape[2:]), align_corners, scales
        return g._new(g._backend.upsample_bicubic_backward(g._data, shape_in, align_corners, scales))

    @staticmethod
    def backward(ctx, gg):
        return UpsampleBicubic2D.apply(gg, ctx.sizes, ctx.align_corners, ctx.scales), None, None, None


_LINEAR_CLASSES = {}


def _linear_kernel_class(grad_fn_name):
    """The mode's kernel class and its adjoint's, named as PyTorch's entries
    (``UpsampleBilinear2DBackward0``, then ``UpsampleBilinear2DBackwardBackward0``)."""
    cls = _LINEAR_CLASSES.get(grad_fn_name)
    if cls is None:
        stem = grad_fn_name[:-len("Backward0")]
        adjoint_name = f"{stem}BackwardBackward0"
        cls = type(stem, (_UpsampleLinearKernel,), {
            "grad_fn_name": grad_fn_name, "backward": staticmethod(lambda ctx, g: cls._differentiate(ctx, g))})
        adjoint = type(f"{stem}Backward", (_UpsampleLinearAdjoint,), {
            "grad_fn_name": adjoint_name, "backward": staticmethod(lambda ctx, gg: adjoint._differentiate(ctx, gg)),
            "kernel": cls})
        cls.adjoint = adjoint
        _LINEAR_CLASSES[grad_fn_name] = cls
    return cls


def _interpolate(input, sizes, in_sizes, use_scale, align_corners, mode):
    if mode in ("nearest", "nearest-exact"):  # one gather of flat positions: the gradient adds in output order
        picks = [_source_positions(o, i, f, align_corners, mode) for o, i, f in zip(sizes, in_sizes, use_scale)]
        flat = np.zeros((), np.int64)
        for pick, size in zip(picks, in_sizes):
            flat = (flat * size)[..., None] + pick
        planes = sh.reshape(input, tuple(input.shape[:2]) + (-1,))
        gathered = planes[:, :, _creation.tensor(flat.reshape(-1), device=input.device)]
        return sh.reshape(gathered, tuple(input.shape[:2]) + tuple(sizes))
    out = input
    for axis in reversed(range(len(sizes))):  # the last axis first, as PyTorch's nested sums
        o, i, f = sizes[axis], in_sizes[axis], use_scale[axis]
        d = 2 + axis
        lead = (slice(None),) * d
        pos = _source_positions(o, i, f, align_corners, mode)
        take = lambda ids: out[lead + (_creation.tensor(ids, device=input.device),)]  # noqa: E731
        if mode in ("nearest", "nearest-exact"):
            out = take(pos)
            continue
        along = lambda w: _constant(input, w.reshape((-1,) + (1,) * (input.ndim - d - 1)))  # noqa: E731
        if mode == "bicubic":
            low = np.floor(pos).astype(np.int64)
            taps = [take(np.clip(low - 1 + k, 0, i - 1)) for k in range(4)]
            weights = _cubic_weights(pos - low)
            total = ew.mul(taps[0], along(weights[0]))
            for tap, w in zip(taps[1:], weights[1:]):
                total = ew.add(total, ew.mul(tap, along(w)))
            out = total
            continue
        low = np.minimum(np.floor(pos).astype(np.int64), i - 1)
        high = np.minimum(low + 1, i - 1)
        below, above = take(low), take(high)
        out = ew.add(below, ew.mul(ew.sub(above, below), along(pos - low)))
    return out


# ---------------------------------------------------------------- affine_grid


def _warn_align_corners():
    warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                  "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                  "grid_sample for details.", stacklevel=3)


def _from_neg_one(like, steps, align_corners):
    if steps <= 1:
        return _creation.zeros((1,), dtype=like.dtype, device=like.device)
    line = _creation.linspace(-1, 1, steps, dtype=like.dtype, device=like.device)
    return line if align_corners else ew.div(ew.mul(line, steps - 1), steps)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) of the affine maps ``theta``
    (N, 2, 3) (or (N, 3, 4)) over the normalised [-1, 1] output coordinates."""
    if align_corners is None:
        _warn_align_corners()
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got torch.{theta.dtype.name}")
    size = list(size)
    spatial = len(size) - 2
    if spatial not in (2, 3):
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    rows, cols = (2, 3) if spatial == 2 else (3, 4)
    if theta.ndim != 3 or tuple(theta.shape[-2:]) != (rows, cols):
        raise ValueError(f"Expected a batch of {spatial}D affine matrices of shape Nx{rows}x{cols} for size "
                         f"{size}. Got torch.Size({list(theta.shape)}).")
    if align_corners and min(size[2:]) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation "
                      "of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    n, spatial_sizes = size[0], size[2:]
    # the base grid: (x, y[, z], 1) at each output position, x along the last axis
    axes = [_from_neg_one(theta, s, align_corners) for s in reversed(spatial_sizes)]
    shape = tuple(spatial_sizes)
    columns = []
    for k, line in enumerate(axes):
        view = [1] * spatial
        view[spatial - 1 - k] = -1
        columns.append(sh.expand(sh.reshape(line, tuple(view)), shape))
    columns.append(_creation.ones(shape, dtype=theta.dtype, device=theta.device))
    base = sh.reshape(sh.stack(columns, -1), (1, -1, spatial + 1))

    def generate(t):
        flat = la.bmm(sh.expand(base, (n,) + tuple(base.shape[1:])), sh.transpose(t, 1, 2))
        return sh.reshape(flat, (n, *spatial_sizes, spatial))
    return composite_op("AffineGridGeneratorBackward0", generate, theta)


# ---------------------------------------------------------------- grid_sample


def _unnormalize(coord, size, align_corners):
    if align_corners:
        return ew.mul(ew.add(coord, 1.0), (size - 1) / 2)
    return ew.sub(ew.mul(ew.add(coord, 1.0), size / 2), 0.5)


def _reflect(coord, twice_low, twice_high):
    if twice_low == twice_high:
        return ew.mul(coord, 0.0)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    distance = ew.abs(ew.sub(coord, low))
    extra = pointwise.fmod(distance, span)
    flips = ew.floor(ew.div(distance, span))
    even = ew.eq(pointwise.fmod(flips, 2.0), 0.0)
    return ew.where(even, ew.add(extra, low), ew.add(ew.sub(span, extra), low))


def _source_index(coord, size, padding_mode, align_corners):
    coord = _unnormalize(coord, size, align_corners)
    if padding_mode == "reflection":
        coord = _reflect(coord, 0, 2 * (size - 1)) if align_corners else _reflect(coord, -1, 2 * size - 1)
    if padding_mode in ("border", "reflection"):
        coord = ew.clamp(coord, 0, size - 1)
    return coord


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """``input`` (N, C, H, W) read at the normalised positions ``grid`` (N, H_out, W_out, 2), x
    first (or (N, C, D, H, W) at (N, D_out, H_out, W_out, 3)); bilinear (weights of the 4 or 8
    neighbours) or nearest (rounded half to even);
    outside the input: zeros, the border's value, or reflected."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        _warn_align_corners()
        align_corners = False
    _check_tensor(input, "grid_sampler")
    _check_tensor(grid, "grid_sampler", "grid")
    if input.dtype is not grid.dtype:
        raise RuntimeError(f"expected scalar type {_dtype.scalar_type_name(input.dtype)} but found "
                           f"{_dtype.scalar_type_name(grid.dtype)}")
    if grid.shape[-1] != input.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.ndim - 2} in last dimension, but got "
                           f"grid with sizes {list(grid.shape)}")
    if input.ndim not in (4, 5) or grid.ndim != input.ndim:
        raise RuntimeError(f"grid_sampler(): expected {4 if input.ndim == 4 else 5}D input and grid with same number "
                           f"of dimensions, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if mode == "bicubic":
        if input.ndim == 5:
            raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
        raise NotImplementedError("grid_sample: mode 'bicubic' is not provided (bilinear, nearest)")
    return composite_op(f"GridSampler{input.ndim - 2}DBackward0",
                        lambda x, g: _grid_sample(x, g, mode, padding_mode, align_corners), input, grid)


def _grid_sample(input, grid, mode, padding_mode, align_corners):
    """(N, C, [D,] H, W) ``input`` at the ``grid`` positions: each neighbour (2 per axis; the
    nearest one for ``nearest``) gathered from the flattened planes, weighted, masked outside."""
    n, c, *sizes = input.shape
    spatial = len(sizes)
    out_sizes = tuple(grid.shape[1:-1])
    points = math.prod(out_sizes)
    # the source coordinates, the first axis's first (z, y, x), from the grid's (x, y[, z])
    coords = [_source_index(grid[..., spatial - 1 - k], sizes[k], padding_mode, align_corners) for k in range(spatial)]
    planes = sh.reshape(input, (n, c, -1))
    steps = [math.prod(sizes[k + 1:]) for k in range(spatial)]

    def corner(at):
        """The input at integer positions ``at`` (one per axis), and where they lie inside it."""
        inside, flat = None, None
        for i, size, step in zip(at, sizes, steps):
            here = ew.ge(i, 0.0) & ew.le(i, size - 1.0)
            inside = here if inside is None else inside & here
            term = ew.mul(ew.clamp(i, 0, size - 1), float(step))
            flat = term if flat is None else ew.add(flat, term)
        index = sh.expand(sh.reshape(ew.to_dtype(flat, _dtype.int64), (n, 1, points)), (n, c, points))
        values = sh.reshape(scatter.gather(planes, 2, index), (n, c) + out_sizes)
        return values, sh.unsqueeze(ew.to_dtype(inside, input.dtype), 1)

    if mode == "nearest":
        values, inside = corner([ew.round(x.detach()) for x in coords])
        return ew.mul(values, inside)
    low = [ew.floor(x) for x in coords]
    from_low = [ew.sub(x, lo) for x, lo in zip(coords, low)]  # distances from the low neighbours
    to_high = [ew.add(ew.neg(f), 1.0) for f in from_low]
    high = [ew.add(lo, 1.0) for lo in low]
    out = None
    for bits in itertools.product((0, 1), repeat=spatial):  # the last axis fastest, as PyTorch's order
        # each neighbour weighted by the distances to the opposite sides
        factors = [from_low[k] if b else to_high[k] for k, b in enumerate(bits)]
        weight = factors[0]
        for f in factors[1:]:
            weight = ew.mul(weight, f)
        values, inside = corner([(high[k] if b else low[k]).detach() for k, b in enumerate(bits)])
        term = ew.mul(values, ew.mul(sh.unsqueeze(weight, 1), inside))
        out = term if out is None else ew.add(out, term)
    return out


FUNCTIONAL = {"interpolate": interpolate, "affine_grid": affine_grid, "grid_sample": grid_sample}
