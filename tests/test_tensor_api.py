"""Tensor creation, attributes, conversion and printing, as PyTorch does them."""
import math
import pickle

import numpy as np
import pytest

import tinytape as tt


def test_creation_dtypes():
    assert tt.tensor([1.0, 2]).dtype is tt.float32
    assert tt.tensor(3).dtype is tt.int64
    assert tt.tensor([True, False]).dtype is tt.bool
    assert tt.tensor(np.arange(3.0)).dtype is tt.float64
    assert tt.tensor(np.float64(2.0)).dtype is tt.float64
    assert tt.tensor([1, 2], dtype=tt.double).dtype is tt.float64
    assert tt.tensor([1, 2], dtype=float).dtype is tt.float64  # a Python float is a double, as in PyTorch
    assert tt.ones(2, 3).dtype is tt.float32 and tt.ones(2, 3).shape == (2, 3)
    assert tt.zeros((2, 3), dtype=tt.long).tolist() == [[0, 0, 0], [0, 0, 0]]
    assert tt.full((2,), 7).dtype is tt.int64 and tt.full((2,), 0.5).dtype is tt.float32
    assert tt.eye(3)[1].tolist() == [0.0, 1.0, 0.0]
    assert tt.arange(5).tolist() == [0, 1, 2, 3, 4] and tt.arange(0, 1, 0.5).dtype is tt.float32
    assert tt.linspace(0, 1, 3).tolist() == [0.0, 0.5, 1.0]
    assert tt.empty(4).shape == (4,)
    x = tt.randn(3, 4, dtype=tt.float64)
    assert x.dtype is tt.float64 and tt.randn_like(x).dtype is tt.float64
    assert tt.ones_like(x).shape == (3, 4) and tt.zeros_like(x).sum().item() == 0
    assert tt.full_like(x, 2).sum().item() == 24
    assert tt.tensor([tt.tensor(1.0), tt.tensor(2.0)]).tolist() == [1.0, 2.0]


def test_manual_seed_reproduces():
    tt.manual_seed(7)
    a = tt.randn(5)
    tt.manual_seed(7)
    b = tt.randn(5)
    assert a.tolist() == b.tolist()
    state = tt.get_rng_state()
    c = tt.rand(3)
    tt.set_rng_state(state)
    assert tt.rand(3).tolist() == c.tolist()
    assert all(0 <= v < 1 for v in c.tolist())


def test_from_numpy_shares_memory():
    a = np.zeros(3, np.float32)
    t = tt.from_numpy(a)
    a[0] = 5
    assert t[0].item() == 5
    with pytest.raises(TypeError, match="from_numpy"):
        tt.from_numpy([1, 2])


def test_attributes():
    x = tt.ones(2, 3, requires_grad=True)
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.dim() == 2 and x.ndim == 2 and x.numel() == 6 and len(x) == 2
    assert str(x.device) == "cpu" and x.device == tt.device("cpu")
    assert x.is_leaf and x.grad_fn is None and x.grad is None
    y = x * 2
    assert not y.is_leaf and y.requires_grad
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad = False
    with pytest.raises(RuntimeError, match="floating point"):
        tt.tensor([1, 2]).requires_grad_()
    d = x.data
    assert not d.requires_grad
    d[0, 0] = 5.0
    assert x[0, 0].item() == 5.0  # shares storage
    x.data = tt.zeros(2, 3)
    assert x.sum().item() == 0 and x.requires_grad
    x.grad = tt.ones(2, 3)
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = tt.ones(3)
    x.grad = None
    assert repr(tt.Size([2, 3])) == "tinytape.Size([2, 3])"


def test_conversion():
    t = tt.tensor([[1.5, 2.0]])
    assert t.tolist() == [[1.5, 2.0]]
    assert t.numpy().dtype == np.float32 and np.asarray(t).shape == (1, 2)
    assert t[0, 0].item() == 1.5 and float(t[0, 0]) == 1.5 and int(t[0, 1]) == 2 and bool(t[0, 0])
    assert t.double().dtype is tt.float64 and t.to(tt.int64).tolist() == [[1, 2]]
    assert t.float() is t and t.long().dtype is tt.long
    assert [r.tolist() for r in t] == [[1.5, 2.0]]
    with pytest.raises(RuntimeError, match="2 elements cannot be converted"):
        t.item()
    with pytest.raises(ValueError, match="only one element tensors can be converted"):
        float(t)
    with pytest.raises(ValueError, match="only one element tensors can be converted"):
        int(t)
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(t)
    with pytest.raises(RuntimeError, match="detach"):
        tt.ones(2, requires_grad=True).numpy()
    assert pickle.loads(pickle.dumps(t)).tolist() == t.tolist()
    assert f"{tt.tensor(2.5):.2f}" == "2.50"


