"""A traced function as a program: buffers, kernel calls, and what a replay must do to
the caller's tensors.

Buffers are numbered as the capture saw them.  Each external buffer (read before any
recorded call wrote it) has a *source* read afresh at every replay:

- ``("arg", i)``: the i-th tensor argument's storage;
- ``("data", t)``: the current storage of a tensor the function read from outside
  (a weight in its closure, an optimizer's parameter);
- ``("grad", t)``: the storage of ``t.grad``;
- ``("const", array)``: an array computed from shapes alone (index grids), kept as is.

Effects: ``.grad`` fields the traced call set or cleared, and version counters it
bumped, applied after each replay (``runner.py``) so the caller sees what eager
execution leaves.
"""
import gc


from .._tensor import Tensor
from .capture import Unsupported


class Program:
    def __init__(self, capture, arg_tensors, start, result):
        self.capture = capture
        self.tape = capture.tape
        self.calls = capture.calls
        self.arg_count = len(arg_tensors)
        self.sources = {}  # external buffer -> source
        self.effects = self._effects(arg_tensors, start)
        self.result_template = self._template_of(result)
        self._resolve_sources(arg_tensors, start)
        self.guards = self._tensor_guards(start)
        self.backends = capture.backends

    # ---- where each external buffer comes from ----
    def _resolve_sources(self, arg_tensors, start):
        by_id = {}
        for i, t in enumerate(arg_tensors):
            by_id.setdefault(id(start.data[id(t)]), ("arg", i))
            if start.grad.get(id(t)) is not None:
                by_id.setdefault(id(start.grad[id(t)]._data), ("arggrad", i))
        for t in start.tensors:
            if id(t) in start.data:
                by_id.setdefault(id(start.data[id(t)]), ("data", t))
            g = start.grad.get(id(t))
            if g is not None:
                by_id.setdefault(id(g._data), ("grad", t))
        known = set(self.capture.buffer_of)
        for b in self.capture.external:
            arr = self.capture.arrays[b]
            source = by_id.get(id(arr))
            if source is None:
                source = _owner(arr)
                if source is not None:
                    start.add(source[1])
            if source is None:
                if _views_known(arr, known):
                    raise Unsupported("an op derived an array from a tensor outside the backend "
                                      f"({self.tape.label or 'unknown op'})")
                source = ("const", arr)
            self.sources[b] = source

    def _tensor_guards(self, start):
        """(tensor, kind, shape, dtype, strides, requires_grad, grad_is_none) per tensor
        source."""
        guards = []
        for b, source in self.sources.items():
            if source[0] in ("data", "grad"):
                t = source[1]
                arr = self.capture.arrays[b]
                g = start.grad.get(id(t))
                guards.append((t, source[0], arr.shape, arr.dtype, arr.strides,
                               start.requires_grad[id(t)], g is None))
        return guards

    def guards_pass(self):
        for t, kind, shape, dtype, strides, requires_grad, grad_none in self.guards:
            if t._requires_grad != requires_grad or (t._grad is None) != grad_none:
                return False
            arr = t._data if kind == "data" else t._grad._data
            if arr.shape != shape or arr.dtype != dtype or arr.strides != strides:
                return False
        return True

    def _effects(self, arg_tensors, start):
        effects = []
        targets = [(("arg", i), t) for i, t in enumerate(arg_tensors)]
        targets += [(("obj", t), t) for t in start.tensors]
        for target, t in targets:
            if t._data is not start.data[id(t)]:
                raise Unsupported(f"the function replaced a tensor's storage ({list(t.shape)} .data =)")
            bumped = t._version[0] - start.version[id(t)]
            if bumped:
                effects.append(("version", target, bumped))
            before, after = start.grad.get(id(t)), t._grad
            if after is before:
                continue
            if after is None:
                effects.append(("grad_none", target))
            else:
                b = self._locate(after._data)
                if b is None:
                    raise Unsupported("a .grad was set to a tensor computed outside the backend")
                effects.append(("grad_set", target, b))
        return effects

    def _locate(self, arr):
        """The buffer of an array the function hands back: a recorded one, or a numpy
        view of one made outside the backend."""
        b = self.capture.buffer_of.get(id(arr))
        if b is None and getattr(arr, "base", None) is not None and id(arr.base) in self.capture.buffer_of:
            b = self.capture._first_sight(arr)
        return b

    def _template_of(self, value):
        if isinstance(value, Tensor):
            b = self._locate(value._data)
            if b is None:
                raise Unsupported("the function returned a tensor computed outside the backend")
            return ("t", b, value._backend)
        if isinstance(value, (list, tuple)):
            return ("seq", type(value), [self._template_of(v) for v in value])
        if isinstance(value, dict):
            return ("dict", {k: self._template_of(v) for k, v in value.items()})
        return ("c", value)

    # ---- what the replay needs and gives back ----
    def result_buffers(self):
        wanted = []

        def walk(tpl):
            if tpl[0] == "t":
                wanted.append(tpl[1])
            elif tpl[0] == "seq":
                for x in tpl[2]:
                    walk(x)
            elif tpl[0] == "dict":
                for x in tpl[1].values():
                    walk(x)
        walk(self.result_template)
        wanted += [e[2] for e in self.effects if e[0] == "grad_set"]
        return list(dict.fromkeys(wanted))


class StartState:
    """What the tensors a trace may touch looked like before it ran."""

    def __init__(self, arg_tensors, reachable_tensors):
        self.tensors = [t for t in reachable_tensors if not any(t is a for a in arg_tensors)]
        everything = list(arg_tensors) + self.tensors
        self.data = {id(t): t._data for t in everything}  # holding them keeps ids unique
        self.grad = {id(t): t._grad for t in everything}
        self.version = {id(t): t._version[0] for t in everything}
        self.requires_grad = {id(t): t._requires_grad for t in everything}
        self.keep = everything

    def add(self, t):
        """A tensor found only after the trace (through the garbage collector)."""
        if id(t) not in self.data:
            self.tensors.append(t)
            self.keep.append(t)
            self.data[id(t)], self.grad[id(t)] = t._data, t._grad
            self.version[id(t)], self.requires_grad[id(t)] = t._version[0], t._requires_grad


def _owner(arr):
    """A tensor whose storage is ``arr``, found through the garbage collector (a tensor
    the function reached by a path the state walk did not follow)."""
    for ref in gc.get_referrers(arr):
        if isinstance(ref, Tensor) and ref._data is arr:
            return ("data", ref)
    return None


def _views_known(arr, known):
    base = getattr(arr, "base", None)
    while base is not None:
        if id(base) in known:
            return True
        base = getattr(base, "base", None)
    return False
