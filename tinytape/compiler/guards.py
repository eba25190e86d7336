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
import dis
import struct
import os
import sys
import sysconfig
import types

import numpy as np

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


_DOUBLE = struct.Struct("<d")


def float_bits(v):
    """A float's (or complex's) bits: ``0.0`` is not ``-0.0``, nor a nan another sign's
    nan (``math.copysign(1, a)`` tells them apart, and an op's result keeps the sign)."""
    if type(v) is complex:
        return _DOUBLE.pack(v.real) + _DOUBLE.pack(v.imag)
    return _DOUBLE.pack(v)


def same_atom(a, b):
    """``a`` and ``b`` are the same immutable value: same type, same value, the same
    bits for floats (zeros and nans of the same sign)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (float, complex)):
        return float_bits(a) == float_bits(b)
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


# names through which the user's own code could read a param group's entries: where its
# code uses none of them, only the optimizer reads the learning rate
_GROUP_READERS = frozenset({"lr", "param_groups", "state_dict", "items", "values", "vars", "getattr",
                            "__dict__", "copy", "deepcopy", "dumps", "dump", "save"})


def with_inputs(guards, inputs, code_names=frozenset()):
    """``guards`` with the places that are program inputs (``(container, key, index,
    truth)``: ``capture.number_input``, whose value each replay reads) checked by type
    only (and by whether it is 0 where the library branched on that; a tuple's other
    elements by value) — where the user's code reached (``code_names``) has no way to read
    them itself (a branch on the learning rate would be a constant of the trace: those
    keep their value guard)."""
    if code_names & _GROUP_READERS:
        return guards
    places = {}
    for c, k, index, truth in inputs:
        was = places.get((id(c), k), (index, False))
        places[(id(c), k)] = (index, truth or was[1])
    out = []
    for g in guards:
        place = places.get((id(g.container), g.key)) if g.kind == _ITEM else None
        if place is not None and place[0] is None and type(g.value) in _ATOM_TYPES:
            g = (Guard("item_truth", g.container, g.key, (type(g.value), bool(g.value)), g.path) if place[1]
                 else Guard("item_type", g.container, g.key, type(g.value), g.path))
        elif place is not None and place[0] is not None and type(g.value) is tuple:
            g = Guard("item_tuple", g.container, g.key, (g.value, place[0]), g.path)
        out.append(g)
    return out


def _tuple_but(current, value):
    """The tuple at an ``item_tuple`` guard's place has the traced tuple's elements, but
    for a float at the program input's index."""
    old, index = value
    return type(current) is tuple and len(current) == len(old) and type(current[index]) is float and all(
        i == index or current[i] is old[i] or type(old[i]) in _ATOM_TYPES and same_atom(current[i], old[i])
        for i in range(len(old)))


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
    if g.kind == "item_truth":
        current = _lookup(_ITEM, g.container, g.key)
        return type(current) is g.value[0] and bool(current) == g.value[1]
    if g.kind == "item_tuple":
        return _tuple_but(_lookup(_ITEM, g.container, g.key), g.value)
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
                 "_set_key": _set_key, "_same_objects": _same_objects, "_tuple_but": _tuple_but}
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
        if g.kind == "item_truth":
            terms.append(f"(type({c}[{k}]) is {v}[0] and bool({c}[{k}]) == {v}[1])")
            continue
        if g.kind == "item_tuple":
            terms.append(f"_tuple_but({c}[{k}], {v})")
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
        elif type(value) in (float, complex):
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
    return type(current) is type(value) and float_bits(current) == float_bits(value)


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
    return frozenset(((type(x), float_bits(x)) if type(x) in (float, complex) else (type(x), repr(x)))
                     if type(x) in _ATOM_TYPES else (type(x), id(x)) for x in s)


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
    if current.shape != snapshot.shape or current.dtype != snapshot.dtype:
        return False
    if current.dtype.kind in "fc":  # by bits: -0.0 is not 0.0, nor -nan nan
        return current.tobytes() == snapshot.tobytes()
    return np.array_equal(current, snapshot)


# the walk (walker.py) reads this module's names: imported last
from .walker import (  # noqa: E402,F401
    _CLASS_BOOKKEEPING, _Walker, _attribute_names, _cell, _key_text, _pickled, _prefixes, reachable_state)
