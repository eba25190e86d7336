"""Differences from PyTorch found by running tutorial-style programs under both (the nn
tutorial, d2l, makemore, CS231n, STAT 453): Python ints out of an integer tensor's range,
the warning of ``tensor(a_tensor)``, whole modules through save/load, the optimizers'
argument errors, the classes' printed names.  Each test runs one program under tinytape and
compares it with PyTorch's recorded answer for the same program."""
import io
import pickle
import warnings

import numpy as np
import pytest

import tinytape
from pytorch_answers import Recorded, pytorch


def _grad_fn(t):
    return type(t.grad_fn).__name__ if t.grad_fn is not None else None


def assert_same(ours, theirs, path="result"):
    """tinytape's answer equals PyTorch's recorded one: tensors by values (bit for bit), dtype,
    shape, grad_fn name and requires_grad; containers item by item; the rest by ==."""
    if isinstance(theirs, Recorded):
        assert isinstance(ours, tinytape.Tensor), f"{path}: {type(ours).__name__} where PyTorch gives a tensor"
        assert str(ours.dtype).split(".")[1] == theirs.dtype, f"{path}: dtype {ours.dtype} != {theirs.dtype}"
        assert tuple(ours.shape) == theirs.shape, f"{path}: shape {tuple(ours.shape)} != {theirs.shape}"
        assert _grad_fn(ours) == theirs.grad_fn, f"{path}: grad_fn {_grad_fn(ours)} != {theirs.grad_fn}"
        assert ours.requires_grad == theirs.requires_grad, f"{path}: requires_grad"
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.numpy(), err_msg=path)
    elif isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs), f"{path}: {ours!r} != {theirs!r}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(theirs, str):
        assert isinstance(ours, str) and ours.replace("tinytape", "torch") == theirs, f"{path}: {ours!r} != {theirs!r}"
    else:
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"


def check(fn):
    assert_same(fn(tinytape), pytorch(fn))


def _outcome(f):
    """f()'s value, or the type and message of what it raised."""
    try:
        return f()
    except Exception as e:  # noqa: BLE001 - the error is the answer
        return f"{type(e).__name__}: {e}"


# ---------------------------------------------------------------- integers out of range


def test_python_ints_wrap_into_an_integer_tensors_arithmetic_and_comparisons():
    def run(torch):
        u = torch.tensor([1, 44, 200], dtype=torch.uint8)
        i8 = torch.tensor([1, -3], dtype=torch.int8)
        out = [u * 300, u + 256, u - 257, u == 300, u < 300, u.add(300), u % 300, u // 300,
               i8 * 200, i8 + (-129), torch.tensor([3, 5], dtype=torch.int16) * 40000,
               torch.tensor([3], dtype=torch.int32) + 2 ** 32, torch.tensor([1]) + 2 ** 63]
        w = u.clone()
        w.add_(300)
        w.mul_(300)
        return out + [w]
    check(run)


@pytest.mark.parametrize("dtype, value", [("uint8", 300), ("int8", 200), ("int16", 40000), ("int32", 2 ** 33),
                                          ("uint8", -1), ("uint8", -255)])
def test_an_int_stored_into_an_integer_tensor_must_fit(dtype, value):
    def run(torch):
        dt = getattr(torch, dtype)
        return [_outcome(lambda: torch.zeros(2, dtype=dt).fill_(value)),
                _outcome(lambda: torch.zeros(2, dtype=dt).masked_fill(torch.tensor([True, False]), value)),
                _outcome(lambda: torch.full((2,), value, dtype=dt))]
    check(run)


# ---------------------------------------------------------------- tensor(a tensor)


def test_tensor_of_a_tensor_warns_as_pytorch_and_points_at_the_callers_line():
    def run(torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t = torch.tensor(torch.arange(3.0), dtype=torch.float64)
            u = torch.tensor([torch.tensor(1.0), torch.tensor(2.0)])  # a list of 0-d tensors: no warning
        return [t, u, [(w.category.__name__, str(w.message), w.filename == __file__) for w in caught]]
    check(run)


# ---------------------------------------------------------------- save and load


def test_a_whole_module_saves_and_loads_only_with_weights_only_false():
    def run(torch):
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
        net[1].running_mean.fill_(0.25)
        net[1].num_batches_tracked += 3
        buf = io.BytesIO()
        torch.save(net, buf)
        buf.seek(0)
        try:
            torch.load(buf)
            refused = None
        except pickle.UnpicklingError as e:
            refused = str(e).split(".")[0]
        buf.seek(0)
        back = torch.load(buf, weights_only=False)
        return [refused, repr(back), type(back[0].weight).__name__, back[0].weight, back[1].running_mean,
                back[1].num_batches_tracked]
    check(run)


def test_objects_beside_tensors_in_a_checkpoint_come_back_with_weights_only_false():
    def run(torch):
        buf = io.BytesIO()
        torch.save({"classes": {"cat", "dog"}, "w": torch.ones(2), "range": range(3)}, buf)
        buf.seek(0)
        back = torch.load(buf, weights_only=False)
        return [sorted(back["classes"]), back["w"], list(back["range"])]
    check(run)


# ---------------------------------------------------------------- optimizers' argument errors


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=-1)), ("SGD", dict(lr=0.1, momentum=-0.5)), ("SGD", dict(lr=0.1, weight_decay=-1)),
    ("SGD", dict(lr=0.1, nesterov=True)), ("Adam", dict(lr=-0.1)), ("Adam", dict(eps=-1.0)),
    ("Adam", dict(betas=(1.0, 0.9))), ("Adam", dict(betas=(0.9, -0.1))), ("AdamW", dict(weight_decay=-0.1)),
    ("RMSprop", dict(lr=-1)), ("RMSprop", dict(alpha=-0.5)), ("RMSprop", dict(momentum=-1)),
])
def test_optimizer_argument_errors_read_as_pytorchs(name, kwargs):
    def run(torch):
        return _outcome(lambda: getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(1))], **kwargs))
    check(run)


# ---------------------------------------------------------------- printed class names


def test_classes_print_under_the_package_name():
    def run(torch):
        x = torch.ones(2)
        return [str(type(x.shape)), str(type(x.dtype)), str(type(x.device)), str(torch.Size),
                str(type(torch.finfo(torch.float32))), str(type(torch.iinfo(torch.int32))),
                str(torch.dtype), str(torch.device)]
    check(run)
