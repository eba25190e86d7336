"""The PyTorch names that tutorial and course code uses, ranked by how many sources use
them (tests/data/api_usage.tsv, written by ``python -m tools.api_usage``): every name used
by three or more sources exists in tinytape, and every differentiable one passes
gradcheck (on the CPU; the CUDA backend gives the same values and gradients).
Names not provided yet are listed in KNOWN_MISSING: their
tests are strict xfails, so providing one fails here until it leaves the list."""
from pathlib import Path

import numpy as np
import pytest

import tinytape as tt
import tinytape.nn.functional as F
from pytorch_answers import pytorch
from tinytape.autograd import gradcheck

TSV = Path(__file__).parent / "data" / "api_usage.tsv"
MIN_SOURCES = 3


def _rows():
    lines = [ln for ln in TSV.read_text().splitlines() if ln and not ln.startswith("#")]
    header = lines[0].split("\t")
    return [dict(zip(header, ln.split("\t"))) for ln in lines[1:]]


ROWS = _rows()
TARGET = {f"{r['kind']}:{r['name']}": r for r in ROWS
          if int(r["n_sources"]) >= MIN_SOURCES and r["scope"] == "target"}
DIFFERENTIABLE = sorted(k for k, r in TARGET.items() if r["differentiable"] == "yes")

# Used by three or more sources and not provided yet.
KNOWN_MISSING = set()


def resolve(key):
    """The tinytape object a ranked name stands for (AttributeError when absent)."""
    kind, name = key.split(":", 1)
    obj = {"torch": tt, "functional": F, "autograd": tt.autograd,
           "linalg": getattr(tt, "linalg", None)}.get(kind, tt.Tensor)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _marked(keys):
    return [pytest.param(k, marks=pytest.mark.xfail(raises=AttributeError, strict=True, reason="not provided yet"))
            if k in KNOWN_MISSING else k for k in keys]


def test_the_list_is_ranked_and_large_enough():
    counts = [int(r["n_sources"]) for r in ROWS]
    assert counts == sorted(counts, reverse=True)
    assert len(TARGET) >= 100 and {"tensor_method:backward", "torch:no_grad", "functional:softmax"} <= set(TARGET)
    assert KNOWN_MISSING <= set(TARGET), f"not on the ranked target: {sorted(KNOWN_MISSING - set(TARGET))}"


@pytest.mark.parametrize("key", _marked(sorted(TARGET)))
def test_exists(key):
    assert resolve(key) is not None


# ---------------------------------------------------------------- gradients

def _a(*shape, low=-2.0, high=2.0, seed=0):
    return np.random.default_rng(seed + sum(shape)).uniform(low, high, shape)


def _pos(*shape):
    return _a(*shape, low=0.3, high=2.0)


def _const(x, values, dtype=None):
    return tt.tensor(values, dtype=dtype, device=x.device)


def _index(x, rows):
    return tt.tensor(rows, device=x.device)


