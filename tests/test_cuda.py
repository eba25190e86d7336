"""The CUDA backend against the CPU backend: the same programs, forward values and
gradients, on ``device="cuda"`` (numba's simulator where there is no GPU: see conftest)."""
import numpy as np
import pytest

import tinytape as tt
import tinytape.nn.functional as F

pytestmark = pytest.mark.gpu

rng = np.random.default_rng(11)


def A(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape)


# name -> (function of tensors, input arrays); every input requires grad
CASES = {
    "unary_chain": (lambda x: (x.exp() + x.sin() * x.cos() - x.tanh() + x.sigmoid() + x.abs().sqrt()).relu(), [A(3, 4)]),
    "log_pow": (lambda x: x.abs().add(0.5).log() * x ** 3 + 2 ** x - 1 / (x.abs() + 1), [A(2, 3)]),
    "broadcast": (lambda a, b: a * b - a / (b.abs() + 1) + tt.maximum(a, b) - tt.minimum(a, b), [A(3, 1, 4), A(2, 4)]),
    "scalar_ops": (lambda x: (2.5 * x - 1) / 3 + x.clamp(min=-0.5) + x.clamp(-1, 1) + x.clamp(max=0.3), [A(5)]),
    "where_compare": (lambda x, y: tt.where(x > y, x, y * 2) + (x >= 0) * x, [A(3, 3), A(3)]),
    "reductions": (lambda x: x.sum() + x.sum(0).sum() + x.mean(-1).sum() + x.sum((0, 2), keepdim=True).sum()
                   + x.norm() + x.norm(dim=1).sum(), [A(2, 3, 4)]),
    "max_min": (lambda x: x.max() + x.min() + x.max(1).values.sum() + x.min(0, keepdim=True)[0].sum(),
                [np.random.default_rng(2).permutation(12).reshape(3, 4) / 3.0]),
    "matmul": (lambda a, b: a.mm(b).sum() + (a.t().t() @ b).pow(2).sum(), [A(3, 5), A(5, 2)]),
    "matmul_transposed": (lambda a, b: a.t().mm(b.t()), [A(5, 3), A(2, 5)]),
    "matmul_batched": (lambda a, b: tt.matmul(a, b), [A(2, 3, 4), A(4, 2)]),
    "mv_dot": (lambda m, v: tt.mv(m, v).sum() + v.dot(v) + (v @ m.t()).sum(), [A(3, 4), A(4)]),
    "shapes": (lambda x: x.reshape(4, 3).t().unsqueeze(0).expand(2, 3, 4).permute(2, 0, 1).flatten(), [A(3, 4)]),
    "transpose_squeeze": (lambda x: x.transpose(0, 2).squeeze() * 2 + x.squeeze(1).T.sum(), [A(3, 1, 2)]),
    "indexing": (lambda x: x[1] + x[:, 2].sum() + x[[0, 0, 2]].sum(0) + x[x > 0].sum() + x[None, ..., 1:3].sum(),
                 [A(3, 4)]),
    "setitem_views": (lambda x, v: _write(x, v), [A(3, 4), A(4)]),
    "softmax": (lambda x: F.softmax(x, 1) * F.log_softmax(x, 0), [A(3, 4)]),
    "losses": (lambda x, y: F.mse_loss(x, y) + F.binary_cross_entropy_with_logits(x, y.sigmoid())
               + F.binary_cross_entropy(x.sigmoid(), y.sigmoid(), reduction="sum")
               + F.cross_entropy(x, tt.tensor([1, 0, 3], device=x.device)), [A(3, 4), A(3, 4)]),
    "cat_stack": (lambda a, b: tt.cat([a, b * 2], 0).sum(1).sum() + tt.stack([a, b], 1).sum(), [A(2, 3), A(2, 3)]),
    "inplace": (lambda x, y: _inplace(x, y), [A(2, 3), A(2, 3)]),
}


def _write(x, v):
    out = x * 2
    out[1] = v
    out[0][1:3] = v[:2] * 3
    out.t()[3].mul_(2)
    return out


def _inplace(x, y):
    t = x * 1
    t += y
    t.mul_(2).sub_(y, alpha=0.5).div_(3)
    t.clamp_(-1, 1)
    return t.exp_()


