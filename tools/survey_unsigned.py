"""Ask PyTorch what each op does with the limited dtypes (uint16, uint32, uint64).

    python tools/survey_unsigned.py

Needs PyTorch and tinytape in one environment.  For every ``torch.<name>`` function and
``Tensor.<name>`` method that tinytape has too, it finds the first argument shape of
``ARGUMENT_SHAPES`` that PyTorch accepts for an int64 tensor (or, failing that, a float32
one), calls the op the same way on each limited dtype and prints the rows of
``tinytape/ops/unsigned_support.py``'s ``OUTCOMES``: the argument shape, and per dtype
``OK`` (PyTorch computes it) or the error it raises (its type and message, the dtype's name
written ``{dtype}``).  Ops whose int64 and float32 calls fail in every shape are listed at
the end as not surveyed.
"""
import json
import re
import sys
import textwrap
import warnings
from pathlib import Path

import torch

import tinytape

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "tinytape" / "ops" / "unsigned_support.py"
CASES = ROOT / "tests" / "data" / "unsigned_calls.json"  # the calls the table was recorded with, for the tests
LIMITED = ("uint16", "uint32", "uint64")
# the arguments tried, in order: x and y are tensors of the dtype surveyed (3x3, then 1-d), i
# an int64 index (1-d, or 3x3 as x for gather and scatter: g), m a bool mask shaped as x
ARGUMENT_SHAPES = ("x", "x, y", "x, 0", "x, y, y", "x, 0, 1", "x, 2", "x, (9,)", "x, (3, 3)", "[x, y]", "x, 0, i",
                   "x, 0, g", "x, 0, i, y", "x, 0, g, y", "x, m", "x, m, 1", "x, m, y", "x, 0, i, 1", "m, x, y",
                   "x, 1, 2", "x, (3, 3), (3, 1)", "x, i")
SKIPPED = {  # names whose call has effects beyond its result, or that take no tensor
    "backward", "register_hook", "register_post_accumulate_grad_hook", "retain_grad", "cuda", "cpu",
    "pin_memory", "share_memory_", "apply_", "map_", "map2_", "set_", "resize_", "resize_as_", "storage",
    "untyped_storage", "data_ptr", "tolist", "item", "numpy", "save", "load", "manual_seed", "seed",
    "set_default_dtype", "set_printoptions", "set_rng_state", "get_rng_state", "compile", "use_deterministic_algorithms",
    "set_grad_enabled", "enable_grad", "no_grad", "inference_mode", "set_num_threads", "from_numpy", "tensor",
    "as_tensor", "asarray", "is_tensor", "explain", "type", "to", "new_tensor", "dim_order", "element_size",
    "requires_grad_", "detach_", "record_stream", "is_shared", "is_pinned", "get_device", "nbytes", "itemsize",
}
# factories, called as torch.<name>(<arguments>, dtype=<the dtype surveyed>)
FACTORIES = {"zeros": "3", "ones": "3", "full": "(3,), 7", "empty": "3", "arange": "3", "eye": "2",
             "linspace": "0, 3, 4", "logspace": "0, 3, 4", "randint": "0, 5, (3,)", "randperm": "3", "rand": "3",
             "randn": "3", "scalar_tensor": "3", "tril_indices": "3, 3", "triu_indices": "3, 3", "range": "0, 2"}
# second forms of an op PyTorch refuses with other words, under the name its check goes by (dtype_rules)
DIM_FORMS = {"max_dim": ("max", "x, 0"), "min_dim": ("min", "x, 0")}
DTYPE_NAMES = {"uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64"}


def make_inputs(dtype, one_d):
    if one_d:
        return torch.tensor([3, 1, 2], dtype=dtype), torch.tensor([1, 2, 2], dtype=dtype)
    return (torch.tensor([[3, 1, 2], [6, 5, 4], [2, 7, 1]], dtype=dtype),
            torch.tensor([[1, 1, 2], [2, 5, 3], [1, 2, 4]], dtype=dtype))


