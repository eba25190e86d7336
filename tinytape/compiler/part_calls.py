"""How the segmented replay (``segments``) calls a generated part's kernel directly: the
arguments it passes, the arrays a call makes, the argument whose memory a value may be
computed into (a gradient accumulated over time steps stays in one array), and the
temporaries the parts of one program share."""
import numpy as np

from ..backend.cpu import linalg


class CallSpec:
    """How to call a part's kernel directly (``segments`` writes the calls into its own code):
    ``kernel(*externals, *made, *same[, *blas, threads.small_flops, threads.most or 0])``
    returns the results in ``returned`` (the others are the arrays handed in, ``made``).

    - ``made``: (shape, dtype) of each array a call makes (the escaping values first), and
      ``made_buffers``, the buffers they hold;
    - ``donations``: {position in made: position in externals} — an external whose memory
      the kernel may overwrite with that value (``_donations``), where the caller knows
      nothing reads it afterwards;
    - ``owned``: the positions in ``wanted`` of values in memory of their own (an escaping
      value no other result is a view of);
    - ``viewed``: the positions of the externals some result is a view of."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def _call_spec(gen, plan, externals, kernel, made, same, blas):
    wanted = gen.program.result_buffers()
    roots = [gen.root(b) for b in wanted]
    shared = {r for b, r in zip(wanted, roots) if r != b}
    owned = {k for k, b in enumerate(wanted) if b in plan.escaping and b not in shared}
    position = {b: k for k, b in enumerate(externals)}
    viewed = {position[r] for b, r in zip(wanted, roots) if r in position}
    donations = {}
    for k, o in enumerate(plan.escaping):
        e = _donor(gen, plan, o, set(externals) - {externals[d] for d in donations.values()}, roots)
        if e is not None:
            donations[k] = position[e]
    return CallSpec(kernel=kernel, made=made, made_buffers=[*plan.escaping, *plan.materialized],
                    returned=[b for b in wanted if b not in plan.escaping and b not in plan.materialized],
                    same=same, blas=blas, threads=linalg._threads, donations=donations, owned=owned, viewed=viewed)


def _donor(gen, plan, o, candidates, roots):
    """An external the kernel may compute value ``o`` into, in place: ``o`` is stored by an
    elementwise step of a loop over its shape, the external has its shape and dtype and is
    read by that loop only, element for element (no view of it), by steps before ``o``'s
    store or by it (a gradient accumulated, ``g2 = g1 + dg``), and no result is it or a view
    of it.  Each element is then read before the same element is written, and not after."""
    from .codegen import _Loop
    buf = gen.buffers[o]
    if buf.kind != "value" or buf.group is None or not isinstance(gen.statements[buf.group], _Loop):
        return None
    loop = gen.statements[buf.group]
    store = next((j for j, step in enumerate(loop.steps) if step[1] == o and step[0] != "reduce"), None)
    if store is None or loop.shape != buf.shape:
        return None
    for e in candidates:
        ext = gen.buffers[e]
        if ext.kind != "ext" or ext.shape != buf.shape or ext.dtype != buf.dtype or set(ext.uses) != {buf.group} \
                or e in roots or not gen.arrays[e].flags.c_contiguous or e in loop.written:
            continue
        if any(v.kind == "view" and v.uses and gen.root(x) == e for x, v in enumerate(gen.buffers)):
            continue  # a view of it is read
        if any(gen.root(step[1]) == e for step in loop.steps) or any(e in step[3] for step in loop.after):
            continue
        reads = [j for j, step in enumerate(loop.steps) if e in step[3]]
        if reads and max(reads) <= store:
            return e
    return None


def _temporaries(slots, pool):
    """An array per slot: new ones, or the pool's (the k-th slot of a shape and dtype takes
    the pool's k-th array of them), so the parts of a long program, a time step's repeated
    ones above all, work in the same few arrays, warm in the cache, not one set each."""
    if pool is None:
        return [np.zeros(shape, dtype) for shape, dtype in slots]
    taken, out = {}, []
    for shape, dtype in slots:
        key = (tuple(shape), np.dtype(dtype).str)
        k = taken[key] = taken.get(key, -1) + 1
        arrays = pool.setdefault(key, [])
        if len(arrays) <= k:
            arrays.append(np.zeros(shape, dtype))
        out.append(arrays[k])
    return out
