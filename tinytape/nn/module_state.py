"""A module's ``state_dict`` and ``load_state_dict`` (the ``StateDict`` base of ``Module``)."""
import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

from .._grad_mode import no_grad
from .._tensor import Tensor, next_hook_id
from .parameter import Parameter


_EXTRA_STATE = "_extra_state"  # the key (after the module's prefix) of ``get_extra_state()``'s value


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class StateDict:
    """The parameters and persistent buffers of a module tree under dotted names."""

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """Parameters then persistent buffers of each module, in pre-order, under dotted
        names; detached tensors sharing the module's storage (``keep_vars=False``). Each module
        runs its state-dict pre-hooks before saving and its post-hooks after its children's."""
        if args:
            warnings.warn(
                "Positional args are being deprecated, use kwargs instead. Refer to "
                "https://pytorch.org/docs/main/generated/torch.nn.Module.html#torch.nn.Module.state_dict"
                " for details.", FutureWarning, stacklevel=2)
            destination = args[0] if destination is None else destination
            prefix = args[1] if len(args) > 1 and prefix == "" else prefix
            keep_vars = args[2] if len(args) > 2 and keep_vars is False else keep_vars
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        result = destination
        stack = [(self, prefix, None)]  # (module, its prefix, its metadata once its subtree is saved)
        while stack:  # PyTorch's recursion, iteratively: a deep module tree must not overflow
            module, module_prefix, local_metadata = stack.pop()
            if local_metadata is not None:
                returned = _run_state_dict_post_hooks(module, destination, module_prefix, local_metadata)
                if module is self and not stack:  # (only the root's replacement dict is returned)
                    result = returned
                continue
            local_metadata = dict(version=module._version)
            if hasattr(destination, "_metadata"):
                destination._metadata[module_prefix[:-1]] = local_metadata
            for hook in list((module.__dict__.get("_state_dict_pre_hooks") or {}).values()):
                hook(module, module_prefix, keep_vars)
            module._save_to_state_dict(destination, module_prefix, keep_vars)
            stack.append((module, module_prefix, local_metadata))
            children = [(name, child) for name, child in module._modules.items() if child is not None]
            stack.extend((child, module_prefix + name + ".", None) for name, child in reversed(children))
        return result

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """This module's own parameters and persistent buffers (not its children's) into
        ``destination``; subclasses override it to save state of their own."""
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        if type(self).get_extra_state is not StateDict.get_extra_state:
            destination[prefix + _EXTRA_STATE] = self.get_extra_state()

    def get_extra_state(self):
        """What a subclass keeps in its state dict beside tensors (under ``_extra_state``)."""
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called. Please file an issue at "
            "https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml to report this bug.")

    def set_extra_state(self, state):
        """Take back what ``get_extra_state`` gave, from a loaded state dict."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called. Please file an issue at "
            "https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml to report this bug.")

    def register_state_dict_pre_hook(self, hook):
        """``hook(module, prefix, keep_vars)`` runs before this module saves its state."""
        return _RemovableHook.add(self._hook_registry("_state_dict_pre_hooks"), hook)

    def register_state_dict_post_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata)`` runs once this module's subtree
        is saved; it may edit ``state_dict`` in place and must return None."""
        hook._from_public_api = True
        return _RemovableHook.add(self._hook_registry("_state_dict_hooks"), hook)

    def _register_state_dict_hook(self, hook):
        """The older post-hook: as ``register_state_dict_post_hook``, but a dict it returns
        replaces the state dict (respected at the module ``state_dict`` was called on)."""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError("Cannot register the same function as the state dict post hook that was "
                               "previously registered via register_state_dict_post_hook")
        return _RemovableHook.add(self._hook_registry("_state_dict_hooks"), hook)

    def _hook_registry(self, name):
        hooks = self.__dict__.get(name)
        if hooks is None:
            hooks = OrderedDict()
            object.__setattr__(self, name, hooks)
        return hooks

    def _local_state(self):
        """name -> (owning module, registry, key) for every entry ``state_dict`` would hold."""
        entries = OrderedDict()
        for module_prefix, module in self.named_modules(remove_duplicate=False):
            dot = module_prefix + "." if module_prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    entries[dot + name] = (module, "_parameters", name)
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent_buffers_set:
                    entries[dot + name] = (module, "_buffers", name)
            if type(module).set_extra_state is not StateDict.set_extra_state:
                entries[dot + _EXTRA_STATE] = (module, _EXTRA_STATE, None)
        return entries

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy ``state_dict``'s tensors into the parameters and buffers (cast to their dtype and
        device); ``strict``: every key must match.  Returns ``(missing_keys, unexpected_keys)``."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        hook_missing, hook_unexpected, errors = [], [], []
        if any(getattr(m, "_load_state_dict_pre_hooks", None) for m in self.modules()):
            state_dict = self._run_load_pre_hooks(state_dict, strict, hook_missing, hook_unexpected, errors)
        entries = self._local_state()
        meta = getattr(state_dict, "_metadata", {})  # a missing key a module fills in (its version < 2)
        missing = [k for k, (m, _, name) in entries.items() if k not in state_dict and not (
            name in getattr(m, "_filled_when_missing", ()) and meta.get(k.rpartition(".")[0], {}).get("version", 1) < 2)]
        unexpected = [k for k in state_dict if k not in entries]
        missing, unexpected = hook_missing + missing, hook_unexpected + unexpected
        updates = []
        for key, (module, registry, name) in entries.items():
            if key not in state_dict:
                continue
            if registry == _EXTRA_STATE:
                module.set_extra_state(state_dict[key])
                continue
            value, current = state_dict[key], getattr(module, registry)[name]
            if isinstance(value, Tensor) and hasattr(current, "materialize"):  # a lazy module's
                current.materialize(value.shape)
            if not isinstance(value, Tensor):
                errors.append(f'While copying the parameter named "{key}", expected tinytape.Tensor or '
                              f"Tensor-like object from checkpoint but received {type(value)}")
            elif value.shape != current.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape {value.shape} from "
                              f"checkpoint, the shape in current model is {current.shape}.")
            else:
                updates.append((module, registry, name, current, value))
        with no_grad():  # (the entries that fit load even where others fail, as PyTorch's)
            for module, registry, name, current, value in updates:
                if assign:
                    if registry == "_parameters":
                        value = Parameter(value, current.requires_grad)
                    getattr(module, registry)[name] = value
                else:
                    current.copy_(value.detach().to(current.device, current.dtype))
        self._run_load_post_hooks(_IncompatibleKeys(missing, unexpected))  # (they may edit the lists)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    def register_load_state_dict_post_hook(self, hook):
        """``hook(module, incompatible_keys)`` once this module's subtree has loaded (children's
        hooks first); it may edit ``missing_keys``/``unexpected_keys`` in place before the strict
        check, and must return None."""
        hooks = self.__dict__.get("_load_state_dict_post_hooks")
        if hooks is None:
            hooks = OrderedDict()
            object.__setattr__(self, "_load_state_dict_post_hooks", hooks)
        key = next_hook_id()
        hooks[key] = hook
        return _RemovableHook(hooks, key)

    def _run_load_post_hooks(self, incompatible_keys):
        """Each module's post hooks after its subtree's (PyTorch's recursion), iteratively."""
        stack = [(self, False)]
        while stack:
            module, children_done = stack.pop()
            if not children_done:
                stack.append((module, True))
                children = [child for child in module._modules.values() if child is not None]
                stack.extend((child, False) for child in reversed(children))
                continue
            for hook in list((module.__dict__.get("_load_state_dict_post_hooks") or {}).values()):
                if hook(module, incompatible_keys) is not None:
                    raise AssertionError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not expected to return new "
                        "values, if incompatible_keys need to be modified, it should be done inplace.")

    def register_load_state_dict_pre_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
        error_msgs)`` runs before this module's entries load; it may rename or fill keys."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        hooks = getattr(self, "_load_state_dict_pre_hooks", None)
        if hooks is None:
            hooks = OrderedDict()
            object.__setattr__(self, "_load_state_dict_pre_hooks", hooks)
        key = max(hooks, default=-1) + 1
        hooks[key] = (hook, with_module)
        return _RemovableHook(hooks, key)

    def _run_load_pre_hooks(self, state_dict, strict, missing, unexpected, errors):
        """A copy of ``state_dict`` (its ``_metadata`` kept) after every module's pre-hooks, in
        pre-order with the module's prefix, as PyTorch runs them."""
        copied = OrderedDict(state_dict)
        meta = getattr(state_dict, "_metadata", None)
        if meta is not None:
            copied._metadata = meta
        for module_prefix, module in self.named_modules(remove_duplicate=False):
            local = (meta or {}).get(module_prefix, {})
            prefix = module_prefix + "." if module_prefix else ""
            for hook, with_module in list((getattr(module, "_load_state_dict_pre_hooks", None) or {}).values()):
                args = (copied, prefix, local, strict, missing, unexpected, errors)
                hook(module, *args) if with_module else hook(*args)
        return copied


