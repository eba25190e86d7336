"""Sparse gradients against PyTorch: ``Embedding(sparse=True)``'s COO gradient (one entry per
lookup, ``padding_idx``'s left out, uncoalesced, summed by PyTorch's merge when gradients
accumulate), the sparse tensor API it is used through (``coalesce``, ``_indices``/``_values``,
``indices``/``values``, ``to_dense``, ``sparse_mask``, ``to_sparse``, ``sparse_coo_tensor``,
the repr), ``optim.SparseAdam`` step by step, SGD and Adagrad on sparse gradients and the
other optimizers' refusals."""
import warnings

import numpy as np
import pytest

import tinytape
from helpers import assert_close_to, check_against_pytorch, check_close_to_pytorch
from pytorch_answers import pytorch


def _outcome(f):
    try:
        return f()
    except Exception as e:  # noqa: BLE001 - the error is the answer
        return f"{type(e).__name__}: {e}".replace("tinytape", "torch")


def _text(t):
    return str(t).replace("tinytape", "torch")


def test_embedding_sparse_gradient_and_its_api():
    def run(torch):
        torch.manual_seed(0)
        e = torch.nn.Embedding(5, 2, sparse=True, padding_idx=1)
        x = torch.tensor([[0, 1, 3], [3, 0, 2]])
        (e(x) ** 2).sum().backward()
        g = e.weight.grad
        out = [_text(g), g.is_sparse, _text(g.layout), g.is_coalesced(), g._nnz(), g._indices(), g._values(),
               g.sparse_dim(), g.dense_dim(), g.requires_grad, g.grad_fn is None, g.shape, g.dtype == torch.float32,
               _outcome(lambda: g.indices()), _outcome(lambda: g.values()), g.to_dense()]
        c = g.coalesce()
        out += [_text(c), c.is_coalesced(), c.indices(), c.values(), c.to_dense(), c.coalesce() is c]
        e(x).sum().backward()  # the same entries: values added in place of each
        out.append(_text(e.weight.grad))
        e(torch.tensor([[2, 2, 4]])).sum().backward()  # others: merged as PyTorch's sparse add merges
        out += [_text(e.weight.grad), e.weight.grad.to_dense(), _text(e.weight.grad.coalesce())]
        out += [_text(torch.zeros(5, 2).sparse_mask(c)), _text(torch.arange(10.).reshape(5, 2).sparse_mask(c))]
        e.weight.grad = None
        e(torch.tensor([1])).sum().backward()
        out.append(_text(e.weight.grad))
        e.weight.grad.zero_()
        out += [_text(e.weight.grad), str(e)]
        return out
    check_close_to_pytorch(run, rtol=1e-6, atol=1e-6)


def test_sparse_tensors_built_directly():
    def run(torch):
        s = torch.sparse_coo_tensor(torch.tensor([[0, 2, 0], [1, 0, 1]]), torch.tensor([1., 2., 3.]), (3, 2))
        d = torch.tensor([[0., 1.5, 0.], [0., 0., -2.]])
        v = torch.sparse_coo_tensor(torch.tensor([[2, 0]]), torch.tensor([[1., 2.], [3., 4.]], dtype=torch.float64))
        return [_text(s), _text(s.coalesce()), s.to_dense(), _text(d.to_sparse()), _text(d.to_sparse(1)),
                _text(v), v.shape, _text(v + v), _text(s.coalesce() + s), s.to_dense() + s, _text(-s), _text(s * 2),
                _text(s.clone()), _text(s.detach())]
    check_against_pytorch(run)


def test_scale_grad_by_freq_is_refused_with_sparse_gradients():
    def run(torch):
        e = torch.nn.Embedding(4, 2, sparse=True, scale_grad_by_freq=True)
        return _outcome(lambda: e(torch.tensor([0, 0, 1])).sum().backward())
    check_against_pytorch(run)


_OPTIONS = [dict(lr=0.1), dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6), dict(lr=0.05, maximize=True),
            dict(lr="tensor")]


@pytest.mark.parametrize("options", range(len(_OPTIONS)))
def test_sparse_adam_steps_as_pytorch(options):
    def run(torch):
        torch.manual_seed(1)
        kwargs = dict(_OPTIONS[options])
        if kwargs["lr"] == "tensor":
            kwargs["lr"] = torch.tensor(0.02)
        e = torch.nn.Embedding(7, 3, sparse=True, padding_idx=2)
        dense = torch.nn.Embedding(7, 3, sparse=True)
        opt = torch.optim.SparseAdam(list(e.parameters()) + list(dense.parameters()), **kwargs)
        out = []
        for k in range(5):
            opt.zero_grad()
            x = torch.tensor([[0, 2, 3, 3], [k, 0, 6, 1]])
            ((e(x) - 0.5) ** 2).sum().backward()
            if k != 3:  # (one step where the second table has no gradient)
                (dense(x) * e(x).detach()).sum().backward()
            opt.step()
            out += [e.weight.detach().clone(), dense.weight.detach().clone()]
        sd = opt.state_dict()
        out += [sd["state"][0]["step"], sd["state"][0]["exp_avg"], sd["state"][0]["exp_avg_sq"],
                sd["state"][1]["step"], sorted(sd["param_groups"][0])]
        return out
    check_close_to_pytorch(run, rtol=2e-6, atol=1e-7)


