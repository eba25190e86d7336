"""The loop nest of a fused loop whose unary op PyTorch computes partly in its scalar loop
(sigmoid, silu, softplus, elu, selu: ``backend/scalar_loop.py``), as eager's
``_unary_split_loop`` does: each element by the vector definition or by the scalar one,
decided by where it falls in TensorIterator's inner loops and the threads' parts.  The steps'
lines carry ``SCALAR_LOOP_MARK`` before the split op's call; each copy of the body below
names the definition its elements take."""
import numpy as np

from ..backend.layout import GRAIN_SIZE

SCALAR_LOOP_MARK = "@scalar_loop@"
IND = "    "


def split_loop_lines(em, shape, split, body):
    """``split``: ``(row, cut)``, the scalar loop's elements from ``cut`` on in each ``row``
    elements (C order); or ``("parts", n, width)``, a C-contiguous operand of ``n >=
    GRAIN_SIZE`` elements, cut among the threads ``numba.get_num_threads()`` gives at the call
    (eager's count), the last ``len % width`` elements of each part by the scalar definition."""
    vector = [line.replace(SCALAR_LOOP_MARK, "") for line in body]
    scalar = [line.replace(SCALAR_LOOP_MARK, "scalar_loop_") for line in body]  # (``unary_scalar_loop_<code>``)
    if not shape:
        return [IND + line for line in scalar]
    lines = [IND * (d + 1) + f"for i{d} in range({em.extent(n)}):" for d, n in enumerate(shape[:-1])]
    depth, last = len(shape), shape[-1]
    inner, loop = IND * depth, f"i{depth - 1}"
    start = " + ".join(f"i{d} * {int(np.prod(shape[d + 1:]))}" for d in range(depth - 1)) or "0"
    if split[0] != "parts":
        row, cut = split
        lines.append(inner + f"split_at = min({last}, max(0, {cut} - ({start}) % {row}))")
        return lines + _two_runs(inner, loop, "0", "split_at", str(last), vector, scalar)
    _, n, width = split
    em.reads_threads = True
    # layout.scalar_loop_layout's split: parallel_for's parts of at least GRAIN_SIZE elements
    head = [IND + f"part_used = max(1, min(numba_threads(), {-(-n // GRAIN_SIZE)}))",
            IND + f"part_len = -(-{n} // part_used)"]
    lines.append(inner + f"row_lo = {start}")
    lines.append(inner + "seg_lo = row_lo // part_len * part_len")
    lines.append(inner + f"seg_hi = min(seg_lo + part_len, {n})")
    lines.append(inner + f"if seg_hi >= row_lo + {last}:  # the row inside one part: vector, then scalar")
    lines.append(inner + IND + f"split_at = min({last}, max(0, seg_hi - (seg_hi - seg_lo) % {width} - row_lo))")
    lines += _two_runs(inner + IND, loop, "0", "split_at", str(last), vector, scalar)
    lines.append(inner + "else:  # a part ends inside the row: each part's piece in turn")
    deeper = inner + IND
    lines += [deeper + "run_at = 0",
              deeper + f"while run_at < {last}:",
              deeper + IND + "seg_lo = (row_lo + run_at) // part_len * part_len",
              deeper + IND + f"seg_hi = min(seg_lo + part_len, {n})",
              deeper + IND + f"split_at = min(max(seg_hi - (seg_hi - seg_lo) % {width} - row_lo, run_at), {last})",
              deeper + IND + f"run_hi = min(seg_hi - row_lo, {last})"]
    lines += _two_runs(deeper + IND, loop, "run_at", "split_at", "run_hi", vector, scalar)
    lines.append(deeper + IND + "run_at = run_hi")
    return head + lines


def _two_runs(ind, loop, lo, mid, hi, vector, scalar):
    """``loop`` over [lo, mid) by the vector definitions, then [mid, hi) by the scalar ones.
    A vector run from ``lo`` counts in unsigned integers: LLVM vectorises a loop whose indices
    it knows are not negative (numba's wraparound check goes), 1.3 ms against 12 ms over 5 M."""
    if lo == "0":
        lines = [ind + f"for {loop} in range({mid}):"]
    else:
        lines = [ind + f"for run_k in range(np.uint64({mid} - {lo})):",
                 ind + IND + f"{loop} = np.uint64({lo}) + run_k"]
    lines += [ind + IND + line for line in vector]
    lines.append(ind + f"for {loop} in range({mid}, {hi}):")
    return lines + [ind + IND + line for line in scalar]
