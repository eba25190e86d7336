"""addmm and its family, F.linear's recorded graph, lerp, tensor_split, the stacks, index_fill,
masked_scatter, scatter_reduce, broadcast_tensors, linalg.solve/inv/det/cross, cdist,
cummax/cummin, searchsorted/bucketize, unique(dim=), out= arguments, and linspace/arange/logspace
bit for bit: values, gradients and grad_fn names against PyTorch's recorded answers,
gradcheck, and the CUDA path (simulator)."""
import hashlib
import warnings

import numpy as np
import pytest

import tinytape as tt
from helpers import check_grad
from pytorch_answers import pytorch

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def _a(*shape, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed + 7 * sum(shape) + len(shape)).uniform(low, high, shape)


def _spd(n, seed=0):
    m = _a(n, n, seed=seed)
    return m @ m.T + n * np.eye(n)


def _run(m, fn, arrays, device="cpu"):
    """fn's output (a tensor or the first of a tuple) and its vector-Jacobian products with a
    fixed cotangent, in module ``m``."""
    kwargs = {"device": device} if m is tt else {}
    leaves = [m.tensor(a, dtype=m.float64, requires_grad=True, **kwargs) for a in arrays]
    out = fn(m, *leaves)
    if isinstance(out, (tuple, list)):
        out = m.cat([o.reshape(-1) for o in out])
    cot = m.tensor(np.linspace(-1.0, 1.5, out.numel()), dtype=out.dtype, **kwargs).reshape(out.shape)
    grads = m.autograd.grad(out, leaves, cot, allow_unused=True)
    return ([out.detach().cpu().numpy(), out.grad_fn.name() if out.grad_fn else None]
            + [g.cpu().numpy() if g is not None else 0.0 for g in grads])


IDX = lambda m, *v: m.tensor(list(v))  # noqa: E731

