"""Watching a trace for effects a replay would not repeat.

A replay runs the recorded kernels and nothing else: Python that prints, draws random
numbers, reads a file, asks the clock or takes the next item of an iterator made before
the call ran once, at trace time, and its value is frozen into the program.  While a
function is traced, ``sys.setprofile`` sees every call it makes (Python functions and C
functions alike); the first such call refuses the compile, naming the call and the
user's line.  Profiling costs the trace about 2x; replays are not profiled.
"""
import _io
import _warnings
import importlib
import posix
import _thread
import contextvars
import builtins
import dis
import gc
import io
import os
import random
import sys
import time

import numpy as np

from .. import _creation
from .. import environment as _environment
from .._tensor import Tensor
from .guards import is_library_file

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_GENERATOR_FLAGS = 0x20 | 0x80 | 0x200  # CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR
_RANDOM_TYPES = (random.Random, np.random.Generator, np.random.BitGenerator, np.random.RandomState)
_CLOCK = {"time", "perf_counter", "monotonic", "process_time", "time_ns", "perf_counter_ns",
          "monotonic_ns", "thread_time", "sleep"}
_IO = {"print", "input", "open"}
_QUIET_MODULES = ("warnings",)
_MAKE_CODE = Tensor._make.__code__
_DRAW_CODE = _creation.Generator.rng.fget.__code__
# the user's reads of a generator's state or seed: what they answer changes with every draw
# and every manual_seed, and a replay would hand back the trace's answer (the library's own
# reads, to put the state back as fork_rng and checkpoint do, are not the function's result)
_SEED_READS = {_creation.Generator.get_state.__code__, _creation.Generator.initial_seed.__code__,
               _creation.get_rng_state.__code__, _creation.initial_seed.__code__}
# the user's reseeding of a generator: a replay draws on from the generator's state instead
_SEED_WRITES = {f.__code__ for f in (_creation.Generator.manual_seed, _creation.Generator.seed,
                                     _creation.Generator.set_state, _creation.Generator.graphsafe_set_state,
                                     _creation.Generator.set_offset, _creation.manual_seed, _creation.seed,
                                     _creation.set_rng_state)}
_IMPORT_MODULE_CODE = importlib.import_module.__code__
# a library query whose answer is no setting of the library's own (``_switches``): the
# thread count, which replays follow by themselves, but the user's code may branch on
_QUERIES = {_environment.get_num_threads.__code__: _environment.get_num_threads}
_ENVIRON_CODES = {os._Environ.__getitem__.__code__, os.getenv.__code__}
_CREATION_FILE = _creation.tensor.__code__.co_filename
_CREATION_CODES = {_creation.tensor.__code__, _creation.from_numpy.__code__, _creation.as_tensor.__code__}  # a warning shown once is what eager shows too


def user_site(frame, _inside={}):
    """(file, line) of the innermost frame outside tinytape: what ``user_line`` prints,
    taken per recorded call (whether a code object is tinytape's is asked once)."""
    while frame is not None:
        code = frame.f_code
        inside = _inside.get(code)
        if inside is None:
            inside = _inside[code] = os.path.abspath(code.co_filename).startswith(_PACKAGE_DIR)
        if not inside:
            return code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None


def site_text(site):
    """'file:line: text' of a ``user_site``."""
    if site is None:
        return "unknown line"
    import linecache
    filename, lineno = site
    return f"{filename}:{lineno}: {linecache.getline(filename, lineno).strip()}"


def user_line(frame):
    """'file:line: text' of the innermost frame outside tinytape (the user's line)."""
    return site_text(user_site(frame))


def restore_profile(previous):
    """Put back the profiler ``sys.getprofile()`` returned: a function, None, or a C
    profiler such as a ``cProfile.Profile`` (not callable: it is switched on again)."""
    if previous is None or callable(previous):
        sys.setprofile(previous)
    elif hasattr(previous, "enable"):
        sys.setprofile(None)
        previous.enable()
    else:
        sys.setprofile(None)


