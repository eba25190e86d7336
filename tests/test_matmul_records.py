"""What matmul, bmm, reshape and expand record, as PyTorch 2.14's: the chain of grad_fn
names from the result down the first operand (the batched product's expand and view of each
operand, the fold of a batch into one mm, a reshape that must copy as a clone viewed), the
values and gradients, and the errors of clashing batches."""
import numpy as np
import pytest

import tinytape
from pytorch_answers import pytorch

SHAPES = [((3,), (2, 3, 4)), ((2, 3, 4), (4,)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 5)),
          ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (3, 4, 5)), ((2, 3, 4), (1, 4, 5)), ((5, 2, 3, 4), (5, 2, 4, 1)),
          ((2, 3, 4), (4, 5))]


def _chain(t):
    names, fn = [], t.grad_fn
    while fn is not None and len(names) < 5:
        names.append(type(fn).__name__)
        following = [f for f, _ in fn.next_functions if f is not None and type(f).__name__ != "AccumulateGrad"]
        fn = following[0] if following else None
    return names


@pytest.mark.parametrize("shape_a,shape_b", SHAPES)
def test_matmul_records_as_pytorch(shape_a, shape_b):
    rng = np.random.default_rng(len(shape_a) * 10 + len(shape_b))
    a, b = rng.standard_normal(shape_a).astype(np.float32), rng.standard_normal(shape_b).astype(np.float32)

    def run(torch):
        x, y = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        out = x @ y
        (out * out).sum().backward()
        return out, _chain(out), x.grad, y.grad

    mine, theirs = run(tinytape), pytorch(run)
    assert mine[1] == theirs[1]
    for m, t in zip(mine[:1] + mine[2:], theirs[:1] + theirs[2:]):  # (products' last bits: BLAS's own)
        assert m.shape == t.shape
        np.testing.assert_allclose(m.detach().numpy(), t.numpy(), rtol=1e-5, atol=1e-5)


def test_bmm_reshape_expand_record_as_pytorch():
    def run(torch):
        x = torch.ones(2, 3, 4, requires_grad=True)
        return (_chain(torch.bmm(x, torch.ones(2, 4, 5))), _chain(x.mT.reshape(8, 3)), _chain(x.mT.flatten()),
                _chain(x.reshape(2, 12)), _chain(x.expand(2, 3, 4)), _chain(x.expand(2, 2, 3, 4).reshape(4, 3, 4)))

    assert run(tinytape) == pytorch(run)


@pytest.mark.parametrize("shape_a,shape_b,op", [
    ((2, 3, 4), (3, 4, 5), "matmul"), ((2, 3, 4), (3, 5, 5), "matmul"), ((2, 3, 4), (2, 5, 5), "matmul"),
    ((2, 3, 4), (5, 6), "matmul"), ((2, 3, 4), (5,), "matmul"), ((3,), (2, 4, 5), "matmul"),
    ((2, 1, 3, 4), (3, 5, 5), "matmul"), ((2, 3, 4), (3, 4, 5), "bmm"), ((2, 3, 4), (2, 5, 5), "bmm")])
def test_batch_errors_as_pytorch(shape_a, shape_b, op):
    def run(torch):
        try:
            getattr(torch, op)(torch.ones(*shape_a), torch.ones(*shape_b))
        except RuntimeError as e:
            return str(e)

    mine = run(tinytape)  # (tinytape's errors name the op first: "mm: ...")
    assert (mine[4:] if mine.startswith(("mm: ", "mv: ")) else mine) == pytorch(run)


def test_expand_to_the_same_sizes_is_a_writable_view():
    x = tinytape.zeros(2, 3)
    e = x.expand(2, 3)
    assert e is not x
    e.add_(1)
    assert x.sum().item() == 6
