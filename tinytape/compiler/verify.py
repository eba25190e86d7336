"""The first replay, run at trace time: the program must give what eager gave.

Before a trace, ``Snapshot`` copies the storage of every tensor the function may touch
(its tensor arguments, the tensors it reaches, their gradients).  After it, ``verify``
runs the replay on copies of those copies, laid out as the originals (views keep their
offsets and strides into one copied storage, so aliasing and overlap are as they were),
and compares bit for bit with what the eager trace left: the returned tensors, every
buffer the program writes in place, the gradients it sets, and every other tensor,
which the program must leave as eager left it.  A difference means some effect of the
function was not recorded (a write outside the backend, a value read on the host), and
the program is not used.  Programs on a GPU are not checked this way.
"""
import numpy as np

from .observe import site_text


class Mismatch(Exception):
    pass


def _root(arr):
    while isinstance(getattr(arr, "base", None), np.ndarray):
        arr = arr.base
    return arr


def _address(arr):
    return arr.__array_interface__["data"][0]


class Snapshot:
    """Copies of the storages behind ``start``'s tensors, as they were before the trace."""

    def __init__(self, start, engines=()):
        self.usable = True
        self.copies = {}  # id(root) -> (root, copy)
        self.arrays = []  # (array, where it lives: 'data' of / 'grad' of tensor)
        for arr in engines:  # random generators' state, which a replayed draw advances
            self.copies[id(arr)] = (arr, arr.copy())
        for t in start.keep:
            for arr in (start.data[id(t)], getattr(start.grad[id(t)], "_data", None)):
                if arr is None:
                    continue
                if not isinstance(arr, np.ndarray):
                    self.usable = False
                    return
                root = _root(arr)
                if id(root) not in self.copies:
                    if not (root.flags.c_contiguous or root.flags.f_contiguous):
                        self.usable = False
                        return
                    self.copies[id(root)] = (root, root.copy(order="K"))
                self.arrays.append(arr)

    def fresh(self):
        """{id(original storage): a new copy of its state before the trace}."""
        return {key: (root, copy.copy(order="K")) for key, (root, copy) in self.copies.items()}

    def perturbed(self, seed=0):
        """The same storages with other values (floating ones drawn anew): a second input on
        which two replays of one program must agree."""
        rng = np.random.default_rng(seed)
        other = Snapshot.__new__(Snapshot)
        other.usable, other.arrays, other.copies = self.usable, self.arrays, {}
        for key, (root, copy) in self.copies.items():
            if copy.dtype.kind == "f" and copy.dtype.itemsize >= 4:
                # (np.asarray: a 0-d storage's draw is a numpy scalar, whose view would be
                # read-only: another numba specialisation of every part reading it, compiled
                # here, and a part writing it would not type)
                copy = np.asarray(rng.standard_normal(copy.shape) * 2).astype(copy.dtype, order="K")
            other.copies[key] = (root, copy)
        return other


def _view_in(arr, copies):
    """``arr``'s view into the copied storage (same offset, shape, strides)."""
    root = _root(arr)
    entry = copies.get(id(root))
    if entry is None:
        return None
    _, copy = entry
    offset = _address(arr) - _address(root)
    return np.ndarray(arr.shape, arr.dtype, buffer=copy, offset=offset, strides=arr.strides)


def _same(a, b):
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return np.ascontiguousarray(a).view(np.uint8).tobytes() == np.ascontiguousarray(b).view(np.uint8).tobytes()


def _inputs(program, externals, copies, numbers, other=False):
    """The arrays a replay takes, from ``copies`` and ``numbers`` (``Outcome.numbers``);
    ``other``: number arguments' arrays with other values than the trace's too."""
    inputs = []
    for b in externals:
        kind, what = program.sources[b]
        if kind == "const":
            inputs.append(what.copy() if isinstance(what, np.ndarray) else what)
            continue
        if kind == "number":
            inputs.append(numbers[b].copy())
            continue
        if kind == "scalar":  # a number argument's expression: the trace's value
            inputs.append(np.asarray(what[4] * 0.75 + 0.375, what[4].dtype) if other else what[4].copy())
            continue
        view = _view_in(program.capture.arrays[b], copies)
        if view is None:
            return None
        inputs.append(view)
    return inputs


