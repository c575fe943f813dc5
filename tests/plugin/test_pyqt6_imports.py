"""The plugin under Qt 6 (QGIS 4): every module imports with PyQt6 from PyPI, and every Qt enum the plugin
names (``Qt.MouseButton.LeftButton``, ``QDialogButtonBox.StandardButton.Ok``...), and every other attribute of
a Qt class it uses (``QTimer.singleShot``), exists in PyQt6.

QGIS 4 is not on this machine, so a stand-in ``qgis`` package serves PyQt6 as ``qgis.PyQt`` (as QGIS does) and
empty stand-ins for ``qgis.core``/``qgis.gui``/``qgis.utils`` (any name, any attribute). What this proves is the
Qt side: imports that moved (QAction), enums that must be scoped, module and class bodies that run at import.
QGIS's own API under Qt 6 is checked statically by tests/plugin/test_qt6_forms.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PYQT6 = "PyQt6==6.11.0"
QT_MODULES = ("QtCore", "QtGui", "QtWidgets", "QtTest", "QtNetwork", "QtSvg")

STUB = '''
class _Stub(type):
    """Any attribute of a stand-in class is another stand-in class (Qgis.MessageLevel.Info, QgsTask.Flag...)."""

    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Stub(name, (), {})

    def __or__(cls, other):
        return cls

    __ror__ = __or__


class Qgis(metaclass=_Stub):
    """QGIS 4's version: the plugin picks its Qt 6 forms by it (qt_compat.field_type)."""

    QGIS_VERSION_INT = 40000

    @staticmethod
    def versionInt():
        return 40000


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return _Stub(name, (), {})
'''

CHECK = """
import ast, importlib, json, pkgutil, sys
from pathlib import Path

import sam2_qgis_plugin

package = Path(sam2_qgis_plugin.__file__).parent
imported, failed = [], {}
for module in pkgutil.iter_modules([str(package)]):
    name = f"sam2_qgis_plugin.{module.name}"
    try:
        importlib.import_module(name)
        imported.append(name)
    except Exception as error:
        failed[name] = f"{type(error).__name__}: {error}"

# The QGIS < 3.38 branch of qt_compat.field_type: Qt 5 only, never taken under Qt 6.
QT5_BRANCH = "QVariant.Type"
enums, missing = set(), {}
for path in package.glob("*.py"):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    qt_names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("qgis.PyQt."):
            for alias in node.names:
                qt_names[alias.asname or alias.name] = (node.module.split(".")[-1], alias.name)
    for node in ast.walk(tree):
        chain = []
        while isinstance(node, ast.Attribute):
            chain.insert(0, node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id in qt_names and chain:
            module, name = qt_names[node.id]
            value = getattr(importlib.import_module(f"PyQt6.{module}"), name)
            shown = ".".join([name, *chain])
            enums.add(shown)
            try:
                for attribute in chain:
                    value = getattr(value, attribute)
            except AttributeError:
                if not shown.startswith(QT5_BRANCH):
                    missing[shown] = path.name
print(json.dumps({"imported": imported, "failed": failed, "enums": sorted(enums), "missing": missing}))
"""


@pytest.fixture(scope="session")
def pyqt6_python() -> Path:
    """A virtual environment with PyQt6 from PyPI, kept in the user's cache between runs."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sam2-qgis"
    venv = cache / f"pyqt6-venv-{PYQT6.split('==')[1]}"
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    if not (venv / ".complete").exists():
        subprocess.run([sys.base_prefix + "/bin/python3", "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PYQT6],
            check=True, timeout=600,
        )  # fmt: skip
        (venv / ".complete").write_text(PYQT6)
    return python


@pytest.fixture
def stand_in_qgis(tmp_path) -> Path:
    """A ``qgis`` package as QGIS 4 presents it: ``qgis.PyQt.*`` is PyQt6; core, gui and utils are stand-ins."""
    root = tmp_path / "standin"
    (root / "qgis" / "PyQt").mkdir(parents=True)
    (root / "qgis" / "__init__.py").write_text("")
    (root / "qgis" / "PyQt" / "__init__.py").write_text("")
    for module in QT_MODULES:
        (root / "qgis" / "PyQt" / f"{module}.py").write_text(f"from PyQt6.{module} import *  # noqa\n")
    for module in ("core", "gui", "utils", "processing"):
        (root / "qgis" / f"{module}.py").write_text(STUB)
    return root


def run_under_pyqt6(python: Path, stand_in: Path, repo_root: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(stand_in), str(repo_root)]), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [str(python), "-c", CHECK], cwd=stand_in, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_plugin_module_imports_under_pyqt6(pyqt6_python, stand_in_qgis, repo_root) -> None:
    result = run_under_pyqt6(pyqt6_python, stand_in_qgis, repo_root)
    assert result["failed"] == {}
    assert len(result["imported"]) >= 20  # all of them: dock, map tool, tasks, Processing...
    assert "sam2_qgis_plugin.qt_compat" in result["imported"]


def test_every_qt_enum_the_plugin_names_exists_in_pyqt6(pyqt6_python, stand_in_qgis, repo_root) -> None:
    result = run_under_pyqt6(pyqt6_python, stand_in_qgis, repo_root)
    assert result["missing"] == {}
    assert len(result["enums"]) >= 20  # the check saw the plugin's enums and Qt names, not none
    assert "Qt.MouseButton.LeftButton" in result["enums"]
