"""Arguments bound by PyTorch's names: ``torch.add(input=a, other=b)``, ``x.permute(dims=(1, 0))``,
``x.expand(size=...)``, ``torch.split(x, split_size_or_sections=2)``, ``torch.where(condition=...)``.

``_signature_table`` holds PyTorch's Python signatures (recorded from PyTorch by
``tools/record_signatures.py``).  Each function and Tensor method listed there is wrapped once,
at import: a call with keywords picks the first overload whose names cover them and passes
PyTorch's positional parameters given by name in PyTorch's order, as a positional call would
(tinytape's functions take their positionals in PyTorch's order); keywords the function itself
names stay keywords, and so do tinytape's own keywords that PyTorch lacks (``compile(fuse=)``).
What no overload takes is refused as PyTorch refuses it: an unknown
keyword, too many positionals, a required positional missing (TypeError).  A call with
positionals only costs one length check; a function that already takes PyTorch's names and
no more positionals is not wrapped.
"""
import functools
import inspect

from . import _signature_table, _tensor_options

# PyTorch's argument parser also takes numpy's names for these (python_arg_parser.cpp)
_ALIASES = {"x": "input", "a": "input", "x1": "input", "x2": "other", "axis": "dim", "keepdims": "keepdim"}


def _parameters(fn):
    try:
        return list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None


