"""Lazy modules past their first call: a deep copy of a lazy net that has not run yet stays
lazy (its copy sizes its own parameters, as PyTorch's ``UninitializedParameter.__deepcopy__``; an
uninitialised buffer refuses, as PyTorch's),
the lazy batch and instance norms of every rank, and ``tinytape.compile`` over a step whose
model still has lazy parameters (the call that sizes them runs eagerly, the next traces)."""
import copy

import numpy as np

import tinytape
from pytorch_answers import pytorch


def _assert_close(mine, recorded):
    assert str(mine.dtype).split(".")[-1] == recorded.dtype and tuple(mine.shape) == recorded.shape
    np.testing.assert_allclose(mine.detach().numpy(), recorded.numpy(), rtol=2e-6, atol=1e-6)


def _copied_lazy_nets(torch):
    torch.manual_seed(0)
    nn = torch.nn
    made = [nn.Sequential(nn.Linear(3, 4), nn.LazyLinear(2)), nn.LazyBatchNorm3d(),
            nn.LazyInstanceNorm1d(affine=True), nn.LazyInstanceNorm2d(),
            nn.LazyInstanceNorm3d(track_running_stats=True), nn.InstanceNorm3d(2, affine=True)]
    inputs = [torch.randn(2, 3), torch.randn(2, 2, 3, 3, 3), torch.randn(2, 2, 5), torch.randn(2, 2, 3, 3),
              torch.randn(2, 2, 2, 3, 3), torch.randn(1, 2, 2, 2, 3)]
    out = []
    for module, x in zip(made, inputs):
        try:
            copied = copy.deepcopy(module)
        except ValueError as e:  # an uninitialised buffer (lazy running statistics) has no copy
            out.append(str(e).split(" in <")[0])
            copied = module
        y = copied(x)
        out += [repr(module), repr(copied), type(copied).__name__, y,
                [(name, tuple(t.shape)) for name, t in copied.state_dict().items()]]
    return out


def test_a_copied_lazy_net_sizes_its_own_parameters_and_lazy_norms_of_every_rank_are_pytorchs():
    ours, theirs = _copied_lazy_nets(tinytape), pytorch(_copied_lazy_nets)
    assert len(ours) == len(theirs)
    for mine, recorded in zip(ours, theirs):
        if isinstance(mine, tinytape.Tensor):
            _assert_close(mine, recorded)
        else:
            assert mine == recorded


def _train(compiled, fullgraph=True):
    nn, F = tinytape.nn, tinytape.nn.functional
    tinytape.manual_seed(0)
    model = copy.deepcopy(nn.Sequential(nn.LazyConv2d(3, 3, padding=1), nn.ReLU(), nn.Flatten()))
    model.extend([nn.LazyBatchNorm1d(), nn.LazyLinear(4)])
    opt = tinytape.optim.Adam(model.parameters(), lr=1e-2)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    run = tinytape.compile(step, fullgraph=fullgraph) if compiled else step
    rng = np.random.default_rng(0)
    losses = [run(tinytape.tensor(rng.standard_normal((4, 1, 5, 5)).astype(np.float32)),
                  tinytape.tensor(rng.integers(0, 4, 4))).item() for _ in range(4)]
    return losses, [p.detach().numpy().copy() for p in model.parameters()], run


def test_a_compiled_step_over_lazy_modules_sizes_them_eagerly_then_replays_what_eager_gives():
    eager_losses, eager_params, _ = _train(False)
    losses, params, run = _train(True)
    assert losses == eager_losses
    for a, b in zip(params, eager_params):
        np.testing.assert_array_equal(a, b)
    assert run.traces == 1 and not run.eager_signatures and run.eager is None
