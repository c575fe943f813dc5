"""The plugin's layering, read from the sources: controllers are given a Host (host.py) and their own sections
of the panel; they never reach the plugin object or the dock (and so no other section's widgets), and each
Processing algorithm and panel section is a module of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.quick  # make test-plugin-fast

PLUGIN = Path(__file__).resolve().parents[2] / "sam2_qgis_plugin"


def reaches_past_host(path: Path) -> list[str]:
    """'file:line what' for each use of the dock or the plugin object in a controller module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Attribute) and node.attr in ("dock", "plugin"):
            found.append(f"{path.name}:{node.lineno} .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] in ("plugin", "dock"):
            found.append(f"{path.name}:{node.lineno} import {node.module}")
    return found


def test_controllers_use_only_their_host_and_sections() -> None:
    controllers = sorted(PLUGIN.glob("*_controller.py"))
    assert len(controllers) == 9
    assert [line for path in controllers for line in reaches_past_host(path)] == []


def logic_imports(path: Path) -> list[str]:
    """The modules of engine, task or raster logic ``path`` imports (the plugin object only wires them)."""
    logic = {"engine", "jobs", "remote", "bands", "install_controller", "settings_dialog", "settings"}
    tree = ast.parse(path.read_text(), filename=str(path))
    return sorted(
        str(node.module) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module in logic
    )


def test_the_plugin_object_is_wiring() -> None:
    assert logic_imports(PLUGIN / "plugin.py") == []


def test_the_wiring_check_catches_engine_logic(tmp_path) -> None:
    (tmp_path / "plugin.py").write_text("from .engine import WorkerClient, probe\nfrom .panel.dock import Sam2Dock\n")
    assert logic_imports(tmp_path / "plugin.py") == ["engine"]


def test_the_check_catches_a_controller_reaching_into_the_dock(tmp_path) -> None:
    (tmp_path / "x_controller.py").write_text(
        "from .plugin import Sam2Plugin\n\ndef f(self):\n    return self.plugin.dock.train.epochs_spin\n"
    )
    assert reaches_past_host(tmp_path / "x_controller.py") == [
        "x_controller.py:1 import plugin",
        "x_controller.py:4 .dock",
        "x_controller.py:4 .plugin",
    ]


def test_one_module_per_algorithm_and_per_section() -> None:
    from sam2_qgis_plugin.panel.dock import Sam2Dock  # imports every section
    from sam2_qgis_plugin.panel.section import Section
    from sam2_qgis_plugin.processing.base import EngineAlgorithm
    from sam2_qgis_plugin.processing.provider import Sam2Provider

    provider = Sam2Provider()
    provider.loadAlgorithms()
    modules = [type(algorithm).__module__ for algorithm in provider.algorithms()]
    assert len(modules) == 9
    assert len(set(modules)) == len(modules)
    assert all(isinstance(algorithm, EngineAlgorithm) for algorithm in provider.algorithms())
    assert Sam2Dock.__module__ == "sam2_qgis_plugin.panel.dock"
    sections = {cls.__module__ for cls in Section.__subclasses__()}
    assert len(sections) == len(Section.__subclasses__()) >= 10
