"""The import graph keeps the house's layers: read with ``ast`` over the tree (imports inside
functions included), no cycles between the top-level packages and intake's layers, and each
layer imports only what it may.

    intake.core     domain, states, errors, units, settings, identity: no I/O, imports no other layer
    intake.service  pipeline, ledger, outbox, decide, matching, masters...: never the entry points
    intake.entry    cli, api, workers, tasks, bootstrap: may import everything
    extractors      readers, dispatch, the model's serving: the core only of intake, never training
    connectors, review_ui, training: never the entry points

A function-body import of a project module is allowed only where it is there for start-up time
(said in a comment next to it, or in the module docstring of the command line).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("intake", "extractors", "training", "review_ui", "connectors")
LAYERS = ("intake.core", "intake.service", "intake.entry")

FORBIDDEN = {
    "intake.core": {"intake.service", "intake.entry", "extractors", "training", "review_ui", "connectors"},
    "intake.service": {"intake.entry"},
    "extractors": {"intake.service", "intake.entry", "review_ui", "connectors", "training"},
    "connectors": {"intake.entry"},
    "review_ui": {"intake.entry"},
    "training": {"intake.entry"},
}

# where lazy imports are the rule for start-up time (its docstring says so): `intake --help`
# must not import the service stack
LAZY_MODULES = {"intake/entry/cli.py"}
CHECKED_FOR_LAZY = ("intake", "connectors", "review_ui")


def node_of(module: str) -> str | None:
    """The graph node of a dotted module name: an intake layer or a top-level package."""
    parts = module.split(".")
    if parts[0] not in PACKAGES:
        return None
    if parts[0] == "intake":
        if len(parts) > 1 and f"intake.{parts[1]}" in LAYERS:
            return f"intake.{parts[1]}"
        return "intake.entry"  # intake/__main__.py: the command line
    return parts[0]


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path, me: str | None = None) -> list[tuple[ast.stmt, str, bool]]:
    """(statement, imported module, inside a function) of each project import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = me or _module_name(path)
    out: list[tuple[ast.stmt, str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                out.extend((child, a.name, in_function) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:  # relative: resolve against this module's package
                    base = me.split(".")[: len(me.split(".")) - child.level + (1 if path.name == "__init__.py" else 0)]
                    mod = ".".join(base + ([child.module] if child.module else []))
                else:
                    mod = child.module or ""
                out.append((child, mod, in_function))
            visit(child, inner)

    visit(tree, False)
    return [(s, m, f) for s, m, f in out if node_of(m) is not None]


def _files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "migrations/versions" not in p.as_posix())


def _graph() -> dict[str, dict[str, set[str]]]:
    """node -> imported node -> the files (with line) that make the edge."""
    g: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in _files():
        src = node_of(_module_name(path))
        assert src is not None
        for stmt, mod, _ in _imports(path):
            dst = node_of(mod)
            if dst and dst != src:
                g[src][dst].add(f"{path.relative_to(ROOT)}:{stmt.lineno}")
    return g


def _cycles(g: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.get(v, {}):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(g):
        if v not in index:
            strong(v)
    return out


def test_the_graph_is_read_from_the_whole_tree() -> None:
    g = _graph()
    # the checker sees function-body imports too, and real edges of every layer
    assert "intake.service" in g["intake.entry"] and "intake.core" in g["intake.service"]
    assert "intake.core" in g["extractors"] and "intake.service" in g["connectors"]
    assert node_of("intake.core.domain") == "intake.core" and node_of("intake") == "intake.entry"
    assert node_of("numpy") is None


def test_no_cycles_between_packages_and_layers() -> None:
    g = _graph()
    cycles = _cycles(g)
    detail = {" <-> ".join(c): {f"{a} -> {b}": sorted(g[a][b])[:3] for a in c for b in c if b in g.get(a, {})}
              for c in cycles}
    assert not cycles, detail


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_each_layer_imports_only_what_it_may(layer: str) -> None:
    g = _graph()
    bad = {dst: sorted(where)[:5] for dst, where in g.get(layer, {}).items() if dst in FORBIDDEN[layer]}
    assert not bad, f"{layer} imports {bad}"


def test_project_imports_in_function_bodies_are_there_for_start_up_time() -> None:
    hidden = []
    for path in _files():
        rel = path.relative_to(ROOT).as_posix()
        if not rel.startswith(CHECKED_FOR_LAZY) or rel in LAZY_MODULES:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for stmt, mod, in_function in _imports(path):
            if not in_function:
                continue
            near = " ".join(lines[max(0, stmt.lineno - 3): stmt.end_lineno or stmt.lineno])
            if "start-up" not in near and "noqa: F401" not in near:
                hidden.append(f"{rel}:{stmt.lineno} {mod}")
    assert not hidden, hidden


def test_the_checker_catches_a_cycle_and_a_hidden_import(tmp_path: Path) -> None:
    g = {"a": {"b": {"x"}}, "b": {"c": {"y"}}, "c": {"a": {"z"}}, "d": {"a": {"w"}}}
    assert _cycles(g) == [["a", "b", "c"]]  # type: ignore[arg-type]
    assert _cycles({"a": {"b": {"x"}}, "b": {}}) == []  # type: ignore[arg-type]
    src = tmp_path / "probe.py"
    src.write_text("import numpy\nfrom intake.core import domain\n\n\ndef f():\n    from intake.entry import cli\n")
    top, body = _imports(src, "intake.service.probe")
    assert (top[1], top[2]) == ("intake.core", False)
    assert (body[1], body[2]) == ("intake.entry", True) and node_of(body[1]) == "intake.entry"
