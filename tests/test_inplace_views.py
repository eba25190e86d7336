"""In-place ops, views that share storage, writes through views, version counters."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import check_grad
from strategies import arrays, nonempty_shapes

import tinytape as tt
from tinytape.autograd import gradcheck


def test_views_share_storage_and_version():
    x = tt.zeros(3, 4)
    for v in (x[1], x[:, 2], x.view(12), x.t(), x.transpose(0, 1), x.unsqueeze(0), x[None, ..., 1:3],
              x.reshape(2, 6), x.permute(1, 0), x[1][2]):
        before = x._version
        v.add_(1)
        assert x._version == before + 1
    assert x.sum().item() == 4 + 3 + 12 + 12 + 12 + 12 + 6 + 12 + 12 + 1
    assert x.expand(2, 3, 4)._version_counter is x._version_counter
    assert x.detach()._version_counter is x._version_counter and x.data._version_counter is not x._version_counter


INPLACE = {
    "add_": lambda t, o: t.add_(o),
    "add_alpha": lambda t, o: t.add_(o, alpha=-2),
    "sub_": lambda t, o: t.sub_(o),
    "mul_": lambda t, o: t.mul_(o),
    "div_": lambda t, o: t.div_(o.abs() + 1),
    "iadd": lambda t, o: t.__iadd__(o),
    "isub": lambda t, o: t.__isub__(o * 3),
    "imul": lambda t, o: t.__imul__(o),
    "itruediv": lambda t, o: t.__itruediv__(2.0),
    "pow_": lambda t, o: t.pow_(2),
    "clamp_": lambda t, o: t.clamp_(-0.5, 0.5),
    "relu_": lambda t, o: t.relu_(),
    "exp_": lambda t, o: t.exp_(),
    "zero_": lambda t, o: t.zero_() + o,
    "fill_tensor": lambda t, o: t.fill_(o.sum()),
    "copy_": lambda t, o: t.copy_(o * 2),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
@given(data=st.data())
def test_inplace_gradients(name, data):
    shape = data.draw(nonempty_shapes)
    a = data.draw(arrays(shape, away_from=0.5 if name == "clamp_" else 0.0))
    if name == "clamp_":
        a[np.abs(a + 0.5) < 0.1] = 0.0
    b = data.draw(arrays(shape))
    x = tt.tensor(a, requires_grad=True)
    y = tt.tensor(b, requires_grad=True)

    def fn(x, y):
        t = x * 1.5  # a non-leaf: in-place is allowed and recorded
        return INPLACE[name](t, y) * x

    assert gradcheck(fn, (x, y))


def test_setitem_gradients_every_index_form():
    rng = np.random.default_rng(0)
    forms = [0, -1, slice(1, 3), (0, 1), (slice(None), 1), (Ellipsis, 0), [0, 2],
             tt.tensor([True, False, True, False]), (tt.tensor([0, 3]), slice(None, 2))]
    for index in forms:
        def fn(x, v):
            out = x * 2
            out[index] = v * 3
            return out

        x = tt.tensor(rng.normal(size=(4, 3)), requires_grad=True)
        target = (x * 1)[index]
        v = tt.tensor(rng.normal(size=target.shape), requires_grad=True)
        assert gradcheck(fn, (x, v)), index
        scalar = tt.tensor(rng.normal(size=()), requires_grad=True)  # broadcast value
        assert gradcheck(fn, (x, scalar)), index


def test_setitem_with_a_python_scalar_and_on_plain_tensors():
    z = tt.ones(3)
    z[:] = 0.
    assert z.tolist() == [0.0, 0.0, 0.0]
    m = tt.zeros(2, 3)
    m[m == 0] = 5
    m[0, tt.tensor([0, 2])] = tt.tensor([1.0, 2.0])
    assert m.tolist() == [[1.0, 5.0, 2.0], [5.0, 5.0, 5.0]]


def test_write_through_a_view_records_on_the_base():
    check_grad(lambda x, w: _write_row(x, w), np.random.default_rng(1).normal(size=(3, 4)),
               np.random.default_rng(2).normal(size=(4,)))
    check_grad(lambda x: _transposed_write(x), np.random.default_rng(3).normal(size=(3, 4)))


def _write_row(x, w):
    out = x * 2             # (exp would save its output, which the writes then modify)
    out[1].mul_(w)          # through a Select view
    out[2][1:3] = w[:2]     # through a chain of views
    return out * 1


def _transposed_write(x):
    out = x * 1
    out.t()[0].add_(x[:, 0] ** 2)  # a column, through t() then select
    return out


def test_version_counter_error_names_op_and_shape():
    a = tt.ones(2, 3, requires_grad=True)
    b = a * 2
    c = b.sigmoid()  # saves its output
    c.mul_(2)
    with pytest.raises(RuntimeError, match=r"\[tinytape.FloatTensor \[2, 3\]\], which is output 0 of "
                                           r"Sigmoid, is at version 1; expected version 0"):
        c.sum().backward()
    d = a * 2
    e = d[0] * 3
    f = d ** 2          # saves d
    d[1].zero_()        # through a view: the same version counter
    e.sum().backward()  # e's entry saved nothing that changed
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        f.sum().backward()


def test_leaf_and_view_of_leaf_refuse_inplace():
    w = tt.ones(3, requires_grad=True)
    for op in (lambda: w.mul_(2), lambda: w.zero_(), lambda: w.__iadd__(1)):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            op()
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        w[0].mul_(2)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w[0] = 3.0
    with tt.no_grad():
        w -= 0.5 * tt.ones(3)
        w[0] = 7.0
    w.data -= 1
    w.grad = tt.ones(3)
    w.grad.data.zero_()
    assert w.tolist() == [6.0, -0.5, -0.5] and w.grad.tolist() == [0.0, 0.0, 0.0]
    assert w.is_leaf and w.requires_grad


def test_inplace_with_int_and_broadcast_rules():
    t = tt.ones(2, 3)
    t += tt.tensor([1.0, 2.0, 3.0])
    assert t.tolist() == [[2.0, 3.0, 4.0]] * 2
    with pytest.raises(RuntimeError, match="^output with shape \\[3\\] doesn't match the broadcast shape \\[2, 3\\]$"):
        tt.ones(3).add_(tt.ones(2, 3))
    i = tt.tensor([1, 2])
    i *= 3
    assert i.tolist() == [3, 6] and i.dtype is tt.int64


def test_setitem_value_shapes_follow_numpy():
    x = tt.zeros(2, 3, requires_grad=True) * 1
    v = tt.ones(1, 3, requires_grad=True)
    x[1] = v  # leading size-1 dims of the value drop out
    x.sum().backward()
    assert x.tolist() == [[0.0] * 3, [1.0] * 3] and v.grad.tolist() == [[1.0] * 3]
    with pytest.raises(RuntimeError, match=r"setitem: can't assign a value of shape \[2\] to index \[0\] "
                                         r"of a tensor of shape \[2, 3\] \(selects \[3\]\)"):
        x[0] = tt.ones(2, requires_grad=True)
