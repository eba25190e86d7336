"""``einsum`` as recorded ops: repeated labels of one operand become a diagonal (a flat
gather), labels no other term needs are summed away, and operands are contracted
pairwise, left to right, as one batched matrix product each (permute, reshape, bmm)."""
import math

import numpy as np

from . import elementwise as ew
from . import linalg as la
from . import reduction as red
from . import shape as sh
from . import view_ops
from .windows import _check_tensor


def _from_sublists(args):
    """The equation and operands of the sublist form: labels 0-51 read as A-Z then a-z, an
    Ellipsis as '...'."""
    def letters(sublist):
        out = []
        for s in sublist:
            if s is Ellipsis:
                out.append("...")
            elif isinstance(s, int) and 0 <= s < 52:
                out.append(chr(ord("A") + s) if s < 26 else chr(ord("a") + s - 26))
            else:
                raise ValueError(f"einsum(): expected subscript to be within the range [0, 52), but got {s}")
        return "".join(out)
    operands, terms = args[0:len(args) - len(args) % 2:2], args[1:len(args) - len(args) % 2:2]
    equation = ",".join(letters(t) for t in terms)
    if len(args) % 2:
        equation += "->" + letters(args[-1])
    return equation, tuple(operands)


def _terms(text, offset, who):
    """The labels of each comma-separated term of ``text`` (its first character at
    ``offset`` in the equation), '.' kept as one '\\0' per ellipsis, in PyTorch's words for a
    stray '.' or a character that is not a letter."""
    terms, term, found, i = [], [], False, 0
    while i < len(text):
        c = text[i]
        if c == " ":
            pass
        elif c == ".":
            name = f"operand {len(terms)}" if who == "operand" else "output"
            if found:
                raise RuntimeError(f"einsum(): found '.' for {name} for which an ellipsis was already found"
                                   if who == "operand" else
                                   "einsum(): found '.' for output but an ellipsis (...) was already found")
            if text[i:i + 3] != "...":
                raise RuntimeError(f"einsum(): found '.' for {name} that is not part of any ellipsis"
                                   if who == "operand" else
                                   "einsum(): found '.' for output that is not part of any ellipsis (...)")
            term.append("\0")
            found, i = True, i + 2
        elif c == "," and who == "operand":
            terms.append(term)
            term, found = [], False
        elif not ("a" <= c <= "z" or "A" <= c <= "Z"):
            raise RuntimeError(f"einsum(): invalid subscript given at index {offset + i} in the equation string, "
                               "subscripts must be in [a-zA-Z]")
        else:
            term.append(c)
        i += 1
    terms.append(term)
    return terms


def _parse(equation, operands):
    """Each operand's labels and the output's, in PyTorch's order of checks and its words;
    the dims an ellipsis covers become labels from U+0100 on, aligned from the right."""
    arrow = equation.find("->")
    lhs = equation if arrow < 0 else equation[:arrow]
    terms = _terms(lhs, 0, "operand")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    covered = []  # how many dims each operand's ellipsis covers
    for i, (term, x) in enumerate(zip(terms, operands)):
        _check_tensor(x, "einsum", "operands")
        n = len(term) - ("\0" in term)
        if "\0" in term and n > x.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) is more than the number "
                               f"of dimensions ({x.ndim}) for operand {i}")
        if "\0" not in term and n != x.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) does not match the "
                               f"number of dimensions ({x.ndim}) for operand {i} and no ellipsis was given")
        covered.append(x.ndim - n)
    ellipsis_dims = max(covered, default=0)
    ellipsis = "".join(chr(0x100 + i) for i in range(ellipsis_dims))
    labelled = []
    for term, n_ellipsis in zip(terms, covered):
        # right-aligned against the widest ellipsis, as broadcasting aligns shapes
        broadcast = "".join(chr(0x100 + ellipsis_dims - n_ellipsis + i) for i in range(n_ellipsis))
        labelled.append("".join(term).replace("\0", broadcast))
    if arrow >= 0:
        out_terms = _terms(equation[arrow + 2:], arrow + 2, "output")
        output = "".join(out_terms[0]).replace("\0", ellipsis)
        for c in output:
            if ord(c) >= 0x100:
                continue
            if output.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if not any(c in t for t in labelled):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any "
                                   "input operand")
    else:  # implicit output: the broadcast dims, then the labels used once, alphabetically
        counts = {c: sum(t.count(c) for t in labelled) for c in set("".join(labelled))}
        output = ellipsis + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ellipsis))
    return labelled, output


def _check_label_sizes(operands, labelled):
    """PyTorch's checks of the labels' sizes, in its order and words, operand by operand and
    dim by dim: a label repeated in one operand names equal sizes; across operands a label's
    sizes are equal or 1 (broadcast)."""
    seen = {}
    for i, (x, labels) in enumerate(zip(operands, labelled)):
        first, covered = {}, 0
        for c, s in zip(labels, x.shape):
            if c in first:
                if first[c] != s:
                    raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {i} but the sizes don't "
                                       f"match, {s} != {first[c]}")
                continue
            first[c] = s
            before = seen.get(c, 1)
            if before != 1 and s not in (1, before):
                if ord(c) >= 0x100:  # a dim the ellipsis covers, counted within this operand's ellipsis
                    raise RuntimeError(f"einsum(): dimension {covered} covered by ellipsis in operand {i}"
                                       f"has size {s} which does not broadcast with previously seen ellipsis with "
                                       f"size {before} for the respective dimension")
                raise RuntimeError(f"einsum(): subscript {c} has size {s} for operand {i} which does not broadcast "
                                   f"with previously seen size {before}")
            covered += ord(c) >= 0x100
        for c, s in first.items():
            seen[c] = max(seen.get(c, 1), s)