def _own_names(fn):
    """The parameter names ``fn`` itself takes by keyword (through its ``__wrapped__``)."""
    return frozenset(p.name for p in _parameters(fn) or () if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def _agrees(fn, overloads, method):
    """Whether ``fn`` already binds as PyTorch does: it takes every name PyTorch takes and no
    more positionals than PyTorch's most.  Such a function is left as it is (a wrapper would
    cost a frame, and the warnings' ``stacklevel`` counts frames)."""
    params = _parameters(fn)
    if params is None:
        return True
    if method:
        params = params[1:]
    own = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return False
    wanted = {n for positional, keywords, _, _ in overloads for n in positional + keywords}
    if not wanted <= own:
        return False
    if any(varargs for _, _, varargs, _ in overloads):
        return False  # PyTorch's *size wants one at least
    most = max(len(positional) for positional, _, _, _ in overloads)
    takes = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(takes) <= most and not any(p.kind is p.VAR_POSITIONAL for p in params)


def _extensions(fn, overloads, method):
    """The names of ``fn``'s parameters past PyTorch's positionals (keyword-only, or positional
    beyond PyTorch's most): tinytape's own options."""
    params = _parameters(fn) or []
    if method:
        params = params[1:]
    most = max(len(positional) for positional, _, _, _ in overloads)
    return {p.name for i, p in enumerate(params)
            if p.kind is p.KEYWORD_ONLY or (p.kind is p.POSITIONAL_OR_KEYWORD and i >= most)}


def _plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class _Binder:
    def __init__(self, name, how, overloads, fn, method):
        self.name, self.parser, self.overloads = name, how == "parser", overloads
        self.own = _own_names(fn)
        self.most = None if any(varargs for _, _, varargs, _ in overloads) else \
            max(len(positional) for positional, _, _, _ in overloads)
        self.least = min(required for _, _, _, required in overloads)
        # tinytape's own keywords that PyTorch has no parameter for (``compile(fuse=)``): taken too
        self.plans = {}  # (positionals, keyword names) -> how they are passed
        self.extensions = _extensions(fn, overloads, method) - {
            n for positional, keywords, _, _ in overloads for n in positional + keywords}
        # layout=, pin_memory=, memory_format= that PyTorch's overloads take and ``fn`` does not
        self.options = _tensor_options.NAMES.intersection(
            n for positional, keywords, _, _ in overloads for n in positional + keywords) - self.own

    def refuse_count(self, n):
        """A call with ``n`` positionals and no keyword: refused where no overload takes ``n``."""
        if (self.most is not None and n > self.most) or n < self.least:
            self._refuse((None,) * n, {})

    def bind(self, args, kwargs):
        """(args, kwargs) for tinytape's function, or a TypeError as PyTorch's.  The plan for a
        number of positionals and a set of keyword names is found once and kept."""
        if self.options and not self.options.isdisjoint(kwargs):
            kwargs = _tensor_options.take(self.name, kwargs, self.options)
            if not kwargs:
                return args, kwargs
        key = (len(args), *kwargs)
        plan = self.plans.get(key)
        if plan is None:
            plan = self._plan(len(args), tuple(kwargs))
            if plan is None:
                self._refuse(args, kwargs)
            if len(self.plans) < 64:
                self.plans[key] = plan
        moved, renamed = plan
        if not moved and not renamed:
            return args, kwargs
        if moved:
            args = args + tuple(kwargs[k] for k in moved)
        return args, {renamed.get(k, k): v for k, v in kwargs.items() if k not in moved}

    def _plan(self, n, names_given):
        """(the keywords passed by position, in order; the keywords renamed from an alias), by
        the first overload that takes ``n`` positionals and these keywords; None if none does."""
        for positional, keywords, varargs, required in self.overloads:
            names = set(positional) | set(keywords)
            given = {}  # PyTorch's name -> the keyword as written
            for k in names_given:
                k2 = k if k in names or k in self.extensions or not self.parser else _ALIASES.get(k, k)
                if (k2 not in names and k2 not in self.extensions) or k2 in given:
                    break
                given[k2] = k
            else:
                if varargs and n:
                    if positional and positional[0] in given:
                        continue
                elif n > len(positional) or any(p in given for p in positional[:n]):
                    continue
                if any(p not in given for p in positional[n:required]) and not (varargs and n):
                    continue
                run = []
                for p in positional[n:]:
                    if p not in given:
                        break
                    run.append(p)
                moved = ()
                if any(p not in self.own for p in run):  # passed by position, in PyTorch's order
                    moved = tuple(given[p] for p in run)
                return moved, {k: p for p, k in given.items() if k != p}
        return None

    def _refuse(self, args, kwargs):
        """PyTorch's TypeError.  Its argument parser names the fault when one overload alone
        takes as many arguments as given (too many positionals, a required one missing, an
        unknown keyword, in that order); else it lists the overloads.  A Python function
        (``torch.split``) refuses as Python does: an unknown keyword before a missing one."""
        n = len(args) + len(kwargs)
        # the stubs' ``*size`` form is the ``size`` overload taking its elements as positionals
        sized = any(len(p) == 1 for p, _, _, _ in self.overloads)
        real = [o for o in self.overloads if not (o[2] and not o[0] and sized)]
        plausible = real if len(real) == 1 else [o for o in real if o[3] <= n <= len(o[0]) + len(o[1])]
        if len(plausible) == 1 or not self.parser:
            positional, keywords, varargs, required = (plausible or self.overloads)[0]
            if len(args) > len(positional) and not varargs:
                raise TypeError(f"{self.name}() takes {_plural(len(positional), 'positional argument')} but "
                                f"{len(args)} {'was' if len(args) == 1 else 'were'} given")
            unknown = [k for k in kwargs if k not in positional + keywords
                       and not (self.parser and _ALIASES.get(k) in positional + keywords)]
            if unknown and not self.parser:
                raise TypeError(f"{self.name}() got an unexpected keyword argument '{unknown[0]}'")
            given = {_ALIASES.get(k, k) if self.parser else k for k in kwargs}
            missing = [p for p in positional[len(args):required] if p not in given]
            if missing and not (varargs and args):
                if self.parser:  # PyTorch's wording
                    raise TypeError(f"{self.name}() missing {len(missing)} required positional "
                                    f"argument{'s' if len(missing) == 1 else ''}: "
                                    + ", ".join(f'"{p}"' for p in missing))
                raise TypeError(f"{self.name}() missing {len(missing)} required positional argument"
                                f"{'s' if len(missing) > 1 else ''}: " + " and ".join(f"'{p}'" for p in missing))
            if unknown:
                raise TypeError(f"{self.name}() got an unexpected keyword argument '{unknown[0]}'")
        signatures = "\n".join(" * (" + ", ".join(positional + (("*",) + keywords if keywords else ())) + ")"
                               for positional, keywords, _, _ in self.overloads)
        got = ", ".join([type(a).__name__ for a in args if a is not None] +
                        [f"{k}={type(v).__name__}" for k, v in kwargs.items()])
        raise TypeError(f"{self.name}() received an invalid combination of arguments - got ({got}), "
                        f"but expected one of:\n{signatures}")


def _function(fn, binder):
    most, least = binder.most if binder.most is not None else 1 << 30, binder.least

    @functools.wraps(fn)
    def bound(*args, **kwargs):
        if kwargs:
            args, kwargs = binder.bind(args, kwargs)
        elif not least <= len(args) <= most:
            binder.refuse_count(len(args))
        return fn(*args, **kwargs)
    bound._torch_signature = True
    return bound


def _method(fn, binder):
    most, least = binder.most if binder.most is not None else 1 << 30, binder.least

    @functools.wraps(fn)
    def bound(self, *args, **kwargs):
        if kwargs:
            args, kwargs = binder.bind(args, kwargs)
        elif not least <= len(args) <= most:
            binder.refuse_count(len(args))
        return fn(self, *args, **kwargs)
    bound._torch_signature = True
    return bound


def _wrap(fn, name, entry, make):
    if getattr(fn, "_torch_signature", False) or isinstance(fn, type) or not callable(fn) \
            or _agrees(fn, entry[1], make is _method):
        return fn
    return make(fn, _Binder(name, entry[0], entry[1], fn, make is _method))


def bind_namespace(namespace, table):
    for name, entry in table.items():
        fn = namespace.get(name)
        if inspect.isfunction(fn):
            namespace[name] = _wrap(fn, name, entry, _function)


def bind_methods(cls, table):
    for name, entry in table.items():
        try:
            fn = inspect.getattr_static(cls, name)
        except AttributeError:
            continue
        if inspect.isfunction(fn):
            setattr(cls, name, _wrap(fn, name, entry, _method))


def bind_all(namespace):
    """Bind PyTorch's names on the package's functions, ``nn.functional``, ``linalg`` and Tensor."""
    from . import linalg
    from ._tensor import Tensor
    from .nn import functional
    bind_namespace(namespace, _signature_table.TORCH)
    bind_namespace(vars(functional), _signature_table.FUNCTIONAL)
    bind_namespace(vars(linalg), _signature_table.LINALG)
    bind_methods(Tensor, _signature_table.TENSOR)
