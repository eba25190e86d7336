"""More tutorial programs against PyTorch's answers: fills whose value is a tensor
(``fill_``, ``full``, ``full_like``); ``index_fill``, ``repeat_interleave``, ``tril_indices``,
``isclose``, ``where`` and ``einsum`` argument checks in PyTorch's words; a device given as an
index; integer tensors refused gradients; a list index holding sequences read as a tuple."""
import numpy as np

from helpers import check_against_pytorch, outcome_of


def _errors(calls):
    """Each call's outcome as text: PyTorch's type and words, the package named as torch."""
    return [str(outcome_of(c)).replace("tinytape", "torch") for c in calls]


def test_fills_with_a_tensor_value():
    def run(torch):
        return [torch.full((2,), torch.tensor(1.5)), torch.full((2,), torch.tensor(3)), torch.full((2,), torch.tensor(True)),
                torch.full_like(torch.ones(2), torch.tensor(2.5)), torch.ones(2).fill_(torch.tensor(3, dtype=torch.int64)),
                torch.zeros(2, dtype=torch.int64).fill_(torch.tensor(2.7)),
                *_errors([lambda: torch.full((2,), torch.tensor([1.])), lambda: torch.full((2,), torch.tensor([[1.]])),
                          lambda: torch.full((2,), torch.tensor(1.5, requires_grad=True)),
                          lambda: torch.full_like(torch.ones(2), torch.tensor([1.])),
                          lambda: torch.tensor(1.5).fill_(torch.tensor([1., 2.])), lambda: torch.ones(2).fill_(torch.ones(1, 1)),
                          lambda: torch.ones(2).fill_(torch.tensor([3.])), lambda: torch.ones(2).fill_(torch.ones(0))])]
    check_against_pytorch(run)


def test_a_fill_from_a_tensor_passes_the_gradient_to_the_value():
    def run(torch):
        v = torch.tensor(2., requires_grad=True)
        x = torch.zeros(3)
        x.fill_(v)
        (x * torch.arange(3.)).sum().backward()
        return [x, v.grad]
    check_against_pytorch(run)


def test_index_fill_index_checks_in_pytorchs_words():
    def run(torch):
        ones = torch.ones
        return [torch.ones(3).index_fill_(0, torch.tensor([0, 2]), -1.), torch.ones(2, 2).index_fill(1, torch.tensor(1), 0),
                *_errors([lambda: ones(2).index_fill_(0, torch.tensor([0.]), 1), lambda: ones(2).index_fill(0, torch.tensor([0.]), 1),
                          lambda: ones(2).index_fill(0, torch.tensor([[0]]), 1),
                          lambda: ones(2).index_fill_(0, torch.tensor([0], dtype=torch.int32), 1),
                          lambda: torch.index_fill(ones(2), 0, torch.tensor([0.]), 1),
                          lambda: ones(2).index_fill_(0, torch.tensor([2]), 1)])]
    check_against_pytorch(run)


def test_a_device_given_as_an_index_is_the_accelerators():
    """``model.to(rank)`` of the distributed tutorials: an int names a CUDA device."""
    def run(torch):
        return [repr(torch.device(0)), str(torch.device(1)), torch.device(2).type, torch.device(3).index,
                torch.device(0) == torch.device("cuda:0"), *_errors([lambda: torch.device(-1)])]
    check_against_pytorch(run)



def test_moving_to_an_index_reaches_the_cuda_device():
    import tinytape as tt
    try:
        moved = tt.ones(1).to(0)
    except RuntimeError as e:  # no GPU and no simulator: refused as a device, not a TypeError on the int
        assert "cuda" in str(e)
    else:
        assert moved.device == tt.device("cuda:0")


def test_integer_tensors_refused_gradients_in_each_apis_words():
    def run(torch):
        long = torch.long
        return _errors([lambda: torch.nn.Parameter(torch.ones(2, dtype=long)),
                        lambda: torch.nn.Parameter(torch.ones(2, dtype=torch.bool)),
                        lambda: torch.ones(2, dtype=long).requires_grad_(),
                        lambda: setattr(torch.ones(2, dtype=long), "requires_grad", True),
                        lambda: torch.tensor([1], requires_grad=True),
                        lambda: torch.arange(3, requires_grad=True),
                        lambda: torch.nn.Parameter(torch.ones(2, dtype=long), requires_grad=False).dtype])
    check_against_pytorch(run)


