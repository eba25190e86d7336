"""Whether a ``tinytape.compile`` trace is recording on this thread: the one fact about the
compiler that code below it (ops choosing a form a replay can follow) may ask."""
import threading

ACTIVE = []  # the capture open on some thread (one trace at a time), if any


def tracing():
    """Whether this thread is inside a trace (code that reads a value on the host then
    computes it on the backend instead)."""
    return bool(ACTIVE) and ACTIVE[0].thread == threading.get_ident()
