"""The package's layers import one way: backend -> Tensor -> autograd -> ops -> nn -> trainer.

Read from the source (every ``import`` and ``from ... import``, at module level or inside a
function), so a lower layer that reaches up, even lazily, fails here.  Modules outside the
chain (dtypes, grad modes, the op table, the compiler...) are not checked.
"""
import ast
import pathlib

import tinytape

PACKAGE = pathlib.Path(tinytape.__file__).parent
LAYERS = ["tinytape.backend", "tinytape._tensor", "tinytape.autograd", "tinytape.ops", "tinytape.nn",
          "tinytape.trainer"]
# torch.autograd.functional (jacobian, hessian, vjp...) is built on torch's ops: above them here too
ABOVE_OPS = {"tinytape.autograd.functional": LAYERS.index("tinytape.ops") + 0.5}


def layer_of(module):
    if module in ABOVE_OPS:
        return ABOVE_OPS[module]
    for rank, prefix in enumerate(LAYERS):
        if module == prefix or module.startswith(prefix + "."):
            return rank
    return None


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path):
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            yield node.lineno, source
            for alias in node.names:  # ``from . import ops`` names a module too
                yield node.lineno, f"{source}.{alias.name}"


def upward_imports():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = layer_of(module_name(path))
        if own is None:
            continue
        for line, target in imported_modules(path):
            target_layer = layer_of(target) if target.startswith("tinytape.") else None
            if target_layer is not None and target_layer > own:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    return sorted(set(found))


def test_no_layer_imports_a_higher_one():
    assert upward_imports() == []


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    fake = tmp_path / "tinytape"
    (fake / "backend").mkdir(parents=True)
    (fake / "backend" / "k.py").write_text("def f():\n    from ..nn import Linear\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    assert upward_imports() == ["tinytape/backend/k.py:2 imports tinytape.nn",
                                "tinytape/backend/k.py:2 imports tinytape.nn.Linear"]


def test_the_op_table_imports_nothing_of_the_package():
    # every layer reads the table (backends, compiler, ops), so it can sit under none of them
    path = PACKAGE / "op_table.py"
    assert [target for _, target in imported_modules(path) if target.startswith("tinytape") or
            target.startswith(".")] == []
