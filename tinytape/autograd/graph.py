"""Hooks on the tensors autograd saves for backward (``torch.autograd.graph``).

Inside ``saved_tensors_hooks(pack, unpack)`` every tensor an op saves is handed to ``pack``
when it is saved and what ``pack`` returned is kept instead; ``unpack`` turns it back into a
tensor when backward (or ``grad_fn._saved_*``) reads it."""
import threading

_local = threading.local()
# how many ``saved_tensors_hooks`` are open, on any thread: while none is, recording an op
# asks no thread-local question (``_record`` reads this first)
open_hooks = [0]


def _stack():
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def current_hooks():
    """The innermost ``(pack, unpack)`` pair in force, or None (None while a pack hook runs)."""
    stack = getattr(_local, "stack", None)
    return stack[-1] if stack and not getattr(_local, "packing", False) else None


def pack(hook, tensor):
    """``hook(tensor)``, with the hooks off meanwhile (what it computes packs nothing)."""
    _local.packing = True
    try:
        return hook(tensor)
    finally:
        _local.packing = False


class Packed:
    """What ``pack`` returned for one saved tensor, with the ``unpack`` that reads it back."""
    __slots__ = ("value", "unpack_hook")

    def __init__(self, value, unpack_hook):
        self.value, self.unpack_hook = value, unpack_hook

    def unpack(self):
        from .._tensor import Tensor
        t = self.unpack_hook(self.value)
        if not isinstance(t, Tensor):
            raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                            f"{type(t).__name__}")
        return t


class saved_tensors_hooks:
    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        message = getattr(_local, "disabled", None)
        if message is not None:
            raise RuntimeError(message)
        _stack().append((self.pack_hook, self.unpack_hook))
        open_hooks[0] += 1
        return self

    def __exit__(self, *exc):
        _stack().pop()
        open_hooks[0] -= 1


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors kept on the CPU, moved back to their device when backward reads them."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack(t):
            return t.device, t.cpu()

        def unpack(packed):
            device, t = packed
            return t.to(device)
        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Inside it, entering ``saved_tensors_hooks`` raises RuntimeError(``error_message``)."""

    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        self.previous = getattr(_local, "disabled", None)
        _local.disabled = self.error_message
        return self

    def __exit__(self, *exc):
        _local.disabled = self.previous
