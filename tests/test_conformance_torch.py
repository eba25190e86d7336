"""Tutorial-shaped programs agree with PyTorch: grad_fn names, dtype promotion, numpy
operands, error types, printing, graph introspection, and second derivatives of every
non-elementwise op (gradgradcheck through the shared helper) on both backends."""

import numpy as np
import pytest

import tinytape as tt
import tinytape.nn.functional as F
from helpers import check_grad
from pytorch_answers import pytorch

DEVICES = ["cpu", "cuda"]


def _leaf(m, *shape, dtype=None):
    g = np.random.default_rng(0)
    return m.tensor(g.standard_normal(shape), dtype=dtype or m.float32, requires_grad=True)


GRAD_FN_NAMES = {
    "norm": lambda m: _leaf(m, 3).norm(),
    "norm dim": lambda m: _leaf(m, 2, 3).norm(dim=0),
    "norm p=1": lambda m: _leaf(m, 3).norm(p=1),
    "stack": lambda m: m.stack([_leaf(m, 2), _leaf(m, 2)]),
    "select column": lambda m: _leaf(m, 2, 3)[:, 1],
    "select row": lambda m: _leaf(m, 2, 3)[1],
    "select then full slice": lambda m: _leaf(m, 2, 3)[0, :],
    "slice": lambda m: _leaf(m, 2, 3)[1:],
    "3-D @ 2-D": lambda m: _leaf(m, 2, 3, 4) @ _leaf(m, 4, 5),
    "3-D cross_entropy": lambda m: m.nn.functional.cross_entropy(_leaf(m, 2, 3, 4), m.zeros(2, 4, dtype=m.int64)),
    "BCE with logits pos_weight": lambda m: m.nn.functional.binary_cross_entropy_with_logits(
        _leaf(m, 3), m.ones(3), pos_weight=m.ones(3) * 2),
    "gather": lambda m: _leaf(m, 2, 3).gather(1, m.tensor([[0, 0], [1, 2]])),
    "scatter_add": lambda m: _leaf(m, 2, 3).scatter_add(1, m.tensor([[0, 0], [1, 2]]), _leaf(m, 2, 2)),
    "range index": lambda m: _leaf(m, 3, 3)[range(3), m.tensor([0, 2, 1])],
    "max dim": lambda m: _leaf(m, 2, 3).max(1)[0],
    "mean": lambda m: _leaf(m, 2, 3).mean(),
}


@pytest.mark.parametrize("case", sorted(GRAD_FN_NAMES))
def test_grad_fn_names_are_pytorchs(case):
    got, want = GRAD_FN_NAMES[case](tt), pytorch(lambda torch: GRAD_FN_NAMES[case](torch))
    assert type(got.grad_fn).__name__ == want.grad_fn
    assert got.dtype.name == want.dtype
    np.testing.assert_allclose(got.detach().numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64"]


def _operand(m, dtype, zero_d):
    t = m.ones(()) if zero_d else m.ones(2)
    return t.to(getattr(m, dtype))


@pytest.mark.parametrize("left", DTYPES)
@pytest.mark.parametrize("right", DTYPES)
@pytest.mark.parametrize("dims", ["dim-dim", "dim-0d", "0d-dim", "0d-0d"])
def test_promotion_is_result_type(left, right, dims):
    def result_type(m):
        return m.result_type(_operand(m, left, dims.startswith("0d")), _operand(m, right, dims.endswith("0d")))
    got = tt._dtype.result_type(_operand(tt, left, dims.startswith("0d")), _operand(tt, right, dims.endswith("0d")))
    assert got.name == pytorch(result_type)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scalar", [True, 2, 2.5])
def test_promotion_with_python_numbers(dtype, scalar):
    want = pytorch(lambda torch: torch.result_type(_operand(torch, dtype, False), scalar))
    assert tt._dtype.result_type(_operand(tt, dtype, False), scalar).name == want


@pytest.mark.parametrize("device", DEVICES)
def test_zero_dim_tensor_promotes_like_a_number(device):
    x = tt.ones(2, device=device)
    assert (x * tt.tensor(0.5, dtype=tt.float64, device=device)).dtype is tt.float32
    assert (tt.ones(2, dtype=tt.int64, device=device) * tt.tensor(0.5, dtype=tt.float64, device=device)).dtype is tt.float64
    assert (tt.tensor(2.0, device=device) * tt.tensor(3.0, dtype=tt.float64, device=device)).dtype is tt.float64


NUMPY_LEFT = {
    "float64 * x": lambda m, x: np.float64(2.0) * x,
    "float32 + x": lambda m, x: np.float32(2.0) + x,
    "int64 - x": lambda m, x: np.int64(3) - x,
    "float64 / x": lambda m, x: np.float64(1.0) / (x + 2),
}


@pytest.mark.parametrize("case", sorted(NUMPY_LEFT))
def test_numpy_on_the_left_keeps_the_graph(case):
    def run(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        out = NUMPY_LEFT[case](m, x)
        out.sum().backward()
        return out, x.grad
    x = tt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    got, (want, want_grad) = NUMPY_LEFT[case](tt, x), pytorch(run)
    assert isinstance(got, tt.Tensor) and got.dtype.name == want.dtype
    assert type(got.grad_fn).__name__ == want.grad_fn
    got.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), want_grad.numpy(), rtol=1e-6)


