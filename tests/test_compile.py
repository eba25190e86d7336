"""tinytape.compile: a training step traced once, replayed after, as eager would run it."""
import gc
import importlib
import os
import subprocess
import sys
import tracemalloc
import warnings

import types

import numpy as np
import pytest

import tinytape
_gradcheck = importlib.import_module("tinytape.autograd.gradcheck")  # the shared helper's module

N, D_IN, H, D_OUT = 6, 10, 5, 3


def _seed_net(seed=0, dtype=tinytape.float32):
    g = tinytape.Generator().manual_seed(seed)
    x = tinytape.randn(N, D_IN, generator=g, dtype=dtype)
    y = tinytape.randn(N, D_OUT, generator=g, dtype=dtype)
    w1 = tinytape.randn(D_IN, H, generator=g, dtype=dtype, requires_grad=True)
    w2 = tinytape.randn(H, D_OUT, generator=g, dtype=dtype, requires_grad=True)
    return x, y, w1, w2


def _seed_step(w1, w2, opt, zero_grad=True):
    def step(x, y):
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss.backward()
        opt.step()
        if zero_grad:
            opt.zero_grad()
        return loss
    return step


def _run(compiled, steps=6, optim="sgd", zero_grad=True, fuse=True):
    x, y, w1, w2 = _seed_net()
    opt = tinytape.optim.SGD([w1, w2], lr=1e-3, momentum=0.0)
    step = _seed_step(w1, w2, opt, zero_grad)
    if compiled:
        step = tinytape.compile(step, fuse=fuse)
    losses = [step(x, y) for _ in range(steps)]
    return losses, w1, w2, step


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "kernels"])
@pytest.mark.parametrize("zero_grad", [True, False], ids=["zero_grad", "accumulate"])
def test_seed_step_compiled_equals_eager_bitwise(fuse, zero_grad):
    got, w1, w2, step = _run(True, zero_grad=zero_grad, fuse=fuse)
    want, e1, e2, _ = _run(False, zero_grad=zero_grad)
    assert [t.item() for t in got] == [t.item() for t in want]
    for a, b in ((w1, e1), (w2, e2)):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        assert (a.grad is None) == (b.grad is None)
        if b.grad is not None:
            np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    # zero_grad: one trace; accumulating: a second trace once .grad exists
    assert step.traces == (1 if zero_grad else 2)
    assert isinstance(got[-1], tinytape.Tensor) and got[-1].shape == ()


def test_the_notebook_update_with_grad_zero_is_fused_and_equals_eager():
    """The seed notebook's update: ``w -= lr * w.grad`` and ``w.grad.zero_()`` under no_grad.
    The trace before ``.grad`` exists zeroes a gradient the program computes; the next one,
    the storage ``.grad`` already has: both run fused, step for step as eager."""
    def run(compiled):
        x, y, w1, w2 = _seed_net()

        def step(x, y):
            loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
            loss.backward()
            with tinytape.no_grad():
                for w in (w1, w2):
                    w -= 1e-3 * w.grad
                    w.grad.zero_()
            return loss
        if compiled:
            step = tinytape.compile(step)
        losses = [step(x, y).item() for _ in range(4)]
        return losses, (w1, w2), step
    got, weights, step = run(True)
    want, eager_weights, _ = run(False)
    assert got == want
    for a, b in zip(weights, eager_weights):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        np.testing.assert_array_equal(a.grad.numpy(), np.zeros(a.shape, np.float32))
    entries = [entry for entries in step.programs.values() for entry in entries]
    assert len(entries) == 2  # before .grad exists, and after
    assert all(entry.kind in ("fused", "fused_untried") for entry in entries), [e.kind for e in entries]
    assert entries[-1].kind == "fused" and ".fill(0.0)" in entries[-1].source


