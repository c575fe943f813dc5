"""The engine's folders are its layers, read from the sources (imports anywhere in a module, lazy ones included;
imports under ``if TYPE_CHECKING:`` are not imports at run time and are left out):

- no import cycle between engine modules;
- a package imports only packages below it in ``LAYERS`` (so io and geometry never load a model, inference never
  imports training, and nothing below the command line imports it), plus the shared ``errors`` and ``options``;
- the development tools (``core.devtools``: synthetic scenes, demo, sample data) are imported by nothing that
  ships, only by the command line, so the plugin zip leaves them out;
- the top level holds only the shared modules: every other module lives in the package of its layer.

Each check is shown to fail on a small package built to break it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.quick  # make test-fast

#: The engine's packages, lowest first: each may import the ones before it.
LAYERS = ("geometry", "tracking", "io", "models", "inference", "evaluation", "training", "workflows", "jobs", "cli")
SHARED = ("errors", "options")  # imported by every layer; import nothing of the engine
TOP_LEVEL = (*SHARED, "__main__")
DEV_TOOLS = "devtools"  # may import anything; imported only by the command line


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


def _package(module: str) -> str:
    """core.io.raster -> io; core.errors -> errors; core -> ''."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """'module -> target' for each import that goes up or sideways between layers, or into the development tools
    from outside the command line."""
    found = []
    for module, imported in sorted(graph.items()):
        source = _package(module)
        for target in sorted(imported):
            wanted = _package(target)
            if wanted in ("", source) or (wanted in SHARED and source not in SHARED):
                continue
            if wanted == DEV_TOOLS:
                allowed = source in ("cli", DEV_TOOLS)
            elif source == DEV_TOOLS or source == "__main__":
                allowed = True
            elif source in LAYERS and wanted in LAYERS:
                allowed = LAYERS.index(wanted) < LAYERS.index(source)
            else:
                allowed = False
            if not allowed:
                found.append(f"{module} -> {target}")
    return found


def stray_modules(package: Path) -> list[str]:
    """Modules at the top level of ``package`` that belong in a layer's folder, and folders that are no layer."""
    known = {*LAYERS, *TOP_LEVEL, DEV_TOOLS, "__init__"}
    return sorted(
        p.stem if p.is_file() else p.name + "/"
        for p in package.iterdir()
        if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists())) and p.stem not in known
    )


def test_the_engine_has_no_import_cycle(repo_root) -> None:
    graph = import_graph(repo_root / "core")
    assert "core.training.run_folder" in graph["core.training.run"], "the graph misses plain imports"
    assert cycles(graph) == []


def test_each_layer_imports_only_the_layers_below_it(repo_root) -> None:
    graph = import_graph(repo_root / "core")
    assert "core.io.labels" in graph["core.inference.predict"] | graph["core.io.aoi"], "the graph misses layers"
    assert layer_violations(graph) == []


def test_every_module_lives_in_the_folder_of_its_layer(repo_root) -> None:
    assert stray_modules(repo_root / "core") == []


@pytest.fixture
def tangled(tmp_path) -> Path:
    package = tmp_path / "core"
    for folder in ("training", "inference", "io", "devtools", "cli"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "errors.py").write_text("")
    (package / "training" / "trainer.py").write_text("def run():\n    from core.training import run_folder\n")
    (package / "training" / "run_folder.py").write_text("from core.training.trainer import run\nimport core.errors\n")
    (package / "inference" / "predict.py").write_text("import core.training.trainer\nfrom core.io import raster\n")
    (package / "inference" / "evaluate.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from core.training import trainer\n"
    )
    (package / "io" / "raster.py").write_text("def later():\n    from core.devtools import scene\n")
    (package / "devtools" / "scene.py").write_text("from core.training import trainer\n")
    (package / "cli" / "demo.py").write_text("from core.devtools import scene\n")
    (package / "segment.py").write_text("")
    return package


def test_the_checks_catch_a_tangled_package(tangled) -> None:
    graph = import_graph(tangled)
    assert [set(cycle) for cycle in cycles(graph)] == [{"core.training.run_folder", "core.training.trainer"}]
    assert layer_violations(graph) == [
        "core.inference.predict -> core.training.trainer",
        "core.io.raster -> core.devtools",
        "core.io.raster -> core.devtools.scene",
    ]
    assert stray_modules(tangled) == ["segment"]
