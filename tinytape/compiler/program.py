"""A traced function as a program: buffers, kernel calls, and what a replay must do to
the caller's tensors.

Buffers are numbered as the capture saw them.  Each external buffer (read before any
recorded call wrote it) has a *source* read afresh at every replay:

- ``("arg", i)``: the i-th tensor argument's storage;
- ``("data", t)``: the current storage of a tensor the function read from outside
  (a weight in its closure, an optimizer's parameter);
- ``("grad", t)``: the storage of ``t.grad``;
- ``("number", (container, key, index, truth))``: ``container[key]`` (``[index]``), a Python number read afresh
  (``capture.number_input``: a learning rate), as a 0-d float64 array;
- ``("scalar", (expression, type, kernel, dtype, array))``: a number argument's
  expression (``lr * 0.5``) evaluated on the call's numbers, made a 0-d array by the
  backend's ``scalar`` kernel as eager makes it (``scalars.py``);
- ``("live", array)``: a random generator's state, which a replayed draw (dropout)
  reads and advances in place;
- ``("const", array)``: an array no tensor of the caller's holds (index grids, a tensor
  the function made from host data), kept as it was when the trace first read it.

Effects: ``.grad`` fields the traced call set or cleared, and version counters it
bumped, applied after each replay (``runner.py``) so the caller sees what eager
execution leaves.
"""
import gc

import numpy as np

from .._tensor import Tensor
from .capture import Unsupported
from .guards import ATOMS as _ATOMS


