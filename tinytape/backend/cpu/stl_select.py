"""PyTorch's CPU top-k order, ties included: the (value, index) pairs moved as libstdc++'s
``std::partial_sort`` (k * 64 <= n) or ``std::nth_element`` then ``std::sort`` of the first
k - 1 move them, comparing values only (largest first, NaN above everything).  Equal values
come out in the order those algorithms leave them, which is no stable order; multinomial
sampling without replacement takes its indices from this order.
"""
import numpy as np
from numba import njit

_JIT = dict(nogil=True, cache=True)
_THRESHOLD = 16  # libstdc++'s _S_threshold


@njit(inline="always", **_JIT)
def _before(x, y):
    """The comparator: x goes before y (larger, or NaN over a number)."""
    return (np.isnan(x) and not np.isnan(y)) or x > y


@njit(inline="always", **_JIT)
def _swap(v, ix, a, b):
    v[a], v[b] = v[b], v[a]
    ix[a], ix[b] = ix[b], ix[a]


@njit(**_JIT)
def _push_heap(v, ix, first, hole, top, value, index):
    parent = (hole - 1) // 2
    while hole > top and _before(v[first + parent], value):
        v[first + hole], ix[first + hole] = v[first + parent], ix[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    v[first + hole], ix[first + hole] = value, index


@njit(**_JIT)
def _adjust_heap(v, ix, first, hole, length, value, index):
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if _before(v[first + child], v[first + child - 1]):
            child -= 1
        v[first + hole], ix[first + hole] = v[first + child], ix[first + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        v[first + hole], ix[first + hole] = v[first + child - 1], ix[first + child - 1]
        hole = child - 1
    _push_heap(v, ix, first, hole, top, value, index)


@njit(**_JIT)
def _make_heap(v, ix, first, last):
    length = last - first
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        _adjust_heap(v, ix, first, parent, length, v[first + parent], ix[first + parent])
        if parent == 0:
            return
        parent -= 1


@njit(**_JIT)
def _pop_heap(v, ix, first, last, result):
    value, index = v[result], ix[result]
    v[result], ix[result] = v[first], ix[first]
    _adjust_heap(v, ix, first, 0, last - first, value, index)


@njit(**_JIT)
def _heap_select(v, ix, first, middle, last):
    _make_heap(v, ix, first, middle)
    for i in range(middle, last):
        if _before(v[i], v[first]):
            _pop_heap(v, ix, first, middle, i)


@njit(**_JIT)
def _sort_heap(v, ix, first, last):
    while last - first > 1:
        last -= 1
        _pop_heap(v, ix, first, last, last)


@njit(**_JIT)
def _partial_sort(v, ix, first, middle, last):
    _heap_select(v, ix, first, middle, last)
    _sort_heap(v, ix, first, middle)


@njit(**_JIT)
def _median_to_first(v, ix, result, a, b, c):
    if _before(v[a], v[b]):
        if _before(v[b], v[c]):
            _swap(v, ix, result, b)
        elif _before(v[a], v[c]):
            _swap(v, ix, result, c)
        else:
            _swap(v, ix, result, a)
    elif _before(v[a], v[c]):
        _swap(v, ix, result, a)
    elif _before(v[b], v[c]):
        _swap(v, ix, result, c)
    else:
        _swap(v, ix, result, b)


@njit(**_JIT)
def _partition_pivot(v, ix, first, last):
    mid = first + (last - first) // 2
    _median_to_first(v, ix, first, first + 1, mid, last - 1)
    pivot, lo, hi = first, first + 1, last
    while True:
        while _before(v[lo], v[pivot]):
            lo += 1
        hi -= 1
        while _before(v[pivot], v[hi]):
            hi -= 1
        if not lo < hi:
            return lo
        _swap(v, ix, lo, hi)
        lo += 1


@njit(**_JIT)
def _linear_insert(v, ix, last):
    value, index = v[last], ix[last]
    nxt = last - 1
    while _before(value, v[nxt]):
        v[last], ix[last] = v[nxt], ix[nxt]
        last = nxt
        nxt -= 1
    v[last], ix[last] = value, index


@njit(**_JIT)
def _insertion_sort(v, ix, first, last):
    if first == last:
        return
    for i in range(first + 1, last):
        if _before(v[i], v[first]):
            value, index = v[i], ix[i]
            for j in range(i, first, -1):
                v[j], ix[j] = v[j - 1], ix[j - 1]
            v[first], ix[first] = value, index
        else:
            _linear_insert(v, ix, i)


@njit(**_JIT)
def _lg(n):
    """std::__lg: the index of the highest set bit."""
    bits = -1
    while n > 0:
        n >>= 1
        bits += 1
    return bits


@njit(**_JIT)
def _introsort_loop(v, ix, first, last, depth):
    """libstdc++'s loop, its recursion on the right part kept on an explicit stack (the
    parts are independent, so the order they are finished in changes nothing)."""
    stack = [(first, last, depth)]
    while len(stack):
        first, last, depth = stack.pop()
        while last - first > _THRESHOLD:
            if depth == 0:
                _partial_sort(v, ix, first, last, last)
                break
            depth -= 1
            cut = _partition_pivot(v, ix, first, last)
            stack.append((cut, last, depth))
            last = cut


@njit(**_JIT)
def _sort(v, ix, first, last):
    if first == last:
        return
    _introsort_loop(v, ix, first, last, 2 * _lg(last - first))
    if last - first > _THRESHOLD:
        _insertion_sort(v, ix, first, first + _THRESHOLD)
        for i in range(first + _THRESHOLD, last):
            _linear_insert(v, ix, i)
    else:
        _insertion_sort(v, ix, first, last)


@njit(**_JIT)
def _nth_element(v, ix, first, nth, last):
    if first == last or nth == last:
        return
    depth = 2 * _lg(last - first)
    while last - first > 3:
        if depth == 0:
            _heap_select(v, ix, first, nth + 1, last)
            _swap(v, ix, first, nth)
            return
        depth -= 1
        cut = _partition_pivot(v, ix, first, last)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(v, ix, first, last)


@njit(**_JIT)
def topk_rows(values, k, sort=True):
    """The indices of each row's k largest values (a 2-D float array), in the order
    PyTorch's CPU topk (largest; ``sort``: sorted) returns them."""
    rows, n = values.shape
    out = np.empty((rows, k), np.int64)
    for r in range(rows):
        v = values[r].copy()
        ix = np.arange(n)
        if k * 64 <= n:
            _partial_sort(v, ix, 0, k, n)
        else:
            _nth_element(v, ix, 0, k - 1, n)
            if sort:
                _sort(v, ix, 0, k - 1)
        out[r] = ix[:k]
    return out
