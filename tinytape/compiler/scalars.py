"""Number arguments as program inputs (``step(x, y, lr)`` with a new ``lr`` each call).

A trace hands the function, for each ``int``/``float`` argument (positional or keyword), a stand-in
(``FloatIn``/``IntIn``, not a subclass of either: C code such as ``math.exp`` would read
a subclass's value without asking).  Arithmetic with plain numbers and other stand-ins
(``+ - * / // % **``, ``-s``, ``abs``) gives a stand-in recording the Python expression
(``(1 - raw[2]) * 0.5``).  A stand-in that reaches a backend's ``scalar`` kernel (the 0-d
operand of ``x * s``, ``clamp(max=s)``, ``add_(g, alpha=-s)``, a backward's) makes that
array an input of the program: each replay evaluates the expression on the call's numbers,
in Python, as eager did, and makes the array with the same kernel.

Everything else *reads* the value — ``float()``, ``int()``, comparisons, ``bool()``,
``hash``, ``format``/``str``/``repr``, ``round``, ``math.*``, numpy (``__array__`` and
ufuncs: computed on the plain number, with numpy's rules for Python numbers), a size,
an index, an attribute (``s.is_integer()``), any other kernel argument — and answers as
the number would: the trace stays an eager run, and the arguments it depends on become
constants of the program (the signature keeps their value; ``CompiledFunction.value_args``).
``isinstance`` sees the number's class (``__class__``); ``type(s)`` cannot be hooked, so
a function whose code names ``type`` or ``id`` gets plain numbers (``UNHOOKABLE``).
"""
import collections
import math
import operator
import sys

import numpy as np

from .._tensor import Tensor

# names through which code could tell a stand-in from its number without asking it
# (``json.dumps`` calls ``float.__repr__`` on what says it is a float; 3.12's ``sum`` of floats compensates)
UNHOOKABLE = frozenset({"type", "id", "dumps", "dump"} | ({"sum"} if sys.version_info >= (3, 12) else set()))

_DATA = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%", "pow": "**"}
_INTERNAL = {"__class__", "__init__", "__new__", "__getattribute__", "__setattr__", "__delattr__",
             "__init_subclass__", "__subclasshook__", "__doc__", "__getattr__", "__slots__", "__module__"}


def stand_ins(compiled, capture, args, kwargs, code_names):
    """The arguments for a trace of ``compiled`` (a ``CompiledFunction``) recorded by
    ``capture``: its number arguments' stand-ins in place (``capture.scalars``) — none where
    the function's code (``code_names``: the names it uses) could tell one from its number.
    A position (an index, or a keyword's name) ``compiled.value_args`` holds keeps its number."""
    given = list(enumerate(args)) + list(kwargs.items())
    positions = frozenset(i for i, a in given if type(a) in (int, float)
                          and i not in compiled.value_args) if compiled.scalar_inputs else ()
    if positions and code_names & UNHOOKABLE:
        compiled.scalar_inputs = False
    if not positions or not compiled.scalar_inputs:
        return args, kwargs
    capture.scalars = Scalars(args, kwargs, positions)
    return capture.scalars.args, capture.scalars.kwargs


def settle(capture, result, value_args):
    """After the trace: ``result`` with its numbers plain; the positions the trace read
    join ``value_args``."""
    scalars, capture.scalars = capture.scalars, None
    if scalars is None:
        return result
    result = scalars.plain(result)
    scalars.escaped()
    scalars.closed = True  # a stand-in still kept somewhere computes plain numbers from now on
    value_args |= scalars.concrete
    return result


def read_numbers_in_key(key, args, kwargs, constants):
    """The call's signature (taken before the trace: the trace changes tensors' state, a
    backward makes their ``.grad``) with the number arguments the trace read, now in
    ``constants`` (None: all), keyed by value as ``signature._signature`` keys constants."""
    from .guards import float_bits
    def by_value(v):
        return (type(v), float_bits(v)) if type(v) is float else (type(v), v)
    entries, n = list(key), len(args)
    for i, a in enumerate(args):
        if entries[i] == ("in", type(a)) and (constants is None or i in constants):
            entries[i] = by_value(a)
    for j, (k, v) in enumerate(kwargs.items()):
        if entries[n + j] == (k, ("in", type(v))) and (constants is None or k in constants):
            entries[n + j] = (k, by_value(v))
    return tuple(entries)


