"""Tensor printing, digit for digit as PyTorch prints: ``tensor([7.], grad_fn=<ReluBackward0>)``."""
import math

import numpy as np

from . import _dtype
from . import _dual

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80
SCI_MODE = None  # None: chosen from the values; True/False: forced


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """PyTorch's print options (``profile``: 'default', 'short' or 'full')."""
    global PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH, SCI_MODE
    if profile is not None:
        PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = {
            "default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3, 80)}[profile]
    PRECISION = PRECISION if precision is None else int(precision)
    THRESHOLD = THRESHOLD if threshold is None else threshold
    EDGEITEMS = EDGEITEMS if edgeitems is None else int(edgeitems)
    LINEWIDTH = LINEWIDTH if linewidth is None else int(linewidth)
    SCI_MODE = sci_mode


class _Formatter:
    """Chooses one format for every element: integer (``7.``), fixed (``0.3148``) or
    scientific (``1.0000e-05``), and the common width, from the finite nonzero values."""

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not floating:
            for v in values.reshape(-1).tolist():
                self.max_width = max(self.max_width, len(str(v)))
            return
        flat = values.reshape(-1).astype(np.float64)
        finite = flat[np.isfinite(flat) & (flat != 0)]
        if finite.size == 0:
            return
        absvals = np.abs(finite)
        vmin, vmax = float(absvals.min()), float(absvals.max())  # Python floats: 1e300 / 1e-300 is inf, no warning
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        if SCI_MODE is not None:
            self.sci_mode = SCI_MODE
            fmt = "{:.%de}" % PRECISION if SCI_MODE else "{:.%df}" % PRECISION
            if SCI_MODE or not self.int_mode:
                self.int_mode = False
                self.max_width = max(len(fmt.format(v)) for v in finite.tolist())
            else:
                self.max_width = max(len(f"{v:.0f}") + 1 for v in finite.tolist())
        elif self.int_mode:
            if vmax / vmin > 1000.0 or vmax > 1.0e8:
                self.sci_mode = True
                fmt = "{:.%de}" % PRECISION
                self.max_width = max(len(fmt.format(v)) for v in finite.tolist())
            else:
                self.max_width = max(len(f"{v:.0f}") + 1 for v in finite.tolist())
        else:
            if vmax / vmin > 1000.0 or vmax > 1.0e8 or vmin < 1.0e-4:
                self.sci_mode = True
                fmt = "{:.%de}" % PRECISION
            else:
                fmt = "{:.%df}" % PRECISION
            self.max_width = max(len(fmt.format(v)) for v in finite.tolist())

    def width(self):
        return self.max_width

    def format(self, value):
        if self.floating:
            if self.sci_mode:
                ret = ("{:%d.%de}" % (self.max_width, PRECISION)).format(value)
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = ("{:.%df}" % PRECISION).format(value)
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


class _ComplexFormatter:
    """A complex element as PyTorch prints it: the real part by a formatter of the real parts,
    the imaginary part by one of the imaginary parts, its padding dropped, then ``j``
    (``-3.5000-0.2500j``, `` 0.0000+0.1000j``)."""

    def __init__(self, values):
        self.real, self.imag = _Formatter(values.real, True), _Formatter(values.imag, True)

    def width(self):
        return self.real.width() + self.imag.width() + 1

    def format(self, value):
        real_text = self.real.format(value.real)
        imag_text = (self.imag.format(value.imag) + "j").lstrip()
        return real_text + (imag_text if imag_text[0] in "+-" else "+" + imag_text)


def _vector_str(arr, indent, summarize, fmt):
    element_length = fmt.width() + 2
    per_line = max(1, int(math.floor((LINEWIDTH - indent) / element_length)))
    values = arr.tolist()
    if summarize and len(values) > 2 * EDGEITEMS:
        data = [fmt.format(v) for v in values[:EDGEITEMS]] + [" ..."] + [fmt.format(v) for v in values[-EDGEITEMS:]]
    else:
        data = [fmt.format(v) for v in values]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _array_str(arr, indent, summarize, fmt):
    if arr.ndim == 0:
        return fmt.format(arr.item())
    if arr.ndim == 1:
        return _vector_str(arr, indent, summarize, fmt)
    n = arr.shape[0]
    if summarize and n > 2 * EDGEITEMS:
        rows = ([_array_str(arr[i], indent + 1, summarize, fmt) for i in range(EDGEITEMS)] + ["..."] +
                [_array_str(arr[i], indent + 1, summarize, fmt) for i in range(n - EDGEITEMS, n)])
    else:
        rows = [_array_str(arr[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _summarized(arr):
    """The edge items that a summarized print shows (the formatter looks at these only)."""
    if arr.ndim == 0:
        return arr
    if arr.shape[0] > 2 * EDGEITEMS:
        arr = np.concatenate([arr[:EDGEITEMS], arr[-EDGEITEMS:]])
    if arr.ndim == 1:
        return arr
    return np.stack([_summarized(a) for a in arr])


def array_str(arr, indent):
    if arr.size == 0:
        return "[]"
    summarize = arr.size > THRESHOLD
    shown = _summarized(arr) if summarize else arr
    fmt = _ComplexFormatter(shown) if arr.dtype.kind == "c" else _Formatter(shown, arr.dtype.kind == "f")
    return _array_str(arr, indent, summarize, fmt)


def _add_suffixes(text, suffixes, indent):
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        # measured as PyTorch prints it ("torch.float64"), so that a repr wraps where PyTorch's does
        width = len(suffix.replace("tinytape.", "torch."))
        if last_line_len + width + 2 > LINEWIDTH:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + width
        else:
            parts.append(", " + suffix)
            last_line_len += width + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t):
    prefix = "tensor("
    indent = len(prefix)
    if t.device.type == "meta":  # no data to show: its shape instead
        suffixes = ["device='meta'", f"size={tuple(t.shape)}"]
        if t.dtype not in (_dtype.default_float, _dtype.int64, _dtype.bool_):
            suffixes.append(f"dtype={t.dtype!r}")
        if t.grad_fn is not None:
            suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
        elif t.requires_grad:
            suffixes.append("requires_grad=True")
        return _add_suffixes(prefix + "...", suffixes, indent)
    arr = t._backend.to_numpy(t.detach()._data)
    if arr.dtype is _dtype.BFLOAT16:  # printed from its (exact) float32 values, as PyTorch's
        arr = arr.astype(np.float32)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    dtype = t.dtype
    if arr.size == 0 and arr.shape != (0,):
        suffixes.append(f"size={tuple(arr.shape)}")
    default_complex = _dtype.default_float.to_complex()
    if dtype not in (_dtype.default_float, default_complex, _dtype.int64, _dtype.bool_) or (
            arr.size == 0 and dtype is not _dtype.default_float):
        suffixes.append(f"dtype={dtype!r}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    if _dual.state.tangents:
        tangent = _dual.tangent_of(t)
        if tangent is not None:  # a dual tensor of forward-mode AD
            suffixes.append(f"tangent={tangent!r}")
    return _add_suffixes(prefix + array_str(arr, indent), suffixes, indent)
