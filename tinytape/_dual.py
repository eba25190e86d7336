"""The tangents of forward-mode AD (``autograd.forward_ad``): which tensors carry one, while a
dual level is open.

Kept apart from the API (``forward_ad``) so that ``Function.apply`` can test, at the cost
of one attribute read per op, whether any tangent is alive at all."""
import weakref


class _DualState:
    def __init__(self):
        self.level = -1        # the open dual level (-1: none)
        self.tangents = {}     # id(tensor) -> (weak reference to it, its tangent)
        self.active = False    # some tangent is alive and ops propagate tangents now


state = _DualState()


def tangent_of(t):
    """``t``'s tangent at the open level, or None."""
    entry = state.tangents.get(id(t))
    return entry[1] if entry is not None and entry[0]() is t else None


def carries_tangent(args):
    tangents = state.tangents
    for a in args:
        entry = tangents.get(id(a))
        if entry is not None and entry[0]() is a:
            return True
    return False


def set_tangent(t, tangent):
    key = id(t)

    def forget(ref, key=key):  # the tensor is gone: so is its tangent (unless the id has a new owner)
        entry = state.tangents.get(key)
        if entry is not None and entry[0] is ref:
            del state.tangents[key]
    if tangent is None:
        state.tangents.pop(key, None)
        return
    state.tangents[key] = (weakref.ref(t, forget), tangent)
    state.active = True


def clear():
    state.tangents.clear()
    state.active = False