def test_the_seed_step_is_one_fused_program():
    _, _, _, step = _run(True)
    (entry,), = step.programs.values()
    assert entry.kind == "fused"
    source = entry.source
    assert source.count("np.dot(") == 5  # the five products, straight into BLAS
    from tinytape.backend.cpu.blas import GEMM
    if GEMM:  # through the gemm the eager kernels call
        assert source.count("gemm_call(gemm_float32") == 5
    # relu, the squared errors, the loss's gradient, relu mask, two updates; the loss itself
    # is the eager sum kernel's call (PyTorch's summation order) between the first two
    assert source.count("for i0 in") <= 6 and source.count("cascade_sum_float32(") == 1
    assert ".T" in source and "ascontiguousarray" not in source


def test_replay_reads_new_argument_values_and_current_weights():
    x, y, w1, w2 = _seed_net()
    opt = tinytape.optim.SGD([w1, w2], lr=1e-3)
    step = tinytape.compile(_seed_step(w1, w2, opt))
    step(x, y)
    x2, y2, _, _ = _seed_net(seed=5)
    with tinytape.no_grad():
        w1.mul_(0.5)  # changed between calls, in place
    expected = ((x2.mm(w1).clamp(min=0).mm(w2) - y2).pow(2).sum()).item()
    assert step(x2, y2).item() == expected
    assert step.traces == 1


def test_new_signature_traces_again_and_a_changed_number_too():
    x, y, w1, w2 = _seed_net()
    opt = tinytape.optim.SGD([w1, w2], lr=1e-3)
    step = tinytape.compile(_seed_step(w1, w2, opt))
    step(x, y)
    step(x, y)
    assert step.traces == 1
    step(x[:3], y[:3])  # a new batch size
    assert step.traces == 2
    opt.param_groups[0]["lr"] = 1e-4  # the learning rate: an input of the program, read each call
    step(x, y)
    assert step.traces == 2
    opt.param_groups[0]["momentum"] = 0.5  # another Python number the step reads
    step(x, y)
    assert step.traces == 3
    x64 = x.double()
    with pytest.raises(RuntimeError):  # float64 input against float32 weights: eager's error
        step(x64, y.double())


@pytest.mark.parametrize("read,what", [
    (lambda t: t.item(), ".item()"),
    (lambda t: bool(t > 0), "bool(tensor)"),
    (lambda t: float(t), "float(tensor)"),
    (lambda t: t.tolist(), ".tolist()"),
    (lambda t: t.detach().numpy(), ".numpy()"),
])
def test_reading_a_value_while_tracing_names_the_line(read, what):
    def f(x):
        s = (x * 2).sum()
        read(s)
        return s
    with pytest.raises(RuntimeError) as info:  # fullgraph: an error where it reads
        tinytape.compile(f, fullgraph=True)(tinytape.ones(3))
    message = str(info.value)
    assert what in message and "test_compile.py" in message and "return the tensor" in message
    assert "lambda t:" in message  # the line that read it, quoted
    compiled = tinytape.compile(f)  # otherwise: one warning naming the line, and eager's answer
    with pytest.warns(RuntimeWarning, match="lambda t:"):
        assert compiled(tinytape.ones(3)).item() == 6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert compiled(tinytape.full((3,), 2.)).item() == 12 and compiled.eager


