"""Tensor creation functions; the random ones draw through ``_random`` (PyTorch's CPU stream)."""
import numbers
import os
import sys
import warnings

import numpy as np

from . import _dtype, _random, _random_bounds, _ranges
from ._random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed,  # noqa: F401
                      set_rng_state)  # (the package's names: tinytape.Generator, tinytape.manual_seed...)
from ._tensor import Tensor, _sizes
from .backend import for_device


def _wrap(data, requires_grad, device):
    backend = for_device(_dtype.as_device(device))
    arr = backend.asarray(data)  # a host array: no copy on the CPU backend
    if arr.shape != np.shape(data):  # np.ascontiguousarray makes 0-d data 1-d
        arr = backend.reshape(arr, np.shape(data))
    t = Tensor._make(arr, backend=backend)
    return _requiring_grad(t) if requires_grad else t


def _requiring_grad(t):
    """``t`` made a leaf requiring grad, refused in the factories' words (``requires_grad_``
    words it its own way)."""
    if not (t.dtype.is_floating_point or t.dtype.is_complex):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    return t.requires_grad_(True)


def _float_dtype(dtype):
    return _dtype.as_dtype(dtype) or _dtype.default_float


def _flatten_tensors(data):
    """Nested lists' one-element tensors as numpy scalars of their dtype (float64 stays float64)."""
    if isinstance(data, Tensor):
        if data.numel() != 1:  # (PyTorch reads each as a scalar)
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data.detach().cpu().numpy().reshape(())[()] if data.dtype is not _dtype.bfloat16 else data.item()
    if isinstance(data, (list, tuple, range)):  # tensor(range(3)), as PyTorch's sequence protocol
        return [_flatten_tensors(d) for d in data]
    return data


def _infer_dtype(data):
    """PyTorch's rule for python data: the promotion of its elements' types, a python float
    counting as the default float, an int as int64, a bool as bool and a numpy scalar as its
    own dtype (``[np.int32(2)]`` is int32); no elements: the default float."""
    found = None
    stack = [data]
    while stack:
        d = stack.pop()
        if isinstance(d, (list, tuple)):
            stack.extend(d)
            continue
        if isinstance(d, (np.generic, np.ndarray)) and d.dtype.kind in "biufc":
            if isinstance(d, np.ndarray) and d.ndim == 0:  # PyTorch reads an array in a list as a sequence
                raise TypeError("len() of unsized object")
            kind = _dtype.from_numpy_dtype(d.dtype)  # an array in a list counts as its dtype, as a scalar
        elif isinstance(d, bool):
            kind = _dtype.bool_
        elif isinstance(d, numbers.Integral):
            kind = _dtype.int64
        elif isinstance(d, numbers.Real):
            kind = _dtype.default_float
        elif isinstance(d, numbers.Complex):
            kind = _dtype.default_float.to_complex()
        elif isinstance(d, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(d).__name__}'")
        else:
            raise RuntimeError(f"Could not infer dtype of {type(d).__name__}")
        found = kind if found is None or found is kind else _dtype.promote(found, kind)
    return _dtype.default_float if found is None else found


def _check_strings(data):
    """PyTorch's errors for strings: one given as the data; one met following first elements
    down (a string is a sequence of strings, without end)."""
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
        if isinstance(data, (str, bytes)):
            raise ValueError(f"too many dimensions '{type(data).__name__}'")


def _check_ragged(data):
    """PyTorch's error for nested sequences whose lengths differ at some depth."""
    level, depth = [data], 0
    while level and all(isinstance(d, (list, tuple)) for d in level):
        lengths = [len(d) for d in level]
        for n in lengths:
            if n != lengths[0]:
                raise ValueError(f"expected sequence of length {lengths[0]} at dim {depth} (got {n})")
        level, depth = [x for d in level for x in d], depth + 1
    if level and any(isinstance(d, (list, tuple)) for d in level):
        raise TypeError("not a sequence")


