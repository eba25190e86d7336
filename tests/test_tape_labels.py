"""Tape entries are labelled with the op that ran them: a kernel run after an op has
returned (code between ops) is not that op's.  The compiler names an op from these labels
when it refuses a trace."""
import pytest

import tinytape as tt
import tinytape.nn.functional as F


def test_a_host_read_between_ops_is_not_blamed_on_the_op_before():
    w = tt.ones(3, requires_grad=True)

    def step(x, y):
        loss = (x * w).sum()
        classes = F.one_hot(y)  # counts its classes on the host: no compiled program can
        return loss, classes

    compiled = tt.compile(step, fullgraph=True)
    with pytest.raises(RuntimeError) as error:
        compiled(tt.ones(3), tt.tensor([0, 2, 1]))
    assert "reads tensor values on the host" in str(error.value)
    assert "SumBackward0" not in str(error.value) and "MulBackward0" not in str(error.value)
