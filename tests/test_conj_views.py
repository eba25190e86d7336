"""Conjugate and negative views against PyTorch's answers: ``x.conj()`` is a view of ``x`` with
``is_conj()`` (``_base``, ``data_ptr``, the version counter shared), reads and writes through
either side seen by the other, ``resolve_conj``/``conj_physical``, ``.real``/``.imag`` of it
(the imaginary part ``is_neg()``), ``_neg_view``/``is_neg``/``resolve_neg``, the refusals
(``numpy()``, ``view_as_real``), grad_fn names, gradients through writes into them, and
compiled steps, which run them eagerly."""
import warnings

import numpy as np
import pytest

import tinytape
from helpers import check_against_pytorch, check_close_to_pytorch, outcome_of


def _text(value):
    return str(value).replace("tinytape", "torch")


def test_a_conjugate_view_and_its_bit():
    def run(torch):
        z = torch.tensor([1 + 2j, 3 - 4j])
        c = z.conj()
        out = [c, c.is_conj(), z.is_conj(), c._base is z, c._is_view(), c.data_ptr() == z.data_ptr(),
               c.resolve_conj(), c.resolve_conj().is_conj(), z.conj_physical(), z.conj_physical().is_conj(),
               c.conj(), c.conj().is_conj(), c.conj()._base is z, c.clone().is_conj(), c.contiguous().is_conj(),
               (c + 0).is_conj(), c.to(torch.complex128).is_conj(), c.detach().is_conj(), c[0].is_conj(),
               torch.is_conj(torch.conj(z)), torch.ones(2).conj().is_conj(), _text(c), c.real, c.imag,
               c.real.is_neg(), c.imag.is_neg(), c.is_neg()]
        out += [outcome_of(c.numpy), outcome_of(lambda: np.asarray(c)), outcome_of(lambda: torch.view_as_real(c)),
                torch.view_as_real(c.resolve_conj())]
        return out
    check_against_pytorch(run)


def test_writes_through_either_side_are_seen_by_the_other():
    def run(torch):
        x = torch.tensor([[1 + 2j, 3 - 4j], [5 + 6j, -7j]])
        c = x.conj()
        out = []
        x[1, 0] = 7 + 7j
        out += [c.clone(), c._version]
        c.add_(1)
        out += [x.clone(), c._version, x._version]
        c[0, 1] = 9 + 9j
        c.t()[1].fill_(2j)
        out += [x.clone(), c.clone()]
        c.imag.mul_(2)
        out.append(x.clone())
        c.real = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        out.append(x.clone())
        x.zero_()
        out += [c.clone(), (c @ torch.ones(2, 2, dtype=torch.complex64)).is_conj()]
        return out
    check_against_pytorch(run)


def test_negative_views():
    def run(torch):
        t = torch.tensor([1.0, -2.0, 3.0])
        n = t._neg_view()
        out = [n, n.is_neg(), t.is_neg(), n._base is t, n.resolve_neg(), n.resolve_neg().is_neg(), n + 1,
               n._neg_view().is_neg(), outcome_of(n.numpy), torch.tensor([1, 2])._neg_view().is_neg()]
        n.add_(10)
        out += [t.clone(), n.clone()]
        t.mul_(2)
        out.append(n.clone())
        z = torch.tensor([1 + 2j])
        out += [z._neg_view(), z._neg_view().imag.is_neg(), z._neg_view().real.is_neg(),
                z._neg_view().conj().is_neg(), z._neg_view().conj().is_conj()]
        return out
    check_against_pytorch(run)


def test_grad_fn_names_and_gradients():
    def run(torch):
        a = torch.tensor([1 + 1j, 2 - 3j], requires_grad=True)
        c = a.conj()
        out = [_text(c.grad_fn.__class__.__name__), _text(a.conj_physical().grad_fn.__class__.__name__),
               c.resolve_conj().grad_fn.__class__.__name__, a._neg_view().grad_fn.__class__.__name__,
               a._neg_view().resolve_neg().grad_fn.__class__.__name__, c.imag.grad_fn.__class__.__name__,
               c.real.grad_fn.__class__.__name__, c.conj().grad_fn.__class__.__name__]
        weights = torch.tensor([1 + 2j, 3j])
        g, = torch.autograd.grad((c * weights).real.sum() + c.imag.sum(), a)
        out += [g, g.is_conj()]
        a.grad = None
        a.conj().abs().sum().backward()
        out += [a.grad.resolve_conj(), a.grad.is_conj()]
        return out
    check_close_to_pytorch(run)


def test_gradients_through_a_recorded_write_into_a_view():
    def run(torch):
        a = torch.tensor([[1 + 1j, 2 - 3j], [0.5j, -1 + 0j]], requires_grad=True)
        y = a * 1
        c = y.conj()
        c.mul_(torch.tensor([[2 + 1j, 1j], [1, 3]]))
        out = [y.grad_fn.__class__.__name__, c.grad_fn.__class__.__name__, y, c]
        ((y * torch.tensor([[1 + 2j, 3j], [1, 1 - 1j]])).real.sum() + c.imag.sum()).backward()
        b = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
        v = b * 1
        n = v._neg_view()
        n.add_(torch.tensor([1.0, 2.0, 3.0]))
        (v * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
        return out + [a.grad, b.grad, v, n, n.grad_fn.__class__.__name__]
    check_close_to_pytorch(run)  # (a gradient's zero imaginary parts differ in sign from PyTorch's)


def test_a_write_through_a_view_of_a_conjugate_view_is_refused_when_recorded():
    a = tinytape.tensor([1 + 1j, 2 - 3j], requires_grad=True)
    c = (a * 1).conj()
    with pytest.raises(RuntimeError, match=r"mul_: a write recorded by autograd through a view of a conjugate"):
        c[0].mul_(2)
    with tinytape.no_grad():
        c[0].mul_(2)
    assert c._base.tolist() == [2 + 2j, 2 - 3j]


def test_compiled_steps_with_conjugate_and_negative_views_run_eagerly():
    def write(n):
        n.add_(1)
        return n * 2

    def make(x):
        return x._neg_view() + x * 3

    def run(compiled):
        x = tinytape.tensor([1.0, -2.0])
        n = x._neg_view()
        step, other = (tinytape.compile(write), tinytape.compile(make)) if compiled else (write, make)
        return [step(n).tolist() for _ in range(3)] + [other(x).tolist() for _ in range(2)] + [x.tolist()]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = run(True)
    assert sum("eagerly" in str(w.message) for w in caught) >= 2
    assert compiled == run(False)


@pytest.mark.gpu
def test_a_negative_view_of_a_device_tensor_is_refused_by_name():
    with pytest.raises(RuntimeError, match=r"_neg_view: negative views are CPU tensors .* on cuda"):
        tinytape.ones(2, device="cuda")._neg_view()


def test_views_of_strided_memory_chains_and_aliases():
    def run(torch):
        base = torch.tensor([[1 + 1j, 2 + 2j], [3 + 3j, 4 + 4j]])
        x = base[:, 0]
        c = x.conj()
        c.add_(1)
        out = [base.clone()]
        base[1, 1] = 0j
        base[0, 0] = 5j
        out.append(c.clone())
        negated = x.conj()._neg_view()
        negated.mul_(2)
        out += [base.clone(), c.clone(), negated.clone(), negated.is_neg(), negated.is_conj(),
                negated.conj().is_conj(), negated.conj().is_neg(), c.data.is_conj(), c.detach().is_conj()]
        c.data.add_(1)
        out.append(base.clone())
        c.detach().mul_(1j)
        return out + [base, c]
    check_against_pytorch(run)
