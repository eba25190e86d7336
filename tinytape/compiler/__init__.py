"""``tinytape.compile``: trace a function once per input signature, replay it after.

The first call with a new signature runs the function eagerly while every backend
kernel it reaches is recorded (forward, the backward it runs, optimizer updates under
``no_grad``, ``zero_grad``); later calls run the recorded program on the arguments' new
values and the parameters' current storage, with no autograd in between.  As
``jax.jit``: Python control flow is frozen at trace time, and reading a value while
tracing (``.item()``, ``bool(t)``) is an error.
"""
import functools
import os
import sys
import threading
import warnings

from numba.core.errors import NumbaError

from .._creation import default_generator
from .._tensor import Tensor
from ..autograd.tape import current as current_tape
from ..backend.cpu import cpu as _cpu
from .capture import Capture, Unsupported
from .guards import guard_function, numbers_unchanged, reachable_state
from .program import Program, StartState
from .replay import python_replay
from .runner import make_runner

_CACHE_SIZE = 8  # programs per compiled function
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def compile(fn=None, *, fullgraph=False, fuse=True):  # noqa: A001  (torch.compile's name)
    """Compile ``fn``; usable as ``@compile`` or ``@compile(fullgraph=True)``.

    ``fullgraph=True`` makes an op the compiler cannot replay an error instead of a
    warning and an eager run; ``fuse=False`` replays kernel by kernel (no generated
    Numba code)."""
    if fn is None:
        return functools.partial(compile, fullgraph=fullgraph, fuse=fuse)
    return CompiledFunction(fn, fullgraph, fuse)


class CompiledFunction:
    def __init__(self, fn, fullgraph, fuse):
        functools.update_wrapper(self, fn)
        self.fn, self.fullgraph, self.fuse = fn, fullgraph, fuse
        self.programs = {}  # signature -> [Entry, ...]
        self.eager = None  # why the function runs eagerly, once that is decided
        self.traces = 0
        self.state_changes = 0  # consecutive traces that changed Python state

    def __get__(self, obj, objtype=None):  # as a method
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        if self.eager is not None or current_tape() is not None:
            # inside another function's trace this one runs eagerly, so that trace sees its kernels
            return self.fn(*args, **kwargs)
        tensors = []
        key = _signature(args, kwargs, tensors)
        entries = self.programs.get(key)
        if entries:
            for entry in entries:
                if entry.ready(tensors):
                    return entry.run(tensors)
        if sum(len(v) for v in self.programs.values()) >= _CACHE_SIZE:
            self._go_eager(f"more than {_CACHE_SIZE} signatures (shapes, dtypes, requires_grad, "
                           "Python numbers it reads) were traced")
            return self.fn(*args, **kwargs)
        return self._trace(key, tensors, args, kwargs)

    def _go_eager(self, why):
        self.eager = why
        name = getattr(self.fn, "__qualname__", repr(self.fn))
        if self.fullgraph:
            raise RuntimeError(f"tinytape.compile({name}, fullgraph=True): {why}")
        warnings.warn(f"tinytape.compile({name}): {why}; running it eagerly", RuntimeWarning,
                      stacklevel=3)

    def _trace(self, key, tensors, args, kwargs):
        self.traces += 1
        state_tensors, numbers = reachable_state(self.fn)
        start = StartState(tensors, [t for t, _ in state_tensors])
        backends = [_cpu] + [t._backend for t in tensors] + [t._backend for t in start.tensors]
        capture = Capture(backends)
        capture.fullgraph = self.fullgraph
        # the storages of the arguments and of the tensors the function reaches are read
        # afresh at each replay, as they are: never as a view of the array behind them
        capture.roots = {id(a) for a in start.data.values()}
        capture.roots.update(id(g._data) for g in start.grad.values() if g is not None)
        rng_before = default_generator.get_state()
        with capture, _ValueReadsRaise(self.fn):
            result = self.fn(*args, **kwargs)
        why = capture.failed
        if why is None and default_generator.get_state() != rng_before:
            # a replay would reuse the numbers this trace drew (dropout masks, randn)
            why = "it draws random numbers (dropout, randn, ...), which a replay would repeat"
        if why is None:
            changed = numbers_unchanged(numbers)
            if changed is not None:
                # Python state the function changes (an optimizer's state filling up on
                # its first step) is traced again from the new state; changing it on
                # every call (Adam's step count) is beyond a replay
                self.state_changes += 1
                if self.state_changes < 2:
                    return result
                why = f"it changes the Python state {changed} on every call, which a replay cannot"
        if why is None:
            try:
                program = Program(capture, tensors, start, result)
            except Unsupported as e:
                why = e.what
        if why is not None:
            self._go_eager(why)
            return result
        self.state_changes = 0
        entry = _Entry(program, numbers, self.fuse)
        self.programs.setdefault(key, []).append(entry)
        return result

    def explain(self, file=None):
        """Print the captured kernel programs (one per traced signature)."""
        texts = []
        for key, entries in self.programs.items():
            for entry in entries:
                texts.append(entry.program.tape.format())
        text = "\n\n".join(texts)
        print(text, file=file)
        return text


