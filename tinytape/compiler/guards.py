"""What a compiled program depends on besides its tensor arguments, and the check that a
later call may replay it.

A traced function reads state it did not receive as a tensor argument: weights in its
closure, a model or an optimizer passed as an argument, a learning rate in a param group,
a loss module's ``reduction``, a config module's attributes, a default argument.  The
trace cannot see which of these it read, so ``reachable_state`` walks everything the
function *can* reach, with no depth limit, and guards all of it:

- every place an object is reached from (a closure cell, a global, an attribute, a list
  or dict entry, a default argument) holds the same object (``is``), at every place, not
  only the first one the walk found;
- every atom (None, bool, int, float, str, bytes) has the same type and value: ``2`` is
  not ``2.0``, ``0.0`` is not ``-0.0``, a nan stays a nan;
- every container keeps its length (lists) or its keys in order (dicts), every object
  its class and its own attribute names (so an instance attribute that starts shadowing
  a class attribute is a change), and the class attributes of user classes their values;
- the hooks registered on the tensors it reaches are the same hooks.

Functions are followed into their closures, the globals their code names, their default
arguments and ``__wrapped__``; user modules into the attributes any reached code names.
Library code (tinytape's, numpy's, the standard library's) is guarded by identity and not
entered; tinytape's stateful objects (modules, optimizers, schedulers) are entered, since
they hold the user's state.  The tensors found are returned so the program can read their
current storage at each replay.
"""
import array
import builtins
import collections
import dis
import functools
import math
import os
import sys
import sysconfig
import types
import weakref

import numpy as np

from .._tensor import Tensor

