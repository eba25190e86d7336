"""What a program writes in place, read from its recorded calls: the storages a replay
that raises must put back before the call reruns eagerly (``_raising_and_writes``), and
whether it writes into buffers of its own (``_writes_temporaries_in_place``)."""
import numpy as np


def _copy_of(a):
    return np.array(a, copy=True) if isinstance(a, np.ndarray) else a.copy()


def _current_arrays(sources, tensors):
    """The arrays those sources name at this call (an argument's, a parameter's gradient...)."""
    out = []
    for kind, what in sources:
        t = tensors[what] if kind in ("arg", "arggrad") else what
        if kind == "live":
            out.append(t)
        elif kind in ("arggrad", "grad"):
            if t._grad is not None:
                out.append(t._grad._data)
        else:
            out.append(t._data)
    return out


def _raising_and_writes(program):
    """The sources (kind, what) of the storages the program writes in place (an RNG engine
    it draws from included) before its last kernel that reads an integer buffer (an index, a
    target: where a kernel raises on values), and whether any kernel reads one:
    ``(exposed, raises)``.  On CUDA: none, and no rerun."""
    calls, arrays = program.capture.calls, program.capture.arrays
    if any(b.device.type != "cpu" for b in program.backends):
        return [], False  # (a CUDA kernel's error is raised by the backend after its launch)

    def buffers(t, out):
        if t[0] == "b":
            out.append(t[1])
        elif t[0] == "l":
            for x in t[2]:
                buffers(x, out)
        return out
    last = -1
    for i, (_, kernel, args_t, kwargs_t, out_t) in enumerate(calls):
        read = []
        for t in tuple(args_t) + tuple(kwargs_t.values()):
            buffers(t, read)
        if any(getattr(getattr(arrays[b], "dtype", None), "kind", "f") in ("i", "u") for b in read):
            last = i
    exposed = {}
    outer = [b for b, (kind, _) in program.sources.items() if kind in ("arg", "arggrad", "data", "grad", "live")
             and isinstance(arrays[b], np.ndarray)]
    for i, (_, kernel, args_t, kwargs_t, out_t) in enumerate(calls[:max(last, 0)]):
        targets = []
        if out_t is None and args_t and args_t[0][0] == "b":
            targets.append(args_t[0][1])
        if kwargs_t.get("out", ("c", None))[0] == "b":
            targets.append(kwargs_t["out"][1])
        if kernel == "binary" and len(args_t) > 3 and args_t[3][0] == "b":
            targets.append(args_t[3][1])
        read = []
        for t in tuple(args_t) + tuple(kwargs_t.values()):
            buffers(t, read)
        targets += [b for b in read if program.sources.get(b, ("",))[0] == "live"]  # an RNG engine it draws from
        for b in targets:
            if b not in program.sources:  # a view of a source's storage (``w[0].sub_``): that source
                b = next((e for e in outer if np.may_share_memory(arrays[e], arrays[b])), b)
            source = program.sources.get(b)
            if source is not None and source[0] in ("arg", "arggrad", "data", "grad", "live"):
                exposed[(source[0], id(source[1]))] = source
    return list(exposed.values()), last >= 0


def _writes_temporaries_in_place(program):
    """Whether some call writes in place into a buffer the program made (not a parameter's
    or an argument's storage, which the optimizer updates in place)."""
    for _, kernel, args_t, kwargs_t, out_t in program.capture.calls:
        target = None
        if out_t is None and args_t and args_t[0][0] == "b":
            target = args_t[0][1]
        elif kwargs_t.get("out", ("c", None))[0] == "b":
            target = kwargs_t["out"][1]
        elif kernel == "binary" and len(args_t) > 3 and args_t[3][0] == "b":
            target = args_t[3][1]
        if target is not None and target not in program.sources:
            return True
    return False
