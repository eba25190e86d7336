"""Write ``tinytape/_signature_table.py``: PyTorch's Python signatures (parameter names,
which are positional, which keyword-only) of every function and Tensor method that
tinytape and PyTorch both have.

    python tools/record_signatures.py      # needs PyTorch and tinytape in one environment

Functions written in Python (``torch.functional.split``, ``torch.nn.functional.*``, the
methods in ``torch/_tensor.py``) give their ``inspect.signature``; the C++ ones give their
ATen schemas as PyTorch's argument parser presents them: ``self`` is ``input`` (a method's
is the tensor itself), an out= overload's written tensors are one ``out`` keyword, the
factories take ``requires_grad``, and a ``.Scalar`` overload that a ``.Tensor`` one
covers is not bound to Python."""
import inspect
import pprint
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

import tinytape
import tinytape.nn.functional

ROOT = Path(__file__).resolve().parent.parent
SKIP_SELF_TYPES = ("str", "int", "float", "complex", "bool", "List[", "Dict[", "Optional[str]", "Any", "t")


def _from_schemas(name, method):
    try:
        schemas = torch._C._jit_get_schemas_for_operator("aten::" + name)
    except RuntimeError:
        return None
    names = {s.overload_name for s in schemas}
    overloads = []
    for s in schemas:
        args = list(s.arguments)
        if not args or any(a.name in ("a", "b") for a in args[:1]):
            continue  # TorchScript's own (aten::add.int(int a, int b), ...)
        first = args[0]
        if first.name == "self" and str(first.type).startswith(SKIP_SELF_TYPES) and str(first.type) != "Tensor":
            if not (name == "pow" and str(first.type) == "number"):
                continue
        if s.overload_name == "Scalar" and "Tensor" in names:
            continue  # the Tensor overload takes numbers too
        if s.overload_name.endswith("Scalar_out") and "out" in names:
            continue
        if method:
            if first.name != "self" or str(first.type) != "Tensor":
                continue
            args = args[1:]
        positional, keyword, written, intlists, required = [], [], False, [], 0
        for a in args:
            if not a.kwarg_only and not a.has_default_value():
                required = len(positional) + 1
            if a.kwarg_only and a.alias_info is not None and a.alias_info.is_write:
                written = True
                continue
            n = "input" if a.name == "self" and str(a.type) == "Tensor" else a.name
            (keyword if a.kwarg_only else positional).append(n)
            if not a.kwarg_only and "int" in str(a.type).lower() and str(a.type).startswith(("List[", "SymInt[")):
                intlists.append(n)
        if written and method:
            continue  # a method has no out= form
        if written:
            keyword.append("out")
        if "pin_memory" in keyword and "requires_grad" not in keyword:
            keyword.append("requires_grad")
        varargs = len(positional) == 1 and positional[0] in intlists
        entry = (tuple(positional), tuple(keyword), varargs, required)
        if entry not in overloads:
            overloads.append(entry)
    return ("parser", tuple(overloads)) if overloads else None


def _from_python(fn, method):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())
    if method and params:
        params = params[1:]
    positional, keyword, varargs, varkw, required = [], [], False, False, 0
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            positional.append(p.name)
            if p.default is p.empty:
                required = len(positional)
        elif p.kind is p.KEYWORD_ONLY:
            keyword.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            varargs = True
        else:
            varkw = True
    if varkw:
        return None  # takes any keyword: nothing to check
    return ("python", ((tuple(positional), tuple(keyword), varargs, required),))


def signature(fn, name, method, prefix=""):
    if isinstance(fn, (type(torch.add), type(torch.Tensor.add))) or type(fn).__name__ == "wrapper_descriptor":
        return _from_schemas(prefix + name, method)
    return _from_python(fn, method)


def main():
    tables = {}
    spaces = (("torch", torch, tinytape, False), ("functional", F, tinytape.nn.functional, False),
              ("linalg", torch.linalg, tinytape.linalg, False), ("Tensor", torch.Tensor, tinytape.Tensor, True))
    for key, theirs, ours, method in spaces:
        table = {}
        for name in sorted(dir(ours)):
            if name.startswith("_") or not hasattr(theirs, name):
                continue
            fn, mine = getattr(theirs, name), getattr(ours, name)
            if isinstance(fn, type) or isinstance(mine, type) or not callable(fn) or not callable(mine):
                continue
            if method and isinstance(inspect.getattr_static(ours, name), property):
                continue
            entry = signature(fn, name, method, "linalg_" if key == "linalg" else "")
            if entry is not None:
                table[name] = entry
            else:
                print("no signature:", key, name, file=sys.stderr)
        tables[key] = table
    text = ('"""PyTorch %s\'s Python signatures of the functions and Tensor methods tinytape has:\n'
            "name -> (how PyTorch binds them: its argument parser or a Python function,\n"
            "((positional names, keyword-only names, takes *args, how many positionals are required), ...)\n"
            "one per overload).\n"
            'Written by ``python tools/record_signatures.py``; do not edit by hand."""\n'
            % torch.__version__.split("+")[0])
    for key, table in tables.items():
        text += f"\n{key.upper()} = " + pprint.pformat(table, width=118, compact=True) + "\n"
    (ROOT / "tinytape" / "_signature_table.py").write_text(text)
    print({k: len(v) for k, v in tables.items()}, file=sys.stderr)


if __name__ == "__main__":
    main()