class SideEffects:
    """``with SideEffects() as watch:`` ... ``watch.found``: the first effect, or None."""

    def __init__(self):
        self.found = None
        self.started = set()  # generator frames started during the trace
        self.host_arrays = []  # numpy arrays tensors were made from: their contents are guarded
        self.created = {}  # id -> tensor made during the trace (kept so ids stay unique)
        self.host_made = {}  # id -> tensor a creation function made (tensor(), arange(), ...)
        self.queries = []  # library queries the user's code called (get_num_threads): guarded by their answer

    def __enter__(self):
        self.outer = sys._getframe(1)  # the trace's own frame: the traced function runs below it
        self.previous = sys.getprofile()
        sys.setprofile(self._event)
        return self

    def __exit__(self, *exc):
        restore_profile(self.previous)
        return False

    def _event(self, frame, event, arg):
        if event == "return":
            code = frame.f_code
            if code is _MAKE_CODE:
                self.created[id(arg)] = arg
            elif code.co_filename == _CREATION_FILE and isinstance(arg, Tensor):
                self.host_made[id(arg)] = arg  # made from Python values and host arrays: a constant
            return
        if self.found is not None:
            return
        if event == "c_call":
            why = self._c_call(frame, arg)
        elif event == "call":
            why = self._call(frame)
        else:
            return
        # (the machinery test starts at the caller for a call into importlib itself)
        start = frame.f_back if event == "call" and frame.f_code is _IMPORT_MODULE_CODE else frame
        if why is not None and not _inside_machinery(start, self.outer):
            self.found = f"{why} at {user_line(frame)}"

    def _c_call(self, frame, fn):
        owner = getattr(fn, "__self__", None)
        if isinstance(owner, _RANDOM_TYPES) or getattr(fn, "__module__", None) in ("random", "_random", "numpy.random"):
            return f"it draws random numbers ({_name(fn)}), which a replay would repeat"
        name = getattr(fn, "__name__", None)
        if owner is time and name in _CLOCK:
            return f"it reads the clock ({_name(fn)})"
        if (owner is builtins or owner is io or owner is _io) and name in _IO or isinstance(owner, io.IOBase):
            return f"it has a side effect a replay would not repeat ({_name(fn)})"
        if owner is builtins and name in ("globals", "locals", "vars", "eval", "exec"):
            if not is_library_file(frame.f_code.co_filename):
                return f"it looks names up by string ({name}()), which the compiler cannot guard"
        if owner is _warnings and name == "warn" and not is_library_file(frame.f_code.co_filename):
            return "it issues a warning, which a replay would not"
        if owner is posix:
            return f"it asks the operating system ({_name(fn)}: the file system, the process), which a replay would not"
        if owner is _thread and name in ("start_new_thread", "start_joinable_thread"):
            return "it starts a thread, whose work a replay would not record"
        if isinstance(owner, contextvars.ContextVar) and name == "get":
            return "it reads a context variable (ContextVar.get)"
        if fn is next or getattr(fn, "__name__", None) == "__next__":
            if not is_library_file(frame.f_code.co_filename):
                return "it takes the next item of an iterator (next()), which a replay would not"
        return None

    def _call(self, frame):
        code = frame.f_code
        if code is _IMPORT_MODULE_CODE and frame.f_back is not None and \
                not is_library_file(frame.f_back.f_code.co_filename):
            return "it imports a module by name (importlib.import_module), which the compiler cannot guard"
        if code in _ENVIRON_CODES:
            return "it reads an environment variable (os.environ)"
        if code is _DRAW_CODE:
            return "it draws random numbers from a tinytape.Generator, which a replay would repeat"
        if code in _meta_reads() and frame.f_back is not None and \
                not is_library_file(frame.f_back.f_code.co_filename):
            t = frame.f_locals.get("self")
            if isinstance(t, Tensor) and id(t) not in self.created:
                return (f"it reads {_meta_reads()[code]} of a tensor from outside the call, which no signature "
                        "or guard holds and a replay would repeat")
        if code in _QUERIES and frame.f_back is not None and not is_library_file(frame.f_back.f_code.co_filename):
            self.queries.append(_QUERIES[code])  # its answer is guarded (a replay reads the count itself)
            return None
        if code in _SEED_READS and frame.f_back is not None and not is_library_file(frame.f_back.f_code.co_filename):
            return (f"it reads a tinytape.Generator's state ({code.co_name}), which changes with every draw "
                    "and manual_seed, and a replay would repeat the trace's")
        if code in _SEED_WRITES and frame.f_back is not None and not is_library_file(frame.f_back.f_code.co_filename):
            return (f"it reseeds a tinytape.Generator ({code.co_name}), which a replay would not repeat "
                    "(it draws on from the generator's state)")
        if code in _CREATION_CODES:  # a tensor made from host data: the data is guarded by content
            for value in list(frame.f_locals.values()):
                if isinstance(value, np.ndarray):
                    self.host_arrays.append(value)
            return None
        module = frame.f_globals.get("__name__", "")
        if module == "random" or module.startswith("numpy.random"):
            return f"it draws random numbers ({module}.{code.co_name}), which a replay would repeat"
        if code.co_flags & _GENERATOR_FLAGS:
            if id(frame) in self.started:
                return None
            if frame.f_lasti <= _first_resume(code):
                self.started.add(id(frame))
                return None
            if is_library_file(code.co_filename):  # a library's generator (finalised by the collector, say)
                return None
            return (f"it resumes the generator {code.co_name}() made before the call, whose next "
                        "item a replay would not take")
        return None


