"""Results laid out as PyTorch lays them out: an elementwise op's result in its operands'
memory order (PyTorch's TensorIterator: ``x.t() + 1`` is transposed, dense), ``clone``,
``to`` and the ``*_like`` constructors in a dense operand's layout, ``contiguous``, ``cat``
and ``masked_fill`` C-contiguous, a leaf's ``.grad`` in the leaf's layout.  The order shows
in ``stride()``, decides whether ``view`` works, in which order a later sum adds (its last
bits) and in which order a random fill draws; compiled steps keep it, bit for bit."""
import numpy as np
import pytest

import tinytape
from helpers import check_against_pytorch


def _layouts(torch):
    x = torch.arange(12.).view(3, 4)
    xt = x.t()
    y = torch.ones(4, 3)
    p = torch.arange(24.).view(2, 3, 4).permute(2, 0, 1)
    F = torch.nn.functional
    cases = {
        "t+1": lambda: xt + 1, "exp": lambda: xt.exp(), "t+y": lambda: xt + y, "y+t": lambda: y + xt,
        "t*t": lambda: xt * xt, "clone": lambda: xt.clone(), "zeros_like": lambda: torch.zeros_like(xt),
        "ones_like": lambda: torch.ones_like(p), "full_like": lambda: torch.full_like(xt, 2.),
        "empty_like": lambda: torch.empty_like(p), "randn_like": lambda: torch.randn_like(xt),
        "double": lambda: xt.double(), "long": lambda: xt.to(torch.int64), "p*2": lambda: p * 2,
        "p.sum(0)": lambda: p.sum(0), "p.mean(2)": lambda: p.mean(2, keepdim=True),
        "strided+1": lambda: xt[::2] + 1, "strided.t+1": lambda: x[:, ::2].t() + 1,
        "strided clone": lambda: xt[::2].clone(), "strided double": lambda: xt[::2].double(),
        "compare": lambda: xt > 1, "where": lambda: torch.where(xt > 1, xt, 0.),
        "masked_fill": lambda: xt.masked_fill(xt > 1, 0.), "relu": lambda: torch.relu(xt),
        "softmax": lambda: torch.softmax(xt, 0), "clamp": lambda: xt.clamp(0, 1), "neg": lambda: -xt,
        "pow2": lambda: xt ** 2, "pow2.5": lambda: xt ** 2.5, "pow pair": lambda: xt ** xt, "abs": lambda: xt.abs(),
        "cumsum": lambda: xt.cumsum(0), "cat": lambda: torch.cat([xt, xt]), "stack": lambda: torch.stack([xt, xt]),
        "column+t": lambda: torch.randn(4, 1).expand(4, 3) + xt, "t+row": lambda: xt + torch.ones(3),
        "row+t": lambda: torch.ones(3) + xt, "t+column": lambda: xt + torch.ones(4, 1),
        "contiguous": lambda: xt.contiguous(), "gelu": lambda: F.gelu(xt), "sigmoid": lambda: xt.sigmoid(),
        "lerp": lambda: torch.lerp(xt, y, 0.3), "lerp C first": lambda: torch.lerp(y, xt, 0.3),
        "addcmul": lambda: torch.addcmul(xt, y, y), "add alpha": lambda: torch.add(xt, y, alpha=2),
        "add alpha C first": lambda: torch.add(y, xt, alpha=2), "leaky_relu": lambda: F.leaky_relu(xt),
        "elu": lambda: F.elu(xt), "hardtanh": lambda: F.hardtanh(xt), "rsub": lambda: 1 - xt,
        "maximum": lambda: torch.maximum(xt, y), "logical_and": lambda: (xt > 1) & (xt < 5),
        "nan_to_num": lambda: xt.nan_to_num(), "float of int": lambda: xt.long().float(),
        "permuted+permuted": lambda: p + p, "permuted+C": lambda: p + torch.ones(4, 2, 3),
        "C+permuted": lambda: torch.ones(4, 2, 3) + p, "log_softmax": lambda: F.log_softmax(xt, 1),
    }
    return {k: (tuple(f().shape), f().stride(), f().is_contiguous()) for k, f in cases.items()}


