"""The walk behind ``reachable_state``: everything a traced function can reach, recorded as
``Guard`` entries of ``guards.py`` (which describes what is guarded and checks them)."""
import array
import builtins
import collections
import functools
import sys
import types
import weakref

import numpy as np

from .. import _switches
from .._random import Generator as _Generator
from .._tensor import Tensor
from .guards import (_ATOM_TYPES, _ATTR, _CELL, _CLASSATTR, _code_names, _DEREF, Guard, _is_library, _ITEM, MAX_ARRAY,
                     MAX_OBJECTS, _MISSING, _set_key, _SLOT, State, TooMuchState)


def reachable_state(fn, args=(), kwargs=None, arg_tensors=()):
    """Walk what ``fn`` can reach (and the non-tensor objects among its arguments;
    ``arg_tensors``, the tensor arguments, are described by the signature)."""
    state = State()
    walker = _Walker(state)
    walker.arg_tensors = {id(t) for t in arg_tensors}
    try:
        walker.roots(fn, args, kwargs or {})
        walker.switches()
        walker.run()
    except TooMuchState as e:
        state.refused = str(e)
    state.reachable = walker.seen
    state.keep = walker.keep
    return state


class _Walker:
    def __init__(self, state):
        self.state = state
        self.seen = set()
        self.keep = []  # what the guards hold on to
        self.stack = []
        self.attr_names = set()  # attribute names any reached code uses (user modules' attributes)
        self.modules = []  # modules reached: their attributes are walked at the end
        self.library_classes = []  # library classes reached: the attributes code names, by identity

    # ---- where the walk starts ----
    def roots(self, fn, args, kwargs):
        self.push(fn, "fn", None, None, None)
        for i, a in enumerate(args):
            self.push(a, f"args[{i}]", None, None, None)
        for k, v in kwargs.items():
            self.push(v, f"kwargs[{k!r}]", None, None, None)

    def switches(self):
        """The library's settings (``_switches``): each guarded by what it reads now, the
        hooks it would run walked as the function's own state."""
        for name, read, hooks in _switches.READERS:
            self.guard("call", read, None, read(), name)
            for i, hook in enumerate(hooks()):
                self.push(hook, f"{name}[{i}]", None, None, None)

    def tensor_methods(self):
        """The Tensor class's attributes that the reached code names (``x.tanh()``, a method
        the user attached, ``Tensor.tanh`` patched): by identity, in every class of its MRO
        up to the one defining it, so a patch or a new attribute shadowing it is a change."""
        for name in sorted(self.attr_names):
            for klass in Tensor.__mro__[:-1]:
                value = klass.__dict__.get(name, _MISSING)
                if value is not _MISSING or name in _TENSOR_NAMES:
                    self.guard(_CLASSATTR, klass, name, value, f"Tensor.{name}")
                if value is not _MISSING:
                    break

    def push(self, obj, path, kind, container, key):
        self.stack.append((obj, path, kind, container, key))

    def guard(self, kind, container, key, value, path):
        self.state.guards.append(Guard(kind, container, key, value, path))

    # ---- the walk ----
    def run(self):
        while True:
            while self.stack:
                obj, path, kind, container, key = self.stack.pop()
                try:
                    self.visit(obj, path, kind, container, key)
                except TooMuchState:
                    raise
                except Exception as e:  # an object whose attributes misbehave when read
                    raise TooMuchState(f"it reaches {path}, which can't be guarded "
                                       f"({type(e).__name__}: {e})") from None
            if not self.modules and not self.library_classes:
                self.tensor_methods()
                return
            if self.library_classes:
                klass, path = self.library_classes.pop()
                # tinytape's classes (a layer's forward, an optimizer's step): every attribute,
                # since its own code reads them; other libraries': the names code here uses
                names = klass.__dict__ if (klass.__module__ or "").startswith("tinytape") else self.attr_names
                for name in sorted(n for n in names if n in klass.__dict__ and n not in _CLASS_BOOKKEEPING):
                    self.guard(_CLASSATTR, klass, name, klass.__dict__[name], f"{path}.{name}")
                continue
            module, path, library = self.modules.pop()
            names = set(self.attr_names) | {"__getattr__"}
            if not library:  # a user's module (a config): all its values, not only the names seen
                names |= {k for k, v in vars(module).items() if not k.startswith("__") and not isinstance(
                    v, (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType))}
            names = sorted(n for n in names if n in vars(module))
            for name in names:
                if library:  # a library's attribute is held by identity (monkeypatching it is a change)
                    self.guard(_ATTR, module, name, vars(module)[name], f"{path}.{name}")
                else:
                    self.push(vars(module)[name], f"{path}.{name}", _ATTR, module, name)

    def visit(self, obj, path, kind, container, key):
        if kind is not None:  # the place itself is guarded each time it is reached
            self.guard(kind, container, key, obj, path)
        if type(obj) in _ATOM_TYPES:
            if type(obj) is str and obj.isidentifier():
                self.attr_names.add(obj)  # a name the code may look up with getattr(module, name)
            return
        if id(obj) in self.seen:
            return
        if id(obj) in self.arg_tensors and path.startswith(("args[", "kwargs[")):
            return  # a tensor argument: in the signature (a global that is also passed is found as the global)
        self.seen.add(id(obj))
        self.keep.append(obj)
        if len(self.seen) > MAX_OBJECTS:
            raise TooMuchState(f"it reaches more than {MAX_OBJECTS} Python objects, too many to guard")
        if isinstance(obj, Tensor):
            self.state.tensors.setdefault(id(obj), (obj, path))
            self.push(obj._hooks, f"{path}._hooks", _SLOT, obj, "_hooks")
            self.push(obj._retains_grad, f"{path}._retains_grad", _SLOT, obj, "_retains_grad")
            return
        if isinstance(obj, np.generic):
            return
        if isinstance(obj, _Generator):  # its engine is the program's state: the replayed draws advance it
            return
        if isinstance(obj, (np.random.Generator, np.random.RandomState, np.random.BitGenerator)):
            self.state.random_streams.append(obj)
            return
        if isinstance(obj, np.ndarray) and obj.dtype == object:  # its elements are objects
            self.guard("objects", obj, None, [id(x) for x in obj.ravel()], f"{path} (elements)")
            for x in obj.ravel():
                self.push(x, f"{path}[...]", None, None, None)
            return
        if isinstance(obj, np.ndarray):
            if obj.size > MAX_ARRAY:
                raise TooMuchState(f"it reaches {path}, a numpy array of {obj.size} elements, too large to "
                                   "guard by content")
            self.guard("content", obj, None, obj.copy(), f"{path} (contents)")
            return
        if isinstance(obj, (bytearray, array.array)):
            self.guard("content", obj, None, bytes(obj), f"{path} (contents)")
            return
        if isinstance(obj, weakref.ref):
            self.push(obj(), f"{path}()", _DEREF, obj, None)
            return
        if isinstance(obj, collections.deque):
            self.guard("len", obj, None, len(obj), f"len({path})")
            for i, v in enumerate(list(obj)):
                self.push(v, f"{path}[{i}]", _ITEM, obj, i)
            return
        if isinstance(obj, (dict, types.MappingProxyType)):
            self.guard("keys", obj, None, tuple(obj), f"keys({path})")
            for k, v in list(obj.items()):
                if type(k) not in _ATOM_TYPES:  # a parameter (optimizer state), an object
                    self.push(k, f"{path}[key]", None, None, None)
                self.push(v, f"{path}[{_key_text(k)}]", _ITEM, obj, k)
            if isinstance(obj, collections.defaultdict):
                self.push(obj.default_factory, f"{path}.default_factory", _SLOT, obj, "default_factory")
            self.subclass(obj, path)
            return
        if type(obj).__name__ in ("dict_keys", "dict_values", "dict_items") and hasattr(obj, "mapping"):
            self.push(obj.mapping, f"{path}.mapping", None, None, None)
            return
        if isinstance(obj, list):
            self.guard("len", obj, None, len(obj), f"len({path})")
            for i, v in enumerate(obj):
                self.push(v, f"{path}[{i}]", _ITEM, obj, i)
            self.subclass(obj, path)
            return
        if isinstance(obj, tuple):  # immutable: its items need no place guard
            for i, v in enumerate(obj):
                self.push(v, f"{path}[{i}]", None, None, None)
            self.subclass(obj, path)
            return
        if isinstance(obj, (set, frozenset)):
            self.guard("set", obj, None, _set_key(obj), f"{path}")
            for v in list(obj):
                self.push(v, f"{path}{{member}}", None, None, None)
            self.subclass(obj, path)
            return
        if isinstance(obj, types.ModuleType):
            self.modules.append((obj, path, _is_library(obj)))
            return
        if isinstance(obj, types.MethodType):
            self.push(obj.__self__, f"{path}.__self__", None, None, None)
            self.push(obj.__func__, f"{path}.__func__", None, None, None)
            return
        if isinstance(obj, types.FunctionType):
            self.function(obj, path)
            return
        if isinstance(obj, types.CellType):
            self.push(_cell(obj), f"{path}.cell_contents", _CELL, obj, None)
            return
        if isinstance(obj, type):
            if type(obj) is not type:
                self.push(type(obj), f"type({path})", None, None, None)  # a metaclass's attributes
            for klass in obj.__mro__:
                if klass is object:
                    continue
                if klass is not obj:
                    self.push(klass, f"{path}.__mro__", None, None, None)
                    continue
                if _is_library(klass):
                    self.library_classes.append((klass, path))
                    continue
                for k, v in list(klass.__dict__.items()):
                    if k not in _CLASS_BOOKKEEPING:
                        self.push(v, f"{path}.{k}", _CLASSATTR, klass, k)
            return
        if isinstance(obj, property):
            for part in ("fget", "fset", "fdel"):
                self.push(getattr(obj, part), f"{path}.{part}", None, None, None)
            return
        if isinstance(obj, (staticmethod, classmethod)):
            self.push(obj.__func__, f"{path}.__func__", None, None, None)
            return
        if isinstance(obj, types.BuiltinMethodType) and not isinstance(obj.__self__, (types.ModuleType, type)) \
                and obj.__self__ is not None:
            self.push(obj.__self__, f"{path}.__self__", None, None, None)  # dict.get bound to a config
            return
        if isinstance(obj, memoryview):
            self.guard("content", obj, None, obj.tobytes(), f"{path} (contents)")
            return
        if isinstance(obj, functools._lru_cache_wrapper):
            self.guard("call", obj.cache_info, None, obj.cache_info(), f"{path}.cache_info()")
            self.push(getattr(obj, "__wrapped__", None), f"{path}.__wrapped__", None, None, None)
            return
        if hasattr(type(obj), "__next__") and not isinstance(obj, types.GeneratorType):
            # an iterator: where it stands (a for loop over it inside would move it)
            position = _pickled(obj)
            if position is not None:
                self.guard("call", functools.partial(_pickled, obj), None, position, f"{path} (position)")
        if isinstance(obj, functools.partial):
            self.guard("partial", obj, None, (obj.func, obj.args, obj.keywords), f"{path}")
            for i, v in enumerate((obj.func, obj.args, obj.keywords)):
                self.push(v, f"{path}.{('func', 'args', 'keywords')[i]}", None, None, None)
            return
        if isinstance(obj, (types.BuiltinFunctionType, types.CodeType)):
            return  # held by identity at its place
        if not (hasattr(obj, "__dict__") or hasattr(type(obj), "__slots__")):
            try:  # a C object with a buffer (a ctypes value): by content
                self.guard("content", obj, None, memoryview(obj).tobytes(), f"{path} (contents)")
            except TypeError:
                state = _pickled(obj)  # one that pickles (a decimal context): by its pickled state
                if state is not None:
                    self.guard("call", functools.partial(_pickled, obj), None, state, f"{path} (state)")
            return
        self.instance(obj, path)

    def function(self, fn, path):
        self.guard(_SLOT, fn, "__code__", fn.__code__, f"{path}.__code__")  # reloaded code is a change
        for k, v in list(vars(fn).items()):  # attributes set on the function itself
            if k != "__wrapped__":
                self.push(v, f"{path}.{k}", _ATTR, fn, k)
        self.push(fn.__defaults__, f"{path}.__defaults__", _SLOT, fn, "__defaults__")
        self.push(fn.__kwdefaults__, f"{path}.__kwdefaults__", _SLOT, fn, "__kwdefaults__")
        wrapped = vars(fn).get("__wrapped__")
        if wrapped is not None:
            self.push(wrapped, f"{path}.__wrapped__", _ATTR, fn, "__wrapped__")
        code = fn.__code__
        for name, cell in zip(code.co_freevars, fn.__closure__ or ()):  # a library's closures hold user state too
            self.push(_cell(cell), f"{path}.{name}", _CELL, cell, None)
        if _is_library(fn):
            return  # its module's globals are the library's
        names = set()
        _code_names(code, names, self.attr_names)
        self.state.code_names |= {n for n in names if isinstance(n, str)} | _attribute_names(code)
        g = fn.__globals__
        builtin_names = vars(builtins)
        for name in sorted(n for n in names if isinstance(n, str)):
            # an absent global is guarded absent (a builtin's name defined later shadows it)
            self.push(g.get(name, _MISSING), name if path == "fn" else f"{path}.{name}", _ITEM, g, name)
            if name not in g and name in builtin_names:
                self.guard(_ATTR, builtins, name, builtin_names[name], f"builtins.{name}")
        for _, module in sorted(n for n in names if not isinstance(n, str)):
            for part in _prefixes(module):
                self.push(sys.modules.get(part, _MISSING), f"sys.modules[{part!r}]", _ITEM, sys.modules, part)

    def subclass(self, obj, path):
        """A container subclass's class and instance attributes."""
        if type(obj) not in (dict, list, tuple, types.MappingProxyType, collections.OrderedDict):
            self.instance(obj, path)

    def instance(self, obj, path):
        cls = type(obj)
        self.guard("type", obj, None, cls, f"type({path})")
        self.push(cls, f"type({path})", None, None, None)
        d = getattr(obj, "__dict__", None)
        if isinstance(d, dict):
            self.guard("keys", d, None, tuple(d), f"vars({path})")
            for k, v in list(d.items()):
                self.push(v, f"{path}.{k}", _ATTR, obj, k)
        for klass in cls.__mro__:
            for name in klass.__dict__.get("__slots__", ()):
                if name not in ("__dict__", "__weakref__"):
                    value = getattr(obj, name, _MISSING)
                    self.push(value, f"{path}.{name}", _SLOT, obj, name)


# the names the Tensor class answers at import (a later one in a subclass's MRO shadows it)
_TENSOR_NAMES = frozenset(n for k in Tensor.__mro__[:-1] for n in k.__dict__)
_CLASS_BOOKKEEPING = frozenset({"__dict__", "__weakref__", "__doc__", "__module__", "__qualname__",
                                "__annotations__", "__slots__", "__firstlineno__", "__static_attributes__"})


def _pickled(obj):
    """An iterator's state as bytes (where it stands, nested iterators included), or None."""
    import pickle
    try:
        return pickle.dumps(obj)
    except Exception:
        return None


def _prefixes(name):
    parts = name.split(".")
    return [".".join(parts[:i + 1]) for i in range(len(parts))]


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return _MISSING


def _key_text(k):
    return f"<tensor {list(k.shape)}>" if isinstance(k, Tensor) else repr(k)


def _attribute_names(code):
    names = set(code.co_names) | {c for c in code.co_consts if isinstance(c, str) and c.isidentifier()}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _attribute_names(const)
    return names
