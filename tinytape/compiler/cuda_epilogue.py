"""Matrix products that finish an elementwise run in the product's own kernel.

A thread of the tiled product (``backend/cuda/linalg.py``) owns one output element once
its tiles are summed, so an elementwise run over the product's shape can follow in the
same kernel: the product's value stays in a register (stored only when something outside
the run reads it) and the run reads its other operands by the same index.  The sum is
the backend kernel's, tile for tile and in float64, so the values are the eager ones bit
for bit.

A run may be recorded some calls after the product of its shape (the SGD update of a
weight comes after the other gradients' products).  It moves up to the product when no
call in between makes a buffer it reads or touches memory it writes, and nothing it
writes in place is read in between; the views and constants it reads move up with it.
Those checks compare device buffers as the trace saw them: a replay whose arguments
share memory differently (``replay_guard``) runs the program without moved runs.
"""
import numpy as np

from ..backend.cuda.launch import tiles
from ..backend.cuda.linalg import TILE
from .replay import CONSTANTS

VIEWS = frozenset({"broadcast_to", "swapaxes", "permute", "expand_dims", "squeeze", "index"})
# views whose layout follows from their input's (a replay's strides are the trace's)
LAYOUT_VIEWS = VIEWS | {"reshape", "view", "strided_view"}
MOVABLE = CONSTANTS | VIEWS  # make no kernel launch, read no element: free to move earlier


def host_runs(builder, plan):
    """The plan with each run that a product can finish as ('matmul', product call, run,
    a transposed?, b transposed?)."""
    facts = _Facts(builder)
    placed = []
    for item in plan:
        if item[0] == "run":
            moved = facts.place(placed, item[1])
            if moved is not None:
                placed = moved
                continue
        placed.append(item)
    return placed


def replay_guard(builder, externals):
    """A condition on the replay's arguments that holds when their device buffers share
    memory exactly as in the trace (None with fewer than two: nothing to share)."""
    arrays = builder.cap.arrays
    device = [b for b in externals if hasattr(arrays[b], "buf")]
    groups = {}
    for b in device:
        groups.setdefault(id(arrays[b].buf), []).append(b)
    if len(device) < 2:
        return None
    terms = [f"b{g[0]}.buf is b{other}.buf" for g in groups.values() for other in g[1:]]
    terms.append(f"len({{{', '.join(f'id(b{b}.buf)' for b in device)}}}) == {len(groups)}")
    return " and ".join(terms)


