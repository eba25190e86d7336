"""Adversarial programs for ``tinytape.compile``: realistic user code that a trace-and-replay
compiler can get wrong.

Each program is a generator ``prog(C)``.  ``C(fn, **kw)`` is the identity on the eager side
and ``tinytape.compile(fn, **kw)`` on the compiled side; the program builds its state from
fixed seeds, calls the function several times changing state between calls as user code
would, and yields after every call a dict of what to compare: keys starting with ``out``
are return values (values, dtype, shape, object identity, memory sharing), the other keys
are state (tensor values, ``.grad``, ``requires_grad``, version counters, modules,
optimizers, plain Python values).  Both sides run from the same seeds; after every call the
two snapshots must be equal bit for bit.  A ``RuntimeWarning`` naming ``tinytape.compile`` on
the compiled side makes the outcome ``refused`` (its results must still equal eager's).

Outcomes: ``same``, ``refused``, ``WRONG (detail)``, ``CRASH (detail)``.  The test per
program asserts ``same`` or ``refused``.  ``/work/adv/run_adversarial.py`` prints them all.
"""
import contextlib
import dataclasses
import functools
import io
import itertools
import math
import operator
import os
import random
import signal
import sys
import threading
import time
import traceback
import types
import warnings
from collections import namedtuple

import numpy as np
import pytest

import tinytape as tt
import tinytape.nn as nn
import tinytape.nn.functional as F
from tinytape import Tensor

HANG_S = 240  # a side running longer than this is a CRASH (hang)

PROGRAMS = {}  # name -> (class number, generator function)


def program(klass):
    def deco(fn):
        assert fn.__name__ not in PROGRAMS, fn.__name__
        PROGRAMS[fn.__name__] = (klass, fn)
        return fn
    return deco


# --------------------------------------------------------------------------- helpers


class Raised:
    """An exception a call raised, kept as an observation (eager raising must be matched)."""

    def __init__(self, e):
        self.type = type(e).__name__
        self.msg = str(e)
        self.exc = e

    def __repr__(self):
        return f"Raised({self.type}: {self.msg[:120]})"


def attempt(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001
        return Raised(e)


def arr(seed, *shape, scale=1.0, dtype=np.float32):
    return (np.random.RandomState(seed).randn(*shape) * scale).astype(dtype)


def T(seed, *shape, scale=1.0, dtype=np.float32, requires_grad=False):
    return tt.tensor(arr(seed, *shape, scale=scale, dtype=dtype), requires_grad=requires_grad)


def batches(seed, n, *shape, scale=1.0, dtype=np.float32):
    return [T(seed * 100 + i, *shape, scale=scale, dtype=dtype) for i in range(n)]


class _Compiler:
    def __init__(self, compiled):
        self.compiled = compiled
        self.fullgraph = False

    def __call__(self, fn=None, **kw):
        if fn is None:
            return functools.partial(self, **kw)
        self.fullgraph |= bool(kw.get("fullgraph"))
        return tt.compile(fn, **kw) if self.compiled else fn


def mlp(*sizes, act=nn.ReLU, last_act=False, dropout=None):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2 or last_act:
            layers.append(act())
            if dropout is not None:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def layout(out):
    """What the snapshots do not compare: the strides, contiguity and grad_fn of results."""
    if isinstance(out, tt.Tensor):
        return (out.stride(), out.is_contiguous(), None if out.grad_fn is None else out.grad_fn.name())
    if isinstance(out, (list, tuple)):
        return [layout(o) for o in out]
    if isinstance(out, dict):
        return {k: layout(v) for k, v in out.items()}
    return None


def sgd_step(model, opt, loss_fn=None):
    loss_fn = loss_fn or F.mse_loss

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


# --------------------------------------------------------------------------- snapshots


def _is_floatish(a):
    return a.dtype.kind in "fc" or a.dtype.name == "bfloat16"


def _as_array(t):
    a = np.array(t._data if isinstance(t, Tensor) else t, copy=True)
    if a.dtype.name == "bfloat16":
        a = a.astype(np.float32)
    if a.dtype.kind == "c":  # compared part by part
        a = a.view(a.real.dtype)
    return a


def _arrays_differ(a, b):
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    if a.dtype != b.dtype:
        return f"dtype {a.dtype} vs {b.dtype}"
    if _is_floatish(a):
        same = np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))
    else:
        same = np.array_equal(a, b)
    if same:
        return None
    flat_a, flat_b = a.reshape(-1), b.reshape(-1)
    if _is_floatish(a):
        bad = ~((flat_a == flat_b) & (np.signbit(flat_a) == np.signbit(flat_b))
                | (np.isnan(flat_a) & np.isnan(flat_b)))
    else:
        bad = flat_a != flat_b
    i = int(np.argmax(bad))
    return (f"{int(bad.sum())}/{bad.size} elements differ, e.g. [{i}] eager {flat_a[i]!r} "
            f"compiled {flat_b[i]!r}")


class Snapshot:
    """Flattened observation: list of (path, kind, payload)."""

    def __init__(self, obs):
        self.entries = []
        self.compile_raised = []  # (path, message) of errors that name tinytape.compile
        self._ident = {}
        self._arrays = []  # (path, numpy array) of every tensor, for memory sharing
        self._keep = []
        for k, v in obs.items():
            self._walk(v, str(k), str(k).startswith("out"))

    def _walk(self, v, path, is_out):
        if v is None or isinstance(v, (bool, int, str, bytes)):
            self.entries.append((path, "value", (type(v).__name__, repr(v))))
            return
        if isinstance(v, float):
            self.entries.append((path, "value", ("float", repr(v))))
            return
        if isinstance(v, (np.generic,)):
            self.entries.append((path, "value", (type(v).__name__, repr(v))))
            return
        if isinstance(v, Raised):
            self.entries.append((path, "raised", v.type))
            if "tinytape.compile" in v.msg:
                self.compile_raised.append((path, f"{v.type}: {v.msg}"))
            return
        first = self._ident.setdefault(id(v), path)
        self._keep.append(v)
        if first != path:
            self.entries.append((path, "same-object-as", first))
            return
        if isinstance(v, Tensor):
            self._tensor(v, path, is_out)
        elif isinstance(v, np.ndarray):
            self.entries.append((path, "array", _as_array(v)))
        elif isinstance(v, (list, tuple)):
            self.entries.append((path, "seq", (type(v).__name__, len(v))))
            for i, x in enumerate(v):
                self._walk(x, f"{path}[{i}]", is_out)
        elif isinstance(v, dict):
            self.entries.append((path, "dict", [repr(k) for k in v]))
            for k, x in v.items():
                self._walk(x, f"{path}[{k!r}]", is_out)
        elif isinstance(v, nn.Module):
            self.entries.append((path, "module", [m.training for m in v.modules()]))
            for n, p in v.named_parameters():
                self._walk(p, f"{path}.{n}", False)
            for n, b in v.named_buffers():
                self._walk(b, f"{path}.{n}", False)
        elif isinstance(v, tt.optim.Optimizer):
            groups = [{k: x for k, x in g.items() if k != "params"} for g in v.param_groups]
            self.entries.append((path, "value", ("param_groups", repr(groups))))
            params = [p for g in v.param_groups for p in g["params"]]
            for i, p in enumerate(params):
                st = v.state.get(p, {}) if hasattr(v.state, "get") else {}
                for k in sorted(st):
                    self._walk(st[k], f"{path}.state[{i}][{k!r}]", False)
        else:
            self.entries.append((path, "object", type(v).__name__))

    def _tensor(self, t, path, is_out):
        data = t._data
        share = None
        for p, a in self._arrays:
            if isinstance(a, np.ndarray) and isinstance(data, np.ndarray) and np.shares_memory(a, data):
                share = p
                break
        self._arrays.append((path, data))
        desc = {"value": _as_array(t), "shares-memory-with": share}
        if not is_out:
            desc["requires_grad"] = t.requires_grad
            desc["version"] = t._version_counter[0]
            g = t.grad
            desc["grad"] = None if g is None else _as_array(g)
        self.entries.append((path, "tensor", desc))


def _diff_payload(kind, a, b):
    if kind == "tensor":
        for key in a:
            x, y = a[key], b.get(key)
            if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
                if x is None or y is None:
                    return f"{key}: eager {'None' if x is None else 'tensor'} compiled {'None' if y is None else 'tensor'}"
                d = _arrays_differ(x, y)
                if d:
                    return f"{key}: {d}"
            elif x != y:
                return f"{key}: eager {x!r} compiled {y!r}"
        return None
    if kind == "array":
        return _arrays_differ(a, b)
    return None if a == b else f"eager {a!r} compiled {b!r}"


def compare_snapshots(e, c):
    """The differences between two snapshots, most telling first ([] when equal): values,
    identity and aliasing before version counters."""
    diffs = []
    ce = dict((p, (k, x)) for p, k, x in c.entries)
    for path, kind, payload in e.entries:
        if path not in ce:
            diffs.append(f"{path}: missing in compiled")
            continue
        ckind, cpayload = ce.pop(path)
        if kind != ckind:
            diffs.append(f"{path}: eager {kind} {_short(payload)} compiled {ckind} {_short(cpayload)}")
            continue
        if kind == "tensor":
            diffs += [f"{path}: {d}" for d in _tensor_diffs(payload, cpayload)]
        else:
            d = _diff_payload(kind, payload, cpayload)
            if d:
                diffs.append(f"{path}: {d}")
    diffs += [f"{p}: only in compiled" for p in ce]
    return sorted(diffs, key=lambda d: ": version:" in d)


def _tensor_diffs(a, b):
    out = []
    for key in a:
        x, y = a[key], b.get(key)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if x is None or y is None:
                out.append(f"{key}: eager {'None' if x is None else 'tensor'} compiled "
                           f"{'None' if y is None else 'tensor'}")
                continue
            d = _arrays_differ(x, y)
            if d:
                out.append(f"{key}: {d}")
        elif x != y:
            out.append(f"{key}: eager {x!r} compiled {y!r}")
    return out


def _short(x):
    if isinstance(x, dict):
        return "tensor"
    r = repr(x)
    return r if len(r) < 60 else r[:57] + "..."


# --------------------------------------------------------------------------- running


class _Timeout(BaseException):
    pass


class Side:
    def __init__(self):
        self.snaps, self.times, self.err, self.tb = [], [], None, None
        self.warnings, self.stdout, self.timeout = [], "", False
        self.fullgraph = False


def _reset_rngs():
    random.seed(0)
    np.random.seed(0)
    tt.manual_seed(0)


def run_side(gen_fn, compiled):
    _reset_rngs()
    side = Side()
    buf = io.StringIO()
    compiler = _Compiler(compiled)
    main = threading.current_thread() is threading.main_thread()
    if main:
        def on_alarm(*_):
            raise _Timeout()
        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, HANG_S)
    try:
        with warnings.catch_warnings(record=True) as rec, contextlib.redirect_stdout(buf):
            warnings.simplefilter("always")
            gen = gen_fn(compiler)
            while True:
                t0 = time.perf_counter()
                try:
                    obs = next(gen)
                except StopIteration:
                    break
                except Exception as e:  # noqa: BLE001
                    side.err, side.tb = e, traceback.format_exc()
                    break
                finally:
                    side.times.append(time.perf_counter() - t0)
                side.snaps.append(Snapshot(obs))
            side.warnings = list(rec)
    except _Timeout:
        side.timeout = True
    finally:
        if main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    side.stdout = buf.getvalue()
    side.fullgraph = compiler.fullgraph
    return side


def _refusals(side):
    return [w for w in side.warnings
            if issubclass(w.category, RuntimeWarning) and "tinytape.compile" in str(w.message)]


def _one_line(s, n=160):
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[:n - 3] + "..."


class ProgramSet(dict):
    """A later round's programs by name (each a generator function of ``C``, the compile
    wrapper), run on both sides and judged as this file's are."""

    def register(self, fn):
        assert fn.__name__ not in self, fn.__name__
        self[fn.__name__] = fn
        return fn

    def run(self, name):
        fn = self[name]
        return judge(run_side(fn, False), run_side(fn, True))


def judge(eager, comp):
    """(outcome, detail)."""
    if eager.timeout or eager.err is not None:
        why = "timed out" if eager.timeout else f"{type(eager.err).__name__}: {eager.err}"
        return "CRASH", _one_line(f"the eager run itself failed (program bug?): {why}")
    if comp.timeout:
        return "CRASH", f"hang: compiled side did not finish in {HANG_S} s (after {len(comp.snaps)} calls)"
    for i, (a, b) in enumerate(zip(eager.snaps, comp.snaps)):
        loud = [(p, m) for p, m in b.compile_raised if (p, m) not in a.compile_raised]
        diffs = compare_snapshots(a, b)
        if loud:
            # an error naming tinytape.compile where eager went on: a loud refusal (the calls
            # before it were compared already; this call's state may differ, it was stopped)
            how = "" if comp.fullgraph else " although fullgraph=False"
            return "refused", _one_line(f"raised{how} at call {i}: {loud[0][1]}")
        if diffs:
            more = f" (+{len(diffs) - 1} more)" if len(diffs) > 1 else ""
            return "WRONG", _one_line(f"call {i}: {diffs[0]}", 240) + more
    if comp.err is not None:
        msg = f"{type(comp.err).__name__}: {comp.err}"
        if "tinytape.compile" in str(comp.err):
            return "refused", _one_line(f"raised at call {len(comp.snaps)}: {msg}")
        last = comp.tb.strip().splitlines()[-3:-1] if comp.tb else []
        return "CRASH", _one_line(f"call {len(comp.snaps)}: {msg} [{' / '.join(x.strip() for x in last)}]", 220)
    if eager.stdout != comp.stdout:
        return "WRONG", _one_line(f"stdout differs: eager {eager.stdout[-80:]!r} compiled {comp.stdout[-80:]!r}")
    ref = _refusals(comp)
    if ref:
        return "refused", _one_line(str(ref[0].message))
    return "same", ""


def run_program(name, self_check=False):
    """Run the program eagerly and compiled (``self_check``: eagerly twice, which must
    give ``same``: it checks the program and the harness are deterministic)."""
    _, gen_fn = PROGRAMS[name]
    eager = run_side(gen_fn, False)
    comp = run_side(gen_fn, not self_check)
    return judge(eager, comp)


# =========================================================================== programs
# --------------------------------------------------------------- 1. in-place ops


@program(1)
def ip_clone_add_exp(C):
    x = T(1, 4, 3)

    def f(x):
        h = x.clone()
        h.add_(1.0)
        h.exp_()
        return h
    f = C(f)
    for _ in range(5):
        yield {"out": f(x), "x": x}
        x.mul_(0.5)


@program(1)
def ip_standardize_sub_div(C):
    xs = batches(2, 5, 6, 4)

    def f(x):
        h = x.clone()
        m = h.mean()
        s = ((h - m) ** 2).mean().sqrt()
        h.sub_(m).div_(s)
        return h
    f = C(f)
    for x in xs:
        yield {"out": f(x), "x": x}


@program(1)
def ip_relu_twice_backward(C):
    w = T(3, 4, 3, requires_grad=True)
    xs = batches(3, 5, 4, 3)

    def step(x):
        h = x * w
        h.relu_()
        h.relu_()
        loss = h.sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss
    step = C(step)
    for x in xs:
        yield {"out": step(x), "w": w}


@program(1)
def ip_mul_then_add_backward(C):
    w = T(4, 5, requires_grad=True)
    xs = batches(4, 5, 3, 5)

    def step(x):
        h = x * w
        h.add_(1.0)
        loss = (h * h).mean()
        loss.backward()
        with tt.no_grad():
            w.sub_(0.05 * w.grad)
            w.grad = None
        return loss
    step = C(step)
    for x in xs:
        yield {"out": step(x), "w": w}


@program(1)
def ip_setitem_int_row(C):
    xs = batches(5, 5, 4, 3)

    def f(x):
        h = x.clone()
        h[1] = 0
        return h * 2.0
    f = C(f)
    for x in xs:
        yield {"out": f(x), "x": x}


@program(1)
def ip_setitem_slice_backward(C):
    w = T(6, 4, 5, requires_grad=True)
    xs = batches(6, 5, 4, 5)

    def step(x):
        h = x * w
        h[:, 1:3] = 0.5
        loss = h.pow(2).sum()
        loss.backward()
        return loss
    step = C(step)
    for x in xs:
        yield {"out": step(x), "w": w}
        with tt.no_grad():
            w.sub_(0.01 * w.grad)
        w.grad = None


@program(1)
def ip_setitem_mask_data_dependent(C):
    xs = batches(7, 5, 5, 4)

    def f(x):
        h = x.clone()
        h[h < 0] = 0.0
        return h
    f = C(f)
    for x in xs:
        yield {"out": f(x)}


@program(1)
def ip_setitem_mask_backward(C):
    w = T(8, 5, 4, requires_grad=True)
    xs = batches(8, 5, 5, 4)

    def step(x):
        h = x * w
        h[x > 0.5] = 0.0
        loss = (h * h).sum()
        loss.backward()
        return loss
    step = C(step)
    for x in xs:
        yield {"out": step(x), "w": w}


@program(1)
def ip_setitem_tensor_value_arg(C):
    xs = batches(9, 5, 4, 3)
    ys = batches(10, 5, 3)

    def f(x, y):
        h = x.clone()
        h[0] = y
        h[-1] = y * 2.0
        return h.sum(0)
    f = C(f)
    for x, y in zip(xs, ys):
        yield {"out": f(x, y)}


@program(1)
def ip_setitem_index_tensor_mutated(C):
    idx = tt.tensor([0, 2])
    x = T(11, 6, 3)

    def f(x):
        h = x.clone()
        h[idx] = 1.0
        return h
    f = C(f)
    for _ in range(4):
        yield {"out": f(x), "idx": idx}
        idx.add_(1)


@program(1)
def ip_setitem_grad_flows_to_value(C):
    v = T(12, 3, requires_grad=True)
    xs = batches(12, 5, 4, 3)

    def step(x):
        h = x.clone()
        h[1] = v * 2.0
        loss = h.tanh().sum()
        loss.backward()
        return loss
    step = C(step)
    for x in xs:
        yield {"out": step(x), "v": v}
        with tt.no_grad():
            v.sub_(0.1 * v.grad)


@program(1)
def ip_relu_inplace_model(C):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(inplace=True), nn.Linear(8, 8),
                          nn.ReLU(inplace=True), nn.Linear(8, 2))
    opt = tt.optim.SGD(model.parameters(), lr=0.05)
    step = C(sgd_step(model, opt))
    xs, ys = batches(13, 6, 5, 4), batches(14, 6, 5, 2)
    for x, y in zip(xs, ys):
        yield {"out": step(x, y), "model": model}


@program(1)
def ip_clamp_backward(C):
    w = T(15, 6, requires_grad=True)
    xs = batches(15, 5, 3, 6)

    def step(x):
        h = x * w
        h.clamp_(-0.5, 0.5)
        loss = h.sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(0.2 * w.grad)
            w.grad.zero_()
        return loss
    step = C(step)
    for x in xs:
        yield {"out": step(x), "w": w}


@program(1)
def ip_mul_on_views(C):
    xs = batches(16, 5, 4, 4)

    def f(x):
        h = x.clone()
        h[0].mul_(3.0)
        h[:, 1].add_(1.0)
        h[1:3, 2:].neg_()
        return h
    f = C(f)
    for x in xs:
        yield {"out": f(x)}


@program(1)
def ip_transpose_view_add(C):
    xs = batches(17, 5, 4, 4)
    y = T(18, 4, 4)

    def f(x):
        h = x.clone()
        h.t().add_(y)
        return h
    f = C(f)
    for x in xs:
        yield {"out": f(x)}
        y.mul_(-1.5)


@program(1)
def ip_arg_add(C):
    x = T(19, 3, 4)

    def f(x):
        x.add_(1.0)
        return (x * 2.0).sum()
    f = C(f)
    for _ in range(5):
        yield {"out": f(x), "x": x}


@program(1)
def ip_arg_mul_return_self(C):
    xs = batches(20, 4, 5)

    def f(x):
        return x.mul_(2.0)
    f = C(f)
    for x in xs:
        yield {"out": f(x), "x": x}


@program(1)
def ip_arg_row_zero(C):
    xs = batches(21, 4, 4, 3)

    def f(x):
        x[0].zero_()
        return x.sum()
    f = C(f)
    for x in xs:
        yield {"out": f(x), "x": x}


@program(1)
def ip_param_data_sub(C):
    w = T(22, 4, 2, requires_grad=True)
    xs, ys = batches(22, 5, 3, 4), batches(23, 5, 3, 2)

    def step(x, y):
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        w.data.sub_(0.1 * w.grad.data)
        w.grad.data.zero_()
        return loss
    step = C(step)
    for x, y in zip(xs, ys):
        yield {"out": step(x, y), "w": w}


@program(1)
def ip_augmented_assignment_ops(C):
    xs, ys = batches(24, 5, 3, 3), batches(25, 5, 3, 3)

    def f(x, y):
        h = x * 1.0
        h += y
        h *= 2.0
        h -= x
        h /= 3.0
        return h
    f = C(f)
    for x, y in zip(xs, ys):
        yield {"out": f(x, y)}


G_FILL = 1.0


@program(1)
def ip_fill_global_number(C):
    global G_FILL
    G_FILL = 1.0
    buf = tt.zeros(4)
    x = T(26, 4)

    def f(x):
        buf.fill_(G_FILL)
        return buf * x
    f = C(f)
    for v in (1.0, 1.0, 2.0, 2.0, -3.0):
        G_FILL = v
        yield {"out": f(x), "buf": buf}


@program(1)
def ip_copy_into_closure_buffer_returned(C):
    buf = tt.zeros(3, 2)
    xs = batches(27, 5, 3, 2)

    def f(x):
        buf.copy_(x * 2.0)
        return buf
    f = C(f)
    for x in xs:
        yield {"out": f(x), "buf": buf}


@program(1)
def ip_pow_inplace(C):
    xs = batches(28, 5, 6)

    def f(x):
        h = x.abs()
        h.pow_(2.0)
        h.pow_(0.5)
        return h
    f = C(f)
    for x in xs:
        yield {"out": f(x)}


@program(1)
def ip_neg_exp_backward(C):
    w = T(29, 5, requires_grad=True, scale=0.3)
    xs = batches(29, 5, 2, 5)

    def step(x):
        h = x * w
        h.neg_()
        loss = h.exp().sum()
        loss.backward()
        return loss
    step = C(step)
    for x in xs:
        yield {"out": step(x), "w": w}


@program(1)
def ip_int_div_inplace_raises(C):
    xs = [tt.tensor([[4, 6], [8, 10]]) + i for i in range(4)]

    def f(x):
        h = x.clone()
        h.div_(2)
        return h
    f = C(f)
    for x in xs:
        yield {"out": attempt(f, x)}


@program(1)
def ip_leaf_inplace_raises(C):
    w = T(30, 3, requires_grad=True)
    xs = batches(30, 4, 3)

    def f(x):
        w.add_(x)
        return w.sum()
    f = C(f)
    for x in xs:
        yield {"out": attempt(f, x), "w": w}


@program(1)
def ip_modified_saved_output_raises(C):
    w = T(31, 3, requires_grad=True)
    xs = batches(31, 4, 3)

    def f(x):
        y = (w * x).exp()
        y.add_(1.0)
        y.sum().backward()
        return y
    f = C(f)
    for x in xs:
        yield {"out": attempt(f, x), "w": w}


