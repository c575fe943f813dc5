"""The panel's state as an analyst meets it: the map tool given back, remembered tuned models ready to use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from qgis.core import QgsProject, QgsSettings
from qgis.gui import QgsMapToolPan
from qgis.PyQt.QtCore import QEvent, Qt

import sam2_qgis_plugin
from sam2_qgis_plugin.settings import TUNED_MODELS


@pytest.fixture
def plugin(qgis_iface, qgis_app):
    loaded = sam2_qgis_plugin.classFactory(qgis_iface)
    loaded.initGui()
    loaded.ensure_session = lambda: None  # the map tool only keeps it: no engine process for these checks
    yield loaded
    loaded.unload()
    qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)
    QgsProject.instance().removeAllMapLayers()


def test_segmenting_off_gives_back_the_analysts_map_tool(plugin, qgis_iface) -> None:
    canvas = qgis_iface.mapCanvas()
    pan = QgsMapToolPan(canvas)
    canvas.setMapTool(pan)
    plugin.dock.segment.segment_button.setChecked(True)
    assert canvas.mapTool() is plugin.segmenting.tool
    plugin.dock.segment.segment_button.setChecked(False)
    assert canvas.mapTool() is pan


def test_choosing_another_map_tool_releases_the_segment_button(plugin, qgis_iface) -> None:
    canvas = qgis_iface.mapCanvas()
    plugin.dock.segment.segment_button.setChecked(True)
    pan = QgsMapToolPan(canvas)
    canvas.setMapTool(pan)  # the analyst picks Pan in QGIS's toolbar
    assert not plugin.dock.segment.segment_button.isChecked()
    assert canvas.mapTool() is pan  # and keeps it


def test_one_list_offers_tuned_official_and_file_models(qgis_app, monkeypatch, tmp_path) -> None:
    from qgis.PyQt.QtWidgets import QFileDialog

    from sam2_qgis_plugin.panel import model as model_panel

    model = model_panel.ModelSection()
    combo = model.choice_combo
    titles = lambda: [combo.itemText(i) for i in range(combo.count()) if combo.itemText(i)]  # noqa: E731
    assert model.choice().kind == "official"  # nothing tuned yet: an official model is the choice
    assert titles()[-1] == "Checkpoint file..."
    model.offer_tuned(Path("/runs/a/best.pt"), "a (IoU 0.50)")
    assert titles()[0] == "a (IoU 0.50)"  # fine-tuned models first, the newest chosen
    assert model.chosen_tuned() == "/runs/a/best.pt"
    assert model.official_model() == ""

    checkpoint = tmp_path / "a folder with a long name" / "sam2.1_hiera_t-img256-seed0.pt"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(checkpoint), ""))
    browse = combo.findText("Checkpoint file...")
    combo.setCurrentIndex(browse)
    combo.activated.emit(browse)  # as the analyst picks it: the file dialog answers
    assert model.choice() == model_panel.ModelChoice("file", str(checkpoint), "sam2.1_hiera\u202656-seed0.pt")
    assert combo.itemData(combo.currentIndex(), Qt.ItemDataRole.ToolTipRole) == str(checkpoint)  # whole path
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: ("", ""))
    combo.setCurrentIndex(combo.findText("Checkpoint file..."))
    combo.activated.emit(combo.currentIndex())  # cancelled: a model, not "Checkpoint file...", is chosen
    assert model.choice().kind == "tuned"
    model.show_active("SAM 2.1 tiny", "/runs/a/best.pt", 256, "cpu")
    assert model.model_label.text() == "Active model: SAM 2.1 tiny (a/best.pt, 256 px, cpu)"
    model.deleteLater()


def test_remembered_tuned_models_are_selected_after_a_restart(qgis_iface, qgis_app, tmp_path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "best.pt").write_bytes(b"weights")
    (run / "summary.json").write_text(json.dumps({"best": {"iou": 0.71}}))
    settings = QgsSettings()
    before = settings.value(TUNED_MODELS.key, [])
    settings.setValue(TUNED_MODELS.key, [str(run / "best.pt")])
    loaded = sam2_qgis_plugin.classFactory(qgis_iface)
    loaded.initGui()
    try:
        used: list[str] = []
        loaded.engine.use_checkpoint = used.append
        combo = loaded.dock.model.choice_combo
        assert combo.currentIndex() == 0
        assert combo.currentText() == "run (IoU 0.71)"
        loaded.dock.model.use_button.click()
        assert used == [str(run / "best.pt")]
    finally:
        loaded.unload()
        qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)
        settings.setValue(TUNED_MODELS.key, before)


def test_the_report_without_a_browser_says_where_it_is(plugin, qgis_iface, tmp_path) -> None:
    from qgis.core import Qgis
    from qgis.PyQt.QtGui import QDesktopServices

    (tmp_path / "report.html").write_text("<html></html>")
    plugin.tuning.last_run = tmp_path
    QDesktopServices.unsetUrlHandler("file")  # no browser (offscreen QGIS opens nothing)
    bar = qgis_iface.messageBar()
    bar.clear_messages()
    assert plugin.tuning.open_report() is False
    assert any(
        f"no browser opened the report: it is {tmp_path / 'report.html'}" in m for m in bar.get_messages(Qgis.Info)
    )


def test_the_panel_fits_the_default_dock_width_and_explains_every_choice(qgis_app) -> None:
    from qgis.PyQt.QtWidgets import QWidget

    from sam2_qgis_plugin.panel.dock import Sam2Dock

    dock = Sam2Dock()  # floating, so that its width is the one given here
    dock.model.model_label.setText(
        "Active model: SAM 2.1 tiny (sam2.1_hiera_t-img256-seed0.pt, 256 px, cpu)"
    )  # long words
    dock.resize(300, 900)  # about QGIS's default width for a right-hand dock
    dock.show()
    qgis_app.processEvents()
    for index in range(dock.tabs.count()):  # every task's tab, as the analyst opens it
        dock.tabs.setCurrentIndex(index)
        qgis_app.processEvents()
        assert dock.overflow_px() == 0, dock.tabs.tabText(index)  # nothing cut off, nothing to scroll sideways
    kinds = ("_combo", "_button", "_spin", "_edit", "_widget", "_check")
    choices = [
        (type(section).__name__, name, value)
        for section in dock.sections()
        for name, value in vars(section).items()
        if isinstance(value, QWidget) and name.endswith(kinds)
    ]
    assert len(choices) > 20
    assert [(owner, name) for owner, name, widget in choices if not widget.toolTip()] == []
    dock.deleteLater()


def test_the_label_layer_is_chosen_not_guessed(qgis_iface, qgis_app) -> None:
    from qgis.core import QgsVectorLayer

    output = QgsVectorLayer("Polygon?crs=EPSG:32633", "sam2_segments", "memory")  # the model's own output
    QgsProject.instance().addMapLayer(output)
    loaded = sam2_qgis_plugin.classFactory(qgis_iface)
    loaded.initGui()
    try:
        assert loaded.dock.labels.labels_combo.currentLayer() is None
    finally:
        loaded.unload()
        qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)
        QgsProject.instance().removeAllMapLayers()


def test_the_panels_choices_are_kept_across_sessions(qgis_iface, qgis_app) -> None:
    first = sam2_qgis_plugin.classFactory(qgis_iface)
    first.initGui()
    dock = first.dock
    dock.train.epochs_spin.setValue(37)
    dock.train.lr_spin.setValue(0.0005)
    dock.train.trainable_combo.setCurrentText("lora")
    dock.predict.extent_combo.setCurrentText("visible map extent")
    dock.segment.class_combo.setCurrentText("building")
    dock.shapes.right_angles_spin.setValue(15)
    dock.shapes.fill_holes_check.setChecked(True)
    first.unload()
    qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)
    second = sam2_qgis_plugin.classFactory(qgis_iface)  # as after restarting QGIS
    second.initGui()
    try:
        dock = second.dock
        assert dock.train.epochs_spin.value() == 37
        assert dock.train.lr_spin.value() == pytest.approx(0.0005)
        assert dock.train.trainable_combo.currentText() == "lora"
        assert dock.predict.extent_combo.currentText() == "visible map extent"
        assert dock.segment.class_combo.currentText() == "building"
        assert dock.shapes.right_angles_spin.value() == 15
        assert dock.shapes.fill_holes_check.isChecked()
    finally:
        second.unload()
        qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)


def test_the_panels_shapes_reach_clicks_and_predictions(qgis_iface, qgis_app, tmp_path) -> None:
    from osgeo import gdal, osr
    from qgis.core import QgsRasterLayer

    dataset = gdal.GetDriverByName("GTiff").Create(str(tmp_path / "ortho.tif"), 8, 8, 3, gdal.GDT_Byte)
    dataset.SetGeoTransform((500000.0, 0.5, 0.0, 4000000.0, 0.0, -0.5))
    crs = osr.SpatialReference()
    crs.ImportFromEPSG(32633)
    dataset.SetProjection(crs.ExportToWkt())
    del dataset
    ortho = QgsRasterLayer(str(tmp_path / "ortho.tif"), "ortho")
    loaded = sam2_qgis_plugin.classFactory(qgis_iface)
    loaded.initGui()
    try:
        dock = loaded.dock
        dock.shapes.simplify_spin.setValue(1.0)
        dock.shapes.min_area_spin.setValue(2.0)
        dock.shapes.right_angles_spin.setValue(15)
        dock.shapes.fill_holes_check.setChecked(True)
        dock.shapes.max_diameter_spin.setValue(30.0)
        dock.shapes.min_compactness_spin.setValue(0.4)
        dock.shapes.largest_part_check.setChecked(True)
        expected = {"simplify": 2.0, "min_area": 2.0, "right_angles": 15.0, "fill_holes": True}
        expected |= {"max_diameter": 30.0, "min_compactness": 0.4, "largest_part": True}
        assert loaded.polygon_options(ortho) == expected
        assert loaded.ensure_session().polygon_options(ortho) == expected  # what each click sends
    finally:
        loaded.unload()
        qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)


def fully_shown(label) -> bool:  # type: ignore[no-untyped-def]
    """A word-wrapped label is as tall as its text needs and inside its window."""
    bottom = label.mapTo(label.window(), label.rect().bottomLeft()).y()
    return label.height() >= label.heightForWidth(label.width()) and bottom <= label.window().height()


def test_engine_settings_live_in_their_dialog_and_are_kept(qgis_iface, qgis_app, engine_files, tmp_path, qtbot) -> None:
    import sys

    first = sam2_qgis_plugin.classFactory(qgis_iface)
    first.initGui()
    try:
        dock = first.dock
        assert dock.engine.python_widget.window() is dock.engine.settings  # not in the panel
        assert dock.engine.device_combo.window() is dock.engine.settings
        dock.engine.settings_button.click()
        assert dock.engine.settings.isVisible()
        dock.engine.python_widget.setFilePath(sys.executable)
        dock.engine.device_combo.setCurrentText("cpu")
        dock.engine.settings.cache_widget.setFilePath(str(tmp_path / "embeddings"))
        dock.engine.settings.close()
    finally:
        first.unload()
        qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)
    second = sam2_qgis_plugin.classFactory(qgis_iface)  # as after restarting QGIS
    second.initGui()
    try:
        dock = second.dock
        assert dock.engine.device_combo.currentText() == "cpu"
        assert dock.engine.settings.cache_dir() == str(tmp_path / "embeddings")
        dock.engine.python_widget.setFilePath(sys.executable)
        settings = dock.engine.settings
        settings.show()  # open while the engine answers: the window grows with what it says
        second.use_checkpoint(engine_files["checkpoint"])
        qtbot.waitUntil(lambda: "Active model: SAM" in dock.model.model_label.text(), timeout=120_000)
        assert second.session.device == "cpu"  # clicks run where the settings say
        assert second.engine.client.cache_dir == str(tmp_path / "embeddings")
        assert dock.training_options()["device"] == "cpu"  # and jobs too
        # reloaded, the analyst only chose a model: the engine line says what runs it, not "not checked"
        assert dock.engine.engine_label.text().startswith("Engine: torch ")
        assert "CPU only" in dock.engine.engine_label.text()
        qgis_app.processEvents()
        assert "weights and embeddings cached in" in settings.engine_label.text()
        assert fully_shown(settings.engine_label)  # its last line is not cut
        edit = dock.engine.python_widget.lineEdit()
        assert edit.width() >= edit.fontMetrics().horizontalAdvance(sys.executable)  # the whole path, not its end
        settings.close()
    finally:
        second.unload()
        qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)


def test_one_model_for_all_classes_goes_to_the_training_request(qgis_app) -> None:
    from qgis.core import QgsProject, QgsVectorLayer

    from sam2_qgis_plugin.panel.dock import Sam2Dock

    labels = QgsVectorLayer("Polygon?crs=EPSG:32633&field=class_id:integer&field=class_name:string", "labels", "memory")
    QgsProject.instance().addMapLayer(labels)
    dock = Sam2Dock()
    dock.labels.labels_combo.setLayer(labels)
    dock.labels.class_field_combo.setField("class_id")
    dock.train.name_field_combo.setField("class_name")
    assert dock.training_options()["multiclass"] is False
    assert dock.training_options()["name_field"] is None  # names matter only to one model of all classes
    dock.train.multiclass_check.setChecked(True)
    options = dock.training_options()
    assert options["multiclass"] is True
    assert options["name_field"] == "class_name"
    assert options["class_field"] == "class_id"
    dock.deleteLater()
    QgsProject.instance().removeMapLayer(labels.id())


def test_the_panel_says_how_each_class_scored() -> None:
    from sam2_qgis_plugin.training_controller import result_text

    scores = lambda iou: {"iou": iou, "f1": iou, "precision": iou, "recall": iou}  # noqa: E731
    summary = {
        "base": {"iou": 0.1, "f1": 0.2}, "best": {"iou": 0.3, "f1": 0.4, "epoch": 2}, "improved": True,
        "validation": {"objects": 40, "tiles": 6},
        "classes": {"1": {"name": "building", "base": scores(0.05), "best": scores(0.25)},
                    "2": {"name": "tree", "base": scores(0.15), "best": scores(0.35)}},
    }  # fmt: skip
    text = result_text("landcover", summary)
    assert "validation IoU 0.100 (base) -> 0.300 (best, epoch 2)" in text
    assert "IoU by class: building 0.05 -> 0.25, tree 0.15 -> 0.35" in text
    assert "40 objects in 6 validation tiles" in text
    del summary["classes"]
    assert "by class" not in result_text("buildings", summary)


def test_a_run_from_a_tuned_model_never_calls_it_the_base_model() -> None:
    from sam2_qgis_plugin.training_controller import result_text

    summary = {
        "base": {"iou": 0.5, "f1": 0.6}, "best": {"iou": 0.7, "f1": 0.8, "epoch": 1}, "improved": True,
        "validation": {"objects": 9, "tiles": 2}, "started_from": "tuned",
    }  # fmt: skip
    assert "validation IoU 0.500 (start) -> 0.700" in result_text("again", summary)
    summary |= {"improved": False, "best": {"iou": 0.5, "f1": 0.6, "epoch": 0}}
    text = result_text("again", summary)
    assert "the model you started from stands" in text
    assert "base" not in text
