"""Writes into tensors whose elements share memory, against PyTorch: on an ``expand``ed view
most in-place ops refuse ("more than one element of the written-to tensor refers to a single
memory location"), ``fill_``/``zero_`` and the indexing writes (``masked_fill_``,
``index_put_``, ``index_fill_``, advanced ``x[i] = v``, with PyTorch's deprecation warnings)
write element by element, and a view of the expanded tensor that repeats no memory (``x[0]``)
writes through to the base; ``out=`` an expanded tensor, ``as_strided`` with a zero stride,
``detach_`` on views, the in-place dunders, and ``index_put_``'s dtype rule."""
import warnings

import numpy as np
import pytest

import tinytape
from helpers import check_against_pytorch
from pytorch_answers import pytorch


def _run(torch, write):
    """(base after the write or the error, the warnings' messages) for ``write(base.expand(2, 3))``."""
    base = torch.arange(3.)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            write(base.expand(2, 3))
            outcome = base.tolist()
        except Exception as e:  # noqa: BLE001 - the error is the answer
            outcome = f"{type(e).__name__}: {e}".replace("tinytape", "torch")
    return [outcome, [str(w.message).split(" (Triggered internally")[0] for w in caught]]


def _writes(torch):
    t = torch.tensor
    mask = t([[True, False, True], [False, False, False]])
    return {
        "add_": lambda v: v.add_(1), "add_tensor": lambda v: v.add_(torch.ones(2, 3)), "sub_": lambda v: v.sub_(1),
        "mul_": lambda v: v.mul_(2), "div_": lambda v: v.div_(2), "pow_": lambda v: v.pow_(2),
        "neg_": lambda v: v.neg_(), "exp_": lambda v: v.exp_(), "clamp_": lambda v: v.clamp_(0, 1),
        "relu_": lambda v: v.relu_(), "sigmoid_": lambda v: v.sigmoid_(), "addcmul_": lambda v: v.addcmul_(
            torch.ones(3), torch.ones(3)), "lerp_": lambda v: v.lerp_(torch.ones(3), 0.5),
        "iadd": lambda v: v.__iadd__(1), "ifloordiv": lambda v: v.__ifloordiv__(1), "imod": lambda v: v.__imod__(2),
        "ipow": lambda v: v.__ipow__(2), "fill_": lambda v: v.fill_(5), "zero_": lambda v: v.zero_(),
        "fill_tensor": lambda v: v.fill_(t(2.)), "copy_": lambda v: v.copy_(torch.ones(2, 3)),
        "copy_broadcast": lambda v: v.copy_(torch.ones(3)), "uniform_": lambda v: v.uniform_(),
        "normal_": lambda v: v.normal_(), "masked_fill_": lambda v: v.masked_fill_(t([True, False, True]), 7.),
        "masked_fill_2d": lambda v: v.masked_fill_(t([[False, True, False], [True, False, False]]), 3.),
        "masked_fill_tensor": lambda v: v.masked_fill_(t([True, False, True]), t(7.)),
        "masked_fill_none": lambda v: v.masked_fill_(torch.zeros(2, 3, dtype=torch.bool), 7.),
        "masked_scatter_": lambda v: v.masked_scatter_(torch.ones(2, 3, dtype=torch.bool), torch.ones(6)),
        "index_put_": lambda v: v.index_put_((t([0]),), t(9.)),
        "index_put_rows": lambda v: v.index_put_((t([0, 1]),), t([[1., 2., 3.], [4., 5., 6.]])),
        "index_put_accumulate": lambda v: v.index_put_((t([0]),), t(9.), accumulate=True),
        "index_put_accumulate_both": lambda v: v.index_put_((t([0, 1]), t([2, 2])), t(1.), accumulate=True),
        "index_put_mask": lambda v: v.index_put_((mask,), t(9.)),
        "index_fill_": lambda v: v.index_fill_(1, t([0]), 9.), "index_fill_tensor": lambda v: v.index_fill_(
            1, t([0, 2]), t(4.)),
        "index_copy_": lambda v: v.index_copy_(1, t([0]), torch.ones(2, 1)),
        "index_add_": lambda v: v.index_add_(1, t([0]), torch.ones(2, 1)),
        "scatter_": lambda v: v.scatter_(1, t([[0], [1]]), 9.), "put_": lambda v: v.put_(t([0]), t([9.])),
        "tril_": lambda v: v.tril_(), "tril_1": lambda v: v.tril_(1), "triu_": lambda v: v.triu_(),
        "triu_m1": lambda v: v.triu_(-1), "map_": lambda v: v.map_(torch.ones(3), lambda a, b: a + b),
        "apply_": lambda v: v.apply_(lambda a: a + 1), "detach_": lambda v: v.detach_(),
        "out_add": lambda v: torch.add(torch.ones(2, 3), 1, out=v),
        "out_mm": lambda v: torch.mm(torch.ones(2, 2), torch.ones(2, 3), out=v),
        "out_row": lambda v: torch.add(torch.ones(3), 1, out=v[1]),
        "setitem_row": lambda v: v.__setitem__(0, 9.), "setitem_column": lambda v: v.__setitem__((slice(None), 0), 9.),
        "setitem_all": lambda v: v.__setitem__(slice(None), 9.), "setitem_ellipsis": lambda v: v.__setitem__(..., 1.),
        "setitem_row_tensor": lambda v: v.__setitem__(1, t([4., 5., 6.])),
        "setitem_none": lambda v: v.__setitem__((None, 0), 9.), "setitem_row_ellipsis": lambda v: v.__setitem__(
            (0, ...), 9.),
        "setitem_mask": lambda v: v.__setitem__(mask, 9.),
        "setitem_mask_columns": lambda v: v.__setitem__((slice(None), t([True, False, True])), 9.),
        "setitem_mask_values": lambda v: v.__setitem__(mask, t([5., 6.])),
        "setitem_index": lambda v: v.__setitem__(t([0]), 9.),
        "setitem_index_rows": lambda v: v.__setitem__(t([1]), t([4., 5., 6.])),
        "setitem_index_pairs": lambda v: v.__setitem__((t([0, 1]), t([2, 0])), t([7., 8.])),
        "setitem_list": lambda v: v.__setitem__([1, 0], t([[1., 2., 3.], [4., 5., 6.]])),
        "row_add_": lambda v: v[0].add_(1), "row_mul_unsqueezed": lambda v: v[0].unsqueeze(0).mul_(2),
        "column_add_": lambda v: v[:, 0].add_(1), "select_fill_": lambda v: v.select(0, 1).fill_(4.),
        "narrow_fill_": lambda v: v.narrow(1, 0, 2).fill_(4.), "transpose_add_": lambda v: v.t().add_(1),
        "row_setitem": lambda v: v[1].__setitem__(t([0, 2]), 5.), "row_copy_": lambda v: v[0].copy_(t([3., 2., 1.])),
        "row_relu_": lambda v: torch.nn.functional.relu(v[0] - 1, inplace=True),
        "relu_inplace": lambda v: torch.nn.functional.relu(v, inplace=True),
        "squeeze_": lambda v: v.squeeze_(), "unsqueeze_": lambda v: v.unsqueeze_(0),
    }


