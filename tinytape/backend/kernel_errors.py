"""The errors a kernel raises with numbers in its message.

A numba kernel that builds its message (``"... " + str(k)``) compiles numba's integer
formatting and string concatenation into itself: ~1.3 s of the first compile of a kernel
with an empty cache, and again in every generated part that checks indices.  These classes
take the numbers as arguments instead (numba passes a raised exception's arguments to the
host as they are) and write the message there: ``IndexError("gather: flat position {} is
out of bounds for {} elements", k, n)``.  They are the built-in errors' subclasses, of the
same names, so ``except IndexError`` and the printed type are what the op's own check gives.
"""
import builtins


class IndexError(builtins.IndexError):  # noqa: A001  (the name users see)
    def __init__(self, template, *values):
        super().__init__(template.format(*values))


class RuntimeError(builtins.RuntimeError):  # noqa: A001
    def __init__(self, template, *values):
        super().__init__(template.format(*values))