def call(kind, name, shape, dtype, one_d):
    x, y = make_inputs(dtype, one_d)
    if name.endswith("_") or name.startswith("__i"):  # an in-place op writes into a fresh tensor
        x, y = x.clone(), y.clone()
    index = torch.tensor([0, 2]) if one_d else torch.tensor([0, 2, 1])
    gather_index = torch.tensor([[0, 2, 1], [1, 0, 2], [2, 1, 0]])
    if one_d:
        gather_index = gather_index[0]
    mask = x.to(torch.int64) % 2 == 1
    args = eval(f"({shape},)", {"x": x, "y": y, "i": index, "g": gather_index, "m": mask})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = getattr(torch, name)(*args) if kind == "function" else getattr(args[0], name)(*args[1:])
    if result is NotImplemented:  # an operator's TypeError, turned into NotImplemented by PyTorch
        raise TypeError(f"{name}: NotImplemented")
    return result


def outcome(kind, name, shape, dtype_name, one_d):
    try:
        call(kind, name, shape, getattr(torch, dtype_name), one_d)
        return "OK"
    except Exception as error:  # noqa: BLE001  (every error is an answer to record)
        message = str(error).split("\n")[0].replace("{", "{{").replace("}", "}}")
        message = message.replace(DTYPE_NAMES[dtype_name], "{dtype}")
        message = message.replace(f"torch.{dtype_name}", "torch.{name}")
        return (type(error).__name__, message)


def factory_outcome(name, dtype_name):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eval(f"torch.{name}({FACTORIES[name]}, dtype=torch.{dtype_name})", {"torch": torch})
        return "OK"
    except Exception as error:  # noqa: BLE001
        return (type(error).__name__, str(error).split("\n")[0].replace(DTYPE_NAMES[dtype_name], "{dtype}"))


def works(kind, name, shape, dtype, one_d):
    try:
        call(kind, name, shape, dtype, one_d)
        return True
    except Exception:  # noqa: BLE001
        return False


def names():
    functions = {n for n in dir(tinytape) if not n.startswith("_") and callable(getattr(tinytape, n))
                 and hasattr(torch, n) and n[0].islower()}
    methods = {n for n in dir(tinytape.Tensor) if (not n.startswith("_") or n.startswith("__") and n.endswith("__"))
               and callable(getattr(tinytape.Tensor, n, None)) and hasattr(torch.Tensor, n)}
    methods -= {"__init__", "__new__", "__class__", "__repr__", "__str__", "__format__", "__hash__", "__reduce__",
                "__reduce_ex__", "__setstate__", "__getstate__", "__init_subclass__", "__subclasshook__", "__dir__",
                "__sizeof__", "__delattr__", "__setattr__", "__getattribute__", "__getattr__", "__deepcopy__",
                "__setitem__", "__len__", "__iter__", "__bool__", "__index__", "__int__", "__float__", "__complex__",
                "__array__", "__array_wrap__", "__torch_function__", "__torch_dispatch__", "__del__", "__weakref__",
                "__contains__", "__reversed__", "__copy__", "__eq__" if False else ""}
    return sorted(("function", n) for n in functions - SKIPPED) + sorted(("method", n) for n in methods - SKIPPED)


def main():
    surveyed, left = [], []
    for kind, name in names():
        found = None
        for reference in (torch.int64, torch.float32):
            for one_d in (False, True):
                for shape in ARGUMENT_SHAPES:
                    if works(kind, name, shape, reference, one_d):
                        found = (shape, one_d)
                        break
                if found:
                    break
            if found:
                break
        if found is None:
            left.append(f"{kind} {name}")
            continue
        shape, one_d = found
        outcomes = {d: outcome(kind, name, shape, d, one_d) for d in LIMITED}
        surveyed.append((kind, name, shape, one_d, outcomes))
    for name in FACTORIES:
        surveyed.append(("factory", name, FACTORIES[name], False, {d: factory_outcome(name, d) for d in LIMITED}))
    for key, (name, shape) in DIM_FORMS.items():
        for kind in ("function", "method"):
            surveyed.append((kind, name, shape, False, {d: outcome(kind, name, shape, d, False) for d in LIMITED}, key))
    CASES.write_text(json.dumps([list(row[:4]) for row in surveyed], indent=0) + "\n")
    TABLE.write_text(table_module(surveyed, left))
    print(f"{len(surveyed)} calls surveyed; not surveyed: {', '.join(left)}", file=sys.stderr)


