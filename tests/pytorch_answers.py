"""PyTorch's answers as data, so that every comparison with PyTorch runs without it.

A test asks ``pytorch(fn, *inputs)``: the result of ``fn(torch, *inputs)`` — tensors (values,
dtype, shape, grad_fn name, requires_grad), numpy arrays, numbers, strings, tuples, lists
and dicts of them, an exception it raised (raised again here, as the nearest builtin
type with the same arguments) and the warnings it gave (given again here).  The answers
live in ``tests/fixtures/torch/<test module>.json``, one per call, keyed by the test's
name and parameters (the ``device`` parameter left out: PyTorch's side of a test runs on
the CPU for every device) and the call's number within the test, with a digest of the
inputs, so an answer recorded for other inputs is an error rather than a silent
mismatch.  ``python tools/record_torch.py`` writes them with PyTorch installed.

Where PyTorch is importable, the test also runs ``fn`` live and, when the installed version
is the one the answers came from, checks that they agree (``TINYTAPE_TORCH_LIVE=0`` turns
this off).  Importable without tinytape: numpy and the standard library only."""
import builtins
import collections
import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).parent / "fixtures" / "torch"
RECORD = os.environ.get("TINYTAPE_TORCH_RECORD", "")  # "merge" or "prune": write the answers
LIVE = os.environ.get("TINYTAPE_TORCH_LIVE", "1") != "0"
HOW_TO_RECORD = "record them with `python tools/record_torch.py` where PyTorch is installed"

_current = {"module": None, "name": None, "calls": 0}
_fixtures = {}   # module -> its fixture file's contents
_recorded = {}   # module -> {key: answer} written in this session
_torch = []      # [module or None], imported once


class Recorded:
    """A tensor PyTorch returned: its values (bfloat16 ones widened to float32, exactly),
    dtype name ("float32"), shape, grad_fn class name and requires_grad."""

    def __init__(self, values, dtype, grad_fn, requires_grad):
        self.values, self.dtype, self.grad_fn, self.requires_grad = values, dtype, grad_fn, requires_grad
        self.shape = values.shape

    def numpy(self):
        return self.values.copy()

    def tolist(self):
        return self.values.tolist()

    def item(self):
        return self.values.item()

    def numel(self):
        return self.values.size

    @property
    def is_floating_point(self):
        return self.dtype.startswith(("float", "bfloat"))

    def __repr__(self):
        return f"Recorded({self.values!r}, dtype={self.dtype}, grad_fn={self.grad_fn})"


def begin(item):
    """Called before each test (conftest): the answers that follow are this test's."""
    name = item.nodeid.split("::", 1)[1]
    device = getattr(getattr(item, "callspec", None), "params", {}).get("device")
    if isinstance(device, str) and name.endswith("]"):
        base, ids = name[:-1].split("[", 1)
        parts = ids.split("-")
        if device in parts:
            parts.remove(device)
        name = base + (f"[{'-'.join(parts)}]" if parts else "")
    _current.update(module=Path(str(item.path)).stem, name=name, calls=0)


