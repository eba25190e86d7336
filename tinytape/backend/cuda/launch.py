"""The one launch-configuration helper: blocks and threads for ``n`` independent items."""
THREADS = 128  # a multiple of the warp size; small enough for the simulator's Python threads


def grid(n, threads=THREADS):
    return max(1, (n + threads - 1) // threads), threads
