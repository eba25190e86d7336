"""Rank the PyTorch names that tutorial and course code uses; write tests/data/api_usage.tsv.

    python -m tools.api_usage                      # scan the sources in sources.json
    python -m tools.api_usage --print 40           # and show the top 40
    python -m tools.api_usage DIR [DIR ...]        # scan folders instead (one source each)
    python -m tools.api_usage --refresh-names      # rebuild torch_names.json (needs torch)

Each source counts once per name, however many of its files use it. The ``in_tinytape``
column is filled by importing tinytape from this checkout; ``differentiable`` comes from
judgement.py.
"""
import argparse
import json
import os
import sys
from pathlib import Path

from . import judgement
from .scan import HERE, commit_of, load_names, refresh_names, scan_source

ROOT = HERE.parent.parent
TSV = ROOT / "tests" / "data" / "api_usage.tsv"


def load_sources(path=HERE / "sources.json"):
    return json.loads(Path(path).read_text())


def tinytape_has(kind, name):
    sys.path.insert(0, str(ROOT))
    import tinytape

    if kind == "torch":
        obj = tinytape
    elif kind == "functional":
        obj = tinytape.nn.functional
    elif kind == "autograd":
        obj = tinytape.autograd
    elif kind == "linalg":
        obj = getattr(tinytape, "linalg", None)
    else:
        obj = tinytape.Tensor
    for part in name.split("."):
        if obj is None or not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


def rank(sources, names):
    users = {}
    for source in sources:
        if not os.path.exists(source["path"]):
            print(f"missing source {source['name']}: {source['path']}", file=sys.stderr)
            continue
        for hit in scan_source(source, names):
            users.setdefault(hit, set()).add(source["name"])  # one course in several repos counts once
    rows = []
    for (kind, name), who in users.items():
        scope = judgement.out_of_scope(kind, name)
        rows.append({"name": name, "kind": kind, "n_sources": len(who), "sources": ",".join(sorted(who)),
                     "in_tinytape": "yes" if tinytape_has(kind, name) else "no",
                     "differentiable": judgement.differentiable(kind, name),
                     "scope": scope or "target"})
    rows.sort(key=lambda r: (-r["n_sources"], r["kind"], r["name"]))
    return rows


COLUMNS = ["name", "kind", "n_sources", "sources", "in_tinytape", "differentiable", "scope"]


def write_tsv(rows, sources, names, path=TSV):
    path.parent.mkdir(parents=True, exist_ok=True)
    header = [
        "# PyTorch names used by tutorial and course code, ranked by the number of sources using them.",
        "# Written by `python -m tools.api_usage` (tools/api_usage/); do not edit by hand.",
        f"# Name sets from torch {names['torch_version']}. Sources (name, commit or version, what was read):",
    ]
    for s in sources:
        commit = commit_of(s) if os.path.exists(s["path"]) else "absent"
        absent = f" (listed without content, not read: {len(s['absent'])})" if s.get("absent") else ""
        header.append(f"#   {s['name']}\t{commit}\t{s['what']}{absent}")
    header += [
        "# kind: torch = torch.<name>; functional = torch.nn.functional.<name>; autograd = torch.autograd.<name>;",
        "#   linalg = torch.linalg.<name>; tensor_method = <tensor>.<name>(...); tensor_attr = <tensor>.<name>.",
        "# in_tinytape: the name exists in this checkout (tinytape.<name>, tinytape.nn.functional.<name>, ...).",
        "# differentiable (judged, tools/api_usage/judgement.py): yes = a float op PyTorch differentiates;",
        "#   no = integer/boolean results, creation, in-place fills, state, dtype and device queries, autograd's API.",
        "# scope: target, or out (<why>) for what an autodiff library does not provide:",
    ]
    header += [f"#   {why}" for why in judgement.OUT_OF_SCOPE_REASONS]
    lines = header + ["\t".join(COLUMNS)]
    lines += ["\t".join(str(r[c]) for c in COLUMNS) for r in rows]
    path.write_text("\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.api_usage", description=__doc__.split("\n")[0])
    parser.add_argument("dirs", nargs="*", help="folders to scan instead of sources.json")
    parser.add_argument("--refresh-names", action="store_true")
    parser.add_argument("--print", type=int, default=0, metavar="N", help="print the top N names")
    parser.add_argument("--out", type=Path, default=TSV)
    args = parser.parse_args(argv)
    if args.refresh_names:
        refresh_names()
        return
    names = load_names()
    if args.dirs:
        sources = [{"name": Path(d).name, "path": d, "what": "folder"} for d in args.dirs]
    else:
        sources = load_sources()
    rows = rank(sources, names)
    write_tsv(rows, sources, names, args.out)
    target = [r for r in rows if r["scope"] == "target"]
    top = [r for r in target if r["n_sources"] >= 3]
    print(f"{len({s['name'] for s in sources})} sources, {len(rows)} names ({len(target)} in scope); "
          f"{len(top)} in scope with >= 3 sources, {sum(r['in_tinytape'] == 'yes' for r in top)} in tinytape")
    for r in target[:args.print]:
        print(f"{r['n_sources']:3d}  {r['kind']:<13} {r['name']:<24} {r['in_tinytape']}")


if __name__ == "__main__":
    main()
