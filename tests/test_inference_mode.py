"""``inference_mode``: inference tensors, what they refuse outside the mode, the decorator
forms and ``inference_mode(False)``, against PyTorch's recorded answers."""
import threading

import pytest

import tinytape as tt
from helpers import assert_same
from pytorch_answers import pytorch


def _attempt(fn):
    """What ``fn()`` gives, or its error as (type name, message), so a scenario keeps going."""
    try:
        return fn()
    except Exception as error:  # noqa: BLE001 - the error is the answer
        return (type(error).__name__, str(error))


def _made_inside(lib):
    x = lib.ones(3)
    w = lib.ones(3, requires_grad=True)
    seen = {}
    with lib.inference_mode():
        a, b, view_of_normal, view_of_inference = lib.ones(3), x * 2, x[:2], None
        view_of_inference = a[:2]
        made_from_leaf = w * 2
        seen["flags"] = [lib.is_inference_mode_enabled(), lib.is_grad_enabled(), a.is_inference(),
                         b.is_inference(), view_of_normal.is_inference(), view_of_inference.is_inference(),
                         made_from_leaf.is_inference(), made_from_leaf.requires_grad,
                         made_from_leaf.grad_fn is None, a.detach().is_inference(), a.clone().is_inference()]
        seen["version_inside"] = _attempt(lambda: a._version)
        a.add_(1)  # in place inside the mode: allowed
        x.add_(1)  # a normal tensor written inside the mode stays normal, its version moves
        seen["normal_after_write"] = [x._version, x.is_inference()]
        with lib.inference_mode(False):
            seen["nested_false"] = [lib.is_inference_mode_enabled(), lib.is_grad_enabled(), lib.ones(1).is_inference()]
        leaf_inside = lib.ones(2, requires_grad=True)
        seen["leaf_inside"] = [leaf_inside.requires_grad, leaf_inside.is_inference()]
    seen["after"] = [lib.is_inference_mode_enabled(), lib.is_grad_enabled()]
    seen["a"] = a
    return seen, a, view_of_inference, w, x


def test_tensors_made_inside_are_inference_tensors():
    ours = _made_inside(tt)[0]
    assert_same(ours, pytorch(lambda torch: _made_inside(torch)[0]))


def _outside(lib):
    _, a, view, w, x = _made_inside(lib)
    return {
        "version": _attempt(lambda: a._version),
        "add_": _attempt(lambda: a.add_(1)),
        "view mul_": _attempt(lambda: view.mul_(2)),
        "fill_": _attempt(lambda: a.fill_(5.0)),
        "value after the refused writes": a,
        "requires_grad_": _attempt(lambda: a.requires_grad_()),
        "saved by mul": _attempt(lambda: a * w),
        "saved by mm": _attempt(lambda: lib.mm(a.view(1, 3), w.view(3, 1))),
        "not saved by add": _attempt(lambda: a + w),
        "saved by linear": _attempt(lambda: lib.nn.functional.linear(a, w.view(1, 3))),
        "read without grad": [a * 2, (a * 2).is_inference(), a.sum(), lib.exp(a).is_inference()],
        "copied into a normal tensor": x.copy_(a),
        "Parameter": _attempt(lambda: lib.nn.Parameter(a)),
    }


def test_inference_tensors_refuse_autograd_and_writes_outside():
    ours = _outside(tt)
    assert_same(ours, pytorch(lambda torch: _outside(torch)))
    a = _made_inside(tt)[1]
    with tt.no_grad():  # still outside inference mode
        with pytest.raises(RuntimeError, match="Inplace update to inference tensor"):
            a.add_(1)


def _decorators(lib):
    x = lib.ones(2)

    @lib.inference_mode()
    def called(t):
        return t * 2, lib.is_inference_mode_enabled()

    @lib.inference_mode
    def bare(t):
        return t * 2

    @lib.inference_mode(mode=False)
    def off(t):
        return t * 2, lib.is_grad_enabled()

    with lib.no_grad():
        with lib.inference_mode(False):
            grad_under_false = lib.is_grad_enabled()
    with lib.inference_mode():
        off_inside = off(x)
    mode = lib.inference_mode()
    return [called(x)[0].is_inference(), called(x)[1], bare(x).is_inference(), off(x)[0].is_inference(),
            off_inside[0].is_inference(), off_inside[1], grad_under_false, mode.mode, lib.inference_mode(False).mode,
            lib.is_inference_mode_enabled(), lib.autograd.grad_mode.inference_mode is lib.inference_mode]


def test_decorator_forms_and_mode_false():
    assert_same(_decorators(tt), pytorch(lambda torch: _decorators(torch)))


def test_inference_mode_is_per_thread():
    seen = {}
    inside, done = threading.Event(), threading.Event()

    def other():
        inside.wait()
        seen["other"] = (tt.is_inference_mode_enabled(), tt.ones(1).is_inference(), tt.is_grad_enabled())
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with tt.inference_mode():
        inside.set()
        done.wait(10)
        seen["here"] = tt.ones(1).is_inference()
    thread.join()
    assert seen == {"other": (False, False, True), "here": True}
    assert not tt.ones(1).is_inference()


def test_a_compiled_function_makes_inference_tensors_inside_the_mode():
    f = tt.compile(lambda t: (t * 2).exp())
    x = tt.ones(3)
    for _ in range(2):
        assert not f(x).is_inference()
        with tt.inference_mode():
            y = f(x)
            assert y.is_inference()
        assert tt.equal(y, f(x))


@pytest.mark.gpu
def test_inference_tensors_on_the_gpu():
    w = tt.ones(3, device="cuda", requires_grad=True)
    with tt.inference_mode():
        a = tt.ones(3, device="cuda") * 2
    assert a.is_inference() and a.device.type == "cuda"
    with pytest.raises(RuntimeError, match="cannot be saved for backward"):
        a * w
    assert (a + 1).tolist() == [3.0, 3.0, 3.0]