@pytest.mark.parametrize("make, text", [
    (lambda: tt.tensor([7.0]), "tensor([7.])"),
    (lambda: tt.tensor(27.0), "tensor(27.)"),
    (lambda: tt.tensor([-0.0]), "tensor([-0.])"),
    (lambda: tt.tensor([0.31481, 0.31462, 0.0105]), "tensor([0.3148, 0.3146, 0.0105])"),
    (lambda: tt.tensor([1.0, 1000.0, 0.00001]), "tensor([1.0000e+00, 1.0000e+03, 1.0000e-05])"),
    (lambda: tt.tensor([1, 2, 3]), "tensor([1, 2, 3])"),
    (lambda: tt.tensor([1.5, 2.0], dtype=tt.float64), "tensor([1.5000, 2.0000], dtype=tinytape.float64)"),
    (lambda: tt.tensor([True, False]), "tensor([ True, False])"),
    (lambda: tt.tensor([math.nan, math.inf, 1.0]), "tensor([nan, inf, 1.])"),
    (lambda: tt.ones(2, 2, requires_grad=True), "tensor([[1., 1.],\n        [1., 1.]], requires_grad=True)"),
    (lambda: tt.zeros(0, 3), "tensor([], size=(0, 3))"),
    (lambda: tt.tensor([1e10, 1.0]), "tensor([1.0000e+10, 1.0000e+00])"),
    (lambda: tt.arange(2000.0), "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
                                "        1.9990e+03])"),
    (lambda: tt.tensor([[0.2362, -0.0583, 0.1763], [0.9883, -1.4176, -0.2120], [-0.6869, -0.9030, -0.9808]],
                       dtype=tt.float64, requires_grad=True) * 1,
     "tensor([[ 0.2362, -0.0583,  0.1763],\n        [ 0.9883, -1.4176, -0.2120],\n"
     "        [-0.6869, -0.9030, -0.9808]], dtype=tinytape.float64,\n       grad_fn=<MulBackward0>)"),
])
def test_printing(make, text):
    assert repr(make()) == text


def test_printing_wraps_long_rows_and_3d():
    assert repr(tt.arange(30.0)).splitlines()[0] == (
        "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,")
    assert repr(tt.arange(900.0)).splitlines()[-1] == "        888., 889., 890., 891., 892., 893., 894., 895., 896., 897., 898., 899.])"
    assert repr(tt.zeros(2, 1, 2)) == "tensor([[[0., 0.]],\n\n        [[0., 0.]]])"


def test_errors_name_the_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"^mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)"):
        tt.ones(2, 3).mm(tt.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"^The size of tensor a \(3\) must match the size of tensor b "
                                           r"\(4\) at non-singleton dimension 1 \(add: shapes \[2, 3\] and \[4\]\)$"):
        tt.ones(2, 3) + tt.ones(4)  # PyTorch's words, then the op and the shapes
    with pytest.raises(RuntimeError, match="^The size of tensor a"):
        tt.ones(2, 3, dtype=tt.float64) * tt.ones(3, 2)
    with pytest.raises(RuntimeError, match=r"shape '\[4, 2\]' is invalid for input of size 6"):
        tt.ones(2, 3).view(4, 2)
    with pytest.raises(RuntimeError, match="Use .reshape"):
        tt.ones(2, 3).t().view(6)
    with pytest.raises(IndexError, match="^index 5 is out of bounds for dimension 0 with size 2$"):  # PyTorch's words
        tt.ones(2, 3)[5]
    with pytest.raises(RuntimeError, match="expanded size"):
        tt.ones(2, 3).expand(2, 4)
    with pytest.raises(RuntimeError, match="same dtype"):
        tt.ones(2, 2).mm(tt.ones(2, 2, dtype=tt.float64))
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda, ipu, .* device type at start of device string: tpu"):
        tt.ones(2, device="tpu")
    with pytest.raises(TypeError, match="mul: unsupported operand"):
        tt.ones(2) * "a"
    with pytest.raises(IndexError, match="out of bounds"):
        import tinytape.nn.functional as F
        F.cross_entropy(tt.ones(2, 3), tt.tensor([0, 3]))


def test_module_level_forms_match_the_methods():
    x = tt.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    pairs = [
        (tt.exp(x), x.exp()), (tt.log(x.abs()), x.abs().log()), (tt.sqrt(x.abs()), x.abs().sqrt()),
        (tt.abs(x), x.abs()), (tt.sin(x), x.sin()), (tt.cos(x), x.cos()), (tt.tanh(x), x.tanh()),
        (tt.sigmoid(x), x.sigmoid()), (tt.relu(x), x.relu()), (tt.neg(x), -x), (tt.sign(x), x.sign()),
        (tt.add(x, 1), x + 1), (tt.sub(x, x, alpha=2), -x), (tt.mul(x, x), x * x), (tt.div(x, 2), x / 2),
        (tt.pow(x, 2), x ** 2), (tt.clamp(x, min=0), x.clamp(min=0)), (tt.maximum(x, -x), x.abs()),
        (tt.minimum(x, -x), -x.abs()), (tt.sum(x, 1), x.sum(1)), (tt.mean(x), x.mean()),
        (tt.norm(x), x.norm()), (tt.max(x), x.max()), (tt.min(x), x.min()), (tt.argmax(x, 1), x.argmax(1)),
        (tt.matmul(x, x.t()), x @ x.T), (tt.mm(x, x.t()), x.mm(x.t())), (tt.t(x), x.t()),
        (tt.transpose(x, 0, 1), x.T), (tt.reshape(x, (3, 2)), x.reshape(3, 2)), (tt.flatten(x), x.flatten()),
        (tt.unsqueeze(x, 0), x[None]), (tt.squeeze(x[None]), x), (tt.permute(x, (1, 0)), x.T),
        (tt.clone(x), x), (tt.where(x > 0, x, 0.0), x.relu()), (tt.softmax(x, 1), tt.nn.functional.softmax(x, 1)),
        (tt.eq(x, x), x == x), (tt.gt(x, 0), x > 0), (tt.cat([x, x]), tt.stack([x, x]).reshape(4, 3)),
    ]
    for got, want in pairs:
        assert got.shape == want.shape and tt.equal(got, want), (got, want)
    assert tt.is_tensor(x) and tt.numel(x) == 6