class ScalarMiss(Exception):
    """A replay's number expression failed or changed type: that call runs eagerly."""


class Scalars:
    """The stand-ins of one trace: which argument positions they came from and which of
    them the trace read as values (``concrete``)."""

    def __init__(self, args, kwargs, positions):
        self.positions = positions
        self.concrete = set()
        self.closed = False  # the trace is over: arithmetic gives plain numbers
        self.made = []  # every stand-in, for the escape check
        self.namespace = {}
        self.functions = {}  # expression -> its compiled function
        self.args = tuple(self.make(a, f"raw[{i}]", frozenset({i})) if i in positions else a
                          for i, a in enumerate(args))
        self.kwargs = {k: self.make(a, f"kw[{k!r}]", frozenset({k})) if k in positions else a
                       for k, a in kwargs.items()}

    def make(self, value, expr, roots):
        cls = FloatIn if type(value) is float else IntIn if type(value) is int else None
        if cls is None or self.closed:  # a complex power: a value, from arguments now constants
            self.concrete |= roots
            return value
        p = object.__new__(cls)
        p._v, p._e, p._r, p._s = value, expr, roots, self
        self.made.append(p)
        return p

    def literal(self, x):
        if type(x) is int or (type(x) is float and math.isfinite(x)):
            return f"({x!r})"
        name = f"c{len(self.namespace)}"
        self.namespace[name] = x
        return name

    def function(self, p):
        """``raw -> value`` of stand-in ``p``'s expression, compiled once."""
        fn = self.functions.get(p._e)
        if fn is None:  # (source built from argument positions, operators and literals)
            fn = self.functions[p._e] = eval(f"lambda raw, kw: {p._e}", self.namespace)  # noqa: S307
        return fn

    def plain(self, v):
        """A result with its stand-ins replaced by their numbers, which the trace then
        depends on."""
        if isinstance(v, _In):
            v._read()
            return v._v
        if isinstance(v, (tuple, list)) and (type(v) in (tuple, list) or hasattr(type(v), "_make")):
            out = [self.plain(x) for x in v]
            if all(a is b for a, b in zip(out, v)):
                return v
            return type(v)(out) if type(v) in (tuple, list) else type(v)._make(out)  # (a namedtuple)
        if type(v) is dict:
            return {k: self.plain(x) for k, x in v.items()}
        return v

    def escaped(self):
        """Stand-ins the function kept (an attribute, a list entry set during the trace):
        replaced there by their numbers where they can be, and read (the trace depends on them)."""
        if not self.made:
            return
        import gc
        import types
        ids = {id(p) for p in self.made}

        def holders():
            return [h for h in gc.get_referrers(*self.made) if not isinstance(h, types.FrameType)
                    and not any(h is m for m in (self.made, self.args, self.kwargs))]
        if holders():  # garbage in reference cycles (a dead graph's tuples) is no holder
            gc.collect()
        for holder in holders():
            if isinstance(holder, dict):
                graph = _in_graph(holder)  # a context of the trace's autograd graph: the number, unread
                owner = _type_owning(holder)
                for k, v in list(holder.items()):
                    if id(v) in ids:
                        _set_entry(holder, owner, k, v._v if graph else v._read())
                    if id(k) in ids:
                        k._read()
                if owner is None and any(id(k) in ids for k in holder):  # a key: the number's, in the same order
                    items = [(k._v if id(k) in ids else k, v) for k, v in holder.items()]
                    holder.clear()
                    holder.update(items)
            elif isinstance(holder, list):
                holder[:] = [v._read() if id(v) in ids else v for v in holder]
            elif _is_context(holder):  # a node of the trace's autograd graph (``ctx.hi``): the number, unread
                for cls in type(holder).__mro__:
                    for name in getattr(cls, "__slots__", ()):
                        if id(getattr(holder, name, None)) in ids:
                            setattr(holder, name, getattr(holder, name)._v)
            else:  # a tuple, a set, a closure's cell, a function's defaults: the number there, read
                for r in gc.get_referents(holder):
                    if id(r) in ids:
                        r._read()
                _replace_in(holder, {id(p): p._v for p in self.made})