def pytorch(fn, *inputs):
    """PyTorch's result of ``fn(torch, *inputs)``, recorded (see the module docstring).
    ``inputs`` are digested into the record; what ``fn`` reads from elsewhere must not
    change without re-recording."""
    module, key = _current["module"], _current["name"]
    if module is None:
        raise RuntimeError("pytorch() is for use inside a test")
    _current["calls"] += 1
    if _current["calls"] > 1:
        key = f"{key}#{_current['calls']}"
    digest = _digest(inputs)
    torch = _import_torch() if (LIVE or RECORD) else None
    if RECORD:
        if torch is None:
            raise RuntimeError("recording PyTorch's answers needs PyTorch")
        answer = _run(torch, fn, inputs, digest)
        earlier = _recorded.setdefault(module, {}).get(key)
        if earlier is not None and _dumps(earlier) != _dumps(answer):
            raise AssertionError(f"{module}::{key}: two different answers for one key (a device parameter's "
                                 f"variants must ask PyTorch the same): {_dumps(earlier)} != {_dumps(answer)}")
        _recorded[module][key] = answer
        return _replay(answer)
    fixture = _fixture(module)
    stored = fixture["answers"].get(key)
    if stored is not None and stored["inputs"] != digest:
        raise AssertionError(f"{module}::{key}: the inputs differ from those PyTorch's answer was recorded "
                             f"with; {HOW_TO_RECORD}")
    if torch is not None:
        answer = _run(torch, fn, inputs, digest)
        if stored is not None and fixture["torch_version"] == torch.__version__ and _dumps(stored) != _dumps(answer):
            raise AssertionError(f"{module}::{key}: PyTorch {torch.__version__} answers\n{_dumps(answer)}\n"
                                 f"where tests/fixtures/torch/{module}.json says\n{_dumps(stored)}\n{HOW_TO_RECORD}")
        return _replay(answer)
    if stored is None:
        raise AssertionError(f"no recorded PyTorch answer for {module}::{key}; {HOW_TO_RECORD}")
    return _replay(stored)


def write_recorded():
    """Write this session's answers (conftest, at the end of a recording session): merged
    into each module's file, or, with TINYTAPE_TORCH_RECORD=prune, replacing it."""
    if not RECORD or not _recorded:
        return []
    torch = _import_torch()
    FIXTURES.mkdir(parents=True, exist_ok=True)
    written = []
    for module, answers in sorted(_recorded.items()):
        path = FIXTURES / f"{module}.json"
        old = json.loads(path.read_text())["answers"] if path.exists() and RECORD != "prune" else {}
        old.update(answers)
        lines = [f"  {json.dumps(k)}: {_dumps(v)}" for k, v in sorted(old.items())]
        header = {"torch_version": torch.__version__, "numpy_version": np.__version__,
                  "recorded_by": "python tools/record_torch.py"}
        text = "{\n" + "".join(f"  {json.dumps(k)}: {json.dumps(v)},\n" for k, v in header.items())
        text += '  "answers": {\n' + ",\n".join("  " + line for line in lines) + "\n  }\n}\n"
        path.write_text(text)
        written.append(path)
    return written


# ---------------------------------------------------------------- running, encoding, replaying


def _import_torch():
    if not _torch:
        try:
            import torch
        except ImportError:
            torch = None
        _torch.append(torch)
    return _torch[0]


def _run(torch, fn, inputs, digest):
    answer = {"inputs": digest}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(torch, *inputs)
        except Exception as error:  # noqa: BLE001 - PyTorch's error is the answer
            builtin = next(c for c in type(error).__mro__ if getattr(builtins, c.__name__, None) is c)
            try:
                args = [_encode(a) for a in error.args]
            except TypeError:
                args = [str(error)]
            answer["raised"] = {"type": type(error).__name__, "builtin": builtin.__name__, "args": args}
        else:
            answer["value"] = _encode(result)
    if caught:
        answer["warnings"] = [{"category": next(c for c in w.category.__mro__ if getattr(builtins, c.__name__, None) is c)
                               .__name__, "message": str(w.message)} for w in caught]
    return answer


def _replay(answer):
    for w in answer.get("warnings", []):
        warnings.warn(w["message"], getattr(builtins, w["category"]), stacklevel=3)
    if "raised" in answer:
        raised = answer["raised"]
        raise getattr(builtins, raised["builtin"])(*[_decode(a) for a in raised["args"]])
    return _decode(answer["value"])


def _digest(inputs):
    return hashlib.sha1(_dumps(_encode(list(inputs))).encode()).hexdigest()[:16]


def _dumps(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)


