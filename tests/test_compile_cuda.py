"""tinytape.compile on the CUDA backend: runs of elementwise kernels become one generated
kernel each (numba's simulator where there is no GPU), equal to eager bit for bit; the
generated kernels compile to PTX for real GPUs (``-m ptx``, needs the gpu extra)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tinytape


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
    if optimizer == "sgd":  # relu; the loss's difference, square and gradient; the relu mask; two updates
        assert len(_kernels(step)) == 5


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
