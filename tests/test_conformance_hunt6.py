"""Differences from PyTorch found by running learner-style programs under both (makemore,
d2l's concise chapters, "What is torch.nn really?", CS231n idioms, reference-page examples
of Tensor methods, nn.functional and torch.*): ``renorm``, ``index_reduce``, ``F.rrelu``
and ``nn.RReLU`` with PyTorch's drawn slopes, ``F.pdist``, the ``torch.*`` names of
``nn.functional``, a set of small functions and methods, and the warnings PyTorch gives
(or does not give).  Each test runs one program under tinytape and compares it with
PyTorch's recorded answer for the same program."""
import warnings

import numpy as np
import pytest

import tinytape
from helpers import check_against_pytorch, check_grad

check = check_against_pytorch


def check_close(run, rtol, atol=0.0):
    """``run(tinytape)`` equals PyTorch's recorded ``run(torch)`` in dtypes, shapes and grad_fn
    names, and in values to ``rtol``: for ops built on ``norm`` (which sums its squares in
    float64, where PyTorch accumulates in the dtype) or on PyTorch's product gradient."""
    from pytorch_answers import Recorded, pytorch
    ours, theirs = run(tinytape), pytorch(run)
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if isinstance(b, Recorded):
            assert str(a.dtype).split(".")[1] == b.dtype and tuple(a.shape) == b.shape, i
            assert (type(a.grad_fn).__name__ if a.grad_fn is not None else None) == b.grad_fn, i
            np.testing.assert_allclose(a.detach().float().numpy() if b.dtype == "bfloat16" else a.detach().numpy(),
                                       b.numpy(), rtol=rtol, atol=atol, err_msg=str(i))
        else:
            assert a == b, i


def _outcome(f):
    """f()'s value, or the type and message of what it raised."""
    try:
        return f()
    except Exception as e:  # noqa: BLE001 - the error is the answer
        return f"{type(e).__name__}: {e}"


# ---------------------------------------------------------------- warnings, once a process


def _message(w):
    """A warning's text without where in PyTorch's C++ it was raised."""
    return str(w.message).split(" (Triggered internally at")[0]


