"""Programs after PyTorch's "Autograd mechanics" notes and its DQN, NTK and hooks tutorials,
run with ``import tinytape as torch``: hooks on graph nodes (``grad_fn.register_hook`` and
``register_prehook``), the errors of in-place use and of gradients asked of what does not
need them, in PyTorch's words."""
import tinytape
from helpers import check_against_pytorch, error_of as _error
from pytorch_answers import pytorch


def test_hooks_on_graph_nodes():
    def run(torch):
        x = torch.tensor([1., 2., 3.], requires_grad=True)
        y = x * 2
        z = (y * y).sum()
        log = []
        post = y.grad_fn.register_hook(lambda grad_in, grad_out: log.append(("post", grad_in, grad_out)))
        pre = y.grad_fn.register_prehook(lambda grad_out: log.append(("pre", grad_out)))
        y.register_hook(lambda g: log.append(("tensor", g)))
        z.backward(retain_graph=True)
        first = x.grad.clone()
        post.remove()
        pre.remove()
        y.grad_fn.register_prehook(lambda grad_out: (grad_out[0] * 10,))
        y.grad_fn.register_hook(lambda grad_in, grad_out: (grad_in[0] + 1, None))
        x.grad = None
        z.backward()
        acc = y.grad_fn.next_functions[0][0]
        return [log, first, x.grad, y.grad_fn.metadata, acc.variable is x, acc.name(), type(acc).__name__]
    check_against_pytorch(run)


def test_autograd_mechanics_errors_in_pytorchs_words():
    def run(torch):
        a = torch.randn(3, requires_grad=True)
        b = a.sigmoid()
        b.mul_(2)
        w = torch.randn(2, 2, requires_grad=True)
        unused = torch.ones(2, requires_grad=True)
        return [_error(lambda: b.sum().backward()), _error(lambda: a.add_(1)), _error(lambda: a[:2].mul_(2)),
                _error(lambda: torch.ones(2, dtype=torch.int32, requires_grad=True)),
                _error(lambda: torch.tensor([1, 2], requires_grad=True)),
                _error(lambda: torch.arange(3, requires_grad=True)),
                _error(lambda: torch.full((2,), 1, requires_grad=True)),
                _error(lambda: torch.ones(2).long().requires_grad_()),
                _error(lambda: torch.autograd.grad(w.sum(), [w, unused])),
                _error(lambda: torch.autograd.grad(w.sum(), [torch.ones(2)])),
                torch.autograd.grad(w.sum(), [w, unused], allow_unused=True, materialize_grads=True)]
    check_against_pytorch(run)


def test_attention_output_is_laid_out_as_its_query():
    """The SDPA tutorial's ``CausalSelfAttention`` views ``y.transpose(1, 2)`` back to (batch,
    length, embedding): PyTorch's fused CPU kernel gives the output the query's memory order,
    so that works in eval mode and fails (the math path, dropout) in training."""
    def run(torch):
        F = torch.nn.functional
        torch.manual_seed(0)
        out = []
        base = torch.randn(2, 5, 3, 4, requires_grad=True)
        q, k, v = base.transpose(1, 2), torch.randn(2, 3, 6, 4), torch.randn(2, 3, 6, 4)
        calls = [lambda: F.scaled_dot_product_attention(q, k, v),
                 lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                 lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=torch.randn(5, 6)),
                 lambda: F.scaled_dot_product_attention(q[0], k[0], v[0]),
                 lambda: F.scaled_dot_product_attention(q[:1], k[:1], v[:1]),
                 lambda: F.scaled_dot_product_attention(torch.randn(1, 3, 1, 4).expand(2, 3, 5, 4), k, v)]
        for call in calls:
            o = call()
            out += [o.stride(), o.detach()]
        x = torch.randn(2, 5, 24)
        a, b, c = (t.view(2, -1, 2, 4).transpose(1, 2) for t in x.chunk(3, -1))
        for dropout in (0.0, 0.5):
            y = F.scaled_dot_product_attention(a, b, c, dropout_p=dropout)
            out += [y.stride(), _error(lambda: y.transpose(1, 2).view(2, -1, 8))]
        o = F.scaled_dot_product_attention(q, k, v)
        o.sum().backward()
        backends = torch.nn.attention
        with backends.sdpa_kernel(backends.SDPBackend.MATH):
            inside = F.scaled_dot_product_attention(q, k, v).detach()
        return out + [base.grad, inside, str(backends.SDPBackend.MATH), repr(backends.SDPBackend.FLASH_ATTENTION),
                      _error(lambda: torch.zeros(2, 3).t().view(6))]
    from helpers import check_close_to_pytorch
    check_close_to_pytorch(run)


def test_compiled_attention_with_a_transposed_query_equals_eager():
    import numpy as np
    import tinytape
    from tinytape.autograd import grad

    def step(x, w):
        q, k, v = (t.view(2, -1, 2, 4).transpose(1, 2) for t in (x @ w).chunk(3, -1))
        y = tinytape.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        loss = y.transpose(1, 2).reshape(2, -1, 8).pow(2).sum()
        return (loss.detach(),) + grad(loss, (x, w))
    compiled = tinytape.compile(step, fullgraph=True)
    for seed in range(3):  # the first call traces, the others replay
        rng = np.random.default_rng(seed)
        x = tinytape.tensor(rng.standard_normal((2, 5, 8)).astype(np.float32), requires_grad=True)
        w = tinytape.tensor(rng.standard_normal((8, 24)).astype(np.float32), requires_grad=True)
        for got, want in zip(compiled(x, w), step(x, w)):
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert compiled.traces == 1


def test_shapes_that_do_not_broadcast_fail_in_pytorchs_words():
    def run(torch):
        ones = torch.ones
        calls = [lambda: ones(2, 3) + ones(4), lambda: ones(2, 3) * ones(3, 2), lambda: ones(2, 3).sub_(ones(3, 3)),
                 lambda: torch.where(ones(2, 3) > 0, ones(4), 0.), lambda: torch.where(ones(4) > 0, ones(3), 0.),
                 lambda: torch.where(ones(2, 3) > 0, ones(3), ones(5)), lambda: ones(2, 3) > ones(4),
                 lambda: torch.maximum(ones(2, 3), ones(4)), lambda: ones(2, 3).masked_fill(ones(3, 3) > 0, 1.),
                 lambda: ones(3).masked_fill(ones(4) > 0, 1.), lambda: torch.lerp(ones(3), ones(2), 0.5),
                 lambda: torch.nn.functional.mse_loss(ones(3), ones(4)),
                 lambda: torch.nn.functional.l1_loss(ones(2, 3), ones(4)), lambda: ones(3).add_(ones(2, 3)),
                 lambda: ones(2, device="tpu")]
        return [_error(c) for c in calls]
    # PyTorch's words first; the op and the shapes follow them in tinytape's
    ours, theirs = run(tinytape), pytorch(run)
    assert len(ours) == len(theirs)
    for mine, its in zip(ours, theirs):
        assert mine[0] == its[0] and mine[1].startswith(its[1]), (mine, its)