def _flat(array):
    """An array's values as JSON numbers, each the shortest text that reads back to it."""
    flat = array.reshape(-1)
    if array.dtype.kind == "f":
        return [float(str(v)) if np.isfinite(v) else float(v) for v in flat]
    if array.dtype.kind in "iu":
        return [int(v) for v in flat]
    if array.dtype.kind == "b":
        return [bool(v) for v in flat]
    if array.dtype.kind == "c":  # [real, imaginary] pairs, each part as a float of its own
        return [[float(str(p)) if np.isfinite(p) else float(p) for p in (v.real, v.imag)] for v in flat]
    raise TypeError(f"can't record an array of {array.dtype}")


def _encode(obj):
    kind = type(obj).__module__.split(".")[0]
    if kind == "torch":
        import torch
        if isinstance(obj, torch.Tensor):
            t = obj.detach().cpu()
            dtype = str(t.dtype).split(".")[1]
            values = t.float().numpy() if dtype == "bfloat16" else t.resolve_conj().resolve_neg().numpy()
            return {"tensor": {"dtype": dtype, "shape": list(t.shape), "values": _flat(values),
                               "grad_fn": type(obj.grad_fn).__name__ if obj.grad_fn is not None else None,
                               "requires_grad": obj.requires_grad}}
        if isinstance(obj, torch.dtype):
            return {"dtype": str(obj).split(".")[1]}
        if isinstance(obj, torch.Size):
            return {"tuple": list(obj)}
    if isinstance(obj, np.ndarray) or isinstance(obj, np.generic):
        array = np.asarray(obj)
        return {"array" if isinstance(obj, np.ndarray) else "scalar":
                {"dtype": str(array.dtype), "shape": list(array.shape), "values": _flat(array)}}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, complex):
        return {"complex": [obj.real, obj.imag]}
    if isinstance(obj, tuple):
        encoded = {"tuple": [_encode(v) for v in obj]}
        fields = getattr(type(obj), "__match_args__", None) or getattr(type(obj), "_fields", None)
        if fields:
            encoded["fields"] = list(fields)
        return encoded
    if isinstance(obj, list):
        return [_encode(v) for v in obj]
    if isinstance(obj, dict):
        return {"dict": [[_encode(k), _encode(v)] for k, v in obj.items()]}
    raise TypeError(f"can't record a {type(obj).__module__}.{type(obj).__qualname__}: return plain data")


def _decode(obj):
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    (kind, body), = ((k, v) for k, v in obj.items() if k != "fields")
    if kind == "complex":
        return complex(*body)
    if kind == "tensor":
        dtype = body["dtype"]
        values = _array(body["values"], "float32" if dtype == "bfloat16" else dtype).reshape(body["shape"])
        return Recorded(values, dtype, body["grad_fn"], body["requires_grad"])
    if kind in ("array", "scalar"):
        values = _array(body["values"], body["dtype"]).reshape(body["shape"])
        return values if kind == "array" else values[()]
    if kind == "dtype":
        return body
    if kind == "tuple":
        items = [_decode(v) for v in body]
        if "fields" in obj:
            return collections.namedtuple("return_type", obj["fields"])(*items)
        return tuple(items)
    if kind == "dict":
        return {_decode(k): _decode(v) for k, v in body}
    raise ValueError(f"unknown recorded kind {kind!r}")


def _array(values, dtype):
    """The recorded values as an array of ``dtype``; a complex one from its [real, imaginary] pairs."""
    if not np.dtype(dtype).kind == "c":
        return np.array(values, dtype)
    parts = np.array(values, np.float32 if dtype == "complex64" else np.float64).reshape(-1, 2)
    out = np.empty(len(parts), dtype)
    out.real, out.imag = parts[:, 0], parts[:, 1]
    return out


def _fixture(module):
    if module not in _fixtures:
        path = FIXTURES / f"{module}.json"
        _fixtures[module] = json.loads(path.read_text()) if path.exists() else {"torch_version": None, "answers": {}}
    return _fixtures[module]
