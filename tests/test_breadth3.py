"""Against PyTorch's recorded answers: bit shifts, ``as_strided`` as a view, the in-place view
ops and ``fold``/``unfold`` (values, dtypes, grad_fn names, errors), with their gradients
checked by finite differences on the CPU and on the CUDA path (numba's simulator without a
GPU).  ``test_breadth3_layers`` uses its comparison helpers."""
import numpy as np
import pytest

import tinytape as tt
from helpers import check_grad
from pytorch_answers import Recorded, pytorch

DEVICES = ["cpu", "cuda"]


def _grad_fn(t):
    g = t.grad_fn
    # (name() gives CopySlices and CopyBackwards with their C++ namespace, as PyTorch's)
    return None if g is None else (g.name() if hasattr(g, "name") else type(g).__name__).replace("torch::autograd::", "")


def assert_same(ours, theirs, path="result", rtol=0.0, atol=0.0):
    """Tensors by values (exactly, or to the tolerance given), dtype, shape, grad_fn name and
    requires_grad; containers item by item; the rest by ==."""
    if isinstance(theirs, Recorded):
        assert isinstance(ours, tt.Tensor), f"{path}: {type(ours).__name__} where PyTorch gives a tensor"
        assert str(ours.dtype).split(".")[1] == theirs.dtype, f"{path}: dtype {ours.dtype} != {theirs.dtype}"
        assert tuple(ours.shape) == theirs.shape, f"{path}: shape {tuple(ours.shape)} != {theirs.shape}"
        assert _grad_fn(ours) == theirs.grad_fn.replace("torch::autograd::", "") if theirs.grad_fn else \
            _grad_fn(ours) is None, f"{path}: grad_fn {_grad_fn(ours)} != {theirs.grad_fn}"
        assert ours.requires_grad == theirs.requires_grad, f"{path}: requires_grad"
        mine = ours.detach().cpu().numpy()
        if rtol or atol:
            np.testing.assert_allclose(mine, theirs.numpy(), rtol=rtol, atol=atol, err_msg=path)
        else:
            np.testing.assert_array_equal(mine, theirs.numpy(), err_msg=path)
    elif isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs), f"{path}: {ours!r} != {theirs!r}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{path}[{i}]", rtol, atol)
    else:
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"


def check(fn, *inputs, device="cpu", rtol=0.0, atol=0.0):
    """``fn(tinytape, *inputs)`` (its tensors made on ``device``) agrees with PyTorch's answer;
    an error must be PyTorch's type and message."""
    try:
        expected = pytorch(lambda torch, *a: fn(torch, "cpu", *a), *inputs)
    except Exception as error:  # noqa: BLE001 - PyTorch's error is the answer
        with pytest.raises(type(error)) as raised:
            fn(tt, device, *inputs)
        assert str(error) in str(raised.value)
        return
    assert_same(fn(tt, device, *inputs), expected, rtol=rtol, atol=atol)


# ---------------------------------------------------------------- 1. bit shifts

INTEGER_DTYPES = ["int8", "uint8", "int16", "int32", "int64"]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
def test_shifts_past_the_width_and_by_negative_amounts(dtype, device):
    values = np.array([1, -3, 5, 100, -128, 7, 0, -1, 127, 3], np.int64)
    amounts = np.array([0, 1, 7, 8, 65, -1, 3, 15, 31, 63], np.int64)

    def run(torch, dev, a, b):
        dt = getattr(torch, dtype)
        x = torch.tensor(a).to(dt).to(dev)
        s = torch.tensor(b).to(dt).to(dev)
        return [x << s, x >> s, torch.bitwise_left_shift(x, s), torch.bitwise_right_shift(x, s),
                x.bitwise_left_shift(s), x.bitwise_right_shift(s)]
    check(run, values, amounts, device=device)


@pytest.mark.parametrize("device", DEVICES)
def test_shifts_with_numbers_on_either_side_and_promotion(device):
    def run(torch, dev):
        x = torch.tensor([1, 2, 3], dtype=torch.int8, device=dev)
        return [x << 3, 1 << x, 300 >> x, x >> -1, x << 300, x << 257, torch.bitwise_left_shift(3, x.long()),
                x << torch.tensor([1], device=dev), torch.tensor([True], device=dev) << 1,
                torch.tensor([2 ** 62], device=dev) << 1, torch.tensor([-2 ** 63], device=dev) >> 63,
                torch.tensor([5], dtype=torch.uint8, device=dev) >> torch.tensor([200], dtype=torch.uint8)
                .to(dev)]
    check(run, device=device)


def test_shifts_in_place_keep_the_dtype_and_move_the_version():
    def run(torch, dev):
        x = torch.tensor([4, 8, -16], dtype=torch.int16)
        view = x[1:]
        out = [x._version]
        x <<= 1
        out += [x.clone(), view.clone(), x._version]
        x >>= torch.tensor([1, 2, 3])
        out += [x.clone(), x.bitwise_left_shift_(2), x.bitwise_right_shift_(torch.tensor(1)), x._version]
        return out
    check(run)


