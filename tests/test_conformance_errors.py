"""Bad calls and edge cases raise (or compute) as PyTorch does: hooks that change a
gradient, out-of-range indices, overflowing creation, empty reductions, read-only
memory, loss weights of the wrong length, anomaly detection naming the op."""
import warnings

import numpy as np
import pytest

import tinytape as tt
import tinytape.nn.functional as F
from pytorch_answers import pytorch
from tinytape import autograd

DEVICES = ["cpu", "cuda"]


def _hooked_leaf_backward(change, device):
    w = tt.randn(5, requires_grad=True, device=device)
    w.register_hook(change)
    w.sum().backward()


def _hooked_index_backward(change, device):
    w = tt.randn(5, requires_grad=True, device=device)
    y = w[tt.tensor([0, 1, 2, 2])]
    y.register_hook(change)
    y.sum().backward()


def _hooked_mask_backward(change, device):
    w = tt.randn(5, requires_grad=True, device=device)
    y = w[w > -100]
    y.register_hook(change)
    y.sum().backward()


def _hooked_setitem_backward(change, device):
    w = tt.randn(5, requires_grad=True, device=device)
    x = w * 1
    x[tt.tensor([1, 3])] = tt.ones(2, device=device)
    x.register_hook(change)
    x.sum().backward()


