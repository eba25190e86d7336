"""Shared test helpers: the one gradcheck used by every op test, and seed-output matching."""
import re

import numpy as np

import tinytape as tt
from tinytape.autograd import gradcheck, gradgradcheck


def check_grad(fn, *inputs, second_order=False, atol=1e-5, rtol=1e-3, eps=1e-6):
    """Assert fn's gradients (and, with ``second_order``, its second derivatives) match
    central finite differences.  numpy arrays become float64 leaves requiring grad; other
    inputs (tensors not requiring grad, python scalars) pass through."""
    leaves = tuple(tt.tensor(np.asarray(x, np.float64), requires_grad=True) if isinstance(x, np.ndarray) else x
                   for x in inputs)
    assert gradcheck(fn, leaves, eps=eps, atol=atol, rtol=rtol)
    if second_order:
        assert gradgradcheck(fn, leaves, eps=eps, atol=atol, rtol=rtol)
    return leaves


def normalize(text):
    """Object addresses vary between runs: ``<AddBackward0 object at 0x...>``."""
    return re.sub(r" at 0x[0-9a-f]+>", " at 0x...>", text)
