"""``tinytape.compile``: trace a function once per input signature, replay it after.

The first call with a new signature runs the function eagerly while every backend
kernel it reaches is recorded (forward, the backward it runs, optimizer updates under
``no_grad``, ``zero_grad``); later calls run the recorded program on the arguments' new
values and the parameters' current storage, with no autograd in between.  As
``jax.jit``: Python control flow is frozen at trace time, and reading a value while
tracing (``.item()``, ``bool(t)``) is an error.

A compiled call gives what the eager call gives, or refuses loudly (an error under
``fullgraph=True``; otherwise one warning naming the cause and the user's line, then an
eager run).  What makes that hold:

- the signature: tensor layouts and autograd state, the values and types of Python atoms
  among the arguments (of numbers used only as data, the type: ``scalars.py``), the identity
  of other argument objects, grad mode and the default dtype (``signature.py``);
- the guards: everything the function can reach, checked on every call (``guards.py``);
- the watch: calls whose effect a replay would not repeat refuse (``observe.py``);
- the check: the kernel-by-kernel replay runs at trace time on copies of the state the
  trace started from and must give the eager results bit for bit (``verify.py``), or the
  signature refuses; the fused code must give them too, checked on a thread beside the
  calls against what the trace left (``entry.py``), before any call runs it;
- the autograd boundary: a tensor argument on an autograd graph recorded outside, or a
  result whose graph a backward outside could still use, makes that signature eager;
- threads: one trace at a time (a call that finds another thread tracing runs
  eagerly); each program's replays take its lock, as its temporaries are its own.
"""
import functools
import sys
import threading
import time
import warnings

from .. import _random
from .._grad_mode import is_grad_enabled
from .._tensor import Tensor
from ..autograd import graph as _saved_hooks
from ..autograd.tape import current as current_tape
from ..backend.cpu import cpu as _cpu
from .capture import Capture, Unsupported
from .guards import Guard, first_changed, guard_function, reachable_state, with_inputs
from .observe import RandomStates, SideEffects, user_line
from .program import Program, StartState
from . import entry as _entry
from .entry import Entry
from .scalars import ScalarMiss, read_numbers_in_key, settle, stand_ins
from .signature import _signature, modes
from .verify import Mismatch, Snapshot

_CACHE_SIZE = 8  # programs per compiled function
_TRACE_LOCK = threading.Lock()  # the capture shadows shared backend methods: one trace at a time


def compile(fn=None, *, fullgraph=False, fuse=True, dynamic=None, backend="inductor", mode=None,  # noqa: A001
            options=None, disable=False, background=None):
    """Compile ``fn``; usable as ``@compile`` or ``@compile(fullgraph=True)``.

    ``fullgraph=True`` makes anything the compiler cannot replay an error instead of a
    warning and an eager run; ``fuse=False`` replays kernel by kernel (no generated
    Numba code).  The fused code compiles on a thread beside the calls, which replay kernel
    by kernel until it is checked (``background=False``, or ``TINYTAPE_COMPILE_BACKGROUND=0``:
    within the trace; ``wait()`` waits for it).  A module comes back wrapped, as PyTorch's ``OptimizedModule``: its
    ``forward`` compiled, its parameters its own (under ``_orig_mod.``).  PyTorch's
    ``dynamic``, ``backend``, ``mode`` and ``options`` are accepted and change nothing (a
    signature is traced per shape, one replay mode); ``disable=True`` gives ``fn`` back."""
    if fn is None:
        return functools.partial(compile, fullgraph=fullgraph, fuse=fuse, disable=disable, background=background)
    if disable:
        return fn
    if hasattr(fn, "_modules") and hasattr(fn, "forward"):
        from ..nn.compiled import OptimizedModule
        forward = CompiledFunction(fn.forward, fullgraph, fuse, background)
        forward.warning_stacklevel = 6  # through OptimizedModule.forward and Module.__call__
        return OptimizedModule(fn, forward)
    return CompiledFunction(fn, fullgraph, fuse, background)


