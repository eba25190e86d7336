"""``save``/``load``: tensors and nested containers of them (state dicts, optimizer
state dicts, checkpoints) in a file that cannot run code when loaded.

The file is a numpy ``.npz`` archive: one array per tensor (``t0``, ``t1``, ...) and a
``__structure__`` entry, UTF-8 JSON describing the object tree — dicts (any str, int,
float, bool or None keys, order kept), lists, tuples, numbers, strings, None, tensors
(dtype, device, requires_grad, Parameter or not) and numpy arrays.  It is read with
``allow_pickle=False``.  Any other object (a whole ``nn.Module``, an instance of a class of
your own) is pickled into an entry of its own, as ``torch.save`` pickles it, and ``load``
unpickles it only when asked with ``weights_only=False``; by default it refuses such a file
with PyTorch's ``pickle.UnpicklingError``, so a default load never runs code.
"""
import io
import json
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np

from . import _dtype
from ._tensor import Tensor

_STRUCTURE = "__structure__"
_FORMAT = "tinytape.save/1"


def _encode(obj, arrays):
    if isinstance(obj, Tensor):
        from .nn.parameter import Parameter
        name = f"t{len(arrays)}"
        data = obj._backend.to_numpy(obj.detach()._data)
        node = {"tensor": name, "device": str(obj.device), "requires_grad": obj.requires_grad,
                "parameter": isinstance(obj, Parameter)}
        if data.dtype is _dtype.BFLOAT16:  # .npy has no bfloat16: its bits, and a note to read them back
            data, node["bfloat16"] = data.view(np.uint16), True
        arrays[name] = data
        return node
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise TypeError("tinytape.save: numpy arrays of Python objects can't be saved")
        name = f"a{len(arrays)}"
        arrays[name] = obj
        return {"ndarray": name}
    if isinstance(obj, np.generic):
        return _encode(obj.item(), arrays)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj if not isinstance(obj, float) or np.isfinite(obj) else {"float": repr(obj)}
    if isinstance(obj, dict):
        for key in obj:
            if not (key is None or isinstance(key, (bool, int, float, str))):
                raise TypeError(f"tinytape.save: dict keys must be str, int, float, bool or None, got {type(key).__name__}")
        node = {"dict": [[k, _encode(v, arrays)] for k, v in obj.items()], "ordered": isinstance(obj, OrderedDict)}
        if isinstance(getattr(obj, "_metadata", None), dict):  # a state_dict's module versions, kept as pickle keeps them
            node["metadata"] = _encode(obj._metadata, arrays)
        return node
    if isinstance(obj, (list, tuple)):
        return {"list" if isinstance(obj, list) else "tuple": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, (_dtype.dtype, _dtype.device)):
        return {"dtype" if isinstance(obj, _dtype.dtype) else "device": str(obj)}
    # anything else (a whole module, an object of the user's class) is pickled, as torch.save does
    name = f"p{len(arrays)}"
    arrays[name] = np.frombuffer(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), dtype=np.uint8)
    return {"pickle": name, "type": f"{type(obj).__module__}.{type(obj).__qualname__}"}


def _refuse_pickle(type_name):
    raise pickle.UnpicklingError(
        "Weights only load failed. This file can still be loaded, to do so you have two options, do those "
        "steps only if you trust the source of the checkpoint. \n\t(1) Re-running `tinytape.load` with "
        "`weights_only` set to `False` will likely succeed, but it can result in arbitrary code execution. Do it "
        "only if you got the file from a trusted source.\n\t(2) Alternatively, save only tensors, numbers, strings "
        "and containers of them (a state_dict) and load those.\n\tWeightsUnpickler error: Unsupported global: "
        f"GLOBAL {type_name} was not an allowed global by default.")


