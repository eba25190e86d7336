"""Programs after PyTorch's "Autograd mechanics" notes and its DQN, NTK and hooks tutorials,
run with ``import tinytape as torch``: hooks on graph nodes (``grad_fn.register_hook`` and
``register_prehook``), the errors of in-place use and of gradients asked of what does not
need them, in PyTorch's words."""
from helpers import check_against_pytorch


def _error(call):
    try:
        call()
    except Exception as e:  # noqa: BLE001 - the type and the words are the answer
        return type(e).__name__, str(e)
    return None


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