@program(1)
def ip_add_sub_alpha(C):
    xs, ys = batches(32, 5, 4), batches(33, 5, 4)

    def f(x, y):
        h = x.clone()
        h.add_(y, alpha=0.3)
        h.sub_(y, alpha=2)
        return h
    f = C(f)
    for x, y in zip(xs, ys):
        yield {"out": f(x, y)}


@program(1)
def ip_broadcast_row_col(C):
    row, col = T(34, 1, 4), T(35, 3, 1)
    xs = batches(36, 5, 3, 4)

    def f(x):
        h = x.clone()
        h.add_(row)
        h.mul_(col)
        return h
    f = C(f)
    for x in xs:
        yield {"out": f(x)}
        row.mul_(2.0)


@program(1)
def ip_setitem_shifted_overlap(C):
    xs = batches(37, 5, 6, 3)

    def f(x):
        h = x.clone()
        h[1:] = h[:-1]
        h[..., 0] = h[..., 1]
        return h
    f = C(f)
    for x in xs:
        yield {"out": f(x)}


@program(1)
def ip_view_sees_later_inplace(C):
    xs = batches(38, 5, 2, 3)

    def f(x):
        h = x.clone()
        v = h.view(-1)
        h.mul_(2.0)
        return v
    f = C(f)
    for x in xs:
        yield {"out": f(x)}


@program(1)
def ip_relu_inplace_module_on_arg(C):
    act = nn.ReLU(inplace=True)
    xs = batches(39, 5, 4, 3)

    def f(x):
        return act(x).sum()
    f = C(f)
    for x in xs:
        yield {"out": f(x), "x": x}