def test_an_op_the_compiler_cannot_replay_falls_back_with_one_warning():
    def f(x):
        return (x * 2)[x > 0].sum()  # a mask: the result's shape depends on the values
    compiled = tinytape.compile(f)
    x = tinytape.randn(3, 4)
    with pytest.warns(RuntimeWarning, match="IndexBackward0|to_numpy"):
        first = compiled(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning
        second = compiled(x)
    assert first.item() == second.item() == f(x).item()
    with pytest.raises(RuntimeError, match="fullgraph"):
        tinytape.compile(f, fullgraph=True)(x)


@pytest.mark.parametrize("optim", ["Adam", "AdamW"])
def test_adam_step_count_and_a_scheduled_lr_are_program_inputs(optim):
    # the step count is a tensor (as PyTorch's) and the learning rate is read at each call:
    # a schedule that changes it every step replays one program, equal to eager bit for bit
    x, y, w1, w2 = _seed_net()
    opt = getattr(tinytape.optim, optim)([w1, w2], lr=1e-2)
    sched = tinytape.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=7)
    step = tinytape.compile(_seed_step(w1, w2, opt))
    x_, y_, e1, e2 = _seed_net()
    opt_e = getattr(tinytape.optim, optim)([e1, e2], lr=1e-2)
    sched_e = tinytape.optim.lr_scheduler.CosineAnnealingLR(opt_e, T_max=7)
    eager = _seed_step(e1, e2, opt_e)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # never an eager fallback
        for _ in range(6):
            assert step(x, y).item() == eager(x_, y_).item()
            sched.step()
            sched_e.step()
    assert np.array_equal(w1.detach().numpy(), e1.detach().numpy())
    assert opt.state[w1]["step"].item() == 6 and opt.state[w1]["step"].dtype == tinytape.float32
    assert step.traces == 2  # the first call fills the optimizer's state; then one program
    assert [e.kind for es in step.programs.values() for e in es] == ["fused"]
    # ``beta ** step`` (one element, PyTorch's scalar loop: the C library's pow) fuses with the
    # update around it, so the step is not cut in parts at each parameter's bias correction
    assert "pow_pair" not in next(iter(step.programs.values()))[0].source


def test_momentum_buffers_created_by_the_first_step_trace_again_then_replay():
    def run(compiled):
        x, y, w1, w2 = _seed_net()
        opt = tinytape.optim.SGD([w1, w2], lr=1e-3, momentum=0.9)
        step = _seed_step(w1, w2, opt)
        step = tinytape.compile(step) if compiled else step
        return [step(x, y).item() for _ in range(6)], w1, step
    got, w1, step = run(True)
    want, e1, _ = run(False)
    assert got == want and step.traces == 2
    np.testing.assert_array_equal(w1.detach().numpy(), e1.detach().numpy())