def _python_array(data, dtype):
    """Python data as a numpy array that ``dtype`` holds exactly (PyTorch refuses what
    would wrap: ``tensor(2**63)``, ``tensor([1e30], dtype=int64)``, NaN as an integer)."""
    if dtype is _dtype.uint64:
        return _uint64_array(data)
    try:
        arr = np.array(data)
    except OverflowError:
        raise ValueError("Overflow when unpacking long long") from None
    except ValueError:  # ragged nesting: PyTorch's words for the first sequence of another length
        _check_ragged(data)
        raise
    if arr.dtype == object:  # ints beyond int64 (numpy keeps them as python objects)
        if any(isinstance(v, numbers.Integral) and not -2**63 <= v < 2**63 for v in arr.ravel()):
            raise ValueError("Overflow when unpacking long long")
        arr = arr.astype(np.float64 if dtype.is_floating_point else np.int64)
    if arr.dtype.kind == "u":
        raise ValueError("Overflow when unpacking long long")
    if not dtype.is_floating_point and arr.size and dtype.np.kind not in "bc":
        info = np.iinfo(dtype.np)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(arr) if arr.dtype.kind == "f" else np.zeros(arr.shape, bool)
            # an unsigned type of up to 32 bits takes a negative int down to -max, wrapped (PyTorch's)
            wraps = arr.dtype.kind == "i" and info.min == 0 and info.bits <= 32
            bad |= (arr < (-info.max if wraps else info.min)) | (arr > info.max)
        if bad.any():
            raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow "
                               f"(tensor(): {arr[bad].ravel()[0].item()!r} as {dtype})")
        if arr.dtype.kind == "i" and info.min == 0 and info.bits <= 32:
            arr = arr % (info.max + 1)
    return arr


def _uint64_array(data):
    """Python data as uint64, read as PyTorch reads it: each item an int in [0, 2**64)."""
    for value in np.array(data, dtype=object).ravel():
        if not isinstance(value, numbers.Integral):
            raise TypeError("an integer is required")
        if not 0 <= value < 1 << 64:
            raise OverflowError("can't convert negative int to unsigned" if value < 0 else "int too big to convert")
    return np.array(data, dtype=np.uint64)


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_stacklevel():
    """The stacklevel of the first caller outside the package (a warning points at the user's line)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new leaf tensor holding a copy of ``data`` (python scalars/lists, numpy arrays, tensors)."""
    dtype = _dtype.as_dtype(dtype)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
                      "or sourceTensor.detach().clone().requires_grad_(True), rather than "
                      "tinytape.tensor(sourceTensor).", UserWarning, stacklevel=_user_stacklevel())
        arr = np.array(data.detach().numpy() if data.dtype is not _dtype.bfloat16 else
                       data.detach().cpu()._data)
    elif isinstance(data, (np.ndarray, np.generic)):
        if isinstance(data, np.ndarray):
            _check_numpy_strides(data)
        arr = np.array(data)
        if dtype is None:
            dtype = _dtype.from_numpy_dtype(arr.dtype)
    else:
        _check_strings(data)
        _warn_if_list_of_arrays(data)
        data = _flatten_tensors(data)
        if dtype is None:
            dtype = _infer_dtype(data)
        arr = _python_array(data, dtype)
    dtype = dtype or _dtype.from_numpy_dtype(arr.dtype)
    with np.errstate(over="ignore"):  # 1e40 as float32 is inf, silently, as in PyTorch
        arr = np.array(_dtype.host_cast(arr, dtype.np), order="C")
    return _wrap(arr, requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, without a copy where it already is one of that dtype and device
    (a C-contiguous numpy array of a tensor dtype shares its memory, as in PyTorch)."""
    dtype = _dtype.as_dtype(dtype)
    if isinstance(data, Tensor):
        out = data if dtype is None else data.to(dtype)
        return out if device is None else out.to(_dtype.as_device(device))
    if isinstance(data, np.ndarray):  # PyTorch reads it as from_numpy does, then converts
        _check_numpy_strides(data)
        _warn_if_not_writable(data)
    if (isinstance(data, np.ndarray) and data.flags.c_contiguous and data.flags.writeable
            and (device is None or _dtype.as_device(device).type == "cpu")):
        try:
            own = _dtype.from_numpy_dtype(data.dtype)
        except (TypeError, ValueError, KeyError):
            own = None
        if own is not None and own.np == data.dtype and (dtype is None or dtype is own):
            return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """``obj`` as a tensor sharing its memory where it can (``copy=True``: never shares)."""
    out = as_tensor(obj, dtype=dtype, device=device)
    if copy and (out is obj or isinstance(obj, np.ndarray) and out.data_ptr() == obj.ctypes.data):
        out = out.clone()
    return _requiring_grad(out) if requires_grad else out


_NOT_WRITABLE_WARNED = False


_LIST_OF_ARRAYS_WARNED = False


def _warn_if_list_of_arrays(data):
    """PyTorch's warning, once a program, on ``tensor([array, array, ...])``."""
    global _LIST_OF_ARRAYS_WARNED
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], np.ndarray) and not _LIST_OF_ARRAYS_WARNED:
        _LIST_OF_ARRAYS_WARNED = True
        warnings.warn("Creating a tensor from a list of numpy.ndarrays is extremely slow. Please consider converting "
                      "the list to a single numpy.ndarray with numpy.array() before converting to a tensor.",
                      UserWarning, stacklevel=_user_stacklevel())


