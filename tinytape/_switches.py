"""The library's own mutable settings that change what code computes without being passed
to it: ``use_deterministic_algorithms``, the matmul precision, the thread count, the global
optimizer step hooks, post-accumulate-grad hooks.  A compiled program cannot see a function
read them (library code is not walked), so each is registered here and every program guards
all of them: ``register(name, read, hooks)``; ``read()`` gives a comparable value (equal
while nothing changed), ``hooks()`` the user's callables it would run (their closures and
globals are the user's state, walked as the function's own)."""

READERS = []  # (name, read, hooks)


def _none():
    return ()


def register(name, read, hooks=_none):
    READERS.append((name, read, hooks))
    return read
