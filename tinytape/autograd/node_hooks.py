"""Hooks and metadata on a tape entry (``grad_fn.register_hook``, ``register_prehook``,
``metadata``), as PyTorch's graph nodes take them."""


class NodeHooks:
    def register_hook(self, hook):
        """``hook(grad_inputs, grad_outputs)`` once this entry's backward has run; a returned
        tuple replaces ``grad_inputs`` (None for inputs that need no gradient)."""
        return self._add_node_hook("post", hook)

    def register_prehook(self, hook):
        """``hook(grad_outputs)`` before this entry's backward runs; a returned tuple replaces them."""
        return self._add_node_hook("pre", hook)

    def _add_node_hook(self, when, hook):  # kept with the tensor hooks, under "pre"/"post"
        from .._tensor import _RemovableHandle
        if self._hooks is None:
            self._hooks = {}
        hooks = self._hooks.setdefault(when, [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    @property
    def metadata(self):
        return self.__dict__.setdefault("_metadata", {})