# key -> (function of the leaves, arrays for the leaves[, gradcheck keywords])
EXAMPLES = {
    "tensor_method:to": (lambda x: x.to(dtype=tt.float64) * x.to(x.device), [_a(2, 3)]),
    "tensor_method:view": (lambda x: x.view(3, 2), [_a(2, 3)]),
    "tensor_method:mean": (lambda x: x.mean(1), [_a(2, 3)]),
    "tensor_method:sum": (lambda x: x.sum(0, keepdim=True), [_a(2, 3)]),
    "torch:cat": (lambda x, y: tt.cat([x, y], 1), [_a(2, 3), _a(2, 2)]),
    "functional:softmax": (lambda x: F.softmax(x, dim=1), [_a(2, 3)]),
    "tensor_attr:T": (lambda x: x.T, [_a(2, 3)]),
    "torch:max": (lambda x: tt.max(x, 1)[0] + tt.max(x), [_a(2, 3)]),
    "functional:cross_entropy": (lambda x: F.cross_entropy(x, _index(x, [2, 0])), [_a(2, 3)]),
    "functional:relu": (lambda x: F.relu(x), [_a(2, 3)]),
    "tensor_method:float": (lambda x: x.float(), [_a(2, 3)], {"eps": 1e-3, "atol": 1e-3, "rtol": 1e-2}),
    "tensor_method:max": (lambda x: x.max(0).values, [_a(2, 3)]),
    "tensor_method:reshape": (lambda x: x.reshape(-1), [_a(2, 3)]),
    "tensor_method:squeeze": (lambda x: x.squeeze(1), [_a(2, 1, 3)]),
    "tensor_method:unsqueeze": (lambda x: x.unsqueeze(0), [_a(2, 3)]),
    "torch:matmul": (lambda x, y: tt.matmul(x, y), [_a(2, 3), _a(3, 2)]),
    "torch:relu": (lambda x: tt.relu(x), [_a(2, 3)]),
    "tensor_method:expand": (lambda x: x.expand(3, 2), [_a(1, 2)]),
    "tensor_method:relu": (lambda x: x.relu(), [_a(2, 3)]),
    "tensor_method:t": (lambda x: x.t(), [_a(2, 3)]),
    "tensor_method:transpose": (lambda x: x.transpose(0, 2), [_a(2, 1, 3)]),
    "torch:stack": (lambda x, y: tt.stack([x, y], 1), [_a(2, 3), _a(2, 3)]),
    "torch:sum": (lambda x: tt.sum(x, 1), [_a(2, 3)]),
    "torch:tanh": (lambda x: tt.tanh(x), [_a(2, 3)]),
    "tensor_method:clone": (lambda x: x.clone(), [_a(2, 3)]),
    "tensor_method:cpu": (lambda x: x.cpu(), [_a(2, 3)]),
    "tensor_method:exp": (lambda x: x.exp(), [_a(2, 3)]),
    "tensor_method:split": (lambda x: x.split([1, 2], 1)[1], [_a(2, 3)]),
    "tensor_method:std": (lambda x: x.std(1), [_a(2, 3)]),
    "tensor_method:type": (lambda x: x.type(tt.float64), [_a(2, 3)]),
    "torch:exp": (lambda x: tt.exp(x), [_a(2, 3)]),
    "torch:log": (lambda x: tt.log(x), [_pos(2, 3)]),
    "torch:sigmoid": (lambda x: tt.sigmoid(x), [_a(2, 3)]),
    "torch:sqrt": (lambda x: tt.sqrt(x), [_pos(2, 3)]),
    "functional:binary_cross_entropy_with_logits": (
        lambda x: F.binary_cross_entropy_with_logits(x, _const(x, [[0.2, 1.0, 0.0], [0.5, 0.9, 0.1]], x.dtype)),
        [_a(2, 3)]),
    "functional:log_softmax": (lambda x: F.log_softmax(x, dim=0), [_a(2, 3)]),
    "functional:max_pool2d": (lambda x: F.max_pool2d(x, 2, 1), [_a(1, 1, 3, 4)]),
    "functional:nll_loss": (lambda x: F.nll_loss(F.log_softmax(x, 1), _index(x, [1, 2])), [_a(2, 3)]),
    "tensor_method:add_": (lambda x, y: x.clone().add_(y, alpha=2), [_a(2, 3), _a(2, 3)]),
    "tensor_method:contiguous": (lambda x: x.t().contiguous(), [_a(2, 3)]),
    "tensor_method:copy_": (lambda x, y: (x * 2).copy_(y) * x, [_a(2, 3), _a(2, 3)]),
    "tensor_method:double": (lambda x: x.double(), [_a(2, 3)]),
    "tensor_method:flatten": (lambda x: x.flatten(1), [_a(2, 1, 3)]),
    "tensor_method:mul": (lambda x, y: x.mul(y), [_a(2, 3), _a(3)]),
    "tensor_method:mul_": (lambda x, y: x.clone().mul_(y), [_a(2, 3), _a(2, 3)]),
    "tensor_method:norm": (lambda x: x.norm(), [_a(2, 3)]),
    "tensor_method:permute": (lambda x: x.permute(2, 0, 1), [_a(2, 1, 3)]),
    "tensor_method:scatter": (lambda x, s: x.scatter(1, _index(x, [[2, 0], [1, 2]]), s), [_a(2, 3), _a(2, 2)]),
    "torch:add": (lambda x, y: tt.add(x, y, alpha=-1.5), [_a(2, 3), _a(1, 3)]),
    "torch:flatten": (lambda x: tt.flatten(x), [_a(2, 3)]),
    "torch:mean": (lambda x: tt.mean(x), [_a(2, 3)]),
    "torch:mm": (lambda x, y: tt.mm(x, y), [_a(2, 3), _a(3, 2)]),
    "torch:sin": (lambda x: tt.sin(x), [_a(2, 3)]),
    "torch:topk": (lambda x: tt.topk(x, 2).values, [_a(2, 3)]),
    "functional:binary_cross_entropy": (
        lambda x: F.binary_cross_entropy(tt.sigmoid(x), _const(x, [[0.2, 1.0, 0.0], [0.5, 0.9, 0.1]], x.dtype)),
        [_a(2, 3)]),
    "tensor_method:abs": (lambda x: x.abs(), [_a(2, 3)]),
    "tensor_method:clamp": (lambda x: x.clamp(-1.0, 1.0), [_a(2, 3)]),
    "tensor_method:masked_fill": (lambda x: x.masked_fill(x > 0, 0.5), [_a(2, 3)]),
    "tensor_method:mm": (lambda x, y: x.mm(y), [_a(2, 3), _a(3, 2)]),
    "tensor_method:pow": (lambda x: x.pow(3), [_a(2, 3)]),
    "tensor_method:view_as": (lambda x, y: x.view_as(y), [_a(2, 3), _a(3, 2)]),
    "torch:abs": (lambda x: tt.abs(x), [_a(2, 3)]),
    "torch:clamp": (lambda x: tt.clamp(x, min=-0.5), [_a(2, 3)]),
    "torch:cos": (lambda x: tt.cos(x), [_a(2, 3)]),
    "torch:pow": (lambda x, y: tt.pow(x, y), [_pos(2, 3), _a(2, 3)]),
    "torch:tril": (lambda x: tt.tril(x, -1), [_a(3, 3)]),
    "torch:unsqueeze": (lambda x: tt.unsqueeze(x, -1), [_a(2, 3)]),
    "functional:scaled_dot_product_attention": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
                                                [_a(2, 3), _a(4, 3), _a(4, 2)]),
    "tensor_method:dot": (lambda x, y: x.dot(y), [_a(3), _a(3, seed=1)]),
    "tensor_method:matmul": (lambda x, y: x.matmul(y), [_a(2, 2, 3), _a(3, 2)]),
    "tensor_method:repeat": (lambda x: x.repeat(2, 2), [_a(1, 3)]),
    "tensor_method:sigmoid": (lambda x: x.sigmoid(), [_a(2, 3)]),
    "tensor_method:var": (lambda x: x.var(0), [_a(3, 2)]),
    "torch:split": (lambda x: tt.split(x, 1, 0)[1], [_a(2, 3)]),
    "torch:where": (lambda x, y: tt.where(x > 0, x, y), [_a(2, 3), _a(2, 3, seed=1)]),
    "functional:sigmoid": (lambda x: F.sigmoid(x), [_a(2, 3)]),
    "functional:tanh": (lambda x: F.tanh(x), [_a(2, 3)]),
    "tensor_method:min": (lambda x: x.min(1).values * x.min(), [_a(2, 3)]),
    "tensor_method:ravel": (lambda x: x.t().ravel(), [_a(2, 3)]),
    "torch:dot": (lambda x, y: tt.dot(x, y), [_a(3), _a(3, seed=1)]),
    "tensor_method:cuda": (lambda x: x.cuda() * 2, [_a(2, 3)]),
}