def _type_owning(d):
    """The class whose ``__dict__`` dict ``d`` is, if any: its entries are set through the
    class (``setattr``), so that Python's attribute cache forgets the old value (a direct
    write leaves the cache pointing at a freed object)."""
    import gc
    for o in gc.get_referrers(d):
        if isinstance(o, type) and any(r is d for r in gc.get_referents(o.__dict__)):
            return o
    return None


def _set_entry(d, owner, key, value):
    if owner is not None and isinstance(key, str):
        setattr(owner, key, value)
    else:
        d[key] = value


def _slot_names(cls):
    return [n for c in cls.__mro__ for n in getattr(c, "__slots__", ()) if isinstance(n, str)]


def _replace_in(holder, new, depth=0):
    """Put the numbers in place of the stand-ins that ``holder`` holds (``new``: id of a
    stand-in -> its number): a cell's contents, a set's members, a deque's entries, an
    object's slots, a tuple rebuilt and put in its own holders' place (a dict, a list, a
    cell, a set, a function's defaults, a tuple).  (No comprehension here names ``holder``:
    on Python 3.11 that would make it a cell, which the tuple's holders would include.)"""
    import gc
    import types
    if isinstance(holder, types.CellType):
        try:
            if id(holder.cell_contents) in new:
                holder.cell_contents = new[id(holder.cell_contents)]
        except ValueError:  # an empty cell
            pass
        return
    if isinstance(holder, set):
        found = [v for v in holder if id(v) in new]
        holder.difference_update(found)
        holder.update(new[id(v)] for v in found)
        return
    if isinstance(holder, collections.deque):
        for i, v in enumerate(holder):
            if id(v) in new:
                holder[i] = new[id(v)]
        return
    slots = () if isinstance(holder, tuple) else _slot_names(type(holder))
    if slots:  # an object's attributes in slots
        for name in slots:
            if id(getattr(holder, name, None)) in new:
                try:
                    setattr(holder, name, new[id(getattr(holder, name))])
                except (AttributeError, TypeError):  # a read-only slot
                    pass
        return
    named = isinstance(holder, tuple) and hasattr(type(holder), "_make")
    if depth > 8 or not (type(holder) in (tuple, frozenset) or named):
        return
    items = [new.get(id(v), v) for v in holder]
    rebuilt = type(holder)._make(items) if named else type(holder)(items)
    for outer in gc.get_referrers(holder):
        if isinstance(outer, types.FrameType):
            continue
        if isinstance(outer, dict):
            owner = _type_owning(outer)
            for k, v in list(outer.items()):
                if v is holder:
                    _set_entry(outer, owner, k, rebuilt)
        elif isinstance(outer, list):
            for i, v in enumerate(outer):  # (a loop: a comprehension's cell would hold ``holder`` too)
                if v is holder:
                    outer[i] = rebuilt
        elif isinstance(outer, types.FunctionType):
            if outer.__defaults__ is holder:
                outer.__defaults__ = rebuilt
        elif isinstance(outer, (types.CellType, set, tuple, frozenset)):
            _replace_in(outer, {id(holder): rebuilt}, depth + 1)


def _is_context(obj):
    from ..autograd.function import BackwardNode, _UnrecordedCtx
    return isinstance(obj, (BackwardNode, _UnrecordedCtx))


def _in_graph(d):
    """Whether dict ``d`` is the attributes of a backward node's context (``ctx.alpha``)."""
    import gc
    owners = [o for o in gc.get_referrers(d) if getattr(o, "__dict__", None) is d]
    return bool(owners) and all(_is_context(o) for o in owners)


def value_of(x):
    """A kernel argument as the kernel takes it: a stand-in is read (its arguments become
    constants of the program)."""
    if isinstance(x, _In):
        x._read()
        return x._v
    if type(x) in (list, tuple) and any(isinstance(v, _In) for v in x):
        return type(x)(value_of(v) for v in x)
    return x