def agree(program, replays, snapshot, numbers):
    """Whether the replays (fused code, kernel by kernel) give the same bits on ``snapshot``'s
    storages (nan for nan): the fused code's own check on values other than the trace's."""
    runs = []
    for replay, externals in replays:
        copies = snapshot.fresh()
        inputs = _inputs(program, externals, copies, numbers, other=True)
        if inputs is None:
            return True
        with np.errstate(all="ignore"):
            values = replay(*inputs)
        runs.append((values, copies))
    (v0, c0), (v1, c1) = runs
    pairs = [(v0[b], v1[b]) for b in v0] + [(c0[k][1], c1[k][1]) for k in c0]
    return all(_same_or_nan(a, b) for a, b in pairs)


def _same_or_nan(a, b):
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "f":
        nan = np.isnan(a)
        if not np.array_equal(nan, np.isnan(b)):
            return False
        a, b = np.where(nan, 0, a), np.where(nan, 0, b)
    return _same(a, b)


class Outcome:
    """What the trace left, which a replay from ``snapshot`` must give bit for bit: the
    returned tensors' and the set gradients' arrays, each storage's end state and the number
    inputs' values; with ``frozen``, copies (checked later, on another thread, while calls
    change the live ones)."""

    def __init__(self, program, snapshot, result, frozen=False):
        keep = (lambda a: a.copy(order="K")) if frozen else (lambda a: a)
        self.returned = [(b, keep(t._data)) for t, b in _result_buffers(program.result_template, result)]
        self.grads = []
        for effect in program.effects:
            if effect[0] == "grad_set":
                t = effect[1][1] if effect[1][0] == "obj" else None
                if t is not None and t._grad is not None:
                    self.grads.append((effect[2], keep(t._grad._data)))
        self.storages = {key: keep(root) for key, (root, _) in snapshot.copies.items()}
        traced = program.capture.number_values  # (a schedule stepped inside has moved the rates since)
        self.numbers = {b: np.array(traced[b], np.float64) for b, (kind, _) in program.sources.items()
                        if kind == "number"}


def verify(program, replay, externals, snapshot, outcome):
    capture = program.capture
    copies = snapshot.fresh()
    inputs = _inputs(program, externals, copies, outcome.numbers)
    if inputs is None:
        return False  # a storage the snapshot does not hold: unchecked
    values = replay(*inputs)
    for b, arr in outcome.returned:
        if not _same(values[b], arr):
            raise Mismatch(_differs(program, b, "a returned tensor"))
    for b, arr in outcome.grads:  # gradients the program sets
        if not _same(values[b], arr):
            raise Mismatch(_differs(program, b, "a gradient"))
    # every storage the function could touch: as eager left it
    for root_id, (root, copy) in copies.items():
        if not _same(copy, outcome.storages[root_id]):
            b = next((b for b in externals if program.sources[b][0] != "const"
                      and _root(capture.arrays[b]) is root), None)
            where = _differs(program, b, "a tensor it writes in place") if b is not None else \
                "a tensor it reaches was changed outside the recorded kernels"
            raise Mismatch(where)
    return True


def _result_buffers(template, value):
    if template[0] == "t":
        yield value, template[1]
    elif template[0] == "seq":
        for tpl, v in zip(template[2], value):
            yield from _result_buffers(tpl, v)
    elif template[0] == "dict":
        for k, tpl in template[2].items():
            yield from _result_buffers(tpl, value[k])


def _differs(program, b, what):
    capture = program.capture
    writer = None
    for (label, site), (_, _, args_t, _, out_t) in zip(capture.lines, capture.calls):
        outs = out_t if isinstance(out_t, tuple) else (out_t,)
        if b in outs or (out_t is None and args_t and args_t[0] == ("b", b)):
            writer = f"{label or 'an op'} at {site_text(site)}"
    return (f"its replay differs from eager in {what}" + (f", last written by {writer}" if writer else "")
            + ": some effect of an op was not recorded (a write outside the backend, a value read "
            "on the host)")


__all__ = ["Snapshot", "Mismatch", "Outcome", "verify", "agree"]