@pytest.mark.parametrize("expr", ["float_left", "float_right", "float_number", "number_float", "bool_bool",
                                  "function_float", "inplace_float"])
def test_shifts_refuse_floating_and_bool_operands(expr):
    def run(torch, dev):
        f, b = torch.tensor([1.5]), torch.tensor([True])
        return {"float_left": lambda: f << 1, "float_right": lambda: f >> 1,
                "float_number": lambda: torch.tensor([1]) << 1.5, "number_float": lambda: 2 << torch.tensor([1.0]),
                "bool_bool": lambda: b << b, "function_float": lambda: torch.bitwise_right_shift(f, f),
                "inplace_float": lambda: f.__ilshift__(1)}[expr]()
    check(run)


# ---------------------------------------------------------------- 2. as_strided

STRIDED = {
    "window": lambda t: t.as_strided((3, 2), (3, 1), 1),
    "overlap": lambda t: t.as_strided((2, 3), (2, 1), 1),
    "broadcast": lambda t: t[2:].as_strided((2, 2), (0, 3)),
    "of_transpose": lambda t: t.reshape(3, 4).t().as_strided((3,), (4,)),
    "of_row": lambda t: t.reshape(3, 4)[1].as_strided((2, 2), (1, 1)),
    "function": lambda t: tt_or_torch(t).as_strided(t, (4,), (2,), 3),
}


def tt_or_torch(t):
    return tt if isinstance(t, tt.Tensor) else __import__("torch")


@pytest.mark.parametrize("name", STRIDED)
def test_as_strided_values_gradients_and_names(name):
    def run(torch, dev, data):
        a = torch.tensor(data, requires_grad=True)
        v = STRIDED[name](a * 1)
        (v * torch.arange(1.0, v.numel() + 1).reshape(v.shape)).sum().backward()
        return [v, a.grad, v.storage_offset()]
    check(run, np.arange(12.0))


@pytest.mark.parametrize("device", DEVICES)
def test_as_strided_is_a_view_both_ways(device):
    def run(torch, dev):
        x = torch.arange(12.0, device=dev)
        v = x.as_strided((3, 2), (3, 1), 1)
        out = [v.clone(), v.is_contiguous(), list(v.stride()), v.storage_offset()]
        v[0, 0] = 100.0
        out += [x.clone(), x._version, v._version]
        x[5] = -1.0
        out.append(v.clone())
        base = torch.arange(6.0, device=dev)
        same = base.as_strided_((2, 2), (2, 1), 1)
        out += [same is base, base.clone(), base._version]
        return out
    check(run, device=device)


def test_as_strided_write_through_is_recorded_on_the_base():
    def run(torch, dev):
        a = torch.arange(12.0, requires_grad=True)
        b = a * 1
        w = b.as_strided((2,), (3,), 2)
        w.mul_(10)
        b.sum().backward()
        return [b, a.grad, w]
    check(run)


def test_as_strided_of_an_expanded_input_divides_by_its_overlap():
    def run(torch, dev):
        a = torch.tensor([1.0, 2.0], requires_grad=True)
        z = a.expand(3, 2).as_strided((2,), (1,))
        z.sum().backward()
        return [z, a.grad]
    check(run)


@pytest.mark.parametrize("args", [((4,), (1,), 10), ((2,), (-1,)), ((2, 2), (1,))], ids=["bounds", "negative",
                                                                                         "lengths"])
def test_as_strided_errors(args):
    check(lambda torch, dev: torch.arange(12.0).as_strided(*args))


@pytest.mark.parametrize("device", DEVICES)
def test_as_strided_gradcheck(device):
    def fn(x):
        v = (x.to(device) * 1).as_strided((3, 3), (2, 1), 1)
        return v * v
    check_grad(fn, np.random.default_rng(0).normal(size=(4, 3)), second_order=True)


# ---------------------------------------------------------------- 3. in-place view ops

INPLACE_VIEWS = {
    "t_": ((2, 3), lambda x: x.t_()),
    "transpose_": ((2, 3), lambda x: x.transpose_(0, 1)),
    "squeeze_": ((1, 3), lambda x: x.squeeze_()),
    "squeeze_dim": ((1, 3), lambda x: x.squeeze_(0)),
    "squeeze_dims": ((1, 3, 1), lambda x: x.squeeze_((0, 2))),
    "unsqueeze_": ((2, 3), lambda x: x.unsqueeze_(1)),
    "swapdims_": ((2, 3), lambda x: x.swapdims_(0, 1)),
    "swapaxes_": ((2, 3), lambda x: x.swapaxes_(1, 0)),
    "as_strided_": ((2, 3), lambda x: x.as_strided_((2, 2), (1, 2), 1)),
}