class CompiledFunction:
    def __init__(self, fn, fullgraph, fuse, background=None):
        functools.update_wrapper(self, fn)
        self.fn, self.fullgraph, self.fuse = fn, fullgraph, fuse
        self.background = _entry.BACKGROUND if background is None else background
        self.programs = {}  # signature -> [Entry, ...]
        self.eager_signatures = {}  # signature -> why calls with it run eagerly
        self.eager = None  # why the function runs eagerly, once that is decided
        self.traces = 0
        self.value_args, self.scalar_inputs = set(), True  # number arguments a trace read: constants (scalars.py)
        self.state_changes = 0  # consecutive traces that changed Python state
        self.warning_stacklevel = 4  # the warning names the caller's line (a compiled module's: 6)

    def __get__(self, obj, objtype=None):  # as a method
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        if self.eager is not None or current_tape() is not None:
            # inside another function's trace this one runs eagerly, so that trace sees its kernels
            return self.fn(*args, **kwargs)
        if _saved_hooks.open_hooks[0] and _saved_hooks.current_hooks() is not None or \
                getattr(_saved_hooks._local, "disabled", None) is not None:
            return self._under_saved_tensors_hooks(args, kwargs)
        tensors = []
        key = _signature(args, kwargs, tensors, self.value_args if self.scalar_inputs else None)
        entries = self.programs.get(key)
        if entries:
            for entry in entries:
                if entry.ready(tensors):
                    try:
                        return entry.run(tensors, args, kwargs)
                    except ScalarMiss:  # a number expression fails or changes type, or a kernel raised
                        return self.fn(*args, **kwargs)  # on the state the call found: eager meets it
        elif key in self.eager_signatures:
            return self.fn(*args, **kwargs)
        if sum(len(v) for v in self.programs.values()) >= _CACHE_SIZE:
            self._go_eager(f"more than {_CACHE_SIZE} signatures (shapes, dtypes, requires_grad, "
                           "Python values it reads) were traced")
            return self.fn(*args, **kwargs)
        if not _TRACE_LOCK.acquire(blocking=False):
            return self.fn(*args, **kwargs)  # another thread is tracing: this call runs eagerly, as is
        try:
            return self._trace(key, tensors, args, kwargs)
        finally:
            _TRACE_LOCK.release()

    def _refuse(self, why, key=None):
        """Run eagerly from now on: every call, or (``key``) calls with this signature."""
        name = getattr(self.fn, "__qualname__", repr(self.fn))
        if self.fullgraph:
            raise RuntimeError(f"tinytape.compile({name}, fullgraph=True): {why}")
        if key is None:
            self.eager = why
        else:
            self.eager_signatures[key] = why
        warnings.warn(f"tinytape.compile({name}): {why}; running it eagerly", RuntimeWarning,
                      stacklevel=self.warning_stacklevel)

    def _under_saved_tensors_hooks(self, args, kwargs):
        """A call inside ``saved_tensors_hooks`` (or ``disable_saved_tensors_hooks``) runs
        eagerly: the hooks are Python a replay would not run, on tensors it may not even save
        (and entering hooks inside the function raises there)."""
        if not getattr(self, "_warned_saved_hooks", False) or self.fullgraph:
            self._warned_saved_hooks = True
            name = getattr(self.fn, "__qualname__", repr(self.fn))
            why = ("it is called inside saved_tensors_hooks (or disable_saved_tensors_hooks), whose hooks (or "
                   "error) a replay would not run")
            if self.fullgraph:
                raise RuntimeError(f"tinytape.compile({name}, fullgraph=True): {why}")
            warnings.warn(f"tinytape.compile({name}): {why}; running such calls eagerly", RuntimeWarning,
                          stacklevel=self.warning_stacklevel - 1)
        return self.fn(*args, **kwargs)

    def _go_eager(self, why):
        self._refuse(why)

    def _trace(self, key, tensors, args, kwargs):
        self.traces += 1
        if is_grad_enabled():
            for i, t in enumerate(tensors):
                if t._grad_fn is not None:
                    self._refuse(f"tensor argument {i} ({list(t.shape)}) is part of an autograd graph "
                                 f"recorded outside the function (grad_fn={t._grad_fn.name()}), which a "
                                 f"replay would not connect to (called at {user_line(_caller())})", key)
                    return self.fn(*args, **kwargs)
        state = reachable_state(self.fn, args, kwargs, tensors)
        if any(hasattr(t, "materialize") for t, _ in state.tensors.values()):
            # a lazy module's parameters, sized by its first call: that call runs eagerly (its
            # initialisation draws from the generator once), the next one traces
            self.traces -= 1
            return self.fn(*args, **kwargs)
        if state.refused is not None:
            self._go_eager(state.refused)
            return self.fn(*args, **kwargs)
        start = StartState(tensors, [t for t, _ in state.tensors.values()])
        graph = start.outer_graph()
        if graph is not None and is_grad_enabled():
            self._go_eager(f"it reads {state.tensors[id(graph)][1]}, a tensor on an autograd graph "
                           "recorded outside the function, which a replay would not connect to")
            return self.fn(*args, **kwargs)
        engines = _random.engines()
        snapshot = Snapshot(start, engines)
        backends = [_cpu] + [t._backend for t in tensors] + [t._backend for t in start.tensors]
        capture = Capture(backends)
        capture.fullgraph = self.fullgraph
        # the storages of the arguments and of the tensors the function reaches are read
        # afresh at each replay, as they are: never as a view of the array behind them
        capture.roots = {id(a) for a in start.data.values()}
        capture.roots.update(id(g._data) for g in start.grad.values() if g is not None)
        capture.roots.update(id(a) for a in engines)
        capture.engines = engines
        capture.reachable = state.reachable
        streams = RandomStates(state.random_streams)
        start_modes = modes()
        with capture, _ValueReads(self.fn, capture), SideEffects() as watch:
            call_args, call_kwargs = stand_ins(self, capture, args, kwargs, state.code_names)
            result = self.fn(*call_args, **call_kwargs)
        result = settle(capture, result, self.value_args)  # number arguments read: constants
        if capture.after_owned and not capture.read_outside & capture.after_owned:
            # a schedule's state is its step's, run after each replay: not guarded; the rates it
            # sets are numbers the program reads when it starts (unless the code reads them too)
            state.guards = with_inputs([g for g in state.guards if id(g.container) not in capture.after_owned],
                                       capture.number_inputs.values(), state.code_names)
        key = read_numbers_in_key(key, args, kwargs, self.value_args if self.scalar_inputs else None)
        why = capture.failed or watch.found
        if why is None:
            why = start.hooks_changed()
        if why is None and modes() != start_modes:
            why = ("it switches grad mode, the default dtype, anomaly detection, inference mode or autocast and "
                   "leaves it so (set_grad_enabled, set_default_dtype...), which a replay would not")
        drawn = streams.changed() if why is None else None
        if drawn is not None:
            # a replay would reuse the numbers this trace drew (dropout masks, randn)
            why = f"it draws random numbers from {drawn}, which a replay would repeat"
        if why is None:
            changed = first_changed(state.guards)
            if changed is not None:
                # Python state the function changes (an optimizer's state filling up on
                # its first step) is traced again from the new state; changing it on
                # every call (Adam's step count) is beyond a replay
                self.state_changes += 1
                if self.state_changes < 2:
                    return result
                why = f"it changes the Python state {changed} on every call, which a replay cannot"
        if why is None:
            live = _live_graph(result)
            if live is not None:
                self._refuse(f"it returns a tensor whose autograd graph ({live}) a backward outside "
                             "the function could use, which a replay would not record", key)
                return result
        program = None
        if why is None:
            try:
                program = Program(capture, tensors, start, result, watch.host_arrays, watch.created, watch.host_made,
                                  args, state.reachable)
            except Unsupported as e:
                why = e.what
        if why is None:
            guards = with_inputs(state.guards, capture.number_inputs.values(), state.code_names)
            guards += [Guard("call", query, None, query(), f"{query.__name__}()") for query in set(watch.queries)]
            entry = Entry(program, guard_function(guards), self.fuse, self.background)
            try:
                entry.check(snapshot, result)
            except Mismatch as e:
                why = str(e)
        if why is not None:
            self._go_eager(why)
            return result
        self.state_changes = 0
        entry.state = state  # the objects the guards hold stay alive with the program
        self.programs.setdefault(key, []).append(entry)
        return result

    def wait(self, timeout=None):
        """Wait until every traced program has its fused code (or is known to keep the
        kernel-by-kernel replay); False if ``timeout`` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        entries = [entry for entries in list(self.programs.values()) for entry in entries]  # (another thread may trace)
        return all([entry.wait(None if deadline is None else max(deadline - time.monotonic(), 0))
                    for entry in entries])

    def explain(self, file=None):
        """Print the captured kernel programs (one per traced signature)."""
        texts = []
        for key, entries in self.programs.items():
            for entry in entries:
                texts.append(entry.program.tape.format())
        text = "\n\n".join(texts)
        print(text, file=file)
        return text


def _caller():
    return sys._getframe(3)


def _live_graph(result):
    """The grad_fn name of a returned tensor whose graph could still be walked backward
    (no entry on it was freed by a backward), or None."""
    for t in _tensors_in(result):
        node = t._grad_fn
        if node is None:
            continue
        seen, stack, spent = set(), [node], False
        while stack and not spent:
            n = stack.pop()
            if id(n) in seen:
                continue
            seen.add(id(n))
            spent = n._released
            stack.extend(t for t in n.next_nodes if t is not None and hasattr(t, "next_nodes"))
        if not spent:
            return node.name()
    return None


def _tensors_in(value):
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _tensors_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors_in(v)


class _ValueReads:
    """While tracing, reading a tensor's value (``.item()``, ``bool(t)``) is a refusal naming
    the user's line: the trace (an eager run) gets the value and goes on, the function
    runs eagerly from then on; with ``fullgraph`` it is an error right there."""

    _methods = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__", "__array__")

    def __init__(self, fn, capture):
        self.fn_name = getattr(fn, "__qualname__", repr(fn))
        self.capture = capture

    def __enter__(self):
        self.saved = {m: Tensor.__dict__[m] for m in self._methods}
        fn_name, capture = self.fn_name, self.capture
        thread, saved = threading.get_ident(), self.saved

        def make(method):
            def read(self, *a, **k):
                if threading.get_ident() != thread or capture.depth:  # another thread's, or inside a kernel
                    return saved[method](self, *a, **k)
                why = (f"{_what(method)} reads a tensor's value while tracing {fn_name} "
                       f"({user_line(sys._getframe(1))}); a compiled function cannot depend on values: "
                       "return the tensor and read it outside (loss = step(x, y); loss.item())")
                if capture.fullgraph:
                    raise RuntimeError(f"tinytape.compile: {why}")
                if capture.failed is None:
                    capture.failed = why
                return saved[method](self, *a, **k)
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


__all__ = ["compile", "CompiledFunction"]


# ---------------------------------------------------------------- torch.compiler's small names


def is_compiling():
    """Whether this thread is tracing a compiled function (``torch.compiler.is_compiling``)."""
    from .capture import tracing
    return tracing()


is_dynamo_compiling = is_compiling


def reset():
    """``torch.compiler.reset``: the compiled functions keep their programs (each is its own
    cache); nothing global to clear."""


def disable(fn=None, recursive=True):
    """``torch.compiler.disable``: ``fn`` as it is (a function called inside a trace runs
    eagerly there anyway)."""
    return (lambda f: f) if fn is None else fn