def test_custom_function_compiles_through_its_kernels():
    class MyReLU(tinytape.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * (x > 0).float()

    def f(x, w):
        loss = MyReLU.apply(x.mm(w)).pow(2).sum()
        return (loss,) + tinytape.autograd.grad(loss, (x, w))
    compiled = tinytape.compile(f, fullgraph=True)
    for seed in range(3):
        x, _, w, _ = _seed_net(seed)
        x.requires_grad_()
        for a, b in zip(compiled(x, w), f(x, w)):
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    program = compiled.explain(file=open(os.devnull, "w"))
    assert compiled.traces == 1 and "compare[gt]" in program  # the custom backward's mask


def test_gradcheck_through_a_compiled_function():
    """Central differences of the compiled forward (float64) against the gradient the
    compiled backward returns, with the shared gradcheck helper's numerical Jacobian."""
    def loss(x, w):
        return ((x.mm(w) + 1).relu() * x.sum(1, keepdim=True) - w.sum().sigmoid()).pow(2).mean()

    def value_and_grad(x, w):
        value = loss(x, w)
        return (value,) + tinytape.autograd.grad(value, (x, w))
    forward = tinytape.compile(loss, fullgraph=True)
    backward = tinytape.compile(value_and_grad, fullgraph=True)
    g = tinytape.Generator().manual_seed(3)
    x = tinytape.randn(4, 3, generator=g, dtype=tinytape.float64, requires_grad=True)
    w = tinytape.randn(3, 2, generator=g, dtype=tinytape.float64, requires_grad=True)
    with tinytape.no_grad():  # a forward whose graph a backward outside could use is not compiled
        forward(x, w)
    backward(x, w)  # trace both; the checks below replay
    _, gx, gw = backward(x, w)
    for i, (t, analytical) in enumerate(((x, gx), (w, gw))):
        numerical = _gradcheck._numerical_jacobian(forward, (x, w), t, 1e-6)
        np.testing.assert_allclose(analytical.numpy().ravel(), numerical.ravel(), rtol=1e-5, atol=1e-7)
    assert forward.traces == 1 and backward.traces == 1


def test_replay_memory_is_flat():
    x, y, w1, w2 = _seed_net()
    opt = tinytape.optim.SGD([w1, w2], lr=1e-6)
    step = tinytape.compile(_seed_step(w1, w2, opt))
    for _ in range(20):
        step(x, y)
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(100):
            step(x, y)
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(2000):
            step(x, y)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 4096, after - before


def test_explain_prints_the_tape():
    x = tinytape.tensor([1., 2.], requires_grad=True)
    w = tinytape.tensor([3., -4.], requires_grad=True)
    text = tinytape.explain((x * w).relu().sum(), file=open(os.devnull, "w"))
    lines = text.splitlines()
    assert lines[2].startswith("v2 = MulBackward0(v0, v1)") and lines[-1].startswith("v4 = SumBackward0(v3)")
    compiled = tinytape.compile(lambda a, b: (a * b).relu().sum())
    compiled(x.detach(), w.detach())
    program = compiled.explain(file=open(os.devnull, "w"))
    assert "binary[mul](v0, v1)" in program and "reduce[sum]" in program


@pytest.mark.slow  # both processes compile every kernel the step uses into an empty cache
def test_second_process_loads_the_generated_code_from_the_disk_cache(tmp_path):
    code = (
        "import tinytape, time\n"
        "x = tinytape.ones(4, 3); w = tinytape.ones(3, 2, requires_grad=True)\n"
        "opt = tinytape.optim.SGD([w], lr=0.1)\n"
        "@tinytape.compile\n"
        "def step(x):\n"
        "    loss = x.mm(w).relu().pow(2).sum(); loss.backward(); opt.step(); opt.zero_grad()\n"
        "    return loss\n"
        "step(x); step(x)\n"
        "import numba, sys\n"
        "(entry,), = step.programs.values()\n"
        "print(entry.kind, entry.replay.__closure__ is not None)\n"
        "k = [m for n, m in sys.modules.items() if n.startswith('tinytape_compiled_')][0].kernel\n"
        "print(sum(k.stats.cache_hits.values()), sum(k.stats.cache_misses.values()))\n")
    env = dict(os.environ, TINYTAPE_CACHE_DIR=str(tmp_path))
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split()[0] == "fused"
    assert first.stdout.split()[2:] == ["0", "1"]  # compiled once ...
    assert second.stdout.split()[2:] == ["1", "0"]  # ... and loaded from disk by the next process


@pytest.mark.gpu
def test_cuda_step_replays_on_the_device():
    """On the CUDA backend (the simulator without a GPU) the captured kernels replay in
    record order on the device buffers."""
    def run(compiled):
        x, y, w1, w2 = (t.detach().cuda() for t in _seed_net())
        w1.requires_grad_(), w2.requires_grad_()
        opt = tinytape.optim.SGD([w1, w2], lr=1e-3)
        step = _seed_step(w1, w2, opt)
        step = tinytape.compile(step) if compiled else step
        return [step(x, y).item() for _ in range(3)], w1, step
    got, w1, step = run(True)
    want, e1, _ = run(False)
    assert got == want and step.traces == 1 and w1.device.type == "cuda"
    np.testing.assert_array_equal(w1.detach().cpu().numpy(), e1.detach().cpu().numpy())


def test_a_compiled_function_called_inside_another_is_part_of_its_program():
    inner = tinytape.compile(lambda a, b: (a * b).relu())
    outer = tinytape.compile(lambda a, b: (inner(a, b) + 1).sum())
    g = tinytape.Generator().manual_seed(0)
    for _ in range(3):
        a, b = tinytape.randn(5, generator=g), tinytape.randn(5, generator=g)
        assert outer(a, b).item() == ((a * b).relu() + 1).sum().item()
    assert outer.traces == 1


def test_a_transposed_argument_of_the_same_shape_traces_again():
    compiled = tinytape.compile(lambda a, b: (a.reshape(-1) * 2).sum() + a.mm(b).sum())
    a = tinytape.arange(6.).reshape(2, 3)
    b = tinytape.ones(3, 2)
    assert compiled(a, b).item() == (a.reshape(-1) * 2).sum().item() + a.mm(b).sum().item()
    at = tinytape.arange(6.).reshape(3, 2).t()  # same shape, strided
    assert compiled(at, b).item() == (at.reshape(-1) * 2).sum().item() + at.mm(b).sum().item()
    assert compiled.traces == 2


def _views_and_sharing(device):
    """Argument pairs of one shape that differ only in where their memory is: views at
    other offsets, other strides, one array passed twice."""
    rng = np.random.default_rng(0)

    def t(*shape):
        return tinytape.tensor(rng.standard_normal(shape).astype(np.float32), device=device)
    big, wide, a, b = t(6, 4), t(3, 8), t(3, 4), t(3, 4)
    return [(a, b), (big[0:3], b), (big[1:4], b), (big[3:6], big[2:5]), (wide[:, ::2], b), (wide[:, 1::2], a),
            (t(4, 3).t(), b), (a, a), (b, a), (b, b), (big[0:5:2], big[1:6:2]), (a, b)]


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "kernels"])
@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def test_arguments_in_other_memory_replay_what_they_hold(device, fuse):
    """A program reads each argument where it is now: a view at another offset or with
    other strides, or one array passed for two arguments, never the trace's layout."""
    def f(x, y):
        h = (x * 2 + y).relu()
        return h.sum(0), h * 3, x.mm(y.t())
    compiled = tinytape.compile(f, fullgraph=True, fuse=fuse)
    for x, y in _views_and_sharing(device):
        for got, want in zip(compiled(x, y), f(x, y)):
            np.testing.assert_array_equal(got.cpu().numpy(), want.cpu().numpy())


