"""One traced program: its guards, its replay, and its fused code compiled beside the calls.

The kernel-by-kernel replay calls the kernels the trace itself ran (compiled by then), so
it is ready at once: it is checked at trace time on copies of the state the trace started
from and serves the calls.  The fused code (``codegen.py``) takes numba seconds to compile
for a long program (a 25-step RNN's distinct parts, with an empty cache), so by default a
thread generates, compiles and checks it while the calls go on: against what the trace
left, frozen at trace time (``verify.Outcome``), and against the kernels on other values.
The first call after that takes the fused code; code that fails a check is never used (the
reason is kept in ``program.not_fused``).  ``TINYTAPE_COMPILE_BACKGROUND=0`` (or
``compile(..., background=False)``) compiles and checks it within the trace instead.
"""
import os
import queue
import threading

from ..backend.cpu.linalg import _threads
from .replay import python_replay
from .runner import make_runner
from .verify import Mismatch, Outcome, _inputs, agree, verify
from .writes import _raising_and_writes, _writes_temporaries_in_place

BACKGROUND = os.environ.get("TINYTAPE_COMPILE_BACKGROUND", "1") != "0"


class Entry:
    """One traced program with its guards and its replay function."""

    def __init__(self, program, guards_hold, fuse, background=BACKGROUND):
        self.program = program
        self.guards_hold = guards_hold
        self.lock = threading.Lock()  # the program's planned temporaries serve one replay at a time
        self.fuse, self.background = fuse, background
        self.on_cpu = all(b.device.type == "cpu" for b in program.backends)
        self.fused = None  # (replay, runner) of fused code checked beside the calls, taken by the next call
        self.fusing = None  # set when the thread is done with this program's fused code
        self.kind = "python"
        replay = None
        if fuse and not self.on_cpu and not _writes_temporaries_in_place(program):
            # a GPU program is not replayed at trace time (``verify`` reads host arrays):
            # in-place writes into its own temporaries replay kernel by kernel there
            from .cuda_fuse import cuda_fused_replay  # imports numba.cuda (0.3 s): only for CUDA programs
            replay = cuda_fused_replay(program)
            self.kind = "cuda_fused" if replay is not None else "python"
        self._use(replay or python_replay(program))
        # a kernel that can raise on values (an index out of range) after the replay wrote
        # storages: those are copied before each replay, to put back if it raises
        self.exposed, self.errors_rerun = _raising_and_writes(program)
        # Python steps the trace ran that a replay runs after the program (``replayed_after_the_program``)
        self.after_replay = tuple(program.capture.after_replay)

    def _use(self, replay):
        self.replay, self.externals, self.fresh, self.source = replay
        self.call = make_runner(self.program, self.replay, self.externals, self.fresh)

    def check(self, snapshot, result):
        """Replay once on copies of the state the trace started from: the results must be
        the trace's, bit for bit, or ``Mismatch``.  Then the fused code, beside the calls
        or (``background=False``) here."""
        outcome = Outcome(self.program, snapshot, result) if snapshot.usable else None
        if not self.on_cpu:
            if outcome is None:
                return
            try:
                verify(self.program, self.replay, self.externals, snapshot, outcome)
            except Mismatch as e:
                if self.kind == "python":
                    raise
                self.program.not_fused, self.kind = str(e), "python"
                self._use(python_replay(self.program))
                verify(self.program, self.replay, self.externals, snapshot, outcome)
            return
        if outcome is None or not verify(self.program, self.replay, self.externals, snapshot, outcome):
            raise Mismatch("the storages it reads are laid out so they can't be copied to check the replay "
                           "(an overlapping view made with as_strided)")
        if not self.fuse:
            return
        if self.background:  # (what the trace left, copied: the calls meanwhile change it)
            outcome = Outcome(self.program, snapshot, result, frozen=True)
            self.fusing = _WORKER.submit(lambda: self._fuse(snapshot, outcome))
        else:
            self._fuse(snapshot, outcome)
            self._take_fused()

    def _fuse(self, snapshot, outcome):
        """Generate the fused code and check it: what the trace left, and the kernels'
        bits on other values than the trace's.  Passing, it waits in ``fused``."""
        from .codegen import fused_replay
        program = self.program
        try:
            replay = fused_replay(program)
            if replay is None:
                return
            inputs = _inputs(program, replay[1], snapshot.fresh(), outcome.numbers) if self.background else None
            if inputs is not None:  # numba compiles the parts in a first run, its results unused, its
                with _threads.counts_left_alone():  # products holding no lock: the calls' go on meanwhile
                    replay[0](*inputs)
            if not verify(program, replay[0], replay[1], snapshot, outcome):
                raise Mismatch("its storages could not be copied to check the fused code")
            kernels = python_replay(program)  # (its own temporaries: the calls' replay may be running)
            try:
                same = agree(program, [replay[:2], kernels[:2]], snapshot.perturbed(), outcome.numbers)
            except Exception:  # other values can be out of an op's domain: then only the trace's count
                same = True
            if not same:
                raise Mismatch("its fused code differs from the kernels on other values than the trace's")
            self.fused = (replay, make_runner(program, *replay[:3]))
        except Mismatch as e:
            program.not_fused = str(e)
        except Exception as e:  # numba's typing and lowering errors, NotImplementedError for float16, ...
            program.not_fused = f"numba rejected the generated code: {type(e).__name__}: {(str(e).splitlines() or [''])[0]}"

    def _take_fused(self):
        if self.fused is not None:
            (self.replay, self.externals, self.fresh, self.source), self.call = self.fused
            self.fused, self.kind = None, "fused"

    def wait(self, timeout=None):
        """Wait for the fused code; True once this program has it or never will."""
        if self.fusing is not None and not self.fusing.wait(timeout):
            return False
        with self.lock:
            self._take_fused()
        return True

    def ready(self, tensors):
        return self.guards_hold() and self.program.guards_pass(tensors)

    def run(self, tensors, raw=(), kw=None):
        from .scalars import ScalarMiss
        from .writes import _copy_of, _current_arrays
        with self.lock:
            if self.fused is not None:
                self._take_fused()
            saved = None
            if self.exposed:  # storages it writes before a kernel that can raise: kept to put back
                saved = [(a, _copy_of(a)) for a in _current_arrays(self.exposed, tensors)]
            try:
                result = self.call(tensors, raw, kw)
            except ScalarMiss:
                raise
            except Exception as e:
                # a kernel raised (an index out of range): eager raises at its op, after the
                # effects of the ops before it.  A replay changes Python state only after its
                # kernels, and storages only where ``exposed`` says: with those put back, the
                # call runs eagerly from the state it found
                if not self.errors_rerun:
                    raise
                for a, copy in saved or ():
                    a[...] = copy
                raise ScalarMiss from e
        for obj, step in self.after_replay:
            step(obj)
        return result


class _Worker:
    """One thread that compiles fused code, a program at a time, in the order traced."""

    def __init__(self):
        self.jobs = queue.SimpleQueue()
        self.thread = None
        self.lock = threading.Lock()

    def submit(self, job):
        done = threading.Event()
        self.jobs.put((job, done))
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._loop, name="tinytape-fuse", daemon=True)
                self.thread.start()
        return done

    def _loop(self):
        while True:
            job, done = self.jobs.get()
            try:
                job()
            finally:
                job = None  # (its closure holds the snapshot and the trace's outcome: copies of every storage)
                done.set()


_WORKER = _Worker()
