"""``EmbeddingBag(sparse=True)`` / ``F.embedding_bag(sparse=True)`` against PyTorch's answers:
the COO gradient (one entry per kept lookup in the input's order, uncoalesced, each row the
bag's gradient scaled by its per-sample weight or divided by the bag's size), ``padding_idx``
and empty bags, offsets with ``include_last_offset``, the refusals (``max`` mode,
``scale_grad_by_freq``), gradients accumulating, SparseAdam and SGD on it, and a compiled step."""
import numpy as np
import pytest

import tinytape
from helpers import check_close_to_pytorch, outcome_of as _outcome


def _api(g):
    return [str(g), g.is_sparse, g.is_coalesced(), g._indices(), g._values(), g.requires_grad, g.grad_fn is None,
            g.to_dense(), str(g.coalesce())]


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_the_sparse_gradient_of_each_mode(mode):
    def run(torch):
        torch.manual_seed(0)
        bag = torch.nn.EmbeddingBag(10, 3, mode=mode, sparse=True)
        out = bag(torch.tensor([1, 2, 4, 5, 4, 3, 2, 9]), torch.tensor([0, 4, 4]))
        (out * torch.arange(9.0).view(3, 3)).sum().backward()
        result = [out, str(out.grad_fn.__class__.__name__)] + _api(bag.weight.grad)
        bag(torch.tensor([[2, 0], [7, 7]])).sum().backward()  # accumulated: PyTorch's sparse add
        return result + _api(bag.weight.grad)
    check_close_to_pytorch(run, rtol=1e-6, atol=1e-6)


def test_padding_idx_per_sample_weights_and_offsets():
    def run(torch):
        torch.manual_seed(1)
        F = torch.nn.functional
        bag = torch.nn.EmbeddingBag(6, 2, mode="mean", sparse=True, padding_idx=1)
        bag(torch.tensor([1, 2, 1, 3, 1]), torch.tensor([0, 2, 4])).sum().backward()
        out = _api(bag.weight.grad)
        w = torch.randn(5, 2, requires_grad=True)
        psw = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        F.embedding_bag(torch.tensor([0, 1, 1]), w, torch.tensor([0, 2]), sparse=True, mode="sum",
                        per_sample_weights=psw).sum().backward()
        out += _api(w.grad) + [psw.grad]
        w.grad = None
        y = F.embedding_bag(torch.tensor([4, 2, 4, 0]), w, torch.tensor([0, 1, 4]), sparse=True, mode="sum",
                            include_last_offset=True, padding_idx=0)
        (y ** 2).sum().backward()
        return out + [y] + _api(w.grad)
    check_close_to_pytorch(run, rtol=1e-6, atol=1e-6)


def test_what_sparse_refuses():
    def run(torch):
        F = torch.nn.functional
        w = torch.ones(4, 2, requires_grad=True)
        bag = torch.nn.EmbeddingBag(4, 2, mode="sum", sparse=True, scale_grad_by_freq=True)
        out = bag(torch.tensor([1, 1, 2]), torch.tensor([0]))
        return [_outcome(lambda: F.embedding_bag(torch.tensor([1]), w, torch.tensor([0]), mode="max", sparse=True)),
                _outcome(lambda: torch.nn.EmbeddingBag(4, 2, mode="max", sparse=True)(torch.tensor([[1]]))),
                _outcome(lambda: F.embedding_bag(torch.tensor([1]), w, torch.tensor([0]), mode="max",
                                                 scale_grad_by_freq=True)),
                _outcome(lambda: out.sum().backward()), repr(bag)]
    check_close_to_pytorch(run)


@pytest.mark.parametrize("name", ["SparseAdam", "SGD"])
def test_optimizers_step_on_the_sparse_gradient(name):
    def run(torch):
        torch.manual_seed(2)
        bag = torch.nn.EmbeddingBag(8, 3, mode="mean", sparse=True)
        opt = getattr(torch.optim, name)(list(bag.parameters()), lr=0.1)
        losses = []
        for step in range(3):
            opt.zero_grad()
            loss = (bag(torch.tensor([[1, 2], [3, 3], [step, 1]])) ** 2).sum()
            loss.backward()
            opt.step()
            losses.append(loss)
        return losses + [bag.weight]
    check_close_to_pytorch(run, rtol=1e-5, atol=1e-6)


def test_the_sparse_gradient_densifies_to_the_dense_one():
    # (the dense gradient is gradchecked with the layers; the sparse one holds the same numbers)
    for mode, psw in (("sum", None), ("mean", None), ("sum", tinytape.tensor([0.5, -2.0, 1.5, 3.0, 1.0]))):
        grads = []
        for sparse in (False, True):
            tinytape.manual_seed(3)
            w = tinytape.randn(6, 4, dtype=tinytape.float64, requires_grad=True)
            out = tinytape.nn.functional.embedding_bag(tinytape.tensor([5, 0, 5, 2, 1]), w, tinytape.tensor([0, 2]),
                                                       mode=mode, sparse=sparse, per_sample_weights=psw,
                                                       padding_idx=2)
            (out * tinytape.arange(8.0, dtype=tinytape.float64).view(2, 4)).sum().backward()
            grads.append(w.grad.to_dense() if sparse else w.grad)
        np.testing.assert_allclose(grads[1].numpy(), grads[0].numpy(), rtol=1e-12, atol=1e-12)


def test_a_compiled_sparse_step_runs_eagerly_and_equals_eager():
    def run(compiled):
        tinytape.manual_seed(0)
        bag = tinytape.nn.EmbeddingBag(6, 3, mode="sum", sparse=True)
        opt = tinytape.optim.SparseAdam(list(bag.parameters()), lr=0.1)
        x = tinytape.tensor([0, 1, 3, 3, 0, 2])
        offsets = tinytape.tensor([0, 2])

        def step():
            opt.zero_grad()
            loss = (bag(x, offsets) ** 2).sum()
            loss.backward()
            opt.step()
            return loss
        f = tinytape.compile(step) if compiled else step
        return [f().item() for _ in range(3)], bag.weight.detach().numpy().copy()
    eager = run(False)
    with pytest.warns(RuntimeWarning, match="eagerly"):
        compiled = run(True)
    assert eager[0] == compiled[0] and np.array_equal(eager[1], compiled[1])


@pytest.mark.gpu
def test_device_sparse_gradient_and_sparse_adam_equal_the_cpu_ones():
    results = []
    for device in ("cpu", "cuda"):
        tinytape.manual_seed(3)
        bag = tinytape.nn.EmbeddingBag(5, 2, mode="mean", sparse=True, padding_idx=4).to(device)
        opt = tinytape.optim.SparseAdam(list(bag.parameters()), lr=0.1)
        for k in range(2):
            opt.zero_grad()
            (bag(tinytape.tensor([0, 4, 2, k, 0, 3], device=device), tinytape.tensor([0, 2], device=device))
             ** 2).sum().backward()
            grad = bag.weight.grad
            opt.step()
        results.append((grad._indices().cpu().numpy(), grad._values().cpu().numpy(),
                        bag.weight.detach().cpu().numpy()))
        assert grad._values().device.type == device
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