class Program:
    def __init__(self, capture, arg_tensors, start, result, host_arrays=(), created=None, host_made=None,
                 raw_args=(), reachable=None):
        self.capture = capture
        self.tape = capture.tape
        self.calls = capture.calls
        self.arg_count = len(arg_tensors)
        self.sources = {}  # external buffer -> source
        self.start = start
        self.created = created if created is not None else {}
        self.host_made = host_made if host_made is not None else {}
        self._arg_tensors = arg_tensors
        self.effects = self._effects(arg_tensors, start)
        self._known = {id(t): ("arg", i) for i, t in enumerate(arg_tensors)}
        for t in start.tensors:
            self._known.setdefault(id(t), ("obj", t))
        self._results = {}  # id(tensor or container) -> template: one object returned twice is one object
        self._keep_results = []  # the containers, so their ids stay theirs
        self._grads = {}  # id(t.grad) -> where t is, for the tensors the program may touch
        for t, where in [(t, ("arg", i)) for i, t in enumerate(arg_tensors)] + [(t, ("obj", t)) for t in start.tensors]:
            if t._grad is not None:
                self._grads.setdefault(id(t._grad), where)
        self._raw = {id(v): ("raw", i) for i, v in enumerate(raw_args or ()) if not isinstance(v, _ATOMS + (Tensor,))}
        self.reachable = reachable if reachable is not None else set()
        self._made_results = []  # the tensors it made and returns
        self.result_template = self._template_of(result)
        _no_shared_results(self._made_results)
        self._resolve_sources(arg_tensors, start)
        self.guards = self._tensor_guards(start)
        self.host_guards = [(a, a.copy()) for a in {id(a): a for a in host_arrays}.values()]
        self.arg_storages = self._arg_storages(arg_tensors, start)
        self.backends = capture.backends
        self.written = {b for *_, out in capture.calls
                        for b in (out if isinstance(out, tuple) else (out,)) if b is not None}
        self.written |= {c[2][0][1] for c in capture.calls if c[4] is None and c[2] and c[2][0][0] == "b"}
        # the values code generation reads, as the trace left them: the caller may write into a
        # returned constant before the fused code is generated (on the fusing thread)
        # (each array's first element: a constant's value, or a value folded from constants,
        # one number broadcast)
        self.trace_values = {b: arr.flat[0] for b, arr in enumerate(capture.arrays)
                             if isinstance(arr, np.ndarray) and arr.size}
        self.constant_values = {out: capture.arrays[out].copy() for _, kernel, _, _, out in capture.calls
                                if kernel in ("scalar", "full") and isinstance(out, int)
                                and hasattr(capture.arrays[out], "copy")}

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
        for arr in self.capture.engines:
            by_id.setdefault(id(arr), ("live", arr))
        known = set(self.capture.buffer_of)
        # the tensors the trace made, by storage: most constants' owners, found without
        # asking the garbage collector (a heap walk per buffer)
        made = {id(t._data): t for t in self.created.values()}
        unowned = [self.capture.arrays[b] for b in self.capture.external
                   if b not in self.capture.number_inputs and b not in self.capture.scalar_inputs
                   and id(self.capture.arrays[b]) not in by_id
                   and id(self.capture.arrays[b]) not in made]
        made.update(_owners(unowned))  # one heap walk for all of them
        for b in self.capture.external:
            arr = self.capture.arrays[b]
            if b in self.capture.number_inputs:
                self.sources[b] = ("number", self.capture.number_inputs[b])
                continue
            if b in self.capture.scalar_inputs:
                self.sources[b] = ("scalar", self.capture.scalar_inputs[b])
                continue
            source = by_id.get(id(arr))
            if source is None:
                owner = made.get(id(arr))
                if owner is not None and id(owner) not in self.created:
                    raise Unsupported(
                        f"{self.capture.reader(b)} reads a tensor {list(owner.shape)} that the function "
                        "reaches by a path the compiler cannot guard (not an argument, a global, a "
                        "closure variable or an attribute of one)")
                if owner is not None and id(owner) not in self.host_made:
                    # made during the trace from another tensor's values outside the
                    # backend: a replay would reuse the trace's values
                    raise Unsupported(f"{self.capture.reader(b)} uses a tensor {list(owner.shape)} computed "
                                      "outside the backend's kernels, which a replay would not recompute")
            if source is None:
                if _views_known(arr, known):
                    raise Unsupported("an op derived an array from a tensor outside the backend "
                                      f"({self.capture.reader(b)})")
                source = ("const", self.capture.first_values.get(b, arr))
            self.sources[b] = source

    def _tensor_guards(self, start):
        """(tensor, kind, shape, dtype, strides, requires_grad, grad_is_none) per tensor
        source."""
        self.state_data = [(source[1], self.capture.arrays[b]) for b, source in self.sources.items()
                           if source[0] == "data"]
        guards = []
        for b, source in self.sources.items():
            if source[0] in ("data", "grad"):
                t = source[1]
                arr = self.capture.arrays[b]
                g = start.grad.get(id(t))
                guards.append((t, source[0], arr.shape, arr.dtype, arr.strides,
                               start.requires_grad[id(t)], g is None))
        return guards

    def guards_pass(self, arg_tensors=()):
        for t, kind, shape, dtype, strides, requires_grad, grad_none in self.guards:
            if t._requires_grad != requires_grad or (t._grad is None) != grad_none:
                return False
            arr = t._data if kind == "data" else t._grad._data
            if arr.shape != shape or arr.dtype != dtype or arr.strides != strides:
                return False
        for t, data in self.state_data:  # ``p.data = other`` since: the program read the old storage's place
            if t._data is not data:
                return False
        for arr, copy in self.host_guards:
            if not _same_bits(arr, copy):
                return False
        storages = self.arg_storages
        if storages is not None:
            owned = storages[0]
            for t, expected in zip(arg_tensors, storages[1]):
                if owned.get(id(_storage(t._data))) != expected:
                    return False
        return True

    def _arg_storages(self, arg_tensors, start):
        """({id(storage): (tensor index, offset)} of the state tensors, and per argument the
        entry it had there): an argument that is (or views) a tensor the function also
        reads from outside must be so again, at the same place, for the program to hold."""
        owned = {}
        for j, t in enumerate(start.tensors):
            owned.setdefault(id(_storage(start.data[id(t)])), j)
            g = start.grad.get(id(t))
            if g is not None:  # an argument that is a .grad the function also reaches
                owned.setdefault(id(_storage(g._data)), ("grad", j))
        if not owned:
            return None
        expected = []
        for t in arg_tensors:
            j = owned.get(id(_storage(t._data)))
            expected.append(j)
        self._storage_refs = [start.data[id(t)] for t in start.tensors] + [
            g._data for g in start.grad.values() if g is not None]
        return owned, tuple(expected)

    def _effects(self, arg_tensors, start):
        effects = []
        targets = [(("arg", i), t) for i, t in enumerate(arg_tensors)]
        targets += [(("obj", t), t) for t in start.tensors if not any(t is a for a in arg_tensors)]
        counters = set()  # views share their base's version counter: each counter is bumped once
        for target, t in targets:
            if t._data is not start.data[id(t)]:
                raise Unsupported(f"the function replaced a tensor's storage ({list(t.shape)} .data =)")
            bumped = t._version_counter[0] - start.version[id(t)]
            if bumped and id(t._version_counter) not in counters:
                effects.append(("version", target, bumped))
            counters.add(id(t._version_counter))
            if t._requires_grad != start.requires_grad[id(t)]:
                effects.append(("requires_grad", target, t._requires_grad))
            before, after = start.grad.get(id(t)), t._grad
            if after is not None and after is not before and after._grad_fn is not None:
                raise Unsupported(f"it sets a .grad {list(t.shape)} that carries an autograd graph "
                                  "(create_graph=True), which a replay does not rebuild")
            if after is not before and after is not None and id(after) in self._known_ids():
                effects.append(("grad_is", target, self._known_ids()[id(after)]))
                continue
            if after is before:
                if before is not None and id(before._version_counter) not in counters:
                    bumped = before._version_counter[0] - start.grad_version[id(t)]
                    if bumped:  # a gradient accumulated in place
                        effects.append(("grad_version", target, bumped))
                    counters.add(id(before._version_counter))
                continue
            if after is None:
                effects.append(("grad_none", target))
            else:
                b = self._locate(after._data)
                if b is None:
                    raise Unsupported("a .grad was set to a tensor computed outside the backend")
                effects.append(("grad_set", target, b))
        return effects

    def _known_ids(self):
        """id -> where, for the tensor arguments and the tensors from outside."""
        known = {id(t): ("arg", i) for i, t in enumerate(self._arg_tensors)}
        for t in self.start.tensors:
            known.setdefault(id(t), ("obj", t))
        return known

    def _locate(self, arr):
        """The buffer of an array the function hands back: a recorded one, or a numpy
        view of one made outside the backend."""
        b = self.capture.buffer_of.get(id(arr))
        if b is None and getattr(arr, "base", None) is not None and id(arr.base) in self.capture.buffer_of:
            b = self.capture._first_sight(arr)
        return b

    def _template_of(self, value):
        done = self._results.get(id(value))
        if done is not None:  # one object returned twice is one object
            return done
        if isinstance(value, Tensor):
            known = self._known.get(id(value))
            grad_of = self._grads.get(id(value))
            if known is not None:  # an argument or a tensor from outside, returned as itself
                tpl = ("same",) + known
            elif grad_of is not None:  # the .grad of one, as the replay leaves it
                tpl = ("grad",) + grad_of
            else:
                if _shares_storage(value, self.start):
                    raise Unsupported(f"it returns a view {list(value.shape)} of a tensor it received or "
                                      "reads from outside, which a replay would return as a copy")
                if value._grad is not None or value._retains_grad or value._hooks:
                    raise Unsupported(f"it returns a tensor {list(value.shape)} with a .grad, hooks or "
                                      "retain_grad(), which a replay does not rebuild")
                b = self._locate(value._data)
                if b is None:
                    raise Unsupported("the function returned a tensor computed outside the backend")
                leaf_grad = value._grad_fn is None and value._requires_grad
                # eager's layout: a view of an intermediate (a chunk, a transpose) keeps its
                # strides, which a replay's buffer may not have (``runner._laid``)
                strides = value._data.strides if isinstance(value._data, np.ndarray) else None
                tpl = ("t", b, value._backend, _spent_node(value), len(self._results), leaf_grad,
                       value._version_counter[0], strides)
            if tpl[0] == "t":
                self._made_results.append(value)
            self._results[id(value)] = tpl
            return tpl
        raw = self._raw.get(id(value))
        if raw is not None:  # an object it received, returned as itself
            return raw
        if not isinstance(value, _ATOMS) and id(value) in self.reachable:
            return ("c", value)  # an object from outside (a list in its closure): itself
        if isinstance(value, (list, tuple)):
            tpl = ("seq", type(value), [self._template_of(v) for v in value], len(self._results))
        elif isinstance(value, dict):
            tpl = ("dict", type(value), {k: self._template_of(v) for k, v in value.items()}, len(self._results))
        elif not isinstance(value, _ATOMS):
            raise Unsupported(f"it returns a {type(value).__name__} made during the call, which a replay "
                              "would hand back as the same object each time")
        else:
            return ("c", value)
        self._results[id(value)] = tpl
        self._keep_results.append(value)
        return tpl

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
                for x in tpl[2].values():
                    walk(x)
        walk(self.result_template)
        wanted += [e[2] for e in self.effects if e[0] == "grad_set"]
        return list(dict.fromkeys(wanted))