class _Facts:
    def __init__(self, builder):
        self.builder = builder
        self.arrays = builder.cap.arrays
        self.calls = builder.calls
        self.producer = {}  # buffer -> call that made it
        for i, call in enumerate(self.calls):
            out_t = call[4]
            if isinstance(out_t, int) and out_t not in builder.buffers_read(i):
                self.producer[out_t] = i

    def mem(self, b):
        """Identity of the memory behind buffer b (a view's is its base's)."""
        buf = getattr(self.arrays[b], "buf", None)
        return ("buffer", b) if buf is None else id(buf)

    def mems(self, buffers):
        return {self.mem(b) for b in buffers}

    def of(self, item):
        """(buffers read, buffers made, memory written in place) of a plan item; None for
        the last when the item writes in place where this module does not follow."""
        if item[0] == "run":
            return self.builder.run_effects(item[1])
        if item[0] == "matmul":
            m, run = item[1], item[2]
            reads, outs, writes = self.builder.run_effects(run)
            out = self.calls[m][4]
            return (reads - {out}) | set(self.builder.buffers_read(m)), outs | {out}, writes
        kwargs_t, out_t = self.calls[item[1]][3:]
        reads = set(self.builder.buffers_read(item[1]))
        made = set(out_t) if isinstance(out_t, tuple) else {out_t} if out_t is not None else set()
        if out_t is None or made & reads or "out" in kwargs_t:
            return reads, made, None
        return reads, made, set()

    def movable(self, i):
        return self.calls[i][0] == self.builder.backend_index and self.calls[i][1] in MOVABLE

    def place(self, items, run):
        """``items`` with ``run`` joined to an earlier product, or None."""
        reads, outs, writes = self.builder.run_effects(run)
        read_mems = self.mems(reads) | writes
        needed, moved = set(reads), []
        for j in range(len(items) - 1, -1, -1):
            item = items[j]
            if item[0] == "call" and self._hosts(item[1], run, reads, writes):
                out = self.calls[item[1]][4]
                if any(out in self.of(x)[0] for x in moved):
                    return None
                rest = [x for x in items[j + 1:] if x not in moved]
                a, b = (t[1] for t in self.calls[item[1]][2])
                hosted = ("matmul", item[1], run, self.layout(a), self.layout(b))
                return items[:j] + moved[::-1] + [hosted] + rest
            x_reads, x_outs, x_writes = self.of(item)
            if x_outs & needed:
                if item[0] == "call" and self.movable(item[1]):
                    moved.append(item)
                    needed |= x_reads
                    continue
                return None
            if item[0] == "call" and self.movable(item[1]):
                continue  # makes a view or a constant: touches no element
            if x_writes is None or x_writes & read_mems or writes & (self.mems(x_reads | x_outs) | x_writes):
                return None
        return None

    def _hosts(self, m, run, reads, writes):
        """Whether product call m can run ``run`` after its sum, in its kernel."""
        backend_index, kernel, args_t, kwargs_t, out = self.calls[m]
        if kernel != "matmul" or backend_index != self.builder.backend_index or kwargs_t \
                or len(args_t) != 2 or any(t[0] != "b" for t in args_t) or not isinstance(out, int):
            return False
        a, b = args_t[0][1], args_t[1][1]
        shape = tuple(self.arrays[out].shape)
        dtypes = {np.dtype(self.arrays[x].dtype) for x in (a, b, out)}
        if not all(hasattr(self.arrays[x], "buf") and self.arrays[x].ndim == 2 for x in (a, b, out)) \
                or len(dtypes) != 1 or dtypes.pop() not in (np.float32, np.float64) or 0 in shape \
                or shape != self.builder.run_shape(run) or self.layout(a) is None or self.layout(b) is None:
            return False
        if writes & self.mems({a, b, out}):
            return False  # the product's other threads still read what the run would write
        # another element of the product is another thread's: read only its own
        return not any(x != out and self.mem(x) == self.mem(out) for x in reads)

    def layout(self, b):
        """Whether matrix b is read transposed (the backend's choice), or None when its
        layout may differ in a replay or needs a copy."""
        root = b
        while root in self.producer and self.calls[self.producer[root]][1] in LAYOUT_VIEWS:
            root = self.builder.buffers_read(self.producer[root])[0]
        if not self.arrays[root].is_contiguous():
            return None  # a strided argument: guarded for contiguity only
        arr = self.arrays[b]
        if arr.is_contiguous():
            return False
        if arr.view_as(arr.shape[::-1], arr.strides[::-1], arr.offset).is_contiguous():
            return True
        return None


def product_source(name, params, m, n, k, trans_a, trans_b, lines):
    """A tiled product of an (m, k) and a (k, n) matrix whose thread for element (i0, i1)
    then runs ``lines`` with the sum in ``acc``: the backend's ``matmul`` with its
    shapes written in."""
    tile = TILE
    return "\n".join([
        f"def {name}(a, a_off, b, b_off{''.join(', ' + p for p in params)}):",
        f"    sa = cuda.shared.array(({tile}, {tile}), numba.float64)",
        f"    sb = cuda.shared.array(({tile}, {tile}), numba.float64)",
        "    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y",
        f"    row = cuda.blockIdx.y * {tile} + ty",
        f"    col = cuda.blockIdx.x * {tile} + tx",
        "    acc = 0.0",
        f"    for t in range({(k + tile - 1) // tile}):",
        f"        sa[ty, tx] = _at(a, a_off, {m}, {k}, row, t * {tile} + tx, {trans_a})",
        f"        sb[ty, tx] = _at(b, b_off, {k}, {n}, t * {tile} + ty, col, {trans_b})",
        "        cuda.syncthreads()",
        f"        for kk in range({tile}):",
        "            acc += sa[ty, kk] * sb[kk, tx]",
        "        cuda.syncthreads()",
        f"    if row < {m} and col < {n}:",
        "        i0 = row",
        "        i1 = col"] + lines) + "\n"


def product_launch(m, n):
    """The launch configuration of an (m, n) product: the backend's."""
    return tiles(m, n, 1, TILE)
