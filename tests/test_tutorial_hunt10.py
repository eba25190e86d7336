"""Programs from PyTorch's "Forward-mode Automatic Differentiation", "Hooks for autograd
saved tensors" and module-hook tutorials, run with ``import tinytape as torch``: dual
tensors through ops, modules, ``functional_call`` and a custom Function's ``jvp``;
``saved_tensors_hooks`` packing what ops save; forward hooks that take keyword arguments."""
from helpers import check_against_pytorch, check_close_to_pytorch, error_of as _error


def test_forward_ad_tutorial():
    def run(torch):
        fwAD = torch.autograd.forward_ad
        torch.manual_seed(0)
        primal, tangent = torch.randn(4, 4), torch.randn(4, 4)
        with fwAD.dual_level():
            dual_input = fwAD.make_dual(primal, tangent)
            same = fwAD.unpack_dual(dual_input).tangent is tangent
            copied = fwAD.unpack_dual(fwAD.make_dual(primal, tangent.T)).tangent is not tangent
            dual_output = dual_input ** 2 + torch.randn(4, 4) ** 2
            jvp = fwAD.unpack_dual(dual_output).tangent
        out = [same, copied, jvp, fwAD.unpack_dual(dual_output).tangent]
        model = torch.nn.Linear(5, 5)
        input = torch.randn(6, 5)
        params = dict(model.named_parameters())
        tangents = {name: torch.rand_like(p) for name, p in params.items()}
        with fwAD.dual_level():
            for name, p in params.items():
                delattr(model, name)
                setattr(model, name, fwAD.make_dual(p, tangents[name]))
            jvp = fwAD.unpack_dual(model(input)).tangent
        with fwAD.dual_level():
            duals = {name: fwAD.make_dual(p, tangents[name]) for name, p in params.items()}
            jvp2 = fwAD.unpack_dual(torch.func.functional_call(torch.nn.Linear(5, 5), duals, input)).tangent
        return out + [jvp.detach(), jvp2.detach()]
    check_close_to_pytorch(run)


