"""``torch.func`` against PyTorch's: per-sample gradients (``vmap`` over ``grad`` of a
``functional_call``, the tutorial's program), model ensembling (``stack_module_state``),
Jacobians and Hessians (``jacrev``, ``jacfwd``, ``hessian``), ``vjp``/``jvp``,
``grad_and_value`` with ``argnums`` and ``has_aux``, ``vmap``'s ``in_dims``/``out_dims``,
whether a transform's result carries a graph, and the errors of a mismatched batch."""
from helpers import check_close_to_pytorch


def check(run):  # values to float32 rounding (a gradient sums its terms in another order than
    # PyTorch's batched kernels); whether a result carries a graph, not its entries' names
    check_close_to_pytorch(run, rtol=1e-5, atol=1e-6, grad_fn=False, requires_grad=True)


def test_per_sample_gradients_are_the_gradients_of_each_example_alone():
    def run(torch):
        nn, F = torch.nn, torch.nn.functional
        from importlib import import_module
        func = import_module(f"{torch.__name__}.func")
        torch.manual_seed(0)

        class SimpleCNN(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 4, 3, 1)
                self.fc1 = nn.Linear(64, 10)

            def forward(self, x):
                x = F.max_pool2d(F.relu(self.conv1(x)), 2)
                return F.log_softmax(self.fc1(torch.flatten(x, 1)), dim=1)

        model = SimpleCNN()
        data, targets = torch.randn(8, 1, 10, 10), torch.randint(10, (8,))
        params = {k: v.detach() for k, v in model.named_parameters()}
        buffers = {k: v.detach() for k, v in model.named_buffers()}

        def compute_loss(params, buffers, sample, target):
            predictions = func.functional_call(model, (params, buffers), (sample.unsqueeze(0),))
            return F.nll_loss(predictions, target.unsqueeze(0))

        per_sample = func.vmap(func.grad(compute_loss), in_dims=(None, None, 0, 0))(params, buffers, data, targets)
        model.zero_grad()
        F.nll_loss(model(data[3:4]), targets[3:4]).backward()
        alone = [p.grad for p in model.parameters()]
        return per_sample, [bool(torch.allclose(g[3], a, atol=1e-6)) for g, a in zip(per_sample.values(), alone)], \
            [p.requires_grad for p in model.parameters()]
    check(run)


def test_an_ensemble_runs_as_one_vmap_over_stacked_module_state():
    def run(torch):
        from importlib import import_module
        func = import_module(f"{torch.__name__}.func")
        torch.manual_seed(0)
        models = [torch.nn.Linear(5, 3) for _ in range(4)]
        params, buffers = func.stack_module_state(models)
        x = torch.randn(6, 5)
        out = func.vmap(lambda p, b, x: func.functional_call(models[0], (p, b), (x,)), in_dims=(0, 0, None))(
            params, buffers, x)
        return params, out, bool(torch.allclose(out[2], models[2](x))), models[0](x)
    check(run)


def test_jacobians_hessians_and_products():
    def run(torch):
        from importlib import import_module
        func, F = import_module(f"{torch.__name__}.func"), torch.nn.functional
        torch.manual_seed(0)

        def predict(weight, bias, x):
            return F.linear(x, weight, bias).tanh()
        weight, bias, x = torch.randn(4, 4), torch.randn(4), torch.randn(4)
        z = torch.tensor([0.5, 1.0, 2.0])
        return [func.jacrev(predict, argnums=2)(weight, bias, x), func.jacfwd(predict, argnums=2)(weight, bias, x),
                func.jacrev(predict, argnums=(0, 1))(weight, bias, x),
                func.vmap(func.jacrev(predict, argnums=2), in_dims=(None, None, 0))(weight, bias, torch.randn(3, 4)),
                func.hessian(lambda z: (z.sin() * z).sum())(z).abs(),  # (signs of its zeros: forward mode's)
                func.grad(func.grad(lambda z: z.sin()))(torch.tensor(1.0)),
                func.grad_and_value(lambda z, w: (z * w).pow(2).sum(), argnums=(0, 1))(z[:2], z[1:]),
                func.grad(lambda z: ((z ** 2).sum(), z.mean()), has_aux=True)(z),
                func.vjp(torch.sin, z)[0], func.vjp(torch.sin, z)[1](torch.ones(3)),
                func.jvp(torch.sin, (z,), (torch.ones(3),)), func.jvp(lambda a, b: a * b, (z, z), (z, torch.ones(3)))]
    check(run)


def test_vmap_dims_outputs_graphs_and_errors():
    def run(torch):
        from importlib import import_module
        func = import_module(f"{torch.__name__}.func")
        torch.manual_seed(0)
        x = torch.tensor([1., 2.], requires_grad=True)
        g = func.grad(lambda z: (z ** 3).sum())(x)  # the caller's graph: the gradient keeps it
        g.sum().backward()
        out = [func.vmap(torch.mul, in_dims=(0, None))(torch.arange(6.).view(3, 2), torch.tensor(2.)),
               func.vmap(lambda a: a.sum(0), in_dims=1, out_dims=1)(torch.arange(24.).view(2, 3, 4)),
               func.vmap(lambda a, b: (a + b, a * b))(torch.ones(3, 2), torch.arange(6.).view(3, 2)),
               torch.vmap(torch.trace)(torch.arange(27.).view(3, 3, 3)),
               func.vmap(lambda d: d["a"] * d["b"])({"a": torch.ones(2, 3), "b": torch.arange(6.).view(2, 3)}),
               g, x.grad, func.grad(lambda z: (z ** 3).sum())(torch.tensor([1., 2.])).requires_grad]
        for bad in (lambda: func.vmap(torch.add)(torch.ones(3), torch.ones(4)),
                    lambda: func.grad(lambda z: z * 2)(torch.ones(2))):
            try:
                bad()
            except (ValueError, RuntimeError) as e:
                out.append(f"{type(e).__name__}: {str(e).splitlines()[0]}")
        return out
    check(run)