# the machinery a trace runs through: imports, numba compiling and caching kernels,
# tinytape itself; what they do (read a cache file, draw a temporary file's name) is not
# the traced function's effect
_MACHINERY = ("importlib", "_frozen_importlib", "numba", "llvmlite", "tempfile", "warnings",
              "linecache", "inspect", "pkgutil", "zipimport", "tinytape.backend", "tinytape.compiler",
              "hypothesis", "_pytest", "pluggy", "coverage")  # and test tooling's hooks


def _inside_machinery(frame, outer):
    # the garbage collector's callbacks run wherever a collection starts: not the function's code
    callbacks = {getattr(cb, "__code__", None) for cb in gc.callbacks}
    while frame is not None and frame is not outer:
        name = frame.f_globals.get("__name__", "") or ""
        if name.startswith(_MACHINERY) or frame.f_code in callbacks:
            return True
        frame = frame.f_back
    return False


def _meta_reads(_cache={}):
    """code -> what it reads: a tensor's bookkeeping that the signature leaves out (it
    changes with every write, or tells views of one storage apart) - read from Tensor's
    methods as the ops layer attached them."""
    if not _cache:
        for name, what in (("_version", "the version counter (._version)"), ("_base", "._base"),
                           ("_is_view", "._is_view()"), ("is_view", ".is_view()"),
                           ("storage_offset", ".storage_offset()"), ("data_ptr", ".data_ptr()"),
                           ("untyped_storage", ".untyped_storage()")):
            attr = getattr(Tensor, name, None)
            fn = attr.fget if isinstance(attr, property) else attr
            code = getattr(fn, "__code__", None)
            if code is not None:
                _cache[code] = what
    return _cache


def _first_resume(code, _cache={}):
    offset = _cache.get(code)
    if offset is None:
        offset = next((ins.offset for ins in dis.get_instructions(code) if ins.opname == "RESUME"), -1)
        _cache[code] = offset
    return offset


def _name(fn):
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    if owner is not None and not isinstance(owner, type(sys)):
        return f"{type(owner).__name__}.{getattr(fn, '__name__', name)}"
    module = getattr(fn, "__module__", None)
    return f"{module}.{name}" if module and module != "builtins" else name


class RandomStates:
    """numpy's random streams a trace could draw from: its global one and the generators the
    function reaches.  Their draws are compiled (Cython) calls the profiler does not see,
    so the streams are compared before and after instead.  (tinytape's generators are seen
    where ``Generator.rng`` is read, Python's ``random`` by its calls: both per thread.)"""

    def __init__(self, reachable=()):
        self.streams = []
        for obj in reachable:
            bits = getattr(obj, "bit_generator", None) or getattr(obj, "_bit_generator", None) or obj
            self.streams.append((type(obj).__name__, bits))
        self.before = [_state_of(bits) for _, bits in self.streams]
        self.numpy_global = np.random.get_state(legacy=False)

    def changed(self):
        for (name, bits), before in zip(self.streams, self.before):
            if not _same_state(_state_of(bits), before):
                return name
        if not _same_state(np.random.get_state(legacy=False), self.numpy_global):
            return "numpy.random"
        return None


def _state_of(bits):
    try:
        return bits.state
    except AttributeError:
        return None


def _same_state(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_state(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a == b
