"""The argument checks of ``F.conv_transpose1d/2d/3d``, in PyTorch's order and words: the
input's rank, then the convolution's (weight rank, groups, each parameter's length), then the
shapes against each other, then those of PyTorch's CPU kernel (a 1-D transposed convolution
runs as a 2-D one of height 1, and its messages say so), and last the dtypes."""
from .. import _dtype

_AXES = {2: ("height", "width"), 3: ("depth", "height", "width")}


def _ints(values, name, n):
    """As PyTorch's argument parser: an int stands for ``n`` of them."""
    if isinstance(values, bool) or not isinstance(values, (int, tuple, list)) and not hasattr(values, "__index__"):
        raise TypeError(f"conv_transpose{n}d(): argument '{name}' must be tuple of ints, not {type(values).__name__}")
    if not isinstance(values, (tuple, list)):
        return [int(values)] * n
    if not all(hasattr(v, "__index__") for v in values):
        raise TypeError(f"conv_transpose{n}d(): argument '{name}' must be tuple of ints, not {type(values).__name__}")
    return [int(v) for v in values]


def _expand(values, name, dim):
    if len(values) == 1:
        return values * dim
    if len(values) != dim:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {dim} values to match the "
                           f"convolution dimensions, but got {name}={values}")
    return values


def _labelled(name, values, separator):
    return separator.join(f"{name}_{axis}: {v}" for axis, v in zip(_AXES[len(values)], values))


def check_conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, n):
    """Refuse what PyTorch refuses; returns (stride, padding, output_padding, dilation) as lists
    of ``n`` ints."""
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to conv_transpose{n}d, but got "
                           f"input of size: {list(input.shape)}")
    stride, padding, output_padding = (_ints(stride, "stride", n), _ints(padding, "padding", n),
                                       _ints(output_padding, "output_padding", n))
    dilation = _ints(dilation, "dilation", n)
    batched = tuple(input.shape) if input.ndim == n + 2 else (1,) + tuple(input.shape)
    dim = weight.ndim - 2
    if dim <= 0:
        raise RuntimeError("weight should have at least three dimensions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    stride, padding = _expand(stride, "stride", dim), _expand(padding, "padding", dim)
    dilation, output_padding = _expand(dilation, "dilation", dim), _expand(output_padding, "output_padding", dim)
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d < 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    w = list(weight.shape)
    if weight.ndim != len(batched):
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for {weight.ndim}-dimensional weight {w}, but "
                           f"got {len(batched)}-dimensional input of size {list(batched)} instead")
    if w[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
                           f"weight of size {w} instead")
    if w[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{w}] instead")
    if batched[1] != w[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {w}, expected input{list(input.shape)} to have {w[0]} "
                           f"channels, but got {batched[1]} channels instead")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != w[1] * groups):
        raise RuntimeError(f"Given transposed=1, weight of size {w}, expected bias to be 1-dimensional with "
                           f"{w[1] * groups} elements, but got bias of size {list(bias.shape)} instead")
    if batched[0] and batched[1]:
        _check_kernel(input, weight, batched, stride, padding, output_padding, dilation, n)
    else:  # an empty batch or channel axis skips PyTorch's kernel and its checks: only the shape is made
        lead = [1] if n == 1 else []
        shape = [batched[0], w[1] * groups] + lead + [
            (i - 1) * s - 2 * p + d * (k - 1) + 1 + op
            for i, s, p, d, k, op in zip(batched[2:], stride, padding, dilation, w[2:], output_padding)]
        for i, size in enumerate(shape):
            if size < 0:
                raise RuntimeError(f"invalid shape dimension {size} at index {i} of shape {shape}")
    if n == 3 and bias is not None and bias.dtype != input.dtype:  # (the 2-D kernel casts the bias)
        raise RuntimeError(f"expected scalar type {_dtype.scalar_type_name(input.dtype)} but found "
                           f"{_dtype.scalar_type_name(bias.dtype)}")
    return stride, padding, output_padding, dilation


def _check_kernel(input, weight, batched, stride, padding, output_padding, dilation, n):
    """The checks of PyTorch's ``slow_conv_transpose2d``/``3d`` (1-D as 2-D of height 1)."""
    lead = [1] if n == 1 else []
    kernel, sizes = lead + list(weight.shape[2:]), lead + list(batched[2:])
    stride, padding = lead + list(stride), [0] * len(lead) + list(padding)
    output_padding, dilation = [0] * len(lead) + list(output_padding), lead + list(dilation)
    if 0 in sizes:
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got input shape: "
                           f"{list(batched[:2]) + sizes}")
    if n < 3 and any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got {_labelled('kernel', kernel, ' ')}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got {_labelled('dilation', dilation, ', ')}")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                           f"{_labelled('output_padding', output_padding, ' ')} {_labelled('stride', stride, ' ')} "
                           f"{_labelled('dilation', dilation, ' ')}")
    if weight.numel() == 0:
        raise RuntimeError("non-empty 5D (n_output_plane x n_input_plane x kernel_depth x kernel_height x "
                           f"kernel_width) tensor expected for weight, but got: {list(weight.shape)}" if n == 3 else
                           f"non-empty 2D or 4D weight tensor expected, but got: {list(weight.shape[:2]) + kernel}")
    out = [(i - 1) * s - 2 * p + d * (k - 1) + 1 + op
           for i, s, p, d, k, op in zip(sizes, stride, padding, dilation, kernel, output_padding)]
    if any(o < 1 for o in out):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, sizes))}). Calculated output size "
                           f"per channel: ({' x '.join(map(str, out))}). Output size is too small")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"slow_conv_transpose{max(n, 2)}d_out_cpu\" not implemented for "
                                  f"'{_dtype.scalar_type_name(input.dtype)}'")
    if weight.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {_dtype.scalar_type_name(input.dtype)} but found "
                           f"{_dtype.scalar_type_name(weight.dtype)}")
