"""Write ``tinytape/_signature_table.json``: PyTorch's Python signatures (parameter names,
which are positional, which keyword-only) of every function and Tensor method that
tinytape and PyTorch both have.

    python tools/record_signatures.py      # needs PyTorch and tinytape in one environment

Functions written in Python (``torch.functional.split``, ``torch.nn.functional.*``, the
methods in ``torch/_tensor.py``) give their ``inspect.signature``; the C++ ones their
overloads in PyTorch's type stubs (``torch/_C/*.pyi``, generated from its argument parser's
signatures), or where a stub is missing (``torch.linalg``) their ATen schemas as the parser
presents them: ``self`` is ``input``, an out= overload's written tensors are one ``out``
keyword, the factories take ``requires_grad``, and a ``.Scalar`` overload that a ``.Tensor``
one covers is not bound to Python."""
import ast
import inspect
import json
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


def _stub_definitions():
    """name -> [ast.FunctionDef] from PyTorch's type stubs, which spell its argument parser's
    signatures (torch's functions, ``torch._C._nn``'s and Tensor's methods)."""
    stubs = Path(torch.__file__).parent / "_C"
    found = {"torch": {}, "nn": {}, "Tensor": {}}
    for key, file in (("torch", "_VariableFunctions.pyi"), ("nn", "_nn.pyi"), ("Tensor", "__init__.pyi")):
        tree = ast.parse((stubs / file).read_text())
        body = tree.body
        if key == "Tensor":
            body = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "TensorBase").body
        for node in body:
            if isinstance(node, ast.FunctionDef):
                found[key].setdefault(node.name, []).append(node)
    return found


STUBS = _stub_definitions()


def _from_stub(definitions, method):
    overloads = []
    for node in definitions:
        a = node.args
        positional = [x.arg for x in a.posonlyargs + a.args]
        if method:
            positional = positional[1:]
        required = len(positional) - len(a.defaults)
        keyword = [x.arg for x in a.kwonlyargs if not (method and x.arg == "out")]  # methods take no out=
        entry = (tuple(positional), tuple(keyword), a.vararg is not None,
                 1 if a.vararg is not None and not positional else max(required, 0))  # *size: one at least
        if entry not in overloads:
            overloads.append(entry)
    return ("parser", tuple(overloads))


def _reconcile(stub, schema):
    """The stub's overloads with the schema's name where a hand-written stub says another
    (``from_`` for ``from``, ``mode`` for ``requires_grad``, ``self`` for ``input``)."""
    if schema is None:
        return stub
    known = {n for positional, keyword, _, _ in schema[1] for n in positional + keyword}
    overloads = []
    for positional, keyword, varargs, required in stub[1]:
        same = [p for p, _, _, _ in schema[1] if len(p) == len(positional)]
        if same:
            positional = tuple(n if n in known else same[0][i] for i, n in enumerate(positional))
        if "self" in positional and "self" not in known:
            continue  # a deprecated form (add(input, alpha, other)): hidden from the parser's choices
        overloads.append((positional, keyword, varargs, required))
    return (stub[0], tuple(overloads))


def signature(fn, name, method, prefix="", stubs=()):
    if isinstance(fn, (type(torch.add), type(torch.Tensor.add))) or type(fn).__name__ == "wrapper_descriptor":
        for key in stubs:
            if name in STUBS[key]:
                return _reconcile(_from_stub(STUBS[key][name], method), _from_schemas(prefix + name, method))
        entry = _from_schemas(prefix + name, method)
        if entry and "out=" not in (fn.__doc__ or "") and "out:" not in (fn.__doc__ or ""):
            entry = (entry[0], tuple((p, tuple(k for k in kw if k != "out"), v, r) for p, kw, v, r in entry[1]))
        return entry
    return _from_python(fn, method)


STUB_FILES = {"torch": ("torch",), "functional": ("torch",), "linalg": (), "Tensor": ("Tensor",)}  # _nn.pyi is
# written by hand (its one_hot names ``tensor`` where the parser takes ``input``): torch._C._nn's from schemas


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
            entry = signature(fn, name, method, "linalg_" if key == "linalg" else "", STUB_FILES[key])
            if entry is not None:
                table[name] = entry
            else:
                print("no signature:", key, name, file=sys.stderr)
        tables[key] = table
    # one entry a line (``_signature_table.py`` reads it back into tuples)
    parts = []
    for key, table in tables.items():
        rows = ",\n".join(f"  {json.dumps(name)}: {json.dumps(entry)}" for name, entry in table.items())
        parts.append(f'"{key.upper()}": {{\n{rows}\n}}')
    (ROOT / "tinytape" / "_signature_table.json").write_text("{\n" + ",\n".join(parts) + "\n}\n")
    print({k: len(v) for k, v in tables.items()}, file=sys.stderr)


if __name__ == "__main__":
    main()
