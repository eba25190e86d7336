"""Capture: run a function eagerly while recording every backend kernel call it makes.

The one place that knows how kernels are reached: ops call ``tensor._backend.<kernel>(...)``
on a backend instance, so while tracing each public method of the backend instances in
use is shadowed by an instance attribute that calls the real kernel and records
``(kernel, argument buffers / static values, output buffers)`` on a ``Tape``.  Buffers
are numbered in order of first sight; a buffer no recorded call produced is *external*
(an argument, a parameter's storage, a constant) and is resolved when the trace ends.
"""
import functools
import inspect
import sys
import threading

import numpy as np

from .._tracing import ACTIVE, tracing
from ..autograd.tape import Tape
from ..backend.layout import ORDER_FOLLOWING, call_in_order, call_order
from .observe import restore_profile, site_text, user_line, user_site
from .scalars import _In, value_of

# backend methods that only answer questions about layout: they steer Python control
# flow (baked into the trace) and compute nothing
QUERIES = frozenset({"owns", "may_alias"})
# backend methods that read values onto the host: a trace cannot follow the value
HOST_READS = frozenset({"to_numpy"})
# numpy's own routines on host arrays (complex numbers, Fourier transforms): no kernel to replay
HOST_COMPUTES = frozenset({"host_compute"})


_ACTIVE = ACTIVE  # the capture open on some thread (one trace at a time), if any


def number_input(container, key, index=None, truth=False):
    """``container[key]`` (``container[key][index]``: an element of a tuple there), a number
    that changes from call to call (a param group's learning rate, the momentum or the
    first beta a cyclic schedule moves): eagerly the number itself; inside a trace on the
    CPU a 0-d float64 tensor that is an *input* of the program — each replay reads it
    afresh, and the guards check only its type (``truth``: and whether it is 0, where the
    caller branched on that; for ``index``, the tuple's other elements by value) — so a
    schedule that sets a new number every step never retraces."""
    value = container[key] if index is None else container[key][index]
    capture = _ACTIVE[0] if _ACTIVE else None
    if capture is None or capture.thread != threading.get_ident() or type(value) is not float \
            or capture.failed is not None or any(b.device.type != "cpu" for b in capture.backends):
        return value  # (on a GPU the rate stays a constant of the trace, guarded by value)
    if capture.after_replay:
        # a replay reads its numbers when it starts, before the steps it runs after the program
        capture.fail(f"it reads {key!r} after {type(capture.after_replay[0][0]).__name__}.step(), which a replay "
                     "runs after the program (step the schedule after the optimizer)")
    from .._tensor import Tensor
    arr = np.array(value, np.float64)
    b = capture.number(arr)
    capture.external.append(b)
    capture.roots.add(id(arr))
    capture.number_inputs[b] = (container, key, index, truth)
    capture.number_values[b] = value  # (the check replays with the trace's number)
    return Tensor._make(arr)


# library code installs what it watches while a trace runs (a schedule's step and attribute
# reads) and nothing when none runs: ``watch()`` patches and returns the undo
TRACE_WATCHES = []


def replayed_after_the_program(step):
    """Decorates a Python-only ``step(self)`` that sets the numbers a program reads as inputs
    (a learning-rate schedule's: each group's ``lr``).  Called without arguments inside a
    trace, on an object the function reached before it started, and running no kernel, it
    is recorded to run again after each replay: the program reads the rates at its start,
    as the trace did, and the step moves the schedule on in Python, as eager does.  The
    object's own state (and that of the schedules it steps) is then the step's, not a
    constant of the trace: its guards are dropped, so a schedule that moves every call
    replays one program.  Otherwise the step just runs, and what it changes is state the
    guards see (a new rate every call: the function runs eagerly after two traces)."""
    @functools.wraps(step)
    def deferred(self, *args, **kwargs):
        capture = _ACTIVE[0] if _ACTIVE else None
        if capture is None or capture.thread != threading.get_ident():
            return step(self, *args, **kwargs)
        if capture.stepping is not None:  # stepped by another schedule (SequentialLR's): its state is that one's
            capture.stepping.append(self)
            return step(self, *args, **kwargs)
        calls, capture.stepping = len(capture.calls), [self]
        try:
            result = step(self, *args, **kwargs)
        finally:
            owned, capture.stepping = capture.stepping, None
        if not args and not kwargs and len(capture.calls) == calls and id(self) in capture.reachable:
            capture.after_replay.append((self, step))
            for obj in _with_parts(owned):
                capture.after_owned.update((id(obj), id(object.__getattribute__(obj, "__dict__"))))
        return result
    deferred.replayed_after_the_program = True
    return deferred