# name -> (function of (module, *leaves), arrays)
CASES = {
    "addmm": (lambda m, i, a, b: m.addmm(i, a, b), [_a(3, 4), _a(3, 5), _a(5, 4)]),
    "addmm_broadcast_beta_alpha": (lambda m, i, a, b: m.addmm(i, a, b, beta=0.5, alpha=-2.0),
                                   [_a(4), _a(3, 5), _a(5, 4)]),
    "addmm_beta_zero": (lambda m, i, a, b: m.addmm(i * np.inf, a, b, beta=0), [_a(1, 4), _a(3, 5), _a(5, 4)]),
    "addmm_method": (lambda m, i, a, b: i.addmm(a, b.t(), alpha=3), [_a(2, 3), _a(2, 4), _a(3, 4)]),
    "addmv": (lambda m, i, a, v: m.addmv(i, a, v, beta=2, alpha=0.5), [_a(3), _a(3, 4), _a(4)]),
    "addmv_scalar_input": (lambda m, i, a, v: m.addmv(i, a, v), [_a(1), _a(3, 4), _a(4)]),
    "baddbmm": (lambda m, i, a, b: m.baddbmm(i, a, b, beta=-1, alpha=0.25), [_a(1, 3, 4), _a(2, 3, 5), _a(2, 5, 4)]),
    "addbmm": (lambda m, i, a, b: m.addbmm(i, a, b, alpha=1.5), [_a(3, 4), _a(2, 3, 5), _a(2, 5, 4)]),
    "addmm_inplace": (lambda m, i, a, b: (i * 1).addmm_(a, b, beta=2), [_a(3, 4), _a(3, 5), _a(5, 4)]),
    "linear_2d": (lambda m, x, w, b: m.nn.functional.linear(x, w, b), [_a(3, 5), _a(4, 5), _a(4)]),
    "linear_3d": (lambda m, x, w, b: m.nn.functional.linear(x, w, b), [_a(2, 3, 5), _a(4, 5), _a(4)]),
    "linear_1d": (lambda m, x, w, b: m.nn.functional.linear(x, w, b), [_a(5), _a(4, 5), _a(4)]),
    "linear_4d": (lambda m, x, w, b: m.nn.functional.linear(x, w, b), [_a(2, 1, 3, 5), _a(4, 5), _a(4)]),
    "linear_strided": (lambda m, x, w, b: m.nn.functional.linear(x.transpose(0, 1), w, b),
                       [_a(3, 2, 5), _a(4, 5), _a(4)]),
    "linear_transposed_2d": (lambda m, x, w, b: m.nn.functional.linear(x.t(), w, b), [_a(5, 3), _a(4, 5), _a(4)]),
    "linear_no_bias": (lambda m, x, w: m.nn.functional.linear(x, w), [_a(2, 3, 5), _a(4, 5)]),
    "lerp_scalar": (lambda m, a, b: m.lerp(a, b, 0.3) * a.lerp(b, 0.8), [_a(3, 4), _a(3, 4, seed=1)]),
    "lerp_tensor": (lambda m, a, b, w: m.lerp(a, b, w), [_a(3, 4), _a(4, seed=1), _a(3, 1, low=-0.5, high=1.5)]),
    "lerp_inplace": (lambda m, a, b: (a * 1).lerp_(b, 0.6), [_a(2, 3), _a(2, 3, seed=1)]),
    "tensor_split_sections": (lambda m, x: [p * (k + 1) for k, p in enumerate(m.tensor_split(x, 3, dim=1))],
                              [_a(2, 7)]),
    "tensor_split_indices": (lambda m, x: [p.sum(0) for p in x.tensor_split([1, -2, 9])], [_a(5, 2)]),
    "hstack_vstack": (lambda m, a, b: m.hstack([a, b]).sum(0) * m.vstack([a.t(), b.t()]).sum(1)[:3].sum(),
                      [_a(2, 3), _a(2, 3, seed=1)]),
    "dstack_column_stack_row_stack": (lambda m, a, b: [m.dstack([a, b]), m.column_stack([a[:, 0], b]),
                                                       m.row_stack([a[0], b[1]])], [_a(2, 3), _a(2, 3, seed=1)]),
    "stacks_of_vectors": (lambda m, a, b: [m.hstack([a, b]), m.vstack([a, b]), m.dstack([a, b])],
                          [_a(3), _a(3, seed=1)]),
    "index_fill_value": (lambda m, x: m.index_fill(x, 1, IDX(m, 0, 2, 2), -1.5), [_a(3, 4)]),
    "index_fill_tensor": (lambda m, x, v: x.index_fill(0, IDX(m, 1), v.sum()), [_a(2, 3), _a(2)]),
    "index_fill_inplace": (lambda m, x: (x * 2).index_fill_(-1, IDX(m, -1), 0.0), [_a(2, 3)]),
    "masked_scatter": (lambda m, x, s: x.masked_scatter(x > 0, s), [_a(3, 4), _a(4, 4, seed=1)]),
    "masked_scatter_broadcast": (lambda m, x, s: m.masked_scatter(x, m.tensor([True, False, True]), s),
                                 [_a(2, 3), _a(7, seed=1)]),
    "broadcast_tensors": (lambda m, a, b: [t * (k + 1) for k, t in enumerate(m.broadcast_tensors(a, b))],
                          [_a(2, 1), _a(3, seed=1)]),
    "linalg_solve": (lambda m, a, b: m.linalg.solve(a, b), [_spd(3), _a(3, 2, seed=1)]),
    "linalg_solve_vector": (lambda m, a, b: m.linalg.solve(a, b), [_spd(3), _a(3, seed=1)]),
    "linalg_solve_batched": (lambda m, a, b: m.linalg.solve(a, b), [np.stack([_spd(2), _spd(2, 1)]), _a(2, 2, 3)]),
    "linalg_solve_right": (lambda m, a, b: m.linalg.solve(a, b, left=False), [_spd(3), _a(2, 3, seed=1)]),
    "linalg_inv": (lambda m, a: m.linalg.inv(a), [_a(3, 3) + 3 * np.eye(3)]),
    "inverse": (lambda m, a: m.inverse(a) + a.inverse(), [_a(2, 3, 3) + 3 * np.eye(3)]),
    "linalg_det": (lambda m, a: m.linalg.det(a), [_a(3, 3)]),
    "det": (lambda m, a: m.det(a) * a.det(), [_a(2, 2, 2)]),
    "linalg_cross": (lambda m, a, b: m.linalg.cross(a, b), [_a(4, 3), _a(4, 3, seed=1)]),
    "linalg_cross_broadcast_dim": (lambda m, a, b: m.linalg.cross(a, b, dim=0), [_a(3, 2), _a(3, 1, seed=1)]),
    "cross_dim": (lambda m, a, b: m.cross(a, b, dim=1) + a.cross(b, dim=-1), [_a(2, 3), _a(2, 3, seed=1)]),
    "cdist_p2": (lambda m, a, b: m.cdist(a, b), [_a(4, 3), _a(5, 3, seed=1)]),
    "cdist_p2_matmul_path": (lambda m, a, b: m.cdist(a, b), [_a(27, 3), _a(4, 3, seed=1)]),
    "cdist_p2_forced_mm": (lambda m, a, b: m.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
                           [_a(3, 2), _a(2, 2, seed=1)]),
    "cdist_p1_batched": (lambda m, a, b: m.cdist(a, b, p=1), [_a(2, 3, 4), _a(2, 2, 4, seed=1)]),
    "cdist_p3": (lambda m, a, b: m.cdist(a, b, p=3), [_a(3, 2), _a(2, 2, seed=1)]),
    "cdist_pinf": (lambda m, a, b: m.cdist(a, b, p=float("inf")), [_a(3, 2), _a(4, 2, seed=1)]),
    "cummax": (lambda m, x: [m.cummax(x, 1).values, x.cummax(0)[0]], [_a(3, 5)]),
    "cummin": (lambda m, x: [m.cummin(x, -1).values, x.cummin(0).values], [_a(4, 3)]),
    "cummax_ties": (lambda m, x: m.cummax(x, 0).values, [np.array([1.0, 3.0, 2.0, 3.0, 0.5, 3.0])]),
    "scatter_reduce_sum": (lambda m, x, s: x.scatter_reduce(0, IDX(m, 0, 2, 0, 2), s, "sum"), [_a(3), _a(4)]),
    "scatter_reduce_mean_no_self": (lambda m, x, s: m.scatter_reduce(x, 1, m.tensor([[0, 0, 2], [1, 1, 1]]), s,
                                                                     "mean", include_self=False),
                                    [_a(2, 3), _a(2, 3, seed=1)]),
    "scatter_reduce_prod": (lambda m, x, s: x.scatter_reduce(0, IDX(m, 1, 1, 3), s, "prod"), [_a(4), _a(3)]),
    "scatter_reduce_amax": (lambda m, x, s: x.scatter_reduce(0, IDX(m, 1, 1, 3), s, "amax", include_self=False),
                            [_a(4), _a(3)]),
    "triu_tril_inplace": (lambda m, x: (x * 1).triu_(1) + (x * 2).tril_(-1), [_a(3, 4)]),
    "movedim_unflatten": (lambda m, x: m.movedim(x, (0, 1), (2, 0)).unflatten(1, (2, -1)) * 2, [_a(2, 3, 4)]),
    "diagonal": (lambda m, x: [x.diagonal(), m.diagonal(x, -1, 2, 0) * 3], [_a(3, 2, 4)]),
    "take_along_dim": (lambda m, x: [m.take_along_dim(x, m.tensor([[0], [2]]), 1), x.take_along_dim(m.tensor([5, 0, 5]))],
                       [_a(2, 3)]),
    "nansum_nanmean": (lambda m, x: [m.nansum(x, 1), x.nansum(), m.nanmean(x, 0) * 2], [_a(3, 4)]),
}
NOT_FINITE = {"addmm_beta_zero", "cummax_ties"}  # an infinite input (ignored by beta=0); ties (one-sided)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch(name):
    fn, arrays = CASES[name]
    got = _run(tt, fn, arrays)
    want = pytorch(lambda torch, *arrays: _run(torch, fn, arrays), *arrays)
    assert got[1] == want[1]  # the grad_fn's name
    for g, w in zip(got[:1] + got[2:], want[:1] + want[2:]):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(set(CASES) - NOT_FINITE))
