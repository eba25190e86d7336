"""The fused code compiled on a thread beside the calls (``tinytape/compiler/entry.py``):
the calls before it is ready replay kernel by kernel, the calls after it run it, and every
call gives eager's bits; fused code that fails its check (made on what the trace left,
frozen at trace time) is never used."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import tinytape as torch
import tinytape.compiler.codegen as codegen
import tinytape.compiler.entry as entry
import tinytape.nn as nn
import tinytape.nn.functional as F


def _bits(t):
    return np.ascontiguousarray(t.detach().numpy()).view(np.uint8).tobytes()


def _model_and_step(lr=0.05):
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()
    return model, opt, step


def _batches(n):
    rng = np.random.default_rng(0)
    return [(torch.tensor(rng.standard_normal((8, 6)).astype(np.float32)), torch.tensor(rng.integers(0, 3, 8)))
            for _ in range(n)]


def _same_state(a, b):
    for p, q in zip(a.parameters(), b.parameters()):
        assert _bits(p) == _bits(q) and _bits(p.grad) == _bits(q.grad)


@pytest.fixture
def held_worker():
    """The fusing thread held until the test lets it go: the calls in between replay kernel
    by kernel, and whatever they change must not reach the fused code's check."""
    gate = threading.Event()
    entry._WORKER.submit(gate.wait)
    yield gate
    gate.set()


def _entries(compiled):
    return [e for entries in compiled.programs.values() for e in entries]


def test_calls_before_and_after_the_fused_code_give_eager_bits(held_worker):
    model, _, step = _model_and_step()
    eager_model, _, eager_step = _model_and_step()
    compiled = torch.compile(step, background=True)
    data = _batches(8)
    for x, y in data[:4]:  # the trace, then kernel-by-kernel replays (the worker is held)
        assert _bits(compiled(x, y)) == _bits(eager_step(x, y))
    assert {e.kind for e in _entries(compiled)} == {"python"}
    held_worker.set()
    assert compiled.wait(timeout=600)
    assert {e.kind for e in _entries(compiled)} == {"fused"}
    for x, y in data[4:]:
        assert _bits(compiled(x, y)) == _bits(eager_step(x, y))
    _same_state(model, eager_model)


def test_the_check_reads_what_the_trace_left_not_what_later_calls_changed(held_worker):
    model, opt, step = _model_and_step()
    eager_model, eager_opt, eager_step = _model_and_step()
    compiled = torch.compile(step, background=True)
    data = _batches(6)
    first = compiled(*data[0])
    assert _bits(first) == _bits(eager_step(*data[0]))
    first.mul_(0)  # the returned tensor, written by the user; the learning rate, by a schedule
    for group in opt.param_groups + eager_opt.param_groups:
        group["lr"] = 0.02
    for x, y in data[1:3]:
        assert _bits(compiled(x, y)) == _bits(eager_step(x, y))
    held_worker.set()
    assert compiled.wait(timeout=600)
    assert {e.kind for e in _entries(compiled)} == {"fused"}, [e.program.not_fused for e in _entries(compiled)]
    for x, y in data[3:]:
        assert _bits(compiled(x, y)) == _bits(eager_step(x, y))
    _same_state(model, eager_model)


def test_fused_code_that_differs_is_never_used(monkeypatch):
    real = codegen.fused_replay

    def off_by_one(program):
        replay = real(program)
        if replay is None:
            return None
        fn = replay[0]

        def wrong(*inputs):
            values = fn(*inputs)
            for arr in values.values():
                if arr.dtype.kind == "f":
                    arr += 1
            return values
        return (wrong,) + tuple(replay[1:])
    monkeypatch.setattr(codegen, "fused_replay", off_by_one)
    model, _, step = _model_and_step()
    eager_model, _, eager_step = _model_and_step()
    compiled = torch.compile(step, background=True)
    for i, (x, y) in enumerate(_batches(5)):
        assert _bits(compiled(x, y)) == _bits(eager_step(x, y))
        if i == 1:
            assert compiled.wait(timeout=600)
    (e,) = _entries(compiled)
    assert e.kind == "python" and "differs from eager" in e.program.not_fused
    _same_state(model, eager_model)


