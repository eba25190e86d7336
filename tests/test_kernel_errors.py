"""Kernels check the positions they follow and raise the op's IndexError with the numbers
in its message (``backend/kernel_errors.py``: made on the host from the kernel's arguments)."""
import builtins

import numpy as np
import pytest

import tinytape as torch
from tinytape.backend.cpu import fused, indexing
from tinytape.compiler.plan import _template


def _raised(fn, *args):
    with pytest.raises(builtins.IndexError) as info:
        fn(*args)
    return type(info.value).__name__, str(info.value)


def test_gather_and_scatter_add_name_the_position_and_the_size():
    src, out = np.arange(5, dtype=np.float32), np.zeros(3, np.float32)
    assert _raised(indexing.gather, src, np.array([0, 7, 1]), out) == \
        ("IndexError", "gather: flat position 7 is out of bounds for 5 elements")
    assert _raised(indexing.gather, src, np.array([-1]), out[:1]) == \
        ("IndexError", "gather: flat position -1 is out of bounds for 5 elements")
    assert _raised(indexing.scatter_add, np.zeros(4, np.float64), np.array([2, 4]), np.ones(2)) == \
        ("IndexError", "scatter_add: flat position 4 is out of bounds for 4 elements")


def test_nll_loss_backward_names_the_position():
    one = np.ones(1, np.float32)
    args = (one, one, False, -np.ones(2, np.float32), np.ones(2, np.bool_), np.array([1, 9]),
            np.zeros(3, np.float32), np.zeros(6, np.float32))
    assert _raised(fused._nll_backward, *args) == ("IndexError", "nll_loss backward: position 9 is out of bounds for 6")


def test_generated_code_formats_the_ops_own_words():
    template = _template("index ", " is out of bounds for dimension 0 with size 5 {as PyTorch}")
    assert template.format(7) == "index 7 is out of bounds for dimension 0 with size 5 {as PyTorch}"


def test_a_compiled_index_out_of_range_raises_eagers_error():
    def pick(x, i):
        return (x[i] * 2).sum()
    compiled = torch.compile(pick, fullgraph=True)
    x = torch.arange(5.0)
    assert compiled(x, torch.tensor([0, 4])).item() == pick(x, torch.tensor([0, 4])).item() == 8.0
    bad = torch.tensor([1, 5])
    with pytest.raises(builtins.IndexError) as eager:
        pick(x, bad)
    with pytest.raises(builtins.IndexError) as replayed:
        compiled(x, bad)
    assert (type(replayed.value).__name__, str(replayed.value)) == (type(eager.value).__name__, str(eager.value))
    assert "index 5 is out of bounds for dimension 0 with size 5" in str(eager.value)