def test_results_are_laid_out_as_pytorch_lays_them_out():
    check_against_pytorch(_layouts)


def test_view_of_a_transposed_result_is_refused_as_pytorch_refuses_it():
    def run(torch):
        x = torch.arange(12.).view(3, 4)
        out = []
        for f in (lambda: (x.t() + 1).view(-1), lambda: (x.t() + 1).reshape(-1), lambda: x.t().clone().view(-1),
                  lambda: x.t().contiguous().view(-1), lambda: (x.t() * 2).flatten()):
            try:
                out.append(f())
            except RuntimeError as e:
                out.append(type(e).__name__)
        return out
    check_against_pytorch(run)


def test_sums_of_transposed_results_add_in_pytorchs_order():
    # the order a sum adds in follows memory: a C-contiguous result would round apart
    def run(torch):
        torch.manual_seed(0)
        a = torch.randn(50, 30)
        b = torch.randn(30, 50)
        y = a.t() * 1.1
        return [y.sum(), y.sum(0), y.sum(1), (a.t() + b).sum(), (b + a.t()).sum(0), (a.t().exp() * b).mean(1),
                a.t().double().sum(), torch.where(a.t() > 0, a.t(), b).sum(0)]
    check_against_pytorch(run)


def test_random_fills_of_a_transposed_clone_draw_in_its_memory_order():
    def run(torch):
        torch.manual_seed(0)
        x = torch.zeros(5, 4).t()
        return [x.clone().normal_(), torch.randn_like(x), x.clone().uniform_(), torch.empty_like(x).bernoulli_(0.5)]
    check_against_pytorch(run)


def test_a_leafs_grad_takes_its_layout():
    def run(torch):
        torch.manual_seed(0)
        out = []
        w = torch.randn(3, 4, requires_grad=True)
        (w.t() * 2).sum().backward()
        out.append((w.grad, w.grad.stride()))
        wt = torch.randn(3, 4).t().requires_grad_()
        (wt * 2).sum().backward()
        out.append((wt.grad, wt.grad.stride()))
        (wt.sigmoid() * torch.ones(4, 3)).sum().backward()
        out.append((wt.grad, wt.grad.stride()))
        wt.grad = None
        (torch.ones(4, 3) * wt).sum().backward()
        out.append((wt.grad, wt.grad.stride()))
        return out
    check_against_pytorch(run)


def test_a_compiled_step_over_transposed_results_equals_eager_bit_for_bit():
    tinytape.manual_seed(0)
    W = tinytape.randn(6, 5, requires_grad=True)
    Wt = tinytape.randn(5, 6).t().requires_grad_()
    b = tinytape.randn(6, requires_grad=True)

    def step(x):
        y = x.t() * 1.7 + W.t().exp()
        z = (y.tanh() * Wt.t()).sum(0)
        q = (x.t() + b).clone()
        r = torch_where = tinytape.where(q > 0, q, q * 0.1)
        loss = z.sum() + (q * q).mean() + (Wt * 2).sum() + torch_where.sum(1).mean() + r.float().double().sum()
        loss.backward()
        return loss.detach(), y.stride(), q.stride()

    def run(fn):
        results = []
        for i in range(3):
            for p in (W, Wt, b):
                p.grad = None
            loss, s1, s2 = fn(tinytape.full((6, 5), 0.1 * i) + tinytape.arange(30.).view(6, 5) / 7)
            results.append((loss.item(), s1, s2, [p.grad.numpy().copy() for p in (W, Wt, b)],
                            [p.grad.stride() for p in (W, Wt, b)]))
        return results

    eager = run(step)
    compiled_step = tinytape.compile(step, fullgraph=True)
    compiled = run(compiled_step)
    assert compiled_step.programs, "the step did not compile"
    for e, c in zip(eager, compiled):
        assert e[0] == c[0] and e[1:3] == c[1:3] and e[4] == c[4]
        for ge, gc in zip(e[3], c[3]):
            np.testing.assert_array_equal(ge, gc)
    assert eager[0][1] == (1, 5) and eager[0][4][1] == (1, 6)


