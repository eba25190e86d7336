"""A write into a tensor's storage reaches every live view of it: each view's history is
re-derived from the base's new one (PyTorch's ``AsStridedBackward0``), so its gradient flows
through what the write did; a piece of split/chunk/unbind is refused after its base changed,
as PyTorch refuses it."""
import pytest

import tinytape as tt
from helpers import assert_same
from pytorch_answers import pytorch


def _base_written_after_the_view(lib):
    x = lib.ones(6, requires_grad=True)
    z = x * 1
    w = z.view(2, 3)
    z.mul_(2)
    w.sum().backward()
    return x.grad, w


def _sibling_view_written(lib):
    x = lib.ones(6, requires_grad=True)
    z = x * 1
    a, b = z[:3], z[1:4]
    b.mul_(3)
    (a * lib.arange(3.0)).sum().backward()
    return x.grad, a, b


def _base_without_grad_written_with_a_gradient(lib):
    w = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    z = lib.zeros(4)
    v = z[1:3]
    z.add_(w * 2)
    (v * v).sum().backward()
    return w.grad, v, z


def _view_of_a_view(lib):
    x = lib.ones(2, 3, requires_grad=True)
    z = x.clone()
    row = z[0]
    tail = row[1:]
    z[1].add_(5)
    z[0, 1].mul_(10)
    (tail * 2).sum().backward()
    return x.grad, row, tail


def _rows_written_one_by_one(lib):
    # the rows kept as views while each is written: each row's gradient reaches what was
    # written into it (a row outside a write keeps its history; PyTorch renames its entry)
    w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
    buf = lib.zeros(4, 3)
    rows = [buf[t] for t in range(4)]
    h = w
    for t in range(4):
        h = lib.tanh(h * 0.9)
        buf[t] = h
    sum(((r * (i + 1)).sum() for i, r in enumerate(rows)), lib.zeros(())).backward()
    return w.grad, buf


def _transposed_view_and_exp_(lib):
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    z = x + 0
    t = z.t()
    z.exp_()
    (t * lib.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    return x.grad, t


def _setitem_into_the_base(lib):
    x = lib.arange(4.0, requires_grad=True)
    z = x * 3
    v = z[1:]
    y = lib.tensor(7.0, requires_grad=True)
    z[2] = y * y
    (v * lib.tensor([1.0, 10.0, 100.0])).sum().backward()
    return x.grad, y.grad, v


def _two_writes_in_a_row(lib):
    x = lib.ones(4, requires_grad=True)
    z = x * 1
    v = z[::2]
    z.mul_(3)
    z.add_(z)
    (v ** 2).sum().backward()
    return x.grad, v


CASES = [_base_written_after_the_view, _sibling_view_written, _base_without_grad_written_with_a_gradient,
         _view_of_a_view, _transposed_view_and_exp_, _setitem_into_the_base, _two_writes_in_a_row,
         _rows_written_one_by_one]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__.strip("_") for c in CASES])
def test_views_see_the_write_into_their_base(case):
    assert_same(case(tt), pytorch(case))


def _chunk_piece_after_its_base_changed(lib):
    x = lib.arange(6.0, requires_grad=True)
    z = x * 1
    p, q = z.chunk(2)
    z.pow_(2)
    return p + q


def _unbind_piece_after_its_base_changed(lib):
    x = lib.ones(2, 3, requires_grad=True)
    z = x * 1
    first, second = z.unbind()
    z.add_(1)
    return first * 2


@pytest.mark.parametrize("case", [_chunk_piece_after_its_base_changed, _unbind_piece_after_its_base_changed],
                         ids=["chunk", "unbind"])
def test_a_piece_of_a_multi_output_view_is_refused_after_its_base_changed(case):
    with pytest.raises(RuntimeError) as theirs:
        pytorch(case)  # PyTorch's error, raised again
    with pytest.raises(RuntimeError, match="returns multiple views") as ours:
        case(tt)
    assert str(ours.value) == str(theirs.value)


def test_a_view_made_without_grad_mode_keeps_no_history():
    x = tt.ones(3, requires_grad=True)
    z = x * 2
    with tt.no_grad():
        v = z[:2]
    z.mul_(3)
    assert not v.requires_grad and v.grad_fn is None


def test_views_that_died_are_forgotten():
    z = tt.zeros(8)
    for i in range(1000):
        z[i % 8:]
    assert len(z._views) < 130


def _write_into_a_split_piece(lib):
    x = lib.arange(4.0, requires_grad=True)
    a, b = (x * 1).split(2)
    a.mul_(2)


def _write_into_an_unbind_piece(lib):
    x = lib.arange(4.0, requires_grad=True)
    a, b = (x * 1).view(2, 2).unbind()
    b.add_(1)


@pytest.mark.parametrize("case", [_write_into_a_split_piece, _write_into_an_unbind_piece], ids=["split", "unbind"])
def test_a_recorded_write_into_a_piece_is_refused(case):
    with pytest.raises(RuntimeError) as theirs:
        pytorch(case)
    with pytest.raises(RuntimeError, match="is being modified inplace") as ours:
        case(tt)
    assert str(ours.value) == str(theirs.value)


def test_compiled_equals_eager_when_views_see_a_write():
    def make():
        w = tt.tensor([0.5, -1.0, 2.0, 0.25, 1.5, -0.75], requires_grad=True)

        def step(x):
            z = x * w
            rows = z.view(2, 3)
            tail = z[2:]
            z.mul_(w)              # the base written: rows and tail re-derived from it
            z[1] = x[0] * 3        # a part written: only the views over it
            loss = (rows.exp() * tail.sum()).sum()
            w.grad = None
            loss.backward()
            with tt.no_grad():
                w.sub_(0.01 * w.grad)
            return loss.detach(), w.grad.clone()
        return w, step

    (w_c, compiled), (w_e, eager) = make(), make()
    compiled = tt.compile(compiled)
    for i in range(4):
        x = tt.arange(6.0) * (0.1 * (i + 1))
        for a, b in zip(compiled(x), eager(x)):
            assert a.numpy().tobytes() == b.numpy().tobytes()
        assert w_c.detach().numpy().tobytes() == w_e.detach().numpy().tobytes()
    # replayed, not run eagerly (a second trace from the state the first call left: w.grad set)
    assert compiled.eager is None and 1 <= sum(len(v) for v in compiled.programs.values()) <= 2
