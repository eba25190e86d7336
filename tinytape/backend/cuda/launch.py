"""The launch configurations, in one place: a thread per element, a block per reduced
output, a 2-D grid of tiles (times the batch) for the matrix product."""
THREADS = 128  # a multiple of the warp size; small enough for the simulator's Python threads


def grid(n, threads=THREADS):
    """A thread per item for ``n`` independent items."""
    return max(1, (n + threads - 1) // threads), threads


def per_output(n_out, threads):
    """A block of ``threads`` (a power of two: the tree) per reduced output."""
    return max(1, n_out), threads


def tiles(m, n, batch, tile):
    """(columns, rows, batch) blocks of tile x tile threads covering an m x n output."""
    return ((n + tile - 1) // tile, (m + tile - 1) // tile, max(1, batch)), (tile, tile)
