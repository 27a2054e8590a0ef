"""The import graph of notifyctl: no cycles, and the layering issue 11 asked for.

Every `import` counts, also those inside functions (lazy imports still form a
cycle that only happens to work); only `if TYPE_CHECKING:` imports do not run.
Read from the source with `ast`, nothing imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "notifyctl"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    found: set[str] = set()
    for node in runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            # the longest known module the name refers to (a module, not an attribute)
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    nodes: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        nodes.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and getattr(child.test, "id", "") == "TYPE_CHECKING":
                todo.extend(child.orelse)
                continue
            todo.append(child)
    return nodes


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {m: imports_of(p, modules) - {m} for m, p in paths.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def without_package_inits(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    # `from notifyctl.x import y` also names the package `notifyctl.x`; its
    # __init__ re-exporting y is not a dependency between y and its importer.
    return {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in edges.items()}


def test_there_is_no_import_cycle() -> None:
    assert cycles(without_package_inits(graph())) == []


def test_release_never_imports_infra_and_plans_imports_neither() -> None:
    edges = graph()
    assert [(m, d) for m, deps in edges.items() if m.startswith("notifyctl.release")
            for d in deps if d.startswith("notifyctl.infra")] == []
    assert [(m, d) for m, deps in edges.items() if m.startswith("notifyctl.plans")
            for d in deps if d.startswith(("notifyctl.infra", "notifyctl.release",
                                           "notifyctl.cli"))] == []


def test_the_library_never_imports_the_cli() -> None:
    edges = graph()
    assert [(m, d) for m, deps in edges.items()
            if not m.startswith(("notifyctl.cli", "notifyctl.__main__"))
            for d in deps if d.startswith("notifyctl.cli")] == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