def test_forward_ad_through_ops_and_a_custom_jvp():
    def run(torch):
        fwAD = torch.autograd.forward_ad

        class Exp(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.result = torch.exp(x)
                return ctx.result

            @staticmethod
            def jvp(ctx, grad_input):
                return grad_input * ctx.result

        class NoJvp(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g

        torch.manual_seed(0)
        ops = [lambda v: v.exp(), lambda v: v.softmax(0), lambda v: v.sum(), lambda v: v @ torch.ones(3),
               lambda v: v[1:], lambda v: v.view(3, 1).expand(3, 2), lambda v: torch.tanh(v).mean(),
               lambda v: v.max(), lambda v: torch.cat([v, v]), lambda v: v / (v + 1),
               lambda v: torch.nn.functional.relu(v - 1.5), lambda v: v.log_softmax(0)[0], lambda v: (v * v).sqrt(),
               lambda v: torch.where(v > 1.5, v, -v), lambda v: v.pow(3).cumsum(0), lambda v: Exp.apply(v),
               lambda v: torch.nn.functional.gelu(v), lambda v: v.sort()[0], lambda v: v.norm()]
        net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
        with fwAD.dual_level() as level:
            z = fwAD.make_dual(torch.tensor([1., 2., 3.]), torch.tensor([1., -2., 0.5]))
            out = [level] + [fwAD.unpack_dual(f(z)).tangent for f in ops]
            out += [fwAD.unpack_dual(net(z.view(1, 3))).tangent.detach(), fwAD.unpack_dual(z.max(0)[1]).tangent,
                    _error(lambda: NoJvp.apply(z)), _error(lambda: fwAD.make_dual(torch.ones(3), torch.ones(2))),
                    _error(lambda: fwAD.make_dual(torch.ones(3, dtype=torch.long), torch.ones(3)))]
            p = torch.randn(3, requires_grad=True)
            d = fwAD.make_dual(p, torch.ones(3))
            unpacked = fwAD.unpack_dual(d)
            out += [type(d.grad_fn).__name__, d._base is p, type(unpacked).__name__, unpacked.primal.detach(),
                    repr(unpacked.primal),
                    repr(fwAD.make_dual(torch.tensor([1., 2.]), torch.tensor([0.5, 0.25])))]
        x = torch.randn(3, dtype=torch.double, requires_grad=True)
        return out + [_error(lambda: fwAD.make_dual(p, p)), fwAD.unpack_dual(z).tangent,
                      torch.autograd.gradcheck(Exp.apply, (x,), check_forward_ad=True, check_backward_ad=False,
                                               check_undefined_grad=False, check_batched_grad=False),
                      torch.autograd.gradcheck(lambda t: t.sin() * t, (x,), check_forward_ad=True)]
    check_close_to_pytorch(run)


def test_saved_tensors_hooks_pack_what_ops_save_and_unpack_it_for_backward():
    def run(torch):
        torch.manual_seed(0)
        x = torch.randn(3, 4, requires_grad=True)
        ops = {"mul": lambda: x * x, "add": lambda: x + 1, "sin": lambda: x.sin(), "exp": lambda: x.exp(),
               "tanh": lambda: x.tanh(), "relu": lambda: x.relu(), "pow": lambda: x.pow(3), "sum": lambda: x.sum(),
               "view": lambda: x.view(12), "sqrt": lambda: (x * x).sqrt(), "cat": lambda: torch.cat([x, x]),
               "by a number": lambda: x * 2, "over a number": lambda: x / 3, "number over": lambda: 2 / x,
               "plus a number": lambda: x.add(1.5, alpha=2), "to a power": lambda: x ** 2.5}
        packed = {}
        for name, fn in ops.items():
            shapes = packed.setdefault(name, [])
            with torch.autograd.graph.saved_tensors_hooks(lambda t: shapes.append(tuple(t.shape)) or t, lambda t: t):
                fn()
        storage = []

        def pack(t):  # what a pack hook computes is not packed itself
            storage.append(t * t / t)
            return len(storage) - 1
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda i: storage[i]):
            y = (x.pow(2) * x.sin()).sum()
        y.backward()
        grad = x.grad.clone()
        with torch.autograd.graph.saved_tensors_hooks(lambda t: t * 0, lambda t: t):  # what backward reads is packed
            z = x.exp()
        x.grad = None
        z.sum().backward()
        zeroed = x.grad.clone()
        with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: 1):
            bad = x.exp()
        with torch.autograd.graph.save_on_cpu():
            w = (x * x).sum()
        x.grad = None
        w.backward()
        y = x.pow(2)
        return [packed, len(storage), grad, zeroed, _error(lambda: bad.sum().backward()),
                x.grad, y.grad_fn._saved_self is x, x.exp().grad_fn._saved_result.equal(x.exp())]
    check_against_pytorch(run)


def test_forward_hooks_with_keyword_arguments_and_prepended():
    def run(torch):
        class Scale(torch.nn.Module):
            def forward(self, x, factor=1.0):
                return x * factor

        log = []
        m = torch.nn.Linear(2, 2)
        s = Scale()
        handles = [
            m.register_forward_hook(lambda mod, args, out: log.append("after")),
            m.register_forward_hook(lambda mod, args, out: log.append("first"), prepend=True),
            m.register_forward_pre_hook(lambda mod, args: log.append("pre")),
            s.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": kwargs["factor"] * 10}),
                                        with_kwargs=True),
            s.register_forward_hook(lambda mod, args, kwargs, out: log.append(sorted(kwargs)) or out + 1,
                                    with_kwargs=True),
        ]
        m(torch.ones(1, 2))
        y = s(torch.ones(2), factor=2.0)
        refused = _error(lambda: Scale().register_forward_pre_hook(lambda mod, a, k: 5, with_kwargs=True) and
                         None)
        bad = Scale()
        bad.register_forward_pre_hook(lambda mod, a, k: 5, with_kwargs=True)
        for h in handles:
            h.remove()
        return [log, y, refused, _error(lambda: bad(torch.ones(1))), len(m._forward_hooks), len(s._forward_pre_hooks),
                s(torch.ones(2), factor=2.0)]
    check_against_pytorch(run)