def test_a_weight_read_from_the_closure_with_new_strides_traces_again():
    w = tinytape.ones(3, 4)
    compiled = tinytape.compile(lambda x: (x * w).sum(1))
    x = tinytape.arange(12.).reshape(3, 4)
    np.testing.assert_array_equal(compiled(x).numpy(), (x * w).sum(1).numpy())
    w.data = tinytape.arange(12.).reshape(4, 3).t()  # same shape, transposed storage
    np.testing.assert_array_equal(compiled(x).numpy(), (x * w).sum(1).numpy())
    assert compiled.traces == 2


REBOUND = tinytape.ones(3)


def test_a_tensor_rebound_where_the_function_finds_it_traces_again():
    """A global, a closure variable, an attribute, a module's layer and a list entry set to
    another tensor or object: the program read the old one, so the call traces again."""
    global REBOUND
    x = tinytape.arange(3.)
    closed = tinytape.ones(3)
    holder = types.SimpleNamespace(w=tinytape.ones(3), ws=[tinytape.ones(3)])
    model = tinytape.nn.Sequential(tinytape.nn.Linear(3, 2))

    def f(x):
        return x * REBOUND + x * closed + x * holder.w + x * holder.ws[0], model(x)
    compiled = tinytape.compile(f, fullgraph=True)

    def check():
        with tinytape.no_grad():  # the model's output would carry a graph a replay does not record
            for got, want in zip(compiled(x), f(x)):
                np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    check()
    check()
    REBOUND = tinytape.full((3,), 2.)
    check()
    closed = tinytape.full((3,), 3.)
    check()
    holder.w = tinytape.full((3,), 4.)
    check()
    holder.ws[0] = tinytape.full((3,), 5.)
    check()
    model[0] = tinytape.nn.Linear(3, 2)
    check()
    assert compiled.traces == 6