def _diagonal(x, labels):
    """``x`` with each repeated label reduced to its diagonal (``'ii'`` -> ``'i'``), a view
    as PyTorch's (``diagonal``, then the diagonal moved to the label's first place)."""
    labels = list(labels)
    i = 1
    while i < len(labels):
        first = labels.index(labels[i])
        if first == i:
            i += 1
            continue
        x = view_ops.diagonal(x, 0, first, i)  # (the diagonal comes last)
        order = list(range(x.ndim - 1))
        order.insert(first, x.ndim - 1)
        x = sh.permute(x, tuple(order))
        del labels[i]
    return x, "".join(labels)


def _sum_out(x, labels, keep):
    drop = [i for i, c in enumerate(labels) if c not in keep]
    if not drop:
        return x, labels
    return red.sum(x, tuple(drop)), "".join(c for c in labels if c in keep)


def _placed(x, labels, order):
    """``x`` (its dims labelled ``labels``) permuted into ``order``, a dim of size 1 for each
    label of ``order`` it lacks (views: the product then broadcasts)."""
    mine = [c for c in order if c in labels]
    x = sh.permute(x, tuple(labels.index(c) for c in mine))
    for i, c in enumerate(order):
        if c not in labels:
            x = sh.unsqueeze(x, i)
    return x


def _contract(a, la_, b, lb, keep, label_order):
    """``a`` (labels ``la_``) times ``b`` (``lb``), summed over shared labels not in ``keep``;
    ``label_order``: every label, the output's first (the order of a product summing none).
    Returns the result, its labels and whether it summed any."""
    size = {}
    for x, labels in ((a, la_), (b, lb)):
        for c, s in zip(labels, x.shape):
            if size.get(c, 1) not in (1, s) and s != 1:
                raise RuntimeError(f"einsum(): operands do not broadcast at label {c!r} ({size[c]} and {s})")
            size[c] = max(size.get(c, 1), s)
    batch = [c for c in la_ if c in lb and c in keep]
    summed = [c for c in la_ if c in lb and c not in keep]
    if not summed:  # nothing to sum: PyTorch's product of the two, each in the labels' common order
        order = [c for c in label_order if c in la_ or c in lb]
        return ew.mul(_placed(a, la_, order), _placed(b, lb, order)), "".join(order), False
    a_only, b_only = [c for c in la_ if c not in lb], [c for c in lb if c not in la_]

    def arrange(x, labels, order):
        x = sh.permute(x, tuple(labels.index(c) for c in order)) if list(labels) != order else x
        return sh.expand(x, tuple(size[c] for c in order))

    prod = math.prod
    left = sh.reshape(arrange(a, la_, batch + a_only + summed),
                      (prod(size[c] for c in batch), prod(size[c] for c in a_only), prod(size[c] for c in summed)))
    right = sh.reshape(arrange(b, lb, batch + summed + b_only),
                       (prod(size[c] for c in batch), prod(size[c] for c in summed), prod(size[c] for c in b_only)))
    out = sh.reshape(la.bmm(left, right), tuple(size[c] for c in batch + a_only + b_only))
    return out, "".join(batch + a_only + b_only), True


def einsum(equation, *operands):
    """Sums of products of ``operands``' elements over the labels ``equation`` names
    (``'ij,jk->ik'``, ``'bhqd,bhkd->bhqk'``, ``'ii->i'``, ``'...ij->...ji'``)."""
    if not isinstance(equation, str):  # einsum(op1, sublist1, op2, sublist2, ..., [sublist_out])
        equation, operands = _from_sublists((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    labelled, output = _parse(equation, operands)
    _check_label_sizes(operands, labelled)
    pending = [_diagonal(x, labels) for x, labels in zip(operands, labelled)]
    x, labels = pending[0]
    label_order = list(output) + sorted({c for t in labelled for c in t} - set(output))
    for k in range(1, len(pending)):
        y, ly = pending[k]
        rest = output + "".join(lb for _, lb in pending[k + 1:])  # labels still needed after this step
        x, labels = _sum_out(x, labels, rest + ly)
        y, ly = _sum_out(y, ly, rest + labels)
        x, labels, summed = _contract(x, labels, y, ly, rest, label_order)
    x, labels = _sum_out(x, labels, output)
    if labels != output or any(x is operand for operand in operands):
        # (PyTorch's first step permutes every operand: one already in order comes back a view)
        x = sh.permute(x, tuple(labels.index(c) for c in output))
    elif len(pending) > 1 and not summed and len(label_order) > len(output):
        x = sh.view(x, x.shape)  # PyTorch's last step drops the summed labels' dims of 1: a view
    return x
