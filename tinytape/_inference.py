"""Inference mode and inference tensors, as PyTorch's ``torch.inference_mode``.

Inside ``with inference_mode():`` nothing is recorded and every tensor made fresh (not a
view of a normal tensor) is an *inference tensor*: it carries an ``InferenceCounter`` in
place of a version counter.  Outside inference mode such a tensor may be read by any op,
but an op that records and saves it for backward, an in-place write to it, and
``requires_grad_()`` on it raise PyTorch's RuntimeErrors.

The counter does the checking, so no other path pays for it: outside inference mode,
``_record`` reading a saved tensor's version (``counter[0]``) raises, and an in-place write
raises when it bumps the counter, after the write, as PyTorch's (its check sits in the
version bump too).  Fresh tensors come from ``Tensor._make``/``Tensor._new``; while some thread is in
inference mode those two are swapped for versions that hand out inference counters to
the threads in it (per thread, as grad mode), so no other time pays for the check.
"""
import functools
import sys
import threading

from ._grad_mode import _GradModeContext, _state as _grad_state

SAVED_MESSAGE = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in inference mode "
    "in computation tracked by autograd. To work around this, you can make a clone to get a normal tensor "
    "and use it in autograd, or use `torch.no_grad()` instead of `torch.inference_mode()`.")
INPLACE_MESSAGE = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to get a "
    "normal tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 for more details.")
VERSION_MESSAGE = "Inference tensors do not track version counter."
REQUIRES_GRAD_MESSAGE = "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed."


class _State(threading.local):
    enabled = False


_state = _State()
_lock = threading.Lock()
_active = [0]  # inference_mode(True) blocks open in all threads
_plain = {}  # Tensor's own _make/_new while swapped out


class InferenceCounter(list):
    """An inference tensor's stand-in for a version counter: usable inside inference mode
    (in-place ops there bump it), refused outside."""

    def __getitem__(self, i):
        if not _state.enabled and sys._getframe(1).f_code in _saving_codes():
            raise RuntimeError(SAVED_MESSAGE)
        return list.__getitem__(self, i)  # (an in-place bump reads, then its write raises)

    def __setitem__(self, i, value):
        if not _state.enabled:
            raise RuntimeError(INPLACE_MESSAGE)
        list.__setitem__(self, i, value)


@functools.cache
def _saving_codes():
    """The code of the functions that save tensors for backward (they read the version)."""
    from .autograd import function
    return frozenset((function._record.__code__, function._saved.__code__))


def is_inference_mode_enabled():
    return _state.enabled


def _fresh_counter():
    return InferenceCounter([0]) if _state.enabled else [0]


def _swap_in():
    from ._tensor import Tensor
    make, new = Tensor.__dict__["_make"].__func__, Tensor.__dict__["_new"]
    _plain["_make"], _plain["_new"] = Tensor.__dict__["_make"], new

    def _make(data, requires_grad=False, grad_fn=None, output_nr=0, version=None, backend=None):
        return make(data, requires_grad, grad_fn, output_nr, _fresh_counter() if version is None else version, backend)

    def _new(self, data):
        t = new(self, data)
        if _state.enabled:
            t._version_counter = InferenceCounter([0])
        return t

    Tensor._make, Tensor._new = staticmethod(_make), _new


def _swap_out():
    from ._tensor import Tensor
    Tensor._make, Tensor._new = _plain.pop("_make"), _plain.pop("_new")


class inference_mode(_GradModeContext):
    """``with inference_mode():`` / ``@inference_mode()`` / ``@inference_mode``: nothing is
    recorded and the tensors made inside are inference tensors.  ``inference_mode(False)``
    leaves inference mode (and turns recording on) for a block nested in one."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):  # bare @inference_mode
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)  # inference on (recording off), or off (recording on)

    def __enter__(self):
        self._prev_grad, self._prev_inference = _grad_state.enabled, _state.enabled
        _grad_state.enabled = not self.mode
        _state.enabled = self.mode
        if self.mode:
            with _lock:
                _active[0] += 1
                if _active[0] == 1:
                    _swap_in()

    def __exit__(self, *exc):
        _grad_state.enabled, _state.enabled = self._prev_grad, self._prev_inference
        if self.mode:
            with _lock:
                _active[0] -= 1
                if _active[0] == 0:
                    _swap_out()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)(self.mode):
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return type(self)(self.mode)