class StartState:
    """What the tensors a trace may touch looked like before it ran."""

    def __init__(self, arg_tensors, reachable_tensors):
        # a tensor both passed and read from outside is in both lists: at a later call the
        # argument may be another tensor (``_arg_storages`` tells the two apart)
        self.tensors = list(reachable_tensors)
        everything = list(arg_tensors) + self.tensors
        self.data = {id(t): t._data for t in everything}  # holding them keeps ids unique
        self.grad = {id(t): t._grad for t in everything}
        self.version = {id(t): t._version_counter[0] for t in everything}
        self.grad_version = {id(t): t._grad._version_counter[0] for t in everything if t._grad is not None}
        self.requires_grad = {id(t): t._requires_grad for t in everything}
        self.hooks = {id(t): _hook_ids(t) for t in everything}
        self.keep = everything

    def hooks_changed(self):
        """A tensor from outside (an argument) whose hooks or retain_grad the trace changed,
        as a refusal: a replay would not register them again.  None if there is none."""
        for t in self.keep:
            if id(t) in self.hooks and _hook_ids(t) != self.hooks[id(t)]:
                return (f"it registers a hook (or retain_grad) on a tensor {list(t.shape)} it received or reads "
                        "from outside, which a replay would not register again")
        return None

    def outer_graph(self):
        """A tensor from outside on an autograd graph (one with a grad_fn), or None."""
        for t in self.tensors:
            if t._grad_fn is not None:
                return t
        return None

    def add(self, t):
        """A tensor found only after the trace (through the garbage collector)."""
        if id(t) not in self.data:
            self.tensors.append(t)
            self.keep.append(t)
            self.data[id(t)], self.grad[id(t)] = t._data, t._grad
            self.version[id(t)], self.requires_grad[id(t)] = t._version_counter[0], t._requires_grad
            if t._grad is not None:
                self.grad_version[id(t)] = t._grad._version_counter[0]


