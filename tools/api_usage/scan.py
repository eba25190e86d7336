"""Find which PyTorch names a body of tutorial and course code calls.

Reads .py files, the code cells of .ipynb notebooks and the Python code blocks of .md/.rst
files (fenced, ``{% highlight python %}`` and ``.. code-block:: python``), from a folder or
from the HEAD commit of a bare git mirror, and collects every use of

- ``torch.<name>``                (kind ``torch``; submodules are not names)
- ``torch.nn.functional.<name>``  (kind ``functional``, also through ``F`` or any alias)
- ``torch.autograd.<name>``       (kind ``autograd``; ``functional.jacobian`` and the like)
- ``torch.linalg.<name>``         (kind ``linalg``)
- ``<expr>.<name>(``              (kind ``tensor_method``: ``name`` is a method of torch.Tensor)
- ``<expr>.<name>``               (kind ``tensor_attr``: a property of torch.Tensor, e.g. ``.T``)

Aliases come from each file's imports (``import torch.nn.functional as F``,
``from torch import autograd``, ``from torch.autograd import grad`` ...). The sets of
valid names are frozen in ``torch_names.json`` (``python -m tools.api_usage --refresh-names``
rebuilds it from an installed torch), so a scan needs only the standard library.
"""
import json
import os
import re
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Receivers that are modules, not tensors: ``np.sum(`` is not Tensor.sum.
MODULE_ROOTS = {
    "np", "numpy", "math", "random", "os", "sys", "plt", "scipy", "tf", "jnp", "jax", "mx",
    "npx", "nd", "d2l", "pd", "sns", "sklearn", "re", "time", "json", "string", "itertools",
    "functools", "collections", "io", "shutil", "glob", "pathlib", "Image", "cv2", "init",
    "optim", "torchvision", "transforms", "datasets", "copy", "pickle", "wandb", "tqdm",
    "argparse", "logging", "subprocess", "inspect", "operator", "stats", "matplotlib", "mpl",
    "gym", "onp", "random_state", "rng", "spacy", "tiktoken", "requests", "urllib", "zipfile",
    "tarfile", "hashlib", "struct", "warnings", "platform", "threading", "multiprocessing",
    "nn", "F", "torch", "autograd", "linalg", "utils", "data", "display", "IPython", "ipywidgets",
}
# Method names shared with builtins or PIL images where that reading dominates in course code.
AMBIGUOUS_METHODS = {"index", "values", "name", "real", "imag", "add", "resize"}
# Tensor properties worth counting on plain attribute access (``x.T``, ``w.grad``).
COUNTED_PROPERTIES = {
    "T", "mT", "H", "mH", "data", "grad", "grad_fn", "requires_grad", "is_leaf", "shape",
    "dtype", "device", "ndim", "is_cuda", "retains_grad", "layout", "nbytes", "itemsize",
}

IDENT = r"[A-Za-z_]\w*"
CHAIN = re.compile(rf"(?<![\w.\"'])({IDENT}(?:\s*\.\s*{IDENT})+)(\s*\()?")
METHOD = re.compile(rf"(?<=[\w)\]])\s*\.\s*({IDENT})\b(\s*\()?")
IMPORT_AS = re.compile(rf"^\s*import\s+(torch(?:\.{IDENT})*)(?:\s+as\s+({IDENT}))?", re.M)
FROM_IMPORT = re.compile(rf"^\s*from\s+(torch(?:\.{IDENT})*)\s+import\s+\(?([^)\n]+)", re.M)
STRING = re.compile(r"'''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"", re.S)
COMMENT = re.compile(r"#[^\n]*")
RECEIVER = re.compile(rf"(?<![\w.)\]])({IDENT})(?:\s*\.\s*{IDENT})*\s*$")


def load_names(path=HERE / "torch_names.json"):
    names = json.loads(Path(path).read_text())
    names = {k: set(v) if isinstance(v, list) else v for k, v in names.items()}
    return names


def refresh_names(path=HERE / "torch_names.json"):
    """Rebuild the frozen name sets from the installed torch (the only place torch is used)."""
    import types

    import torch
    import torch.autograd.functional
    import torch.linalg
    import torch.nn.functional

    def public(m):
        return sorted(n for n in dir(m) if not n.startswith("_"))

    def plain(m):
        return [n for n in public(m) if not isinstance(getattr(m, n, None), types.ModuleType)]

    tensor = public(torch.Tensor)
    props = [n for n in tensor if not callable(getattr(torch.Tensor, n))]
    names = {
        "torch_version": torch.__version__,
        "torch": plain(torch),
        "torch_modules": [n for n in public(torch) if isinstance(getattr(torch, n, None), types.ModuleType)],
        "functional": plain(torch.nn.functional),
        "autograd": public(torch.autograd),
        "autograd_functional": public(torch.autograd.functional),
        "linalg": public(torch.linalg),
        "tensor_methods": [n for n in tensor if n not in props],
        "tensor_properties": props,
    }
    Path(path).write_text(json.dumps(names, indent=0) + "\n")


# ---------------------------------------------------------------- extracting code


def notebook_code(text):
    try:
        nb = json.loads(text)
    except ValueError:
        return ""
    cells = nb.get("cells") or [c for ws in nb.get("worksheets", []) for c in ws.get("cells", [])]
    out = []
    for cell in cells:
        if cell.get("cell_type") == "code":
            src = cell.get("source", cell.get("input", ""))
            out.append("".join(src) if isinstance(src, list) else src)
    return "\n".join(out)


FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*(.*)$")
HIGHLIGHT = re.compile(r"{%\s*highlight\s+(\w+)[^%]*%}(.*?){%\s*endhighlight\s*%}", re.S)
RST_BLOCK = re.compile(r"^(\s*)\.\.\s+(?:code-block|code|sourcecode)::\s*(\w*)\s*$")


def markdown_code(text, tab=None):
    """Python code blocks of a markdown/rst file. ``tab``: keep only d2l blocks for that
    framework (``%%tab pytorch`` / ``#@tab pytorch`` / ``%%tab all``)."""
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        r = RST_BLOCK.match(lines[i])
        if m:
            fence, info = m.group(2), m.group(3).lower()
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence[:3]):
                body.append(lines[i])
                i += 1
            if "python" in info or info in ("py", "", "ipython", "pycon", "ipython3"):
                blocks.append(body)
        elif r and r.group(2).lower() in ("python", "py", "ipython", "pycon", "python3", ""):
            indent = None
            body = []
            i += 1
            while i < len(lines):
                line = lines[i]
                if line.strip():
                    width = len(line) - len(line.lstrip())
                    if indent is None:
                        indent = width
                    if width < indent or width <= len(r.group(1)):
                        break
                body.append(line)
                i += 1
            blocks.append(body)
            continue
        i += 1
    kept = []
    for body in blocks:
        first = next((ln.strip() for ln in body if ln.strip()), "")
        if tab is not None:
            tags = re.match(r"(?:%%tab|#\s*@tab)\s+(.*)", first)
            if not tags:
                continue
            frameworks = {t.strip() for t in re.split(r"[,\s]+", tags.group(1)) if t.strip()}
            if tab not in frameworks and "all" not in frameworks:
                continue
        kept.append("\n".join(ln for ln in body if not ln.lstrip().startswith(("%", "!"))))
    kept += [m.group(2) for m in HIGHLIGHT.finditer(text) if m.group(1).lower() in ("python", "py")]
    return "\n\n".join(kept)


def code_of(path, text, tab=None):
    if path.endswith(".ipynb"):
        return notebook_code(text)
    if path.endswith((".md", ".rst", ".markdown")):
        return markdown_code(text, tab)
    if path.endswith(".py"):
        return text
    return ""


# ---------------------------------------------------------------- finding names


def aliases_of(code):
    """Local name -> dotted torch path, from the file's imports."""
    alias = {"torch": "torch"}
    for m in IMPORT_AS.finditer(code):
        module, name = m.group(1), m.group(2)
        if name:
            alias[name] = module
    for m in FROM_IMPORT.finditer(code):
        module = m.group(1)
        for part in m.group(2).split(","):
            part = part.strip().rstrip("\\").strip()
            if not part or part == "*":
                continue
            bits = part.split()
            if len(bits) == 3 and bits[1] == "as":
                alias[bits[2]] = f"{module}.{bits[0]}"
            elif re.fullmatch(IDENT, bits[0]):
                alias[bits[0]] = f"{module}.{bits[0]}"
    return alias


def classify(path, names):
    """(kind, name) for a dotted torch path, or None when it names no counted API."""
    parts = path.split(".")
    if parts[0] != "torch" or len(parts) < 2:
        return None
    head = parts[1]
    if head == "nn" and len(parts) >= 4 and parts[2] == "functional":
        return ("functional", parts[3]) if parts[3] in names["functional"] else None
    if head == "autograd" and len(parts) >= 3:
        if parts[2] == "functional" and len(parts) >= 4:
            ok = parts[3] in names["autograd_functional"]
            return ("autograd", f"functional.{parts[3]}") if ok else None
        return ("autograd", parts[2]) if parts[2] in names["autograd"] else None
    if head == "linalg" and len(parts) >= 3:
        return ("linalg", parts[2]) if parts[2] in names["linalg"] else None
    if head in names["torch"]:
        return ("torch", head)
    return None


def uses_in(code, names):
    """The set of (kind, name) used in one file's code."""
    code = COMMENT.sub("", STRING.sub('""', code))
    alias = aliases_of(code)
    found = set()
    # names imported directly (``from torch.autograd import grad``) count as uses
    for path in alias.values():
        hit = classify(path, names)
        if hit:
            found.add(hit)
    for m in CHAIN.finditer(code):
        parts = [p.strip() for p in m.group(1).split(".")]
        root = alias.get(parts[0])
        if root is not None:
            hit = classify(".".join([root] + parts[1:]), names)
            if hit:
                found.add(hit)
    for m in METHOD.finditer(code):
        name, call = m.group(1), m.group(2)
        start = m.start()
        receiver = RECEIVER.search(code, max(0, start - 120), start)
        if receiver and (receiver.group(1) in MODULE_ROOTS or receiver.group(1) in alias):
            continue  # a module's function (``np.sum(``, ``F.relu(``), not a tensor's method
        if call:
            if name in names["tensor_methods"] and name not in AMBIGUOUS_METHODS:
                args = code[m.end():m.end() + 40].lstrip()
                if name == "split" and (args.startswith(('"', "'", ")"))):
                    continue
                if name == "sort" and re.match(r"(key|reverse)\s*=", args):
                    continue
                found.add(("tensor_method", name))
        elif name in COUNTED_PROPERTIES and name in names["tensor_properties"]:
            found.add(("tensor_attr", name))
    return found


# ---------------------------------------------------------------- sources

EXTENSIONS = (".py", ".ipynb", ".md", ".rst")


def files_of(source):
    """(path, text) for every scanned file of a source: a folder or a bare git mirror."""
    root = source["path"]
    if source.get("git"):
        listing = subprocess.run(["git", "-C", root, "ls-tree", "-r", "--name-only", "HEAD"],
                                 capture_output=True, text=True, check=True).stdout.split("\n")
        for path in listing:
            if path.endswith(EXTENSIONS):
                blob = subprocess.run(["git", "-C", root, "show", f"HEAD:{path}"], capture_output=True)
                if blob.returncode:  # a snapshot may list its largest files without their content
                    source.setdefault("absent", []).append(path)
                    continue
                yield path, blob.stdout.decode("utf-8", "replace")
        return
    for dirpath, _, filenames in os.walk(root):
        for fn in sorted(filenames):
            if fn.endswith(EXTENSIONS):
                full = os.path.join(dirpath, fn)
                with open(full, encoding="utf-8", errors="replace") as f:
                    yield os.path.relpath(full, root), f.read()


def commit_of(source):
    if not source.get("git"):
        return source.get("commit", "-")
    return subprocess.run(["git", "-C", source["path"], "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()


def scan_source(source, names):
    """{(kind, name): number of files using it} for one source."""
    counts = {}
    include = source.get("include")
    for path, text in files_of(source):
        if include and not re.search(include, path):
            continue
        code = code_of(path, text, source.get("tab"))
        if "torch" not in code:
            continue
        for hit in uses_in(code, names):
            counts[hit] = counts.get(hit, 0) + 1
    return counts