@pytest.mark.parametrize("name", sorted(_writes(tinytape)))
def test_writes_into_an_expanded_view(name):
    check_against_pytorch(lambda torch: _run(torch, _writes(torch)[name]))


def test_size_one_and_empty_expansions_repeat_nothing():
    def run(torch):
        out = []
        for make in (lambda: torch.zeros(()).expand(1, 1), lambda: torch.zeros(1).expand(1),
                     lambda: torch.zeros(2, 0).expand(3, 2, 0), lambda: torch.zeros(1, 3).expand(1, 3)):
            v = make()
            v.add_(1)
            v.mul_(3)
            out.append(v)
        return out
    check_against_pytorch(run)


def test_as_strided_views():
    def run(torch):
        out = []
        for size, stride, write in (((3, 2), (0, 1), lambda v: v.add_(1)), ((3, 2), (0, 1), lambda v: v.fill_(4)),
                                    ((3, 3), (1, 1), lambda v: v.fill_(1)),
                                    ((3, 3), (1, 1), lambda v: v.copy_(torch.full((3, 3), 2.))),
                                    ((2, 2), (2, 1), lambda v: v.mul_(2)), ((2, 2), (0, 2), lambda v: v[0].add_(1)),
                                    ((2, 2), (0, 2), lambda v: v.masked_fill_(torch.tensor([True, False]), 7.))):
            base = torch.arange(6.)
            out.append(_run_on(torch, base, lambda: write(base.as_strided(size, stride))))
        return out
    check_against_pytorch(run)


def _run_on(torch, base, write):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            write()
            outcome = base.tolist()
        except Exception as e:  # noqa: BLE001 - the error is the answer
            outcome = f"{type(e).__name__}: {e}"
    return [outcome, [str(w.message).split(" (Triggered internally")[0] for w in caught]]


def test_detach_in_place_refuses_views_only():
    def run(torch):
        x = torch.ones(3)
        out = []
        for make in (lambda: x.detach(), lambda: x[0:2], lambda: x.reshape(3, 1), lambda: x.view_as(x),
                     lambda: x.contiguous(), lambda: x[[0]], lambda: x.expand(2, 3), lambda: (x * 2)):
            out.append(_run_on(torch, x, lambda: make().detach_()))
        y = torch.ones(2, requires_grad=True) * 3
        y.detach_()
        return out + [y.requires_grad, y.grad_fn is None]
    check_against_pytorch(run)


