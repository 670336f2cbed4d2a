"""The library's layout: no import cycles between tierbook modules, and no module over 400 lines.

The import graph is read from the source (ast), not by importing: every `import` and
`from ... import` of a tierbook module counts, at module level and inside functions alike,
so a cycle hidden behind a function-level import fails too.  Imports under
`if TYPE_CHECKING:` are left out: they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from .conftest import ROOT

# Where each import name's source lives (pyproject.toml's package-dir)
FOLDERS = {"tierbook": ROOT / "engine", "tierbook.cli": ROOT / "cli"}

MAX_LINES = 400


def _sources() -> dict[str, Path]:
    """Every tierbook module's dotted name -> its file."""
    found: dict[str, Path] = {}
    for package, folder in FOLDERS.items():
        for path in sorted(folder.rglob("*.py")):
            if any(part.startswith(".") or part == "__pycache__" for part in path.parts):
                continue
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if package == "tierbook" and parts[0] == "cli":
                continue
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for other in node.orelse:
                yield from _imports(other)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node)


def import_graph() -> dict[str, set[str]]:
    modules = _sources()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                # `from x import y` imports the module x.y when there is one, else x
                targets = [
                    f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in modules else stem
                    for alias in node.names
                ]
            for target in targets:
                # `import a.b.c` runs a, a.b and a.b.c: the nearest stored module counts
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert len(graph) > 40  # the walk found the library
    assert cycles(graph) == []


def test_the_import_graph_follows_relative_imports() -> None:
    graph = import_graph()
    assert "tierbook.cli.segment_cmds" in graph["tierbook.cli.main"]
    assert "tierbook.errors" in graph["tierbook.cli.segment_cmds"]
    assert all(target in graph for targets in graph.values() for target in targets)


def _long_modules() -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in _sources().values()
        if len(path.read_text("utf-8").splitlines()) > MAX_LINES
    }


def test_no_module_over_the_line_limit() -> None:
    # a module that grows past the limit is split (cohesive parts into modules of their own)
    assert _long_modules() == set()


def test_every_subpackage_is_packaged() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    packaged = set(config["packages"])
    for name, path in _sources().items():
        if path.name == "__init__.py":
            assert name in packaged, f"{name} is missing from pyproject.toml's packages"