def test_gradcheck(name):
    fn, arrays = CASES[name]

    def first(*xs):
        out = fn(tt, *xs)
        return tt.cat([o.reshape(-1) for o in out]) if isinstance(out, (tuple, list)) else out
    check_grad(first, *arrays)


@pytest.mark.parametrize("name", ["lerp_tensor", "linalg_det", "linalg_solve", "linalg_cross", "cdist_p3",
                                  "index_fill_tensor", "masked_scatter", "addmm_broadcast_beta_alpha", "baddbmm"])
def test_second_derivatives_match_pytorch(name):
    fn, arrays = CASES[name]

    def derivatives(m, *arrays):
        xs = [m.tensor(a, dtype=m.float64, requires_grad=True) for a in arrays]
        out = fn(m, *xs)
        gs = m.autograd.grad((out * out).sum(), xs, create_graph=True)
        hs = m.autograd.grad(sum((g * g).sum() for g in gs), xs)
        return [g.detach().numpy() for g in gs] + [h.numpy() for h in hs]
    for got, want in zip(derivatives(tt, *arrays), pytorch(derivatives, *arrays)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)


# one case per family on each device: the values and gradients of PyTorch's CPU
FAMILY = ["addmm_broadcast_beta_alpha", "addmv", "baddbmm", "addbmm", "linear_3d", "lerp_tensor",
          "tensor_split_indices", "index_fill_tensor", "masked_scatter", "linalg_solve", "linalg_cross",
          "cdist_p2", "cdist_p2_matmul_path", "cummax", "scatter_reduce_amax"]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", FAMILY)
