"""In-place ops into a view whose elements share memory locations without a zero stride
(``x.as_strided((3, 3), (1, 1))``), against PyTorch's answers: elementwise ops run element by
element in TensorIterator's order, each reading what the ones before it wrote; index ops
write only what they select; a zero stride still refuses; a compiled step runs it eagerly."""
import warnings

import numpy as np
import pytest

import tinytape
from helpers import check_against_pytorch, outcome_of


def _overlapping(x, shape=(3, 3), strides=(1, 1)):
    return x.as_strided(shape, strides)


_ELEMENTWISE = {
    "add_": lambda v, t: v.add_(1), "add_tensor": lambda v, t: v.add_(t), "add_alpha": lambda v, t: v.add_(t, alpha=2),
    "sub_": lambda v, t: v.sub_(t), "mul_": lambda v, t: v.mul_(2), "div_": lambda v, t: v.div_(2),
    "div_floor": lambda v, t: v.div_(t + 1, rounding_mode="floor"), "pow_": lambda v, t: v.pow_(2),
    "neg_": lambda v, t: v.neg_(), "exp_": lambda v, t: v.div_(4).exp_(), "sin_": lambda v, t: v.sin_(),
    "sqrt_": lambda v, t: v.sqrt_(), "sigmoid_": lambda v, t: v.sigmoid_(), "clamp_": lambda v, t: v.clamp_(0, 3),
    "clamp_min_": lambda v, t: v.clamp_min_(2), "lerp_": lambda v, t: v.lerp_(t, t / 10),
    "addcmul_": lambda v, t: v.addcmul_(t, t, value=0.5), "copy_": lambda v, t: v.copy_(t),
    "copy_transposed": lambda v, t: v.copy_(t.t()), "masked_fill_": lambda v, t: v.masked_fill_(t > 3, -1.0),
    "mul_self": lambda v, t: v.mul_(v), "add_self_t": lambda v, t: v.add_(v.t()),
    "transposed_view": lambda v, t: v.t().add_(t), "fill_": lambda v, t: v.fill_(5), "zero_": lambda v, t: v.zero_(),
    "setitem_all": lambda v, t: v.__setitem__(Ellipsis, t * 10), "setitem_row": lambda v, t: v.__setitem__(0, 7.0),
    "index_fill_": lambda v, t: v.index_fill_(0, tinytape_or_torch_index(t, [0]), 1.0),
    "scatter_": lambda v, t: v.scatter_(0, tinytape_or_torch_index(t, [[0, 1, 2]]), 1.0),
    "normal_": lambda v, t: v.normal_(), "uniform_": lambda v, t: v.uniform_(),
}


def tinytape_or_torch_index(like, values):
    return (tinytape if type(like).__module__.startswith("tinytape") else __import__("torch")).tensor(values)


@pytest.mark.parametrize("name", sorted(_ELEMENTWISE))
def test_an_in_place_op_into_overlapping_elements(name):
    def run(torch):
        torch.manual_seed(0)
        x = torch.arange(9.0)
        t = torch.arange(9.0).view(3, 3)
        version = x._version
        _ELEMENTWISE[name](_overlapping(x), t)
        return x, x._version > version
    check_against_pytorch(run)


@pytest.mark.parametrize("shape, strides", [((3, 20), (1, 1)), ((20, 3), (1, 1)), ((2, 2, 2), (1, 1, 1)),
                                            ((3, 3), (1, 2)), ((3, 3), (2, 1)), ((4, 3), (2, 3))])
def test_the_order_follows_the_strides(shape, strides):
    def run(torch):
        out = []
        for dtype in (torch.float32, torch.float64, torch.int64):
            x = torch.zeros(64, dtype=dtype)
            _overlapping(x, shape, strides).add_(1)
            y = torch.zeros(64, dtype=dtype)
            _overlapping(y, shape, strides).copy_(torch.arange(np.prod(shape)).view(shape))
            out += [x, y]
        return out
    check_against_pytorch(run)


def test_a_zero_stride_still_refuses_and_no_overlap_writes_at_once():
    def run(torch):
        x = torch.arange(9.0)
        refused = outcome_of(lambda: x.as_strided((3, 3), (0, 1)).add_(1))
        x.as_strided((2, 2), (3, 1)).add_(1)
        return refused, x
    check_against_pytorch(run)


def test_a_recorded_write_into_overlapping_elements_refuses():
    # (PyTorch records it, with a gradient that follows its own write order; here it refuses rather
    # than return another gradient)
    a = tinytape.arange(1.0, 10.0, requires_grad=True)
    view = _overlapping(a.clone())
    with pytest.raises(RuntimeError, match=r"add_: .*overlap in memory \(shape \[3, 3\], strides \[1, 1\]\)"):
        view.add_(1)
    with tinytape.no_grad():
        view.add_(1)  # (unrecorded: computed element by element)
    assert view._base.tolist() == [2.0, 4.0, 6.0, 6.0, 6.0, 6.0, 7.0, 8.0, 9.0]


def test_a_compiled_step_with_such_a_write_runs_eagerly_with_eagers_values():
    def step(x):
        y = x.clone()
        _overlapping(y).mul_(2)
        return y + 1
    compiled = tinytape.compile(step)
    x = tinytape.arange(9.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = [compiled(x) for _ in range(3)]
    assert any("host_compute" in str(w.message) and "eagerly" in str(w.message) for w in caught)
    for result in results:
        assert np.array_equal(result.numpy(), step(x).numpy())


_OUT = {
    "add_out_self": lambda torch, x: torch.add(_overlapping(x), 1, out=_overlapping(x)),
    "add_out_other": lambda torch, x: torch.add(torch.arange(9.0).view(3, 3), 1, out=_overlapping(x)),
    "mul_out_transposed": lambda torch, x: torch.mul(_overlapping(x).t(), 2, out=_overlapping(x)),
    "exp_out": lambda torch, x: torch.exp(_overlapping(x) / 4, out=_overlapping(x)),
    "where_out": lambda torch, x: torch.where(_overlapping(x) > 2, _overlapping(x), -_overlapping(x),
                                              out=_overlapping(x)),
    "abs_out": lambda torch, x: torch.abs(-_overlapping(x), out=_overlapping(x)),
    "sum_out": lambda torch, x: torch.sum(torch.ones(3, 3), 0, out=x.as_strided((3,), (1,))),
    "refused_cast": lambda torch, x: torch.add(_overlapping(x), 1, out=_overlapping(torch.zeros(9, dtype=torch.int64))),
}


@pytest.mark.parametrize("name", sorted(_OUT))
def test_an_out_argument_whose_elements_overlap(name):
    def run(torch):
        x = torch.arange(9.0)
        return outcome_of(lambda: _OUT[name](torch, x)) if name == "refused_cast" else (_OUT[name](torch, x), x)[1]
    check_against_pytorch(run)