def _owners(arrays):
    """{id(array): a tensor whose storage it is} for those of ``arrays`` that have one, found
    through the garbage collector in one walk: tensors the function reached by a path the
    state walk did not follow."""
    if not arrays:
        return {}
    wanted = {id(a) for a in arrays}
    return {id(ref._data): ref for ref in gc.get_referrers(*arrays)
            if isinstance(ref, Tensor) and id(ref._data) in wanted}


def _storage(arr):
    """The array owning ``arr``'s memory."""
    while True:
        base = getattr(arr, "base", None)
        if base is None:
            base = getattr(arr, "buf", None)
        if base is None or not hasattr(base, "shape"):
            return arr
        arr = base


def _shares_storage(t, start):
    owner = _storage(t._data)
    return any(_storage(a) is owner for a in start.data.values())


def _same_bits(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and (a == b).all() if a.dtype.kind != "f" else \
        a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


def _hook_ids(t):
    return (tuple(map(id, t._hooks)) if t._hooks else (), t._retains_grad)


def _no_shared_results(tensors):
    """Raise Unsupported where two tensors it returns overlap in memory (two views of one
    intermediate: ``c.unbind(1)`` and ``c.chunk(2, 1)``): writing into one shows through the
    other in eager, where a replay hands back separate buffers."""
    arrays = [t._data for t in tensors if isinstance(t._data, np.ndarray)]
    for i, a in enumerate(arrays):
        for b in arrays[:i]:
            try:
                shared = np.shares_memory(a, b, max_work=100_000)
            except np.exceptions.TooHardError:
                shared = True
            if shared:
                raise Unsupported(f"it returns tensors {list(b.shape)} and {list(a.shape)} that share memory "
                                  "(views of one tensor it made), which a replay would return as separate copies")


def _spent_node(t):
    """For a returned tensor whose graph a backward already freed: the name of its
    grad_fn, so the replay's result prints and refuses a second backward as eager's."""
    return type(t._grad_fn).__name__ if t._grad_fn is not None else None


def _views_known(arr, known):
    base = getattr(arr, "base", None)
    while base is not None:
        if id(base) in known:
            return True
        base = getattr(base, "base", None)
    return False