def _leaves(arrays, device="cpu"):
    return tuple(tt.tensor(a, dtype=tt.float64, device=device, requires_grad=True) for a in arrays)


def test_every_differentiable_name_has_an_example():
    assert sorted(set(DIFFERENTIABLE) - set(EXAMPLES)) == []


@pytest.mark.parametrize("key", _marked(DIFFERENTIABLE))
def test_gradcheck(key):
    resolve(key)
    fn, arrays, *options = EXAMPLES[key]
    assert gradcheck(fn, _leaves(arrays), **(options[0] if options else {}))


def values_and_grads(fn, arrays, device):
    """fn's output and its vector-Jacobian product with a fixed cotangent, on ``device``."""
    leaves = _leaves(arrays, device)
    out = fn(*leaves)
    cotangent = tt.tensor(np.linspace(-1.0, 1.5, out.numel()), dtype=out.dtype, device=out.device).reshape(out.shape)
    grads = tt.autograd.grad(out, leaves, cotangent, allow_unused=True)
    return [out.detach().cpu().numpy()] + [g.cpu().numpy() if g is not None else 0.0 for g in grads]


@pytest.mark.gpu
@pytest.mark.parametrize("key", _marked(DIFFERENTIABLE))
def test_cuda_matches_the_checked_cpu_gradients(key):
    """On the CUDA backend the values and gradients are those gradcheck verified on the CPU."""
    resolve(key)
    fn, arrays, *_ = EXAMPLES[key]
    for got, want in zip(values_and_grads(fn, arrays, "cuda"), values_and_grads(fn, arrays, "cpu")):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- composite ops against PyTorch