@pytest.mark.parametrize("name", INPLACE_VIEWS)
def test_inplace_view_ops_names_versions_and_gradients(name):
    shape, op = INPLACE_VIEWS[name]

    def run(torch, dev):
        a = torch.arange(1.0, 1.0 + np.prod(shape), requires_grad=True)
        x = a.reshape(shape) * 2
        y = op(x)
        out = [y is x, y, x._version]
        (y * torch.arange(1.0, y.numel() + 1).reshape(y.shape)).sum().backward()
        return out + [a.grad]
    check(run)


@pytest.mark.parametrize("name", ["t_", "unsqueeze_", "squeeze_dim"])
def test_inplace_view_ops_on_leaves_and_views(name):
    _, op = INPLACE_VIEWS[name]

    def run(torch, dev):
        a = torch.ones(1, 3, requires_grad=True)
        view = (a * 1)[0:1]
        op(view)
        view.mul_(torch.tensor(2.0))
        view.sum().backward()
        out = [view, a.grad]
        try:
            op(a)
        except RuntimeError as error:
            out.append(type(error).__name__)
        with torch.no_grad():
            b = torch.zeros(1, 3)
            alias = b.view(3)
            op(b)
            b.add_(1)
            out += [b.clone(), alias.clone(), b._version]
        return out
    check(run)


def test_inplace_view_op_errors():
    check(lambda torch, dev: torch.zeros(2, 2, 2).t_())
    check(lambda torch, dev: torch.zeros(2, 2).transpose_(0, 2))


# ---------------------------------------------------------------- 4. fold / unfold

FOLDING = {
    "plain": dict(kernel_size=2),
    "all": dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
    "strided": dict(kernel_size=3, stride=2, padding=(0, 1)),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", FOLDING)
def test_unfold_and_fold_values_gradients_and_names(name, device):
    kwargs = FOLDING[name]
    data = np.random.default_rng(1).normal(size=(2, 3, 5, 6)).astype(np.float32)

    def run(torch, dev, x):
        F = torch.nn.functional
        a = torch.tensor(x, requires_grad=True)
        u = F.unfold(a.to(dev), **kwargs)
        f = F.fold(u * 2, (5, 6), **kwargs)
        (f * torch.arange(f.numel(), dtype=f.dtype).reshape(f.shape).to(dev)).sum().backward()
        single = F.unfold(a[0].detach().to(dev), **kwargs)
        return [u, f, a.grad, single, F.fold(single, (5, 6), **kwargs)]
    check(run, data, device=device, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("device", DEVICES)
def test_unfold_fold_gradcheck(device):
    F = tt.nn.functional
    kwargs = FOLDING["all"]
    check_grad(lambda x: F.unfold(x.to(device), **kwargs) ** 2, np.random.default_rng(2).normal(size=(1, 2, 4, 5)),
               second_order=device == "cpu")
    check_grad(lambda c: F.fold(c.to(device), (4, 5), **kwargs) ** 2,
               np.random.default_rng(3).normal(size=(1, 12, 9)), second_order=device == "cpu")


def test_fold_unfold_modules():
    def run(torch, dev):
        unfold, fold = torch.nn.Unfold(2, padding=1), torch.nn.Fold((4, 5), 2, stride=2)
        x = torch.arange(40.0).reshape(1, 2, 4, 5)
        return [repr(unfold), repr(fold), unfold(x), fold(torch.nn.Unfold(2, stride=2)(x))]
    check(run)


@pytest.mark.parametrize("expr", ["2d", "5d", "too_big", "stride", "padding", "dilation", "long", "fold_rows",
                                  "fold_blocks", "fold_4d"])
def test_fold_unfold_errors(expr):
    def run(torch, dev):
        F = torch.nn.functional
        return {"2d": lambda: F.unfold(torch.zeros(4, 4), 2), "5d": lambda: F.unfold(torch.zeros(1, 1, 1, 4, 4), 2),
                "too_big": lambda: F.unfold(torch.zeros(1, 1, 4, 4), 5),
                "stride": lambda: F.unfold(torch.zeros(1, 1, 4, 4), 2, stride=0),
                "padding": lambda: F.unfold(torch.zeros(1, 1, 4, 4), 2, padding=-1),
                "dilation": lambda: F.unfold(torch.zeros(1, 1, 4, 4), 2, dilation=0),
                "long": lambda: F.unfold(torch.zeros(1, 1, 4, 4, dtype=torch.long), 2),
                "fold_rows": lambda: F.fold(torch.zeros(1, 5, 9), (4, 4), 2),
                "fold_blocks": lambda: F.fold(torch.zeros(1, 8, 8), (4, 4), 2),
                "fold_4d": lambda: F.fold(torch.zeros(1, 2, 3, 4), (4, 4), 2)}[expr]()
    check(run)