def test_family_on_each_device(name, device):
    fn, arrays = CASES[name]
    want = pytorch(lambda torch, *arrays: _run(torch, fn, arrays), *arrays)
    got = _run(tt, fn, arrays, device)
    assert got[1] == want[1]
    for g, w in zip(got[:1] + got[2:], want[:1] + want[2:]):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-10)


@pytest.mark.gpu
def test_gradcheck_on_cuda():
    for name in ("addmm_broadcast_beta_alpha", "lerp_tensor", "linalg_cross", "cummin"):
        fn, arrays = CASES[name]
        leaves = [tt.tensor(a, dtype=tt.float64, device="cuda", requires_grad=True) for a in arrays]

        def first(*xs):
            out = fn(tt, *xs)
            return tt.cat([o.reshape(-1) for o in out]) if isinstance(out, (tuple, list)) else out
        assert tt.autograd.gradcheck(first, leaves)


def test_linear_records_what_pytorch_records():
    def chains(m):
        def chain(t):
            names, f = [], t.grad_fn
            while f is not None:
                names.append(f.name())
                f = next((n for n, _ in f.next_functions if n is not None and n.name() != "AccumulateGrad"
                          and "AccumulateGrad" not in n.name()), None)
            return names
        x2 = m.ones(2, 3, requires_grad=True)
        lin = m.nn.Linear(3, 4)
        return [chain(m.nn.functional.linear(x2, m.ones(4, 3), m.ones(4))),
                chain(m.nn.functional.linear(m.ones(5, 2, 3, requires_grad=True), m.ones(4, 3), m.ones(4))),
                chain(m.nn.functional.linear(m.ones(3, requires_grad=True), m.ones(4, 3), m.ones(4))),
                chain(m.nn.functional.linear(m.ones(3, 2, requires_grad=True).t(), m.ones(4, 3), m.ones(4))),
                chain(m.nn.functional.linear(x2, m.ones(4, 3))),
                chain(lin(m.ones(2, 3))), chain(lin(m.ones(2, 2, 3))),
                [type(n).__name__ if n is not None else None for n, _ in lin(x2).grad_fn.next_functions]]
    got, want = chains(tt), pytorch(chains)
    assert got[:-1] == want[:-1]
    assert [n and n.replace("torch::autograd::", "") for n in got[-1]] == \
        [n and n.replace("torch::autograd::", "") for n in want[-1]]
    assert got[0] == ["AddmmBackward0"] and got[1] == ["ViewBackward0", "AddmmBackward0", "ViewBackward0"]