C_TYPES = {"uint16": "short unsigned int", "uint32": "unsigned int", "uint64": "long unsigned int"}


def uniform(outcomes):
    """The outcome for every limited dtype, or None where they differ beyond the dtype's names."""
    first = outcomes["uint16"]
    if first != "OK":
        first = (first[0], first[1].replace(C_TYPES["uint16"], "{c_type}"))
    for d in LIMITED[1:]:
        other = outcomes[d]
        if other != "OK":
            other = (other[0], other[1].replace(C_TYPES[d], "{c_type}"))
        if other != first:
            return None
    return first


def table_module(surveyed, left):
    by_name = {}
    for kind, name, _, _, outcomes, *key in surveyed:
        name = key[0] if key else name
        found = uniform(outcomes)
        assert found is not None, (kind, name, outcomes)
        by_name.setdefault(name, {})[kind] = found
    computed, kernels, others = [], {}, {}
    for name, kinds in sorted(by_name.items()):
        spelled = {"function": "torch", "method": "Tensor", "factory": "factory"}
        keys = ([name] if len(set(kinds.values())) == 1 and "factory" not in kinds
                else [f"{spelled[k]}.{name}" for k in sorted(kinds)])
        for key, found in zip(keys, [kinds[k] for k in sorted(kinds)] if len(keys) > 1 else [next(iter(kinds.values()))]):
            kernel = re.fullmatch(r'"(\w+)" not implemented for \'\{dtype\}\'', found[1]) if found != "OK" else None
            if found == "OK":
                computed.append(key)
            elif found[0] == "NotImplementedError" and kernel:
                kernels.setdefault(kernel.group(1), []).append(key)
            else:
                others[key] = found
    lines = [HEADER, "COMPUTED = frozenset(\"\"\""]
    lines += textwrap.wrap(" ".join(computed), 112)
    lines += ["\"\"\".split())", "", "# NotImplementedError('\"<kernel>\" not implemented for \\'UInt32\\''), by kernel",
              "NOT_IMPLEMENTED = {"]
    for kernel, names in sorted(kernels.items()):
        pieces = textwrap.wrap(" ".join(names), 100, drop_whitespace=False)
        lines.append(f"    {kernel!r}: " + "\n        ".join(repr(p) for p in pieces) + ",")
    lines += ["}", "", "# other refusals: (error, message, the names refused so); {dtype} and {c_type} stand for the",
              "# dtype's names (UInt32, unsigned int)", "REFUSED = ("]
    grouped = {}
    for name, found in others.items():
        grouped.setdefault(found, []).append(name)
    for (error, message), names in grouped.items():
        pieces = textwrap.wrap(message, 100, drop_whitespace=False)
        lines.append(f"    ({error}, " + "\n     ".join(repr(p) for p in pieces) + ",")
        lines += [f"     {piece!r}" for piece in textwrap.wrap(" ".join(names), 100, drop_whitespace=False)]
        lines[-1] += "),"
    lines += [")", ""]
    return "\n".join(lines)


HEADER = '''"""What PyTorch does with each op on the limited unsigned dtypes (uint16, uint32, uint64).

Recorded from PyTorch 2.14.1 on the CPU by ``tools/survey_unsigned.py`` (do not edit by hand:
run it again), which calls every ``torch.<name>`` / ``Tensor.<name>`` that tinytape has too
with tensors of each of the three dtypes.  A name stands for both the function and the
method, unless the table names ``torch.<name>`` or ``Tensor.<name>`` apart; ``factory.<name>``
is ``torch.<name>(..., dtype=...)`` making a tensor of the dtype.  The outcome is
the same for the three dtypes.  ``ops/dtype_rules.py`` reads the table.
"""

# names PyTorch computes on these dtypes'''



if __name__ == "__main__":
    main()