class _Entry:
    """One traced program with its guards and its replay function."""

    def __init__(self, program, numbers, fuse):
        self.program, self.numbers = program, numbers
        self.numbers_unchanged = guard_function(numbers)
        self.kind = "python"
        replay = None
        if fuse:
            from .codegen import fused_replay
            replay = fused_replay(program)
            if replay is not None:
                self.kind = "fused_untried"
            else:
                from .cuda_fuse import cuda_fused_replay  # imports numba.cuda (0.3 s): only for CUDA programs
                replay = cuda_fused_replay(program)
                self.kind = "cuda_fused" if replay is not None else "python"
        if replay is None:
            replay = python_replay(program)
        self._use(replay)

    def _use(self, replay):
        self.replay, self.externals, self.fresh, self.source = replay
        self.call = make_runner(self.program, self.replay, self.externals, self.fresh)

    def ready(self, tensors):
        return self.numbers_unchanged() and self.program.guards_pass()

    def run(self, tensors):
        if self.kind == "fused_untried":
            try:  # numba types and compiles on this first call, before anything runs
                result = self.call(tensors)
            except NumbaError as e:
                self.program.not_fused = f"numba rejected the generated code: {str(e).splitlines()[0]}"
                self.kind = "python"
                self._use(python_replay(self.program))
                return self.call(tensors)
            self.kind = "fused"
            return result
        return self.call(tensors)


def _signature(args, kwargs, tensors):
    """Hashable description of the arguments; tensors are appended to ``tensors``.  A
    tensor is described by its layout (shape, dtype, strides), device and autograd
    state; the key ends with which tensor arguments share a storage, since a program
    traced with ``f(x, x)`` reads one buffer where ``f(x, y)`` needs two."""
    if not kwargs and all(type(a) is Tensor for a in args):  # the common case, inline
        tensors += args
        key = tuple([(a._data.shape, a._data.dtype, a._data.strides, a._backend, a._requires_grad,
                      a._grad is None) for a in args])
        return key + _sharing(tensors) if len(tensors) > 1 else key

    def sig(v):
        if isinstance(v, Tensor):
            tensors.append(v)
            d = v._data
            return ("T", d.shape, d.dtype.str, d.strides, v._backend.device.type, v._requires_grad,
                    v._grad is None)
        if isinstance(v, (list, tuple)):
            return (type(v).__name__,) + tuple(sig(x) for x in v)
        if isinstance(v, dict):
            return ("dict",) + tuple((k, sig(x)) for k, x in sorted(v.items()))
        try:
            hash(v)
        except TypeError:
            return ("id", id(v))
        return ("V", type(v).__name__, v)
    key = tuple(sig(a) for a in args) + tuple((k, sig(v)) for k, v in sorted(kwargs.items()))
    return key + _sharing(tensors) if len(tensors) > 1 else key


def _storage(t):
    """The array owning a tensor's memory (numpy views point at it; CUDA views hold it)."""
    d = t._data
    base = getattr(d, "base", None)
    if base is None:
        base = getattr(d, "buf", None)
    return d if base is None else base


def _sharing(tensors):
    """Per tensor argument, the first argument whose memory it shares (views of one array
    count as sharing, whether or not they overlap)."""
    owners = [_storage(t) for t in tensors]
    return tuple(next(j for j in range(i + 1) if owners[j] is o) for i, o in enumerate(owners))


class _ValueReadsRaise:
    """While tracing, reading a tensor's value is an error naming the user's line."""

    _methods = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__",
                "__array__")

    def __init__(self, fn):
        self.fn_name = getattr(fn, "__qualname__", repr(fn))

    def __enter__(self):
        self.saved = {m: Tensor.__dict__[m] for m in self._methods}
        fn_name = self.fn_name

        thread, saved = threading.get_ident(), self.saved

        def make(method):
            def read(self, *a, **k):
                if threading.get_ident() != thread:  # another thread, not the one tracing
                    return saved[method](self, *a, **k)
                raise RuntimeError(
                    f"tinytape.compile: {_what(method)} reads a tensor's value while tracing "
                    f"{fn_name} ({_user_line()}); a compiled function cannot depend on values: "
                    "return the tensor and read it outside (loss = step(x, y); loss.item())")
            return read
        for m in self._methods:
            setattr(Tensor, m, make(m))
        return self

    def __exit__(self, *exc):
        for m, f in self.saved.items():
            setattr(Tensor, m, f)


def _what(method):
    return {"__bool__": "bool(tensor)", "__float__": "float(tensor)", "__int__": "int(tensor)",
            "__index__": "using a tensor as an index", "__array__": "np.asarray(tensor)"}.get(
        method, f".{method}()")


def _user_line():
    frame = sys._getframe(2)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "unknown line"
    import linecache
    text = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno}: {text}"


__all__ = ["compile", "CompiledFunction"]
