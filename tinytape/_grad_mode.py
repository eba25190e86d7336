"""Grad mode: whether operations are recorded on the tape.  Per thread, as PyTorch's."""
import functools
import threading


class _State(threading.local):
    enabled = True


_state = _State()


def is_grad_enabled():
    return _state.enabled


class _GradModeContext:
    """Base of the context managers below; each instance also works as a decorator."""

    mode = True

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self.mode

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)() if not isinstance(self, set_grad_enabled) else set_grad_enabled(self.mode):
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Don't record operations: results don't require grad.  ``with no_grad():`` or ``@no_grad()``."""

    mode = False


class enable_grad(_GradModeContext):
    """Record operations again inside a ``no_grad`` region."""

    mode = True


class set_grad_enabled(_GradModeContext):
    """``set_grad_enabled(False)`` switches recording off now (as a plain call) or for a block."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev = _state.enabled
        _state.enabled = self.mode

    def __enter__(self):
        pass  # already set on construction, as PyTorch does