def _run_state_dict_post_hooks(module, destination, prefix, local_metadata):
    """``module``'s state-dict post-hooks in order; an older-style hook's returned dict
    replaces the one the following hooks see (and the one returned)."""
    for hook in list((module.__dict__.get("_state_dict_hooks") or {}).values()):
        returned = hook(module, destination, prefix, local_metadata)
        if not getattr(hook, "_from_public_api", False):
            if returned is not None:
                destination = returned
        elif returned is not None:
            raise RuntimeError("state_dict post-hook must return None")
    return destination


class _RemovableHook:
    """What ``register_*_hook`` returns: ``remove()`` takes the hook out of its dict. Module
    hooks are keyed by ``next_hook_id()``, one counter for all, as PyTorch's handle ids."""

    def __init__(self, hooks, key, extra=None):
        self._hooks, self._key, self._extra = hooks, key, extra

    @classmethod
    def add(cls, hooks, hook, prepend=False, extra=None):
        """``hook`` into ``hooks`` under a new key (first with ``prepend``); ``extra``, a dict
        of keys, marks it (a hook that takes keyword arguments)."""
        key = next_hook_id()
        hooks[key] = hook
        if prepend:
            hooks.move_to_end(key, last=False)
        if extra is not None:
            extra[key] = True
        return cls(hooks, key, extra)

    @property
    def id(self):
        return self._key

    def remove(self):
        self._hooks.pop(self._key, None)
        if self._extra is not None:
            self._extra.pop(self._key, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