ERRORS = {
    "float of a vector": lambda m: float(m.tensor([1.0, 2.0])),
    "int of a vector": lambda m: int(m.tensor([1, 2])),
    "cross_entropy float targets": lambda m: m.nn.functional.cross_entropy(m.randn(2, 3), m.tensor([0.0, 1.0])),
    "where float condition": lambda m: m.where(m.tensor([1.0, 0.0]), m.ones(2), m.zeros(2)),
    "argmax of empty": lambda m: m.tensor([]).argmax(),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_error_types_are_pytorchs(case):
    with pytest.raises(Exception) as want:
        pytorch(lambda torch: ERRORS[case](torch))
    with pytest.raises(want.type):
        ERRORS[case](tt)


def test_mse_loss_broadcasts_with_a_warning():
    with pytest.warns(UserWarning, match="different to the input size"):
        got = F.mse_loss(tt.ones(3, 1), tt.zeros(3))
    with pytest.warns(UserWarning, match="different to the input size"):
        want = pytorch(lambda torch: torch.nn.functional.mse_loss(torch.ones(3, 1), torch.zeros(3)))
    assert got.item() == want.item()


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_dim_prints_as_a_return_type(op):
    data = [[1.0, 5.0], [3.0, 0.0]]
    want, want_0d, want_values = pytorch(lambda torch: (repr(getattr(torch.tensor(data), op)(1)),
                                                        repr(torch.tensor(3.0).max(0)),
                                                        getattr(torch.tensor(data), op)(1).values))
    assert repr(getattr(tt.tensor(data), op)(1)) == want.replace("torch.", "tinytape.")
    assert repr(tt.tensor(3.0).max(0)) == want_0d.replace("torch.", "tinytape.")
    values, indices = getattr(tt.tensor(data), op)(1)
    assert values.tolist() == want_values.tolist()


def _introspection(m):
    """What the saved tensors and next_functions of a few entries show, in module ``m``."""
    x = m.tensor([1.0, 2.0], requires_grad=True)
    w = m.tensor([3.0, 4.0])
    y, n, p, z = x.exp(), x.norm(), x.reshape(1, 2).mm(w.reshape(2, 1)), x * w
    (acc, nr), (none, _) = z.grad_fn.next_functions
    s = (x * 2).sum(0)
    a, b = m.stack([x, x * 1]).grad_fn.next_functions
    return (y.grad_fn._saved_result.tolist() == y.tolist(), n.grad_fn._saved_self.tolist() == x.tolist(),
            n.grad_fn._saved_result.item() == n.item(), p.grad_fn._saved_mat2.tolist(),
            type(acc).__name__, acc.variable is x, nr, none is None,
            len(s.grad_fn.next_functions), type(s.grad_fn.next_functions[0][0]).__name__,
            type(a[0]).__name__, type(b[0]).__name__)


def test_saved_tensors_and_next_functions_as_pytorch():
    got = _introspection(tt)
    assert got == pytorch(_introspection)
    assert got == (True, True, True, [[3.0], [4.0]], "AccumulateGrad", True, 0, True,
                   1, "MulBackward0", "AccumulateGrad", "MulBackward0")


@pytest.mark.parametrize("device", DEVICES)
def test_norm_edges(device):
    assert tt.tensor(-2.6, device=device).norm().item() == pytest.approx(2.6)
    z = tt.zeros(3, requires_grad=True, device=device)
    z.norm().backward()
    assert z.grad.tolist() == [0.0, 0.0, 0.0]
    x = tt.tensor(-2.0, requires_grad=True, device=device)
    x.norm().backward()
    assert x.grad.item() == -1.0


# Second derivatives of every op that is not elementwise (their backward formulas are
# written with recorded ops, so create_graph=True differentiates them again).
SECOND_ORDER = {
    "sum dim": (lambda x: x.sum(1) ** 2, [(2, 3)]),
    "mean": (lambda x: x.mean() * x.mean(), [(2, 3)]),
    "norm": (lambda x: x.norm(), [(2, 3)]),
    "norm dim p=3": (lambda x: x.norm(p=3, dim=1), [(2, 3)]),
    "norm of 0-d": (lambda x: x.norm() * x, [()]),
    "max": (lambda x: x.max() * x.sum(), [(2, 3)]),
    "max dim": (lambda x: x.max(1)[0] * x.sum(), [(2, 3)]),
    "mm": (lambda a, b: (a @ b) * (a @ b), [(2, 3), (3, 2)]),
    "bmm": (lambda a, b: (a @ b) ** 2, [(2, 2, 3), (2, 3, 2)]),
    "3-D @ 2-D": (lambda a, b: (a @ b) ** 2, [(2, 2, 3), (3, 2)]),
    "mv": (lambda a, b: a.mv(b) ** 2, [(2, 3), (3,)]),
    "dot": (lambda a, b: a.dot(b) ** 2, [(3,), (3,)]),
    "view/permute/transpose": (lambda x: (x.view(3, 2).t() * x).permute(1, 0) ** 2, [(2, 3)]),
    "expand/squeeze": (lambda x: (x.unsqueeze(0).expand(2, 2, 3).squeeze() * x) ** 2, [(2, 3)]),
    "index": (lambda x: x[[0, 1, 1], [2, 0, 0]] ** 2, [(2, 3)]),
    "slice/select": (lambda x: (x[:, 1:] * x[0, 1:]) ** 2, [(2, 3)]),
    "cat/stack": (lambda x: (tt.cat([x, x * x], 0) * tt.stack([x, x]).reshape(4, 3)) ** 2, [(2, 3)]),
    "gather": (lambda x: x.gather(1, tt.tensor([[0, 2], [1, 1]], device=x.device)) ** 2, [(2, 3)]),
    "scatter_add": (lambda x, s: x.scatter_add(1, tt.tensor([[0, 0], [2, 1]], device=x.device), s * s) ** 2, [(2, 3), (2, 2)]),
    "masked_fill": (lambda x: x.masked_fill(x.detach() > 0, 0.5) ** 2, [(2, 3)]),
    "setitem": (lambda x: _setitem_square(x), [(2, 3)]),
    "softmax": (lambda x: F.softmax(x, 1) ** 2, [(2, 3)]),
    "log_softmax": (lambda x: F.log_softmax(x, 0) ** 2, [(2, 3)]),
    "mse_loss": (lambda x, y: F.mse_loss(x, y) ** 2, [(2, 3), (2, 3)]),
    "cross_entropy": (lambda x: F.cross_entropy(x, tt.tensor([2, 0], device=x.device)), [(2, 3)]),
    "cross_entropy 3-D": (lambda x: F.cross_entropy(x, tt.tensor([[2, 0], [1, 1]], device=x.device)), [(2, 3, 2)]),
    "nll_loss weighted": (lambda x: F.nll_loss(x * x, tt.tensor([2, 0], device=x.device),
                                                     weight=tt.tensor([1.0, 2.0, 3.0], dtype=tt.float64, device=x.device)), [(2, 3)]),
    "bce with logits pos_weight": (lambda x, y: F.binary_cross_entropy_with_logits(
        x, y.sigmoid(), pos_weight=tt.tensor([2.0, 0.5, 1.0], dtype=tt.float64, device=x.device)), [(2, 3), (2, 3)]),
}


def _setitem_square(x):
    y = x * 1
    y[0, 1:] = x[1, :2] * x[1, :2]
    return y ** 2


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", sorted(SECOND_ORDER))
def test_second_derivatives(case, device):
    fn, shapes = SECOND_ORDER[case]
    rng = np.random.default_rng(1)
    arrays = [np.asarray(rng.uniform(0.5, 1.5, s) * rng.choice([-1, 1], s)) for s in shapes]
    if device == "cpu":
        check_grad(fn, *arrays, second_order=True)
        return
    # CUDA: the second derivative matches the checked CPU one
    results = []
    for dev in ("cpu", "cuda"):
        leaves = [tt.tensor(a, dtype=tt.float64, device=dev, requires_grad=True) for a in arrays]
        out = fn(*leaves).sum()
        grads = tt.autograd.grad(out, leaves, create_graph=True)
        total = sum((g * g).sum() for g in grads)
        results.append([g.cpu().numpy() for g in tt.autograd.grad(total, leaves, allow_unused=True)
                        if g is not None])
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def _graph(node, depth=2):
    """A grad_fn and its next_functions, by class name, ``depth`` levels down."""
    if node is None:
        return None
    if depth == 0:
        return type(node).__name__
    return type(node).__name__, [_graph(n, depth - 1) for n, _ in node.next_functions]


GRAPHS = {
    "sum dim": lambda m, x, w: x.sum(0),
    "view": lambda m, x, w: x.view(6),
    "index": lambda m, x, w: x[m.tensor([0, 1])],
    "cat": lambda m, x, w: m.cat([x, w]),
    "stack": lambda m, x, w: m.stack([x, w]),
    "mm of a transpose": lambda m, x, w: x.mm(w.t()),
    "cross_entropy": lambda m, x, w: m.nn.functional.cross_entropy(x, m.tensor([0, 1])),
    "mse_loss": lambda m, x, w: m.nn.functional.mse_loss(x, w),
    "max dim": lambda m, x, w: x.max(1)[0],
    "gather": lambda m, x, w: x.gather(1, m.tensor([[0], [1]])),
    "expand a slice": lambda m, x, w: x[0:1].expand(3, 3),
    "setitem": lambda m, x, w: _assigned(x * 1, w[1]),
    # a number operand: wrapped (listed as None) or a scalar overload's (not listed)
    "number times": lambda m, x, w: 2 * x,
    "number plus": lambda m, x, w: 2 + x,
    "tensor minus number": lambda m, x, w: x - 2,
    "number minus": lambda m, x, w: 1 - x,
    "number to the power": lambda m, x, w: 2 ** x,
    "number over": lambda m, x, w: 2 / x,
    "0-d tensor times": lambda m, x, w: m.tensor(2.0) * x,
}


def _assigned(y, value):
    y[0] = value
    return y


@pytest.mark.parametrize("case", sorted(GRAPHS))
def test_next_functions_as_pytorch(case):
    def graph(m):
        x, w = m.ones(2, 3, requires_grad=True), m.ones(2, 3, requires_grad=True)
        return _graph(GRAPHS[case](m, x, w).grad_fn)
    assert graph(tt) == pytorch(graph)


def test_a_leafs_accumulate_grad_is_one_node():
    x = tt.ones(2, requires_grad=True)
    first = (x * 2).grad_fn.next_functions[0][0]
    assert (x + 1).grad_fn.next_functions[0][0] is first
    assert first.variable is x
    assert (tt.ones(2, requires_grad=True) * 2).grad_fn.next_functions[0][0] is not first