def test_in_place_dunders_write_in_place():
    def run(torch):
        out = []
        for op in ("__ifloordiv__", "__imod__", "__ipow__", "__iadd__", "__isub__", "__imul__", "__itruediv__"):
            x = torch.tensor([7., -5., 2.5])
            alias, version = x.view(3), x._version
            result = getattr(x, op)(2)
            out += [result is x, alias, x._version - version]
        i = torch.tensor([7, -5, 3])
        i //= 2
        i %= 3
        return out + [i]
    check_against_pytorch(run)


def test_index_put_requires_matching_dtypes_unless_it_fills_a_mask():
    def run(torch):
        def s(x, k, v):
            x[k] = v
            return x
        f64, i64 = torch.float64, torch.int64
        cases = [lambda: s(torch.zeros(3), torch.tensor([True, False, True]), torch.tensor(2., dtype=f64)),
                 lambda: s(torch.zeros(3), torch.tensor([True, False, True]), torch.tensor([2., 3.], dtype=f64)),
                 lambda: s(torch.zeros(3), torch.tensor([0]), torch.tensor([2.], dtype=f64)),
                 lambda: s(torch.zeros(2, 3), (0, torch.tensor([0])), torch.tensor([2.], dtype=f64)),
                 lambda: s(torch.zeros(2, 3), (slice(None), [0]), torch.tensor(2, dtype=i64)),
                 lambda: s(torch.zeros(2, 3), 0, torch.tensor(2, dtype=i64)),
                 lambda: s(torch.zeros(2, 3, dtype=i64), torch.tensor([0]), 2.7),
                 lambda: torch.zeros(3).index_put_((torch.tensor([True, False, True]),), torch.tensor(1, dtype=i64)),
                 lambda: torch.zeros(3).index_put((torch.tensor([0]),), torch.tensor(1, dtype=i64)),
                 lambda: torch.zeros(3).index_put_((torch.tensor([0]),), torch.tensor(1., dtype=f64), accumulate=True),
                 lambda: torch.zeros(3, dtype=torch.int32).index_put_((torch.tensor([0]),), torch.tensor(9))]
        return [_value_or_error(case) for case in cases]
    check_against_pytorch(run)


def _value_or_error(case):
    try:
        result = case()
        return result.tolist() if hasattr(result, "tolist") else result
    except Exception as e:  # noqa: BLE001 - the error is the answer
        return f"{type(e).__name__}: {e}"


def _write_through_a_row(x):
    y = x.clone()
    row = y.expand(2, 3)[1]
    row.mul_(2)
    row.add_(x)
    return y * 1


def test_compiled_write_through_a_row_of_an_expanded_view_equals_eager():
    x = tinytape.tensor([1.5, -2.0, 0.25])
    eager = _write_through_a_row(x)
    compiled_fn = tinytape.compile(_write_through_a_row)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (a refusal runs it eagerly: equal either way)
        results = [compiled_fn(x) for _ in range(3)]
    for result in results:
        assert np.array_equal(result.numpy(), eager.numpy())
    theirs = pytorch(lambda torch: _write_through_a_row(torch.tensor([1.5, -2.0, 0.25])))
    assert np.array_equal(eager.numpy(), theirs.numpy())


@pytest.mark.gpu
def test_device_expanded_views_refuse_most_writes_and_their_rows_write_through():
    base = tinytape.arange(3., device="cuda")
    view = base.expand(2, 3)
    for write in (lambda: view.add_(1), lambda: view.mul_(2), lambda: view.exp_(),
                  lambda: view.copy_(tinytape.ones(2, 3, device="cuda"))):
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            write()
    view.fill_(2)
    view[0].add_(1)
    view[1][2] = 7.0
    cpu = tinytape.arange(3.)
    cpu_view = cpu.expand(2, 3)
    cpu_view.fill_(2)
    cpu_view[0].add_(1)
    cpu_view[1][2] = 7.0
    assert np.array_equal(base.cpu().numpy(), cpu.numpy())


def test_writes_into_an_expanded_view_of_a_tensor_autograd_records():
    # with autograd recording, even the writes PyTorch allows untracked refuse (as its CopySlices
    # would need one gradient per memory location); a row that repeats nothing records its write
    def run(torch):
        def case(write):
            w = torch.tensor([1., 2., 3.], requires_grad=True)
            a = w * 1
            write(a.expand(2, 3))
            (a * torch.tensor([1., 10., 100.])).sum().backward()
            return [a, w.grad]
        writes = (lambda v: v.masked_fill_(torch.tensor([True, False, True]), 7.),
                  lambda v: v.__setitem__(torch.tensor([0]), 5.), lambda v: v[0].mul_(2), lambda v: v.add_(1),
                  lambda v: v.fill_(2.), lambda v: v.index_fill_(1, torch.tensor([0]), 1.), lambda v: v.tril_())
        return [_value_or_error(lambda: case(write)) for write in writes]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check_against_pytorch(run)
