"""The plugin uses only forms that QGIS 3.22 (Qt 5) and QGIS 4 (Qt 6) both take (scripts/qt6_forms.py)."""

from __future__ import annotations

import importlib.util


def checker(repo_root):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("qt6_forms", repo_root / "scripts" / "qt6_forms.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_plugin_has_no_qt5_only_forms(repo_root) -> None:
    assert checker(repo_root).problems_in() == []


def test_each_qt5_only_form_is_found(repo_root, tmp_path) -> None:
    (tmp_path / "old.py").write_text(
        "from qgis.core import Qgis, QgsTask\n"
        "from qgis.PyQt.QtCore import Qt, QVariant\n"
        "from qgis.PyQt.QtWidgets import QAction\n"
        "level, flags, button = Qgis.Warning, QgsTask.CanCancel, Qt.LeftButton\n"
        "kind = QVariant.String\n"
        "dialog.exec_()\n"
    )
    found = checker(repo_root).problems_in(tmp_path)
    assert "old.py:4: Qgis.Warning -> Qgis.MessageLevel.Warning" in found
    assert "old.py:4: QgsTask.CanCancel -> QgsTask.Flag.CanCancel" in found
    assert "old.py:4: Qt.LeftButton -> Qt.MouseButton.LeftButton" in found
    assert "old.py:3: QAction from QtWidgets -> qt_compat.QAction" in found
    assert "old.py:6: exec_() -> exec()" in found
    assert any(problem.startswith("old.py:5: QVariant") for problem in found)