def test_einsum_equation_errors_in_pytorchs_words():
    def run(torch):
        o = torch.ones
        return _errors([lambda: torch.einsum('ij->k', o(2, 2)), lambda: torch.einsum('ij->ii', o(2, 2)),
                        lambda: torch.einsum('ij', o(2)), lambda: torch.einsum('ijk', o(2, 2)),
                        lambda: torch.einsum('i...jk', o(2, 2)), lambda: torch.einsum('i1', o(2, 2)),
                        lambda: torch.einsum('ij,jk', o(2, 2)), lambda: torch.einsum('ij', o(2, 2), o(2)),
                        lambda: torch.einsum('ij->i1', o(2, 2)), lambda: torch.einsum('i..j', o(2, 2)),
                        lambda: torch.einsum('...i...', o(2, 2)), lambda: torch.einsum('i,j->ij->k', o(2), o(2)),
                        lambda: torch.einsum('ij->...', o(2, 2)), lambda: torch.einsum('i j , j -> i', o(2, 3), o(3)),
                        lambda: torch.einsum('...ij->...ji', o(2, 3, 4)).shape])
    check_against_pytorch(run)


def test_repeat_interleave_tril_indices_where_and_isclose_checks_in_pytorchs_words():
    def run(torch):
        o = torch.ones
        return [torch.where(torch.tensor([1, 0], dtype=torch.uint8), 1, 2),
                torch.repeat_interleave(torch.tensor([2, 0, 1])), o(3).repeat_interleave(torch.tensor([2])),
                *_errors([lambda: torch.repeat_interleave(o(3), torch.tensor([1, 2])),
                          lambda: o(3).repeat_interleave(torch.tensor([-1, 1, 1])), lambda: o(3).repeat_interleave(-1),
                          lambda: o(3).repeat_interleave(torch.tensor([[1]])), lambda: torch.repeat_interleave(torch.tensor([-1])),
                          lambda: o(3).repeat_interleave(torch.tensor([1., 1, 1])),
                          lambda: torch.tril_indices(-1, 3), lambda: torch.tril_indices(3, -2),
                          lambda: torch.triu_indices(-1, 3), lambda: torch.triu_indices(3, -1),
                          lambda: torch.where(torch.tensor([1, 0]), 1, 2), lambda: torch.where(torch.tensor([1., 0]), 1, 2),
                          lambda: torch.isclose(o(2), o(2), rtol=-1), lambda: torch.isclose(o(2), o(2), atol=-1),
                          lambda: torch.allclose(o(2), o(2), rtol=-0.5),
                          lambda: torch.isclose(o(2), o(2, dtype=torch.float64))])]
    check_against_pytorch(run)


def test_where_reads_a_byte_condition_with_pytorchs_warning():
    import pytest

    import tinytape as tt
    with pytest.warns(UserWarning, match="where received a uint8 condition tensor"):
        out = tt.where(tt.tensor([1, 0, 2], dtype=tt.uint8), tt.arange(3.), -1.)
    assert out.tolist() == [0.0, -1.0, 2.0]


def test_a_list_index_holding_sequences_reads_as_a_tuple():
    """Older tutorials' ``x[[rows, cols]]``: PyTorch still reads it as ``x[rows, cols]``."""
    import warnings

    def run(torch):
        x = torch.arange(12.).view(3, 4).requires_grad_()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            picked = x[[[0, 1], [1, 2]]]
            picked.sum().backward()
            y = torch.zeros(3, 4)
            y[[[0, 1], [1, 2]]] = 5
            return [picked, x.grad, y, x[[[0, 1]]], x[[0, slice(1, 3)]], x[[None, 0]].shape,
                    x[[torch.tensor([0, 1]), torch.tensor([1, 2])]], x[[0, 1]], x[[[0, 1], 1]], x[[Ellipsis, 1]],
                    x[np.array([[0, 1]])].shape, x[[torch.tensor(0), 1]], x[[True, False, True], 1],
                    *_errors([lambda: x[::0], lambda: x[::-1], lambda: x.select(1, 4), lambda: x.select(0, -4),
                              lambda: torch.select(x, -1, 5)])]
    check_against_pytorch(run)


def test_the_list_index_warning_is_pytorchs():
    import pytest

    import tinytape as tt
    with pytest.warns(UserWarning, match="Using a non-tuple sequence for multidimensional indexing is deprecated"):
        tt.arange(4.).view(2, 2)[[[0, 1], [1, 0]]]


def test_meshgrid_without_indexing_warns_at_the_callers_line():
    import warnings

    import tinytape as tt
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tt.meshgrid(tt.arange(2), tt.arange(3))
    assert [w.filename for w in caught if "meshgrid" in str(w.message)] == [__file__]