def test_compiled_linear_step_replays_addmm_as_eager():
    def make():
        tt.manual_seed(3)
        model = tt.nn.Sequential(tt.nn.Linear(4, 6), tt.nn.Tanh(), tt.nn.Linear(6, 2))
        opt = tt.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        return model, step
    tt.manual_seed(0)
    data = [(tt.randn(5, 4), tt.randn(5, 2)) for _ in range(2)]
    eager_model, eager_step = make()
    expected = [eager_step(*data[i % 2]).item() for i in range(5)]
    model, step = make()
    compiled = tt.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = [compiled(*data[i % 2]).item() for i in range(5)]
    assert compiled.eager is None and compiled.traces >= 1  # replayed, not run eagerly
    assert got == expected  # bit for bit
    for p, q in zip(model.parameters(), eager_model.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


@pytest.mark.parametrize("call", [
    lambda m, x: m.addmm(x[0], x, x.t()), lambda m, x: m.addmv(x[:, 0], x, x[0]),
    lambda m, x: m.baddbmm(x, x[None], x.t()[None]), lambda m, x: m.addbmm(x, x[None], x.t()[None]),
    lambda m, x: m.lerp(x, x * 2, 0.5), lambda m, x: m.lerp(x, x * 2, x), lambda m, x: m.tensor_split(x, 2)[1],
    lambda m, x: m.hstack([x, x]), lambda m, x: m.index_fill(x, 0, m.tensor([0]), 1.0),
    lambda m, x: x.masked_scatter(x > 0, x), lambda m, x: m.linalg.solve(x, x),
    lambda m, x: m.linalg.inv(x), lambda m, x: m.det(x), lambda m, x: m.linalg.cross(x, x),
    lambda m, x: m.cdist(x, x), lambda m, x: m.cdist(x, x, p=1), lambda m, x: m.cummax(x, 0)[0],
    lambda m, x: m.cummin(x, 1)[0], lambda m, x: x.scatter_reduce(0, m.tensor([[0, 1, 2]]), x, "amin"),
    lambda m, x: (x * 1).triu_(), lambda m, x: m.broadcast_tensors(x, x[0])[1],
    lambda m, x: m.std_mean(x, axis=1)[0],
])
def test_grad_fn_names_are_pytorchs(call):
    def name(m):
        return call(m, m.tensor([[2.0, 1.0, 0.5], [1.0, 3.0, 0.0], [0.5, 0.0, 4.0]], requires_grad=True)).grad_fn.name()
    assert name(tt) == pytorch(name)


# ---------------------------------------------------------------- values without gradients


def _selections(m):
    x = m.tensor([[0.0, 1.5, -2.0], [3.0, 0.0, 0.0]])
    ints = m.tensor([[1, 2], [1, 2], [0, 3]])
    return [
        m.where(x), m.where(x > 0), m.argwhere(x), m.argwhere(m.tensor(3.0)),
        m.bucketize(m.tensor([[1.0, 5.0], [9.0, 3.0]]), m.tensor([1.0, 3.0, 5.0, 7.0])),
        m.bucketize(m.tensor([1, 5, 9]), m.tensor([1, 3, 5, 7]), right=True, out_int32=True),
        m.bucketize(2.5, m.tensor([1.0, 3.0])),
        m.searchsorted(m.tensor([1.0, 3.0, 5.0]), m.tensor([3.0, 6.0, 0.0])),
        m.searchsorted(m.tensor([[1, 3, 5], [2, 4, 6]]), m.tensor([[3, 4], [5, 1]]), side="right"),
        m.searchsorted(m.tensor([5.0, 1.0, 3.0]), m.tensor([2.0]), sorter=m.tensor([1, 2, 0])),
        m.histc(m.tensor([1.0, 2.0, 1.0, 4.0, -1.0]), bins=4, min=0, max=3), m.histc(x, bins=3),
        m.histc(m.tensor([1.0, 2, 1, 3, 3], dtype=m.float64), bins=3), m.histc(m.tensor([2.0, 2.0]), bins=4),
        m.histc(m.tensor([]), bins=4), m.histc(m.arange(100.0) / 7, bins=13, min=0.3, max=9.1),
        m.histc(m.tensor([0.1, 0.2, 0.3, 0.7, 0.9, 1.0, -0.5], dtype=m.float16), bins=7, min=-0.3, max=0.95),
        m.bincount(m.tensor([], dtype=m.int64)),
        m.bincount(m.tensor([1, 2, 1, 4]), weights=m.tensor([1.0, 2.0, 3.0, 4.0]), minlength=7),
        m.bincount(m.tensor([3, 0]), minlength=2), m.bincount(m.tensor([1, 1]), weights=m.tensor([1, 2])),
        m.unique(ints, dim=0, return_inverse=True, return_counts=True),
        m.unique(ints, dim=1, return_inverse=True, return_counts=True),
        m.unique(m.tensor([[2, 1, 2], [3, 0, 3]]), dim=-1, sorted=True, return_inverse=True),
        m.unique(m.tensor([3, 1, 2, 1]), sorted=False, return_counts=True),
        m.scatter(m.ones(3), 0, m.tensor([0, 0, 2]), m.tensor([2.0, 3.0, 4.0]), reduce="multiply"),
        m.ones(2, 3).scatter(1, m.tensor([[0, 0], [2, 1]]), 2.5, reduce="multiply"),
        m.scatter_reduce(m.tensor([5, 1, 7]), 0, m.tensor([0, 0, 2, 1]), m.tensor([2, 3, 4, 9]), "mean"),
        m.scatter_reduce(m.tensor([-7, 1, 7]), 0, m.tensor([0, 0, 2, 1]), m.tensor([2, 3, 4, 9]), "mean"),
        m.scatter_reduce(m.ones(2, 2), 0, m.tensor([[1, 1]]), m.tensor([[0.5, 4.0]]), "amin"),
        m.cummax(m.tensor([[1, 3, 2], [0, 0, 5]]), 1), m.cummin(m.tensor([2.0, float("nan"), 1.0]), 0),
        m.cummax(m.tensor(3.0), 0), m.tensor_split(m.arange(7), m.tensor(3)),
        m.tensor_split(m.arange(8).reshape(2, 4), m.tensor([1, -1, 9]), dim=1),
        m.dstack([m.ones(2), m.zeros(2)]), m.column_stack([m.arange(3), m.arange(3)]),
        m.atleast_3d(m.ones(2)), m.atleast_2d(m.tensor(1.0), m.ones(3)), m.broadcast_shapes((2, 1), (3,)),
        m.index_fill(m.arange(6).reshape(2, 3), 1, m.tensor([0, -1]), 9),
        m.ones(3, 3).triu_(1), m.ones(3, 3).tril_(-1), m.tensor([1.0, 2.0]) == None,  # noqa: E711
        m.nansum(m.tensor([[1, 2], [3, 4]]), 0), m.nanmean(m.tensor([float("nan"), float("nan")])),
        m.tensor([1.0, 2.0]) != None, m.tensor([1.0]).is_floating_point(), m.is_floating_point(m.tensor([1])),  # noqa: E711
        m.dropout(m.ones(3), 0.5, False), m.std_mean(m.tensor([[1.0, 2.0], [3.0, 5.0]]), axis=1),
        m.var_mean(m.tensor([[1.0, 2.0], [3.0, 5.0]]), axis=0, correction=0, keepdims=True),
        m.tensor([], dtype=m.int64), repr(m.tensor([], dtype=m.int64)).replace("torch.", "tinytape."),
        m.addmm(m.tensor([1, 2]), m.tensor([[1, 2], [3, 4]]), m.tensor([[1, 0], [0, 1]]), beta=2, alpha=3),
        m.cdist(m.zeros(0, 3), m.ones(2, 3)).shape, m.nn.functional.linear(m.ones(2, 0, 3), m.ones(4, 3), m.ones(4)),
    ]


def test_selections_match_pytorch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = _selections(tt)
    for g, w in zip(got, pytorch(_selections)):
        _same(g, w)


def _same(got, want):
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
        return
    if hasattr(want, "values") and hasattr(want, "dtype") and not isinstance(want, np.ndarray):
        assert got.dtype.name == want.dtype
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        return
    assert got == want


def test_default_dtype():
    assert tt.get_default_dtype() is tt.float32
    tt.set_default_dtype(tt.float64)
    try:
        got = [tt.tensor([1.5]).dtype, tt.ones(2).dtype, tt.arange(0.5).dtype, (tt.tensor([1]) * 0.5).dtype,
               tt.linspace(0, 1, 3).dtype, tt.nn.Linear(2, 2).weight.dtype, tt.get_default_dtype()]
    finally:
        tt.set_default_dtype(tt.float32)
    assert got == [tt.float64] * 7
    with pytest.raises(TypeError, match="only floating-point types"):
        tt.set_default_dtype(tt.int64)


# ---------------------------------------------------------------- errors as PyTorch raises them


@pytest.mark.parametrize("call", [
    lambda m: m.cumsum(m.tensor([1.0, 2.0]), dim=-2), lambda m: m.tensor_split(m.ones(2), 2, dim=1),
    lambda m: m.cummax(m.ones(2), 1), lambda m: m.cummin(m.ones(2, 2), -3),
    lambda m: m.index_fill(m.ones(2), 1, m.tensor([0]), 1.0), lambda m: m.index_fill(m.ones(2), 0, m.tensor([2]), 1.0),
    lambda m: m.linalg.cross(m.ones(2, 3), m.ones(2, 3), dim=2), lambda m: m.linalg.cross(m.ones(2, 2), m.ones(2, 2)),
    lambda m: m.unique(m.ones(2), dim=1), lambda m: m.scatter_reduce(m.ones(2), 1, m.tensor([0]), m.ones(1), "sum"),
    lambda m: m.scatter_reduce(m.ones(2), 0, m.tensor([0]), m.ones(1), "maximum"),
    lambda m: m.addmm(m.ones(3), m.ones(2, 3), m.ones(2, 3)), lambda m: m.addmm(m.ones(3), m.ones(2, 2), m.ones(2, 2)),
    lambda m: m.addmm(m.ones(2, 2), m.ones(2), m.ones(2, 2)),
    lambda m: m.addmm(m.ones(2, 2, dtype=m.float64), m.ones(2, 2), m.ones(2, 2)),
    lambda m: m.baddbmm(m.ones(2, 2, 2), m.ones(2, 2, 3), m.ones(3, 2, 2)),
    lambda m: m.lerp(m.ones(2), m.ones(2, dtype=m.float64), 0.5),
    lambda m: m.masked_scatter(m.ones(3), m.tensor([True, True, False]), m.ones(1)),
    lambda m: m.linalg.solve(m.ones(2, 3), m.ones(2)), lambda m: m.linalg.inv(m.zeros(2, 2)),
    lambda m: m.cdist(m.ones(2, 3), m.ones(2, 4)), lambda m: m.cdist(m.ones(2, 3), m.ones(2, 3), p=-1),
    lambda m: m.searchsorted(m.tensor([1, 2]), m.tensor([1]), side="middle"),
    lambda m: m.searchsorted(m.tensor([1, 2]), m.tensor([1]), side="left", right=True),
    lambda m: m.bucketize(m.tensor([1]), m.ones(2, 2)), lambda m: m.tensor_split(m.ones(3), 0),
    lambda m: m.hstack([]), lambda m: m.broadcast_tensors(m.ones(2), m.ones(3)),
    lambda m: m.ones(3).scatter(0, m.tensor([0]), m.ones(1), reduce="mean"),
    lambda m: m.where(m.ones(2) > 0, m.ones(2)),
    lambda m: m.linspace(0, 1, 3, dtype=m.bool), lambda m: m.linspace(-5, 300, 4, dtype=m.uint8),
    lambda m: m.arange(3, dtype=m.bool), lambda m: m.arange(0, -1, 1), lambda m: m.arange(0, float("inf")),
    lambda m: m.linspace(0, 1, -1),
    lambda m: m.histc(m.tensor([1, 2]), bins=4), lambda m: m.histc(m.tensor([1.0, float("nan")])),
    lambda m: m.histc(m.ones(2), bins=0), lambda m: m.histc(m.ones(2), bins=4, min=3, max=1),
    lambda m: m.bincount(m.ones(2)), lambda m: m.bincount(m.tensor([1, 2]), minlength=-1),
    lambda m: m.bincount(m.tensor([1, 2]), weights=m.ones(3)), lambda m: m.bincount(m.tensor([-1, 2])),
    lambda m: m.ones(2, 2).sum((0, -2)), lambda m: m.ones(2, 2).std((1, 1)), lambda m: m.ones(2, 2).diagonal(0, 1, -1),
    lambda m: m.movedim(m.ones(2, 2), 0, 2), lambda m: m.ones(4).unflatten(0, (3, -1)),
    lambda m: m.take_along_dim(m.ones(2, 2), m.tensor([0]), 1), lambda m: m.nansum(m.ones(2), 1),
])
def test_errors_are_pytorchs(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call(tt)
        except Exception as error:  # noqa: BLE001  (the type is compared below)
            got = type(error)
        else:
            got = None
    try:
        pytorch(call)
    except Exception as error:  # noqa: BLE001
        want = type(error)
    else:
        want = None
    assert got is not None and want is not None and issubclass(got, want)


# ---------------------------------------------------------------- out=


def _outs(m):
    a, b = m.ones(2, 3), m.full((2, 3), 2.0)
    results = []
    for call in [lambda o: m.add(a, b, out=o), lambda o: m.mul(a, 3, out=o), lambda o: m.sub(a, b, alpha=2, out=o),
                 lambda o: m.div(a, b, out=o), lambda o: m.matmul(a, b.t(), out=o), lambda o: m.mm(a, b.t(), out=o),
                 lambda o: m.cat([a, b], out=o), lambda o: m.stack([a, b], 1, out=o), lambda o: m.sum(b, 0, out=o),
                 lambda o: m.mean(b, 1, out=o), lambda o: m.sqrt(b, out=o), lambda o: m.clamp(b, 0, 1.5, out=o),
                 lambda o: m.where(a > 0, a, b, out=o), lambda o: m.addmm(a, a, b.t()[:, :3].t(), out=o)]:
        for out_dtype in (m.float32, m.float64, m.int64):
            for out_shape in ((0,), (3,), (2, 3)):
                out = m.zeros(out_shape, dtype=out_dtype)
                alias = out.view(-1) if out_shape == (2, 3) else out  # (a grown storage is not followed)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    try:
                        r = call(out)
                        grown = r.numel() > alias.numel()  # (a storage grown in place is not followed here)
                        results.append((r is out, str(r.dtype).split(".")[1], tuple(r.shape), r.tolist(),
                                        None if grown else alias.tolist(), len(caught)))
                    except Exception as error:  # noqa: BLE001
                        results.append(type(error).__name__)
    for call in [lambda: m.add(m.ones(2, requires_grad=True), 1, out=m.empty(0)),
                 lambda: m.add(m.ones(2), 1, out=m.empty(0, requires_grad=True))]:
        try:
            call()
            results.append(None)
        except RuntimeError as error:
            results.append("don't support automatic differentiation" in str(error))
    with m.no_grad():
        results.append(m.mul(m.ones(2, requires_grad=True), 2, out=m.empty(0)).tolist())
    values, indices = m.max(m.tensor([[1.0, 5.0], [3.0, 2.0]]), 0, out=(m.empty(0), m.empty(0, dtype=m.int64)))
    results.append((values.tolist(), indices.tolist()))
    return results


def test_out_arguments_match_pytorch():
    assert _outs(tt) == pytorch(_outs)


# ---------------------------------------------------------------- ranges, bit for bit


def _range_cases():
    rng = np.random.default_rng(5)
    cases = []
    for k in range(40):
        start = float(np.round(rng.uniform(-100, 100), 3)) if k % 3 else int(rng.integers(-10, 10))
        end = float(np.round(rng.uniform(-1000, 1000), 2)) if k % 2 else int(rng.integers(-50, 50))
        cases.append(("linspace", start, end, int(rng.choice([2, 3, 7, 10, 50, 101, 1000, 5000]))))
    for k in range(40):
        start = float(np.round(rng.uniform(-100, 100), 3)) if k % 2 else int(rng.integers(-10, 10))
        step = float(rng.choice([0.1, 0.3, 1 / 3, 0.01, 0.7, 2.5, -0.25]))
        cases.append(("arange", start, start + step * int(rng.choice([1, 5, 17, 33, 100, 1000, 3000])), step))
    for k in range(20):
        cases.append(("logspace", float(np.round(rng.uniform(-5, 5), 3)), float(np.round(rng.uniform(-5, 5), 3)),
                      int(rng.choice([1, 2, 10, 101])), float(rng.choice([10.0, 2.0, 2.5]))))
    return cases


def _range_bits(m):
    """A digest of each range's bits, per dtype (the values themselves would make a large record)."""
    digests = []
    for case in _range_cases():
        kind, args = case[0], case[1:]
        for dtype in ("float32", "float64", "float16", "bfloat16", "int64"):
            try:
                t = getattr(m, kind)(*args, dtype=getattr(m, dtype))
            except RuntimeError:
                digests.append("error")
                continue
            if dtype == "bfloat16":
                t = t.float()  # exactly
            a = np.ascontiguousarray(t.numpy())
            digests.append(f"{a.shape}:{hashlib.sha256(a.tobytes()).hexdigest()[:16]}")
    return digests


def test_linspace_arange_logspace_are_pytorchs_bit_for_bit():
    got, want = _range_bits(tt), pytorch(_range_bits)
    bad = [(c, i % 5) for i, (g, w, c) in enumerate(zip(got, want, [c for c in _range_cases() for _ in range(5)]))
           if g != w]
    assert not bad, bad[:5]


def test_small_ranges_match_pytorch():
    def ranges(m):
        return [m.linspace(0, 1, 7), m.linspace(-3.3, 8.1, 11), m.linspace(2, 2, 1), m.linspace(0, 1, 0),
                m.linspace(0, 10, 6, dtype=m.int64), m.arange(0.3, 1.3, 0.1, dtype=m.float64), m.arange(0, 1, 0.1),
                m.arange(5), m.arange(1, 4, 0.5), m.arange(10, 0, -3), m.logspace(0, 2, 3), m.logspace(-1, 1, 5, base=2),
                m.arange(m.tensor(3)), m.linspace(m.tensor(0.5), m.tensor(1.5), 3),
                m.linspace(-5, 5, 4, dtype=m.uint8), m.linspace(-5.5, 5.5, 4, dtype=m.int8),
                m.logspace(-1, 2, 4, dtype=m.int8), m.arange(0.5, 5.5, 1.5, dtype=m.int32),
                m.arange(-2.7, 3, 0.9, dtype=m.int64), m.logspace(0.5, 0.5, 1, base=3.0, dtype=m.float16)]
    for g, w in zip(ranges(tt), pytorch(ranges)):
        _same(g, w)