def test_fused_code_numba_rejects_leaves_the_kernel_replay(monkeypatch):
    def rejected(program):
        raise TypeError("Failed in nopython mode pipeline (step: nopython frontend)")
    monkeypatch.setattr(codegen, "fused_replay", rejected)
    _, _, step = _model_and_step()
    _, _, eager_step = _model_and_step()
    compiled = torch.compile(step, background=True)
    for x, y in _batches(3):
        assert _bits(compiled(x, y)) == _bits(eager_step(x, y))
        assert compiled.wait(timeout=600)
    (e,) = _entries(compiled)
    assert e.kind == "python"
    assert e.program.not_fused.startswith("numba rejected the generated code: TypeError: Failed in nopython mode")


def test_programs_of_several_functions_and_signatures_each_get_their_fused_code():
    _, _, step_a = _model_and_step()
    _, _, eager_a = _model_and_step()
    compiled_a = torch.compile(step_a, background=True)

    def scale(x, k):
        return (x * k).sum(0)
    compiled_b = torch.compile(scale, background=True)
    data = _batches(4)
    small = [(torch.tensor(np.arange(n * 2, dtype=np.float32).reshape(n, 2)), 1.5) for n in (3, 4, 5)]
    for (x, y), (s, k) in zip(data, small):
        assert _bits(compiled_a(x, y)) == _bits(eager_a(x, y))
        assert _bits(compiled_b(s, k)) == _bits(scale(s, k))
    assert compiled_a.wait(timeout=600) and compiled_b.wait(timeout=600)
    assert {e.kind for e in _entries(compiled_a) + _entries(compiled_b)} == {"fused"}
    assert len(_entries(compiled_b)) == 3  # one program per shape
    for s, k in small:
        assert _bits(compiled_b(s, k)) == _bits(scale(s, k))


def test_without_the_thread_the_trace_compiles_the_fused_code():
    _, _, step = _model_and_step()
    compiled = torch.compile(step, background=False)
    for x, y in _batches(2):  # (the first trace fills the momentum buffers: the second is kept)
        compiled(x, y)
    (e,) = _entries(compiled)
    assert e.kind == "fused" and e.fusing is None


def test_the_thread_is_the_default():
    code = "import tinytape.compiler.entry as e, tinytape as t; print(e.BACKGROUND, t.compile(lambda x: x).background)"
    env = {k: v for k, v in os.environ.items() if k != "TINYTAPE_COMPILE_BACKGROUND"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]
    env["TINYTAPE_COMPILE_BACKGROUND"] = "0"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def _every_fifth_adversarial_program():
    import test_compile_adversarial
    import test_compile_adversarial_5
    names = [(m, n) for m in (test_compile_adversarial, test_compile_adversarial_5) for n in sorted(m.PROGRAMS)]
    return [pytest.param(m, n, id=n, marks=pytest.mark.slow) for m, n in names[::5]]


@pytest.mark.parametrize("module, name", _every_fifth_adversarial_program())
def test_adversarial_programs_with_the_thread(monkeypatch, module, name):
    """The adversarial programs, whose calls meet the fused code whenever the thread has it."""
    monkeypatch.setattr(entry, "BACKGROUND", True)
    outcome, detail = module.run_program(name)
    assert outcome in ("same", "refused"), f"{name}: {outcome} ({detail})"


def test_a_replay_built_while_another_function_traces_keeps_the_backend_kernels():
    """The fused code's check builds replays on the thread while the calls may be tracing
    another function, whose recording stand-ins sit on the shared backend meanwhile."""
    from tinytape.compiler.replay import python_replay
    _, _, step = _model_and_step()
    compiled = torch.compile(step, background=False)
    for x, y in _batches(2):
        compiled(x, y)
    (e,) = _entries(compiled)
    from tinytape.backend.cpu import cpu
    from tinytape.compiler.capture import Capture
    with Capture([cpu]):  # another function's trace: its stand-ins on the backend
        assert "Capture._wrap" in cpu.binary.__qualname__
        fn = python_replay(e.program)[0]  # as the thread builds one, amid that trace
    kernels = [v for k, v in fn.__globals__.items() if k[:1] == "k" and callable(v)]
    assert kernels and not any("Capture._wrap" in getattr(k, "__qualname__", "") for k in kernels)


