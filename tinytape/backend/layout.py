"""Shape logic shared by the backends."""


def adjacent_runs(dims):
    """Sorted axes grouped into runs of adjacent ones: (0, 2, 3) -> [(0, 0), (2, 3)].
    Each run is reduced as the middle axis of an (outer, n, inner) view, no copy needed."""
    runs, start = [], None
    for i, d in enumerate(dims):
        if start is None:
            start = d
        if i + 1 == len(dims) or dims[i + 1] != d + 1:
            runs.append((start, d))
            start = None
    return runs