def _with_parts(owned):
    """The schedules in ``owned`` and those they hold (SequentialLR's, which a later step
    restarts); read with ``object.__getattribute__``, which is no read of the function's."""
    out, todo = [], list(owned)
    while todo:
        obj = todo.pop()
        if any(obj is o for o in out):
            continue
        out.append(obj)
        for value in object.__getattribute__(obj, "__dict__").values():
            for part in value if isinstance(value, (list, tuple)) else (value,):
                if getattr(getattr(type(part), "step", None), "replayed_after_the_program", False):
                    todo.append(part)
    return out


def schedule_touched(obj):
    """An attribute of ``obj`` (a schedule) read or set while tracing.  Inside a step
    (``replayed_after_the_program``) the object is that step's (a schedule SequentialLR
    restarts); outside, the function reads or sets its state itself (``get_last_lr()``,
    ``last_epoch``), which then stays guarded, whatever its step does."""
    capture = _ACTIVE[0] if _ACTIVE else None
    if capture is None or capture.thread != threading.get_ident():
        return
    if capture.stepping is not None:
        capture.stepping.append(obj)
    else:
        capture.read_outside.add(id(obj))


def refuse(why):
    """Library code that a replay would compute otherwise than the eager run that traces it
    says so: the trace is refused (``fullgraph``: an error)."""
    capture = _ACTIVE[0] if _ACTIVE else None
    if capture is not None and capture.thread == threading.get_ident():
        capture.fail(why)


def _complex(args, out):
    """Whether a backend call reads or makes a complex array."""
    for a in args + (out if isinstance(out, tuple) else (out,)):
        if getattr(getattr(a, "dtype", None), "kind", None) == "c":
            return True
    return False


def standing_in():
    """Whether numbers are 0-d tensors standing in for them (``number_input``, an
    optimizer's step count): inside a trace not yet refused.  A refused trace is an eager
    run, and computes with the numbers themselves, as eager does."""
    return tracing() and _ACTIVE[0].failed is None


class Unsupported(RuntimeError):
    """The traced function did something a compiled program cannot replay."""

    def __init__(self, what):
        super().__init__(what)
        self.what = what


def is_buffer(x):
    """A backend array: numpy's on the CPU, the CUDA backend's strided device views."""
    return isinstance(x, np.ndarray) or (
        hasattr(x, "strides") and hasattr(x, "dtype") and not isinstance(x, (np.generic, type)))


def _byte_bounds(arr):
    """(lowest, highest + 1) byte address ``arr`` touches."""
    lo = hi = arr.__array_interface__["data"][0]
    for n, st in zip(arr.shape, arr.strides):
        if n == 0:
            return lo, lo
        if st >= 0:
            hi += (n - 1) * st
        else:
            lo += (n - 1) * st
    return lo, hi + arr.itemsize


def strided_view(base, offset, shape, strides):
    """The view of ``base`` at byte ``offset`` with ``shape`` and ``strides``."""
    return np.ndarray(shape, base.dtype, buffer=base, offset=offset, strides=strides)


def _first_parameter(method):
    try:
        params = list(inspect.signature(method).parameters)
    except (TypeError, ValueError):
        return None
    return params[0] if params else None