MAX_OBJECTS = 50_000  # reachable objects past which a function is refused, not guarded
MAX_ARRAY = 10_000_000  # elements of a reachable numpy array past which it is refused, not compared
_ATOMS = ATOMS = (type(None), bool, int, float, complex, str, bytes)
_ATOM_TYPES = frozenset(_ATOMS)  # exactly these: a subclass (an IntEnum member, a str with attributes) is an object
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIBRARY_DIRS = tuple({os.path.abspath(p) for p in (
    sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"],
    sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"])} | {_PACKAGE_DIR})
_CELL, _ITEM, _ATTR, _SLOT, _CLASSATTR, _DEREF = "cell", "item", "attr", "slot", "classattr", "deref"


class TooMuchState(Exception):
    pass


def is_library_file(filename):
    """Code of tinytape's, of an installed package's or of the standard library's (code
    compiled from a string, a notebook cell's, is the user's)."""
    return os.path.abspath(filename or "").startswith(_LIBRARY_DIRS)


def _is_library(obj):
    """A function, module or class from tinytape, an installed package or the standard
    library: held by identity, not entered."""
    if isinstance(obj, types.FunctionType):
        return is_library_file(obj.__code__.co_filename)
    module = obj if isinstance(obj, types.ModuleType) else sys.modules.get(getattr(obj, "__module__", None) or "")
    if module is None:
        return False
    if module.__name__ == "builtins":
        return True
    file = getattr(module, "__file__", None)
    return file is not None and is_library_file(file)


def _code_names(code, globals_out, attrs_out):
    """Names the code reads or assigns as globals, and every attribute name it uses (and
    its string constants: ``getattr(cfg, "lr")``)."""
    for ins in dis.get_instructions(code):
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "DELETE_GLOBAL"):
            globals_out.add(ins.argval)
        elif ins.opname == "IMPORT_NAME":  # a module imported inside: found in sys.modules
            globals_out.add(("import", ins.argval))
    attrs_out.update(code.co_names)
    attrs_out.update(c for c in code.co_consts if isinstance(c, str) and c.isidentifier())
    for const in code.co_consts:  # nested functions and comprehensions
        if isinstance(const, types.CodeType):
            _code_names(const, globals_out, attrs_out)


def same_atom(a, b):
    """``a`` and ``b`` are the same immutable value: same type, same value, zeros of the
    same sign, nan for nan."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b) or (a != a and b != b)
    if type(a) is complex:
        return same_atom(a.real, b.real) and same_atom(a.imag, b.imag)
    return a == b


class Guard:
    """One check: ``place`` (a container and a key of some kind) still holds ``value``."""
    __slots__ = ("kind", "container", "key", "value", "path")

    def __init__(self, kind, container, key, value, path):
        self.kind, self.container, self.key, self.value, self.path = kind, container, key, value, path


_MISSING = object()


def _lookup(kind, container, key):
    try:
        if kind == _CELL:
            return container.cell_contents
        if kind == _ITEM:
            return container.get(key, _MISSING) if hasattr(container, "get") else container[key]
        if kind == _DEREF:
            return container()
        if kind == _ATTR:
            return vars(container).get(key, _MISSING)
        if kind == _CLASSATTR:
            return container.__dict__.get(key, _MISSING)
        return getattr(container, key, _MISSING)  # a slot
    except (ValueError, IndexError, KeyError, TypeError):
        return _MISSING


class State:
    """The result of a walk: the guards, the tensors found (with a path naming each) and
    what made the walk refuse, if anything."""

    def __init__(self):
        self.guards = []
        self.tensors = {}  # id -> (tensor, path)
        self.random_streams = []  # numpy generators it reaches: a draw from one refuses the compile
        self.refused = None
        self.code_names = set()  # the names the user's code reached uses: globals, attributes, strings


def reachable_state(fn, args=(), kwargs=None, arg_tensors=()):
    """Walk what ``fn`` can reach (and the non-tensor objects among its arguments;
    ``arg_tensors``, the tensor arguments, are described by the signature)."""
    state = State()
    walker = _Walker(state)
    walker.arg_tensors = {id(t) for t in arg_tensors}
    try:
        walker.roots(fn, args, kwargs or {})
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


# names through which the user's own code could read a param group's entries: where its
# code uses none of them, only the optimizer reads the learning rate
_GROUP_READERS = frozenset({"lr", "param_groups", "state_dict", "items", "values", "vars", "getattr",
                            "__dict__", "copy", "deepcopy", "dumps", "dump", "save"})


def with_inputs(guards, inputs, code_names=frozenset()):
    """``guards`` with the places that are program inputs (``(container, key)`` pairs
    whose value each replay reads: ``capture.number_input``) checked by type only — where
    the user's code reached (``code_names``) has no way to read them itself (a branch on
    the learning rate would be a constant of the trace: those keep their value guard)."""
    if code_names & _GROUP_READERS:
        return guards
    places = {(id(c), k) for c, k in inputs}
    out = []
    for g in guards:
        if g.kind == _ITEM and (id(g.container), g.key) in places and type(g.value) in _ATOM_TYPES:
            g = Guard("item_type", g.container, g.key, type(g.value), g.path)
        out.append(g)
    return out


def first_changed(guards):
    """The path of the first guard that no longer holds, or None."""
    for g in guards:
        if not _holds(g):
            return g.path
    return None


def _holds(g):
    if g.kind == "keys":
        current = tuple(g.container)
        return len(current) == len(g.value) and all(a is b or same_atom(a, b) for a, b in zip(current, g.value))
    if g.kind == "len":
        return _len(g.container) == g.value
    if g.kind == "content":
        return _same_content(g.container, g.value)
    if g.kind == "objects":
        return _same_objects(g.container, g.value)
    if g.kind == "call":
        return _same_call(g.container, g.value)
    if g.kind == "set":
        return _set_key(g.container) == g.value
    if g.kind == "type":
        return type(g.container) is g.value
    if g.kind == "item_type":
        return type(_lookup(_ITEM, g.container, g.key)) is g.value
    if g.kind == "partial":
        c = g.container
        return c.func is g.value[0] and c.args is g.value[1] and c.keywords is g.value[2]
    current = _lookup(g.kind, g.container, g.key)
    if type(g.value) in _ATOM_TYPES:
        return same_atom(current, g.value)
    return current is g.value


def guard_function(guards):
    """``first_changed(guards) is None`` as one generated expression (a replay checks them
    on every call: one expression costs a fraction of a loop over the list)."""
    namespace = {"_missing": _MISSING, "_same_float": _same_float, "_keys_same": _keys_same,
                 "_same_content": _same_content, "_same_call": _same_call, "_len": _len,
                 "_set_key": _set_key, "_same_objects": _same_objects}
    terms = []
    for i, g in enumerate(guards):
        c, k, v = f"c{i}", f"k{i}", f"v{i}"
        namespace[c], namespace[k], namespace[v] = g.container, g.key, g.value
        if g.kind == "keys":
            terms.append(f"_keys_same({c}, {v})")
            continue
        if g.kind == "len":
            terms.append(f"_len({c}) == {v}")
            continue
        if g.kind == "content":
            terms.append(f"_same_content({c}, {v})")
            continue
        if g.kind == "call":
            terms.append(f"_same_call({c}, {v})")
            continue
        if g.kind == "set":
            terms.append(f"_set_key({c}) == {v}")
            continue
        if g.kind == "objects":
            terms.append(f"_same_objects({c}, {v})")
            continue
        if g.kind == "type":
            terms.append(f"type({c}) is {v}")
            continue
        if g.kind == "item_type":
            terms.append(f"type({c}[{k}]) is {v}")
            continue
        if g.kind == "partial":
            terms.append(f"({c}.func is {v}[0] and {c}.args is {v}[1] and {c}.keywords is {v}[2])")
            continue
        if g.kind == _CELL:
            current = f"{c}.cell_contents"
        elif g.kind == _ITEM:
            current = f"{c}.get({k}, _missing)" if hasattr(g.container, "get") else \
                f"({c}[{k}] if {k} < len({c}) else _missing)"
        elif g.kind == _DEREF:
            current = f"{c}()"
        elif g.kind == _ATTR:
            current = f"{c}.__dict__.get({k}, _missing)"
        elif g.kind == _CLASSATTR:
            current = f"{c}.__dict__.get({k}, _missing)"
        else:
            current = f"getattr({c}, {k}, _missing)"
        value = g.value
        if value is None or type(value) is bool:
            terms.append(f"{current} is {v}")
        elif type(value) is float:
            terms.append(f"_same_float({current}, {v})")
        elif type(value) in _ATOM_TYPES:
            terms.append(f"(type({current}) is type({v}) and {current} == {v})")
        else:
            terms.append(f"{current} is {v}")
    body = " and ".join(terms) or "True"
    source = f"def unchanged():\n    try:\n        return {body}\n    except Exception:\n        return False\n"
    exec(source, namespace)
    return namespace["unchanged"]


def _same_float(current, value):
    return type(current) is type(value) and (current == value and math.copysign(1.0, current) == math.copysign(1.0, value)
                                       or (current != current and value != value))


def _keys_same(d, keys):
    if len(d) != len(keys):
        return False
    for a, b in zip(d, keys):
        if a is not b and not same_atom(a, b):
            return False
    return True


def _len(c):
    """A list's (or deque's) own length, whatever a subclass's __len__ says."""
    return list.__len__(c) if isinstance(c, list) else len(c)


def _set_key(s):
    """A set's members: atoms by type and spelling (0.0 is not -0.0, 1 is not True), the
    rest by identity (an __eq__ that lies can't hide a swap)."""
    return frozenset((type(x), repr(x)) if type(x) in _ATOM_TYPES else (type(x), id(x)) for x in s)


def _same_objects(arr, ids):
    return arr.size == len(ids) and all(id(x) == i for x, i in zip(arr.ravel(), ids))


def _same_call(method, value):
    """What a method answers is what it answered (an lru_cache's info, an iterator's place)."""
    try:
        now = method()
    except Exception:
        return False
    try:
        return bool(now == value)
    except Exception:
        return False


def _same_content(current, snapshot):
    if isinstance(snapshot, bytes):
        try:
            return memoryview(current).tobytes() == snapshot
        except TypeError:
            return False
    return current.shape == snapshot.shape and current.dtype == snapshot.dtype and (
        np.array_equal(current, snapshot, equal_nan=current.dtype.kind in "fc"))
