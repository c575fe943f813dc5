"""Translation-ready (issue 16 item 5): every string the analyst reads goes through tr(), the template lists
them, and a translation compiled by Qt's lrelease changes what the panel says."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess

import pytest


@pytest.fixture(scope="module")
def i18n_strings(repo_root):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("i18n_strings", repo_root / "scripts" / "i18n_strings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_shown_string_is_translatable_and_the_template_is_current(i18n_strings) -> None:
    assert i18n_strings.main(["--check"]) == 0
    found = i18n_strings.messages()
    assert len(found) > 150  # the panel, the settings, the messages, Processing
    assert "Install engine" in found


@pytest.mark.parametrize(
    "source",
    [
        'QLabel("Active model: none", parent)',
        'self.button.setToolTip(f"Use {name}")',
        'bar.pushMessage("SAM 2", "the engine is installed")',
        'raise SessionError("choose a layer" + suffix)',
        'QgsProcessingParameterBoolean("FILL", "Fill holes", False)',
        'tr(f"cannot read {path}")',
    ],
)
def test_the_check_finds_a_string_that_bypasses_tr(i18n_strings, tmp_path, source) -> None:
    module = tmp_path / "widget.py"
    module.write_text(f"def build(parent, name, path, suffix, bar):\n    {source}\n")
    assert len(i18n_strings.problems_in(module)) == 1


def test_names_units_and_translated_text_pass_the_check(i18n_strings, tmp_path) -> None:
    module = tmp_path / "widget.py"
    module.write_text(
        "def build(spin, bar, text):\n"
        '    spin.setSuffix(" m")\n'
        '    bar.pushMessage("SAM 2", tr("the engine is {state}").format(state=text))\n'
        "    QLabel(text)\n"
    )
    assert i18n_strings.problems_in(module) == []


@pytest.mark.skipif(shutil.which("lrelease") is None, reason="needs Qt's lrelease (make setup installs it)")
def test_a_compiled_translation_changes_what_the_panel_says(
    i18n_strings, tmp_path, qgis_iface, qgis_app, monkeypatch
) -> None:
    from qgis.core import QgsSettings
    from qgis.PyQt.QtCore import QEvent

    import sam2_qgis_plugin
    import sam2_qgis_plugin.i18n as i18n

    template = i18n_strings.TEMPLATE.read_text(encoding="utf-8")
    translated = template.replace(
        '<source>Install engine</source>\n        <translation type="unfinished"></translation>',
        "<source>Install engine</source>\n        <translation>Engine installieren</translation>",
    ).replace(
        '<source>Active model: none</source>\n        <translation type="unfinished"></translation>',
        "<source>Active model: none</source>\n        <translation>Aktives Modell: keines</translation>",
    )
    assert translated.count("installieren") == 1
    source = tmp_path / "sam2_qgis_plugin_de.ts"
    source.write_text(translated, encoding="utf-8")
    subprocess.run(["lrelease", str(source)], check=True, capture_output=True)
    assert (tmp_path / "sam2_qgis_plugin_de.qm").exists()

    monkeypatch.setattr(i18n, "FOLDER", tmp_path)
    settings = QgsSettings()
    before = settings.value("locale/userLocale")
    settings.setValue("locale/userLocale", "de_DE")
    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    try:
        plugin.initGui()
        assert plugin.translator is not None
        assert plugin.dock.engine.settings.install_button.text() == "Engine installieren"
        assert plugin.dock.model.model_label.text() == "Aktives Modell: keines"
        choices = plugin.dock.model.choice_combo
        assert choices.itemText(choices.count() - 1) == "Checkpoint file..."  # untranslated strings stay English
    finally:
        plugin.unload()
        qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)
        settings.setValue("locale/userLocale", before or "")
    assert i18n.tr("Install engine") == "Install engine"  # unloading removed the translation
