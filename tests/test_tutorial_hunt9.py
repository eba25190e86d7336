"""Programs from PyTorch's "Extending PyTorch" notes and the "Double Backward with Custom
Functions" tutorial, run with ``import tinytape as torch``: custom Functions written in the
``setup_context`` style, with ``needs_input_grad``, ``mark_dirty``, ``mark_non_differentiable``,
``set_materialize_grads``, ``@once_differentiable`` and ``vjp``; gradgradcheck's random grad
outputs (PyTorch's stream moves on as they are drawn); the pre-0.4 ``Variable`` and
``Tensor(...)`` of a Bi-LSTM-CRF tutorial and micrograd's checks; the words and line widths
of what they print."""
from helpers import check_against_pytorch, check_close_to_pytorch, error_of as _error


def _double_backward_functions(torch):
    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        def backward(ctx, grad_out):
            x, = ctx.saved_tensors
            return grad_out * 2 * x

    class Sinh(torch.autograd.Function):  # intermediate results returned as outputs, to be differentiable
        @staticmethod
        def forward(ctx, x):
            expx, expnegx = torch.exp(x), torch.exp(-x)
            ctx.save_for_backward(expx, expnegx)
            return (expx - expnegx) / 2, expx, expnegx

        @staticmethod
        def backward(ctx, grad_out, grad_exp, grad_negexp):
            expx, expnegx = ctx.saved_tensors
            grad_input = grad_out * (expx + expnegx) / 2
            grad_input += grad_exp * expx
            grad_input -= grad_negexp * expnegx
            return grad_input

    class Cube(torch.autograd.Function):  # backward through a second custom Function
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_out):
            x, = ctx.saved_tensors
            return CubeBackward.apply(grad_out, x)

    class CubeBackward(torch.autograd.Function):
        @staticmethod
        def forward(ctx, grad_out, x):
            ctx.save_for_backward(x, grad_out)
            return grad_out * 3 * x ** 2

        @staticmethod
        def backward(ctx, grad_out):
            x, saved_grad_out = ctx.saved_tensors
            return grad_out * 3 * x ** 2, grad_out * saved_grad_out * 6 * x
    return Square, Sinh, Cube


def test_double_backward_tutorial_functions_and_gradgradchecks_random_draws():
    def run(torch):
        Square, Sinh, Cube = _double_backward_functions(torch)
        torch.manual_seed(0)
        x = torch.rand(3, 3, requires_grad=True, dtype=torch.double)
        out = [torch.autograd.gradcheck(Square.apply, x), torch.autograd.gradgradcheck(Square.apply, x),
               torch.randn(3)]  # gradgradcheck drew its grad outputs from the default stream
        sinh = lambda t: Sinh.apply(t)[0]  # noqa: E731
        out += [torch.autograd.gradcheck(sinh, x), torch.autograd.gradgradcheck(sinh, x), torch.randn(2)]
        y = sinh(x)
        grad_x, = torch.autograd.grad(y.sum(), x, create_graph=True)
        out += [y, grad_x, torch.autograd.grad(grad_x.sum(), x)[0]]
        c = torch.tensor(2., requires_grad=True, dtype=torch.double)
        out += [torch.autograd.gradcheck(Cube.apply, c), torch.autograd.gradgradcheck(Cube.apply, c)]
        cube = Cube.apply(c)
        grad_c, = torch.autograd.grad(cube, c, create_graph=True)
        out += [cube, grad_c, grad_c.grad_fn.name(), torch.autograd.grad(grad_c, c)[0]]
        v = torch.randn(4, dtype=torch.double, requires_grad=True)
        return out + [torch.autograd.gradgradcheck(lambda t: t.exp() * 2, v, gen_non_contig_grad_outputs=True),
                      torch.rand(2)]
    check_close_to_pytorch(run, rtol=1e-12, atol=1e-12)


def test_setup_context_style_and_needs_input_grad():
    def run(torch):
        needs = []

        class LinearFunction(torch.autograd.Function):
            @staticmethod
            def forward(input, weight, bias):
                output = input.mm(weight.t())
                if bias is not None:
                    output += bias.unsqueeze(0).expand_as(output)
                return output

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(*inputs)

            @staticmethod
            def backward(ctx, grad_output):
                input, weight, bias = ctx.saved_tensors
                needs.append(ctx.needs_input_grad)
                gi = grad_output.mm(weight) if ctx.needs_input_grad[0] else None
                gw = grad_output.t().mm(input) if ctx.needs_input_grad[1] else None
                gb = grad_output.sum(0) if bias is not None and ctx.needs_input_grad[2] else None
                return gi, gw, gb

        class MulConstant(torch.autograd.Function):
            @staticmethod
            def forward(tensor, constant):
                return tensor * constant

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.constant = inputs[1]

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output * ctx.constant, None

        torch.manual_seed(0)
        pair = (torch.randn(5, 4, dtype=torch.double, requires_grad=True),
                torch.randn(3, 4, dtype=torch.double, requires_grad=True))
        checked = torch.autograd.gradcheck(LinearFunction.apply, pair + (None,), eps=1e-6, atol=1e-4)
        x, w, b = torch.randn(4, 3, requires_grad=True), torch.randn(2, 3), torch.randn(2, requires_grad=True)
        y = LinearFunction.apply(x, w, b)
        y.sum().backward()
        z = MulConstant.apply(x, 2.5)
        z.sum().backward()
        with torch.no_grad():
            unrecorded = MulConstant.apply(x, 2.0)
        return [checked, y, type(y.grad_fn).__name__, x.grad, b.grad, needs[-1], z, unrecorded]
    check_close_to_pytorch(run)


