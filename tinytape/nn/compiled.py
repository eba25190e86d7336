"""``OptimizedModule``: what ``tinytape.compile(module)`` gives, as PyTorch's -- the module
(``_orig_mod``, whose parameters and state it shares and lists under that prefix) with its
``forward`` compiled; any other attribute is the module's."""
from .module import Module


class OptimizedModule(Module):
    def __init__(self, mod, compiled_forward):
        super().__init__()
        self._orig_mod = mod
        self.__dict__["_compiled_forward"] = compiled_forward

    def forward(self, *args, **kwargs):
        return self.__dict__["_compiled_forward"](*args, **kwargs)

    def __len__(self):
        return len(self._orig_mod)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.__dict__["_modules"]["_orig_mod"], name)
