"""Anomaly detection: name the backward op that first produced a NaN, and show where
its forward ran.  ``with autograd.detect_anomaly():`` or ``set_detect_anomaly(True)``.

While it is on, every recorded entry keeps the stack of its forward call (costly:
a debugging mode), and backward checks each gradient an entry returns.
"""
import functools
import os
import traceback
import warnings

import numpy as np


class _State:
    enabled = False
    check_nan = True


_state = _State()  # process-wide, as PyTorch's


def is_anomaly_enabled():
    return _state.enabled


def is_anomaly_check_nan_enabled():
    return _state.check_nan


class set_detect_anomaly:
    """``set_detect_anomaly(True)`` turns detection on now (as a call) or for a block."""

    def __init__(self, mode, check_nan=True):
        self._prev = (_state.enabled, _state.check_nan)
        _state.enabled, _state.check_nan = bool(mode), bool(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.enabled, _state.check_nan = self._prev
        return False


class detect_anomaly:
    """Context manager and decorator: detection on inside it."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", UserWarning, stacklevel=2)
        self._prev = (_state.enabled, _state.check_nan)
        _state.enabled, _state.check_nan = True, self.check_nan
        return self

    def __exit__(self, *exc):
        _state.enabled, _state.check_nan = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


def forward_stack():
    """The forward call's stack, recorded on an entry while detection is on."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frames = traceback.extract_stack()
    while frames and os.path.abspath(frames[-1].filename).startswith(package + os.sep):
        frames.pop()  # the library's own frames: the stack ends at the user's call, as PyTorch's
    return traceback.format_list(frames)


def check_gradients(node, grads):
    """Raise if an entry's backward returned NaN (with its forward's stack as a warning)."""
    if not _state.check_nan:
        return
    for i, g in enumerate(grads):
        if g is None or not g.dtype.is_floating_point:
            continue
        if np.isnan(g._backend.to_numpy(g._data)).any():
            stack = getattr(node, "_forward_stack", None)
            where = "".join(stack) if stack else "(not recorded: the forward ran with anomaly detection off)\n"
            warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused "
                          f"the error:\n{where}", UserWarning, stacklevel=2)
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
