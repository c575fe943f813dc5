"""One module holds every QgsSettings key of the plugin (sam2_qgis_plugin/settings.py), and the panel's lists of
models, devices and encoders are the engine's (job_defaults.json, written by ``python -m core describe``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sam2_qgis_plugin import job_defaults, settings

pytestmark = pytest.mark.quick  # make test-plugin-fast

PLUGIN = Path(__file__).resolve().parents[2] / "sam2_qgis_plugin"


def settings_keys_outside(folder: Path, home: str = "settings.py") -> list[str]:
    """'file:line' of each string spelling a plugin settings key, and each QgsSettings() call reading or writing
    one, outside ``home`` (QGIS's own locale key, read for translations, is not ours)."""
    found: list[tuple[str, int]] = []
    for path in sorted(folder.rglob("*.py")):
        if path.name == home:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("sam2_qgis/"):
                found.append((path.name, node.lineno))
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("value", "setValue", "remove")
                and "QgsSettings()" in ast.unparse(node.func.value)
                and "locale/" not in ast.unparse(node)
            ):
                found.append((path.name, node.lineno))
    return [f"{name}:{line}" for name, line in sorted(found)]


def test_every_settings_key_lives_in_the_settings_module() -> None:
    assert settings_keys_outside(PLUGIN) == []
    assert {s.key if isinstance(s, settings.Setting) else s.prefix for s in settings.ALL} == {
        "sam2_qgis/python", "sam2_qgis/device", "sam2_qgis/encoder", "sam2_qgis/cache_dir",
        "sam2_qgis/tuned_models", "sam2_qgis/panel", "sam2_qgis/bands",
    }  # fmt: skip


def test_the_check_finds_a_key_spelled_elsewhere(tmp_path) -> None:
    (tmp_path / "stray.py").write_text(
        'from qgis.core import QgsSettings\nQgsSettings().setValue("sam2_qgis/new", 1)\nQgsSettings().value(KEY)\n'
    )
    assert settings_keys_outside(tmp_path) == ["stray.py:2", "stray.py:2", "stray.py:3"]


def test_a_setting_keeps_its_value_and_falls_back_to_its_default(qgis_app) -> None:  # type: ignore[no-untyped-def]
    before = settings.DEVICE.value()
    try:
        settings.DEVICE.remove()
        assert settings.DEVICE.value() == "auto"
        settings.DEVICE.set_value("cpu")
        assert settings.DEVICE.value() == "cpu"
        settings.PANEL.set_value("threshold", 0.7)
        assert float(settings.PANEL.value("threshold")) == 0.7
    finally:
        settings.DEVICE.set_value(before)
        settings.PANEL.remove()
    assert settings.PANEL.value("threshold") is None


def test_the_panels_lists_are_the_engines(qgis_iface) -> None:  # type: ignore[no-untyped-def]
    from sam2_qgis_plugin.panel.dock import Sam2Dock
    from sam2_qgis_plugin.settings_dialog import SettingsDialog

    dock = Sam2Dock(qgis_iface.mainWindow())
    dialog = SettingsDialog()
    try:
        models = [choice.value for choice in dock.model.official]
        shown = [choice.title for choice in dock.model.official]
        listed = [dock.model.choice_combo.itemData(i) for i in range(dock.model.choice_combo.count())]
        assert [name for name in listed if name in models] == models  # the list shows them, in that order
        devices = [dialog.device_combo.itemText(i) for i in range(dialog.device_combo.count())]
        encoders = [dialog.encoder_combo.itemData(i) for i in range(dialog.encoder_combo.count())]
    finally:
        dock.deleteLater()
        dialog.deleteLater()
    assert models == job_defaults.choices("model", "engine")
    assert "sam2_hiera_l" in models  # the seed pipeline's sam2_hiera_large.pt
    assert devices == job_defaults.choices("device", "engine") == ["auto", "cuda", "mps", "cpu"]
    assert encoders == job_defaults.choices("encoder", "engine")
    assert shown[models.index("sam2.1_hiera_l")] == "SAM 2.1 large"  # words that fit, not "sam2.1_h..."


@pytest.mark.parametrize("python", ["/a/.venv/bin/python", "/check/work/main/.venv/bin/python", "/x" * 40 + "/python"])
def test_the_settings_window_shows_every_line_of_the_engine(qgis_iface, python) -> None:  # type: ignore[no-untyped-def]
    """The panel narrows its own forms (long rows wrap under their label); the Settings window, a child window of
    the panel, keeps whole rows, so that the engine's word-wrapped summary gets all its lines whatever the path."""
    from qgis.PyQt.QtWidgets import QApplication, QFormLayout

    from sam2_qgis_plugin.panel.dock import Sam2Dock

    dock = Sam2Dock(qgis_iface.mainWindow())
    settings_window = dock.engine.settings
    try:
        settings_window.python_widget.setFilePath(python)
        settings_window.show_engine(
            "Engine: Python 3.11.2, torch 2.14.1+cu130, sam2 1.0.3, CPU only; weights and embeddings cached in "
            "/root/.cache/sam2-qgis"
        )
        settings_window.show()
        for _ in range(10):
            QApplication.processEvents()
        label = settings_window.engine_label
        assert label.height() >= label.heightForWidth(label.width()) > 0
        forms = settings_window.findChildren(QFormLayout)
        assert forms
        assert all(form.rowWrapPolicy() == QFormLayout.RowWrapPolicy.DontWrapRows for form in forms)
        wrapped = [form for form in dock.findChildren(QFormLayout) if form not in forms]
        assert wrapped
        assert all(form.rowWrapPolicy() == QFormLayout.RowWrapPolicy.WrapLongRows for form in wrapped)
    finally:
        settings_window.close()
        dock.deleteLater()
