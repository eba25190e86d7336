"""What a compiled program depends on besides its arguments, and the checks that a
later call may replay it.

A traced function reads tensors it did not receive (weights in its closure, an
optimizer's parameters) and Python numbers (a learning rate).  ``reachable_state``
walks what the function can see (closure cells, the globals it names, the attributes
and containers of those objects, a few levels deep) and returns the tensors and the
numbers it finds.  The numbers are guarded by value, so changing ``lr`` traces again;
a number the function itself changes (Adam's step count) cannot be replayed.  The
tensors and objects on the way are guarded by identity where they were found (a global,
a closure cell, an attribute, a list or dict entry): rebinding ``w = other`` or
``model.fc = nn.Linear(...)`` traces again instead of replaying the old tensor.
"""
import dis
import numbers
import types

from .._tensor import Tensor

_MAX_DEPTH = 5
_MAX_OBJECTS = 5000
_SKIP = (types.ModuleType, type, types.BuiltinFunctionType, str, bytes)


def _roots(fn):
    """(name, object, container, key) of what the function reads from outside its
    arguments; ``container[key]`` (or its attribute ``key``) is where the object was found,
    None where it can't be rebound."""
    fn = getattr(fn, "__wrapped__", fn)
    if isinstance(fn, types.MethodType):
        yield "self", fn.__self__, None, None
        fn = fn.__func__
    code = getattr(fn, "__code__", None)
    if code is None:
        yield "fn", fn, None, None  # a callable object: its attributes
        return
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            yield name, cell.cell_contents, cell, "cell_contents"
        except ValueError:  # an empty cell
            pass
    names = _global_names(code)
    g = fn.__globals__
    for name in sorted(names):
        if name in g:
            yield name, g[name], g, name


def _global_names(code):
    """Names the code reads as globals (co_names also holds attribute names)."""
    names = set()
    for ins in dis.get_instructions(code):
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
            names.add(ins.argval)
    for const in code.co_consts:  # nested functions and comprehensions
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def reachable_state(fn):
    """(tensors, guards): each tensor found once with a path naming it; guards as
    (container, key, value, path) with ``container`` a dict, a list or an object, or a
    ``_Length`` / ``_Same`` wrapper of one (numbers compare by value, the rest by identity)."""
    tensors, scalars = {}, []
    seen = set()
    stack = [(obj, name, 0, container, key) for name, obj, container, key in _roots(fn)]
    while stack and len(seen) < _MAX_OBJECTS:
        obj, path, depth, container, key = stack.pop()
        if id(obj) in seen or isinstance(obj, _SKIP) or obj is None or hasattr(obj, "programs"):
            continue
        seen.add(id(obj))
        if container is not None and not isinstance(container, tuple):
            scalars.append((_Same(container), key, obj, path))
        if isinstance(obj, Tensor):
            tensors.setdefault(id(obj), (obj, path))
            continue
        if depth >= _MAX_DEPTH:
            continue
        if isinstance(obj, (dict, list)):
            scalars.append((_Length(obj), None, len(obj), f"len({path})"))
        if isinstance(obj, dict):
            items = list(obj.items())
            for k, v in items:
                if _is_number(v):
                    scalars.append((obj, k, v, f"{path}[{k!r}]"))
                elif isinstance(k, Tensor):  # optimizer state keyed by parameter
                    stack.append((k, f"{path}[key]", depth + 1, None, None))
                    stack.append((v, f"{path}[{k_path(k)}]", depth + 1, obj, k))
                else:
                    stack.append((v, f"{path}[{k!r}]", depth + 1, obj, k))
        elif isinstance(obj, (list, tuple)):
            for i, v in enumerate(obj):
                stack.append((v, f"{path}[{i}]", depth + 1, obj, i))
        elif isinstance(obj, types.FunctionType):
            for name, v, container, key in _roots(obj):
                stack.append((v, f"{path}.{name}", depth + 1, container, key))
        elif hasattr(obj, "__dict__") and not callable(getattr(obj, "__call__", None)) or \
                _is_library_object(obj):
            for k, v in vars(obj).items():
                if _is_number(v):
                    scalars.append((obj, k, v, f"{path}.{k}"))
                else:
                    stack.append((v, f"{path}.{k}", depth + 1, obj, k))
    return list(tensors.values()), scalars


def k_path(t):
    return f"<tensor {list(t.shape)}>"


def _is_number(v):
    return isinstance(v, numbers.Number) and not isinstance(v, Tensor)


def _is_library_object(obj):
    """tinytape's own stateful objects (optimizers, modules) and user subclasses of them."""
    return hasattr(obj, "__dict__") and any(
        c.__module__.startswith("tinytape.") for c in type(obj).__mro__ if c is not object)


class _Length:
    """Guards a container's length: an optimizer's state filling up changes what runs."""
    __slots__ = ("container",)

    def __init__(self, container):
        self.container = container


class _Same:
    """Guards that ``container[key]`` (or its attribute ``key``) is still the same object."""
    __slots__ = ("container",)

    def __init__(self, container):
        self.container = container


def _lookup(container, key, missing=None):
    if isinstance(container, dict):
        return container.get(key, missing)
    if isinstance(container, list):
        return container[key] if key < len(container) else missing
    return getattr(container, key, missing)


def numbers_unchanged(scalars):
    """The path of the first guarded number whose value differs, or None."""
    for container, key, value, path in scalars:
        if type(container) is _Length:
            if len(container.container) != value:
                return path
        elif type(container) is _Same:
            if _lookup(container.container, key) is not value:
                return path
        else:
            current = _lookup(container, key)
            if current != value or type(current) is not type(value):
                return path
    return None


def guard_function(scalars):
    """``numbers_unchanged`` for these guards as one generated expression (a replay
    checks them on every call: ~1 us instead of a loop over the list)."""
    namespace, terms = {"_missing": object()}, []
    for i, (container, key, value, path) in enumerate(scalars):
        wrapped = type(container) in (_Length, _Same)
        c = container.container if wrapped else container
        namespace[f"c{i}"], namespace[f"k{i}"], namespace[f"v{i}"] = c, key, value
        if type(container) is _Length:
            terms.append(f"len(c{i}) == v{i}")
            continue
        if isinstance(c, dict):
            current = f"c{i}.get(k{i}, _missing)"
        elif isinstance(c, list):  # lengths are guarded before their entries
            current = f"(c{i}[k{i}] if k{i} < len(c{i}) else _missing)"
        else:
            current = f"getattr(c{i}, k{i}, _missing)"
        if type(container) is _Same:
            terms.append(f"{current} is v{i}")
        else:
            terms.append(f"{current} == v{i}")
    source = "def unchanged():\n    return " + (" and ".join(terms) or "True") + "\n"
    exec(source, namespace)
    return namespace["unchanged"]
