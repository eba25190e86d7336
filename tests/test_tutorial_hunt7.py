"""Whole learner programs run as written with ``import tinytape as torch``, trimmed to what
once printed something other than PyTorch: makemore part 2's broadcasting mistake (an index
of 32 rows against one of all the examples) and the other indexing errors' words; d2l's
"lookup-api" page, which prints ``dir(torch.distributions)``."""
from helpers import check_against_pytorch
from pytorch_answers import pytorch


def _error(call):
    try:
        call()
    except Exception as e:  # the type and PyTorch's words, as a learner's notebook shows them
        return type(e).__name__, str(e)
    return None


def test_makemore_mlp_index_shape_mismatch_says_what_pytorch_says():
    def run(torch):
        g = torch.Generator().manual_seed(2147483647)
        Y = torch.randint(0, 27, (228,), generator=g)
        prob = torch.rand(32, 27, generator=g)
        return _error(lambda: -prob[torch.arange(32), Y].log().mean())
    check_against_pytorch(run)


def test_indexing_errors_say_what_pytorch_says():
    def run(torch):
        x = torch.zeros(2, 3, 4)
        m = lambda *s: torch.ones(*s, dtype=torch.bool)  # noqa: E731
        getters = [(torch.tensor([0, 1]), torch.tensor([0, 1, 2])), ([0, 1], [1, 2, 3]),
                   (torch.tensor([[0, 1]]), torch.tensor([0, 1, 2])), 5, (slice(None), 7), (1, 2, 3, 4),
                   (slice(None), m(2, 3)), m(3, 3), m(2, 5), (0, m(5)), (Ellipsis, m(5)), (None, m(2), m(5)),
                   (m(2), slice(None), m(3)), (torch.tensor([0, 3]), 1), (1, torch.tensor([-5]))]
        y = torch.zeros(3, 4)
        setters = [(0, torch.ones(5)), ((torch.tensor([0, 1]),), torch.ones(3, 4)), (m(3), torch.ones(2, 4)),
                   ((slice(None), 1), torch.ones(4))]
        return ([_error(lambda: x[i]) for i in getters]
                + [_error(lambda: y.__setitem__(i, v)) for i, v in setters])
    check_against_pytorch(run)


def _public_names(torch):
    return [name for name in dir(torch.distributions) if not name.startswith("__")]


def test_d2l_lookup_api_lists_only_pytorchs_distribution_names():
    """Every name ``dir(torch.distributions)`` shows is one PyTorch's shows (no module the
    classes are written in, no class PyTorch keeps in a submodule only)."""
    import tinytape
    theirs = pytorch(_public_names)
    assert set(_public_names(tinytape)) <= set(theirs)
    assert {"Normal", "Categorical", "Multinomial", "relaxed_categorical", "kl_divergence"} <= set(theirs)
    from tinytape.distributions.relaxed_categorical import ExpRelaxedCategorical
    from tinytape.distributions.relaxed_bernoulli import LogitRelaxedBernoulli
    assert ExpRelaxedCategorical.__name__ == "ExpRelaxedCategorical"
    assert LogitRelaxedBernoulli.__name__ == "LogitRelaxedBernoulli"


def test_distributions_all_is_pytorchs_or_a_part_of_it():
    import tinytape
    theirs = pytorch(lambda torch: sorted(torch.distributions.__all__))
    assert set(tinytape.distributions.__all__) <= set(theirs)


def _outcome(call):
    try:
        result = call()
    except Exception as e:
        return type(e).__name__, str(e)
    return type(result).__name__, repr(result)


def test_shape_slices_and_concatenations_print_as_pytorchs_sizes():
    """``print(X.shape[1:])`` and ``batch_shape + event_shape`` (d2l, the distributions'
    transforms) print ``torch.Size([...])``, not a tuple."""
    def run(torch):
        S, x = torch.Size, torch.zeros(2, 3, 4)
        calls = [lambda: x.shape[1:], lambda: x.shape[-2:], lambda: x.shape[0], lambda: x.shape[::-1],
                 lambda: (5,) + x.shape, lambda: x.shape + (5,), lambda: S([1]) + S([]), lambda: 2 * S([6]),
                 lambda: S([6]) * 0, lambda: S([2]) + (1.5,), lambda: ("a",) + S([2]), lambda: S([2]) + [3],
                 lambda: S([2]) * 1.5]
        return [_outcome(c) for c in calls]
    check_against_pytorch(run)


def test_reshape_and_cdf_transforms_as_pytorchs():
    def run(torch):
        T = torch.distributions.transforms
        torch.manual_seed(0)
        r = T.ReshapeTransform((2, 3), (6,))
        x = torch.randn(4, 2, 3, requires_grad=True)
        y = r(x)
        out = [y, r.inv(y), r.log_abs_det_jacobian(x, y), r.forward_shape((5, 2, 3)), r.inverse_shape((7, 6)),
               r.domain.event_dim, r.codomain.event_dim]
        out += [_outcome(c) for c in (lambda: T.ReshapeTransform((2, 3), (5,)), lambda: r.forward_shape((3,)),
                                      lambda: r.forward_shape((2, 4)))]
        c = T.CumulativeDistributionTransform(torch.distributions.Normal(torch.tensor(1.0), torch.tensor(2.0)))
        z = torch.randn(5)
        u = c(z)
        out += [u, c.inv(u), c.log_abs_det_jacobian(z, u), c.sign, str(c.codomain), str(c.domain)]
        base = torch.distributions.Independent(torch.distributions.Normal(torch.zeros(6), torch.ones(6)), 1)
        td = torch.distributions.TransformedDistribution(base, [torch.distributions.ReshapeTransform((6,), (2, 3))])
        s = td.sample((2,))
        (y * y).sum().backward()
        return out + [s, td.log_prob(s), td.event_shape, td.batch_shape, x.grad]
    check_against_pytorch(run)


def test_cat_and_stack_transforms_and_constraints_as_pytorchs():
    def run(torch):
        T, C = torch.distributions.transforms, torch.distributions.constraints
        torch.manual_seed(0)
        x = torch.randn(3, 4, requires_grad=True)
        cat = T.CatTransform([T.ExpTransform(), T.AffineTransform(1.0, 2.0), T.SigmoidTransform()], dim=1,
                             lengths=[1, 2, 1])
        y = cat(x)
        stack = T.StackTransform([T.ExpTransform(), T.TanhTransform(), T.AffineTransform(0.5, 3.0)], dim=0)
        z = stack(x)
        both = y.sum() + z.sum()
        both.backward()
        free = T.CatTransform([T.ExpTransform(), T.ExpTransform()], dim=-1, lengths=[2, 2], cache_size=1)
        w = free(x)
        probe = torch.tensor([[0.5, -1.0, 2.0, 0.3], [-0.5, 1.0, 0.0, 1.5]])
        cat_c = C.cat([C.positive, C.real, C.unit_interval], 1, [1, 2, 1])
        stack_c = C.stack([C.positive, C.unit_interval], 0)
        return [y, cat.inv(y), cat.log_abs_det_jacobian(x, y), z, stack.inv(z), stack.log_abs_det_jacobian(x, z),
                x.grad, w, free.inv(w), free.log_abs_det_jacobian(x, w), cat.bijective, stack.bijective,
                cat.event_dim, str(cat.domain), str(stack.codomain), cat_c.check(probe), stack_c.check(probe),
                cat_c.event_dim, stack_c.event_dim, cat_c.is_discrete]
    check_against_pytorch(run)
