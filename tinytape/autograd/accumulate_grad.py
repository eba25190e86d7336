"""``AccumulateGrad``: the node a leaf's gradient flows into, as ``grad_fn.next_functions``
shows it (the engine adds into ``.grad`` itself; this object is what graph walkers see)."""
import weakref

from .. import _switches
from .._tensor import next_hook_id


class AccumulateGrad:
    """The node a leaf's gradient flows into, as ``next_functions`` shows it."""

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


_ACCUMULATORS = weakref.WeakValueDictionary()  # id(leaf) -> its AccumulateGrad, while one is held


def _accumulator(leaf):
    """A leaf's AccumulateGrad: the same object for as long as anyone holds it, as PyTorch's
    (graph walkers compare nodes by identity).  It holds the leaf, so the id is not reused."""
    node = _ACCUMULATORS.get(id(leaf))
    if node is None or node.variable is not leaf:
        node = _ACCUMULATORS[id(leaf)] = AccumulateGrad(leaf)
    return node


# ---------------------------------------------------------------- post-accumulate-grad hooks

_POST_HOOKS = {}  # id(leaf) -> (weak reference to the leaf, [hook, ...])
_POST_HOOK_CHANGES = [0]  # registrations and removals so far
# a backward runs them: a compiled function guards that none was registered or removed since
# its trace.  A leaf that dies takes its entry with it, but not the guard's value: the garbage
# collector running between two calls is no reason to trace again (a program holds the leaves
# it reaches, so the hooks it could run are never the ones that die)
_switches.register("the post-accumulate-grad hooks", lambda: _POST_HOOK_CHANGES[0],
                   lambda: [h for _, hooks in list(_POST_HOOKS.values()) for h in hooks])


class _PostHookHandle:
    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook
        self.id = next_hook_id()

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)
            _POST_HOOK_CHANGES[0] += 1


def register_post_accumulate_grad_hook(self, hook):
    """Call ``hook(tensor)`` after a backward has accumulated into this leaf's ``.grad`` (the
    optimizer-in-backward pattern); ``autograd.grad`` does not call it.  Returns a handle."""
    if not self._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self._grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    entry = _POST_HOOKS.get(id(self))
    if entry is None or entry[0]() is not self:
        key = id(self)
        entry = _POST_HOOKS[key] = (weakref.ref(self, lambda _, key=key, hooks=_POST_HOOKS: hooks.pop(key, None)), [])
    entry[1].append(hook)
    _POST_HOOK_CHANGES[0] += 1
    return _PostHookHandle(entry[1], hook)


def run_post_accumulate_hooks(leaf):
    entry = _POST_HOOKS.get(id(leaf))
    if entry is not None and entry[0]() is leaf:
        for hook in list(entry[1]):
            hook(leaf)