def test_scatter_reduce_argument_and_index_reduce_warn_once_and_float_casts_do_not(monkeypatch):
    from tinytape.ops import scatter, scatter_fill
    monkeypatch.setattr(scatter, "_REDUCE_WARNED", False)
    monkeypatch.setattr(scatter_fill, "_INDEX_REDUCE_WARNED", False)

    def run(torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            a = torch.zeros(3).scatter(0, torch.tensor([0, 2]), 2.0, reduce="add")  # a value: no warning
            b = torch.zeros(3).scatter(0, torch.tensor([0, 2]), torch.tensor([2., 3.]), reduce="multiply")
            c = torch.ones(3).scatter_(0, torch.tensor([0, 0]), torch.tensor([2., 3.]), reduce="add")
            d = torch.ones(3).index_reduce(0, torch.tensor([0, 0]), torch.tensor([2., 3.]), "prod")
            e = torch.ones(3).index_reduce(0, torch.tensor([1, 1]), torch.tensor([2., 3.]), "amax")
            f = torch.tensor([65504.], dtype=torch.float16) * 2
            g = torch.tensor([1e39], dtype=torch.float64).float()
            x = torch.tensor([1.0, -2.0], requires_grad=True)
            torch.cummax(x, 0).values.sum().backward()
        return [a, b, c, d, e, f, g, x.grad, [(w.category.__name__, _message(w)) for w in caught]]
    check(run)


# ---------------------------------------------------------------- renorm


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_renorm_values_and_gradients_are_pytorchs(dtype):
    def run(torch):
        g = torch.Generator().manual_seed(0)
        x = (torch.randn(3, 4, 5, generator=g) * 2).to(getattr(torch, dtype)).requires_grad_()
        outs = [x.renorm(2, 1, 1.5), torch.renorm(x, 1, 0, 3.0), x.renorm(float("inf"), -1, 0.5),
                x.renorm(3, 2, 100.0)]
        if dtype in ("float32", "float64"):
            sum((o * (i + 1)).sum() for i, o in enumerate(outs)).backward()
        z = torch.ones(2, 3, dtype=getattr(torch, dtype))
        z.renorm_(2, 0, 1)
        return outs + [x.grad, z]
    check_close(run, rtol={"float32": 1e-6, "float64": 1e-14, "float16": 1e-3, "bfloat16": 1e-2}[dtype], atol=1e-7)


def test_renorm_refuses_what_pytorch_refuses():
    def run(torch):
        x = torch.ones(2, 2)
        return [_outcome(f) for f in (lambda: torch.renorm(torch.ones(3), 2, 0, 1), lambda: x.renorm(0, 0, 1),
                                      lambda: x.renorm(-1, 0, 1), lambda: x.renorm(2, 0, -1),
                                      lambda: torch.ones(2, 2, dtype=torch.long).renorm(2, 0, 1))]
    check(run)


def test_renorm_gradcheck():
    check_grad(lambda x: x.renorm(2, 0, 1.0), np.random.default_rng(0).normal(size=(3, 4)), second_order=True)
    check_grad(lambda x: x.renorm(1.5, 1, 0.8), np.random.default_rng(1).normal(size=(2, 3, 2)))


# ---------------------------------------------------------------- index_reduce


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_values_and_gradients_are_pytorchs(reduce, include_self):
    def run(torch):
        g = torch.Generator().manual_seed(1)
        x = torch.randn(4, 3, generator=g).requires_grad_()
        s = torch.randn(5, 3, generator=g).requires_grad_()
        y = x.index_reduce(0, torch.tensor([0, 2, 0, 3, 0]), s, reduce, include_self=include_self)
        cols = torch.index_reduce(torch.full((2, 3), 2.), 1, torch.tensor([2, 0, 2, 2], dtype=torch.int32),
                                  torch.arange(8.).view(2, 4), reduce, include_self=include_self)
        (y * torch.arange(12.).view(4, 3)).sum().backward()
        z = torch.zeros(3)
        z.index_reduce_(0, torch.tensor([0, 0, 1]), torch.tensor([1., 2., 3.]), reduce, include_self=include_self)
        return [y, cols, x.grad, s.grad, z]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if reduce == "prod":  # the sources' gradient: PyTorch divides the product, tinytape multiplies the others
            check_close(run, rtol=1e-6)
        else:
            check(run)


def test_index_reduce_refuses_what_pytorch_refuses():
    def run(torch):
        x, s = torch.ones(3, 2), torch.ones(3, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [_outcome(f) for f in (
                lambda: x.index_reduce(0, torch.tensor([[0]]), s, "prod"),
                lambda: x.index_reduce(0, torch.tensor([0]), s, "prod"),
                lambda: x.index_reduce(0, torch.tensor([0, 1, 2]), s, "sum"),
                lambda: x.index_reduce(0, torch.tensor([0., 1, 2]), s, "prod"),
                lambda: x.index_reduce(0, torch.tensor([0, 5, 1]), s, "amax"))]
    check(run)


def test_index_reduce_gradcheck():
    idx = tinytape.tensor([0, 2, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for reduce in ("prod", "mean"):
            check_grad(lambda x, s: x.index_reduce(0, idx, s, reduce), np.random.default_rng(2).normal(size=(3, 2)),
                       np.random.default_rng(3).normal(size=(3, 2)))


# ---------------------------------------------------------------- rrelu


def test_rrelu_draws_pytorchs_slopes_and_gives_its_gradients():
    def run(torch):
        F = torch.nn.functional
        torch.manual_seed(0)
        r = torch.randn(10, requires_grad=True)
        evaluated = F.rrelu(r)
        torch.manual_seed(3)
        y = F.rrelu(r, training=True)
        y.backward(torch.arange(10.))
        d = torch.rrelu(torch.randn(40, dtype=torch.float64), 0.1, 0.3, True)
        b = torch.randn(7, dtype=torch.bfloat16, requires_grad=True)
        yb = F.rrelu(b, training=True)
        yb.backward(torch.ones(7, dtype=torch.bfloat16))
        m = torch.nn.RReLU(0.1, 0.3)
        trained = m(torch.randn(3, 5))
        m.eval()
        z = torch.randn(6)
        F.rrelu_(z, training=True)
        after = torch.randn(2)  # the stream moved on by one draw per element at or below 0
        half = F.rrelu(torch.tensor([-1., 0., 2.], dtype=torch.float16))
        refused = [_outcome(lambda: F.rrelu(torch.ones(2, dtype=dt), training=t))
                   for dt in (torch.float16, torch.int64) for t in (True, False)]
        return [evaluated, y, r.grad, d, yb, b.grad, trained, m(torch.tensor([-1., 1.])), z, after, half, refused,
                repr(m), repr(torch.nn.RReLU(inplace=True)),
                _outcome(lambda: F.rrelu(r, 0.5, 0.2, training=True))]
    check(run)


def test_rrelu_gradcheck():
    check_grad(lambda x: tinytape.nn.functional.rrelu(x, training=False), np.array([-1.5, -0.2, 0.3, 2.0]))
    tinytape.manual_seed(0)
    x = tinytape.tensor([-1.5, -0.2, 0.3, 2.0], dtype=tinytape.float64, requires_grad=True)
    y = tinytape.nn.functional.rrelu(x, training=True)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (y / x).detach().numpy())


# ---------------------------------------------------------------- pdist and the torch.* names of nn.functional


def test_pdist_and_torch_names_of_nn_functional_are_pytorchs():
    def run(torch):
        F = torch.nn.functional
        torch.manual_seed(0)
        x = torch.randn(2, 3, 8)
        p = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
        dists = [torch.pdist(p), F.pdist(p, p=1), torch.pdist(p, float("inf")), torch.pdist(p[:, :1], 0)]
        w = torch.arange(12.).view(4, 3)
        return dists + [torch.pdist(torch.ones(1, 3)),
                        # (selu and celu: expm1, whose last bits PyTorch's C library tail decides)
                        torch.equal(torch.selu(x), F.selu(x)), torch.equal(torch.celu(x, 0.5), F.celu(x, 0.5)),
                        torch.threshold(x[0, 0], 0.1, -1.0),
                        torch.hardshrink(x[0, 0], 0.3),
                        torch.conv1d(torch.arange(48.).view(2, 3, 8), torch.ones(2, 3, 3), padding=1),
                        torch.max_pool1d(x, 2), torch.avg_pool1d(x, 2), torch.adaptive_avg_pool1d(x, 4),
                        torch.prelu(x[0], torch.tensor([0.25])), torch.embedding(w, torch.tensor([[0, 3]])),
                        torch.layer_norm(x, (8,)).shape, torch.group_norm(x, 3).shape,
                        torch.pixel_shuffle(torch.arange(8.).view(1, 4, 1, 2), 2),
                        torch.feature_alpha_dropout(torch.ones(1, 3, 2), 0.5, False),
                        [_outcome(f) for f in (lambda: torch.pdist(torch.ones(3)), lambda: torch.pdist(p, -1),
                                               lambda: torch.pdist(torch.ones(2, 2, dtype=torch.long)))]]
    check(run)


def test_pdist_gradients_are_pytorchs():
    def run(torch):
        torch.manual_seed(1)
        p = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
        dists = [torch.pdist(p), torch.pdist(p, 1), torch.pdist(p, float("inf")), torch.pdist(p, 3)]
        sum((d * (i + 1)).sum() for i, d in enumerate(dists)).backward()
        return dists + [p.grad]
    check_close(run, rtol=1e-14)


def test_pdist_inf_gives_each_tied_coordinate_the_whole_gradient():
    def run(torch):  # rows 2 and 3 differ from row 1 by the same amount in several coordinates
        x = torch.tensor([[1 / 3, -2 / 3, 1, -4 / 3], [5 / 3, -2, 7 / 3, -8 / 3], [3, -10 / 3, 11 / 3, -4]],
                         requires_grad=True)
        d = torch.pdist(x, p=float("inf"))
        (d * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
        return d, x.grad
    check_close(run, rtol=0)


def test_pdist_gradcheck():
    check_grad(lambda x: tinytape.pdist(x), np.random.default_rng(4).normal(size=(4, 3)))
    check_grad(lambda x: tinytape.pdist(x, 3), np.random.default_rng(5).normal(size=(3, 2)))


# ---------------------------------------------------------------- small functions and methods


def test_small_functions_and_methods_are_pytorchs():
    def run(torch):
        x = torch.arange(6.).view(2, 3)
        y = torch.ones(3)
        y.greater_(0.5)
        first = y.clone()
        y.less_equal_(0.5)
        z = torch.zeros(5)
        z.put_(torch.tensor([1, 3]), torch.tensor([9., 8.]))
        r = torch.zeros(1)
        r.resize_as_(x)
        w = torch.arange(6.).view(2, 3).requires_grad_()
        outs = [w.narrow_copy(1, 0, 2), w.put(torch.tensor([0, 5]), torch.tensor([1., 2.])), w.sum_to_size(1, 3),
                w.unsafe_split(2, 1)[1], w.unsafe_chunk(2, 1)[0], w.split_with_sizes([1, 2], 1)[1],
                w.sum_to_size(3), torch.rsub(w, 3, alpha=0.5), torch.rsub(w, w.detach() * 2)]
        sum((o * (i + 1)).sum() for i, o in enumerate(outs)).backward()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ranges = [torch.range(0, 3), torch.range(1, 4, 0.3), torch.range(0, 1, 0.5, dtype=torch.float64)]
        return outs + [w.grad, first, y, z, z.put(torch.tensor([0, 0]), torch.tensor([1., 2.]), accumulate=True),
                       r.shape, ranges, [str(m.message) for m in caught],
                       torch.unravel_index(torch.tensor([4, 1]), (2, 3)), torch.unravel_index(torch.tensor(5), (2, 3)),
                       torch.unravel_index(torch.tensor([[7]]), (2, 2, 2)), torch.rsub(x, 1),
                       torch.rsub(torch.tensor([1, 2]), 3), torch.scalar_tensor(3), torch.scalar_tensor(True),
                       torch.scalar_tensor(3, dtype=torch.int64), torch.is_same_size(x, x), torch.is_signed(x),
                       torch.is_signed(torch.ones(1, dtype=torch.uint8)), torch.typename(x), torch.typename(3),
                       x.get_device(), x.is_cpu, x.is_sparse, x.is_quantized, x.is_meta,
                       torch.ones(2).ger(torch.ones(3)), x.prelu(torch.tensor([0.1])), torch.detach(w)]
    check(run)


# ---------------------------------------------------------------- the CUDA path


@pytest.mark.gpu
def test_the_new_ops_on_the_cuda_path_agree_with_the_cpu():
    def run(device):
        torch = tinytape
        torch.manual_seed(0)
        x = torch.randn(4, 3).to(device).requires_grad_()
        s = torch.randn(3, 3).to(device).requires_grad_()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ir = x.index_reduce(0, torch.tensor([0, 2, 0], device=device), s, "prod")
        outs = [x.renorm(2, 0, 1.0), ir, torch.pdist(x), torch.nn.functional.rrelu(x),
                torch.rsub(x, 2.0), x.put(torch.tensor([0, 7], device=device), s[0, :2])]
        sum((o * (i + 1)).sum() for i, o in enumerate(outs)).backward()
        return [t.detach().cpu().numpy() for t in outs + [x.grad, s.grad]]
    for a, b in zip(run("cuda"), run("cpu")):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
