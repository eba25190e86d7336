"""A leaf's hook may keep the gradient it is given: the next backward does not change it."""
import tinytape as tt
from helpers import assert_same
from pytorch_answers import pytorch


def _kept_by_a_hook(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    held = []
    w.register_hook(lambda g: held.append(g))
    (w * w * w + w * 3 + w).sum().backward()  # several uses: the engine sums them
    (w * 2).sum().backward()
    return held[0], held[1], w.grad


def test_a_gradient_a_hook_kept_is_not_added_into():
    assert_same(_kept_by_a_hook(tt), pytorch(_kept_by_a_hook))
