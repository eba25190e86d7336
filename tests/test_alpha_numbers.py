"""``add``/``sub`` with ``alpha`` and a number operand, and the integral-alpha rule, as PyTorch."""
import pytest

from helpers import check_against_pytorch

CASES = {
    "add_number_float_alpha": lambda t: t.add(t.tensor([1.0], requires_grad=True), 3, alpha=2.0),
    "add_number_int_alpha": lambda t: t.add(t.tensor([1.0], requires_grad=True), 3, alpha=2),
    "sub_number": lambda t: t.sub(t.tensor([1.0], requires_grad=True), 3, alpha=2),
    "int_tensor_number": lambda t: t.add(t.tensor([1]), 3, alpha=2),
    "int_tensor_float_alpha": lambda t: t.add(t.tensor([1]), 3, alpha=2.5),
    "int_tensors_float_alpha": lambda t: t.add(t.tensor([1]), t.tensor([2]), alpha=2.5),
    "method_number": lambda t: t.tensor([1.0, 2.0]).add(1.5, alpha=3),
    "tensor_alpha": lambda t: t.tensor([1.0]).sub(t.tensor([0.5]), alpha=4),
}


@pytest.mark.parametrize("name", list(CASES))
def test_alpha_with_numbers_as_pytorch(name):
    def run(torch):
        try:
            return CASES[name](torch)
        except RuntimeError as e:
            return str(e)

    check_against_pytorch(run)