def test_a_returned_constant_the_caller_writes_into_is_not_read_by_the_fused_code(held_worker):
    def f(x):
        c = torch.tensor(3)  # made in the function and returned: the caller's to write into
        return x * c, c
    compiled = torch.compile(f, background=True)
    outs = []
    for i, v in enumerate([0, 1, 2, 5]):
        y, c = compiled(torch.tensor(np.full(4, v, np.int64)))
        c.add_(5)  # before the fused code is generated, on the held thread
        if i == 0:
            held_worker.set()
            assert compiled.wait(timeout=600)
        outs.append(y.tolist())
    assert outs == [[3 * v] * 4 for v in [0, 1, 2, 5]]
    assert {e.kind for e in _entries(compiled)} == {"fused"}


def test_another_threads_host_read_is_not_taken_for_the_traced_functions():
    """A trace's stand-ins on the shared backend pass another thread's calls through (the
    fusing thread replays kernels that read the host, such as max's positions)."""
    from tinytape.backend.cpu import cpu
    from tinytape.compiler.capture import Capture
    with Capture([cpu]) as capture:
        thread = threading.Thread(target=lambda: cpu.to_numpy(np.ones(3)))
        thread.start()
        thread.join()
    assert capture.failed is None


def test_wait_while_another_thread_traces_new_signatures():
    def f(x):
        return (x * 1.5).tanh() + x.exp()
    compiled = torch.compile(f, background=True)
    compiled(torch.ones(3, 5))
    other = threading.Thread(target=lambda: [compiled(torch.ones(3, n)) for n in range(6, 12)])
    other.start()
    done = compiled.wait(timeout=600)
    other.join()
    assert done and compiled.wait(timeout=600)
    assert len(_entries(compiled)) == 7


def test_the_thread_lets_go_of_a_checked_programs_snapshot():
    import gc
    import weakref
    big = torch.ones(256, 256)

    def f(x):
        big.mul_(0.5)  # a storage it writes: the snapshot and the trace's outcome copy it
        return (x * 2).exp()
    compiled = torch.compile(f, background=True)
    compiled(torch.ones(4, 3))
    assert compiled.wait(timeout=600)
    entry_ref = weakref.ref(_entries(compiled)[0])
    done = entry._WORKER.submit(lambda: None)  # the thread's next job: the one before it is gone
    done.wait(600)
    del compiled, f
    gc.collect()
    assert entry_ref() is None


def test_products_set_the_blas_count_under_one_lock_and_leave_it_alone_while_numba_compiles(monkeypatch):
    """OpenBLAS's thread count is the process's: a product sets it and runs holding the
    products' lock (the fusing thread checks fused code with products while the calls run
    theirs); the first run that compiles the fused code leaves the count alone."""
    from tinytape.backend.cpu import linalg
    threads = linalg._threads
    per_product = bool(threads.small_flops)  # (0 where the BLAS has no count to set: products take no lock)
    held = []

    class Counted:
        def __init__(self, lock):
            self.inner = lock

        def __enter__(self):
            held.append(1)
            return self.inner.__enter__()

        def __exit__(self, *exc):
            return self.inner.__exit__(*exc)
    sets = []
    real_set = threads._set
    monkeypatch.setattr(threads, "lock", Counted(threads.lock))
    monkeypatch.setattr(threads, "_set", lambda n: (sets.append(n), real_set(n))[1])
    a, b = torch.ones(64, 1000), torch.ones(1000, 100)  # above the one-thread bound
    small = torch.ones(4, 4)
    with threads.counts_left_alone():
        a @ b
        small @ small
    assert not held and not sets
    a @ b
    small @ small
    assert len(held) == (2 if per_product else 0)

    def f(x, w):
        return (x @ w).tanh().sum()
    compiled = torch.compile(f, background=False)
    compiled(small, small)
    held.clear()
    compiled(small, small)
    assert {e.kind for e in _entries(compiled)} == {"fused"} and bool(held) == per_product