def kernel_names(backend):
    cls = type(backend)
    return [n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n))]


def own_kernel(backend, name):
    """``backend.<name>`` as its class defines it: while a trace runs, the instance holds the
    trace's recording stand-in (``Capture._wrap``), which a replay built meanwhile on another
    thread (the fused code's check) must not keep."""
    for klass in type(backend).__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name].__get__(backend, type(backend))
    return getattr(backend, name)


def _mentions(templates, b):
    for t in templates:
        if t[0] == "b" and (t[1] == b or isinstance(t[1], tuple) and b in t[1]):
            return True
        if t[0] == "l" and _mentions(t[2], b):
            return True
    return False


class Capture:
    """While open, every kernel call on ``backends`` is recorded on ``self.tape``."""

    def __init__(self, backends):
        self.backends = list(dict.fromkeys(backends))
        self.tape = Tape()
        self.buffer_of = {}  # id(array) -> buffer number
        self.arrays = []  # buffer number -> array (kept alive so ids stay unique)
        self.external = []  # buffers first seen as an input: resolved after the trace
        self.roots = set()  # ids of arrays that are external as they are (tensors' storages)
        self.failed = None  # why the trace cannot be replayed
        self.fullgraph = False
        self.depth = 0
        self.thread = threading.get_ident()  # only this thread's calls belong to the trace  # > 0 inside a kernel call (a backend calling itself is one call)
        self.calls = []  # per tape entry: (backend index, kernel, args template, kwargs template)
        self.lines = []  # per tape entry: its label and the user's (file, line) that ran it
        self.first_values = {}  # external buffer -> its contents when the trace first read it
        self.number_inputs = {}  # external buffer -> (container, key, index, truth): where its number is
        self.scalars = None  # the number arguments' stand-ins (``scalars.Scalars``), if any
        self.scalar_inputs = {}  # external buffer -> (expression, type, scalar kernel, dtype, trace's array)
        self.engines = []  # random generators' state arrays: read and advanced in place by a replay
        self.number_values = {}  # number input's buffer -> the number the trace read
        self.reachable = frozenset()  # ids of the objects the function reached before the trace
        self.stepping = None  # the schedules a ``replayed_after_the_program`` step runs, while it runs
        self.after_replay = []  # (object, step): run after each replay
        self.after_owned = set()  # ids of the objects (and their __dict__s) those steps own
        self.read_outside = set()  # ids of schedules the function read outside their steps
        # id(array a kernel's output is a view of) -> (that array, the output's buffer): a view of
        # the same memory made later (``dx.reshape(...)`` of a kernel's reshaped result) is
        # that output's view, not a constant of the trace
        self.output_bases = {}

    # ---- numbering ----
    def number(self, arr):
        b = self.buffer_of.get(id(arr))
        if b is None:
            b = self.buffer_of[id(arr)] = len(self.arrays)
            self.arrays.append(arr)
        return b

    def _template(self, value, inputs):
        """A call argument as ('b', buffer) / ('l', [templates]) / ('c', constant)."""
        if is_buffer(value):
            b = self.buffer_of.get(id(value))
            if b is None:
                b = self._first_sight(value)
            inputs.append(b)
            return ("b", b)
        if isinstance(value, (list, tuple)) and any(is_buffer(v) for v in value):
            return ("l", type(value), [self._template(v, inputs) for v in value])
        return ("c", value)

    def _output_view(self, arr, base):
        """``arr``, a view of memory a recorded kernel returned a view of, as a view of that
        output's buffer (None where it lies outside it: then the trace cannot follow it)."""
        _, out_b = self.output_bases[id(base)]
        out = self.arrays[out_b]
        start = arr.__array_interface__["data"][0] - out.__array_interface__["data"][0]
        lo, hi = _byte_bounds(arr)
        out_lo, out_hi = _byte_bounds(out)
        if start < 0 or lo < out_lo or hi > out_hi or not (out.flags.c_contiguous or out.flags.f_contiguous):
            self.fail("a view reaches memory a kernel's result does not show")
            return None
        b = self.number(arr)
        attrs = (start, arr.shape, arr.strides)
        self.tape.record("strided_view", None, (out_b,), (b,), attrs)
        self.calls.append((None, "strided_view", (("b", out_b),) + tuple(("c", a) for a in attrs), {}, b))
        self.lines.append((self.tape.label, user_site(sys._getframe(2))))
        return b

    def _first_sight(self, arr):
        """Number an array no recorded call produced.  A numpy view made outside the
        backend (``t._data.reshape(...)`` in an op) is recorded as a view of the array
        that owns the memory, so a replay derives it from that array's new value."""
        base = getattr(arr, "base", None)
        if isinstance(arr, np.ndarray) and isinstance(base, np.ndarray) and id(base) not in self.buffer_of \
                and id(base) in self.output_bases and id(arr) not in self.roots:
            b = self._output_view(arr, base)
            if b is not None:
                return b
        if isinstance(arr, np.ndarray) and isinstance(base, np.ndarray) and id(arr) not in self.roots:
            root = self.buffer_of.get(id(base))
            if root is None:
                root = self._first_sight(base)
            offset = arr.__array_interface__["data"][0] - base.__array_interface__["data"][0]
            b = self.number(arr)
            attrs = (offset, arr.shape, arr.strides)
            self.tape.record("strided_view", None, (root,), (b,), attrs)
            self.calls.append((None, "strided_view", (("b", root),) + tuple(("c", a) for a in attrs), {}, b))
            self.lines.append((self.tape.label, user_site(sys._getframe(1))))
            return b
        b = self.number(arr)
        self.external.append(b)
        if isinstance(arr, np.ndarray) and id(arr) not in self.roots:
            # a constant (a tensor made from host data): a later in-place op must not change
            # what a replay starts from
            self.first_values[b] = arr.copy()
        return b

    # ---- recording ----
    def _wrap(self, index, backend, name):
        real = getattr(backend, name)
        capture = self
        takes_op = _first_parameter(real) == "op"

        if name in HOST_READS or name in HOST_COMPUTES:
            what = "reads tensor values on the host" if name in HOST_READS else "computes with numpy on the host"

            def host_read(*args, **kwargs):
                if capture.depth or threading.get_ident() != capture.thread:
                    # inside a recorded kernel call (flat_positions): replayed with it; or another
                    # thread's work (a replay the fusing thread checks)
                    return real(*args, **kwargs)
                capture.fail(f"{capture.tape.label or 'an op'} {what} ({name})")
                return real(*args, **kwargs)
            return host_read

        def kernel(*args, **kwargs):
            if capture.depth or name in QUERIES or threading.get_ident() != capture.thread:
                return real(*args, **kwargs)  # nested, a question, or another thread's work
            profile = sys.getprofile()
            sys.setprofile(None)  # recording, the kernel and numba compiling it are machinery, not the traced function
            try:
                return record(args, kwargs)
            finally:
                restore_profile(profile)

        def record(args, kwargs):
            if capture.scalars is not None:
                made = capture._scalar_input(name, real, args, kwargs)
                if made is not None:
                    return made
            # a number argument read: a constant (as is a stand-in an earlier trace left behind)
            args = tuple(value_of(a) for a in args)
            kwargs = {k: value_of(v) for k, v in kwargs.items()}
            if name in ORDER_FOLLOWING and kwargs.get("out") is None:
                order = call_order(name, args)
                if order is not None:  # recorded as what it is: two views around a C-ordered kernel call
                    return call_in_order(backend, name, order, args)
            inputs = []
            args_t = tuple(capture._template(a, inputs) for a in args)
            kwargs_t = {k: capture._template(v, inputs) for k, v in kwargs.items()}
            capture.depth += 1
            try:
                out = real(*args, **kwargs)
            finally:
                capture.depth -= 1
            if _complex(args, out):  # numpy's complex loops, not kernels a program can hold
                capture.fail(f"{capture.tape.label or 'an op'} computes with complex numbers ({name})")
                return out
            if out is None:  # a write into its first buffer argument (copy_into, setitem)
                if not inputs:
                    capture.fail(f"backend call {name} with no buffer")
                    return out
                outputs = (inputs[0],)
                out_t = None
            elif is_buffer(out):
                outputs = (capture.number(out),)
                out_t = outputs[0]
            elif isinstance(out, tuple) and all(is_buffer(o) for o in out):
                outputs = tuple(capture.number(o) for o in out)
                out_t = outputs
            else:  # a question about layout (a bool, a shape): steers Python, computes nothing
                return out
            for o, b in zip(out if isinstance(out, tuple) else (out,), outputs):
                base = getattr(o, "base", None)
                if isinstance(base, np.ndarray) and id(base) not in capture.buffer_of:
                    capture.output_bases[id(base)] = (base, b)  # (the array kept: its id stays its own)
            op = args[0] if takes_op and args else None
            statics = args_t[1:] if takes_op else args_t
            attrs = tuple(a[1] for a in statics if a[0] == "c")
            attrs += tuple(f"{k}={v[1]!r}" for k, v in kwargs_t.items() if v[0] == "c")
            capture.tape.record(name, op, inputs, outputs, attrs)
            capture.calls.append((index, name, args_t, kwargs_t, out_t))
            capture.lines.append((capture.tape.label, user_site(sys._getframe(2))))
            return out

        return kernel

    def _scalar_input(self, name, real, args, kwargs):
        """``scalar(s, dtype)`` of a number argument's stand-in ``s`` into a float dtype, on
        the CPU: the array is an input of the program, made at each replay by the same
        kernel from the expression evaluated on the call's numbers."""
        if name != "scalar" or len(args) != 2 or kwargs or not isinstance(args[0], _In) \
                or args[0]._s is not self.scalars or np.dtype(args[1]).kind != "f" or any(b.device.type != "cpu" for b in self.backends):
            return None
        p = args[0]
        arr = real(p._v, args[1])
        b = self.number(arr)
        self.external.append(b)
        self.roots.add(id(arr))
        self.scalar_inputs[b] = (self.scalars.function(p), type(p._v), real, args[1], arr.copy())
        return arr

    def reader(self, b):
        """'<op> at <user line>' of the first recorded call that read or wrote buffer ``b``."""
        for (label, site), (_, _, args_t, kwargs_t, out_t) in zip(self.lines, self.calls):
            if _mentions(args_t, b) or _mentions(tuple(kwargs_t.values()), b) or _mentions((("b", out_t),), b):
                return f"{label or 'an op'} at {site_text(site)}"
        return "an op"

    def fail(self, why):
        """Note that the trace cannot be replayed; the function still runs to its end
        eagerly (or, with ``fullgraph``, stops here)."""
        why = f"{why}, at {user_line(sys._getframe(1))}"
        if self.fullgraph:
            raise Unsupported(f"tinytape.compile(fullgraph=True): {why}")
        if self.failed is None:
            self.failed = why

    def __enter__(self):
        _ACTIVE.append(self)
        self.undo_watches = [watch() for watch in TRACE_WATCHES]
        self.tape.__enter__()
        self._installed = []
        for i, backend in enumerate(self.backends):
            for name in kernel_names(backend):
                setattr(backend, name, self._wrap(i, backend, name))
                self._installed.append((backend, name))
        return self

    def __exit__(self, *exc):
        for backend, name in self._installed:
            try:
                delattr(backend, name)
            except AttributeError:
                pass
        self.tape.__exit__(*exc)
        for undo in reversed(self.undo_watches):
            undo()
        _ACTIVE.remove(self)
