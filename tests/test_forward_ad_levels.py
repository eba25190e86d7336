"""Forward-AD levels against PyTorch's answers: one level at a time (a nested ``dual_level``,
and ``func.jvp``/``jacfwd`` inside one, refuse), the ``level=`` of ``make_dual``/``unpack_dual``/
``exit_dual_level`` and their errors, and ``dual_level`` as a decorator."""
from helpers import check_against_pytorch, check_close_to_pytorch, outcome_of


def test_a_second_level_inside_the_first_refuses_and_the_first_stays_open():
    def run(torch):
        fwAD = torch.autograd.forward_ad
        out = []
        with fwAD.dual_level() as level:
            out.append(level)
            out.append(outcome_of(lambda: fwAD.dual_level().__enter__()))
            out.append(outcome_of(fwAD.enter_dual_level))
            x = fwAD.make_dual(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.5]))
            y = x.sin()
            out += [fwAD.unpack_dual(y).tangent, fwAD.unpack_dual(y, level=0).tangent]
        out.append(fwAD.unpack_dual(y).tangent)
        with fwAD.dual_level() as again:
            out.append(again)
        return out
    check_close_to_pytorch(run)  # (cos rounds apart in the last bit)


def test_levels_given_to_make_dual_and_unpack_dual():
    def run(torch):
        fwAD = torch.autograd.forward_ad
        out = [outcome_of(lambda: fwAD.make_dual(torch.ones(2), torch.ones(2), level=0)),
               outcome_of(lambda: fwAD.make_dual(torch.ones(2), torch.ones(2))),
               fwAD.unpack_dual(torch.ones(2), level=0).tangent]
        with fwAD.dual_level():
            x = fwAD.make_dual(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]))
            out += [outcome_of(lambda: fwAD.make_dual(torch.ones(2), torch.ones(2), level=1)),
                    outcome_of(lambda: fwAD.make_dual(torch.ones(2), torch.ones(2), level=5)),
                    outcome_of(lambda: fwAD.make_dual(x, torch.ones(2))),
                    outcome_of(lambda: fwAD.make_dual(x[0], torch.tensor(1.0))),
                    outcome_of(lambda: fwAD.unpack_dual(x, level=1)),
                    fwAD.unpack_dual(torch.ones(2), level=3).tangent,
                    fwAD.unpack_dual(x, level=-1).tangent,
                    fwAD.unpack_dual(x, level=0).tangent]
        return out
    check_against_pytorch(run)


def test_exiting_levels():
    def run(torch):
        fwAD = torch.autograd.forward_ad
        out = [outcome_of(lambda: fwAD.exit_dual_level(level=-1)),
               outcome_of(lambda: fwAD.exit_dual_level(level=0)),
               outcome_of(fwAD.exit_dual_level),
               fwAD.enter_dual_level()]
        x = fwAD.make_dual(torch.ones(2), torch.full((2,), 2.0))
        out += [outcome_of(lambda: fwAD.exit_dual_level(level=1)),
                fwAD.unpack_dual(x * x).tangent,
                fwAD.exit_dual_level(level=0),
                fwAD.unpack_dual(x).tangent,
                outcome_of(lambda: fwAD.make_dual(torch.ones(2), torch.ones(2)))]
        return out
    check_against_pytorch(run)


def test_dual_level_as_a_decorator_and_leaving_on_an_error():
    def run(torch):
        fwAD = torch.autograd.forward_ad

        @fwAD.dual_level()
        def tangent_of_square(x, t):
            return fwAD.unpack_dual(fwAD.make_dual(x, t) ** 2).tangent

        out = [tangent_of_square(torch.tensor([1.0, 3.0]), torch.tensor([1.0, 2.0])),
               tangent_of_square(torch.tensor([2.0]), torch.tensor([1.0]))]

        def fail_inside():
            with fwAD.dual_level():
                raise ValueError("inside")
        out += [outcome_of(fail_inside), outcome_of(lambda: fwAD.make_dual(torch.ones(1), torch.ones(1)))]
        return out
    check_against_pytorch(run)


def test_forward_mode_transforms_inside_a_level_refuse():
    def run(torch):
        fwAD = torch.autograd.forward_ad
        x = torch.tensor([1.0, 2.0])
        with fwAD.dual_level():
            out = [outcome_of(lambda: torch.func.jvp(torch.sin, (x,), (torch.ones(2),))),
                   outcome_of(lambda: torch.func.jacfwd(torch.sin)(x)),
                   outcome_of(lambda: torch.func.hessian(torch.sin)(torch.tensor(1.0))),
                   torch.func.jacrev(torch.sin)(x),
                   torch.autograd.functional.jvp(torch.sin, x, torch.ones(2))]
        out.append(torch.func.jvp(torch.sin, (x,), (torch.ones(2),)))
        return out
    check_close_to_pytorch(run)  # (cos rounds apart in the last bit)


def test_a_compiled_step_with_a_level_equals_eager():
    import numpy as np
    import tinytape
    fwAD = tinytape.autograd.forward_ad

    def step(x):
        with fwAD.dual_level():
            dual = fwAD.make_dual(x, tinytape.ones_like(x))
            return fwAD.unpack_dual((dual.sin() * dual).sum()).tangent
    compiled = tinytape.compile(step)
    x = tinytape.linspace(-1.0, 2.0, 7)
    for _ in range(3):
        assert np.array_equal(compiled(x).numpy(), step(x).numpy())
    assert tinytape.autograd.forward_ad.enter_dual_level() == 0  # (the level a step opened is closed again)
    tinytape.autograd.forward_ad.exit_dual_level()