def _check_numpy_strides(array):
    """PyTorch's refusal of an array read backwards (``img[:, ::-1]``, ``np.flip``): a tensor's
    strides are never negative, so ``from_numpy``, ``as_tensor`` and ``tensor`` all refuse it."""
    if any(s < 0 for s in array.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with negative "
                         "strides are not currently supported. (You can probably work around this by making a "
                         "copy of your array  with array.copy().) ")


def _warn_if_not_writable(array):
    """PyTorch's warning, once a program, on sharing memory with a read-only array."""
    global _NOT_WRITABLE_WARNED
    if not array.flags.writeable and not _NOT_WRITABLE_WARNED:
        _NOT_WRITABLE_WARNED = True
        warnings.warn("The given NumPy array is not writable, and PyTorch does not support non-writable tensors. "
                      "This means writing to this tensor will result in undefined behavior. You may want to copy "
                      "the array to protect its data or make it writable before converting it to a tensor. This "
                      "type of warning will be suppressed for the rest of this program.", UserWarning,
                      stacklevel=_user_stacklevel())


def from_numpy(array):
    """A tensor sharing memory with ``array``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy(): expected np.ndarray (got {type(array).__name__})")
    _check_numpy_strides(array)
    _warn_if_not_writable(array)
    dt = _dtype.from_numpy_dtype(array.dtype)
    if dt.np != array.dtype:
        raise TypeError(f"from_numpy(): can't share memory with numpy dtype {array.dtype}; "
                        "supported: float32, float64, int64, bool")
    return Tensor._make(_dtype.own_dtype(array))  # the CPU backend's arrays are numpy arrays


def _check_sizes(shape, op=None):
    """PyTorch's RuntimeError for a negative size (zeros words it its own way)."""
    if any(int(n) < 0 for n in shape):
        if op == "zeros":
            raise RuntimeError("zeros: Dimension size must be non-negative.")
        raise RuntimeError(f"Trying to create tensor with negative dimension {next(int(n) for n in shape if int(n) < 0)}: "
                           f"{[int(n) for n in shape]}")
    return shape


def _filled(size, value, dtype, device, requires_grad, op=None):
    shape = _check_sizes(_sizes(size), op)
    dtype = _dtype.as_dtype(dtype)
    if dtype is None:
        dtype = _dtype.default_float if value is None or isinstance(value, float) else (
            _dtype.bool_ if isinstance(value, bool) else _dtype.default_float.to_complex()
            if isinstance(value, complex) else _dtype.int64)
    backend = for_device(_dtype.as_device(device))
    data = backend.empty(shape, dtype.np) if value is None else backend.full(shape, _dtype.fitting_int(value, dtype.np),
                                                                              dtype.np)
    t = Tensor._make(data, backend=backend)
    return _requiring_grad(t) if requires_grad else t


