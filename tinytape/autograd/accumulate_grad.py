"""``AccumulateGrad``: the node a leaf's gradient flows into, as ``grad_fn.next_functions``
shows it (the engine adds into ``.grad`` itself; this object is what graph walkers see)."""
import weakref


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