@program(1)
def ip_grad_clamp_before_step(C):
    model = mlp(4, 6, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    xs, ys = batches(40, 6, 5, 4, scale=3.0), batches(41, 6, 5, 2)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        for p in model.parameters():
            p.grad.clamp_(-0.05, 0.05)
        opt.step()
        return loss
    step = C(step)
    for x, y in zip(xs, ys):
        yield {"out": step(x, y), "model": model}


@program(1)
def ip_clip_grad_norm_manual(C):
    model = mlp(4, 6, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    xs, ys = batches(42, 6, 5, 4, scale=3.0), batches(43, 6, 5, 2)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        total = sum((p.grad ** 2).sum() for p in model.parameters()).sqrt()
        coef = (0.5 / (total + 1e-6)).clamp(max=1.0)
        for p in model.parameters():
            p.grad.mul_(coef)
        opt.step()
        return loss, total
    step = C(step)
    for x, y in zip(xs, ys):
        yield {"out": step(x, y), "model": model}


@program(1)
def ip_grad_scale_inplace(C):
    w = T(44, 3, 3, requires_grad=True)
    xs = batches(44, 5, 2, 3)

    def step(x):
        loss = (x @ w).tanh().sum()
        loss.backward()
        w.grad.mul_(0.5)
        w.grad.add_(w.detach(), alpha=0.01)
        with tt.no_grad():
            w.sub_(w.grad)
        w.grad.zero_()
        return loss
    step = C(step)
    for x in xs:
        yield {"out": step(x), "w": w}


@program(1)
def ip_functional_relu_inplace_nonleaf(C):
    w = T(45, 4, requires_grad=True)
    xs = batches(45, 5, 3, 4)

    def step(x):
        h = F.relu(x * w, inplace=True)
        h = F.leaky_relu_(h * 2.0 - 1.0, 0.1)
        loss = h.sum()
        loss.backward()
        return loss
    step = C(step)
    for x in xs:
        yield {"out": step(x), "w": w}


@program(1)
def ip_fill_tensor_value(C):
    xs = batches(46, 5, 3)
    v = tt.tensor(2.0)

    def f(x):
        h = x.clone()
        h.fill_(v)
        return h + x
    f = C(f)
    for x in xs:
        yield {"out": f(x)}
        v.add_(1.0)


# --------------------------------------------------------------- 2. aliasing / overlap


@program(2)
def al_add_self_transpose_clone(C):
    xs = batches(50, 5, 4, 4)

    def f(x):
        h = x.clone()
        h.add_(h.t())
        return h
    f = C(f)
    for x in xs:
        yield {"out": f(x)}


@program(2)
def al_add_self_transpose_arg(C):
    xs = batches(51, 5, 3, 3)

    def f(x):
        x.add_(x.t())
        return x
    f = C(f)
    for x in xs:
        yield {"out": f(x), "x": x}


@program(2)
def al_shifted_self_add(C):
    xs = batches(52, 5, 8)

    def f(x):
        h = x.clone()
        h[1:].add_(h[:-1])
        h[:-1].mul_(h[1:])
        return h
    f = C(f)
    for x in xs:
        yield {"out": f(x)}


@program(2)
def al_overlapping_view_args(C):
    base = tt.arange(12.0)

    def f(a, b):
        a.add_(b)
        return a.sum()
    f = C(f)
    for s, t in ((0, 2), (0, 2), (1, 3), (0, 4), (2, 0), (3, 1)):
        yield {"out": f(base[s:s + 6], base[t:t + 6]), "base": base}


@program(2)
def al_views_distinct_then_overlap(C):
    base = tt.arange(10.0) * 0.5

    def f(a, b):
        a.mul_(2.0)
        return a + b
    f = C(f)
    for s, t in ((0, 5), (0, 5), (0, 3), (2, 0), (0, 0)):
        yield {"out": f(base[s:s + 5], base[t:t + 5]), "base": base}


@program(2)
def al_column_views_of_one_storage(C):
    base = T(53, 4, 4)

    def f(a, b):
        a.mul_(b)
        return (a - b).sum(0)
    f = C(f)
    for s, t in ((0, 2), (0, 2), (2, 0), (1, 2), (0, 1)):
        yield {"out": f(base[:, s:s + 2], base[:, t:t + 2]), "base": base}


G_W = None


@program(2)
def al_arg_is_global_read(C):
    global G_W
    G_W = T(54, 4)
    v = T(55, 4)

    def f(x):
        x.mul_(2.0)
        return (G_W * 3.0).sum() + x.sum()
    f = C(f)
    for arg in (G_W, G_W, v, v, G_W, v):
        yield {"out": f(arg), "W": G_W, "v": v}


@program(2)
def al_arg_is_closure_param(C):
    w = T(56, 3, 3, requires_grad=True)
    other = T(57, 3, 3, requires_grad=True)

    def f(p):
        loss = (p @ w).sum()
        loss.backward()
        return loss
    f = C(f)
    for arg in (w, w, other, other, w):
        yield {"out": f(arg), "w": w, "other": other}


@program(2)
def al_return_x(C):
    xs = batches(58, 4, 3)

    def f(x):
        return x
    f = C(f)
    for x in xs:
        yield {"out": f(x), "x": x}


@program(2)
def al_return_x_after_math(C):
    xs = batches(59, 4, 3)

    def f(x):
        h = x * 2.0
        return x, h
    f = C(f)
    for x in xs:
        yield {"out": f(x), "x": x}


@program(2)
def al_return_x0_view(C):
    x = T(60, 3, 4)

    def f(x):
        return x[0]
    f = C(f)
    for _ in range(4):
        out = f(x)
        yield {"out": out, "x": x}
        x.add_(1.0)
        yield {"out_before": out}


@program(2)
def al_return_views_then_mutate(C):
    x = T(61, 3, 4)

    def f(x):
        return x.view(-1), x.t(), x.detach(), x[1:], x.unsqueeze(0), x.reshape(4, 3)
    f = C(f)
    for _ in range(4):
        out = f(x)
        yield {"out": out, "x": x}
        x.mul_(-2.0)
        yield {"out_before": out}


@program(2)
def al_return_loss_twice(C):
    w = T(62, 4, requires_grad=True)
    xs = batches(62, 5, 2, 4)

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        return loss, loss
    step = C(step)
    for x in xs:
        yield {"out": step(x), "w": w}


@program(2)
def al_return_dict_same_tensor(C):
    xs = batches(63, 4, 3)

    def f(x):
        h = x.exp()
        return {"a": h, "b": h, "c": [h, x]}
    f = C(f)
    for x in xs:
        yield {"out": f(x), "x": x}


@program(2)
def al_return_arg_list(C):
    xs = batches(64, 4, 3)

    def f(lst):
        lst[0].add_(1.0)
        return lst
    f = C(f)
    for x in xs:
        lst = [x, x * 2.0]
        yield {"out": f(lst), "lst": lst}


@program(2)
def al_same_tensor_twice_then_distinct(C):
    x, y = T(65, 4), T(66, 4)

    def f(a, b):
        return (a * b + a).sum()
    f = C(f)
    for a, b in ((x, x), (x, x), (x, y), (y, y), (x, y), (y, x)):
        yield {"out": f(a, b)}


@program(2)
def al_same_tensor_twice_inplace(C):
    x, y = T(67, 4), T(68, 4)

    def f(a, b):
        a.mul_(2.0)
        return a + b
    f = C(f)
    for a, b in ((x, x), (x, x), (x, y), (x, y), (y, y), (x, x)):
        yield {"out": f(a, b), "x": x, "y": y}


@program(2)
def al_return_param(C):
    w = T(69, 3, requires_grad=True)
    xs = batches(69, 4, 3)

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        return loss, w
    step = C(step)
    for x in xs:
        yield {"out": step(x), "w": w}


@program(2)
def al_return_grad_object(C):
    model = mlp(3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    xs, ys = batches(70, 5, 4, 3), batches(71, 5, 4, 2)
    w = model[0].weight

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return w.grad
    step = C(step)
    for x, y in zip(xs, ys):
        g = step(x, y)
        yield {"out": g, "wgrad": w.grad, "model": model}


@program(2)
def al_arg_view_of_closure_buffer(C):
    B = T(72, 3, 4)

    def f(v):
        v.mul_(0.5)
        return (B * 2.0).sum()
    f = C(f)
    for i in (0, 0, 1, 2, 1):
        yield {"out": f(B[i]), "B": B}


@program(2)
def al_out_arg_overlapping_input(C):
    buf = tt.arange(8.0)

    def f(out, x):
        out.copy_(x * 2.0)
        return out.sum()
    f = C(f)
    for s, t in ((0, 4), (0, 4), (0, 2), (2, 0), (1, 1)):
        yield {"out": f(buf[s:s + 4], buf[t:t + 4]), "buf": buf}


@program(2)
def al_transposed_args_other_bases(C):
    A, B = T(73, 3, 4), T(74, 3, 4)
    w = T(75, 3, 2)

    def f(x):
        return x @ w
    f = C(f)
    for arg in (A.t(), A.t(), B.t(), T(73, 4, 3), B.t()):
        yield {"out": f(arg)}
        A.add_(1.0)


@program(2)
def al_global_rebinding(C):
    global G_W
    G_W = T(76, 4, 2)
    xs = batches(76, 5, 3, 4)

    def f(x):
        return x @ G_W
    f = C(f)
    for i, x in enumerate(xs):
        if i == 2:
            G_W = T(77, 4, 2)
        yield {"out": f(x)}


@program(2)
def al_param_data_reassigned(C):
    w = T(78, 3, requires_grad=True)
    xs = batches(78, 5, 3)

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        return loss
    step = C(step)
    for i, x in enumerate(xs):
        if i == 2:
            w.data = T(79, 3)
        yield {"out": step(x), "w": w}


@program(2)
def al_grad_assigned_outside(C):
    w = T(80, 3, requires_grad=True)
    xs = batches(80, 6, 3)
    held = []

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        return loss
    step = C(step)
    for i, x in enumerate(xs):
        if i in (2, 4):
            w.grad = tt.ones(3) * float(i)
            held.append(w.grad)
        yield {"out": step(x), "w": w, "held": list(held)}


@program(2)
def al_expanded_stride0_arg(C):
    w = T(81, 4, 3)

    def f(x):
        h = x * w
        return h.sum(0)
    f = C(f)
    for i in range(5):
        e = T(82 + i, 3).expand(4, 3)
        yield {"out": f(e)}


@program(2)
def al_arg_and_returned_sum(C):
    xs = batches(83, 4, 3)

    def f(x):
        x.add_(1.0)
        return x, x.sum()
    f = C(f)
    for x in xs:
        yield {"out": f(x), "x": x}


@program(2)
def al_list_arg_same_then_distinct(C):
    x, y = T(84, 3), T(85, 3)

    def f(xs):
        xs[0].mul_(2.0)
        return xs[0] + xs[1]
    f = C(f)
    for a, b in ((x, x), (x, x), (x, y), (x, y), (y, y)):
        yield {"out": f([a, b]), "x": x, "y": y}


@program(2)
def al_kwargs_same_then_distinct(C):
    x, y = T(86, 3), T(87, 3)

    def f(*, a, b):
        a.add_(b)
        return a * b
    f = C(f)
    for a, b in ((x, x), (x, x), (x, y), (y, x), (y, y)):
        yield {"out": f(a=a, b=b), "x": x, "y": y}


@program(2)
def al_param_and_its_view_args(C):
    base = T(88, 4, 3)

    def f(full, row):
        row.mul_(10.0)
        return full.sum(0)
    f = C(f)
    for i in (0, 0, 1, 3, 2):
        yield {"out": f(base, base[i]), "base": base}


@program(2)
def al_return_closure_tensor_identity(C):
    state = T(89, 3)

    def f(x):
        state.add_(x)
        return state, state * 1.0
    f = C(f)
    for x in batches(89, 5, 3):
        yield {"out": f(x), "state": state}


# --------------------------------------------------------------- 3. threads


def _run_threads(targets, timeout=120):
    results = [None] * len(targets)
    errors = [None] * len(targets)
    barrier = threading.Barrier(len(targets))

    def wrap(i, fn):
        try:
            barrier.wait(timeout=30)
            results[i] = fn()
        except Exception as e:  # noqa: BLE001
            errors[i] = Raised(e)
    threads = [threading.Thread(target=wrap, args=(i, fn), daemon=True) for i, fn in enumerate(targets)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout)
        if th.is_alive():
            raise RuntimeError("thread hang: a thread did not finish")
    return [errors[i] if errors[i] is not None else results[i] for i in range(len(targets))]


@program(3)
def th_concurrent_calls_warm(C):
    w = T(100, 6, 4)
    w2 = T(101, 4, 3)

    def f(x):
        return ((x @ w).tanh() @ w2).sum(0)
    f = C(f)
    f(T(102, 5, 6))
    f(T(103, 5, 6))
    inputs = [batches(104 + k, 40, 5, 6) for k in range(2)]

    def worker(k):
        return lambda: [f(x) for x in inputs[k]]
    yield {"out": _run_threads([worker(0), worker(1)])}


@program(3)
def th_concurrent_first_call(C):
    w = T(110, 6, 4)

    def f(x):
        h = (x @ w).relu()
        return h * h + 1.0
    f = C(f)
    inputs = [batches(111 + k, 25, 3, 6) for k in range(2)]

    def worker(k):
        return lambda: [f(x) for x in inputs[k]]
    yield {"out": _run_threads([worker(0), worker(1)])}


@program(3)
def th_two_functions_tracing(C):
    w = T(120, 5, 5)

    def f(x):
        return (x @ w).sigmoid().sum(1)

    def g(x):
        return (x * 3.0 - 1.0).exp().mean(0)
    f, g = C(f), C(g)
    a, b = batches(121, 20, 4, 5), batches(122, 20, 4, 5)
    yield {"out": _run_threads([lambda: [f(x) for x in a], lambda: [g(x) for x in b]])}


@program(3)
def th_training_per_thread(C):
    def make(k):
        model = mlp(4, 5, 2)
        opt = tt.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        step = C(sgd_step(model, opt))
        xs, ys = batches(130 + k, 15, 6, 4), batches(140 + k, 15, 6, 2)
        return model, (lambda: [step(x, y) for x, y in zip(xs, ys)])
    m0, t0 = make(0)
    m1, t1 = make(1)
    res = _run_threads([t0, t1])
    yield {"out": res, "m0": m0, "m1": m1}


@program(3)
def th_one_compiled_step_models_as_args(C):
    def step(model, opt, x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    models = [mlp(4, 5, 2) for _ in range(2)]
    opts = [tt.optim.SGD(m.parameters(), lr=0.05) for m in models]
    data = [(batches(150 + k, 12, 6, 4), batches(160 + k, 12, 6, 2)) for k in range(2)]

    def worker(k):
        return lambda: [step(models[k], opts[k], x, y) for x, y in zip(*data[k])]
    res = _run_threads([worker(0), worker(1)])
    yield {"out": res, "m0": models[0], "m1": models[1]}


@program(3)
def th_eager_thread_while_other_traces(C):
    w = T(170, 4, 4)
    w1 = T(172, 4)
    xs = batches(171, 30, 3, 4)

    def eager_worker():
        vals = []
        for x in xs:
            h = (x @ w).tanh()
            vals.append((h.sum().item(), h))
        return vals

    def tracing_worker():
        outs = []
        for i in range(15):
            def f(x, i=i):
                return (x * float(i) + w1).exp().sum()
            cf = C(f)
            outs.append(cf(xs[i]))
        return outs
    yield {"out": _run_threads([eager_worker, tracing_worker])}


@program(3)
def th_grad_mode_per_thread(C):
    w = T(180, 3, requires_grad=True)

    def f(x):
        return (x * w).sum()
    f = C(f)
    xs = batches(181, 20, 3)

    def nograd():
        with tt.no_grad():
            return [(o, o.requires_grad) for o in (f(x) for x in xs)]

    def withgrad():
        return [(o, o.requires_grad) for o in (f(x) for x in xs)]
    yield {"out": _run_threads([nograd, withgrad])}


@program(3)
def th_item_in_other_thread_during_trace(C):
    w = T(190, 4)
    ys = batches(191, 40, 4)
    xs = batches(192, 6, 4)

    def reader():
        return [float((y * w).sum()) for y in ys]

    def tracer():
        outs = []
        for k in range(6):
            def f(x, k=k):
                return (x + w * float(k)).tanh().sum()
            outs.append(C(f)(xs[k]))
        return outs
    yield {"out": _run_threads([reader, tracer])}


# --------------------------------------------------------------- 4. autograd across the boundary


@program(4)
def ag_loss_fn_on_outside_prediction(C):
    model = mlp(4, 6, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.05)

    def loss_fn(pred, y):
        loss = ((pred - y) ** 2).mean()
        loss.backward()
        return loss
    loss_fn = C(loss_fn)
    for x, y in zip(batches(200, 6, 5, 4), batches(201, 6, 5, 2)):
        opt.zero_grad()
        pred = model(x)
        loss = loss_fn(pred, y)
        opt.step()
        yield {"out": loss, "model": model}


@program(4)
def ag_compiled_model_backward_outside(C):
    model = mlp(4, 6, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.05)
    cm = C(model)
    for x, y in zip(batches(202, 6, 5, 4), batches(203, 6, 5, 2)):
        opt.zero_grad()
        out = cm(x)
        loss = F.mse_loss(out, y)
        r = attempt(loss.backward)
        opt.step()
        yield {"out": loss, "backward": r, "model": model}


@program(4)
def ag_step_called_under_no_grad(C):
    model = mlp(3, 4, 1)
    opt = tt.optim.SGD(model.parameters(), lr=0.05)
    step = C(sgd_step(model, opt))
    xs, ys = batches(204, 6, 4, 3), batches(205, 6, 4, 1)
    for i, (x, y) in enumerate(zip(xs, ys)):
        if i in (3, 4):
            with tt.no_grad():
                r = attempt(step, x, y)
        else:
            r = step(x, y)
        yield {"out": r, "model": model}


@program(4)
def ag_step_takes_model_and_optimizer(C):
    def step(model, opt, x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    model = mlp(4, 5, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    for x, y in zip(batches(206, 6, 3, 4), batches(207, 6, 3, 2)):
        yield {"out": step(model, opt, x, y), "model": model, "opt": opt}


@program(4)
def ag_forward_traced_no_grad_then_trained(C):
    model = mlp(4, 5, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    fwd = C(lambda x: model(x))
    xs, ys = batches(208, 6, 3, 4), batches(209, 6, 3, 2)
    for i, (x, y) in enumerate(zip(xs, ys)):
        if i < 2:
            with tt.no_grad():
                yield {"out": fwd(x), "model": model}
            continue
        opt.zero_grad()
        out = fwd(x)
        loss = F.mse_loss(out, y)
        r = attempt(loss.backward)
        opt.step()
        yield {"out": out, "backward": r, "model": model}


@program(4)
def ag_output_nonleaf_backward_outside(C):
    w = T(210, 4, 3, requires_grad=True)

    def f(x):
        return (x @ w).tanh()
    f = C(f)
    for x in batches(210, 5, 2, 4):
        out = f(x)
        r = attempt(lambda: out.sum().backward())
        yield {"out": out, "backward": r, "w": w}
        w.grad = None


@program(4)
def ag_input_requires_grad_toggled(C):
    w = T(211, 3)

    def f(x):
        loss = (x * w).pow(2).sum()
        loss.backward()
        return loss
    f = C(f)
    for i in range(6):
        x = T(212 + i, 3, requires_grad=(i >= 2))
        yield {"out": attempt(f, x), "x": x}


@program(4)
def ag_retain_grad_inside(C):
    w = T(213, 3, requires_grad=True)

    def f(x):
        h = x * w
        h.retain_grad()
        loss = h.tanh().sum()
        loss.backward()
        return loss, h.grad
    f = C(f)
    for x in batches(213, 5, 3):
        yield {"out": f(x), "w": w}


@program(4)
def ag_autograd_grad_inside(C):
    w = T(214, 3, 2, requires_grad=True)

    def f(x):
        loss = (x @ w).sigmoid().sum()
        (g,) = tt.autograd.grad(loss, [w])
        with tt.no_grad():
            w.sub_(0.5 * g)
        return loss, g
    f = C(f)
    for x in batches(214, 5, 4, 3):
        yield {"out": f(x), "w": w}


@program(4)
def ag_double_backward_penalty(C):
    w = T(215, 3, requires_grad=True)

    def f(x):
        loss = (x * w).tanh().sum()
        (g,) = tt.autograd.grad(loss, [w], create_graph=True)
        pen = (g ** 2).sum()
        pen.backward()
        with tt.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad = None
        return pen
    f = C(f)
    for x in batches(215, 5, 3):
        yield {"out": f(x), "w": w}


@program(4)
def ag_backward_twice_retain_graph(C):
    w = T(216, 3, requires_grad=True)

    def f(x):
        loss = (x * w).exp().sum()
        loss.backward(retain_graph=True)
        loss.backward()
        return loss
    f = C(f)
    for x in batches(216, 5, 3):
        yield {"out": f(x), "w": w}
        w.grad = None


@program(4)
def ag_grad_accumulation_microbatches(C):
    model = mlp(4, 5, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def micro(x, y):
        loss = F.mse_loss(model(x), y) / 2.0
        loss.backward()
        return loss
    micro = C(micro)
    for i, (x, y) in enumerate(zip(batches(217, 8, 3, 4), batches(218, 8, 3, 2))):
        loss = micro(x, y)
        if i % 2 == 1:
            opt.step()
            opt.zero_grad()
        yield {"out": loss, "model": model}


G_TRAIN = True


@program(4)
def ag_set_grad_enabled_global_flag(C):
    global G_TRAIN
    G_TRAIN = True
    w = T(219, 3, requires_grad=True)

    def f(x):
        with tt.set_grad_enabled(G_TRAIN):
            loss = (x * w).pow(2).sum()
        if loss.requires_grad:
            loss.backward()
        return loss
    f = C(f)
    for i, x in enumerate(batches(219, 6, 3)):
        G_TRAIN = i not in (2, 3)
        yield {"out": attempt(f, x), "w": w}


@program(4)
def ag_enable_grad_inside_called_under_no_grad(C):
    w = T(220, 3, requires_grad=True)

    def f(x):
        with tt.enable_grad():
            loss = (x * w).sum()
            loss.backward()
        return loss
    f = C(f)
    for i, x in enumerate(batches(220, 5, 3)):
        if i % 2:
            with tt.no_grad():
                r = f(x)
        else:
            r = f(x)
        yield {"out": r, "w": w}


@program(4)
def ag_nested_compiled_functions(C):
    w = T(221, 3, 3, requires_grad=True)

    def inner(x):
        return (x @ w).relu()
    inner = C(inner)

    def outer(x):
        loss = inner(x).sum() + inner(x * 2.0).sum()
        loss.backward()
        return loss
    outer = C(outer)
    for x in batches(221, 5, 2, 3):
        a = inner(x)
        yield {"out": outer(x), "out_inner": a, "w": w}
        w.grad = None


@program(4)
def ag_freeze_layer_midway(C):
    model = mlp(4, 5, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    step = C(sgd_step(model, opt))
    for i, (x, y) in enumerate(zip(batches(222, 6, 3, 4), batches(223, 6, 3, 2))):
        if i == 3:
            for p in model[0].parameters():
                p.requires_grad_(False)
        yield {"out": step(x, y), "model": model}


class _Square(tt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2.0 * x


@program(4)
def ag_custom_autograd_function(C):
    w = T(224, 3, requires_grad=True)

    def f(x):
        loss = _Square.apply(x * w).sum()
        loss.backward()
        return loss
    f = C(f)
    for x in batches(224, 5, 3):
        yield {"out": f(x), "w": w}


@program(4)
def ag_returned_loss_backward_outside(C):
    w = T(225, 3, requires_grad=True)

    def f(x):
        return ((x * w) ** 2).sum()
    f = C(f)
    for x in batches(225, 5, 3):
        loss = f(x)
        r = attempt(loss.backward)
        yield {"out": loss, "backward": r, "w": w}


@program(4)
def ag_hook_on_param_registered_before(C):
    w = T(226, 3, requires_grad=True)
    w.register_hook(lambda g: g * 0.5)

    def f(x):
        loss = (x * w).sum()
        loss.backward()
        return loss
    f = C(f)
    for x in batches(226, 5, 3):
        yield {"out": f(x), "w": w}


@program(4)
def ag_inference_mode_call(C):
    model = mlp(3, 4, 2)
    model.requires_grad_(False)

    def f(x):
        return model(x).softmax(-1)
    f = C(f)
    for i, x in enumerate(batches(227, 5, 2, 3)):
        if i % 2:
            with tt.inference_mode():
                yield {"out": f(x)}
        else:
            yield {"out": f(x)}


# --------------------------------------------------------------- 5. Python state


G_ACT = "relu"


@program(5)
def ps_global_activation_name(C):
    global G_ACT
    G_ACT = "relu"
    w = T(300, 3, 3)

    def f(x):
        act = {"relu": F.relu, "tanh": tt.tanh, "sigmoid": tt.sigmoid}[G_ACT]
        return act(x @ w)
    f = C(f)
    for i, x in enumerate(batches(300, 6, 2, 3)):
        G_ACT = "relu" if i < 3 else "tanh"
        yield {"out": f(x)}


@program(5)
def ps_loss_reduction_attr(C):
    model = mlp(3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.MSELoss(reduction="sum")
    step = C(sgd_step(model, opt, loss_fn))
    for i, (x, y) in enumerate(zip(batches(301, 6, 4, 3), batches(302, 6, 4, 2))):
        if i == 3:
            loss_fn.reduction = "mean"
        yield {"out": step(x, y), "model": model}


@program(5)
def ps_config_dict_string(C):
    cfg = {"act": "relu", "scale": 1.0}
    w = T(303, 3, 3)

    def f(x):
        h = x @ w * cfg["scale"]
        return F.relu(h) if cfg["act"] == "relu" else tt.tanh(h)
    f = C(f)
    for i, x in enumerate(batches(303, 6, 2, 3)):
        if i == 3:
            cfg["act"] = "tanh"
        yield {"out": f(x)}


G_CLIP = None


@program(5)
def ps_global_none_to_number(C):
    global G_CLIP
    G_CLIP = None

    def f(x):
        h = x * 2.0
        if G_CLIP is not None:
            h = h.clamp(-G_CLIP, G_CLIP)
        return h
    f = C(f)
    for i, x in enumerate(batches(304, 6, 5)):
        G_CLIP = None if i < 3 else 0.5
        yield {"out": f(x)}


G_BIAS = None


@program(5)
def ps_global_none_to_tensor(C):
    global G_BIAS
    G_BIAS = None

    def f(x):
        h = x.exp()
        if G_BIAS is not None:
            h = h + G_BIAS
        return h
    f = C(f)
    for i, x in enumerate(batches(305, 6, 4)):
        G_BIAS = None if i < 3 else T(306, 4)
        yield {"out": f(x)}


@program(5)
def ps_closure_none_to_tensor(C):
    bias = None

    def f(x):
        return x * 2.0 if bias is None else x * 2.0 + bias
    f = C(f)
    for i, x in enumerate(batches(307, 6, 4)):
        if i == 3:
            bias = T(308, 4)
        yield {"out": f(x)}


G_DEEP_REGISTRY = None


@program(5)
def ps_object_reached_deep_first(C):
    global G_DEEP_REGISTRY

    class Cfg:
        pass
    cfg = Cfg()
    cfg.scale = 1.0
    G_DEEP_REGISTRY = {"a": {"b": {"c": {"d": {"cfg": cfg}}}}}

    def f(x):
        assert G_DEEP_REGISTRY is not None
        return x * cfg.scale
    f = C(f)
    for i, x in enumerate(batches(309, 6, 4)):
        if i == 3:
            cfg.scale = 3.0
        yield {"out": f(x)}


G_SCALE = 2


@program(5)
def ps_global_int_to_float(C):
    global G_SCALE
    G_SCALE = 2
    x = tt.tensor([1, 2, 3])

    def f(x):
        return x * G_SCALE
    f = C(f)
    for v in (2, 2, 2.0, 2.0, 2, True):
        G_SCALE = v
        yield {"out": f(x)}


G_SHIFT = 0.0


@program(5)
def ps_global_zero_to_negative_zero(C):
    global G_SHIFT
    G_SHIFT = 0.0
    x = tt.tensor([1.0, 2.0, -0.0, 0.0])

    def f(x):
        return x * G_SHIFT
    f = C(f)
    for v in (0.0, 0.0, -0.0, -0.0, 0.0):
        G_SHIFT = v
        yield {"out": f(x)}


@program(5)
def ps_arg_zero_to_negative_zero(C):
    x = tt.tensor([1.0, 2.0, 3.0])

    def f(x, s):
        return x * s
    f = C(f)
    for v in (0.0, 0.0, -0.0, -0.0, 0.0):
        yield {"out": f(x, v)}


@program(5)
def ps_arg_int_true_float(C):
    x = tt.tensor([1, 2, 3])

    def f(x, s):
        return x * s
    f = C(f)
    for v in (1, 1, True, 1.0, 1):
        yield {"out": f(x, v)}


@program(5)
def ps_class_attribute_changed(C):
    class Cfg:
        scale = 1.0
    cfg = Cfg()

    def f(x):
        return x * cfg.scale
    f = C(f)
    for i, x in enumerate(batches(310, 6, 3)):
        if i == 3:
            Cfg.scale = 2.0
        yield {"out": f(x)}


@program(5)
def ps_instance_attribute_shadows_class(C):
    class Cfg:
        scale = 1.0
    cfg = Cfg()

    def f(x):
        return x * cfg.scale
    f = C(f)
    for i, x in enumerate(batches(311, 6, 3)):
        if i == 3:
            cfg.scale = 5.0
        yield {"out": f(x)}


@program(5)
def ps_config_module_attribute(C):
    cfgmod = types.ModuleType("adv_cfg")
    cfgmod.lr = 0.1
    w = T(312, 3, requires_grad=True)

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(cfgmod.lr * w.grad)
        w.grad = None
        return loss
    step = C(step)
    for i, x in enumerate(batches(312, 6, 3)):
        if i == 3:
            cfgmod.lr = 0.5
        yield {"out": step(x), "w": w}


@program(5)
def ps_callable_object_attribute(C):
    class Scaler:
        def __init__(self):
            self.k = 2.0

        def __call__(self, h):
            return h * self.k
    s = Scaler()

    def f(x):
        return s(x.exp())
    f = C(f)
    for i, x in enumerate(batches(313, 6, 3)):
        if i == 3:
            s.k = -1.0
        yield {"out": f(x)}


@program(5)
def ps_compile_callable_object(C):
    class Head:
        def __init__(self):
            self.w = T(314, 3, 2)
            self.scale = 1.0

        def __call__(self, x):
            return (x @ self.w) * self.scale
    head = Head()
    fh = C(head)
    for i, x in enumerate(batches(314, 6, 2, 3)):
        if i == 3:
            head.scale = 0.25
        yield {"out": fh(x)}


@dataclasses.dataclass(slots=True)
class _SlotsHP:
    lr: float
    wd: float


@program(5)
def ps_slots_dataclass_hparams(C):
    hp = _SlotsHP(lr=0.1, wd=0.0)
    w = T(315, 3, requires_grad=True)

    def step(x):
        loss = (x * w).pow(2).sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(hp.lr * (w.grad + hp.wd * w))
        w.grad = None
        return loss
    step = C(step)
    for i, x in enumerate(batches(315, 6, 3)):
        if i == 3:
            hp.lr = 0.01
        yield {"out": step(x), "w": w}


@program(5)
def ps_bound_method_self_attribute(C):
    class Trainer:
        def __init__(self):
            self.w = T(316, 3, requires_grad=True)
            self.lr = 0.1
            self.mode = "sum"

        def step(self, x):
            h = (x * self.w) ** 2
            loss = h.sum() if self.mode == "sum" else h.mean()
            loss.backward()
            with tt.no_grad():
                self.w.sub_(self.lr * self.w.grad)
            self.w.grad = None
            return loss
    tr = Trainer()
    step = C(tr.step)
    for i, x in enumerate(batches(316, 6, 3)):
        if i == 2:
            tr.lr = 0.05
        if i == 4:
            tr.mode = "mean"
        yield {"out": step(x), "w": tr.w}


G_WRAP_SCALE = [1.0]


def _scaled_by(box):
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*a):
            return fn(*a) * box[0]
        return wrapper
    return deco


@program(5)
def ps_functools_wraps_wrapper_closure(C):
    box = [1.0]

    @_scaled_by(box)
    def f(x):
        return x.exp() + G_WRAP_SCALE[0]
    f = C(f)
    for i, x in enumerate(batches(317, 6, 3)):
        if i == 3:
            box[0] = 3.0
        yield {"out": f(x)}


@program(5)
def ps_functools_wraps_inner_global(C):
    G_WRAP_SCALE[0] = 1.0

    def logged(fn):
        @functools.wraps(fn)
        def wrapper(*a):
            return fn(*a)
        return wrapper

    @logged
    def f(x):
        return x * G_WRAP_SCALE[0]
    f = C(f)
    for i, x in enumerate(batches(318, 6, 3)):
        if i == 3:
            G_WRAP_SCALE[0] = -2.0
        yield {"out": f(x)}


@program(5)
def ps_mutable_default_argument(C):
    def f(x, hist=[]):  # noqa: B006
        hist.append(1)
        return x * float(len(hist))
    f = C(f)
    for x in batches(319, 6, 3):
        yield {"out": f(x)}


@program(5)
def ps_default_argument_object(C):
    class Cfg:
        pass
    cfg = Cfg()
    cfg.scale = 1.0

    def f(x, c=cfg):
        return x * c.scale
    f = C(f)
    for i, x in enumerate(batches(320, 6, 3)):
        if i == 3:
            cfg.scale = 4.0
        yield {"out": f(x)}


def _nest(m, depth):
    for _ in range(depth):
        m = nn.Sequential(m)
    return m


@program(5)
def ps_deep_dropout_eval_then_train(C):
    inner = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Dropout(0.5), nn.Linear(6, 2))
    model = _nest(inner, 5)
    model.eval()

    def f(x):
        with tt.no_grad():
            return model(x)
    f = C(f)
    for i, x in enumerate(batches(321, 6, 3, 4)):
        if i == 3:
            model.train()
        yield {"out": f(x), "model": model}


@program(5)
def ps_deep_dropout_train_then_eval(C):
    inner = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Dropout(0.5), nn.Linear(6, 2))
    model = _nest(inner, 5)
    opt = tt.optim.SGD(model.parameters(), lr=0.05)
    step = C(sgd_step(model, opt))
    for i, (x, y) in enumerate(zip(batches(322, 6, 3, 4), batches(323, 6, 3, 2))):
        if i == 2:
            model.eval()
        yield {"out": step(x, y), "model": model}


@program(5)
def ps_deep_layer_swapped(C):
    inner = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
    model = _nest(inner, 5)

    def f(x):
        with tt.no_grad():
            return model(x)
    f = C(f)
    for i, x in enumerate(batches(324, 6, 2, 3)):
        if i == 3:
            inner[1] = nn.Tanh()
        yield {"out": f(x)}


@program(5)
def ps_deep_number_beyond_depth(C):
    class N:
        pass
    root = N()
    node = root
    for _ in range(6):
        node.child = N()
        node = node.child
    node.scale = 1.0

    def f(x):
        return x * root.child.child.child.child.child.child.scale
    f = C(f)
    for i, x in enumerate(batches(325, 6, 3)):
        if i == 3:
            node.scale = 0.5
        yield {"out": f(x)}


@program(5)
def ps_cfg_object_argument(C):
    class Cfg:
        def __init__(self):
            self.scale = 1.0
    cfg = Cfg()

    def f(x, cfg):
        return x * cfg.scale
    f = C(f)
    for i, x in enumerate(batches(326, 6, 3)):
        if i == 3:
            cfg.scale = 2.0
        yield {"out": f(x, cfg)}


@program(5)
def ps_simplenamespace_argument(C):
    cfg = types.SimpleNamespace(scale=1.0, act="relu")

    def f(x, cfg):
        h = x * cfg.scale
        return h.relu() if cfg.act == "relu" else h.tanh()
    f = C(f)
    for i, x in enumerate(batches(327, 6, 3)):
        if i == 2:
            cfg.scale = 2.0
        if i == 4:
            cfg.act = "tanh"
        yield {"out": f(x, cfg)}


@program(5)
def ps_evaluate_model_arg_train_eval(C):
    model = mlp(4, 6, 2, dropout=0.5)

    def evaluate(model, x):
        with tt.no_grad():
            return model(x).sum(0)
    evaluate = C(evaluate)
    model.eval()
    for i, x in enumerate(batches(328, 6, 3, 4)):
        if i == 2:
            model.train()
        if i == 4:
            model.eval()
        yield {"out": evaluate(model, x), "model": model}


@program(5)
def ps_evaluate_model_arg_weights_updated(C):
    model = mlp(4, 6, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def evaluate(model, x):
        with tt.no_grad():
            return model(x).mean()
    evaluate = C(evaluate)
    for x, y in zip(batches(329, 6, 3, 4), batches(330, 6, 3, 2)):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()
        yield {"out": evaluate(model, x), "model": model}


@program(5)
def ps_compiled_module_method_in_class(C):
    def forward(self, x):
        h = self.fc(x)
        h = self.drop(h)
        return h * self.scale

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.drop = nn.Dropout(0.5)
            self.scale = 1.0
    Net.forward = C(forward)
    net = Net()
    net.eval()
    for i, x in enumerate(batches(331, 7, 2, 3)):
        if i == 2:
            net.scale = 2.0
        if i == 4:
            net.train()
        with tt.no_grad():
            out = net(x)
        yield {"out": out, "net": net}


@program(5)
def ps_module_forward_replaced_by_compiled(C):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)
            self.mode = "relu"

        def forward(self, x):
            h = self.fc(x)
            return h.relu() if self.mode == "relu" else h.sigmoid()
    net = Net()
    net.forward = C(net.forward)
    for i, x in enumerate(batches(332, 6, 2, 3)):
        if i == 3:
            net.mode = "sigmoid"
        with tt.no_grad():
            out = net(x)
        yield {"out": out}


@program(5)
def ps_optimizer_arg_step_lr(C):
    def step(model, opt, x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    model = mlp(3, 4, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    sched = tt.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for x, y in zip(batches(333, 7, 4, 3), batches(334, 7, 4, 2)):
        yield {"out": step(model, opt, x, y), "model": model, "opt": opt}
        sched.step()


@program(5)
def ps_optimizer_closure_lambda_lr(C):
    model = mlp(3, 4, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    sched = tt.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0 / (1 + e))
    step = C(sgd_step(model, opt))
    for x, y in zip(batches(335, 6, 4, 3), batches(336, 6, 4, 2)):
        yield {"out": step(x, y), "model": model, "opt": opt}
        sched.step()


@program(5)
def ps_dict_argument_key_order(C):
    x, y = T(337, 3), T(338, 3)

    def f(d):
        vals = list(d.values())
        return vals[0] * 2.0 + vals[1]
    f = C(f)
    for d in ({"a": x, "b": y}, {"a": x, "b": y}, {"b": y, "a": x}, {"b": y, "a": x}, {"a": x, "b": y}):
        yield {"out": f(d)}


@program(5)
def ps_dict_argument_int_and_str_keys(C):
    x, y = T(339, 3), T(340, 3)

    def f(d):
        return d[1] * 2.0 + d["b"]
    f = C(f)
    for _ in range(4):
        yield {"out": f({1: x, "b": y})}


@program(5)
def ps_dict_kwargs_int_str_mix(C):
    x = T(341, 3)

    def f(x, table):
        return x * table[0] + table["k"]
    f = C(f)
    for v in (1.0, 1.0, 2.0):
        yield {"out": f(x, {0: v, "k": 1.0})}


@program(5)
def ps_tensor_hook_added_after_trace(C):
    w = T(342, 3, requires_grad=True)

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(0.1 * w.grad)
        w.grad = None
        return loss
    step = C(step)
    for i, x in enumerate(batches(342, 6, 3)):
        if i == 3:
            w.register_hook(lambda g: g * 10.0)
        yield {"out": step(x), "w": w}


@program(5)
def ps_tensor_hook_removed_after_trace(C):
    w = T(343, 3, requires_grad=True)
    handle = w.register_hook(lambda g: g * 10.0)

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(0.1 * w.grad)
        w.grad = None
        return loss
    step = C(step)
    for i, x in enumerate(batches(343, 6, 3)):
        if i == 3:
            handle.remove()
        yield {"out": step(x), "w": w}


@program(5)
def ps_intermediate_hook_global_switch(C):
    w = T(344, 3, requires_grad=True)
    flags = {"scale_grad": False}

    def step(x):
        h = x * w
        if flags["scale_grad"]:
            h.register_hook(lambda g: g * 3.0)
        loss = h.sum()
        loss.backward()
        return loss
    step = C(step)
    for i, x in enumerate(batches(344, 6, 3)):
        if i == 3:
            flags["scale_grad"] = True
        yield {"out": step(x), "w": w}
        w.grad = None


@program(5)
def ps_module_forward_hook_added_after_trace(C):
    model = mlp(3, 2)

    def f(x):
        with tt.no_grad():
            return model(x)
    f = C(f)
    for i, x in enumerate(batches(345, 6, 2, 3)):
        if i == 3:
            model[0].register_forward_hook(lambda m, inp, out: out * 2.0)
        yield {"out": f(x)}


@program(5)
def ps_self_last_assigned_inside(C):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)
            self.last = None

        def forward(self, x):
            h = self.fc(x)
            self.last = h
            return h.relu()
    net = Net()
    def f(x):
        with tt.no_grad():
            return net(x)
    f = C(f)
    for x in batches(346, 6, 2, 3):
        out = f(x)
        yield {"out": out, "last": net.last}


G_LAST = None


@program(5)
def ps_global_assigned_inside(C):
    global G_LAST
    G_LAST = None

    def f(x):
        global G_LAST
        h = x.exp()
        G_LAST = h
        return h.sum()
    f = C(f)
    for x in batches(347, 6, 3):
        yield {"out": f(x), "last": G_LAST}


@program(5)
def ps_list_appended_inside(C):
    history = []
    w = T(348, 3, requires_grad=True)

    def step(x):
        loss = (x * w).pow(2).sum()
        loss.backward()
        history.append(loss.detach())
        return loss
    step = C(step)
    for x in batches(348, 6, 3):
        yield {"out": step(x), "history": list(history)}
        w.grad = None


@program(5)
def ps_global_step_counter_inside(C):
    state = {"step": 0}
    w = T(349, 3, requires_grad=True)

    def step(x):
        state["step"] += 1
        lr = 0.1 * 0.5 ** state["step"]
        loss = (x * w).sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(lr * w.grad)
        w.grad = None
        return loss
    step = C(step)
    for x in batches(349, 6, 3):
        yield {"out": step(x), "w": w, "state": dict(state)}


@program(5)
def ps_counter_attribute_unused_in_math(C):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            return self.fc(x)
    net = Net()
    f = C(lambda x: net(x))
    for x in batches(350, 6, 2, 3):
        yield {"out": f(x), "calls": net.calls}


@program(5)
def ps_module_string_attribute(C):
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)
            self.reduce = "sum"

        def forward(self, x):
            h = self.fc(x)
            return h.sum() if self.reduce == "sum" else h.mean()
    head = Head()
    def f(x):
        with tt.no_grad():
            return head(x)
    f = C(f)
    for i, x in enumerate(batches(351, 6, 2, 3)):
        if i == 3:
            head.reduce = "mean"
        yield {"out": f(x)}


G_ACT2 = "tanh"


@program(5)
def ps_global_string_getattr(C):
    global G_ACT2
    G_ACT2 = "tanh"

    def f(x):
        return getattr(tt, G_ACT2)(x)
    f = C(f)
    for i, x in enumerate(batches(352, 6, 3)):
        if i == 3:
            G_ACT2 = "sigmoid"
        yield {"out": f(x)}


G_ACT_CLS = nn.ReLU


@program(5)
def ps_global_class_rebound(C):
    global G_ACT_CLS
    G_ACT_CLS = nn.ReLU

    def f(x):
        return G_ACT_CLS()(x * 2.0)
    f = C(f)
    for i, x in enumerate(batches(353, 6, 4)):
        if i == 3:
            G_ACT_CLS = nn.Tanh
        yield {"out": f(x)}


G_COMBINE = operator.mul


@program(5)
def ps_global_builtin_function_rebound(C):
    global G_COMBINE
    G_COMBINE = operator.mul
    y = T(354, 3)

    def f(x):
        return G_COMBINE(x, y)
    f = C(f)
    for i, x in enumerate(batches(355, 6, 3)):
        if i == 3:
            G_COMBINE = operator.add
        yield {"out": f(x)}


G_ACT_FN = tt.relu


@program(5)
def ps_global_python_function_rebound(C):
    global G_ACT_FN
    G_ACT_FN = tt.relu

    def f(x):
        return G_ACT_FN(x)
    f = C(f)
    for i, x in enumerate(batches(356, 6, 3)):
        if i == 3:
            G_ACT_FN = tt.sigmoid
        yield {"out": f(x)}


zz_vocab = list(range(6000))
CFG_AFTER_VOCAB = types.SimpleNamespace(scale=1.0)


@program(5)
def ps_state_hidden_behind_5000_objects(C):
    CFG_AFTER_VOCAB.scale = 1.0

    def f(x):
        n = len(zz_vocab)
        return x * CFG_AFTER_VOCAB.scale + float(n > 0)
    f = C(f)
    for i, x in enumerate(batches(357, 6, 3)):
        if i == 3:
            CFG_AFTER_VOCAB.scale = 7.0
        yield {"out": f(x)}


@program(5)
def ps_new_instance_attribute_after_trace(C):
    class Layer:
        pass
    layer = Layer()
    layer.w = T(358, 3)

    def f(x):
        h = x * layer.w
        b = getattr(layer, "bias", None)
        return h if b is None else h + b
    f = C(f)
    for i, x in enumerate(batches(358, 6, 3)):
        if i == 3:
            layer.bias = T(359, 3)
        yield {"out": f(x)}


@program(5)
def ps_set_of_frozen_names(C):
    frozen = set()
    model = mlp(3, 3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        for name, p in model.named_parameters():
            if name.split(".")[0] in frozen:
                p.grad.zero_()
        opt.step()
        return loss
    step = C(step)
    for i, (x, y) in enumerate(zip(batches(360, 6, 4, 3), batches(361, 6, 4, 2))):
        if i == 3:
            frozen.add("0")
        yield {"out": step(x, y), "model": model}


@program(5)
def ps_functools_partial_compiled(C):
    def train_step(model, opt, scale, x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y) * scale
        loss.backward()
        opt.step()
        return loss
    model = mlp(3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    step = C(functools.partial(train_step, model, opt, 1.0))
    for i, (x, y) in enumerate(zip(batches(362, 6, 4, 3), batches(363, 6, 4, 2))):
        if i == 3:
            opt.param_groups[0]["lr"] = 0.01
        yield {"out": step(x, y), "model": model}


@program(5)
def ps_environment_variable(C):
    os.environ["TT_ADV_SCALE"] = "1.0"

    def f(x):
        return x * float(os.environ["TT_ADV_SCALE"])
    f = C(f)
    for i, x in enumerate(batches(364, 6, 3)):
        if i == 3:
            os.environ["TT_ADV_SCALE"] = "3.0"
        yield {"out": f(x)}
    os.environ.pop("TT_ADV_SCALE", None)


@program(5)
def ps_lr_in_param_groups_changed(C):
    model = mlp(3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    step = C(sgd_step(model, opt))
    for i, (x, y) in enumerate(zip(batches(365, 7, 4, 3), batches(366, 7, 4, 2))):
        if i == 3:
            for g in opt.param_groups:
                g["lr"] = 0.02
        if i == 5:
            opt.param_groups[0]["momentum"] = 0.0
        yield {"out": step(x, y), "model": model, "opt": opt}


@program(5)
def ps_model_train_eval_in_closure(C):
    model = mlp(4, 6, 2, dropout=0.5)
    model.eval()

    def f(x):
        with tt.no_grad():
            return model(x)
    f = C(f)
    for i, x in enumerate(batches(367, 6, 3, 4)):
        if i == 3:
            model.train()
        yield {"out": f(x), "model": model}


@program(5)
def ps_nonlocal_number_rebound(C):
    scale = 1.0

    def f(x):
        return x * scale
    f = C(f)
    for i, x in enumerate(batches(368, 6, 3)):
        if i == 3:
            scale = 0.5
        yield {"out": f(x)}


@program(5)
def ps_list_of_coefficients_mutated(C):
    coefs = [0.5, 0.25]

    def f(x):
        return x * coefs[0] + x * x * coefs[1]
    f = C(f)
    for i, x in enumerate(batches(369, 6, 3)):
        if i == 3:
            coefs[1] = -1.0
        yield {"out": f(x)}


@program(5)
def ps_tuple_config_in_closure_list(C):
    cfgs = [("relu", 1.0)]

    def f(x):
        name, k = cfgs[0]
        return (x * k).relu() if name == "relu" else (x * k).tanh()
    f = C(f)
    for i, x in enumerate(batches(370, 6, 3)):
        if i == 3:
            cfgs[0] = ("tanh", 1.0)
        yield {"out": f(x)}


@program(5)
def ps_helper_function_closure_string(C):
    mode = ["l2"]

    def penalty(w):
        return (w ** 2).sum() if mode[0] == "l2" else w.abs().sum()
    w = T(371, 3, requires_grad=True)

    def step(x):
        loss = (x * w).sum() + 0.1 * penalty(w)
        loss.backward()
        return loss
    step = C(step)
    for i, x in enumerate(batches(371, 6, 3)):
        if i == 3:
            mode[0] = "l1"
        yield {"out": step(x), "w": w}
        w.grad = None


@program(5)
def ps_numpy_array_argument_mutated(C):
    x = T(372, 3)
    coef = np.array([1.0, 2.0, 3.0], dtype=np.float32)

    def f(x, c):
        return x * tt.tensor(c)
    f = C(f)
    for i in range(5):
        if i == 3:
            coef[:] = [-1.0, 0.0, 1.0]
        yield {"out": f(x, coef)}


@program(5)
def ps_optimizer_weight_decay_changed(C):
    model = mlp(3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, weight_decay=0.0)
    step = C(sgd_step(model, opt))
    for i, (x, y) in enumerate(zip(batches(373, 6, 4, 3), batches(374, 6, 4, 2))):
        if i == 3:
            opt.param_groups[0]["weight_decay"] = 0.1
        yield {"out": step(x, y), "model": model}


@program(5)
def ps_param_group_added(C):
    a = T(375, 3, requires_grad=True)
    b = T(376, 3, requires_grad=True)
    opt = tt.optim.SGD([a], lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = (x * a * b).sum()
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, x in enumerate(batches(377, 6, 3)):
        if i == 3:
            opt.add_param_group({"params": [b], "lr": 0.5})
        yield {"out": step(x), "a": a, "b": b}


@program(5)
def ps_module_attr_tensor_replaced(C):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)
            self.register_buffer("mask", tt.ones(2))

        def forward(self, x):
            return self.fc(x) * self.mask
    net = Net()
    def f(x):
        with tt.no_grad():
            return net(x)
    f = C(f)
    for i, x in enumerate(batches(378, 6, 2, 3)):
        if i == 3:
            net.mask = tt.tensor([1.0, 0.0])
        if i == 4:
            net.mask.mul_(3.0)
        yield {"out": f(x)}


@program(5)
def ps_thread_local_config(C):
    local = threading.local()
    local.scale = 1.0

    def f(x):
        return x * local.scale
    f = C(f)
    for i, x in enumerate(batches(379, 6, 3)):
        if i == 3:
            local.scale = 2.0
        yield {"out": f(x)}


@program(5)
def ps_nan_number_guard(C):
    state = {"fill": float("nan")}

    def f(x):
        return x + state["fill"] * 0.0
    f = C(f)
    for x in batches(380, 6, 3):
        yield {"out": f(x)}


# --------------------------------------------------------------- 6. values drawn at trace time


@program(6)
def rv_python_random(C):
    def f(x):
        return x * random.random()
    f = C(f)
    for x in batches(400, 5, 3):
        yield {"out": f(x)}


@program(6)
def rv_numpy_random(C):
    def f(x):
        return x + tt.tensor(np.random.randn(3).astype(np.float32))
    f = C(f)
    for x in batches(401, 5, 3):
        yield {"out": f(x)}


@program(6)
def rv_numpy_generator_object(C):
    rng = np.random.default_rng(0)

    def f(x):
        return x * float(rng.normal())
    f = C(f)
    for x in batches(402, 5, 3):
        yield {"out": f(x)}


@program(6)
def rv_numpy_randomstate_global(C):
    rs = np.random.RandomState(3)

    def f(x):
        return x + tt.tensor(rs.randn(3).astype(np.float32))
    f = C(f)
    for x in batches(403, 5, 3):
        yield {"out": f(x)}


@program(6)
def rv_tinytape_nondefault_generator(C):
    g = tt.Generator().manual_seed(123)

    def f(x):
        return x + tt.randn(3, generator=g)
    f = C(f)
    for x in batches(404, 5, 3):
        yield {"out": f(x)}


@program(6)
def rv_noise_injection_module_generator(C):
    class Noisy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.gen = tt.Generator().manual_seed(7)

        def forward(self, x):
            h = self.fc(x)
            return h + 0.1 * tt.randn(h.shape, generator=self.gen)
    model = Noisy()
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    step = C(sgd_step(model, opt))
    for x, y in zip(batches(405, 5, 2, 3), batches(406, 5, 2, 3)):
        yield {"out": step(x, y), "model": model}


@program(6)
def rv_dropout_functional(C):
    def f(x):
        return F.dropout(x, 0.5, training=True)
    f = C(f)
    for x in batches(407, 5, 8):
        yield {"out": f(x)}


@program(6)
def rv_dropout_model_train_step(C):
    model = mlp(4, 8, 2, dropout=0.3)
    opt = tt.optim.SGD(model.parameters(), lr=0.05)
    step = C(sgd_step(model, opt))
    for x, y in zip(batches(408, 5, 4, 4), batches(409, 5, 4, 2)):
        yield {"out": step(x, y), "model": model}


@program(6)
def rv_next_iterator_inside(C):
    data = iter(batches(410, 10, 3))

    def f(w):
        x = next(data)
        return x * w
    f = C(f)
    w = T(411, 3)
    for _ in range(5):
        yield {"out": f(w)}


@program(6)
def rv_itertools_count(C):
    counter = itertools.count()

    def f(x):
        return x * float(next(counter))
    f = C(f)
    for x in batches(412, 5, 3):
        yield {"out": f(x)}


@program(6)
def rv_tensor_from_numpy_changed_in_place(C):
    table = np.array([1.0, 2.0, 3.0], dtype=np.float32)

    def f(x):
        return x * tt.tensor(table)
    f = C(f)
    for i, x in enumerate(batches(413, 6, 3)):
        if i >= 2:
            table *= 2.0
        yield {"out": f(x)}


@program(6)
def rv_from_numpy_shared_changed(C):
    table = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    t = tt.from_numpy(table)

    def f(x):
        return x * t
    f = C(f)
    for i, x in enumerate(batches(414, 6, 3)):
        if i >= 2:
            table += 1.0
        yield {"out": f(x), "t": t}


@program(6)
def rv_from_numpy_inside_changed(C):
    table = np.array([1.0, 2.0, 3.0], dtype=np.float32)

    def f(x):
        return x * tt.from_numpy(table)
    f = C(f)
    for i, x in enumerate(batches(415, 6, 3)):
        if i >= 2:
            table[0] = float(i)
        yield {"out": f(x)}


@program(6)
def rv_print_inside(C):
    def f(x):
        h = x * 2.0
        print("step", h.shape)
        return h
    f = C(f)
    for x in batches(416, 4, 3):
        yield {"out": f(x)}


@program(6)
def rv_hook_prints_gradient_norm_shape(C):
    w = T(417, 3, requires_grad=True)

    def hook(g):
        print("grad hook", tuple(g.shape))
    w.register_hook(hook)

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        return loss
    step = C(step)
    for x in batches(417, 4, 3):
        yield {"out": step(x), "w": w}
        w.grad = None


@program(6)
def rv_hook_counts_calls(C):
    w = T(418, 3, requires_grad=True)
    count = [0]

    def hook(g):
        count[0] += 1
    w.register_hook(hook)

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        return loss
    step = C(step)
    for x in batches(418, 5, 3):
        yield {"out": step(x), "w": w, "count": count[0]}
        w.grad = None


@program(6)
def rv_forward_hook_records_activations(C):
    model = mlp(3, 4, 2)
    acts = []
    model[1].register_forward_hook(lambda m, i, o: acts.append(o.detach()))

    def f(x):
        return model(x)
    f = C(f)
    for x in batches(419, 5, 2, 3):
        yield {"out": f(x), "n_acts": len(acts), "last_act": acts[-1] if acts else None}


@program(6)
def rv_randperm_default(C):
    def f(x):
        idx = tt.randperm(6)
        return x[idx]
    f = C(f)
    for x in batches(420, 5, 6):
        yield {"out": f(x)}


@program(6)
def rv_randperm_generator(C):
    g = tt.Generator().manual_seed(5)

    def f(x):
        idx = tt.randperm(6, generator=g)
        return x[idx]
    f = C(f)
    for x in batches(421, 5, 6):
        yield {"out": f(x)}


@program(6)
def rv_rand_like_mask(C):
    def f(x):
        return x * (tt.rand_like(x) > 0.5)
    f = C(f)
    for x in batches(422, 5, 6):
        yield {"out": f(x)}


@program(6)
def rv_manual_seed_inside(C):
    def f(x):
        tt.manual_seed(42)
        return x + tt.randn(3)
    f = C(f)
    for x in batches(423, 5, 3):
        yield {"out": f(x)}


@program(6)
def rv_random_choice_activation(C):
    def f(x):
        act = random.choice([tt.relu, tt.tanh, tt.sigmoid])
        return act(x)
    f = C(f)
    for x in batches(424, 6, 3):
        yield {"out": f(x)}


@program(6)
def rv_item_for_logging_inside(C):
    w = T(425, 3, requires_grad=True)
    log = []

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        log.append(loss.item())
        return loss
    step = C(step)
    for x in batches(425, 4, 3):
        yield {"out": attempt(step, x), "w": w, "log": list(log)}
        w.grad = None


@program(6)
def rv_float_of_tensor_control_flow(C):
    def f(x):
        s = x.sum()
        return x * 2.0 if float(s) > 0 else x * -1.0
    f = C(f)
    for x in batches(426, 5, 3):
        yield {"out": attempt(f, x)}


@program(6)
def rv_item_fullgraph(C):
    def f(x):
        return x * x.sum().item()
    f = C(f, fullgraph=True)
    for x in batches(427, 4, 3):
        yield {"out": attempt(f, x)}


@program(6)
def rv_numpy_0d_global_array(C):
    s = np.array(0.5, dtype=np.float32)

    def f(x):
        return x * tt.tensor(s)
    f = C(f)
    for i, x in enumerate(batches(428, 6, 3)):
        if i == 3:
            s[()] = 4.0
        yield {"out": f(x)}


@program(6)
def rv_time_based_schedule(C):
    clock = [0]

    def now():
        clock[0] += 1
        return clock[0]

    def f(x):
        return x * (1.0 / now())
    f = C(f)
    for x in batches(429, 5, 3):
        yield {"out": f(x)}


@program(6)
def rv_default_generator_state_restored(C):
    def f(x):
        state = tt.get_rng_state()
        noise = tt.randn(3)
        tt.set_rng_state(state)
        return x + noise
    f = C(f)
    for i, x in enumerate(batches(430, 5, 3)):
        if i == 3:
            tt.manual_seed(99)
        yield {"out": f(x)}


@program(6)
def rv_normal_with_generator_in_step(C):
    g = tt.Generator().manual_seed(11)
    w = T(431, 3, requires_grad=True)

    def step(x):
        noise = tt.normal(0.0, 0.1, size=(3,), generator=g)
        loss = ((x + noise) * w).pow(2).sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(0.01 * w.grad)
        w.grad = None
        return loss
    step = C(step)
    for x in batches(431, 5, 3):
        yield {"out": step(x), "w": w}


# --------------------------------------------------------------- 7. crashes, stalls, numerics


@program(7)
def cr_float16_manual_step(C):
    w = T(500, 4, 3, dtype=np.float16, requires_grad=True)

    def step(x, y):
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        with tt.no_grad():
            w.sub_(0.1 * w.grad)
        w.grad = None
        return loss
    step = C(step)
    for x, y in zip(batches(500, 5, 6, 4, dtype=np.float16), batches(501, 5, 6, 3, dtype=np.float16)):
        yield {"out": step(x, y), "w": w}


@program(7)
def cr_float16_model_sgd(C):
    model = mlp(4, 6, 2).to(tt.float16)
    opt = tt.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    step = C(sgd_step(model, opt))
    for x, y in zip(batches(502, 5, 5, 4, dtype=np.float16), batches(503, 5, 5, 2, dtype=np.float16)):
        yield {"out": step(x, y), "model": model}


@program(7)
def cr_bfloat16_elementwise_backward(C):
    w = tt.tensor(arr(504, 5), dtype=tt.bfloat16, requires_grad=True)

    def step(x):
        loss = (x * w).tanh().sum()
        loss.backward()
        return loss
    step = C(step)
    for i in range(5):
        x = tt.tensor(arr(505 + i, 3, 5), dtype=tt.bfloat16)
        yield {"out": step(x), "w": w}
        w.grad = None


def _long_chain(n):
    def f(x):
        h = x
        for i in range(n):
            k = i % 5
            if k == 0:
                h = h * 1.01 + 0.1
            elif k == 1:
                h = h.tanh()
            elif k == 2:
                h = h.sigmoid() * 2.0
            elif k == 3:
                h = h - 0.3
            else:
                h = h.exp() * 0.5
        return h
    return f


@program(7)
def cr_long_chain_30(C):
    f = C(_long_chain(30))
    for x in batches(506, 4, 16):
        yield {"out": f(x)}


@program(7)
def cr_long_chain_45_backward(C):
    w = T(507, 16, requires_grad=True)
    chain = _long_chain(45)

    def step(x):
        loss = chain(x * w).sum()
        loss.backward()
        return loss
    step = C(step)
    for x in batches(507, 4, 4, 16):
        yield {"out": step(x), "w": w}
        w.grad = None


@program(7)
def cr_euler_ten_steps_backward(C):
    A = T(508, 4, 4, scale=0.3, requires_grad=True)

    def step(x0):
        x = x0
        dt = 0.1
        for _ in range(10):
            x = x + dt * (x @ A).tanh()
        loss = (x ** 2).sum()
        loss.backward()
        with tt.no_grad():
            A.sub_(0.01 * A.grad)
        A.grad = None
        return loss
    step = C(step)
    for x in batches(508, 5, 3, 4):
        yield {"out": step(x), "A": A}


@program(7)
def cr_unrolled_rnn_backward(C):
    Wh = T(509, 5, 5, scale=0.3, requires_grad=True)
    Wx = T(510, 3, 5, scale=0.3, requires_grad=True)

    def step(xs):
        h = tt.zeros(2, 5)
        for t in range(12):
            h = (h @ Wh + xs[t] @ Wx).tanh()
        loss = h.pow(2).mean()
        loss.backward()
        return loss
    step = C(step)
    for i in range(4):
        yield {"out": step(T(511 + i, 12, 2, 3)), "Wh": Wh, "Wx": Wx}
        Wh.grad = Wx.grad = None


@program(7)
def cr_many_signatures(C):
    def f(x):
        return (x * 2.0).sum()
    f = C(f)
    for n in list(range(1, 12)) + [3, 5]:
        yield {"out": f(T(512 + n, n))}


@program(7)
def cr_exception_during_first_trace(C):
    def f(x, k):
        h = x * 2.0
        if k == 0:
            raise ValueError("bad batch")
        return h + k
    f = C(f)
    xs = batches(513, 6, 3)
    for i, x in enumerate(xs):
        yield {"out": attempt(f, x, 0 if i in (0, 3) else 1)}


@program(7)
def cr_exception_after_backward_in_trace(C):
    w = T(514, 3, requires_grad=True)
    calls = [0]

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError("first step fails after backward")
        return loss
    step = C(step)
    for x in batches(514, 5, 3):
        yield {"out": attempt(step, x), "w": w}
        w.grad = None


@program(7)
def cr_int64_arithmetic(C):
    def f(a, b):
        return (a * b + a // 3 - b % 4).sum(0), a.max(), (a > b).sum()
    f = C(f)
    for i in range(5):
        a = tt.tensor(np.random.RandomState(515 + i).randint(-50, 50, (4, 3)))
        b = tt.tensor(np.random.RandomState(516 + i).randint(1, 9, (4, 3)))
        yield {"out": f(a, b)}


@program(7)
def cr_bool_mask_where(C):
    def f(x):
        m = x > 0
        return tt.where(m, x, x * 0.1), m, (~m).sum()
    f = C(f)
    for x in batches(517, 5, 4, 3):
        yield {"out": f(x)}


@program(7)
def cr_empty_tensor(C):
    def f(x):
        return x.exp().sum(0), x * 2.0
    f = C(f)
    for _ in range(4):
        yield {"out": f(tt.zeros(0, 3))}


@program(7)
def cr_zero_dim_tensor(C):
    w = tt.tensor(0.5, requires_grad=True)

    def step(x):
        loss = (x * w - 1.0) ** 2
        loss.backward()
        with tt.no_grad():
            w.sub_(0.1 * w.grad)
        w.grad = None
        return loss
    step = C(step)
    for v in (1.0, 2.0, -3.0, 0.5, 4.0):
        yield {"out": step(tt.tensor(v)), "w": w}


@program(7)
def cr_nan_inf_values(C):
    def f(x):
        return x.log(), 1.0 / x, x.sqrt(), (x * 1e38 * 10.0)
    f = C(f)
    for x in (tt.tensor([-1.0, 0.0, -0.0, 2.0]), tt.tensor([1.0, float("nan"), float("inf"), -2.0]),
              tt.tensor([-0.0, 3.0, 0.0, float("-inf")])):
        yield {"out": f(x)}


@program(7)
def cr_long_reductions_float32(C):
    w = T(518, 300, requires_grad=True)

    def step(x):
        h = x * w
        loss = h.sum() + h.mean() * 3.0 + h.var() + tt.logsumexp(h, 0) + h.softmax(0).max()
        loss.backward()
        return loss
    step = C(step)
    for x in batches(519, 5, 300, scale=10.0):
        yield {"out": step(x), "w": w}
        w.grad = None


@program(7)
def cr_reductions_along_axes(C):
    w = T(520, 20, 15, requires_grad=True)

    def step(x):
        h = x * w
        loss = h.sum(0).pow(2).mean() + h.mean(1).exp().sum() + h.softmax(1)[:, 0].sum() \
            + h.amax(0).sum() + h.var(1).sum()
        loss.backward()
        return loss
    step = C(step)
    for x in batches(521, 4, 20, 15, scale=3.0):
        yield {"out": step(x), "w": w}
        w.grad = None


@program(7)
def cr_float16_long_reduction(C):
    def f(x):
        return x.sum(), x.mean(0), (x * x).sum(1), x.softmax(1)
    f = C(f)
    for x in batches(522, 4, 12, 25, dtype=np.float16, scale=4.0):
        yield {"out": f(x)}


@program(7)
def cr_mixed_dtype_promotion(C):
    w64 = T(523, 3, dtype=np.float64, requires_grad=True)

    def step(x):
        loss = (x * w64).sum() + x.sum()
        loss.backward()
        return loss
    step = C(step)
    for x in batches(523, 5, 3):
        yield {"out": step(x), "w": w64}
        w64.grad = None


@program(7)
def cr_cross_entropy_classifier(C):
    model = mlp(5, 8, 4)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    step = C(sgd_step(model, opt, F.cross_entropy))
    for i, x in enumerate(batches(524, 6, 7, 5)):
        y = tt.tensor(np.random.RandomState(525 + i).randint(0, 4, 7))
        yield {"out": step(x, y), "model": model, "opt": opt}


@program(7)
def cr_adam_training(C):
    model = mlp(4, 6, 2)
    opt = tt.optim.Adam(model.parameters(), lr=0.01)
    step = C(sgd_step(model, opt))
    for x, y in zip(batches(526, 6, 5, 4), batches(527, 6, 5, 2)):
        yield {"out": step(x, y), "model": model, "opt": opt}


@program(7)
def cr_adamw_training(C):
    model = mlp(4, 6, 2)
    opt = tt.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.1)
    step = C(sgd_step(model, opt))
    for x, y in zip(batches(528, 6, 5, 4), batches(529, 6, 5, 2)):
        yield {"out": step(x, y), "model": model, "opt": opt}


@program(7)
def cr_rmsprop_training(C):
    model = mlp(4, 6, 2)
    opt = tt.optim.RMSprop(model.parameters(), lr=0.01)
    step = C(sgd_step(model, opt))
    for x, y in zip(batches(530, 6, 5, 4), batches(531, 6, 5, 2)):
        yield {"out": step(x, y), "model": model, "opt": opt}


@program(7)
def cr_adagrad_training(C):
    model = mlp(4, 6, 2)
    opt = tt.optim.Adagrad(model.parameters(), lr=0.05)
    step = C(sgd_step(model, opt))
    for x, y in zip(batches(532, 6, 5, 4), batches(533, 6, 5, 2)):
        yield {"out": step(x, y), "model": model, "opt": opt}


@program(7)
def cr_matmul_transposes_backward(C):
    A = T(534, 4, 3, requires_grad=True)
    B = T(535, 4, 5, requires_grad=True)

    def step(x):
        h = (A.t() @ x) @ B
        loss = (h.t() @ A.t()).pow(2).sum() + (x.t() @ x).trace()
        loss.backward()
        return loss
    step = C(step)
    for x in batches(536, 5, 4, 4):
        yield {"out": step(x), "A": A, "B": B}
        A.grad = B.grad = None


@program(7)
def cr_broadcast_backward_reduction(C):
    a = T(537, 3, 1, requires_grad=True)
    b = T(538, 1, 4, requires_grad=True)
    c = T(539, 4, requires_grad=True)

    def step(x):
        loss = ((a + b) * x + c).tanh().sum()
        loss.backward()
        return loss
    step = C(step)
    for x in batches(540, 5, 3, 4):
        yield {"out": step(x), "a": a, "b": b, "c": c}
        a.grad = b.grad = c.grad = None


@program(7)
def cr_cat_stack_split(C):
    w = T(541, 4, requires_grad=True)

    def step(x):
        parts = (x * w).split(2, dim=1)
        h = tt.cat([parts[1], parts[0]], 1)
        s = tt.stack([h, x], 0)
        loss = (s[0] * s[1]).sum()
        loss.backward()
        return loss, h
    step = C(step)
    for x in batches(542, 5, 3, 4):
        yield {"out": step(x), "w": w}
        w.grad = None


@program(7)
def cr_repeated_index_gather_accumulates(C):
    w = T(543, 5, 3, requires_grad=True)
    idx = tt.tensor([0, 2, 2, 4, 0, 0])

    def step(x):
        emb = w[idx]
        loss = (emb * x).sum()
        loss.backward()
        return loss
    step = C(step)
    for x in batches(544, 5, 6, 3):
        yield {"out": step(x), "w": w}
        w.grad = None


@program(7)
def cr_fuse_false_training(C):
    model = mlp(4, 6, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    step = C(sgd_step(model, opt), fuse=False)
    for x, y in zip(batches(545, 6, 5, 4), batches(546, 6, 5, 2)):
        yield {"out": step(x, y), "model": model, "opt": opt}


@program(7)
def cr_layer_norm_gelu_block(C):
    w = T(547, 8, 8, scale=0.3, requires_grad=True)
    g = tt.ones(8, requires_grad=True)
    b = tt.zeros(8, requires_grad=True)

    def step(x):
        h = F.layer_norm(x @ w, (8,), g, b)
        h = F.gelu(h) + x
        loss = h.pow(2).mean()
        loss.backward()
        with tt.no_grad():
            for p in (w, g, b):
                p.sub_(0.05 * p.grad)
                p.grad = None
        return loss
    step = C(step)
    for x in batches(548, 5, 4, 8):
        yield {"out": step(x), "w": w, "g": g, "b": b}


@program(7)
def cr_log_softmax_nll_manual(C):
    W = T(549, 6, 4, requires_grad=True)

    def step(x, y):
        logp = (x @ W).log_softmax(1)
        loss = -logp[tt.arange(5), y].mean()
        loss.backward()
        with tt.no_grad():
            W.sub_(0.5 * W.grad)
        W.grad = None
        return loss
    step = C(step)
    for i, x in enumerate(batches(550, 6, 5, 6)):
        y = tt.tensor(np.random.RandomState(551 + i).randint(0, 4, 5))
        yield {"out": step(x, y), "W": W}


@program(7)
def cr_zero_grad_set_to_none_false(C):
    model = mlp(3, 4, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad(set_to_none=False)
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for x, y in zip(batches(552, 6, 4, 3), batches(553, 6, 4, 2)):
        yield {"out": step(x, y), "model": model}


@program(7)
def cr_recompile_after_shape_change_training(C):
    model = mlp(4, 5, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    step = C(sgd_step(model, opt))
    for i, n in enumerate((4, 4, 4, 3, 3, 4, 4, 3)):
        yield {"out": step(T(554 + i, n, 4), T(564 + i, n, 2)), "model": model, "opt": opt}


# --------------------------------------------------------------- more in-place / aliasing


@program(1)
def ip_sequential_inplace_activations_eval(C):
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(inplace=True), nn.Linear(6, 6),
                          nn.LeakyReLU(0.2, inplace=True) if "inplace" in
                          nn.LeakyReLU.__init__.__code__.co_varnames else nn.LeakyReLU(0.2),
                          nn.Linear(6, 2))

    def f(x):
        with tt.no_grad():
            return model(x).softmax(-1)
    f = C(f)
    for x in batches(600, 5, 3, 4):
        yield {"out": f(x)}


@program(1)
def ip_masked_fill_and_inplace_softmax_input(C):
    xs = batches(601, 5, 3, 5)

    def f(x):
        h = x.clone()
        h[:, -1] = float("-inf")
        return h.softmax(1)
    f = C(f)
    for x in xs:
        yield {"out": f(x)}


@program(1)
def ip_running_average_buffer(C):
    avg = tt.zeros(3)
    w = T(602, 3, requires_grad=True)

    def step(x):
        loss = (x * w).pow(2).sum()
        loss.backward()
        with tt.no_grad():
            avg.mul_(0.9).add_(w.grad, alpha=0.1)
            w.sub_(0.05 * avg)
        w.grad = None
        return loss
    step = C(step)
    for x in batches(602, 6, 3):
        yield {"out": step(x), "w": w, "avg": avg}


@program(1)
def ip_ema_of_parameters(C):
    model = mlp(3, 2)
    ema = [p.detach().clone() for p in model.parameters()]
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        with tt.no_grad():
            for e, p in zip(ema, model.parameters()):
                e.mul_(0.9).add_(p, alpha=0.1)
        return loss
    step = C(step)
    for x, y in zip(batches(603, 6, 4, 3), batches(604, 6, 4, 2)):
        yield {"out": step(x, y), "model": model, "ema": ema}


@program(2)
def al_inplace_through_two_views_of_arg(C):
    xs = batches(605, 5, 4, 4)

    def f(x):
        a = x[:2]
        b = x[1:3]
        a.add_(1.0)
        b.mul_(2.0)
        return x.sum(1)
    f = C(f)
    for x in xs:
        yield {"out": f(x), "x": x}


@program(2)
def al_arg_modified_then_returned_view(C):
    xs = batches(606, 5, 4, 3)

    def f(x):
        x.mul_(2.0)
        return x[:, 0]
    f = C(f)
    for x in xs:
        out = f(x)
        yield {"out": out, "x": x}
        x.add_(100.0)
        yield {"out_after": out}


@program(2)
def al_detached_param_modified_inside(C):
    w = T(607, 3, requires_grad=True)

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        d = w.detach()
        d.sub_(0.1 * w.grad)
        w.grad = None
        return loss
    step = C(step)
    for x in batches(607, 5, 3):
        yield {"out": step(x), "w": w}


@program(2)
def al_swap_arguments_order(C):
    a, b = T(608, 3), T(609, 3)

    def f(p, q):
        p.sub_(q)
        return p * q
    f = C(f)
    for x, y in ((a, b), (a, b), (b, a), (a, b), (b, a)):
        yield {"out": f(x, y), "a": a, "b": b}


@program(4)
def ag_grad_inputs_and_params(C):
    w = T(610, 3, requires_grad=True)

    def f(x):
        loss = (x * w).pow(2).sum()
        gx, gw = tt.autograd.grad(loss, [x, w])
        return gx, gw
    f = C(f)
    for i in range(5):
        x = T(611 + i, 3, requires_grad=True)
        yield {"out": f(x)}


@program(4)
def ag_no_grad_eval_and_train_same_fn(C):
    model = mlp(3, 4, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def f(x, y):
        loss = F.mse_loss(model(x), y)
        if loss.requires_grad:
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss
    f = C(f)
    for i, (x, y) in enumerate(zip(batches(612, 7, 4, 3), batches(613, 7, 4, 2))):
        if i % 3 == 2:
            with tt.no_grad():
                yield {"out": f(x, y), "model": model}
        else:
            yield {"out": f(x, y), "model": model}


@program(6)
def rv_hook_modifies_grad_with_counter_state(C):
    w = T(614, 3, requires_grad=True)
    state = {"n": 0}

    def hook(g):
        state["n"] += 1
        return g * float(state["n"])
    w.register_hook(hook)

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        return loss
    step = C(step)
    for x in batches(614, 5, 3):
        yield {"out": step(x), "w": w, "n": state["n"]}
        w.grad = None


# --------------------------------------------------------------- more: outputs kept across calls


@program(2)
def al_previous_outputs_not_clobbered(C):
    w = T(700, 4, 4)

    def f(x):
        h = (x @ w).tanh()
        return h * 2.0, h.sum(0)
    f = C(f)
    outs = []
    for x in batches(700, 6, 3, 4):
        outs.append(f(x))
        yield {"out_all": list(outs)}


@program(2)
def al_state_carry_output_as_next_input(C):
    Wh, Wx = T(701, 4, 4, scale=0.5), T(702, 3, 4, scale=0.5)

    def cell(x, h):
        return (h @ Wh + x @ Wx).tanh()
    cell = C(cell)
    h = tt.zeros(2, 4)
    hs = []
    for x in batches(703, 8, 2, 3):
        h = cell(x, h)
        hs.append(h)
        yield {"out": h, "out_all": list(hs)}


@program(2)
def al_state_carry_training_detach(C):
    Wh = T(704, 4, 4, scale=0.5, requires_grad=True)
    Wx = T(705, 3, 4, scale=0.5, requires_grad=True)

    def step(x, h):
        h2 = (h @ Wh + x @ Wx).tanh()
        loss = h2.pow(2).mean()
        loss.backward()
        with tt.no_grad():
            for p in (Wh, Wx):
                p.sub_(0.1 * p.grad)
                p.grad = None
        return loss, h2.detach()
    step = C(step)
    h = tt.zeros(2, 4)
    for x in batches(706, 7, 2, 3):
        loss, h = step(x, h)
        yield {"out": (loss, h), "Wh": Wh, "Wx": Wx}


@program(2)
def al_user_mutates_returned_constant(C):
    def f(x):
        return x * 2.0, tt.zeros(3), tt.tensor(1.5)
    f = C(f)
    for x in batches(707, 6, 3):
        out = f(x)
        yield {"out": out}
        out[1].add_(5.0)
        out[2].mul_(3.0)
        out[0].zero_()
        yield {"out_mutated": out}


@program(2)
def al_user_mutates_returned_grad(C):
    w = T(708, 3, requires_grad=True)

    def step(x):
        loss = (x * w).pow(2).sum()
        loss.backward()
        g = w.grad
        w.grad = None
        return loss, g
    step = C(step)
    for x in batches(708, 6, 3):
        loss, g = step(x)
        yield {"out": (loss, g), "w": w}
        g.mul_(0.0)


@program(2)
def al_output_fed_back_inplace(C):
    def f(x):
        y = x * 0.5 + 1.0
        return y
    f = C(f)
    x = T(709, 4)
    for _ in range(6):
        x = f(x)
        x.add_(0.25)
        yield {"out": x}


# --------------------------------------------------------------- more: state the guards could miss


G_SCALE2 = 1.0


@program(5)
def ps_globals_dict_lookup(C):
    global G_SCALE2
    G_SCALE2 = 1.0

    def f(x):
        return x * globals()["G_SCALE2"]
    f = C(f)
    for i, x in enumerate(batches(720, 6, 3)):
        if i == 3:
            G_SCALE2 = 4.0
        yield {"out": f(x)}


@program(5)
def ps_sys_modules_lookup(C):
    global G_SCALE2
    G_SCALE2 = 1.0

    def f(x):
        return x * sys.modules[__name__].G_SCALE2
    f = C(f)
    for i, x in enumerate(batches(721, 6, 3)):
        if i == 3:
            G_SCALE2 = -2.0
        yield {"out": f(x)}


@program(5)
def ps_mappingproxy_config(C):
    backing = {"scale": 1.0}
    cfg = types.MappingProxyType(backing)

    def f(x):
        return x * cfg["scale"]
    f = C(f)
    for i, x in enumerate(batches(722, 6, 3)):
        if i == 3:
            backing["scale"] = 3.0
        yield {"out": f(x)}


@program(5)
def ps_array_module_config(C):
    import array
    coef = array.array("d", [1.0, 0.5])

    def f(x):
        return x * coef[0] + coef[1]
    f = C(f)
    for i, x in enumerate(batches(723, 6, 3)):
        if i == 3:
            coef[0] = -1.0
        yield {"out": f(x)}


@program(5)
def ps_numpy_schedule_array_element(C):
    lrs = np.array([0.1, 0.1, 0.1, 0.1], dtype=np.float64)
    w = T(724, 3, requires_grad=True)

    def step(x):
        loss = (x * w).pow(2).sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(float(lrs[0]) * w.grad)
        w.grad = None
        return loss
    step = C(step)
    for i, x in enumerate(batches(724, 6, 3)):
        if i == 3:
            lrs[:] = 0.01
        yield {"out": step(x), "w": w}


@program(5)
def ps_contextvar_config(C):
    import contextvars
    var = contextvars.ContextVar("adv_scale", default=1.0)

    def f(x):
        return x * var.get()
    f = C(f)
    for i, x in enumerate(batches(725, 6, 3)):
        if i == 3:
            var.set(2.5)
        yield {"out": f(x)}


@program(5)
def ps_weakref_to_config(C):
    import weakref

    class Cfg:
        pass
    cfg = Cfg()
    cfg.scale = 1.0
    ref = weakref.ref(cfg)

    def f(x):
        return x * ref().scale
    f = C(f)
    for i, x in enumerate(batches(726, 6, 3)):
        if i == 3:
            cfg.scale = 0.125
        yield {"out": f(x)}


@program(5)
def ps_deque_batches_popleft(C):
    import collections
    queue = collections.deque(batches(727, 10, 3))

    def f(w):
        return queue.popleft() * w
    f = C(f)
    w = T(728, 3)
    for _ in range(5):
        yield {"out": f(w), "left": len(queue)}


@program(5)
def ps_detect_anomaly_switched_on(C):
    w = tt.tensor([0.0, 1.0, 2.0], requires_grad=True)

    def step(x):
        loss = (w.sqrt() * (x * 0.0)).sum()
        loss.backward()
        g = w.grad
        w.grad = None
        return loss, g
    step = C(step)
    for i, x in enumerate(batches(729, 6, 3)):
        if i == 3:
            tt.autograd.set_detect_anomaly(True)
        try:
            yield {"out": attempt(step, x)}
        finally:
            if i == 5:
                tt.autograd.set_detect_anomaly(False)
    tt.autograd.set_detect_anomaly(False)


@program(5)
def ps_forward_pre_hook_added_after_trace(C):
    model = mlp(3, 2)

    def f(x):
        with tt.no_grad():
            return model(x)
    f = C(f)
    for i, x in enumerate(batches(730, 6, 2, 3)):
        if i == 3:
            model[0].register_forward_pre_hook(lambda m, inp: (inp[0] * 0.0,))
        yield {"out": f(x)}


@program(5)
def ps_param_dtype_changed_via_data(C):
    w = T(731, 3)

    def f(x):
        return x * w
    f = C(f)
    for i, x in enumerate(batches(731, 6, 3)):
        if i == 3:
            w.data = w.data.double()
        yield {"out": f(x)}


@program(5)
def ps_param_data_replaced_by_transposed_view(C):
    w = T(732, 3, 3)

    def f(x):
        return x @ w
    f = C(f)
    for i, x in enumerate(batches(732, 6, 2, 3)):
        if i == 3:
            w.data = T(733, 3, 3).t()
        yield {"out": f(x), "w": w}


@program(5)
def ps_optimizer_load_state_dict(C):
    model = mlp(3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    step = C(sgd_step(model, opt))
    saved = None
    for i, (x, y) in enumerate(zip(batches(734, 7, 4, 3), batches(735, 7, 4, 2))):
        if i == 2:
            import copy
            saved = copy.deepcopy(opt.state_dict())
        if i == 5:
            opt.load_state_dict(saved)
        yield {"out": step(x, y), "model": model, "opt": opt}


@program(5)
def ps_model_load_state_dict(C):
    model = mlp(3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    step = C(sgd_step(model, opt))
    snap = None
    for i, (x, y) in enumerate(zip(batches(736, 7, 4, 3), batches(737, 7, 4, 2))):
        if i == 2:
            snap = {k: v.clone() for k, v in model.state_dict().items()}
        if i == 5:
            model.load_state_dict(snap)
        yield {"out": step(x, y), "model": model}


@program(5)
def ps_object_class_swapped(C):
    class Relu:
        def apply(self, h):
            return h.relu()

    class Tanh:
        def apply(self, h):
            return h.tanh()
    act = Relu()

    def f(x):
        return act.apply(x * 2.0)
    f = C(f)
    for i, x in enumerate(batches(738, 6, 3)):
        if i == 3:
            act.__class__ = Tanh
        yield {"out": f(x)}


@program(5)
def ps_method_monkeypatched_on_class(C):
    class Head:
        def act(self, h):
            return h.relu()
    head = Head()

    def f(x):
        return head.act(x)
    f = C(f)
    for i, x in enumerate(batches(739, 6, 3)):
        if i == 3:
            Head.act = lambda self, h: h.sigmoid()
        yield {"out": f(x)}


@program(5)
def ps_library_function_monkeypatched(C):
    orig = F.gelu

    def f(x):
        return F.gelu(x)
    f = C(f)
    try:
        for i, x in enumerate(batches(740, 6, 3)):
            if i == 3:
                F.gelu = lambda h, approximate="none": h.relu()
            yield {"out": f(x)}
    finally:
        F.gelu = orig


@program(5)
def ps_bytearray_flags(C):
    flags = bytearray(b"\x00")

    def f(x):
        return x.relu() if flags[0] == 0 else x.tanh()
    f = C(f)
    for i, x in enumerate(batches(741, 6, 3)):
        if i == 3:
            flags[0] = 1
        yield {"out": f(x)}


# --------------------------------------------------------------- more: threads


@program(3)
def th_thread_spawned_inside_function(C):
    w = T(750, 4)

    def f(x):
        box = {}

        def work():
            box["h"] = (x * w).exp()
        th = threading.Thread(target=work)
        th.start()
        th.join()
        return box["h"] + 1.0
    f = C(f)
    for x in batches(751, 5, 4):
        yield {"out": f(x)}


@program(3)
def th_thread_pool_map_inside_function(C):
    from concurrent.futures import ThreadPoolExecutor
    pool = ThreadPoolExecutor(2)
    ws = [T(752 + k, 4) for k in range(3)]

    def f(x):
        parts = list(pool.map(lambda w: (x * w).tanh(), ws))
        return parts[0] + parts[1] * parts[2]
    f = C(f)
    try:
        for x in batches(755, 5, 4):
            yield {"out": f(x)}
    finally:
        pool.shutdown()


@program(3)
def th_concurrent_mixed_shapes_retrace(C):
    w = T(756, 4, 3)

    def f(x):
        return (x @ w).sigmoid().sum(0)
    f = C(f)
    a = [T(757 + i, 3 + (i % 3), 4) for i in range(24)]
    b = [T(790 + i, 2 + (i % 4), 4) for i in range(24)]
    yield {"out": _run_threads([lambda: [f(x) for x in a], lambda: [f(x) for x in b]])}


@program(3)
def th_backward_in_other_thread_during_trace(C):
    v = T(820, 4, requires_grad=True)
    ys = batches(821, 30, 4)
    w = T(822, 4, requires_grad=True)

    def background():
        out = []
        for y in ys:
            loss = (y * v).tanh().sum()
            loss.backward()
            out.append(v.grad.clone())
            v.grad = None
        return out

    def tracer():
        out = []
        for k in range(8):
            def step(x, k=k):
                loss = (x * w + float(k)).pow(2).sum()
                loss.backward()
                g = w.grad
                w.grad = None
                return loss, g
            cs = C(step)
            out.append([cs(x) for x in batches(830 + k, 3, 4)])
        return out
    yield {"out": _run_threads([background, tracer]), "v": v, "w": w}

# --------------------------------------------------------------- h2: more adversarial programs
# (Python state the guard walk does not follow, results and effects a replay rebuilds
# differently, trace-time checks that switch off; then new classes that pass today)


_H2_SCALE = [2.0]  # mutated by programs: reset at their start


class _H2Base:
    scale = 2.0

    def apply(self, h):
        return h * self.scale


class _H2Child(_H2Base):
    pass


@program(5)
def h2_base_class_attribute_changed(C):
    _H2Base.scale = 2.0
    obj = _H2Child()

    def f(x):
        return obj.apply(x.exp())
    f = C(f)
    for i, x in enumerate(batches(901, 6, 3)):
        if i == 3:
            _H2Base.scale = -0.5
        yield {"out": f(x)}
    _H2Base.scale = 2.0


_H2_ACT = "relu"


class _H2BlockBase(nn.Module):
    def forward(self, x):
        h = self.lin(x)
        return h.relu() if _H2_ACT == "relu" else h.tanh()


class _H2Block(_H2BlockBase):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 4)


_H2_GAIN = 2.0


class _H2PropCfg:
    @property
    def gain(self):
        return _H2_GAIN


@program(5)
def h2_property_reads_global(C):
    global _H2_GAIN
    _H2_GAIN = 2.0
    cfg = _H2PropCfg()

    def f(x):
        return x * cfg.gain
    f = C(f)
    for i, x in enumerate(batches(903, 6, 3)):
        if i == 3:
            _H2_GAIN = 0.25
        yield {"out": f(x)}
    _H2_GAIN = 2.0


_H2_CALL_K = 3.0


class _H2CallGlobal:
    def __call__(self, h):
        return h * _H2_CALL_K


@program(5)
def h2_dunder_call_reads_global(C):
    global _H2_CALL_K
    _H2_CALL_K = 3.0
    g = _H2CallGlobal()

    def f(x):
        return g(x) + 1.0
    f = C(f)
    for i, x in enumerate(batches(904, 6, 3)):
        if i == 3:
            _H2_CALL_K = -1.0
        yield {"out": f(x)}
    _H2_CALL_K = 3.0


_H2_VALUES = {"lr": 0.1}


class _H2AttrCfg:
    def __getattr__(self, name):
        return _H2_VALUES[name]


@program(5)
def h2_getattr_config_reads_global_dict(C):
    _H2_VALUES["lr"] = 0.1
    cfg = _H2AttrCfg()
    w = T(905, 3, requires_grad=True)

    def step(x):
        loss = (x * w).pow(2).sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(cfg.lr * w.grad)
        w.grad = None
        return loss
    step = C(step)
    for i, x in enumerate(batches(905, 6, 3)):
        if i == 3:
            _H2_VALUES["lr"] = 0.01
        yield {"out": step(x), "w": w}
    _H2_VALUES["lr"] = 0.1


class _H2Desc:
    def __get__(self, obj, objtype=None):
        return _H2_SCALE[0]


class _H2DescHolder:
    k = _H2Desc()


@program(5)
def h2_descriptor_reads_global_list(C):
    _H2_SCALE[0] = 2.0
    holder = _H2DescHolder()

    def f(x):
        return x * holder.k
    f = C(f)
    for i, x in enumerate(batches(906, 6, 3)):
        if i == 3:
            _H2_SCALE[0] = 5.0
        yield {"out": f(x)}
    _H2_SCALE[0] = 2.0


@program(5)
def h2_for_loop_consumes_iterator(C):
    lrs = iter([0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625])
    w = T(907, 3, requires_grad=True)

    def step(x):
        for lr in lrs:
            break
        loss = (x * w).pow(2).sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(lr * w.grad)
        w.grad = None
        return loss
    step = C(step)
    for x in batches(907, 6, 3):
        yield {"out": step(x), "w": w}


@program(5)
def h2_cycle_unpacked_inside(C):
    coefs = itertools.cycle([1.0, -1.0, 0.5])

    def f(x):
        k, = itertools.islice(coefs, 1)
        return x * k
    f = C(f)
    for x in batches(908, 6, 3):
        yield {"out": f(x)}


@program(5)
def h2_attrgetter_on_module(C):
    mod = types.ModuleType("h2_cfg_mod")
    mod.lr = 0.1
    get = operator.attrgetter("lr")
    w = T(909, 3, requires_grad=True)

    def step(x):
        loss = (x * w).pow(2).sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(get(mod) * w.grad)
        w.grad = None
        return loss
    step = C(step)
    for i, x in enumerate(batches(909, 6, 3)):
        if i == 3:
            mod.lr = 0.01
        yield {"out": step(x), "w": w}


@program(5)
def h2_getattr_computed_name_on_module(C):
    mod = types.ModuleType("h2_cfg_mod2")
    setattr(mod, "scale_a", 2.0)
    which = ["a"]

    def f(x):
        return x * getattr(mod, "scale_" + which[0])
    f = C(f)
    for i, x in enumerate(batches(910, 6, 3)):
        if i == 3:
            mod.scale_a = -3.0
        yield {"out": f(x)}


@program(5)
def h2_staticmethod_reads_global(C):
    global _H2_CALL_K
    _H2_CALL_K = 3.0

    class Ops:
        @staticmethod
        def scale(h):
            return h * _H2_CALL_K
    ops = Ops()

    def f(x):
        return ops.scale(x)
    f = C(f)
    for i, x in enumerate(batches(911, 6, 3)):
        if i == 3:
            _H2_CALL_K = 7.0
        yield {"out": f(x)}
    _H2_CALL_K = 3.0


@program(5)
def h2_lambda_in_dict_closure(C):
    k = [2.0]
    acts = {"scaled": lambda h: h * k[0]}

    def f(x):
        return acts["scaled"](x)
    f = C(f)
    for i, x in enumerate(batches(912, 6, 3)):
        if i == 3:
            k[0] = 4.0
        yield {"out": f(x)}


@program(5)
def h2_inherited_forward_reads_global(C):
    global _H2_ACT
    _H2_ACT = "relu"
    tt.manual_seed(902)
    m = _H2Block()
    opt = tt.optim.SGD(m.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = m(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, x in enumerate(batches(902, 6, 5, 3)):
        if i == 3:
            _H2_ACT = "tanh"
        yield {"out": step(x), "m": m}
    _H2_ACT = "relu"


_H2_GRAD_SCALE = 1.0


class _H2ScaleGrad(tt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        return g * _H2_GRAD_SCALE


@program(5)
def h2_custom_function_backward_reads_global(C):
    global _H2_GRAD_SCALE
    _H2_GRAD_SCALE = 1.0
    w = T(920, 3, requires_grad=True)

    def step(x):
        loss = _H2ScaleGrad.apply(x * w).pow(2).sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(0.1 * w.grad)
        w.grad = None
        return loss
    step = C(step)
    for i, x in enumerate(batches(920, 6, 3)):
        if i == 3:
            _H2_GRAD_SCALE = 0.0  # freeze w from now on
        yield {"out": step(x), "w": w}
    _H2_GRAD_SCALE = 1.0


@program(5)
def h2_import_inside_function(C):
    mod = types.ModuleType("h2_imported_cfg")
    mod.scale = 2.0
    sys.modules["h2_imported_cfg"] = mod
    try:
        def f(x):
            import h2_imported_cfg
            return x * h2_imported_cfg.scale
        f = C(f)
        for i, x in enumerate(batches(921, 6, 3)):
            if i == 3:
                mod.scale = -1.0
            yield {"out": f(x)}
    finally:
        del sys.modules["h2_imported_cfg"]


@program(5)
def h2_importlib_import_module_inside(C):
    import importlib
    mod = types.ModuleType("h2_imported_cfg2")
    mod.scale = 2.0
    sys.modules["h2_imported_cfg2"] = mod
    try:
        def f(x):
            return x * importlib.import_module("h2_imported_cfg2").scale
        f = C(f)
        for i, x in enumerate(batches(922, 6, 3)):
            if i == 3:
                mod.scale = -1.0
            yield {"out": f(x)}
    finally:
        del sys.modules["h2_imported_cfg2"]


@program(2)
def h2_arg_is_state_grad(C):
    w = T(923, 4, requires_grad=True)
    w.grad = T(924, 4)
    others = batches(925, 5, 4)

    def f(g):
        return g * 2.0 + w.grad
    f = C(f)
    for i in range(5):
        arg = w.grad if i % 2 == 0 else others[i]
        yield {"out": f(arg), "w": w}


@program(5)
def h2_library_module_class_forward_patched(C):
    orig = nn.Tanh.forward
    tt.manual_seed(926)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh())

    def f(x):
        with tt.no_grad():
            return model(x)
    f = C(f)
    try:
        for i, x in enumerate(batches(926, 6, 2, 3)):
            if i == 3:
                nn.Tanh.forward = lambda self, h: h.sigmoid()
            yield {"out": f(x)}
    finally:
        nn.Tanh.forward = orig


@program(5)
def h2_classmethod_reads_class_of_base(C):
    class Base:
        k = 2.0

        @classmethod
        def scale(cls, h):
            return h * cls.k

    class Sub(Base):
        pass

    def f(x):
        return Sub.scale(x)
    f = C(f)
    for i, x in enumerate(batches(927, 6, 3)):
        if i == 3:
            Base.k = 0.5
        yield {"out": f(x)}


@program(5)
def h2_dunder_call_appends_to_global_log(C):
    log = []

    class Logger:
        def __call__(self, name):
            _H2_LOG.append(name)

    global _H2_LOG
    _H2_LOG = log
    logger = Logger()

    def f(x):
        logger("fwd")
        return x * 2.0
    f = C(f)
    for x in batches(928, 5, 3):
        yield {"out": f(x), "log_len": len(log)}


@program(5)
def h2_module_forward_hook_callable_object_global(C):
    global _H2_HOOK_K
    _H2_HOOK_K = 1.0
    tt.manual_seed(929)
    lin = nn.Linear(3, 3)

    class Hook:
        def __call__(self, mod, inp, out):
            return out * _H2_HOOK_K
    lin.register_forward_hook(Hook())

    def f(x):
        with tt.no_grad():
            return lin(x)
    f = C(f)
    for i, x in enumerate(batches(929, 6, 2, 3)):
        if i == 3:
            _H2_HOOK_K = 3.0
        yield {"out": f(x)}
    _H2_HOOK_K = 1.0


_H2_HOOK_K = 1.0
_H2_LOG = []


_H2Pair = namedtuple("_H2Pair", ["loss", "pred"])


def _h2_out_meta(r):
    """What the harness does not record of returned tensors: their autograd state, version
    and .grad."""
    return [(type(t).__name__, t.requires_grad, t.is_leaf, t._version_counter[0],
             None if t.grad is None else _as_array(t.grad).tolist()) for t in _h2_tensors(r)]


def _h2_tensors(v):
    if isinstance(v, Tensor):
        yield v
    elif isinstance(v, (list, tuple)):
        for x in v:
            yield from _h2_tensors(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from _h2_tensors(x)


@program(6)
def h2_return_namedtuple(C):
    w = T(930, 3, 2)

    def f(x):
        pred = x @ w
        return _H2Pair(pred.pow(2).mean(), pred)
    f = C(f)
    for x in batches(930, 5, 4, 3):
        out = f(x)
        yield {"out": out, "out_type": type(out).__name__}


@program(6)
def h2_return_ordereddict(C):
    import collections as _c

    def f(x):
        return _c.OrderedDict(a=x * 2.0, b=x + 1.0)
    f = C(f)
    for x in batches(931, 5, 3):
        out = f(x)
        yield {"out": out, "out_type": type(out).__name__}


@program(6)
def h2_return_same_list_twice(C):
    def f(x):
        parts = [x * 2.0, x - 1.0]
        return parts, parts
    f = C(f)
    for x in batches(932, 5, 3):
        yield {"out": f(x)}


@program(6)
def h2_return_closure_list_as_is(C):
    names = ["loss", "acc"]

    def f(x):
        return x.sum(), names
    f = C(f)
    for x in batches(933, 5, 3):
        out = f(x)
        yield {"out": out, "names": names}


@program(6)
def h2_return_grad_first_set(C):
    w = T(934, 3, requires_grad=True)

    def step(x):
        (x * w).pow(2).sum().backward()
        return w.grad
    step = C(step)
    for x in batches(934, 5, 3):
        g = step(x)
        yield {"out": g, "w": w, "out_is_grad": g is w.grad}
        w.grad = None


@program(3)
def h2_arg_requires_grad_set_inside(C):
    tt.manual_seed(935)
    model = nn.Linear(3, 1)

    def saliency(x):
        x.requires_grad_()
        g, = tt.autograd.grad(model(x).sum(), x)
        return g
    saliency = C(saliency)
    for x in batches(935, 5, 4, 3):
        out = saliency(x)
        yield {"out": out, "x": x, "model": model}


@program(6)
def h2_return_fresh_leaf_requires_grad(C):
    def init(x):
        return tt.zeros(x.shape[0], 4, requires_grad=True)
    init = C(init)
    for x in batches(936, 5, 2, 3):
        h = init(x)
        yield {"out": h, "meta": _h2_out_meta(h)}


@program(6)
def h2_return_requires_grad_clone(C):
    def make_delta(x):
        return (x * 0.0).detach().requires_grad_()
    make_delta = C(make_delta)
    for x in batches(937, 5, 3):
        d = make_delta(x)
        yield {"out": d, "meta": _h2_out_meta(d)}


@program(6)
def h2_return_inplace_modified_version(C):
    def f(x):
        h = x * 2.0
        h.add_(1.0)
        h.clamp_(min=0.0)
        return h
    f = C(f)
    for x in batches(938, 5, 3):
        out = f(x)
        yield {"out": out, "meta": _h2_out_meta(out)}


@program(6)
def h2_return_leaf_with_grad(C):
    def f(x):
        z = tt.ones(3, requires_grad=True)
        (z * x).pow(2).sum().backward()
        return z
    f = C(f)
    for x in batches(939, 5, 3):
        z = f(x)
        yield {"out": z, "meta": _h2_out_meta(z)}


@program(6)
def h2_return_spent_graph_meta(C):
    w = T(940, 3, requires_grad=True)

    def step(x):
        h = (x * w).tanh()
        loss = h.pow(2).sum()
        loss.backward()
        w.grad = None
        return loss, h
    step = C(step)
    for x in batches(940, 5, 3):
        out = step(x)
        yield {"out": out, "meta": _h2_out_meta(out), "fn": [type(t.grad_fn).__name__ for t in out]}


@program(5)
def h2_function_attribute_config(C):
    def act(h):
        return h * act.gain
    act.gain = 2.0

    def f(x):
        return act(x).sum(0)
    f = C(f)
    for i, x in enumerate(batches(941, 6, 4, 3)):
        if i == 3:
            act.gain = 0.5
        yield {"out": f(x)}


@program(5)
def h2_dict_subclass_instance_attribute(C):
    class Config(dict):
        pass
    cfg = Config(name="run1")
    cfg.scale = 2.0

    def f(x):
        return x * cfg.scale
    f = C(f)
    for i, x in enumerate(batches(942, 6, 3)):
        if i == 3:
            cfg.scale = -1.0
        yield {"out": f(x)}


@program(5)
def h2_list_subclass_instance_attribute(C):
    class Schedule(list):
        pass
    sched = Schedule([0.1, 0.2])
    sched.current = 0

    def f(x):
        return x * sched[sched.current]
    f = C(f)
    for i, x in enumerate(batches(943, 6, 3)):
        if i == 3:
            sched.current = 1
        yield {"out": f(x)}


@program(5)
def h2_bound_dict_get_method(C):
    cfg = {"scale": 2.0}
    read = cfg.get

    def f(x):
        return x * read("scale", 1.0)
    f = C(f)
    for i, x in enumerate(batches(944, 6, 3)):
        if i == 3:
            cfg["scale"] = 3.0
        yield {"out": f(x)}


@program(5)
def h2_bound_list_append_logging(C):
    history = []
    record = history.append

    def f(x):
        record("called")
        return x * 2.0
    f = C(f)
    for x in batches(945, 5, 3):
        yield {"out": f(x), "n": len(history)}


@program(5)
def h2_module_level_getattr(C):
    mod = types.ModuleType("h2_lazy_cfg")
    values = {"scale": 2.0}

    def module_getattr(name):
        try:
            return values[name]
        except KeyError:
            raise AttributeError(name) from None
    mod.__getattr__ = module_getattr

    def f(x):
        return x * mod.scale
    f = C(f)
    for i, x in enumerate(batches(946, 6, 3)):
        if i == 3:
            values["scale"] = 5.0
        yield {"out": f(x)}


@program(4)
def h2_inference_mode_branch(C):
    def f(x):
        if tt.is_inference_mode_enabled():
            return x * 2.0
        return x * 3.0
    f = C(f)
    for i, x in enumerate(batches(947, 6, 3)):
        ctx = tt.inference_mode() if i % 2 else tt.no_grad()
        with ctx:
            out = f(x)
        yield {"out": out}


@program(4)
def h2_hook_on_argument_added_later(C):
    w = T(948, 3, requires_grad=True)

    def step(x):
        (x * w).pow(2).sum().backward()
        return x.grad

    step = C(step)
    for i, x in enumerate(batches(948, 6, 3)):
        x.requires_grad_()
        if i >= 3:
            x.register_hook(lambda g: g * 10.0)
        out = step(x)
        yield {"out": out, "x": x, "w": w}
        w.grad = None


@program(4)
def h2_argument_grad_noncontiguous(C):
    w = T(949, 3, 4)

    def step(x):
        (x * w).sum().backward()
        return x.grad.sum()
    step = C(step)
    for i, x in enumerate(batches(949, 5, 3, 4)):
        x.requires_grad_()
        x.grad = T(950 + i, 3, 4) if i < 2 else T(950 + i, 4, 3).t()
        yield {"out": step(x), "x": x}


@program(6)
def h2_return_grad_assigned_by_hand(C):
    w = T(951, 3, requires_grad=True)

    def f(x):
        g = x * 2.0
        w.grad = g
        return g
    f = C(f)
    for x in batches(951, 5, 3):
        g = f(x)
        yield {"out": g, "w": w, "same": g is w.grad}
        w.grad = None


@program(9)
def h2_sgd_nesterov_clip_steplr(C):
    tt.manual_seed(952)
    model = mlp(4, 8, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)
    sched = tt.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        return loss
    step = C(step)
    for x, y in zip(batches(952, 7, 5, 4), batches(953, 7, 5, 2)):
        yield {"out": step(x, y), "model": model, "opt": opt}
        sched.step()


@program(9)
def h2_rmsprop_centered_momentum_cosine(C):
    tt.manual_seed(954)
    model = mlp(3, 6, 1)
    opt = tt.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.5, centered=True, weight_decay=0.01)
    sched = tt.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for x, y in zip(batches(954, 4, 5, 3), batches(955, 4, 5, 1)):
        yield {"out": step(x, y), "model": model, "opt": opt}
        sched.step()


@program(9)
def h2_adagrad_lr_decay_lambdalr(C):
    tt.manual_seed(956)
    model = mlp(3, 5, 2)
    opt = tt.optim.Adagrad(model.parameters(), lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)
    sched = tt.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0 / (1 + e))

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for x, y in zip(batches(956, 6, 4, 3), batches(957, 6, 4, 2)):
        yield {"out": step(x, y), "model": model, "opt": opt}
        sched.step()


@program(3)
def h2_zero_grad_mode_alternating(C):
    tt.manual_seed(958)
    model = mlp(3, 4, 1)
    opt = tt.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def step(x, y):
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, (x, y) in enumerate(zip(batches(958, 7, 5, 3), batches(959, 7, 5, 1))):
        opt.zero_grad(set_to_none=(i % 2 == 0))
        yield {"out": step(x, y), "model": model, "opt": opt}


@program(3)
def h2_freeze_unfreeze_alternating(C):
    tt.manual_seed(960)
    model = mlp(3, 4, 1)
    opt = tt.optim.SGD(model.parameters(), lr=0.05)
    first = model[0].weight

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, (x, y) in enumerate(zip(batches(960, 7, 5, 3), batches(961, 7, 5, 1))):
        first.requires_grad_(i % 3 != 1)
        yield {"out": step(x, y), "model": model}


@program(2)
def h2_param_data_swapped_between_calls(C):
    w = T(962, 3, 2, requires_grad=True)
    alt = [T(963, 3, 2), T(964, 2, 3).t(), T(965, 3, 2, dtype=np.float64)]

    def step(x):
        loss = (x @ w).pow(2).mean()
        loss.backward()
        with tt.no_grad():
            w.sub_(0.1 * w.grad)
        w.grad = None
        return loss
    step = C(step)
    for i, x in enumerate(batches(962, 6, 4, 3)):
        if 2 <= i < 5:
            w.data = alt[i - 2]
        x = x.double() if w.dtype == tt.float64 else x
        yield {"out": attempt(step, x), "w": w}


@program(1)
def h2_param_row_inplace_inside_step(C):
    w = T(966, 4, 3, requires_grad=True)

    def step(x):
        loss = (x @ w.t()).tanh().sum()
        loss.backward()
        with tt.no_grad():
            w[0].mul_(0.5)
            w[:, 1:].sub_(0.1 * w.grad[:, 1:])
            w.t()[2].add_(0.01)
        w.grad = None
        return loss
    step = C(step)
    for x in batches(966, 6, 2, 3):
        yield {"out": step(x), "w": w}


@program(8)
def h2_float64_mlp_training(C):
    tt.manual_seed(967)
    model = mlp(3, 5, 2).double()
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    step = C(sgd_step(model, opt))
    for x, y in zip(batches(967, 6, 4, 3, dtype=np.float64), batches(968, 6, 4, 2, dtype=np.float64)):
        yield {"out": step(x, y), "model": model, "opt": opt}


@program(8)
def h2_int64_index_select_arg(C):
    emb = T(969, 10, 3, requires_grad=True)

    def step(idx):
        loss = emb.index_select(0, idx).pow(2).sum()
        loss.backward()
        with tt.no_grad():
            emb.sub_(0.1 * emb.grad)
        emb.grad = None
        return loss
    step = C(step)
    for i in range(6):
        idx = tt.tensor(np.random.RandomState(970 + i).randint(0, 10, size=4).astype(np.int64))
        yield {"out": step(idx), "emb": emb}


@program(8)
def h2_bool_mask_arg_where_and_count(C):
    def f(x, m):
        kept = tt.where(m, x, tt.zeros_like(x))
        return kept.sum(), m.sum(), m.float().mean(), (~m).any()
    f = C(f)
    for i, x in enumerate(batches(971, 6, 5)):
        m = tt.tensor(np.random.RandomState(972 + i).rand(5) > 0.5)
        yield {"out": attempt(f, x, m)}


@program(8)
def h2_empty_then_nonempty_batches(C):
    w = T(973, 3, 2)

    def f(x):
        h = x @ w
        return h.sum(0), h.relu().mean(1), h.shape[0]
    f = C(f)
    for n in [0, 3, 0, 3, 1, 0]:
        x = T(974 + n, n, 3)
        yield {"out": attempt(f, x)}


@program(8)
def h2_zero_dim_args_broadcast(C):
    def f(a, b, x):
        return a * x + b, (a - b).exp(), (x * b).sum() / a
    f = C(f)
    for i, x in enumerate(batches(975, 6, 2, 3)):
        a = tt.tensor(arr(976 + i, 1).reshape(()))
        b = tt.tensor(arr(977 + i, 1, dtype=np.float64).reshape(()))
        yield {"out": f(a, b, x)}


@program(2)
def h2_noncontig_then_contig_args(C):
    w = T(978, 3, requires_grad=True)

    def step(x):
        h = (x * w).relu()
        loss = h.sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(0.1 * w.grad)
            x.mul_(0.5)
        w.grad = None
        return loss, h
    step = C(step)
    for i in range(7):
        base = T(979 + i, 8, 6)
        x = [base[1:4, ::2], base[::3, 1:4], base[:3, :3], base.t()[1:4, 2:5], base[2:5, 3:]][i % 5]
        out = step(x)
        yield {"out": out, "w": w, "base": base}


@program(2)
def h2_overlapping_window_args(C):
    def f(a, b):
        a.add_(1.0)
        return b * 2.0
    f = C(f)
    for i in range(6):
        base = T(980 + i, 10)
        off = [1, 2, 0, 1, 3, 5][i]
        yield {"out": f(base[:5], base[off:off + 5]), "base": base}


@program(8)
def h2_nan_inf_negzero_later_values(C):
    def f(x):
        return (x.relu(), x.clamp(-1.0, 1.0), x.abs(), x.sign(), tt.maximum(x, x * 0.0),
                tt.where(x > 0, x, x * 0.5), x.max(), x.min(), x.floor(), (x * 0.0),
                x.sqrt(), x.softmax(-1), F.log_softmax(x, -1), x.round())
    f = C(f)
    vals = [[0.5, -1.5, 2.0, 3.0], [0.25, 1.5, -2.0, 0.75], [float("nan"), -0.0, 1.0, -1.0],
            [float("inf"), -float("inf"), -0.0, 0.0], [-float("inf")] * 4, [-0.4, 0.5, 2.5, -2.5]]
    for v in vals:
        yield {"out": f(tt.tensor(np.array(v, np.float32)))}


@program(2)
def h2_grad_assigned_from_argument(C):
    w = T(981, 4, requires_grad=True)
    opt = tt.optim.SGD([w], lr=0.1)

    def apply_grad(g):
        w.grad = g
        opt.step()
    apply_grad = C(apply_grad)
    for g in batches(981, 5, 4):
        apply_grad(g)
        same = w.grad is g
        g.zero_()  # eager: w.grad is g, so this clears w.grad too
        yield {"w": w, "same": same}
        opt.zero_grad(set_to_none=False)


@program(2)
def h2_grad_assigned_from_closure_buffer(C):
    w = T(982, 4, requires_grad=True)
    acc = tt.zeros(4)

    def step(x):
        with tt.no_grad():
            acc.add_(x)
        w.grad = acc
        with tt.no_grad():
            w.sub_(0.1 * w.grad)
        return w.grad is acc
    step = C(step)
    for x in batches(982, 5, 4):
        out = step(x)
        yield {"out": out, "w": w, "acc": acc, "same": w.grad is acc}
        w.grad = None


@program(3)
def h2_backward_create_graph_grad_meta(C):
    w = T(983, 3, requires_grad=True)

    def step(x):
        loss = (x * w).pow(3).sum()
        loss.backward(create_graph=True)
        return loss.detach()
    step = C(step)
    for x in batches(983, 5, 3):
        out = step(x)
        g = w.grad
        yield {"out": out, "w": w, "grad_meta": (g.requires_grad, type(g.grad_fn).__name__)}
        w.grad = None


@program(5)
def h2_warning_emitted_inside(C):
    def f(x, reduction="mean"):
        if reduction == "mean":
            warnings.warn("reduction='mean' is deprecated, use 'avg'", DeprecationWarning)
        return x.mean()
    f = C(f)
    for x in batches(984, 5, 3):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            out = f(x)
        yield {"out": out, "warned": [str(w.message) for w in rec if "deprecated" in str(w.message)
                                      and "tinytape.compile" not in str(w.message)]}


@program(5)
def h2_flag_file_checked_inside(C):
    import tempfile
    d = tempfile.mkdtemp()
    flag = os.path.join(d, "freeze")
    w = T(985, 3, requires_grad=True)

    def step(x):
        loss = (x * w).pow(2).sum()
        loss.backward()
        if not os.path.exists(flag):
            with tt.no_grad():
                w.sub_(0.1 * w.grad)
        w.grad = None
        return loss
    step = C(step)
    try:
        for i, x in enumerate(batches(985, 6, 3)):
            if i == 3:
                open(flag, "w").close()
            yield {"out": step(x), "w": w}
    finally:
        if os.path.exists(flag):
            os.remove(flag)
        os.rmdir(d)


@program(8)
def h2_int64_arithmetic_values_change(C):
    def f(a, b):
        return ((a * 3 + 7) * 2, a.abs(), -a, tt.maximum(a, b), (a > b).sum(), a.clamp(-5, 5),
                tt.where(a > 0, a, b), a.float() / 3.0, (a - b).pow(2), a.sum(), a.max(), a.min())
    f = C(f)
    rs = np.random.RandomState(987)
    for i in range(6):
        hi = [10, 10, 10**6, -1, 2**40, 3][i]
        a = tt.tensor(rs.randint(-abs(hi), abs(hi) + 1, size=6).astype(np.int64))
        b = tt.tensor(rs.randint(-abs(hi), abs(hi) + 1, size=6).astype(np.int64))
        yield {"out": attempt(f, a, b)}


@program(4)
def h2_set_grad_enabled_plain_call_inside(C):
    w = T(988, 3, requires_grad=True)

    def evaluate(x):
        tt.set_grad_enabled(False)  # a plain call: recording stays off after the function
        return (x * w).sum()
    evaluate = C(evaluate)
    try:
        for i, x in enumerate(batches(988, 6, 3)):
            if i % 2 == 0:
                tt.set_grad_enabled(True)
            out = evaluate(x)
            yield {"out": out, "grad_mode_after": tt.is_grad_enabled()}
    finally:
        tt.set_grad_enabled(True)


@program(1)
def h2_sliding_window_arg_constant_written_through_view(C):
    from numpy.lib.stride_tricks import sliding_window_view

    def f(frames):
        h = tt.full((3, 4), 1.0)
        h[0].add_(frames[0])
        return h * 2.0
    f = C(f)
    for i in range(5):
        signal = arr(989 + i, 12)
        yield {"out": f(tt.from_numpy(sliding_window_view(signal, 4)))}


@contextlib.contextmanager
def _h2_cold_kernel_cache():
    """A fresh kernel cache directory: the fused code compiles as on a new machine (the
    numba cache of an earlier run would hide the compile time)."""
    import shutil
    import tempfile
    old = os.environ.get("TINYTAPE_CACHE_DIR")
    d = tempfile.mkdtemp()
    os.environ["TINYTAPE_CACHE_DIR"] = d
    try:
        yield
    finally:
        if old is None:
            del os.environ["TINYTAPE_CACHE_DIR"]
        else:
            os.environ["TINYTAPE_CACHE_DIR"] = old
        shutil.rmtree(d, ignore_errors=True)


class _H2DeepResidual(nn.Module):
    def __init__(self, n, width):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(width, width) for _ in range(n)])
        self.head = nn.Linear(width, 1)

    def forward(self, x):
        for block in self.blocks:
            x = x + block(x).relu()
        return self.head(x)


@program(7)
def h2_deep_residual_mlp_20_blocks_compile_time(C):
    tt.manual_seed(990)
    model = _H2DeepResidual(20, 8)
    opt = tt.optim.SGD(model.parameters(), lr=0.01)
    step = C(sgd_step(model, opt))
    with _h2_cold_kernel_cache():
        for x, y in zip(batches(990, 3, 4, 8), batches(991, 3, 4, 1)):
            yield {"out": step(x, y), "model": model}


# ---- new classes that pass (today)


@program(5)
def h2_enum_mode_switched(C):
    import enum

    class Mode(enum.Enum):
        TRAIN = "train"
        EVAL = "eval"

    class Cfg:
        def __init__(self):
            self.mode = Mode.TRAIN
    cfg = Cfg()

    def f(x):
        return x.relu() if cfg.mode is Mode.TRAIN else x.tanh()
    f = C(f)
    for i, x in enumerate(batches(992, 6, 3)):
        if i == 3:
            cfg.mode = Mode.EVAL
        yield {"out": f(x)}


@dataclasses.dataclass(frozen=True)
class _H2FrozenHP:
    lr: float
    clip: float


@program(5)
def h2_frozen_dataclass_replaced(C):
    box = {"hp": _H2FrozenHP(lr=0.1, clip=1.0)}
    w = T(993, 3, requires_grad=True)

    def step(x):
        hp = box["hp"]
        loss = (x * w).pow(2).sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(hp.lr * w.grad.clamp(-hp.clip, hp.clip))
        w.grad = None
        return loss
    step = C(step)
    for i, x in enumerate(batches(993, 6, 3)):
        if i == 3:
            box["hp"] = dataclasses.replace(box["hp"], lr=0.01)
        yield {"out": step(x), "w": w}


_H2_LRU_K = [2.0]


@functools.lru_cache(maxsize=None)
def _h2_cached_scale(n):
    return _H2_LRU_K[0] * n


@program(5)
def h2_lru_cached_helper(C):
    _h2_cached_scale.cache_clear()
    _H2_LRU_K[0] = 2.0

    def f(x):
        return x * _h2_cached_scale(x.shape[0])
    f = C(f)
    for i, x in enumerate(batches(994, 6, 3)):
        if i == 3:
            _H2_LRU_K[0] = 5.0  # the cache keeps the old value: eager too
        if i == 4:
            _h2_cached_scale.cache_clear()
        yield {"out": f(x)}


@program(5)
def h2_generator_in_object_attribute(C):
    class Sched:
        def __init__(self):
            self.values = (0.1 * 0.5 ** i for i in range(100))
    s = Sched()

    def f(x):
        return x * next(s.values)
    f = C(f)
    for x in batches(995, 5, 3):
        yield {"out": f(x)}


@program(7)
def h2_exception_on_some_calls(C):
    cfg = types.SimpleNamespace(strict=False)

    def f(x):
        if cfg.strict and x.shape[0] > 2:
            raise ValueError("batch too large in strict mode")
        return x.sum(0)
    f = C(f)
    for i in range(6):
        cfg.strict = i in (2, 3)
        x = T(996 + i, 3 if i % 2 else 2, 4)
        yield {"out": attempt(f, x)}


@program(3)
def h2_compiled_method_two_instances(C):
    class Head(nn.Module):
        def __init__(self, k):
            super().__init__()
            self.lin = nn.Linear(3, 2)
            self.k = k

        @C
        def score(self, x):
            with tt.no_grad():
                return self.lin(x) * self.k
    tt.manual_seed(997)
    a, b = Head(1.0), Head(-2.0)
    for i, x in enumerate(batches(997, 6, 4, 3)):
        m = a if i % 2 else b
        if i == 4:
            a.k = 3.0
        yield {"out": m.score(x)}


@program(9)
def h2_state_dict_reset_between_calls(C):
    tt.manual_seed(998)
    model = mlp(3, 4, 1)
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    step = C(sgd_step(model, opt))
    for i, (x, y) in enumerate(zip(batches(998, 6, 5, 3), batches(999, 6, 5, 1))):
        if i == 3:
            model.load_state_dict(saved)
        yield {"out": step(x, y), "model": model}


@program(3)
def h2_grad_hook_clips_registered_before(C):
    w = T(1000, 4, requires_grad=True)
    w.register_hook(lambda g: g.clamp(-0.5, 0.5))

    def step(x):
        loss = (x * w).pow(2).sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(0.1 * w.grad)
        w.grad = None
        return loss
    step = C(step)
    for x in batches(1000, 5, 4, scale=3.0):
        yield {"out": step(x), "w": w}


@program(3)
def h2_two_backwards_retain_graph_inside(C):
    w = T(1001, 3, requires_grad=True)

    def step(x):
        h = (x * w).tanh()
        a, b = h.sum(), h.pow(2).sum()
        a.backward(retain_graph=True)
        b.backward()
        with tt.no_grad():
            w.sub_(0.1 * w.grad)
        w.grad = None
        return a.detach(), b.detach()
    step = C(step)
    for x in batches(1001, 5, 3):
        yield {"out": step(x), "w": w}


@program(9)
def h2_clip_grad_value_and_loss_scale_arg(C):
    tt.manual_seed(1002)
    model = mlp(3, 4, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.05)

    def step(x, y, scale):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y) * scale
        loss.backward()
        nn.utils.clip_grad_value_(model.parameters(), 0.1)
        opt.step()
        return loss / scale
    step = C(step)
    for i, (x, y) in enumerate(zip(batches(1002, 6, 5, 3), batches(1003, 6, 5, 2))):
        scale = tt.tensor(np.float32(2.0 ** (i % 3)))
        yield {"out": step(x, y, scale), "model": model}


@program(1)
def h2_view_chain_inplace_on_param(C):
    w = T(1004, 6, 4, requires_grad=True)

    def step(x):
        loss = (x @ w).pow(2).mean()
        loss.backward()
        with tt.no_grad():
            w.view(4, 6)[1:3].mul_(0.9)
            w.t()[::2].sub_(0.05 * w.grad.t()[::2])
        w.grad = None
        return loss
    step = C(step)
    for x in batches(1004, 5, 3, 6):
        yield {"out": step(x), "w": w}


@program(5)
def h2_multiprocessing_value_lr(C):
    import multiprocessing
    lr = multiprocessing.Value("d", 0.1, lock=False)
    w = T(1006, 3, requires_grad=True)

    def step(x):
        loss = (x * w).pow(2).sum()
        loss.backward()
        with tt.no_grad():
            w.sub_(lr.value * w.grad)
        w.grad = None
        return loss
    step = C(step)
    for i, x in enumerate(batches(1006, 6, 3)):
        if i == 3:
            lr.value = 0.001
        yield {"out": step(x), "w": w}


@program(5)
def h2_numpy_float64_zero_to_negative_zero(C):
    cfg = {"shift": np.float64(0.0)}

    def f(x):
        return x.abs() * cfg["shift"]
    f = C(f)
    for i, x in enumerate(batches(1007, 6, 3)):
        if i == 3:
            cfg["shift"] = np.float64(-0.0)
        yield {"out": f(x)}


@program(5)
def h2_memoryview_flags(C):
    buf = bytearray(b"\x00\x00")
    flags = memoryview(buf)

    def f(x):
        return x.relu() if flags[0] == 0 else x.tanh()
    f = C(f)
    for i, x in enumerate(batches(1008, 6, 3)):
        if i == 3:
            buf[0] = 1
        yield {"out": f(x)}


@program(5)
def h2_helper_code_hot_reloaded(C):
    def act(h):
        return h.relu()

    def f(x):
        return act(x) * 2.0
    f = C(f)
    for i, x in enumerate(batches(1009, 6, 3)):
        if i == 3:  # what IPython's autoreload does to an edited function
            act.__code__ = (lambda h: h.tanh()).__code__
        yield {"out": f(x)}


@program(5)
def h2_compiled_function_code_hot_reloaded(C):
    def f(x):
        return x.relu() * 2.0
    g = C(f)
    for i, x in enumerate(batches(1010, 6, 3)):
        if i == 3:
            f.__code__ = (lambda x: x.sigmoid() * 2.0).__code__
        yield {"out": g(x)}


@program(6)
def h2_return_activation_with_retained_grad(C):
    w = T(1011, 3, 4, requires_grad=True)

    def gradcam(x):
        act = x @ w
        act.retain_grad()
        act.relu().sum().backward()
        w.grad = None
        return act
    gradcam = C(gradcam)
    for x in batches(1011, 5, 2, 3):
        act = gradcam(x)
        yield {"out": act, "meta": _h2_out_meta(act)}


# --------------------------------------------------------------- h3: guard holes, realistic loops
import collections  # noqa: E402


class _H3Cfg:
    def __init__(self, k):
        self.k = k


@program(5)
def h3_set_of_objects_attr(C):
    c = _H3Cfg(2.0)
    scalers = {c}

    def f(x):
        for s in scalers:
            x = x * s.k
        return x
    f = C(f)
    for i, x in enumerate(batches(3001, 6, 3)):
        if i == 3:
            c.k = 3.0
        yield {"out": f(x)}


@program(5)
def h3_frozenset_of_objects_attr(C):
    c = _H3Cfg(2.0)
    scalers = frozenset([c])

    def f(x):
        for s in scalers:
            x = x * s.k
        return x
    f = C(f)
    for i, x in enumerate(batches(3002, 6, 3)):
        if i == 3:
            c.k = 0.5
        yield {"out": f(x)}


@program(5)
def h3_dict_key_object_attr(C):
    c = _H3Cfg(2.0)
    weights = {c: 1.0}

    def f(x):
        out = x * 0.0
        for k, v in weights.items():
            out = out + x * (k.k * v)
        return out
    f = C(f)
    for i, x in enumerate(batches(3003, 6, 3)):
        if i == 3:
            c.k = 5.0
        yield {"out": f(x)}


@program(5)
def h3_tuple_dict_key_object(C):
    c = _H3Cfg(1.5)
    table = {("lin", c): 2.0}

    def f(x):
        for (name, cfg), v in table.items():
            x = x * cfg.k + v
        return x
    f = C(f)
    for i, x in enumerate(batches(3004, 6, 3)):
        if i == 3:
            c.k = -1.0
        yield {"out": f(x)}


@program(5)
def h3_set_zero_sign(C):
    vals = {0.0}

    def f(x):
        for v in vals:
            x = x * v
        return 1.0 / x
    f = C(f)
    for i, x in enumerate(batches(3005, 6, 3)):
        if i == 3:
            vals.clear()
            vals.add(-0.0)
        yield {"out": f(x)}


@program(5)
def h3_set_one_vs_true(C):
    flags = {1}

    def f(x):
        for v in flags:
            if type(v) is bool:
                return x.relu()
        return x.tanh()
    f = C(f)
    for i, x in enumerate(batches(3006, 6, 3)):
        if i == 3:
            flags.clear()
            flags.add(True)
        yield {"out": f(x)}


class _H3Liar:
    def __init__(self, v):
        self.v = v

    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0


@program(5)
def h3_set_eq_liar_swapped(C):
    s = {_H3Liar(2.0)}

    def f(x):
        return x * next(iter(s)).v
    f = C(f)
    for i, x in enumerate(batches(3007, 6, 3)):
        if i == 3:
            s.clear()
            s.add(_H3Liar(7.0))
        yield {"out": f(x)}


@program(5)
def h3_set_elem_iter_only(C):
    s = {_H3Liar(2.0)}

    def f(x):
        for e in s:
            x = x * e.v
        return x
    f = C(f)
    for i, x in enumerate(batches(3008, 6, 3)):
        if i == 3:
            s.clear()
            s.add(_H3Liar(7.0))
        yield {"out": f(x)}


class _H3Meta(type):
    scale = 2.0


class _H3WithMeta(metaclass=_H3Meta):
    pass


@program(5)
def h3_metaclass_attr(C):
    def f(x):
        return x * _H3WithMeta.scale
    f = C(f)
    for i, x in enumerate(batches(3009, 6, 3)):
        if i == 3:
            _H3Meta.scale = 3.0
        yield {"out": f(x)}
    _H3Meta.scale = 2.0


class _H3MetaP(type):
    factor = 1.0

    @property
    def gain(cls):
        return cls.factor * 2.0


class _H3WithMetaP(metaclass=_H3MetaP):
    pass


@program(5)
def h3_metaclass_property(C):
    def f(x):
        return x * _H3WithMetaP.gain
    f = C(f)
    for i, x in enumerate(batches(3010, 6, 3)):
        if i == 3:
            _H3MetaP.factor = 4.0
        yield {"out": f(x)}
    _H3MetaP.factor = 1.0


@program(5)
def h3_defaultdict_factory(C):
    d = collections.defaultdict(lambda: 1.0)

    def f(x):
        return x * d.default_factory()
    f = C(f)
    for i, x in enumerate(batches(3011, 6, 3)):
        if i == 3:
            d.default_factory = lambda: 3.0
        yield {"out": f(x)}


@program(5)
def h3_defaultdict_missing_key(C):
    d = collections.defaultdict(float)
    d["a"] = 2.0

    def f(x):
        return x * (d.get("a") if "b" not in d else 0.0) + x * float(len(d))
    f = C(f)
    for i, x in enumerate(batches(3012, 6, 3)):
        if i == 3:
            d.default_factory = int
        yield {"out": f(x), "d": dict(d)}


@program(5)
def h3_dict_values_view(C):
    cfg = {"a": 1.0, "b": 2.0}
    vals = cfg.values()

    def f(x):
        for v in vals:
            x = x * v
        return x
    f = C(f)
    for i, x in enumerate(batches(3013, 6, 3)):
        if i == 3:
            cfg["b"] = 5.0
        yield {"out": f(x)}


@program(5)
def h3_dict_items_view_of_attr(C):
    class Holder:
        pass
    h = Holder()
    backing = {"w": 0.5}
    h.items = backing.items()

    def f(x):
        for k, v in h.items:
            x = x * v
        return x
    f = C(f)
    for i, x in enumerate(batches(3014, 6, 3)):
        if i == 3:
            backing["w"] = 4.0
        yield {"out": f(x)}


@program(5)
def h3_object_ndarray_cfg(C):
    c = _H3Cfg(2.0)
    table = np.array([c, None], dtype=object)

    def f(x):
        return x * table[0].k
    f = C(f)
    for i, x in enumerate(batches(3015, 6, 3)):
        if i == 3:
            c.k = 9.0
        yield {"out": f(x)}


@program(5)
def h3_object_ndarray_tensor(C):
    w = T(3016, 3, 3)
    table = np.empty(1, dtype=object)
    table[0] = w

    def f(x):
        return x @ table[0]
    f = C(f)
    for i, x in enumerate(batches(3016, 6, 2, 3)):
        if i == 3:
            w.mul_(2.0)
        yield {"out": f(x), "w": w}


class _H3Float(float):
    pass


@program(5)
def h3_float_subclass_attr(C):
    lr = _H3Float(0.5)
    lr.warm = 1.0

    def f(x):
        return x * (float(lr) * lr.warm)
    f = C(f)
    for i, x in enumerate(batches(3017, 6, 3)):
        if i == 3:
            lr.warm = 0.1
        yield {"out": f(x)}


class _H3LyingInt(int):
    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0


@program(5)
def h3_int_subclass_lying_eq(C):
    box = [_H3LyingInt(2)]

    def f(x):
        return x * int(box[0])
    f = C(f)
    for i, x in enumerate(batches(3018, 6, 3)):
        if i == 3:
            box[0] = _H3LyingInt(5)
        yield {"out": f(x)}


class _H3LenList(list):
    def __len__(self):
        return 1


@program(5)
def h3_list_subclass_lying_len(C):
    layers = _H3LenList([2.0])

    def f(x):
        for s in list.__iter__(layers):
            x = x * s
        return x
    f = C(f)
    for i, x in enumerate(batches(3019, 6, 3)):
        if i == 3:
            layers.append(3.0)
        yield {"out": f(x)}


@program(5)
def h3_sys_modules_lookup(C):
    m1 = types.ModuleType("_h3_cfgmod")
    m1.scale = 2.0
    m2 = types.ModuleType("_h3_cfgmod")
    m2.scale = 5.0
    sys.modules["_h3_cfgmod"] = m1

    def f(x):
        return x * sys.modules["_h3_cfgmod"].scale
    f = C(f)
    for i, x in enumerate(batches(3020, 6, 3)):
        if i == 3:
            sys.modules["_h3_cfgmod"] = m2
        yield {"out": f(x)}
    sys.modules.pop("_h3_cfgmod", None)


@program(5)
def h3_sys_modules_import_inside(C):
    m1 = types.ModuleType("_h3_cfgmod2")
    m1.scale = 2.0
    m2 = types.ModuleType("_h3_cfgmod2")
    m2.scale = 5.0
    sys.modules["_h3_cfgmod2"] = m1

    def f(x):
        import _h3_cfgmod2
        return x * _h3_cfgmod2.scale
    f = C(f)
    for i, x in enumerate(batches(3021, 6, 3)):
        if i == 3:
            sys.modules["_h3_cfgmod2"] = m2
        yield {"out": f(x)}
    sys.modules.pop("_h3_cfgmod2", None)


@program(5)
def h3_decimal_context(C):
    import decimal
    ctx = decimal.Context(prec=2)

    def f(x):
        return x * float(ctx.create_decimal("1.2345"))
    f = C(f)
    for i, x in enumerate(batches(3022, 6, 3)):
        if i == 3:
            ctx.prec = 4
        yield {"out": f(x)}


@program(5)
def h3_partialmethod_layer(C):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.alpha = 0.1

        def act(self, h, slope):
            return F.leaky_relu(h, slope)
        act_std = functools.partialmethod(act, slope=0.1)

        def forward(self, x):
            return self.act_std(self.fc(x))
    net = Net()
    f = C(net)
    for i, x in enumerate(batches(3023, 6, 2, 3)):
        if i == 3:
            Net.act_std = functools.partialmethod(Net.act, slope=0.3)
        with tt.no_grad():
            yield {"out": f(x)}


@program(5)
def h3_methodcaller_attrgetter(C):
    c = _H3Cfg(2.0)
    get = operator.attrgetter("k")
    call = operator.methodcaller("mul", 3.0)

    def f(x):
        return call(x) * get(c)
    f = C(f)
    for i, x in enumerate(batches(3024, 6, 3)):
        if i == 3:
            c.k = 0.25
        yield {"out": f(x)}


@program(5)
def h3_chainmap_cfg(C):
    defaults = {"scale": 1.0}
    over = {}
    cfg = collections.ChainMap(over, defaults)

    def f(x):
        return x * cfg["scale"]
    f = C(f)
    for i, x in enumerate(batches(3025, 6, 3)):
        if i == 3:
            over["scale"] = 2.0
        yield {"out": f(x)}


@program(5)
def h3_ordereddict_move_to_end(C):
    acts = collections.OrderedDict([("relu", F.relu), ("tanh", tt.tanh)])

    def f(x):
        for fn in acts.values():
            x = fn(x) * 2.0
        return x
    f = C(f)
    for i, x in enumerate(batches(3026, 6, 3)):
        if i == 3:
            acts.move_to_end("relu")
        yield {"out": f(x)}


@program(5)
def h3_heapq_schedule(C):
    import heapq
    sched = [(10, 0.1), (20, 0.01)]
    heapq.heapify(sched)

    def f(x):
        return x * sched[0][1]
    f = C(f)
    for i, x in enumerate(batches(3027, 6, 3)):
        if i == 3:
            heapq.heappush(sched, (1, 0.5))
        yield {"out": f(x)}


@program(5)
def h3_structured_ndarray(C):
    hp = np.zeros(1, dtype=[("lr", "f8"), ("wd", "f4")])
    hp["lr"] = 0.1
    model = mlp(3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y) * float(hp["lr"][0])
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, (x, y) in enumerate(zip(batches(3028, 6, 4, 3), batches(3029, 6, 4, 2))):
        if i == 3:
            hp[0]["lr"] = 0.5
        yield {"out": step(x, y), "model": model}


@program(5)
def h3_dataclass_tensors_in_list(C):
    @dataclasses.dataclass
    class Layer:
        w: object
        b: object
        scale: float = 1.0
    layers = [Layer(T(3030 + i, 3, 3), T(3040 + i, 3)) for i in range(2)]

    def f(x):
        for L in layers:
            x = (x @ L.w + L.b) * L.scale
        return x
    f = C(f)
    for i, x in enumerate(batches(3030, 6, 2, 3)):
        if i == 2:
            layers[1].scale = 0.5
        if i == 4:
            layers[0].w = T(3099, 3, 3)
        yield {"out": f(x)}


@program(5)
def h3_nonpersistent_buffer(C):
    class Norm(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", tt.zeros(3), persistent=False)
            self.register_buffer("std", tt.ones(3))

        def forward(self, x):
            return (x - self.mean) / self.std
    m = Norm()
    f = C(m)
    for i, x in enumerate(batches(3031, 6, 2, 3)):
        if i == 2:
            m.mean.add_(1.0)
        if i == 4:
            m._buffers["mean"] = tt.full((3,), 2.0)
        yield {"out": f(x), "m": m}


@program(5)
def h3_param_groups_append_remove(C):
    a = nn.Linear(3, 3)
    b = nn.Linear(3, 2)
    opt = tt.optim.SGD(a.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(b(a(x)), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, (x, y) in enumerate(zip(batches(3032, 7, 4, 3), batches(3033, 7, 4, 2))):
        if i == 2:
            opt.add_param_group({"params": list(b.parameters()), "lr": 0.05})
        if i == 5:
            opt.param_groups.pop(0)
        yield {"out": step(x, y), "a": a, "b": b, "opt": opt}


@program(5)
def h3_optimizer_state_cleared(C):
    model = mlp(3, 4, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    step = C(sgd_step(model, opt))
    for i, (x, y) in enumerate(zip(batches(3034, 7, 4, 3), batches(3035, 7, 4, 2))):
        if i == 3:
            opt.state.clear()
        yield {"out": step(x, y), "model": model, "opt": opt}


@program(5)
def h3_rmsprop_state_dict_reload(C):
    model = mlp(3, 4, 2)
    opt = tt.optim.RMSprop(model.parameters(), lr=0.01)
    step = C(sgd_step(model, opt))
    saved = None
    for i, (x, y) in enumerate(zip(batches(3036, 8, 4, 3), batches(3037, 8, 4, 2))):
        if i == 2:
            saved = (model.state_dict(), opt.state_dict())
            saved = ({k: v.clone() for k, v in saved[0].items()}, saved[1])
        if i == 5:
            model.load_state_dict(saved[0])
        yield {"out": attempt(step, x, y), "model": model}


@program(5)
def h3_weight_tying_data_shared(C):
    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Linear(4, 3, bias=False)
            self.out = nn.Linear(3, 4, bias=False)
            self.out.weight.data = self.emb.weight.data.t()

        def forward(self, x):
            return self.out(self.emb(x).tanh())
    m = LM()
    opt = tt.optim.SGD(m.parameters(), lr=0.1)
    step = C(sgd_step(m, opt))
    for i, (x, y) in enumerate(zip(batches(3038, 6, 2, 4), batches(3039, 6, 2, 4))):
        yield {"out": step(x, y), "m": m}


@program(5)
def h3_weight_tying_param_shared(C):
    emb = nn.Linear(4, 4, bias=False)
    head = nn.Linear(4, 4, bias=False)
    model = nn.Sequential(emb, nn.Tanh(), head)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    step = C(sgd_step(model, opt))
    for i, (x, y) in enumerate(zip(batches(3040, 7, 2, 4), batches(3041, 7, 2, 4))):
        if i == 3:
            head.weight = emb.weight
        yield {"out": step(x, y), "model": model}


@program(5)
def h3_nested_args(C):
    w = T(3042, 3, 3, requires_grad=True)

    def f(batch, cfg):
        (x, (y, m)), d = batch
        loss = ((x @ w - y) * m).pow(2).sum() * cfg["s"] + d["bias"].sum()
        loss.backward()
        return loss, {"g": w.grad}
    f = C(f)
    for i, (x, y) in enumerate(zip(batches(3042, 6, 2, 3), batches(3043, 6, 2, 3))):
        m = tt.ones(2, 3)
        w.grad = None
        yield {"out": f(((x, (y, m)), {"bias": x}), {"s": 0.5 if i < 3 else 2.0}), "w": w}


@program(5)
def h3_closure_loop_vars(C):
    fs = []
    for k in (1.0, 2.0, 3.0):
        fs.append(lambda x, k=k: x * k)
    gs = [lambda x: x * k for k in (1.0, 2.0)]  # late binding: all 2.0

    def f(x):
        for g in fs + gs:
            x = g(x)
        return x
    f = C(f)
    for i, x in enumerate(batches(3044, 6, 3)):
        if i == 3:
            fs[1].__defaults__ = (5.0,)
        yield {"out": f(x)}


@program(5)
def h3_nonlocal_rebind(C):
    scale = 1.0

    def set_scale(v):
        nonlocal scale
        scale = v

    def f(x):
        return x * scale
    f = C(f)
    for i, x in enumerate(batches(3045, 6, 3)):
        set_scale(float(i // 2))
        yield {"out": f(x)}


@program(5)
def h3_random_instance_on_obj(C):
    class Aug:
        def __init__(self):
            self.rng = random.Random(0)

        def __call__(self, x):
            return x * (1.0 + self.rng.random())
    aug = Aug()
    f = C(lambda x: aug(x))
    for x in batches(3046, 5, 3):
        yield {"out": f(x)}


@program(5)
def h3_scheduler_clip_train(C):
    model = mlp(3, 5, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = tt.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    def step(x, y):
        opt.zero_grad()
        loss = F.l1_loss(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        return loss
    step = C(step)
    for i, (x, y) in enumerate(zip(batches(3047, 7, 4, 3), batches(3048, 7, 4, 2))):
        out = step(x, y)
        sched.step()
        yield {"out": out, "model": model, "opt": opt}


@program(5)
def h3_cross_entropy_train_eval(C):
    model = mlp(4, 6, 3, dropout=None)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y, train):
        model.train(train)
        if train:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        with tt.no_grad():
            return F.log_softmax(model(x), dim=1).argmax(dim=1)
    step = C(step)
    ys = [tt.tensor(np.array([0, 1, 2, 1]), dtype=tt.int64) for _ in range(6)]
    for i, (x, y) in enumerate(zip(batches(3049, 6, 4, 4), ys)):
        yield {"out": step(x, y, i % 2 == 0), "model": model}


@program(5)
def h3_bce_nll_mixed_dtype(C):
    w = T(3050, 3, 2, requires_grad=True)
    w64 = T(3051, 3, 2, dtype=np.float64, requires_grad=True)

    def f(x, t):
        p = tt.sigmoid(x @ w)
        l1 = F.binary_cross_entropy(p, t)
        lp = F.log_softmax(x.double() @ w64, dim=1)
        l2 = F.nll_loss(lp, tt.tensor(np.array([0, 1, 1, 0]), dtype=tt.int64))
        (l1 + l2.float()).backward()
        return l1, l2
    f = C(f)
    for x in batches(3050, 5, 4, 3):
        w.grad = None
        w64.grad = None
        t = tt.tensor((arr(7, 4, 2) > 0).astype(np.float32))
        yield {"out": f(x, t), "w": w, "w64": w64}


@program(5)
def h3_forward_hook_toggle(C):
    model = mlp(3, 4, 2)
    calls = []
    state = {"scale": 1.0}

    def hook(mod, inp, out):
        return out * state["scale"]
    h = model[0].register_forward_hook(hook)
    f = C(lambda x: model(x))
    for i, x in enumerate(batches(3052, 7, 2, 3)):
        if i == 2:
            state["scale"] = 2.0
        if i == 4:
            h.remove()
        with tt.no_grad():
            yield {"out": f(x)}


@program(5)
def h3_tensor_hook_on_param_swapped(C):
    model = mlp(3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    factor = [1.0]
    model[0].weight.register_hook(lambda g: g * factor[0])
    step = C(sgd_step(model, opt))
    for i, (x, y) in enumerate(zip(batches(3053, 6, 4, 3), batches(3054, 6, 4, 2))):
        if i == 3:
            factor[0] = 10.0
        yield {"out": step(x, y), "model": model}


@program(5)
def h3_class_attr_via_type(C):
    class Block(nn.Module):
        eps = 1e-5

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            h = self.fc(x)
            return h / (h.pow(2).mean(dim=1, keepdim=True) + type(self).eps).sqrt()
    b = Block()
    f = C(b)
    for i, x in enumerate(batches(3055, 6, 2, 3)):
        if i == 3:
            type(b).eps = 10.0
        with tt.no_grad():
            yield {"out": f(x)}


@program(5)
def h3_slots_and_dict_mix(C):
    class Base:
        __slots__ = ("a",)

    class Mixed(Base):
        pass
    o = Mixed()
    o.a = 2.0
    o.b = 1.0

    def f(x):
        return x * o.a + o.b
    f = C(f)
    for i, x in enumerate(batches(3056, 6, 3)):
        if i == 2:
            o.a = 3.0
        if i == 4:
            o.b = -1.0
        yield {"out": f(x)}


@program(5)
def h3_generator_expression_over_param_groups(C):
    model = mlp(3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        for g in opt.param_groups:
            g["lr"] = g["lr"] * 1.0
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, (x, y) in enumerate(zip(batches(3057, 6, 4, 3), batches(3058, 6, 4, 2))):
        if i == 3:
            opt.param_groups[0]["lr"] = 0.01
        yield {"out": step(x, y), "model": model}




@program(5)
def h3_tensor_only_in_set(C):
    w = T(3060, 3, 3)
    params = {w}

    def f(x):
        for p in params:
            x = x @ p
        return x
    f = C(f)
    for i, x in enumerate(batches(3060, 6, 2, 3)):
        if i == 3:
            w.mul_(2.0)
        yield {"out": f(x), "w": w}


@program(5)
def h3_meter_in_set_counts_calls(C):
    class Meter:
        def __init__(self):
            self.n = 0
    m = Meter()
    meters = {m}

    def f(x):
        for mt in meters:
            mt.n += 1
        return x * 2.0
    f = C(f)
    for x in batches(3061, 6, 3):
        yield {"out": f(x), "n": m.n}


@program(5)
def h3_weakkeydict_cfg(C):
    import weakref
    c = _H3Cfg(2.0)
    reg = weakref.WeakKeyDictionary()
    reg[c] = 1.0

    def f(x):
        for k, v in reg.items():
            x = x * (k.k + v)
        return x
    f = C(f)
    for i, x in enumerate(batches(3062, 6, 3)):
        if i == 3:
            c.k = 4.0
        yield {"out": f(x)}


@program(5)
def h3_getattr_library_module_dynamic(C):
    names = ["tan" + "h"]
    orig = tt.tanh

    def f(x):
        return getattr(tt, names[0])(x) * 2.0
    f = C(f)
    try:
        for i, x in enumerate(batches(3063, 6, 3)):
            if i == 3:
                tt.tanh = tt.sigmoid
            yield {"out": f(x)}
    finally:
        tt.tanh = orig


@program(5)
def h3_builtin_shadowed_in_namespace(C):
    ns = {"F": F}
    exec("def f(x, ws):\n    return x * float(len(ws))\n", ns)
    ws = [1.0, 2.0]
    f = C(ns["f"])
    for i, x in enumerate(batches(3064, 6, 3)):
        if i == 3:
            ns["len"] = lambda s: 7
        yield {"out": f(x, ws)}


@program(5)
def h3_builtins_monkeypatched(C):
    import builtins as _b
    orig = _b.abs
    c = _H3Cfg(-2.0)

    def f(x):
        return x * abs(c.k)
    f = C(f)
    try:
        for i, x in enumerate(batches(3065, 6, 3)):
            if i == 3:
                _b.abs = lambda v: 10.0
            yield {"out": f(x)}
    finally:
        _b.abs = orig


@program(5)
def h3_str_subclass_attr(C):
    class Act(str):
        pass
    act = Act("leaky")
    act.slope = 0.1

    def f(x):
        return F.leaky_relu(x, act.slope) if act == "leaky" else x.relu()
    f = C(f)
    for i, x in enumerate(batches(3066, 6, 3)):
        if i == 3:
            act.slope = 0.5
        yield {"out": f(x)}


@program(5)
def h3_intenum_member_attr(C):
    import enum

    class Mode(enum.IntEnum):
        TRAIN = 0
        EVAL = 1
    Mode.TRAIN.scale = 1.0
    cfg = types.SimpleNamespace(mode=Mode.TRAIN)

    def f(x):
        return x * cfg.mode.scale
    f = C(f)
    for i, x in enumerate(batches(3067, 6, 3)):
        if i == 3:
            Mode.TRAIN.scale = 3.0
        yield {"out": f(x)}


@program(5)
def h3_metaclass_counter_each_call(C):
    class Meta(type):
        calls = 0

    class Tracker(metaclass=Meta):
        pass

    def f(x):
        type(Tracker).calls += 1
        return x + 1.0
    f = C(f)
    for x in batches(3068, 6, 3):
        yield {"out": f(x), "calls": Meta.calls}


@program(5)
def h3_dict_key_meter_each_call(C):
    class Meter:
        def __init__(self):
            self.total = 0.0

        def __hash__(self):
            return 1
    m = Meter()
    d = {m: "loss"}

    def f(x, y):
        loss = F.mse_loss(x, y)
        for k in d:
            k.total += 1.0
        return loss
    f = C(f)
    for x, y in zip(batches(3069, 6, 4), batches(3070, 6, 4)):
        yield {"out": f(x, y), "total": m.total}


@program(5)
def h3_object_array_tensor_compile(C):
    w = T(3071, 3, 3)
    table = np.empty(2, dtype=object)
    table[0] = w
    table[1] = "x"

    def f(x):
        return x * 2.0 if table[1] == "x" else x
    f = C(f)
    for x in batches(3071, 4, 3):
        yield {"out": f(x)}


@program(5)
def h3_defaultdict_factory_in_module_config(C):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)
            self.scales = collections.defaultdict(lambda: 1.0)

        def forward(self, x):
            return self.fc(x) * self.scales.default_factory()
    net = Net()
    f = C(net)
    for i, x in enumerate(batches(3072, 6, 2, 3)):
        if i == 3:
            net.scales.default_factory = lambda: 0.5
        with tt.no_grad():
            yield {"out": f(x)}


@program(5)
def h3_momentum_nesterov_wd_train(C):
    model = mlp(4, 6, 3)
    opt = tt.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
    sched = tt.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5)

    def step(x, y):
        opt.zero_grad(set_to_none=True)
        out = model(x)
        loss = -(F.log_softmax(out, dim=1) * y).sum(dim=1).mean()
        loss.backward()
        opt.step()
        return loss, F.softmax(out, dim=1)
    step = C(step)
    ys = [tt.tensor(np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]) for _ in range(7)]
    for x, y in zip(batches(3073, 7, 4, 4), ys):
        r = step(x, y)
        sched.step()
        yield {"out": r, "model": model, "opt": opt}


@program(5)
def h3_grad_accum_clip_halfway(C):
    model = mlp(3, 4, 1)
    opt = tt.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.5)

    def micro(x, y, last):
        loss = F.l1_loss(model(x), y) / 2.0
        loss.backward()
        if last:
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad()
        return loss
    micro = C(micro)
    for i, (x, y) in enumerate(zip(batches(3074, 8, 4, 3), batches(3075, 8, 4, 1))):
        yield {"out": micro(x, y, i % 2 == 1), "model": model}




@program(5)
def h3_freeze_layer_midway(C):
    model = mlp(3, 4, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    step = C(sgd_step(model, opt))
    for i, (x, y) in enumerate(zip(batches(3080, 7, 4, 3), batches(3081, 7, 4, 2))):
        if i == 3:
            for p in model[0].parameters():
                p.requires_grad_(False)
                p.grad = None
        yield {"out": step(x, y), "model": model, "opt": opt}


@program(5)
def h3_param_data_swap_and_grad_set(C):
    model = mlp(3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = C(step)
    for i, (x, y) in enumerate(zip(batches(3082, 7, 4, 3), batches(3083, 7, 4, 2))):
        if i == 2:
            model[0].weight.data = T(3084, 2, 3)
        if i == 4:
            model[0].weight.grad = T(3085, 2, 3)
        yield {"out": step(x, y), "model": model}


@program(5)
def h3_lambdalr_closure_list(C):
    model = mlp(3, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    factors = [1.0, 0.5, 0.25, 0.1, 0.1, 0.1, 0.1, 0.1]
    sched = tt.optim.lr_scheduler.LambdaLR(opt, lambda e: factors[e])
    step = C(sgd_step(model, opt, functools.partial(F.mse_loss, reduction="sum")))
    for i, (x, y) in enumerate(zip(batches(3086, 7, 4, 3), batches(3087, 7, 4, 2))):
        out = step(x, y)
        sched.step()
        yield {"out": out, "model": model, "lr": opt.param_groups[0]["lr"]}


@program(5)
def h3_module_dict_swap_head(C):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk = nn.Linear(3, 4)
            self.heads = nn.ModuleDict({"a": nn.Linear(4, 2), "b": nn.Linear(4, 2)})
            self.task = "a"

        def forward(self, x):
            return self.heads[self.task](self.trunk(x).relu())
    net = Net()
    opt = tt.optim.SGD(net.parameters(), lr=0.1)
    step = C(sgd_step(net, opt, F.l1_loss))
    for i, (x, y) in enumerate(zip(batches(3088, 7, 4, 3), batches(3089, 7, 4, 2))):
        if i == 3:
            net.task = "b"
        if i == 5:
            net.heads["a"], net.heads["b"] = net.heads["b"], net.heads["a"]
        yield {"out": step(x, y), "net": net}


@program(5)
def h3_parameterlist_append(C):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([nn.Parameter(T(3090, 3, 3))])

        def forward(self, x):
            for w in self.ws:
                x = (x @ w).tanh()
            return x
    net = Net()
    f = C(lambda x: net(x).sum())
    for i, x in enumerate(batches(3090, 6, 2, 3)):
        if i == 3:
            net.ws.append(nn.Parameter(T(3091, 3, 3)))
        with tt.no_grad():
            yield {"out": f(x)}


@program(5)
def h3_ema_of_weights_inplace(C):
    model = mlp(3, 2)
    ema = mlp(3, 2)
    ema.load_state_dict(model.state_dict())
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    decay = {"d": 0.9}

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        with tt.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(decay["d"]).add_(pm, alpha=1 - decay["d"])
        return loss
    step = C(step)
    for i, (x, y) in enumerate(zip(batches(3092, 7, 4, 3), batches(3093, 7, 4, 2))):
        if i == 4:
            decay["d"] = 0.5
        yield {"out": step(x, y), "model": model, "ema": ema}


@program(5)
def h3_eval_no_grad_returns_softmax_inputs(C):
    model = mlp(4, 3)

    @functools.wraps(model.forward)
    def predict(x, temp):
        model.eval()
        with tt.no_grad():
            logits = model(x) / temp
            return F.softmax(logits, dim=-1), logits
    predict = C(predict)
    for i, x in enumerate(batches(3094, 6, 2, 4)):
        yield {"out": predict(x, 1.0 if i < 3 else 2), "model": model}


@program(5)
def h3_tensor_in_dict_arg_mutated_inplace(C):
    w = T(3095, 3, 3, requires_grad=True)

    def f(batch):
        batch["x"].mul_(0.5)
        loss = (batch["x"] @ w).sum()
        loss.backward()
        return batch["x"], loss
    f = C(f)
    for x in batches(3095, 6, 2, 3):
        w.grad = None
        b = {"x": x}
        yield {"out": f(b), "x": x, "w": w}


# --------------------------------------------------------------------------- pytest


def _sampled(names, per_class=4):
    """The default run takes the first few programs of each class (its name's prefix);
    ``pytest -m slow`` runs the rest (each compiles a program of its own with numba)."""
    seen = {}
    params = []
    for name in names:
        prefix = name.split("_")[0]
        seen[prefix] = seen.get(prefix, 0) + 1
        params.append(pytest.param(name, marks=() if seen[prefix] <= per_class else pytest.mark.slow))
    return params


@pytest.mark.parametrize("name", _sampled(PROGRAMS))
def test_program(name):
    outcome, detail = run_program(name)
    assert outcome in ("same", "refused"), f"{name}: {outcome} ({detail})"
