"""The package's import graph: no module imports another that imports it back (not even
inside a function), and the layers import only downwards (DESIGN.md "Architecture")."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
# Lower ranks are lower layers; a module may import its own layer and those below it.
# (outfiles writes output files whole then renames them through store.atomic: the store's.)
RANK = {
    "": 0,
    "errors": 0,
    "spans": 0,
    "arrays": 0,
    "outfiles": 3,
    "days": 3,
    "schema": 0,
    "vocabulary": 0,
    "settings": 0,
    "_version": 0,
    "_lazy": 0,
    "progress": 0,
    "parallel": 0,
    "tracks": 1,
    "io": 2,
    "store": 3,
    "engine": 4,
    "spark": 5,
    "analysis": 5,
    "case": 6,
    "basemap": 6,
    "report": 7,
    "exports": 7,
    "web": 8,
    "simulate": 9,
    "evidence": 9,
    "cli": 10,
    "__main__": 10,
    "api": 11,
}


def _graph() -> dict[str, set[str]]:
    """module -> the modules it imports, at the top or in a function (not TYPE_CHECKING)."""
    found: dict[str, set[str]] = {}
    for path in (SRC / "whereabouts").rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        names: set[str] = set()

        def visit(node: ast.AST, names: set[str] = names) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                    continue
                if isinstance(child, ast.ImportFrom) and (child.module or "").startswith(
                    "whereabouts"
                ):
                    names.update(f"{child.module}.{a.name}" for a in child.names)
                elif isinstance(child, ast.Import):
                    names.update(a.name for a in child.names if a.name.startswith("whereabouts"))
                visit(child)

        visit(ast.parse(path.read_text(encoding="utf-8")))
        found[name] = names
    modules = set(found)

    def module_of(name: str) -> str | None:
        while name not in modules and "." in name:
            name = name.rsplit(".", 1)[0]
        return name if name in modules else None

    return {m: {d for n in names if (d := module_of(n)) and d != m} for m, names in found.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_layers_import_only_downwards() -> None:
    graph = _graph()
    assert all(_layer(m) in RANK for m in graph), sorted({_layer(m) for m in graph} - set(RANK))
    upwards = sorted(
        f"{m} -> {d}"
        for m, deps in graph.items()
        for d in deps
        if RANK[_layer(d)] > RANK[_layer(m)]
    )
    assert upwards == []