def save(obj, f):
    """Write ``obj`` to ``f`` (a path or a binary file object)."""
    arrays = {}
    structure = json.dumps({"format": _FORMAT, "object": _encode(obj, arrays)})
    arrays[_STRUCTURE] = np.frombuffer(structure.encode("utf-8"), dtype=np.uint8)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as handle:  # a path given as is: np.savez would append ".npz"
            np.savez(handle, **arrays)
    else:
        np.savez(f, **arrays)


def _target_device(saved, map_location):
    if map_location is None:
        return saved
    if isinstance(map_location, dict):
        return str(map_location.get(saved, saved))
    if callable(map_location):
        return map_location
    return str(_dtype.as_device(map_location))


def _decode(node, archive, map_location, weights_only=True):
    if not isinstance(node, dict):
        return node
    if "pickle" in node:
        if weights_only:
            _refuse_pickle(node.get("type", "object"))
        return pickle.loads(bytes(archive[node["pickle"]]))
    if "tensor" in node:
        from ._creation import from_numpy
        from .nn.parameter import Parameter
        data = np.array(archive[node["tensor"]])
        t = from_numpy(data.view(_dtype.BFLOAT16) if node.get("bfloat16") else data)
        device = _target_device(node["device"], map_location)
        if callable(device):
            moved = device(t, node["device"])
            t = moved if moved is not None else t
        elif device != "cpu":
            t = t.to(device)
        if node["parameter"]:
            return Parameter(t, node["requires_grad"])
        return t.requires_grad_(node["requires_grad"]) if node["requires_grad"] else t
    if "ndarray" in node:
        return np.array(archive[node["ndarray"]])
    if "float" in node:
        return float(node["float"])
    if "dict" in node:
        items = [((k, _decode(v, archive, map_location, weights_only))) for k, v in node["dict"]]
        out = OrderedDict(items) if node["ordered"] else dict(items)
        if "metadata" in node:
            out._metadata = _decode(node["metadata"], archive, map_location, weights_only)
        return out
    if "list" in node:
        return [_decode(v, archive, map_location, weights_only) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, archive, map_location, weights_only) for v in node["tuple"])
    if "dtype" in node:
        return _dtype.as_dtype(node["dtype"])
    if "device" in node:
        return _dtype.as_device(node["device"])
    raise RuntimeError(f"tinytape.load: unknown entry in the file's structure: {sorted(node)}")


def load(f, map_location=None, weights_only=None):
    """Read what ``save`` wrote.  ``map_location``: a device (``"cpu"``, ``"cuda"``), a
    dict from saved to wanted device names, or ``fn(tensor, saved_device)``.
    ``weights_only`` (default True, as PyTorch's): objects that ``save`` pickled (whole
    modules, instances of other classes) are unpickled only with ``weights_only=False``;
    tensors, numbers and containers never run code."""
    weights_only = True if weights_only is None else bool(weights_only)
    name = f if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "the file object")
    not_ours = f"tinytape.load: {str(name)!r} is not a file written by tinytape.save"
    try:
        archive = np.load(f, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, io.UnsupportedOperation) as e:
        if isinstance(e, FileNotFoundError):
            raise
        reason = "not an .npz archive" if "pickle" in str(e) else str(e)  # numpy's hint to unpickle is not ours
        raise RuntimeError(f"{not_ours} ({reason})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise RuntimeError(f"{not_ours} (it holds a single numpy array, not a saved object)")
    with archive:
        if _STRUCTURE not in archive.files:
            raise RuntimeError(f"{not_ours} (an archive without its {_STRUCTURE} entry)")
        try:
            header = json.loads(bytes(archive[_STRUCTURE]).decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise RuntimeError(f"{not_ours} (unreadable structure entry: {e})") from None
        if not isinstance(header, dict) or header.get("format") != _FORMAT:
            raise RuntimeError(f"{not_ours} (unknown format {header.get('format') if isinstance(header, dict) else header!r})")
        return _decode(header["object"], archive, map_location, weights_only)


__all__ = ["save", "load"]