@pytest.mark.gpu
def test_transposed_results_on_the_gpu_path_take_the_operands_order():
    x = tinytape.arange(12.).view(3, 4).to("cuda")
    xt = x.t()
    for f in (lambda: xt + 1, lambda: xt.exp(), lambda: xt.double(), lambda: xt > 1, lambda: xt.clone()):
        r = f()
        assert r.stride() == (1, 4), r.stride()
        np.testing.assert_array_equal(r.cpu().numpy(), f().cpu().numpy())
    np.testing.assert_array_equal((xt * 2).cpu().numpy(), x.cpu().numpy().T * 2)


# steps over transposed and permuted results: writes into them, views, copies, constants as
# gradients; each compiled step must equal eager, values and the strides of every .grad
def _writes(x, W, V, b, P):
    y = x.t() * 2
    y[0] = 5.0
    y.add_(V.t())
    return (y * V.t()).sum() + y.reshape(-1)[3] + y.sum(0).pow(2).sum()


def _views(x, W, V, b, P):
    y = x.t() + W.t()
    return (y.contiguous().view(-1) ** 2).sum() + y.t().contiguous().view(2, -1).sum(1).prod()


def _linear(x, W, V, b, P):
    y = tinytape.nn.functional.relu(x.t() - 0.5) * V.t()
    return tinytape.nn.functional.linear(y.t(), V, b).sum() + y.mean()


def _permuted(x, W, V, b, P):
    q = P * 2 + P.exp()
    return (q.sum(0) * q.sum((1, 2)).mean()).sum() + q[1:].clone().sum()


def _select(x, W, V, b, P):
    y = tinytape.where(x.t() > 0.2, x.t(), W.t() * 3).masked_fill(x.t() < 0.4, 0.5)
    return (y * V.t()).softmax(0).log().sum() + (x.t().double() * V.t().double()).sum().float()


def _constant_grads(x, W, V, b, P):  # d/dV of lerp and addcmul: constants, laid out as V
    return tinytape.lerp(V.t(), W.t(), 0.3).sum() + tinytape.addcmul(V.t(), x.t(), W.t(), value=0.5).sum()


def _fills_and_cats(x, W, V, b, P):
    y = x.t().clone()
    y.mul_(V.t())
    y.t()[0].fill_(1.0)
    z = tinytape.cat([x.t() * 2, V.t()]) + 1
    return (y.tanh() @ W).sum() + (z * z).sum(1).mean() + tinytape.stack([V.t(), W.t()]).sum()


def _recurrent(x, W, V, b, P):
    h = tinytape.zeros(6, 5).t()
    for _ in range(3):
        h = tinytape.tanh(h * V.t() + x.t())
    return h.sum() + tinytape.nn.functional.layer_norm(tinytape.nn.functional.gelu(h), (6,)).sum()


@pytest.mark.parametrize("program", [_writes, _views, _linear, _permuted, _select, _constant_grads,
                                     _fills_and_cats, _recurrent], ids=lambda f: f.__name__.strip("_"))
def test_compiled_steps_over_transposed_results_equal_eager(program):
    def parameters():
        tinytape.manual_seed(0)
        return dict(W=tinytape.randn(6, 5, requires_grad=True), V=tinytape.randn(5, 6).t().requires_grad_(),
                    b=tinytape.randn(6, requires_grad=True),
                    P=tinytape.randn(2, 3, 4).permute(2, 0, 1).requires_grad_())

    def run(compiled):
        params = parameters()

        def step(x):
            for p in params.values():
                p.grad = None
            loss = program(x, **params)
            loss.backward()
            return loss.detach()
        fn = tinytape.compile(step, fullgraph=True) if compiled else step
        out = []
        for i in range(3):
            loss = fn(tinytape.arange(30.).view(6, 5) / 7 + 0.1 * i)
            out.append((loss.item(), {k: (p.grad.numpy().copy(), p.grad.stride()) for k, p in params.items()
                                      if p.grad is not None}))
        return out

    for (loss_e, grads_e), (loss_c, grads_c) in zip(run(False), run(True)):
        assert loss_e == loss_c
        assert grads_e.keys() == grads_c.keys()
        for k in grads_e:
            np.testing.assert_array_equal(grads_e[k][0], grads_c[k][0], err_msg=k)
            assert grads_e[k][1] == grads_c[k][1], k
