"""The process boundary: ``core`` never loads Qt/QGIS; the plugin never loads torch/sam2.

Two checks each: a fresh interpreter imports every module and lists what got loaded (catches imports
through dependencies), and a scan of the sources finds import statements anywhere, even inside
functions that the first check never runs. Both checks are shown to fail on a deliberately leaky package.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.quick  # make test-fast

CORE_FORBIDDEN = ("qgis", "PyQt5", "PyQt6", "PySide2", "PySide6", "sip")
PLUGIN_FORBIDDEN = ("torch", "torchvision", "sam2", "hydra")


def loaded_roots(package: str, root: Path) -> set[str]:
    """Top-level names in sys.modules after importing every module of ``package`` in a new interpreter."""
    script = f"""
import importlib, json, pkgutil, sys
package = importlib.import_module({package!r})
for info in pkgutil.walk_packages(package.__path__, {package!r} + "."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}})))
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def imports_in_source(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    """'file:line module' for every import of a forbidden top-level module anywhere in ``folder``."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [f"{path.name}:{node.lineno} {n}" for n in names if n.split(".")[0] in forbidden]
    return found


def test_core_loads_no_qt_or_qgis(repo_root) -> None:
    assert loaded_roots("core", repo_root).isdisjoint(CORE_FORBIDDEN)
    assert imports_in_source(repo_root / "core", CORE_FORBIDDEN) == []


def test_plugin_loads_no_torch_or_sam2(repo_root) -> None:
    loaded = loaded_roots("sam2_qgis_plugin", repo_root)
    assert "qgis" in loaded, "the plugin modules were not really imported"
    assert loaded.isdisjoint(PLUGIN_FORBIDDEN)
    assert imports_in_source(repo_root / "sam2_qgis_plugin", PLUGIN_FORBIDDEN) == []


@pytest.fixture
def leaky_package(tmp_path) -> Path:
    package = tmp_path / "leaky"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "eager.py").write_text("import qgis.core  # noqa\n")
    (package / "lazy.py").write_text("def later():\n    from torch import nn  # noqa\n")
    return tmp_path


def test_checks_catch_a_broken_boundary(leaky_package) -> None:
    assert "qgis" in loaded_roots("leaky", leaky_package)
    assert imports_in_source(leaky_package / "leaky", PLUGIN_FORBIDDEN) == ["lazy.py:2 torch"]
    assert imports_in_source(leaky_package / "leaky", CORE_FORBIDDEN) == ["eager.py:1 qgis.core"]
