"""Vector norms bit for bit as PyTorch's CPU kernel computes them (``backend/cpu/vector_norm.py``):
float32 and float64, over all elements and over dims, contiguous and not, every kind of p; their
gradients; and what goes through them (``F.normalize``, ``clip_grad_norm_``, ``Embedding(max_norm=)``)."""
import math

import numpy as np
import pytest

import tinytape as tt
from helpers import check_against_pytorch

DTYPES = ["float32", "float64"]


def _randn(t, dtype, *shape, seed=0):
    t.manual_seed(seed)
    return t.randn(*shape, dtype=getattr(t, dtype))


CASES = {
    # p = 2 over one contiguous run: the vector loop, its lane fold and every tail length
    "row_of_five_by_four": lambda t, d: _randn(t, d, 5, 4)[0].norm(),
    "thousand_by_five": lambda t, d: _randn(t, d, 1000, 5).norm(),
    "each_length": lambda t, d: [_randn(t, d, n, seed=n).norm() for n in range(1, 40)],
    "long_vector": lambda t, d: _randn(t, d, 20000).norm(),
    "last_dim": lambda t, d: _randn(t, d, 300, 37).norm(dim=1),
    "last_two_dims": lambda t, d: t.linalg.vector_norm(_randn(t, d, 6, 7, 9), dim=(1, 2)),
    "transposed_all": lambda t, d: _randn(t, d, 33, 17).t().norm(),
    # p = 2 anywhere else: one accumulator per result, in memory order
    "first_dim": lambda t, d: _randn(t, d, 1000, 5).norm(dim=0),
    "outer_dims": lambda t, d: t.linalg.vector_norm(_randn(t, d, 20, 30, 40), dim=(0, 2)),
    "middle_dim": lambda t, d: _randn(t, d, 20, 30, 40).norm(dim=1, keepdim=True),
    "strided": lambda t, d: _randn(t, d, 50, 38)[:, ::2].norm(dim=1),
    "strided_all": lambda t, d: _randn(t, d, 50, 38)[::3, 1::2].norm(),
    "transposed_dim": lambda t, d: _randn(t, d, 40, 23).t().norm(dim=1),
    # the other p
    "p_one": lambda t, d: [_randn(t, d, 300, 37).norm(1), _randn(t, d, 300, 37).norm(1, dim=0)],
    "p_three": lambda t, d: [_randn(t, d, 300, 37).norm(3), _randn(t, d, 300, 37).norm(3, dim=1)],
    "p_fractional": lambda t, d: [t.linalg.vector_norm(_randn(t, d, 64, 9), p, dim) for p in (0.5, 1.5, 2.5)
                                  for dim in (None, 0, 1)],
    "p_negative": lambda t, d: [t.linalg.vector_norm(_randn(t, d, 64, 9), p, dim) for p in (-1, -2.5)
                                for dim in (None, 0, 1)],
    "p_inf_zero": lambda t, d: [t.linalg.vector_norm(_randn(t, d, 64, 9), p, 1) for p in (math.inf, -math.inf, 0)],
    "torch_norm": lambda t, d: [t.norm(_randn(t, d, 64, 9)), t.norm(_randn(t, d, 64, 9), dim=0),
                                t.norm(_randn(t, d, 64, 9), p="fro", dim=(0, 1))],
    # single elements: PyTorch's abs (a float32 square would overflow)
    "size_one_dims": lambda t, d: [t.linalg.vector_norm(_randn(t, d, 4, 1, 7), p, 1) for p in (2, 3, 0.5, -1)],
    "huge_single": lambda t, d: t.tensor([[1e20], [-3e19]], dtype=getattr(t, d)).norm(dim=1),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(CASES))
