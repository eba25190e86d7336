"""``torch.testing``: ``assert_close`` (PyTorch's default tolerances per dtype and its
mismatch report) and ``make_tensor`` (the same draws from the generator as PyTorch's)."""
import math
import numbers

import numpy as np

from . import _dtype
from ._tensor import Tensor

__all__ = ["assert_close", "make_tensor", "assert_allclose"]

# (rtol, atol) when neither is given, by dtype; integers and bool compare exactly
_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7)}


def _tolerances(dtypes, rtol, atol):
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'rtol' if rtol is None else 'atol'}.")
    if rtol is not None:
        return rtol, atol
    pairs = [_TOLERANCES.get(str(d).split(".")[-1], (0.0, 0.0)) for d in dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _mismatch_message(identifier, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx, rtol):
    equality = rtol == 0 and atol == 0
    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += f"{extra.strip()}\n"
    for kind, diff, idx, tol in (("absolute", abs_diff, abs_idx, atol), ("relative", rel_diff, rel_idx, rtol)):
        line = f"{kind.title()} difference: {diff}" if idx is None else f"Greatest {kind} difference: {diff} at index {idx}"
        msg += line + ("" if equality else f" (up to {tol} allowed)") + "\n"
    return msg.strip()


def _scalar_mismatch(actual, expected, rtol, atol):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    raise AssertionError(_mismatch_message("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None,
                                           atol, rel_diff, None, rtol))


def _compare_tensors(actual, expected, rtol, atol, equal_nan, check_dtype, check_device):
    if actual.shape != expected.shape:
        raise AssertionError(f"The values for attribute 'shape' do not match: {actual.shape} != {expected.shape}.")
    if check_device and actual.device != expected.device:
        raise AssertionError(f"The values for attribute 'device' do not match: {actual.device} != {expected.device}.")
    if check_dtype and actual.dtype != expected.dtype:
        raise AssertionError(f"The values for attribute 'dtype' do not match: {actual.dtype} != {expected.dtype}.")
    rtol, atol = _tolerances([actual.dtype, expected.dtype], rtol, atol)
    a = actual.detach().cpu().float().numpy() if "bfloat16" in str(actual.dtype) else actual.detach().cpu().numpy()
    e = expected.detach().cpu().float().numpy() if "bfloat16" in str(expected.dtype) else expected.detach().cpu().numpy()
    common = np.result_type(a, e)
    a, e = a.astype(common), e.astype(common)
    if common.kind in "biu":  # exact; differences as int64, as PyTorch's report
        a, e = a.astype(np.int64), e.astype(np.int64)
        matches = a == e
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            matches = (a == e) | (np.abs(a - e) <= atol + rtol * np.abs(e))
        if equal_nan:
            matches |= np.isnan(a) & np.isnan(e)
    if matches.all():
        return
    if not matches.shape:  # a 0-d tensor is reported as its number
        _scalar_mismatch(a.item(), e.item(), rtol, atol)
    n, bad = matches.size, int(matches.size - matches.sum())
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        abs_diff = np.abs(a.reshape(-1) - e.reshape(-1))
        abs_diff[matches.reshape(-1)] = 0
        # integers' differences divide as int64 tensors do: into the default float dtype
        rel_diff = (abs_diff.astype(np.float32) / np.abs(e.reshape(-1)).astype(np.float32)) if common.kind in "biu" \
            else abs_diff / np.abs(e.reshape(-1))
        rel_diff[matches.reshape(-1)] = 0
    i_abs = int(np.nanargmax(abs_diff)) if not np.isnan(abs_diff).all() else 0
    i_rel = int(np.nanargmax(rel_diff)) if not np.isnan(rel_diff).all() else 0
    i_abs = int(np.argmax(np.isnan(abs_diff))) if np.isnan(abs_diff).any() else i_abs  # NaN is the greatest, as max()
    i_rel = int(np.argmax(np.isnan(rel_diff))) if np.isnan(rel_diff).any() else i_rel

    def index(flat):
        return tuple(int(i) for i in np.unravel_index(flat, matches.shape)) if matches.shape else ()

    def number(v):
        return int(v) if common.kind in "biu" else float(v)
    raise AssertionError(_mismatch_message(
        "Tensor-likes", f"Mismatched elements: {bad} / {n} ({bad / n:.1%})", number(abs_diff[i_abs]), index(i_abs),
        atol, float(rel_diff[i_rel]), index(i_rel), rtol))


def _compare(actual, expected, rtol, atol, equal_nan, check_dtype, check_device, path):
    if path and not isinstance(actual, (list, tuple, dict)):  # an item of a sequence or mapping: named
        try:
            return _compare(actual, expected, rtol, atol, equal_nan, check_dtype, check_device, [])
        except AssertionError as e:
            raise AssertionError(f"{e}\n\nThe failure occurred for item {''.join(str([k]) for k in path)}") from None
    if isinstance(actual, Tensor) and isinstance(expected, Tensor):
        return _compare_tensors(actual, expected, rtol, atol, equal_nan, check_dtype, check_device)
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            raise AssertionError(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, rtol, atol, equal_nan, check_dtype, check_device, path + [i])
        return
    if isinstance(actual, dict) and isinstance(expected, dict):
        if set(actual) != set(expected):
            raise AssertionError(f"The keys of the mappings do not match:\nMissing keys in the actual mapping: "
                                 f"{sorted(set(expected) - set(actual))}\nExtra keys in the actual mapping: "
                                 f"{sorted(set(actual) - set(expected))}")
        for k in expected:
            _compare(actual[k], expected[k], rtol, atol, equal_nan, check_dtype, check_device, path + [k])
        return
    if isinstance(actual, numbers.Number) and isinstance(expected, numbers.Number) and type(actual) is type(expected):
        kind = {bool: _dtype.bool_, int: _dtype.int64, float: _dtype.float64}.get(type(actual), _dtype.float64)
        rtol_, atol_ = _tolerances([kind], rtol, atol)
        if actual == expected or (equal_nan and math.isnan(actual) and math.isnan(expected)) or \
                abs(actual - expected) <= atol_ + rtol_ * abs(expected):
            return
        _scalar_mismatch(actual, expected, rtol_, atol_)
    if isinstance(actual, numbers.Number) and isinstance(expected, numbers.Number):
        raise AssertionError(f"The values for attribute 'type' do not match: {type(actual)} != {type(expected)}.")
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.")


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise AssertionError unless ``actual`` and ``expected`` are close: tensors elementwise
    (``|actual - expected| <= atol + rtol * |expected|``, with shape, dtype and device
    equal), numbers likewise, sequences and mappings item by item."""
    try:
        _compare(actual, expected, rtol, atol, equal_nan, check_dtype, check_device, [])
    except AssertionError as e:
        if msg is not None:
            raise AssertionError(msg(str(e)) if callable(msg) else msg) from None
        raise


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """The deprecated form: numbers and lists compared as tensors of ``expected``'s kind."""
    from ._creation import tensor
    actual = actual if isinstance(actual, Tensor) else tensor(actual)
    expected = expected if isinstance(expected, Tensor) else tensor(expected, dtype=actual.dtype)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, msg=msg or None)


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    """A tensor of ``shape`` with values drawn uniformly from ``[low, high)`` (default
    ``[-9, 9)``; integers ``[-9, 10)``, bools ``{False, True}``), as PyTorch draws them."""
    from ._creation import empty, randint
    from .ops.composed import finfo, iinfo
    dtype = _dtype.as_dtype(dtype)
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = tuple(shape[0])
    name = str(dtype).split(".")[-1]
    floating = name in ("float16", "bfloat16", "float32", "float64")
    if requires_grad and not floating:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral dtypes, but got "
                         f"dtype={dtype}")
    if name == "bool":
        lowest, highest, default = 0, 2, (0, 2)
    elif floating:
        info = finfo(dtype)
        lowest, highest, default = info.min, info.max, (-9, 9)
    else:
        info = iinfo(dtype)
        lowest, highest, default = info.min, info.max + (1 if name != "int64" else 0), (-9, 10)
    low = default[0] if low is None else low
    high = default[1] if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low >= high and not (floating and low == high):
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    if high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), but {dtype} only "
                         f"supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:  # twice as wide, every other column taken: values unlike their neighbours'
        shape = (*shape[:-1], 2 * shape[-1])
    if floating:
        result = empty(*shape, dtype=dtype, device=device)
        if high - low >= finfo(dtype).max:
            result.uniform_(low / 2, high / 2).mul_(2)
        else:
            result.uniform_(low, high)
    else:
        result = randint(math.ceil(low), math.ceil(high), shape, device=device, dtype=dtype)
    if noncontiguous:
        result = result[..., 1::2]
    if exclude_zero:
        result[result == 0] = finfo(dtype).tiny if floating else 1
    if floating:
        result.requires_grad = requires_grad
    return result