def empty(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    return _filled(_size_arg(sizes, size, 'empty'), None, dtype or _dtype.default_float, device, requires_grad)


def zeros(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    return _filled(_size_arg(sizes, size, 'zeros'), 0, dtype or _dtype.default_float, device, requires_grad, "zeros")


def ones(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    return _filled(_size_arg(sizes, size, 'ones'), 1, dtype or _dtype.default_float, device, requires_grad)


def _fill_number(fill_value, op):
    """``fill_value`` as a Python number: a 0-dim tensor not requiring grad reads as its
    value, as PyTorch's Number arguments do; any other tensor is refused in PyTorch's words."""
    if isinstance(fill_value, Tensor):
        if fill_value.ndim or fill_value.requires_grad:
            raise TypeError(f"{op}(): argument 'fill_value' (position 2) must be Number, not Tensor")
        return fill_value.item()
    return fill_value


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    return _filled(size, _fill_number(fill_value, "full"), dtype, device, requires_grad)


def _like(t, dtype, device):
    return (t.shape, dtype or t.dtype, device or t.device)


def _laid_out_like(t, out, fill=None):
    """``out``, a new tensor of ``t``'s shape, in ``t``'s layout where ``t`` is a permuted
    dense tensor on the CPU (PyTorch's preserved memory format: a random fill of it draws
    in that memory order), with its elements set to ``fill`` (None: left as they are)."""
    order = _random.dense_order(t)
    if order is None or out.device.type != "cpu":
        return out
    walked = np.empty([out.shape[d] for d in order], out._data.dtype)
    if fill is not None:
        walked.fill(fill)
    return _wrap(np.transpose(walked, np.argsort(order)), out.requires_grad, out.device)


def empty_like(t, dtype=None, device=None, requires_grad=False):
    shape, dtype, device = _like(t, dtype, device)
    return _laid_out_like(t, empty(shape, dtype=dtype, device=device, requires_grad=requires_grad))


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    shape, dtype, device = _like(t, dtype, device)
    return _laid_out_like(t, zeros(shape, dtype=dtype, device=device, requires_grad=requires_grad), 0)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    shape, dtype, device = _like(t, dtype, device)
    return _laid_out_like(t, ones(shape, dtype=dtype, device=device, requires_grad=requires_grad), 1)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    shape, dtype, device = _like(t, dtype, device)
    out = full(shape, _fill_number(fill_value, "full_like"), dtype=dtype, device=device, requires_grad=requires_grad)
    return _laid_out_like(t, out, out._data.reshape(-1)[0] if out.numel() else None)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"{'n' if n < 0 else 'm'} must be greater or equal to 0, got {n if n < 0 else m}")
    dtype = _float_dtype(dtype)
    return _wrap(_dtype.host_cast(np.eye(n, m), dtype.np), requires_grad, device)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    start, end, step = (int(v) if isinstance(v, numbers.Integral) else float(v)
                        for v in (_number(start), _number(end), _number(step)))
    if dtype is None:
        dtype = _dtype.int64 if all(isinstance(v, numbers.Integral) for v in (start, end, step)) else _dtype.default_float
    dtype = _dtype.as_dtype(dtype)
    return _wrap(_ranges.arange(start, end, step, dtype), requires_grad, device)


def _number(value):
    return value.item() if isinstance(value, Tensor) else value


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` values from ``start`` to ``end``, PyTorch's float32 values bit for bit."""
    dtype = _float_dtype(dtype)
    return _wrap(_ranges.linspace(_number(start), _number(end), steps, dtype), requires_grad, device)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    """``base ** linspace(start, end, steps)``, computed as PyTorch computes it."""
    dtype = _float_dtype(dtype)
    return _wrap(_ranges.logspace(_number(start), _number(end), steps, base, dtype), requires_grad, device)


def _size_arg(sizes, size, op):
    """``f(2, 3)``, ``f((2, 3))`` and ``f(size=(2, 3))`` alike."""
    if size is not None:
        if sizes:
            raise TypeError(f"{op}(): give the size positionally or as size=, not both")
        return size
    return sizes


def _numel(shape):
    return int(np.prod(shape, dtype=np.int64))


def _drawn(samples, shape, requires_grad, device, order=None):
    """Samples drawn in order as a tensor of ``shape``; with ``order`` (a layout, outermost
    dimension first), laid out that way: the draws fill its memory in order."""
    if order is None:
        return _wrap(np.asarray(samples).reshape(shape), requires_grad, device)
    walked = np.asarray(samples).reshape([shape[d] for d in order])
    return _wrap(np.transpose(walked, np.argsort(order)), requires_grad, device)


# dtypes whose draws return the kernel's own array (no cast after it), so a compiled step
# follows the samples from the recorded draw (float16/bfloat16 are rounded on the host)
_RECORDED_DRAWS = (_dtype.float32, _dtype.float64)


def randn(*sizes, size=None, dtype=None, device=None, requires_grad=False, generator=None):
    """Standard-normal samples (float32 unless ``dtype`` says otherwise), PyTorch's stream."""
    dtype = _float_dtype(dtype)
    shape = _check_sizes(_sizes(_size_arg(sizes, size, "randn")))
    if dtype in _RECORDED_DRAWS:
        samples = _random.recorded_draw(_random.normal, generator, _numel(shape), dtype)
    else:
        samples = _random.normal(_random.stream(generator), _numel(shape), dtype)
    return _drawn(samples, shape, requires_grad, device)


def rand(*sizes, size=None, dtype=None, device=None, requires_grad=False, generator=None):
    """Uniform samples on [0, 1)."""
    dtype = _float_dtype(dtype)
    shape = _check_sizes(_sizes(_size_arg(sizes, size, "rand")))
    if dtype in _RECORDED_DRAWS:
        samples = _random.recorded_draw(_random.uniform, generator, _numel(shape), dtype)
    else:
        samples = _random.uniform(_random.stream(generator), _numel(shape), dtype)
    return _drawn(samples, shape, requires_grad, device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Normal samples: tensor ``mean``/``std`` broadcast (the result is differentiable in
    them; PyTorch draws N(0, 1) for the output's shape, then scales and shifts), numbers need
    ``size``."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        like = mean if isinstance(mean, Tensor) else std
        sa, sb = (tuple(t.shape) if isinstance(t, Tensor) else () for t in (mean, std))
        for i, (da, db) in enumerate(zip(reversed(sa), reversed(sb))):
            if da != db and da != 1 and db != 1:
                raise RuntimeError(f"The size of tensor a ({da}) must match the size of tensor b ({db}) at "
                                   f"non-singleton dimension {max(len(sa), len(sb)) - 1 - i}")
        shape = np.broadcast_shapes(sa, sb)
        if isinstance(std, Tensor) and (std.detach() < 0).any().item():
            raise RuntimeError("normal expects all elements of std >= 0.0")
        noise = randn(shape, dtype=like.dtype, device=like.device, generator=generator)
        return noise * std + mean
    if size is None:
        raise TypeError("normal(): with number mean and std, give size=")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {float(std):g}")
    dtype = _float_dtype(dtype)
    shape = _check_sizes(_sizes((size,) if isinstance(size, int) else size))
    gen = _random.stream(generator)
    return _drawn(_random.normal(gen, _numel(shape), dtype, mean, std), shape, requires_grad, device)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (PyTorch's swaps, draw for draw)."""
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    dtype = _dtype.as_dtype(dtype) or _dtype.int64
    _random_bounds.randperm_fits(n, dtype)
    if dtype is _dtype.int64:  # the kernel's own array: a compiled step replays the draw
        return _wrap(_random.recorded_draw(_random.randperm, generator, int(n)), requires_grad, device)
    gen = _random.stream(generator)
    return _wrap(_dtype.host_cast(_random.randperm(gen, int(n)), dtype.np), requires_grad, device)


def randint(low=None, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform on [low, high) (``randint(high, size)`` from 0)."""
    if low is None:  # randint(high=4, size=(3,))
        if high is None:
            raise TypeError("randint(): missing required argument 'high'")
        low = 0
    if size is None:
        if high is None or isinstance(high, numbers.Number):
            raise TypeError("randint(): missing required argument 'size'")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    dtype = _dtype.as_dtype(dtype) or _dtype.int64
    shape = _check_sizes(_sizes((size,) if isinstance(size, int) else size))
    if dtype is _dtype.int64:  # the kernel's own array: a compiled step replays the draw
        samples = _random.recorded_draw(_random.random_from_to, generator, _numel(shape), dtype, low, high)
    else:
        samples = _random.random_from_to(_random.stream(generator), _numel(shape), dtype, low, high)
    return _drawn(samples, shape, requires_grad, device)


def randn_like(t, dtype=None, device=None, requires_grad=False, generator=None):
    """Like the other ``*_like`` draws, the result keeps ``t``'s layout when ``t`` is a
    permuted dense tensor (PyTorch's ``empty_like``), and the samples fill its memory in order."""
    shape, dtype, device = _like(t, dtype, device)
    dtype = _float_dtype(dtype)
    order = _random.dense_order(t)
    if dtype in _RECORDED_DRAWS:
        samples = _random.recorded_draw(_random.normal, generator, _numel(shape), dtype, 0.0, 1.0, order is None)
    else:
        samples = _random.normal(_random.stream(generator), _numel(shape), dtype, contiguous=order is None)
    return _drawn(samples, shape, requires_grad, device, order)


def rand_like(t, dtype=None, device=None, requires_grad=False, generator=None):
    shape, dtype, device = _like(t, dtype, device)
    dtype = _float_dtype(dtype)
    if dtype in _RECORDED_DRAWS:
        samples = _random.recorded_draw(_random.uniform, generator, _numel(shape), dtype)
    else:
        samples = _random.uniform(_random.stream(generator), _numel(shape), dtype)
    return _drawn(samples, shape, requires_grad, device, _random.dense_order(t))


def randint_like(t, low=0, high=None, *, dtype=None, device=None, requires_grad=False, generator=None):
    if high is None:
        low, high = 0, low
    shape, dtype, device = _like(t, dtype, device)
    dtype = _dtype.as_dtype(dtype)
    samples = _random.random_from_to(_random.stream(generator), _numel(shape), dtype, low, high)
    return _drawn(samples, shape, requires_grad, device, _random.dense_order(t))


def _to_device(t, device):
    """Copy ``t`` to ``device`` (differentiable: the gradient is copied back)."""
    from .ops.shape import to_device
    return to_device(t, device)
