"""The package's shape: exported names, no import cycles, surfaces only through Session.

The import graph is read from the source with `ast` (module-level imports, not those under
`if TYPE_CHECKING:` or inside functions) and checked for cycles with a depth-first search.
Every submodule import also runs its parent packages' `__init__`: those import nothing of
the package at run time (PEP 562 lazy names), so they cannot close a cycle either.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import seldon_jupyter

ROOT = Path(seldon_jupyter.__file__).parent
SURFACES = ("seldon_jupyter.magics", "seldon_jupyter.cli", "seldon_jupyter.widgets",
            "seldon_jupyter.server")


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def walk(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append(node)
            elif isinstance(node, ast.If) and not (
                    isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                walk(node.body)
                walk(node.orelse)
            elif isinstance(node, ast.Try):
                walk(node.body)

    walk(tree.body)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        parts = name.split(".")
        is_package = path.name == "__init__.py"
        for node in _runtime_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = parts if is_package else parts[:-1]
                    base = ".".join(anchor[:len(anchor) - node.level + 1] + ([base] if base
                                                                              else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target.startswith("seldon_jupyter") and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def test_no_module_imports_one_that_imports_it_back():
    graph = _graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert len(graph) > 40 and cycles == []


def test_parent_packages_import_nothing_of_the_package_eagerly():
    graph = _graph()
    for package in ("seldon_jupyter", "seldon_jupyter.backends",
                    "seldon_jupyter.backends.local"):
        assert graph[package] <= {"seldon_jupyter.errors"}, package


def test_surfaces_reach_backends_only_through_session():
    graph = _graph()
    for name, edges in graph.items():
        if not name.startswith(SURFACES):
            continue
        assert not {e for e in edges if e.startswith("seldon_jupyter.backends.local")}, name
        source = _modules()[name].read_text()
        assert "import sqlite3" not in source and "hasattr(" not in source, name
        assert "backend.name" not in source and "isinstance(session.backend" not in source


def test_sql_lives_in_the_journal_modules_only():
    for name, path in _modules().items():
        if name in ("seldon_jupyter.journal", "seldon_jupyter.journal_schema",
                    "seldon_jupyter.journal_ops",
                    "seldon_jupyter.journal_collected", "seldon_jupyter.journal_reader",
                    "seldon_jupyter.journal_arrow", "seldon_jupyter.journal_responses",
                    "seldon_jupyter.journal_retention"):  # writes, reads, pruning
            continue
        text = path.read_text()
        assert ".execute(" not in text or "sqlite" not in text, name


def test_exported_names():
    assert sorted(seldon_jupyter.__all__) == sorted([
        "BackendError", "EventError", "ManifestError", "ModelError", "NotFoundError",
        "NotReadyError", "PayloadError", "Resource", "SeldonJupyterError", "SendError",
        "Session", "Settings", "request_type", "response_type"])
    for name in seldon_jupyter.__all__:
        assert getattr(seldon_jupyter, name).__name__ == name
    assert issubclass(seldon_jupyter.SendError, seldon_jupyter.SeldonJupyterError)


def test_the_data_plane_processes_import_no_client_libraries():
    code = ("import sys, seldon_jupyter.backends.local.broker, "
            "seldon_jupyter.backends.local.predictor; "
            "print(sorted(m for m in ('pandas', 'requests', 'yaml', 'IPython') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.strip() == "[]"
