"""Counters tensors carry: the version of a number an op was given, the hooks' numbers."""
import itertools


class NumberVersion(list):
    """The version counter of a 0-d tensor standing for a Python number an op was given: what
    PyTorch keeps as a number, not a tensor (saved-tensor hooks never see it)."""
    __slots__ = ()  # (made as ``NumberVersion(ZERO)``: list's own constructor, no Python __init__ per number)


ZERO = (0,)


_hook_ids = itertools.count()


def next_hook_id():
    """The next hook's number: one count for tensor and module hooks, as PyTorch's
    ``RemovableHandle.id`` (the keys of ``module._forward_hooks``)."""
    return next(_hook_ids)