def test_sparse_adam_refusals():
    def run(torch):
        p = torch.ones(2, 2, requires_grad=True)
        p.grad = torch.ones(2, 2)
        s = torch.sparse_coo_tensor(torch.tensor([[0]]), torch.tensor([1.]), (2,))
        return [_outcome(lambda: torch.optim.SparseAdam([p], lr=0.0)),
                _outcome(lambda: torch.optim.SparseAdam([p], eps=0.0)),
                _outcome(lambda: torch.optim.SparseAdam([p], betas=(1.0, 0.9))),
                _outcome(lambda: torch.optim.SparseAdam([p], betas=(0.9, -0.1))),
                _outcome(lambda: torch.optim.SparseAdam([p], lr=torch.ones(2))),
                _outcome(lambda: torch.optim.SparseAdam([torch.ones(2, requires_grad=True), s])),
                _outcome(lambda: torch.optim.SparseAdam([p]).step()), torch.optim.SparseAdam([p]).defaults,
                _text(torch.optim.SparseAdam([p]))]
    check_against_pytorch(run)


def test_other_optimizers_on_sparse_gradients():
    def run(torch):
        torch.manual_seed(2)
        out = []
        for name in ("Adam", "AdamW", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop",
                     "Adafactor"):
            e = torch.nn.Embedding(4, 2, sparse=True)
            e(torch.tensor([0, 2, 0])).sum().backward()
            out.append(_outcome(lambda: getattr(torch.optim, name)(e.parameters(), lr=0.1).step()))
        for name, kwargs in (("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9)),
                             ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adagrad", dict(lr=0.1)),
                             ("Adagrad", dict(lr=0.1, weight_decay=0.1))):
            e = torch.nn.Embedding(4, 2, sparse=True)
            opt = getattr(torch.optim, name)(e.parameters(), **kwargs)
            for k in range(3):
                opt.zero_grad()
                (e(torch.tensor([0, 2, k])) ** 2).sum().backward()
                outcome = _outcome(opt.step)
            out += [outcome, e.weight.detach()]
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (PyTorch's sparse invariant-check notice)
        check_close_to_pytorch(run, rtol=1e-6, atol=1e-7)


def test_compiled_sparse_step_runs_eagerly_and_equals_eager():
    # the sparse gradient is built from the lookups' indices on the host: the compiler refuses
    # the step with its warning and runs it eagerly
    def run(compiled, name):
        tinytape.manual_seed(0)
        e = tinytape.nn.Embedding(6, 3, sparse=True)
        opt = getattr(tinytape.optim, name)(e.parameters(), lr=0.1)
        x = tinytape.tensor([[0, 1, 3], [3, 0, 2]])

        def step():
            opt.zero_grad()
            loss = (e(x) ** 2).sum()
            loss.backward()
            opt.step()
            return loss
        f = tinytape.compile(step) if compiled else step
        return [f().item() for _ in range(3)], e.weight.detach().numpy().copy()
    for name in ("SGD", "SparseAdam"):
        eager = run(False, name)
        with pytest.warns(RuntimeWarning, match="reads a tensor's value"):
            compiled = run(True, name)
        assert eager[0] == compiled[0] and np.array_equal(eager[1], compiled[1])


def test_sparse_layout_is_exported():
    assert_close_to(repr(tinytape.sparse_coo), pytorch(lambda torch: repr(torch.sparse_coo)))
    assert "SparseAdam" in tinytape.optim.__all__


@pytest.mark.gpu
def test_device_sparse_gradient_and_sparse_adam_equal_the_cpu_ones():
    results = []
    for device in ("cpu", "cuda"):
        tinytape.manual_seed(3)
        e = tinytape.nn.Embedding(5, 2, sparse=True, padding_idx=4).to(device)
        opt = tinytape.optim.SparseAdam(e.parameters(), lr=0.1)
        for k in range(2):
            opt.zero_grad()
            (e(tinytape.tensor([[0, 4, 2], [k, 0, 3]], device=device)) ** 2).sum().backward()
            grad = e.weight.grad
            opt.step()
        results.append((grad.coalesce()._indices().cpu().numpy(), grad.coalesce()._values().cpu().numpy(),
                        e.weight.detach().cpu().numpy(), str(grad).replace("device='cuda:0', ", "")))
        assert grad._values().device.type == device and ("device='cuda:0'" in str(grad)) == (device == "cuda")
    for a, b in zip(*results):
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
