"""tinytape.compile on the CUDA backend: runs of elementwise kernels become one generated
kernel each, or the end of a matrix product's kernel (numba's simulator where there is
no GPU), equal to eager bit for bit; the generated kernels compile to PTX for real GPUs
(``-m ptx``, needs the gpu extra)."""
import collections
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tinytape

pytestmark = pytest.mark.gpu  # the simulator's, without a GPU; the PTX test below is the ptx set's


def _step_on_cuda(compiled, optimizer="sgd"):
    g = tinytape.Generator().manual_seed(0)
    x, y = tinytape.randn(4, 5, generator=g).cuda(), tinytape.randn(4, 3, generator=g).cuda()
    w1 = tinytape.randn(5, 6, generator=g).cuda().requires_grad_()
    w2 = tinytape.randn(6, 3, generator=g).cuda().requires_grad_()
    opt = tinytape.optim.SGD([w1, w2], lr=1e-2, momentum=0.5 if optimizer == "momentum" else 0)

    def step(x, y):
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss
    step = tinytape.compile(step) if compiled else step
    return [step(x, y).item() for _ in range(4)], (w1, w2), step


def _kernels(step):
    namespace = next(iter(step.programs.values()))[0].replay.__globals__
    return [v.tinytape_source for k, v in namespace.items() if k.startswith("fused")]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_cuda_step_with_fused_kernels_equals_eager(optimizer):
    got, weights, step = _step_on_cuda(True, optimizer)
    want, eager_weights, _ = _step_on_cuda(False, optimizer)
    assert got == want
    for a, b in zip(weights, eager_weights):
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())
    (entry,), = step.programs.values()
    assert entry.kind == "cuda_fused"
    if optimizer == "sgd":  # each product finishes a run: relu; loss terms; relu mask; two updates
        assert sorted(k[0].rstrip("0123456789") for k in _kernels(step)) == ["fused"] * 5 + ["fused_matmul"] * 5


class _Counted:
    def __init__(self, name, kernel, launches):
        self.name, self.kernel, self.launches = name, kernel, launches

    def __getitem__(self, config):
        launch = self.kernel[config]

        def counted(*args):
            self.launches[self.name] += 1
            return launch(*args)
        return counted


def _count_launches(monkeypatch, step, run):
    """Kernel launches of ``run()`` by kernel, the backend's and those ``step``'s replay
    generated, counted as bench/cuda_step_count.py counts them."""
    from tinytape.backend.cuda import kernel_calls as cuda_backend  # the modules the kernels are called from
    launches = collections.Counter()
    for module in (cuda_backend._elementwise, cuda_backend._reduction, cuda_backend._linalg,
                   cuda_backend._indexing, cuda_backend._nn):
        for name in dir(module):
            obj = getattr(module, name)
            if hasattr(obj, "py_func") and hasattr(obj, "__getitem__") and not name.startswith("_"):
                monkeypatch.setattr(module, name, _Counted(name, obj, launches))
    for entries in step.programs.values():
        for entry in entries:
            namespace = entry.replay.__globals__
            for name in [k for k in namespace if k.startswith("fused")]:
                monkeypatch.setitem(namespace, name, _Counted(name.rstrip("0123456789"), namespace[name], launches))
    run()
    return launches


def test_compiled_seed_step_launches_at_most_8_kernels(monkeypatch):
    """The seed step (two products forward, three backward, the loss's sum, two SGD
    updates): each product's kernel finishes the elementwise run after it."""
    got, weights, step = _step_on_cuda(True)
    want, eager_weights, _ = _step_on_cuda(False)
    assert got == want
    x, y = tinytape.randn(4, 5).cuda(), tinytape.randn(4, 3).cuda()
    launches = _count_launches(monkeypatch, step, lambda: step(x, y).item())
    assert sum(launches.values()) <= 8, launches
    assert launches == {"fused_matmul": 5, "reduce_mid": 1}, launches


def test_products_finish_runs_with_weight_updates_moved_up():
    """A product's kernel ends with the elementwise run of its shape even where calls that
    don't touch the run's buffers come between them (w2's update after w1's product)."""
    got, _, step = _step_on_cuda(True)
    source = next(iter(step.programs.values()))[0].source
    replay = source[source.index("def replay("):]
    assert "k0_matmul" not in replay and replay.count("fused_matmul") == 5


def test_arguments_sharing_memory_replay_in_record_order():
    """The moved runs assume the buffers' memory is shared as in the trace: called with the
    weight the function updates as its argument, the call traces again and that program
    runs the calls in record order.  (Arguments sharing memory with each other are a new
    signature: traced again too.)"""
    g = tinytape.Generator().manual_seed(2)
    x, w, v = (tinytape.randn(20, 20, generator=g).cuda() for _ in range(3))  # 2 x 2 tiles

    def update(x, v):
        with tinytape.no_grad():
            w.sub_(x.mm(v) * 0.5)
        return w
    compiled = tinytape.compile(update)
    for args in ((x, v), (x, v), (w, v)):
        eager_w = w.clone()
        with tinytape.no_grad():
            eager_w.sub_((eager_w if args[0] is w else args[0]).mm(v) * 0.5)
        np.testing.assert_array_equal(compiled(*args).cpu().numpy(), eager_w.cpu().numpy())
    # the weight passed as the argument it also updates is another program (traced again):
    # an argument that is (or views) a tensor the function reads from outside must stay so
    (first, aliased), = compiled.programs.values()
    assert "fused_matmul" in first.source and "return replay_in_order(" in aliased.source
    compiled(w, w)  # one array for both arguments: another signature
    assert compiled.traces == 3


def test_fused_elementwise_chain_on_cuda():
    def f(a, b):
        loss = ((a * b + 1).relu() * a - b.sigmoid()).pow(2).mean()
        return (loss,) + tinytape.autograd.grad(loss, (a, b))
    compiled = tinytape.compile(f, fullgraph=True)
    g = tinytape.Generator().manual_seed(1)
    for _ in range(3):
        a = tinytape.randn(7, generator=g).cuda().requires_grad_()
        b = tinytape.randn(7, generator=g).cuda().requires_grad_()
        for got, want in zip(compiled(a, b), f(a, b)):
            np.testing.assert_array_equal(got.detach().cpu().numpy(), want.detach().cpu().numpy())
    assert compiled.traces == 1


@pytest.mark.ptx
def test_generated_cuda_kernels_compile_to_ptx():
    _, _, step = _step_on_cuda(True)
    kernels = _kernels(step)
    script = os.path.join(os.path.dirname(__file__), "compile_ptx_generated.py")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0")
    out = subprocess.run([sys.executable, script], input=json.dumps(kernels), env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    assert out.stdout.splitlines()[-1] == f"{2 * len(kernels)} kernels compiled"
