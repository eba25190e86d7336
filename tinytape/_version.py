__version__ = "0.1.0"  # tinytape's own (the package's, the kernel cache's)
PYTORCH = "2.14.1"  # the PyTorch whose API and numbers tinytape follows


class TorchVersion(str):
    """``tinytape.__version__`` as PyTorch code reads ``torch.__version__``: the PyTorch version
    whose API this is, with tinytape's own as the local part (``2.14.1+tinytape.0.1.0``, as
    PyTorch's builds say ``2.14.1+cu130``); compares with strings and tuples by release numbers
    (``torch.__version__ >= "2.0"``, ``>= (2, 1)``)."""

    def _release(self, other=None):
        text = self if other is None else other
        if isinstance(text, tuple):
            return tuple(text)
        numbers = []
        for part in str(text).split("+")[0].split("."):
            digits = "".join(c for c in part if c.isdigit()) if part[:1].isdigit() else ""
            if not digits:
                break
            numbers.append(int(digits))
        return tuple(numbers)

    def _compare(self, other, op):
        if not isinstance(other, (str, tuple)):
            return NotImplemented
        mine, theirs = self._release(), self._release(other)
        width = max(len(mine), len(theirs))
        return op(mine + (0,) * (width - len(mine)), theirs + (0,) * (width - len(theirs)))

    def __lt__(self, other):
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._compare(other, lambda a, b: a >= b)

    def __eq__(self, other):
        if isinstance(other, tuple):
            return self._compare(other, lambda a, b: a == b)
        return str.__eq__(self, other)

    __hash__ = str.__hash__


torch_version = TorchVersion(f"{PYTORCH}+tinytape.{__version__}")
