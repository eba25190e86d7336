"""The hooks of PyTorch's optimizers: step pre/post hooks (per optimizer, and global ones for
every optimizer), state_dict pre/post hooks and load_state_dict pre/post hooks, in PyTorch's
call order, each registration returning a handle whose ``remove()`` takes the hook out."""
import functools
from collections import OrderedDict
from itertools import chain

from .. import _switches
from ..nn.module_state import _RemovableHook, next_hook_id

_global_optimizer_pre_hooks = OrderedDict()
_global_optimizer_post_hooks = OrderedDict()
# every optimizer's step runs them: a compiled step guards which are registered
_switches.register("the global optimizer step hooks",
                   lambda: (tuple(_global_optimizer_pre_hooks), tuple(_global_optimizer_post_hooks)),
                   lambda: list(_global_optimizer_pre_hooks.values()) + list(_global_optimizer_post_hooks.values()))


def _register(hooks, hook, prepend=False):
    key = next_hook_id()
    hooks[key] = hook
    if prepend:
        hooks.move_to_end(key, last=False)
    return _RemovableHook(hooks, key)


def register_optimizer_step_pre_hook(hook):
    """``hook(optimizer, args, kwargs)`` before every optimizer's step; a returned
    ``(args, kwargs)`` replaces the step's arguments."""
    return _register(_global_optimizer_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """``hook(optimizer, args, kwargs)`` after every optimizer's step."""
    return _register(_global_optimizer_post_hooks, hook)


class OptimizerHooks:
    def _init_hooks(self):
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        self._patch_step_function()

    @staticmethod
    def profile_hook_step(func):
        """``func`` (a class's ``step``) between the step hooks: the global pre hooks, this
        optimizer's pre hooks, the step, its post hooks, the global post hooks."""
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            self = args[0]
            for pre_hook in chain(_global_optimizer_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
                result = pre_hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(f"{func} must return None or a tuple of (new_args, new_kwargs), but got "
                                           f"{result}.")
            out = func(*args, **kwargs)
            self._optimizer_step_code()
            for post_hook in chain(self._optimizer_step_post_hooks.values(), _global_optimizer_post_hooks.values()):
                post_hook(self, args, kwargs)
            return out
        return wrapper

    def _patch_step_function(self):
        if not getattr(type(self).step, "hooked", None):  # once per class, as PyTorch wraps it
            type(self).step = self.profile_hook_step(type(self).step)
            type(self).step.hooked = True

    def _optimizer_step_code(self):
        """An entry point for profilers after each step (empty, as PyTorch's)."""

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` before each step; a returned ``(args, kwargs)``
        replaces the step's arguments."""
        return _register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` after each step."""
        return _register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer)`` before ``state_dict()`` builds the dict."""
        return _register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` after; a returned dict replaces it."""
        return _register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` before loading (a shallow copy); a returned dict is
        loaded instead."""
        return _register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer)`` after loading."""
        return _register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    def _run_state_dict_pre_hooks(self):
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)

    def _run_state_dict_post_hooks(self, state_dict):
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def _run_load_state_dict_pre_hooks(self, state_dict):
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def _run_load_state_dict_post_hooks(self):
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)