def test_random_numbers_drawn_inside_are_fresh_each_call():
    def noisy(x):
        return (x + tinytape.randn(3)).sum()
    compiled = tinytape.compile(noisy)
    x = tinytape.zeros(3)
    tinytape.manual_seed(4)
    got = [compiled(x).item() for _ in range(3)]
    tinytape.manual_seed(4)
    assert got == [noisy(x).item() for _ in range(3)]  # fresh numbers each call, eager's
    assert len(set(got)) == 3 and compiled.eager is None


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "kernels"])
def test_returned_tensors_never_share_memory_with_the_program(fuse):
    """x.sum()'s gradient is a broadcast of a constant the program keeps: each replay
    hands out its own array."""
    def f(x):
        loss = (x * 2).sum()
        return tinytape.autograd.grad(loss, x)[0], loss
    compiled = tinytape.compile(f, fuse=fuse)
    x = tinytape.ones(3, requires_grad=True)
    results = [compiled(x) for _ in range(3)]
    for g, loss in results[1:]:  # the replays
        np.testing.assert_array_equal(g.numpy(), np.full(3, 2, np.float32))
        assert loss.item() == 6
    for a, b in ((results[1], results[2]),):
        assert not np.shares_memory(a[0].numpy(), b[0].numpy())
        assert not np.shares_memory(a[1].detach().numpy(), b[1].detach().numpy())


@pytest.mark.parametrize("name,options", [
    ("RMSprop", dict(momentum=0.9)),
    ("Adagrad", dict(lr_decay=0.1)),
    pytest.param("RMSprop", dict(centered=True), marks=pytest.mark.slow),
    pytest.param("Adagrad", {}, marks=pytest.mark.slow),
    pytest.param("SGD", dict(momentum=0.9, nesterov=True, weight_decay=0.1), marks=pytest.mark.slow),
    pytest.param("AdamW", dict(amsgrad=True), marks=pytest.mark.slow),
    pytest.param("Adam", dict(weight_decay=0.1, maximize=True), marks=pytest.mark.slow),
])
def test_every_optimizer_replays_under_a_schedule_as_eager(name, options):
    def run(compiled):
        tinytape.manual_seed(0)
        w, x = tinytape.randn(5, 3, requires_grad=True), tinytape.randn(4, 5)
        opt = getattr(tinytape.optim, name)([w], lr=0.1, **options)
        sched = tinytape.optim.lr_scheduler.ExponentialLR(opt, 0.9)

        def step():
            opt.zero_grad()
            loss = (x @ w).tanh().sum()
            loss.backward()
            opt.step()
            return loss
        f = tinytape.compile(step) if compiled else step
        losses = []
        for _ in range(6):
            losses.append(f().item())
            sched.step()
        return losses, w.detach().numpy(), f
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no eager fallback
        eager, compiled = run(False), run(True)
    assert eager[0] == compiled[0] and np.array_equal(eager[1], compiled[1])
    assert compiled[2].traces == 2  # the first call fills the optimizer's state


def _dropout_run(compiled, reseed_inside=False, reseed_between=False):
    tinytape.manual_seed(3)
    model = tinytape.nn.Sequential(tinytape.nn.Linear(6, 8), tinytape.nn.ReLU(), tinytape.nn.Dropout(0.3),
                                   tinytape.nn.Linear(8, 2))
    opt = tinytape.optim.SGD(model.parameters(), lr=0.1)
    x, y = tinytape.randn(5, 6), tinytape.randn(5, 2)

    def step():
        if reseed_inside:
            tinytape.manual_seed(11)
        opt.zero_grad()
        loss = tinytape.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    f = tinytape.compile(step) if compiled else step
    losses = []
    for i in range(6):
        if reseed_between and i == 3:
            tinytape.manual_seed(5)
        losses.append(f().item())
    return losses, [p.detach().numpy() for p in model.parameters()], tinytape.get_rng_state().numpy(), f


@pytest.mark.parametrize("reseed_between", [False, True])
def test_dropout_draws_fresh_numbers_each_replay_from_the_generators_stream(reseed_between):
    eager = _dropout_run(False, reseed_between=reseed_between)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # replayed, not run eagerly
        compiled = _dropout_run(True, reseed_between=reseed_between)
    assert compiled[0] == eager[0] and len(set(compiled[0])) == 6
    assert all(np.array_equal(p, q) for p, q in zip(compiled[1], eager[1]))
    assert np.array_equal(compiled[2], eager[2])  # the generator left where eager leaves it
    assert compiled[3].eager is None and compiled[3].programs