HOOK_CHANGES = {
    "smaller": (lambda g: g[:2], "has changed the size of value"),
    "reshaped": (lambda g: g.reshape(1, -1), "has changed the size of value"),
    "dtype": (lambda g: g.double(), "has changed the type of value"),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("path", [_hooked_leaf_backward, _hooked_index_backward, _hooked_mask_backward,
                                  _hooked_setitem_backward])
@pytest.mark.parametrize("change", sorted(HOOK_CHANGES))
def test_hook_changing_the_gradient_raises(path, change, device):
    fn, message = HOOK_CHANGES[change]
    with pytest.raises(RuntimeError, match=f"hook '<lambda>' {message}"):
        path(fn, device)


def test_hook_errors_as_pytorch():
    for change in sorted(HOOK_CHANGES):
        fn, message = HOOK_CHANGES[change]

        def hooked(torch):
            w = torch.randn(5, requires_grad=True)
            y = w[torch.tensor([0, 1, 2, 2])]
            y.register_hook(fn)
            y.sum().backward()
        with pytest.raises(RuntimeError, match=message):
            pytorch(hooked)


def _setitem(x, index, value):
    x[index] = value


INDEX_ERRORS = {
    "tensor index": lambda m, d: m.ones(3, device=d)[m.tensor([5], device=d)],
    "negative": lambda m, d: m.ones(3, device=d)[m.tensor([-4], device=d)],
    "list": lambda m, d: m.ones(3, device=d)[[0, 3]],
    "mask length": lambda m, d: m.ones(3, device=d)[m.tensor([True, False], device=d)],
    "second dim": lambda m, d: m.ones(2, 3, device=d)[:, m.tensor([3], device=d)],
    "setitem": lambda m, d: _setitem(m.ones(3, device=d), m.tensor([4], device=d), 1.0),
    "index_select": lambda m, d: m.ones(3, device=d).index_select(0, m.tensor([3], device=d)),
}
RUNTIME_INDEX_ERRORS = {
    "gather": lambda m, d: m.ones(2, device=d).gather(0, m.tensor([3], device=d)),
    "scatter_add": lambda m, d: m.zeros(3, device=d).scatter_add(0, m.tensor([3], device=d), m.ones(1, device=d)),
    "gather negative": lambda m, d: m.ones(2, device=d).gather(0, m.tensor([-1], device=d)),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", sorted(INDEX_ERRORS))
def test_out_of_range_indices_raise_index_error(case, device):
    with pytest.raises(IndexError):
        INDEX_ERRORS[case](tt, device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", sorted(RUNTIME_INDEX_ERRORS))
def test_out_of_range_gather_scatter_raise(case, device):
    with pytest.raises(RuntimeError, match="out of bounds"):
        RUNTIME_INDEX_ERRORS[case](tt, device)


@pytest.mark.parametrize("case", sorted(INDEX_ERRORS) + sorted(RUNTIME_INDEX_ERRORS))
def test_index_errors_are_pytorchs(case):
    fn = INDEX_ERRORS.get(case) or RUNTIME_INDEX_ERRORS[case]
    with pytest.raises(Exception) as want:
        pytorch(lambda torch: fn(torch, "cpu"))
    with pytest.raises(Exception) as got:
        fn(tt, "cpu")
    assert got.type is want.type or issubclass(got.type, want.type)


CREATION = {
    "2**63": lambda m: m.tensor(2 ** 63),
    "-2**63-1": lambda m: m.tensor([-2 ** 63 - 1]),
    "1e30 as int64": lambda m: m.tensor([1e30], dtype=m.int64),
    "nan as int64": lambda m: m.tensor([float("nan")], dtype=m.int64),
    "inf as int64": lambda m: m.tensor([[1.0, float("inf")]], dtype=m.int64),
}


@pytest.mark.parametrize("case", sorted(CREATION))
def test_creation_overflow_raises(case):
    with pytest.raises((ValueError, RuntimeError)) as got:
        CREATION[case](tt)
    with pytest.raises(Exception) as want:
        pytorch(lambda torch: CREATION[case](torch))
    assert got.type is want.type


@pytest.mark.parametrize("data, dtype", [([2 ** 63 - 1], None), ([-2 ** 63], None), ([3.7], "int64"), ([], None),
                                         ([1e40], "float32"), ([-1e6], "float16")])
def test_creation_in_range_as_pytorch(data, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a float overflowing to inf is silent, as in PyTorch
        got = tt.tensor(data, dtype=getattr(tt, dtype) if dtype else None)
        want = pytorch(lambda torch: torch.tensor(data, dtype=getattr(torch, dtype) if dtype else None))
    assert got.tolist() == want.tolist() and got.dtype.name == want.dtype


EMPTY = {
    "mean": lambda m, d: m.tensor([], device=d).mean(),
    "mean dim": lambda m, d: m.zeros(0, 3, device=d).mean(0),
    "softmax": lambda m, d: m.softmax(m.tensor([], device=d), 0),
    "log_softmax": lambda m, d: m.log_softmax(m.zeros(2, 0, device=d), 1),
    "sum": lambda m, d: m.tensor([], device=d).sum(),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", sorted(EMPTY))
def test_reductions_of_empty_tensors(case, device):
    got, want = EMPTY[case](tt, device), pytorch(lambda torch: EMPTY[case](torch, "cpu"))
    assert list(got.shape) == list(want.shape)
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_of_empty_raises(op, device):
    with pytest.raises(IndexError, match=f"{op}\\(\\): Expected reduction dim"):
        getattr(tt.tensor([], device=device), op)()
    with pytest.raises(IndexError, match="non-zero size"):
        getattr(tt.zeros(0, 2, device=device), op)(0)


@pytest.mark.parametrize("op", ["add_", "mul_", "zero_", "fill_", "setitem", "copy_"])
def test_inplace_on_read_only_numpy_memory_is_one_line(op):
    arr = np.ones(3)
    arr.flags.writeable = False
    t = tt.from_numpy(arr)
    calls = {"add_": lambda: t.add_(1), "mul_": lambda: t.mul_(2.0), "zero_": t.zero_,
             "fill_": lambda: t.fill_(3), "setitem": lambda: _setitem(t, 0, 5.0), "copy_": lambda: t.copy_(tt.zeros(3))}
    with pytest.raises(RuntimeError, match="read-only") as err:
        calls[op]()
    assert "\n" not in str(err.value) and str(err.value).startswith(op)
    assert arr.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("shape, classes, weight", [((4, 3), 3, 2), ((4, 3), 3, 4), ((2, 3, 5), 3, 1)])
def test_class_weight_of_wrong_length(loss, shape, classes, weight):
    x = tt.randn(*shape)
    target = tt.zeros((shape[0],) + shape[2:], dtype=tt.int64)
    with pytest.raises(RuntimeError, match=f"for all {classes} classes .* shape: \\[{weight}\\]"):
        getattr(F, loss)(x, target, weight=tt.ones(weight))


class _NanBackward(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        return g * float("nan")


ANOMALIES = {
    "custom": (lambda x: _NanBackward.apply(x).sum(), "_NanBackwardBackward"),
    "sqrt of negative": (lambda x: (x - 5).sqrt().sum(), "SqrtBackward0"),
    "pow of negative": (lambda x: (x - 5).pow(0.5).sum(), "PowBackward0"),
}


@pytest.mark.parametrize("case", sorted(ANOMALIES))
@pytest.mark.parametrize("switch", ["context", "set"])
def test_detect_anomaly_names_the_op_and_its_forward(case, switch):
    fn, name = ANOMALIES[case]
    x = tt.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mode = autograd.detect_anomaly() if switch == "context" else autograd.set_detect_anomaly(True)
        with mode:
            assert autograd.is_anomaly_enabled()
            out = fn(x)  # the forward line the warning points at
            with pytest.raises(RuntimeError, match=f"^Function '{name}' returned nan values in its 0th output.$"):
                out.backward()
    assert not autograd.is_anomaly_enabled()
    traces = [str(w.message) for w in caught if "Traceback of forward call" in str(w.message)]
    assert traces and f"Error detected in {name}" in traces[0] and "out = fn(x)" in traces[0]


def test_without_anomaly_detection_nan_flows():
    x = tt.tensor([1.0, 2.0], requires_grad=True)
    _NanBackward.apply(x).sum().backward()
    assert np.isnan(x.grad.numpy()).all()