class _In:
    __slots__ = ("_v", "_e", "_r", "_s")
    _stands_for_number = True  # ``_dtype.runtime_number``: ops pass it on unread (alpha=s)

    @property
    def __class__(self):
        return type(self._v)  # ``isinstance(s, float)`` as for the number: the type is in the signature

    def _read(self):
        self._s.concrete |= self._r
        return self._v

    def __getattr__(self, name):  # ``s.is_integer()``, ``s.real``: the number's, read
        value = getattr(self._v, name)
        self._read()
        return value

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self._read(), dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):  # numpy's rules for a Python number
        inputs = [value_of(v) for v in inputs]
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __reduce_ex__(self, protocol):  # copy, deepcopy, pickle: the number itself
        return type(self._v), (self._read(),)

    def __copy__(self):
        return self._read()

    def __deepcopy__(self, memo):
        return self._read()

    def __hash__(self):
        return hash(self._read())


def _data(op, symbol, reflected):
    fn = getattr(operator, op)

    def method(self, other, *modulo):
        if modulo:  # pow(s, e, m)
            return _reading(f"__{'r' if reflected else ''}{op}__")(self, other, *modulo)
        if isinstance(other, _In):
            if other._s is not self._s:
                return fn(*((value_of(other), self._read()) if reflected else (self._read(), value_of(other))))
            other_e, other_v, roots = other._e, other._v, self._r | other._r
        elif type(other) in (int, float) or type(other) is bool:
            other_e, other_v, roots = self._s.literal(other), other, self._r
        elif isinstance(other, Tensor):  # the tensor's own operator takes the number
            return NotImplemented
        else:  # a numpy number, a Fraction...: computed on the plain number
            return fn(other, self._read()) if reflected else fn(self._read(), other)
        a, b = (other_e, self._e) if reflected else (self._e, other_e)
        try:
            value = fn(other_v, self._v) if reflected else fn(self._v, other_v)
        except Exception:
            self._read()
            if isinstance(other, _In):
                other._read()
            raise
        return self._s.make(value, f"({a} {symbol} {b})", roots)
    return method


def _unary(op, symbol):
    fn = getattr(operator, op)

    def method(self):
        return self._s.make(fn(self._v), f"{symbol}({self._e})", self._r)
    return method


def _reading(name):
    def method(self, *args):
        plain = [value_of(a) for a in args]
        result = getattr(self._v, name)(*plain)
        if result is NotImplemented and name in _PROTOCOL:
            # ``int.__eq__(1, 1.0)`` declines so that Python asks ``float.__eq__(1.0, 1)``; the stand-in is
            # no int to that float, so Python would end at identity (``k == 1.0`` False for ``k=1``) or a
            # TypeError (``k >= 0.5``): run the whole operator protocol on the plain numbers, as eager does
            return _PROTOCOL[name](self._v, *plain)
        return result
    method.__name__ = name

    def read(self, *args):
        if any(isinstance(a, Tensor) for a in args):
            return NotImplemented  # as the number's own method: the tensor's operator answers, unread
        self._read()
        for a in args:
            if isinstance(a, _In):
                a._read()
        return method(self, *args)
    return read


def _protocol():
    """Dunder name -> the operator that runs Python's whole protocol (both operands' methods)
    on the plain numbers: for when the number's own method declines the other operand."""
    table = {f"__{n}__": getattr(operator, n) for n in ("lt", "le", "gt", "ge", "eq", "ne")}
    for n, fn in (("and", operator.and_), ("or", operator.or_), ("xor", operator.xor),
                  ("lshift", operator.lshift), ("rshift", operator.rshift), ("divmod", divmod)):
        table[f"__{n}__"] = fn
        table[f"__r{n}__"] = (lambda f: lambda v, o: f(o, v))(fn)
    return table


_PROTOCOL = _protocol()


def _define(cls, number):
    for name in dir(number):
        if name.startswith("__") and name not in _INTERNAL and name not in cls.__dict__ and name not in _In.__dict__:
            setattr(cls, name, _reading(name))
    for op, symbol in _DATA.items():
        setattr(cls, f"__{op}__", _data(op, symbol, False))
        setattr(cls, f"__r{op}__", _data(op, symbol, True))
    cls.__neg__ = _unary("neg", "-")
    cls.__pos__ = _unary("pos", "+")
    cls.__abs__ = _unary("abs", "abs")


class FloatIn(_In):
    """A float argument during a trace (see the module's docstring)."""
    __slots__ = ()


class IntIn(_In):
    """An int argument during a trace."""
    __slots__ = ()


_define(FloatIn, float)
_define(IntIn, int)
FloatIn.__name__, IntIn.__name__ = "float", "int"  # ``type(s).__name__`` in an op's error message