def _fn(name):
    """PyTorch's and tinytape's ``name`` from torch.nn.functional or the package."""
    def call(m, *args, **kwargs):
        if m is tt:
            return getattr(F if hasattr(F, name) and name not in ("tril",) else tt, name)(*args, **kwargs)
        return getattr(m.nn.functional if hasattr(m.nn.functional, name) and name not in ("tril",) else m, name)(
            *args, **kwargs)
    return call


max_pool2d, avg_pool2d, conv2d, conv1d, pad, interpolate = (_fn("max_pool2d"), _fn("avg_pool2d"), _fn("conv2d"),
                                                           _fn("conv1d"), _fn("pad"), _fn("interpolate"))
sdpa, normalize, layer_norm, smooth_l1 = (_fn("scaled_dot_product_attention"), _fn("normalize"),
                                          _fn("layer_norm"), _fn("smooth_l1_loss"))

# name -> (function of (module, *leaves), arrays); the same code runs on torch and on tinytape
COMPOSITES = {
    "split": (lambda m, x: m.split(x, 2, 1)[1] * x.split([1, 2, 2], 1)[2], [_a(3, 5)]),
    "tril": (lambda m, x: m.tril(x, -1), [_a(3, 4)]),
    "triu": (lambda m, x: m.triu(x, 1) + x.triu(), [_a(2, 3, 3)]),
    "ravel": (lambda m, x: x.ravel(), [_a(2, 3)]),
    "repeat": (lambda m, x: x.repeat(2, 1, 3), [_a(2, 3)]),
    "meshgrid": (lambda m, a, b: m.meshgrid(a, b, indexing="xy")[0] * m.meshgrid(a, b, indexing="ij")[1].T,
                 [_a(3), _a(3, seed=1)]),
    "outer": (lambda m, a, b: m.outer(a, b), [_a(3), _a(4)]),
    "trace": (lambda m, x: m.trace(x), [_a(3, 4)]),
    "diag": (lambda m, v, x: m.diag(v, 1)[:3, :3] + m.diag(x, -1), [_a(3), _a(4, 3)]),
    "roll": (lambda m, x: m.roll(x, (1, -2), (0, 1)) + m.roll(x, 5), [_a(3, 4)]),
    "scatter": (lambda m, x, s: x.scatter(1, m.tensor([[0, 2], [1, 2]]), s) + x.scatter(0, m.tensor([[1, 0, 1]]), 2.5),
                [_a(2, 3), _a(2, 2)]),
    "scatter_": (lambda m, x: (x * 1).scatter_(0, m.tensor([[1, 0, 1]]), 2.5), [_a(2, 3)]),
    "cross": (lambda m, a, b: m.cross(a, b, dim=1), [_a(2, 3), _a(2, 3, seed=1)]),
    "select": (lambda m, x: x.select(1, -1) * m.select(x, 0, 1).sum(), [_a(2, 3)]),
    "repeat_interleave": (lambda m, x: x.repeat_interleave(m.tensor([2, 0, 1]), dim=1), [_a(2, 3)]),
    "max_pool2d": (lambda m, x: max_pool2d(m, x, 3, 2, 1), [_a(2, 1, 5, 6)]),
    "max_pool2d_ceil_dilated": (lambda m, x: max_pool2d(m, x, 2, ceil_mode=True)
                                + max_pool2d(m, x, 2, 1, 1, 2)[..., :3, :3],
                                [_a(1, 5, 5)]),
    "avg_pool2d": (lambda m, x: avg_pool2d(m, x, 3, 2, 1), [_a(1, 2, 5, 6)]),
    "avg_pool2d_ceil": (lambda m, x: avg_pool2d(m, x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
                        [_a(1, 2, 6, 6)]),
    "conv2d": (lambda m, x, w, b: conv2d(m, x, w, b), [_a(2, 3, 4, 4), _a(2, 3, 3, 3), _a(2)]),
    "conv2d_strided": (lambda m, x, w: conv2d(m, x, w, None, 2, 1, 1), [_a(1, 2, 5, 6), _a(3, 2, 3, 2)]),
    "conv2d_groups": (lambda m, x, w: conv2d(m, x, w, groups=2, dilation=2, padding=2),
                      [_a(1, 4, 4, 4), _a(2, 2, 3, 3)]),
    "scaled_dot_product_attention": (lambda m, q, k, v: sdpa(m, q, k, v, is_causal=True),
                                     [_a(2, 3, 4), _a(2, 3, 4, seed=1), _a(2, 3, 2)]),
    "normalize": (lambda m, x: normalize(m, x, dim=1), [_a(3, 4)]),
    "layer_norm": (lambda m, x, w, b: layer_norm(m, x, (4,), w, b), [_a(3, 4), _a(4), _a(4, seed=1)]),
    "smooth_l1_loss": (lambda m, x, y: smooth_l1(m, x, y, beta=0.5), [_a(3, 4), _a(3, 4, seed=1)]),
    "conv1d": (lambda m, x, w, b: conv1d(m, x, w, b, stride=2, padding=1), [_a(2, 3, 7), _a(2, 3, 3), _a(2)]),
    "pad": (lambda m, x: pad(m, x, (1, -2, 2, 0), value=3.0), [_a(1, 3, 5)]),
    "einsum_matmul": (lambda m, a, b: m.einsum("bij,bjk->bik", a, b), [_a(2, 2, 3), _a(2, 3, 2)]),
    "einsum_attention": (lambda m, q, k: m.einsum("bhqd,bhkd->bhqk", q, k), [_a(1, 2, 3, 2), _a(1, 2, 2, 2)]),
    "einsum_diagonal_broadcast": (lambda m, x, y: m.einsum("iij->j", x) * m.einsum("...i,...i->...", y, y).sum(),
                                  [_a(2, 2, 3), _a(2, 1, 3)]),
    "einsum_three": (lambda m, a, b, c: m.einsum("ijk,jl,lk->il", a, b, c), [_a(2, 3, 2), _a(3, 2), _a(2, 2)]),
    "chunk_unbind": (lambda m, x: x.chunk(3, 1)[1] * m.unbind(x, 1)[0].unsqueeze(1), [_a(2, 5)]),
    "index_select": (lambda m, x: m.index_select(x, 1, m.tensor([4, 0, 4])), [_a(2, 5)]),
    "interpolate_nearest": (lambda m, x: interpolate(m, x, size=(5, 7))
                            * interpolate(m, x, scale_factor=2)[..., :5, :7],
                            [_a(1, 2, 3, 4)]),
    "interpolate_bilinear": (lambda m, x: interpolate(m, x, scale_factor=1.5, mode="bilinear")
                             + interpolate(m, x, size=(4, 6), mode="bilinear", align_corners=True)[..., :4, :6],
                             [_a(1, 1, 3, 4)]),
    "interpolate_linear": (lambda m, x: interpolate(m, x, size=7, mode="linear"), [_a(1, 2, 5)]),
    "det": (lambda m, x: m.det(x) + x[0].det(), [_a(2, 3, 3)]),
    "inverse": (lambda m, x: m.inverse(x) * x.sum(), [_a(3, 3)]),
    "index_add": (lambda m, x, s: x.index_add(0, m.tensor([0, 2, 0]), s, alpha=2), [_a(3, 2), _a(3, 2, seed=1)]),
    "addcmul_addcdiv": (lambda m, x, a, b: (x * 1).addcmul_(a, b, value=0.5).addcdiv_(a, b.abs() + 1, value=-2),
                        [_a(2, 3), _a(2, 3, seed=1), _a(2, 3, seed=2)]),
}


def _run(module, fn, arrays, device="cpu"):
    if module is tt:
        return values_and_grads(lambda *xs: fn(tt, *xs), arrays, device)
    leaves = [module.tensor(a, requires_grad=True) for a in arrays]
    out = fn(module, *leaves)
    cotangent = module.tensor(np.linspace(-1.0, 1.5, out.numel()), dtype=out.dtype).reshape(out.shape)
    grads = module.autograd.grad(out, leaves, cotangent, allow_unused=True)
    return [out.detach().numpy()] + [g.numpy() if g is not None else 0.0 for g in grads]


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_composite_matches_pytorch(name):
    fn, arrays = COMPOSITES[name]
    for got, want in zip(_run(tt, fn, arrays), pytorch(lambda torch, *arrays: _run(torch, fn, arrays), *arrays)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_composite_gradcheck(name):
    fn, arrays = COMPOSITES[name]
    assert gradcheck(lambda *xs: fn(tt, *xs), _leaves(arrays))


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_composite_on_cuda_matches_cpu(name):
    fn, arrays = COMPOSITES[name]
    for got, want in zip(_run(tt, fn, arrays, "cuda"), _run(tt, fn, arrays)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


BAD_CALLS = {
    "split sizes": (lambda: tt.ones(4).split([1, 2]), "split_with_sizes expects split_sizes to sum exactly to 4"),
    "tril of a vector": (lambda: tt.tril(tt.ones(3)), "tril: input tensor must have at least 2 dimensions"),
    "scatter out of bounds": (lambda: tt.zeros(2, 3).scatter(1, tt.tensor([[3]]), 1.0),
                              "index 3 is out of bounds for dimension 1 with size 3"),
    "multinomial too many": (lambda: tt.multinomial(tt.ones(3), 4),
                             "cannot sample n_sample > prob_dist.size\\(-1\\) samples without replacement"),
    "multinomial negative": (lambda: tt.multinomial(tt.tensor([0.5, -1.0]), 1), "element < 0"),
    "pool padding": (lambda: F.max_pool2d(tt.ones(1, 1, 4, 4), 2, padding=2), "pad should be at most half"),
    "pool too small": (lambda: F.max_pool2d(tt.ones(1, 1, 2, 2), 3), "Output size is too small"),
    "conv groups": (lambda: F.conv2d(tt.ones(1, 3, 4, 4), tt.ones(2, 2, 3, 3)),
                    "expected input\\[1, 3, 4, 4\\] to have 2 channels"),
    "layer_norm shape": (lambda: F.layer_norm(tt.ones(2, 3), (4,)), "Given normalized_shape=\\[4\\]"),
    "einsum operands": (lambda: tt.einsum("ij,jk->ik", tt.ones(2, 3)), "fewer operands were provided than specified"),
    "einsum shape": (lambda: tt.einsum("ij,jk->ik", tt.ones(2, 3), tt.ones(2, 3)), "subscript j has size 2 for operand 1 which does not broadcast"),
    "chunk zero": (lambda: tt.ones(3).chunk(0), "chunk expects `chunks` to be greater than 0"),
    "det of a non-square": (lambda: tt.det(tt.ones(2, 3)), "A must be batches of square matrices"),
    "inverse of a singular": (lambda: tt.inverse(tt.ones(2, 2)), "the input matrix is singular"),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_composite_errors_name_the_op(case):
    call, message = BAD_CALLS[case]
    with pytest.raises(RuntimeError, match=message):
        call()


def test_multinomial_and_in_place_samplers():
    tt.manual_seed(0)
    draws = tt.multinomial(tt.tensor([1.0, 0.0, 3.0]), 4000, replacement=True)
    counts = np.bincount(draws.numpy(), minlength=3)
    assert draws.dtype is tt.int64 and counts[1] == 0 and 0.7 < counts[2] / 4000 < 0.8
    rows = tt.multinomial(tt.tensor([[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 1.0]]), 3)
    assert sorted(rows[0].tolist()) == [0, 1, 2] and sorted(rows[1].tolist()) == [1, 2, 3]
    w = tt.empty(200, 50).normal_(2.0, 0.5)
    assert abs(w.mean().item() - 2.0) < 0.02 and abs(w.std().item() - 0.5) < 0.02 if hasattr(w, "std") else True
    u = tt.zeros(1000).uniform_(-1.0, 3.0)
    assert -1.0 <= u.min().item() and u.max().item() < 3.0 and 0.9 < u.mean().item() < 1.1
    leaf = tt.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.normal_()
    with tt.no_grad():
        leaf.uniform_()
    assert leaf.requires_grad and leaf.grad_fn is None
    dropped = F.dropout(tt.ones(2000), 0.25)
    assert abs((dropped == 0).float().mean().item() - 0.25) < 0.04 and dropped.max().item() == pytest.approx(1 / 0.75)
    assert F.dropout(tt.ones(3), 0.5, training=False).tolist() == [1.0, 1.0, 1.0]
    counts = tt.bincount(tt.tensor([1, 1, 3]), minlength=5)
    assert counts.dtype is tt.int64 and counts.tolist() == [0, 2, 0, 1, 0]
    values, inverse, seen = tt.unique(tt.tensor([3, 1, 3, 2]), return_inverse=True, return_counts=True)
    assert values.tolist() == [1, 2, 3] and inverse.tolist() == [2, 0, 2, 1] and seen.tolist() == [1, 1, 2]
    assert tt.tensor([[0.0, 2.0], [3.0, 0.0]]).nonzero().tolist() == [[0, 1], [1, 0]]


def test_max_pool2d_indices_are_pytorchs():
    a = _a(2, 2, 5, 6)
    want = pytorch(lambda torch, a: torch.nn.functional.max_pool2d(torch.tensor(a), 3, 2, 1, return_indices=True), a)
    got = F.max_pool2d(tt.tensor(a), 3, 2, 1, return_indices=True)
    assert got[1].dtype is tt.int64 and got[1].tolist() == want[1].tolist()
    np.testing.assert_array_equal(got[0].numpy(), want[0].numpy())


# ---------------------------------------------------------------- the scanner behind the list

def _scanner():
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tools.api_usage import scan
    return scan


def test_scanner_reads_aliases_methods_and_code_only():
    scan = _scanner()
    names = scan.load_names()
    code = (
        "import torch\nimport torch.nn.functional as G\nfrom torch.autograd import grad\nimport numpy as np\n"
        "from torch import linalg as LA\n"
        "y = G.relu(x).sum()  # x.backward() in a comment is not code\n"
        "z = torch.autograd.functional.jacobian(f, x)\nn = LA.norm(x)\ns = 'w.item()'\n"
        "a = np.exp(v) + np.sum(v)\nparts = line.split(',')\nq = x.T @ w.view(-1)\nt = torch.cuda.is_available()\n"
    )
    found = scan.uses_in(code, names)
    assert {("functional", "relu"), ("tensor_method", "sum"), ("autograd", "grad"), ("autograd", "functional.jacobian"),
            ("linalg", "norm"), ("tensor_attr", "T"), ("tensor_method", "view")} <= found
    assert not {("tensor_method", "backward"), ("tensor_method", "item"), ("tensor_method", "exp"),
                ("tensor_method", "split"), ("torch", "cuda")} & found


def test_scanner_reads_notebook_code_cells_and_d2l_pytorch_tabs():
    import json
    scan = _scanner()
    notebook = json.dumps({"cells": [{"cell_type": "markdown", "source": ["torch.ones(2)"]},
                                     {"cell_type": "code", "source": ["import torch\n", "x = torch.zeros(2)"]}]})
    assert "torch.zeros" in scan.code_of("a.ipynb", notebook) and "torch.ones" not in scan.code_of("a.ipynb", notebook)
    chapter = ("```{.python .input}\n%%tab mxnet\nnp.ones(2)\n```\n\n```{.python .input}\n%%tab pytorch\n"
               "x = torch.arange(4.0)\n```\n\n```python\n#@tab all\ny = torch.exp(x)\n```\n")
    code = scan.markdown_code(chapter, tab="pytorch")
    assert "torch.arange" in code and "torch.exp" in code and "np.ones" not in code
    assert scan.uses_in(code, scan.load_names()) >= {("torch", "arange"), ("torch", "exp")}