def test_reseeding_inside_a_compiled_function_refuses():
    eager = _dropout_run(False, reseed_inside=True)
    with pytest.warns(RuntimeWarning, match="running it eagerly"):
        compiled = _dropout_run(True, reseed_inside=True)
    assert compiled[0] == eager[0] and np.array_equal(compiled[2], eager[2])


def _lr_program(compiled, variant):
    """A few steps of SGD while the learning rate changes between calls in ``variant``'s way;
    the losses, the weights and the traces."""
    tinytape.manual_seed(4)
    w1, w2 = tinytape.randn(3, 4, requires_grad=True), tinytape.randn(4, 1, requires_grad=True)
    groups = [{"params": [w1]}, {"params": [w2], "lr": 0.02}] if variant == "two groups" else [w1, w2]
    opt = tinytape.optim.SGD(groups, lr=0.04)
    sched = tinytape.optim.lr_scheduler.StepLR(opt, 1, gamma=1.5)
    x, y = tinytape.randn(5, 3), tinytape.randn(5, 1)

    def step():
        loss = ((x @ w1).tanh() @ w2 - y).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    def scheduling_step():
        loss = step()
        sched.step()  # changes the rate during the call (the scheduler's state is reachable)
        return loss

    def branching_step():
        loss = ((x @ w1).tanh() @ w2 - y).pow(2).mean()
        if opt.param_groups[0]["lr"] > 0.07:
            loss = loss * 2  # the user's code reads the rate: its value is part of the trace
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    run = {"branch": branching_step, "schedule inside": scheduling_step}.get(variant, step)
    f = tinytape.compile(run) if compiled else run
    losses = []
    for i in range(5):
        losses.append(f().item())
        if variant == "int lr" and i == 2:
            opt.param_groups[0]["lr"] = 1
        elif variant != "schedule inside":
            sched.step()
    return losses, [w1.detach().numpy(), w2.detach().numpy()], f


@pytest.mark.parametrize("variant", ["plain", "two groups", "branch", "int lr", "schedule inside"])
def test_a_changing_learning_rate_gives_eager_values_however_it_is_read(variant):
    eager = _lr_program(False, variant)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a refusal is allowed, a different value is not
        compiled = _lr_program(True, variant)
    assert compiled[0] == eager[0]
    assert all(np.array_equal(a, b) for a, b in zip(compiled[1], eager[1]))
    if variant in ("plain", "two groups"):
        assert compiled[2].traces == 2 and compiled[2].eager is None  # no .grad, then .grad: the rate is an input
    if variant == "branch":
        assert compiled[2].traces > 1 or compiled[2].eager is not None  # the rate is guarded by value


def test_a_trace_under_cprofile_traces_and_hands_the_profiler_back():
    import cProfile
    w = tinytape.randn(3, requires_grad=True)

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        return loss.detach()
    compiled = tinytape.compile(step)
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        for _ in range(3):
            compiled(tinytape.randn(3))
    finally:
        profiler.disable()
    assert compiled.eager is None and compiled.programs
    assert any("step" in str(key) for key in profiler.getstats() and [s.code for s in profiler.getstats()])


def test_a_hooked_leaf_dying_elsewhere_does_not_retrace():
    """The garbage collector freeing some other leaf with a post-accumulate-grad hook is no
    change a program could see: the next call replays."""
    w = tinytape.tensor([1.0, -2.0, 3.0], requires_grad=True)

    def step(x):
        w.grad = None
        loss = (x * w).sum()
        loss.backward()
        return loss.detach()
    step = tinytape.compile(step)

    other = tinytape.zeros(2, requires_grad=True)
    other.register_post_accumulate_grad_hook(lambda p: None)
    step(tinytape.ones(3))
    step(tinytape.ones(3))
    traces = step.traces
    del other  # its entry goes with it
    gc.collect()
    got = step(tinytape.ones(3) * 2)
    assert step.traces == traces and got.item() == 4.0
    w.register_post_accumulate_grad_hook(lambda p: p.grad.mul_(3.0))  # a registration is a change
    step(tinytape.ones(3))
    assert step.traces > traces and w.grad.tolist() == [3.0, 3.0, 3.0]