def _run(device, fn, arrays):
    leaves = [tt.tensor(a, dtype=tt.float64, device=device, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    out.backward(tt.ones_like(out))
    return out.detach().cpu().numpy(), [t.grad.cpu().numpy() for t in leaves]


@pytest.mark.parametrize("name", sorted(CASES))
def test_cuda_matches_cpu(name):
    fn, arrays = CASES[name]
    cpu_out, cpu_grads = _run("cpu", fn, arrays)
    cuda_out, cuda_grads = _run("cuda", fn, arrays)
    np.testing.assert_allclose(cuda_out, cpu_out, rtol=1e-10, atol=1e-12)
    for g_cuda, g_cpu in zip(cuda_grads, cpu_grads):
        np.testing.assert_allclose(g_cuda, g_cpu, rtol=1e-10, atol=1e-12)


def test_float32_int_and_bool_dtypes():
    x = tt.tensor([[1.5, -2.0], [0.25, 4.0]], device="cuda")
    assert (x * 2).dtype is tt.float32 and (x > 0).dtype is tt.bool
    i = tt.tensor([3, 1, 2], device="cuda")
    assert (i * 2 + 1).tolist() == [7, 3, 5] and i.sum().item() == 6 and i.argmax().item() == 0
    assert (x > 0).all().item() is False and (x > -3).all().item() is True
    assert x.long().tolist() == [[1, -2], [0, 4]] and x.double().dtype is tt.float64
    assert x.argmax(1).tolist() == [0, 1]


def test_devices_moves_and_printing():
    x = tt.ones(2, 2, device="cuda", requires_grad=True)
    assert x.device == tt.device("cuda", 0) and x.is_cuda and str(x.device) == "cuda:0"
    assert repr(x) == "tensor([[1., 1.],\n        [1., 1.]], device='cuda:0', requires_grad=True)"
    with pytest.raises(TypeError, match=r"Use Tensor.cpu\(\) to copy the tensor to host memory first"):
        x.detach().numpy()
    with pytest.raises(RuntimeError, match="same device, but found at least two devices, cuda:0 and cpu"):
        x + tt.ones(2, 2)
    y = (x.cpu() * 3).cuda()
    y.sum().backward()
    assert x.grad.device.type == "cuda" and x.grad.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    legacy = tt.ones(3).type(tt.cuda.FloatTensor)
    assert legacy.is_cuda and isinstance(legacy, tt.cuda.FloatTensor)
    assert tt.zeros(3, device="cuda").sum().item() == 0 and tt.randn(4, device="cuda").shape == (4,)
    assert tt.cuda.is_available()


def test_optimizers_on_cuda_match_cpu():
    for make in (lambda p: tt.optim.SGD(p, lr=0.1, momentum=0.9), lambda p: tt.optim.Adam(p, lr=0.1)):
        results = []
        for device in ("cpu", "cuda"):
            w = tt.tensor([0.5, -1.0, 2.0], dtype=tt.float64, device=device, requires_grad=True)
            opt = make([w])
            for _ in range(3):
                opt.zero_grad()
                (w ** 3).sum().backward()
                opt.step()
            results.append(w.detach().cpu().numpy())
        np.testing.assert_allclose(results[1], results[0], rtol=1e-12)


def test_trainer_on_cuda_matches_the_cpu_curve(tmp_path):
    from test_trainer import config, losses_of

    from tinytape.trainer import run
    base = ["data.N=6", "data.D_in=10", "model.H=5", "data.D_out=3", "optim.lr=1e-2", "trainer.steps=6",
            "trainer.progress=false", "trainer.checkpoint_every=3"]
    run(config(*base, "trainer.device=cpu"), str(tmp_path / "cpu"))
    metrics = run(config(*base, "trainer.device=cuda"), str(tmp_path / "cuda"))
    assert metrics["device"] == "cuda"
    np.testing.assert_allclose(losses_of(tmp_path / "cuda"), losses_of(tmp_path / "cpu"), rtol=1e-5)
    ckpt = tmp_path / "cuda" / "checkpoint.npz"
    run(config(*base, "trainer.device=cuda", "trainer.steps=8", f"trainer.resume={ckpt}"), str(tmp_path / "more"))
    assert len(losses_of(tmp_path / "more")) == 8


def test_gradcheck_runs_on_cuda_tensors():
    x = tt.tensor(A(2, 3), dtype=tt.float64, device="cuda", requires_grad=True)
    w = tt.tensor(A(3, 2), dtype=tt.float64, device="cuda", requires_grad=True)
    assert tt.autograd.gradcheck(lambda a, b: (a.mm(b).tanh() * a.sum()).sum(1), (x, w))


def test_gradient_accumulation_on_cuda():
    x = tt.ones(3, device="cuda", requires_grad=True)
    x.sum().backward()  # a broadcast view is handed to the leaf
    x.sum().backward()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0, 4.0] and x.grad.is_cuda
