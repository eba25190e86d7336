"""PyTorch's Python signatures of the functions and Tensor methods tinytape has, from
``_signature_table.json`` (written by ``python tools/record_signatures.py``; do not edit
it by hand): name -> (how PyTorch binds it: its argument parser or a Python function,
((positional names, keyword-only names, takes *args, how many positionals are required),
...) one per overload), in ``TORCH``, ``FUNCTIONAL``, ``LINALG`` and ``TENSOR``."""
import json
import os


def _tuples(x):
    return tuple(_tuples(item) for item in x) if isinstance(x, list) else x


with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "_signature_table.json")) as _f:
    _tables = json.load(_f)
TORCH, FUNCTIONAL, LINALG, TENSOR = ({name: _tuples(entry) for name, entry in _tables[key].items()}
                                     for key in ("TORCH", "FUNCTIONAL", "LINALG", "TENSOR"))
del _f, _tables