def test_norm_as_pytorch(name, dtype):
    check_against_pytorch(lambda t: CASES[name](t, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [2, 1, 3, 0.5, math.inf, -1])
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_norm_gradient_as_pytorch(p, dim, dtype):
    def run(t):
        x = _randn(t, dtype, 7, 9).requires_grad_()
        with t.no_grad():
            x[2, 3] = 0
        weight = _randn(t, dtype, 7 if dim == 1 else 9 if dim == 0 else 1, seed=1)
        out = t.linalg.vector_norm(x, p, dim)
        (out * (weight if dim is not None else weight[0])).sum().backward()
        return [out, x.grad]

    check_against_pytorch(run)


@pytest.mark.parametrize("dtype", DTYPES)
def test_normalize_as_pytorch(dtype):
    check_against_pytorch(lambda t: [t.nn.functional.normalize(_randn(t, dtype, 64, 33), dim=d) for d in (0, 1)])


@pytest.mark.parametrize("foreach", [None, False, True])
def test_clip_grad_norm_as_pytorch(foreach):
    def run(t):
        t.manual_seed(1)
        params = [t.nn.Parameter(t.randn(*shape)) for shape in ((37, 13), (29,), (5, 7, 3))]
        for param in params:
            param.grad = t.randn(param.shape)
        total = t.nn.utils.clip_grad_norm_(params, 1.0, foreach=foreach)
        return [total] + [param.grad for param in params]

    check_against_pytorch(run)


def test_embedding_max_norm_as_pytorch():
    def run(t):
        t.manual_seed(2)
        emb = t.nn.Embedding(50, 17, max_norm=1.5)
        with t.no_grad():
            emb.weight.mul_(2)
        out = emb(t.randint(0, 50, (40,)))
        return [out, emb.weight.detach().clone()]

    check_against_pytorch(run)


def test_norm_kernel_refuses_a_layout_past_its_input():
    from tinytape.backend.cpu import vector_norm as kernel
    x = np.ones(6, np.float32)
    out = np.empty(1, np.float32)
    sizes, strides, outs = (np.array(a, np.int64) for a in ([7], [1], [0]))
    with pytest.raises(IndexError, match="linalg.vector_norm"):
        kernel.vector_norm_layout(x, out, sizes, strides, outs, kernel.TWO, np.float32(2))
    with pytest.raises(IndexError, match="linalg.vector_norm"):
        kernel.vector_norm_lastdim(x, out, sizes, strides, outs, 8)
    sizes, strides, outs = (np.array(a, np.int64) for a in ([3, 2], [1, 3], [0, 1]))  # two results, one slot
    with pytest.raises(IndexError, match="linalg.vector_norm"):
        kernel.vector_norm_lastdim(x, out, sizes, strides, outs, 8)


@pytest.mark.gpu
def test_cuda_norm_close_to_cpu():
    """The CUDA path keeps its own order: close to the CPU's answer, its gradient recorded."""
    x = tt.tensor(np.arange(12.0).reshape(3, 4) - 5.5, requires_grad=True)
    xc = x.detach().to("cuda").requires_grad_()
    out = xc.norm(dim=1)
    out.sum().backward()
    assert type(out.grad_fn).__name__ == "LinalgVectorNormBackward0"
    np.testing.assert_allclose(out.detach().cpu().numpy(), x.detach().norm(dim=1).numpy(), rtol=1e-12)
    x.norm(dim=1).sum().backward()
    np.testing.assert_allclose(xc.grad.cpu().numpy(), x.grad.numpy(), rtol=1e-12)


GROUP_SHAPES = [((2, 6, 5, 3), 3, True), ((3, 16, 4), 2, True), ((2, 8, 13), 1, False), ((2, 60, 5), 3, True),
                ((2, 20, 1), 2, True), ((4, 10, 6, 7), 5, True)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,groups,affine", GROUP_SHAPES + [((3, 12, 33), 4, True), ((5, 9, 67), 3, True)])
def test_group_norm_gradients_as_pytorch(shape, groups, affine, dtype):
    """The input's, weight's and bias's gradients are PyTorch's CPU kernel's bits (float64's
    per-channel sums fuse their partial last vector)."""
    def run(t):
        t.manual_seed(1)
        x = (t.randn(*shape, dtype=getattr(t, dtype)) * 2 + 1).requires_grad_()
        norm = t.nn.GroupNorm(groups, shape[1], affine=affine, dtype=getattr(t, dtype))
        if affine:
            with t.no_grad():
                norm.weight.normal_()
                norm.bias.normal_()
        out = norm(x)
        out.backward(t.randn(*shape, dtype=getattr(t, dtype)))
        return [out, x.grad] + ([norm.weight.grad, norm.bias.grad] if affine else [])

    check_against_pytorch(run)


def test_group_norm_kernel_refuses_short_arrays():
    from tinytape.backend.cpu.group_norm_grad import group_norm_grads
    a = np.ones(8, np.float32)
    with pytest.raises(IndexError, match="native_group_norm_backward"):
        group_norm_grads(a, a, a[:2], a[:2], a[:4], 2, 4, 2, 2, 8, np.empty(4, np.float32), a[:4].copy(), a[:4].copy())
    from tinytape.backend.cpu.group_norm_grad import pdist_two_rows
    with pytest.raises(IndexError, match="pdist"):
        pdist_two_rows(a, 3, 3, 8, np.empty(3, np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_pdist_as_pytorch(dtype):
    """pdist's 2-norms are its own kernel's (not the norm's): every row length around the vector width."""
    def run(t):
        out = [t.pdist(_randn(t, dtype, 6, m, seed=m)) for m in (2, 3, 5, 7, 9, 16, 33)]
        return out + [t.pdist(_randn(t, dtype, 5, 11).requires_grad_())]

    check_against_pytorch(run)


@pytest.mark.parametrize("shape,dim", [((7,), None), ((67,), None), ((13, 31), None), ((13, 31), 0), ((13, 31), 1),
                                       ((4, 67), 1), ((300,), None), ((5000,), None), ((6, 5, 9), (0, 2))])
def test_bfloat16_norm_as_pytorch(shape, dim):
    """bfloat16 accumulated in float32 (p = 2's vector loop taking 16 elements a step), the
    float result rounded once to bfloat16; its gradients where p's powers are bfloat16's products."""
    def run(t):
        t.manual_seed(0)
        x = t.randn(*shape).to(t.bfloat16).requires_grad_()
        outs = [t.linalg.vector_norm(x, p, dim) for p in (2, 1, 3, 0.5, math.inf, 1.5)]
        outs += [x.detach().norm(), t.norm(x.detach(), dim=dim) if dim is not None else x.detach().norm(3)]
        grads = [t.autograd.grad(outs[i].float().sum(), x)[0] for i in (0, 1, 2, 4, 5)]
        return outs + grads

    check_against_pytorch(run)
