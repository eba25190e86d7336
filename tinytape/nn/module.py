"""``Module``: the base class of every layer and model, with PyTorch's interface.

A module keeps three ordered registries — its parameters, buffers and child modules — filled
by attribute assignment (``self.fc = Linear(...)``) or ``register_parameter``/``register_buffer``/
``add_module``; everything else (``parameters()``, ``state_dict()``, ``to()``...) walks them.
"""
from collections import OrderedDict

from .. import _dtype
from .._grad_mode import _state as _grad_state, no_grad
from .._tensor import Tensor
from .module_state import StateDict, _IncompatibleKeys, _RemovableHook, next_hook_id  # noqa: F401
from .parameter import Buffer, Parameter, buffer_persistence


def _type_label(value):
    if isinstance(value, Tensor):
        from .._tensor import type_name
        return type_name(value.dtype)
    return type(value).__name__


def _add_indent(text, spaces):
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _floating_cast(name):
    def cast(self):  # the floating-point parameters and buffers to that dtype
        return self._apply(lambda t: getattr(t, name)() if t.dtype.is_floating_point else t)
    cast.__name__, cast.__qualname__ = name, "Module." + name
    return cast


class Module(StateDict):
    training: bool
    _version = 1  # of its state_dict's layout (``state_dict()._metadata``), as PyTorch's

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments {args} {kwargs}")
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_state_dict_hooks", OrderedDict())
        object.__setattr__(self, "_state_dict_pre_hooks", OrderedDict())

    # ------------------------------------------------------------------ calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks):
            return self.forward(*args, **kwargs)
        with_kwargs = self.__dict__.get("_forward_pre_hooks_with_kwargs", ())
        for key, hook in list(self._forward_pre_hooks.items()):
            if key in with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                           f"but got {result}.")
                    args, kwargs = result
                continue
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        backward = None
        if (self._backward_hooks or self._backward_pre_hooks) and _grad_state.enabled:
            from .backward_hooks import ModuleBackwardHooks
            backward = ModuleBackwardHooks(self)
            args = backward.wrap_inputs(args)
        output = self.forward(*args, **kwargs)
        with_kwargs = self.__dict__.get("_forward_hooks_with_kwargs", ())
        for key, hook in list(self._forward_hooks.items()):
            result = hook(self, args, kwargs, output) if key in with_kwargs else hook(self, args, output)
            if result is not None:
                output = result
        return output if backward is None else backward.wrap_outputs(output)

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` once the gradients of the module's
        positional tensor inputs are computed (None for those that need none); a returned
        tuple replaces ``grad_input``."""
        return _RemovableHook.add(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` once the gradients of the module's outputs are
        computed, before those of its inputs; a returned tuple replaces ``grad_output``."""
        return _RemovableHook.add(self._backward_pre_hooks, hook, prepend)

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` before ``forward``; a returned value replaces the args.
        ``with_kwargs``: ``hook(module, args, kwargs)``, returning None or ``(args, kwargs)``."""
        return _RemovableHook.add(self._forward_pre_hooks, hook, prepend,
                                  self._kwargs_hooks("_forward_pre_hooks_with_kwargs") if with_kwargs else None)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """``hook(module, args, output)`` after ``forward``; a returned value replaces the output.
        ``with_kwargs``: ``hook(module, args, kwargs, output)``."""
        return _RemovableHook.add(self._forward_hooks, hook, prepend,
                                  self._kwargs_hooks("_forward_hooks_with_kwargs") if with_kwargs else None)

    def _kwargs_hooks(self, name):
        """The keys of the hooks that take the keyword arguments too (made on first use)."""
        if name not in self.__dict__:
            object.__setattr__(self, name, OrderedDict())
        return self.__dict__[name]

    # ------------------------------------------------------------------ registration
    def _check_name(self, name, kind):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')

    def register_parameter(self, name, param):
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_type_label(param)}' object to parameter '{name}' "
                            "(tinytape.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters "
                             "must be created explicitly.")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_type_label(tensor)}' object to buffer '{name}' "
                            "(tinytape Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_label(value)}' as parameter '{name}' "
                                "(tinytape.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep="_modules")
            self._modules[name] = value
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_label(value)}' as child module '{name}' "
                                "(tinytape.nn.Module or None expected)")
            d["_modules"][name] = None
        elif isinstance(value, Buffer):  # nn.Buffer(...): registered, persistent as it was marked
            if params is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            self.register_buffer(name, value, buffer_persistence(value))
        elif params is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_type_label(value)}' as buffer '{name}' "
                                "(tinytape.Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep):
        """Drop ``name`` from every place but the registry ``keep`` (where reassigning
        keeps its position, as in PyTorch)."""
        self.__dict__.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                getattr(self, registry).pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name):  # only called when normal lookup fails
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    # ------------------------------------------------------------------ walking
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Pre-order: this module (named ``prefix``), then each child's subtree."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:  # iterative: a deep chain of modules does not hit the recursion limit
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in memo:
                    continue
                memo.add(id(module))
            yield name, module
            children = [(name + ("." if name else "") + key, child)
                        for key, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for key, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + key, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target):
        module = self
        for item in target.split(".") if target else []:
            if item not in module._modules:
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = module._modules[item]
        return module

    def get_parameter(self, target):
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._parameters:
            raise AttributeError(f"{module._get_name()} has no parameter `{name}`")
        return module._parameters[name]

    def get_buffer(self, target):
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._buffers:
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        return module._buffers[name]

    def apply(self, fn):
        """``fn`` on every submodule (children first), then on this module; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if p.grad.grad_fn is not None:
                    p.grad.detach_()
                else:
                    p.grad.requires_grad_(False)
                p.grad.zero_()

    # ------------------------------------------------------------------ device and dtype
    def _apply(self, convert):
        """Replace every parameter's (and its gradient's) and buffer's data by
        ``convert(tensor)``, keeping the Parameter objects (optimizers hold them)."""
        for module in self.modules():
            for p in module._parameters.values():
                if p is None:
                    continue
                with no_grad():
                    p.data = convert(p)
                    if p._grad is not None:
                        p._grad.data = convert(p._grad)
            for name, b in module._buffers.items():
                if b is not None:
                    module._buffers[name] = convert(b)
        return self

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)`` (floating-point tensors only), ``to(device, dtype)``,
        ``to(tensor)``; in place, returns self."""
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, (_dtype.dtype, type)) or (isinstance(a, str) and a.startswith("tinytape.")):
                dtype = a
            else:
                device = a
        if dtype is not None:
            dtype = _dtype.as_dtype(dtype)
            if not dtype.is_floating_point:
                raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")

        def convert(t):
            if dtype is not None and t.dtype.is_floating_point:
                return t.to(device, dtype) if device is not None else t.to(dtype)
            return t.to(device) if device is not None else t
        return self._apply(convert)

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def cpu(self):
        return self.to("cpu")

    def to_empty(self, *, device, recurse=True):
        """Parameters and buffers moved to ``device`` without their values (uninitialised
        memory): a model built on the meta device, made real."""
        from .._creation import empty
        if not recurse:
            raise NotImplementedError("to_empty(recurse=False)")
        return self._apply(lambda t: empty(tuple(t.shape), dtype=t.dtype, device=device))

    float, double, half, bfloat16 = (_floating_cast(name) for name in ("float", "double", "half", "bfloat16"))

    # ------------------------------------------------------------------ printing
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _add_indent(repr(module), 2) for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"