def test_mark_dirty_materialize_grads_and_non_differentiable_outputs():
    def run(torch):
        once_differentiable = torch.autograd.function.once_differentiable

        class AddOneInplace(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g

        class SortWithIndex(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                values, index = x.sort()
                ctx.mark_non_differentiable(index)
                ctx.save_for_backward(x, index)
                return values, index

            @staticmethod
            @once_differentiable
            def backward(ctx, grad_values, grad_index):
                x, index = ctx.saved_tensors
                seen.append((grad_index, index.requires_grad))
                return torch.zeros_like(x).index_add_(0, index, grad_values)

        class TwoOutputs(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, materialize):
                ctx.set_materialize_grads(materialize)
                return x.clone(), x.clone()

            @staticmethod
            def backward(ctx, g1, g2):
                seen.append((g1, g2))
                return (g2 * 3 if g1 is None else g1 + g2), None

        class ByVjp(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def vjp(ctx, g):
                return g * 5

        seen = []
        a = torch.ones(3, requires_grad=True)
        b = a.clone()
        c = AddOneInplace.apply(b)
        out = [c is b, c, type(c.grad_fn).__name__, b._version]
        (c * 2).sum().backward()
        out += [a.grad, _error(lambda: AddOneInplace.apply(a))]
        x = torch.tensor([3., 1., 2.], requires_grad=True)
        values, index = SortWithIndex.apply(x)
        out += [values, index, index.grad_fn is None]
        (values * torch.tensor([1., 10., 100.])).sum().backward()
        out += [x.grad]
        for materialize in (False, True):
            y = torch.ones(2, requires_grad=True)
            TwoOutputs.apply(y, materialize)[1].sum().backward()
            out += [y.grad]
        y = torch.ones(2, requires_grad=True)
        ByVjp.apply(y).sum().backward()
        return out + [y.grad, seen]
    check_against_pytorch(run)


def test_once_differentiable_refuses_a_second_derivative():
    def run(torch):
        once_differentiable = torch.autograd.function.once_differentiable

        class Square(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 2

            @staticmethod
            @once_differentiable
            def backward(ctx, g):
                x, = ctx.saved_tensors
                seen.append((torch.is_grad_enabled(), g.requires_grad))
                return 2 * x * g

        seen = []
        x = torch.tensor([1., 2.], requires_grad=True)
        g, = torch.autograd.grad(Square.apply(x), x, torch.ones(2, requires_grad=True), create_graph=True)
        plain, = torch.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
        return [g, g.grad_fn.name(), _error(lambda: g.sum().backward()), plain, plain.requires_grad, seen]
    check_against_pytorch(run)


def test_custom_function_errors_in_pytorchs_words():
    def run(torch):
        class TooFew(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x * y

            @staticmethod
            def backward(ctx, g):
                return g

        class WrongShape(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g[:1]

        class NoBackward(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

        leaf = torch.ones(2, requires_grad=True)
        return [_error(lambda: TooFew.apply(leaf, torch.ones(2)).sum().backward()),
                _error(lambda: WrongShape.apply(leaf).sum().backward()),
                _error(lambda: NoBackward.apply(leaf).sum().backward()),
                _error(lambda: (leaf * 2).backward())]
    check_against_pytorch(run)


def test_variable_is_a_new_leaf_sharing_memory():
    def run(torch):
        Variable = torch.autograd.Variable
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        v = Variable(y)
        w = Variable(x)
        w.add_(1)
        r = Variable(torch.ones(2), requires_grad=True)
        return [v.grad_fn is None, v.requires_grad, w.requires_grad, x, w.is_leaf, r, r.is_leaf,
                isinstance(r, Variable), _error(lambda: Variable([1, 2]))]
    check_against_pytorch(run)


def test_legacy_tensor_constructor_refusals():
    def run(torch):
        return [_error(lambda: torch.Tensor(1.5)), _error(lambda: torch.Tensor("a")),
                _error(lambda: torch.Tensor(None)), _error(lambda: torch.Tensor([1, 2], dtype=torch.float64)),
                torch.Tensor(torch.ones(2, dtype=torch.int64)),
                torch.Tensor((1, 2.5)), torch.Tensor([True, False]), torch.Tensor(2, 3).shape]
    check_against_pytorch(run)


def test_reprs_wrap_where_pytorchs_do():
    """A float64 tensor with a grad_fn: ``dtype=torch.float64`` is measured as PyTorch prints it."""
    def run(torch):
        torch.manual_seed(0)
        x = torch.rand(3, 3, dtype=torch.double, requires_grad=True)
        y = torch.rand(2, 7, dtype=torch.double, requires_grad=True)
        return [repr(x * 2), repr(x.sinh()), repr(y - 1), repr((y * 1e5).exp()), repr(x.half().float() + 1),
                repr(torch.Generator()).split(" at ")[0]]
    check_against_pytorch(run)
