"""Layering of the engine, read from the sources (imports anywhere in a module, lazy ones included; imports
under ``if TYPE_CHECKING:`` are not imports at run time and are left out):

- no import cycle between engine modules (trainer and run folder included);
- inference and geo I/O never import ``core.training``: only the training package itself, the command line
  (the composition root), find-the-rest (a short training, then a prediction) and the demo may;
- the development tools (synthetic scenes, demo, sample data) are imported by no product module, only by the
  command line, so the plugin zip can leave them out.

Each check is shown to fail on a small package built to break it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.quick  # make test-fast

TRAINING_USERS = ("core.cli", "core.demo", "core.find", "core.training")
DEV_TOOLS = ("core.synthetic", "core.demo", "core.sample_data")
DEV_TOOL_USERS = ("core.cli", "core.demo", "core.synthetic", "core.sample_data")


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.Module) -> list[ast.AST]:
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    return [node for node in ast.walk(tree) if id(node) not in typing_only]


def import_graph(package: Path) -> dict[str, set[str]]:
    """{module: modules of the same package it imports}, for every module under ``package``."""
    root = package.parent
    modules = {_module_name(p, root): p for p in package.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in _runtime_nodes(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                candidates = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            found |= {c for c in candidates if c in modules and c != name}
        graph[name] = found
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle found by a depth-first walk, as [a, b, ..., a]."""
    found: list[list[str]] = []
    finished: set[str] = set()

    def walk(node: str, path: list[str]) -> None:
        for target in sorted(graph[node]):
            if target in path:
                found.append([*path[path.index(target) :], target])
            elif target not in finished:
                walk(target, [*path, target])
        finished.add(node)

    for start in sorted(graph):
        if start not in finished:
            walk(start, [start])
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def forbidden_imports(graph: dict[str, set[str]], targets: tuple[str, ...], allowed: tuple[str, ...]) -> list[str]:
    """'module -> target' for each import of ``targets`` by a module outside ``allowed``."""
    return [
        f"{module} -> {target}"
        for module, imported in sorted(graph.items())
        if not _within(module, allowed)
        for target in sorted(imported)
        if _within(target, targets)
    ]


def test_the_engine_has_no_import_cycle(repo_root) -> None:
    graph = import_graph(repo_root / "core")
    assert "core.training.run_folder" in graph["core.training.run"], "the graph misses plain imports"
    assert cycles(graph) == []


def test_inference_and_geo_io_never_import_training(repo_root) -> None:
    graph = import_graph(repo_root / "core")
    assert forbidden_imports(graph, ("core.training",), TRAINING_USERS) == []


def test_no_product_module_imports_the_development_tools(repo_root) -> None:
    graph = import_graph(repo_root / "core")
    assert forbidden_imports(graph, DEV_TOOLS, DEV_TOOL_USERS) == []


@pytest.fixture
def tangled(tmp_path) -> Path:
    package = tmp_path / "core"
    (package / "training").mkdir(parents=True)
    for name in ("__init__.py", "training/__init__.py"):
        (package / name).write_text("")
    (package / "training" / "trainer.py").write_text("def run():\n    from core.training import run_folder\n")
    (package / "training" / "run_folder.py").write_text("from core.training.trainer import run\n")
    (package / "predict.py").write_text("import core.training.trainer\n")
    (package / "evaluate.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from core.training import trainer\n"
    )
    (package / "segment.py").write_text("def later():\n    from core.synthetic import scene\n")
    (package / "synthetic.py").write_text("")
    return package


def test_the_checks_catch_a_tangled_package(tangled) -> None:
    graph = import_graph(tangled)
    assert [set(cycle) for cycle in cycles(graph)] == [{"core.training.run_folder", "core.training.trainer"}]
    assert forbidden_imports(graph, ("core.training",), TRAINING_USERS) == ["core.predict -> core.training.trainer"]
    assert forbidden_imports(graph, DEV_TOOLS, DEV_TOOL_USERS) == ["core.segment -> core.synthetic"]
