"""Fine-tuning and prediction as engine processes driven from QGIS: progress, cancel, results as layers."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import pytest
from qgis.core import QgsProject
from qgis.PyQt.QtCore import QObject, QUrl, pyqtSlot
from qgis.PyQt.QtGui import QDesktopServices

from sam2_qgis_plugin.jobs import add_prediction_layers, run_core_job


@pytest.fixture(scope="module")
def scene(synthetic_scene):
    return synthetic_scene(512)


def plugin_with_scene(qgis_iface, scene):  # type: ignore[no-untyped-def]
    """The scene's orthophoto and label layers in the project, and the plugin loaded."""
    from qgis.core import QgsRasterLayer, QgsVectorLayer

    import sam2_qgis_plugin

    raster = QgsRasterLayer(str(scene / "scene_image.tif"), "ortho")
    labels = QgsVectorLayer(f"{scene / 'scene_labels.gpkg'}|layername=labels", "labels", "ogr")
    QgsProject.instance().addMapLayers([raster, labels])
    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    return raster, labels, plugin


def test_training_job_reports_progress_and_returns_the_summary(train_request, scene, engine_files, tmp_path) -> None:
    progress: list[float] = []
    events: list[dict] = []
    summary = run_core_job(
        sys.executable,
        "train",
        train_request(
            scene / "scene_image.tif", scene / "scene_labels.gpkg", engine_files["checkpoint"], tmp_path / "run", 2, 4
        ),
        lambda value, event: (progress.append(value), events.append(event)),
        lambda: False,
    )
    assert "tiles" in events[0]  # the tile counts come first, before any training
    assert events[0]["tiles"]["train"] == summary["tiles"]["train"] > 0
    assert progress[-1] == pytest.approx(100.0)
    assert progress == sorted(progress)
    assert summary["epochs"] == 2
    assert (tmp_path / "run" / "best.pt").exists()


def test_cancelled_training_ends_within_seconds_and_keeps_the_last_checkpoint(
    train_request, scene, engine_files, tmp_path
) -> None:
    run_dir, seen = tmp_path / "run", []
    epochs_done = lambda: any(e.get("iou") is not None and e.get("epoch", 0) >= 1 for e in seen)  # noqa: E731
    started = []

    def cancelled() -> bool:
        if epochs_done() and not started:
            started.append(time.monotonic())
        return bool(started)

    result = run_core_job(
        sys.executable,
        "train",
        train_request(
            scene / "scene_image.tif", scene / "scene_labels.gpkg", engine_files["checkpoint"], run_dir, 50, 4
        ),
        lambda value, event: seen.append(event),
        cancelled,
    )
    assert time.monotonic() - started[0] < 20
    assert result["stopped"] is True  # stopped at a safe point: a result, not a failure
    assert result["resume"] == str(run_dir)
    assert result["epoch"] >= 2
    assert result["best"]["epoch"] >= 0
    assert (run_dir / "last.pt").exists()
    assert (run_dir / "resume.pt").exists()
    assert not [p for p in run_dir.iterdir() if ".tmp" in p.name]


def predict_request(scene: Path, checkpoint: str, out: Path, **more: object) -> dict:
    """The options of a ``predict`` of the scene's orthophoto on the CPU into ``out``, and ``more``."""
    return {"raster": scene / "scene_image.tif", "checkpoint": checkpoint, "out": out, "device": "cpu", **more}


def test_prediction_job_adds_mask_and_polygons_in_the_raster_crs(scene, engine_files, tmp_path) -> None:
    progress: list[float] = []
    result = run_core_job(
        sys.executable,
        "predict",
        predict_request(
            scene, engine_files["checkpoint"], tmp_path / "mask.tif", vector=tmp_path / "objects.gpkg", threshold=0.3
        ),
        lambda value, event: progress.append(value),
        lambda: False,
    )
    assert progress[-1] == pytest.approx(100.0)
    layers = add_prediction_layers(result["mask"], result["vector"], "test")
    try:
        assert [layer.crs().authid() for layer in layers] == ["EPSG:32633", "EPSG:32633"]
        assert layers[0].width() == 512
    finally:
        for layer in layers:
            QgsProject.instance().removeMapLayer(layer.id())


def test_a_failing_job_says_why_and_logs_it(engine_files, tmp_path) -> None:
    from qgis.core import QgsApplication
    from qgis.PyQt.QtCore import QCoreApplication

    from sam2_qgis_plugin.engine import EngineError

    logged: list[tuple[str, str]] = []
    QgsApplication.messageLog().messageReceived.connect(lambda message, tag, level: logged.append((tag, message)))
    with pytest.raises(EngineError, match="raster not found") as raised:
        run_core_job(
            sys.executable,
            "predict",
            {"raster": tmp_path / "none.tif", "checkpoint": engine_files["checkpoint"], "out": tmp_path / "m.tif"},
            lambda value, event: None,
            lambda: False,
        )
    assert raised.value.expected is True  # from the job's error event: the analyst can fix it
    QCoreApplication.processEvents()
    sam2_lines = [message for tag, message in logged if tag == "SAM 2"]
    assert any("raster not found" in message for message in sam2_lines)  # the job's stderr, in QGIS's log


def test_job_warnings_reach_the_caller(scene, engine_files, tmp_path) -> None:
    """A base checkpoint forced into promptless prediction warns; the warning comes back as such."""
    warnings: list[str] = []
    run_core_job(
        sys.executable,
        "predict",
        predict_request(scene, engine_files["checkpoint"], tmp_path / "m.tif", mode="auto"),
        lambda value, event: None,
        lambda: False,
        on_warning=warnings.append,
    )
    assert any("was not tuned for promptless prediction" in w for w in warnings)


def test_the_plugin_uses_no_posix_only_process_calls(repo_root) -> None:
    """Cancel and job control must work on Windows: no signals, process groups or fork in the plugin."""
    import re

    posix_only = re.compile(r"os\.killpg|os\.setsid|os\.fork|start_new_session|signal\.SIG|os\.getpgid|preexec_fn")
    found = [
        f"{path.name}:{number}"
        for path in sorted((repo_root / "sam2_qgis_plugin").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if posix_only.search(line)
    ]
    assert found == []


class UrlCatcher(QObject):
    """Receives the URLs QDesktopServices would hand to the desktop (a Qt URL handler for file://)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @pyqtSlot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toLocalFile())


def test_fine_tune_and_predict_from_the_panel(qgis_iface, scene, engine_files, tmp_path, qtbot) -> None:
    from osgeo import gdal
    from qgis.core import Qgis, QgsCoordinateTransform, QgsFeature, QgsRasterLayer, QgsRectangle, QgsVectorLayer

    import sam2_qgis_plugin

    raster = QgsRasterLayer(str(scene / "scene_image.tif"), "ortho")
    labels = QgsVectorLayer(f"{scene / 'scene_labels.gpkg'}|layername=labels", "labels", "ogr")
    drawn = QgsVectorLayer("MultiPolygon?crs=EPSG:4326&field=kind:integer", "drawn labels", "memory")
    to_wgs84 = QgsCoordinateTransform(labels.crs(), drawn.crs(), QgsProject.instance())
    copies = []
    for feature in labels.getFeatures():  # labels "drawn" in another CRS, in an unsaved layer
        geometry = feature.geometry()
        geometry.transform(to_wgs84)
        copy = QgsFeature(drawn.fields())
        copy.setGeometry(geometry)
        copy["kind"] = feature["class_id"]
        copies.append(copy)
    drawn.dataProvider().addFeatures(copies)
    QgsProject.instance().addMapLayers([raster, drawn])
    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        dock = plugin.dock
        dock.engine.python_widget.setFilePath(sys.executable)
        dock.raster.raster_combo.setLayer(raster)
        dock.labels.labels_combo.setLayer(drawn)
        assert dock.labels.class_field_combo.layer() is drawn  # the field list follows the label layer
        dock.labels.class_field_combo.setField("kind")
        dock.train.classes_edit.setText("1")  # buildings only
        dock.train.mode_combo.setCurrentIndex(dock.train.mode_combo.findData("auto"))
        dock.train.epochs_spin.setValue(1)
        dock.train.tile_spin.setValue(128)
        dock.train.batch_spin.setValue(2)
        dock.train.lr_spin.setValue(3e-4)
        dock.train.val_spin.setValue(0.25)
        dock.engine.device_combo.setCurrentText("cpu")
        plugin.ensure_session().load_model(engine_files["checkpoint"], device="cpu")
        plugin.session.checkpoint = engine_files["checkpoint"]
        bar = qgis_iface.messageBar()
        bar.clear_messages()
        assert plugin.tuning.open_report() is False  # nothing to open yet, and it says so
        task = plugin.tuning.fine_tune(tmp_path / "run")
        assert task is not None
        paces: list[str] = []
        task.progressChanged.connect(lambda _: paces.append(task.description()))
        assert plugin.tuning.fine_tune(tmp_path / "run2") is None  # one training at a time, and it says so
        assert any("already running" in m for m in bar.get_messages(Qgis.Warning))
        qtbot.waitUntil(lambda: "best.pt" in dock.model.model_label.text(), timeout=300_000)
        assert any("fine-tuned: validation IoU" in m for m in bar.get_messages(Qgis.Success))
        assert any(
            re.search(r"epoch 1, [\d.]+ samples/s, (about \d+ min|under a minute) left; the starting model's IoU", p)
            for p in paces
        )
        assert not [p for p in paces if re.search(r"epoch 1, IoU", p)]  # the start's score is not epoch 1's

        config = (tmp_path / "run" / "config.yaml").read_text()
        for setting in ("batch_size: 2", "lr: 0.0003", "val_fraction: 0.25", "class_field: kind", "- 1", "device: cpu"):
            assert setting in config
        summary = json.loads((tmp_path / "run" / "summary.json").read_text())
        assert f"{summary['best']['iou']:.3f} (best" in dock.train.result_label.text()
        assert dock.train.result_label.text().count(f"{summary['best']['iou']:.3f}") == 1  # the gain said once
        assert dock.model.chosen_tuned() == str(tmp_path / "run" / "best.pt")  # listed first and chosen
        assert plugin.tuning.open_report() is True
        assert catcher.urls == [str(tmp_path / "run" / "report.html")]

        canvas = qgis_iface.mapCanvas()
        canvas.setDestinationCrs(raster.crs())
        full = raster.extent()
        top = full.yMaximum() - full.height() / 8
        canvas.setExtent(QgsRectangle(full.xMinimum(), top, full.xMaximum(), full.yMaximum()))  # a northern strip
        dock.predict.extent_combo.setCurrentText("visible map extent")
        dock.predict.threshold_spin.setValue(0.3)
        before = set(QgsProject.instance().mapLayers())
        plugin.prediction.predict_raster(tmp_path / "predictions")
        qtbot.waitUntil(lambda: len(set(QgsProject.instance().mapLayers()) - before) == 2, timeout=300_000)
        added = [QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - before]
        assert {layer.crs().authid() for layer in added} == {"EPSG:32633"}
        mask_layer = next(layer for layer in added if layer.type() == layer.RasterLayer)
        dataset = gdal.Open(mask_layer.source())
        mask, (_, _, _, north, _, pixel) = dataset.ReadAsArray(), dataset.GetGeoTransform()
        visible = canvas.extent()  # widened to the canvas's aspect ratio, still north of the raster's centre
        assert visible.yMinimum() > full.center().y()
        edge = int((north - visible.yMinimum()) / -pixel)
        assert (mask[edge + 2 :] == 255).all()  # south of the visible extent: not predicted
        assert (mask[: edge - 2] != 255).all()
    finally:
        QDesktopServices.unsetUrlHandler("file")
        plugin.unload()
        QgsProject.instance().removeAllMapLayers()


def test_a_run_folder_that_cannot_be_written_is_refused(qgis_iface, scene, engine_files, tmp_path) -> None:
    from qgis.core import Qgis

    raster, labels, plugin = plugin_with_scene(qgis_iface, scene)
    try:
        plugin.dock.raster.raster_combo.setLayer(raster)
        plugin.dock.labels.labels_combo.setLayer(labels)
        plugin.ensure_session().checkpoint = engine_files["checkpoint"]
        blocker = tmp_path / "a file"
        blocker.write_text("")
        bar = qgis_iface.messageBar()
        bar.clear_messages()
        assert plugin.tuning.fine_tune(blocker / "run") is None
        assert any("is not writable" in m for m in bar.get_messages(Qgis.Warning))
    finally:
        plugin.unload()
        QgsProject.instance().removeAllMapLayers()


def test_labels_outside_the_raster_are_reported(qgis_iface, scene, engine_files, tmp_path, qtbot) -> None:
    from qgis.core import Qgis, QgsFeature, QgsGeometry, QgsRasterLayer, QgsVectorLayer

    import sam2_qgis_plugin

    raster = QgsRasterLayer(str(scene / "scene_image.tif"), "ortho")
    far = QgsVectorLayer("Polygon?crs=EPSG:32633", "far away", "memory")
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromWkt("POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))"))  # kilometres away
    far.dataProvider().addFeatures([feature])
    QgsProject.instance().addMapLayers([raster, far])
    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    try:
        plugin.dock.engine.python_widget.setFilePath(sys.executable)
        plugin.dock.raster.raster_combo.setLayer(raster)
        plugin.dock.labels.labels_combo.setLayer(far)
        plugin.ensure_session().checkpoint = engine_files["checkpoint"]
        bar = qgis_iface.messageBar()
        bar.clear_messages()
        plugin.tuning.fine_tune(tmp_path / "run", {"device": "cpu", "tile_size": 128})
        qtbot.waitUntil(
            lambda: any("do not overlap the raster" in m for m in bar.get_messages(Qgis.Warning)), timeout=120_000
        )
        qtbot.waitUntil(lambda: plugin.tuning.task is None, timeout=10_000)  # a failed run frees the slot
    finally:
        plugin.unload()
        QgsProject.instance().removeAllMapLayers()


def engine_training_jobs() -> list[int]:
    """Pids of this process's children that run the engine's ``train`` job. Their command line names no option:
    the plugin sends the job as data (the request on stdin)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit():
                continue
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            words = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            if parent == os.getpid() and words[1:-1] == ["-m", "core", "train", "--request", "-", "--events", "-"]:
                pids.append(int(entry.name))
        except (OSError, IndexError, ValueError):  # the process ended while we looked
            pass
    return pids


def test_closing_qgis_during_training_cancels_it_and_ends_the_engine(
    qgis_iface, scene, engine_files, tmp_path, qtbot
) -> None:

    raster, labels, plugin = plugin_with_scene(qgis_iface, scene)
    run_dir = tmp_path / "run"
    try:
        plugin.dock.engine.python_widget.setFilePath(sys.executable)
        plugin.dock.raster.raster_combo.setLayer(raster)
        plugin.dock.labels.labels_combo.setLayer(labels)
        plugin.dock.train.mode_combo.setCurrentText("auto")
        plugin.dock.train.epochs_spin.setValue(200)
        plugin.dock.train.tile_spin.setValue(128)
        plugin.dock.engine.device_combo.setCurrentText("cpu")
        plugin.ensure_session().checkpoint = engine_files["checkpoint"]
        task = plugin.tuning.fine_tune(run_dir)
        assert task is not None
        qtbot.waitUntil(lambda: (run_dir / "last.pt").exists(), timeout=120_000)  # training is under way
        assert engine_training_jobs()
        started = time.monotonic()
    finally:
        plugin.unload()  # what QGIS calls on every plugin when it closes
        QgsProject.instance().removeAllMapLayers()
    assert time.monotonic() - started < 2  # the GUI is not held while the training saves its state
    qtbot.waitUntil(lambda: engine_training_jobs() == [], timeout=30_000)
    assert (run_dir / "resume.pt").exists()  # the run can be resumed
    assert not [p for p in run_dir.iterdir() if ".tmp" in p.name]


def test_predicting_in_an_aoi_without_a_layer_says_what_to_choose(qgis_iface, scene, engine_files, tmp_path) -> None:
    from qgis.core import Qgis, QgsRasterLayer

    import sam2_qgis_plugin

    raster = QgsRasterLayer(str(scene / "scene_image.tif"), "ortho")
    QgsProject.instance().addMapLayer(raster)
    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    try:
        plugin.dock.raster.raster_combo.setLayer(raster)
        plugin.ensure_session().checkpoint = engine_files["checkpoint"]
        plugin.dock.predict.extent_combo.setCurrentText("AOI layer")
        bar = qgis_iface.messageBar()
        bar.clear_messages()
        assert plugin.prediction.predict_raster(tmp_path / "predictions") is None
        assert any("choose the AOI layer" in m for m in bar.get_messages(Qgis.Warning))
        assert not list((tmp_path / "predictions").iterdir())  # nothing half-written
    finally:
        plugin.unload()
        QgsProject.instance().removeAllMapLayers()


def test_a_run_that_does_not_beat_the_base_leaves_the_active_model_and_says_why(
    qgis_iface, scene, engine_files, tmp_path, qtbot
) -> None:
    from qgis.core import Qgis

    raster, labels, plugin = plugin_with_scene(qgis_iface, scene)
    try:
        dock = plugin.dock
        dock.engine.python_widget.setFilePath(sys.executable)
        dock.raster.raster_combo.setLayer(raster)
        dock.labels.labels_combo.setLayer(labels)
        dock.labels.class_field_combo.setField("class_id")
        dock.train.classes_edit.setText("1")
        dock.train.epochs_spin.setValue(3)
        dock.engine.device_combo.setCurrentText("cpu")
        session = plugin.ensure_session()
        session.checkpoint = engine_files["checkpoint"]
        tuned_before = [choice.value for choice in dock.model.tuned]
        bar = qgis_iface.messageBar()
        bar.clear_messages()
        # a learning rate too small to change anything: no epoch can beat the base
        plugin.tuning.fine_tune(tmp_path / "run", {"tile_size": 128, "lr": 1e-12, "patience": 1})
        qtbot.waitUntil(lambda: plugin.tuning.task is None, timeout=300_000)
        assert any("the active model is unchanged" in m for m in bar.get_messages(Qgis.Warning))
        assert session.checkpoint == engine_files["checkpoint"]  # still the base the analyst chose
        assert [choice.value for choice in dock.model.tuned] == tuned_before
        assert "the base model stands" in dock.train.result_label.text()
        assert json.loads((tmp_path / "run" / "summary.json").read_text())["improved"] is False
    finally:
        plugin.unload()
        QgsProject.instance().removeAllMapLayers()


def test_the_panel_defaults_are_trainconfigs(qgis_iface) -> None:
    import sam2_qgis_plugin
    from sam2_qgis_plugin import job_defaults

    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    try:
        dock = plugin.dock
        shown = {
            "mode": dock.train.mode_combo.currentData(),
            "trainable": dock.train.trainable_combo.currentText(),
            "epochs": dock.train.epochs_spin.value(),
            "lr": dock.train.lr_spin.value(),
            "batch_size": dock.train.batch_spin.value(),
            "tile_size": dock.train.tile_spin.value(),
            "val_fraction": dock.train.val_spin.value(),
        }
        assert shown == {name: job_defaults.default(name) for name in shown}
        assert dock.predict.threshold_spin.value() == job_defaults.default("threshold", "predict")
        assert dock.train.mode_combo.currentText() == "for whole-raster prediction"  # the analyst's words
        assert "promptless" in dock.train.mode_combo.toolTip() or "prompts" in dock.train.mode_combo.toolTip()
    finally:
        plugin.unload()


def test_a_job_leaves_no_open_file_behind(engine_files, tmp_path) -> None:
    import gc
    import warnings

    from sam2_qgis_plugin.engine import EngineError

    request = predict_request(tmp_path, engine_files["checkpoint"], tmp_path / "m.tif")  # no raster there
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(EngineError, match="raster not found"):
            run_core_job(sys.executable, "predict", request, lambda value, event: None, lambda: False)
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_a_fine_tune_cancelled_before_its_first_epoch_completes_says_so_and_resumes(
    qgis_iface, scene, engine_files, tmp_path, qtbot
) -> None:
    from qgis.core import Qgis

    raster, labels, plugin = plugin_with_scene(qgis_iface, scene)
    run_dir = tmp_path / "run"
    try:
        dock = plugin.dock
        dock.engine.python_widget.setFilePath(sys.executable)
        dock.raster.raster_combo.setLayer(raster)
        dock.labels.labels_combo.setLayer(labels)
        dock.train.epochs_spin.setValue(1)
        dock.train.tile_spin.setValue(128)
        dock.engine.device_combo.setCurrentText("cpu")
        plugin.ensure_session().checkpoint = engine_files["checkpoint"]
        bar = qgis_iface.messageBar()
        bar.clear_messages()
        assert not dock.train.resume_button.isEnabled()
        task = plugin.tuning.fine_tune(run_dir)
        outcome: list[str] = []
        task.taskCompleted.connect(lambda: outcome.append("completed"))
        task.taskTerminated.connect(lambda: outcome.append("terminated"))
        qtbot.waitUntil(lambda: task.status() == task.Running, timeout=30_000)  # else QGIS drops it unstarted
        qtbot.waitUntil(lambda: not dock.job.isHidden(), timeout=10_000)  # the panel shows the job...
        assert "SAM 2 fine-tuning" in dock.job.job_label.text()
        dock.job.job_cancel_button.click()  # ...and cancels it: at once, before anything is trained
        assert task.description() == "SAM 2 fine-tuning: stopping..."  # no stale "about 4 min left"
        qtbot.waitUntil(lambda: plugin.tuning.task is None, timeout=120_000)
        qtbot.waitUntil(lambda: dock.job.isHidden(), timeout=10_000)
        assert outcome == ["completed"]  # stopped at a safe point: QGIS does not report "Task failed"
        assert "stopped before the first epoch" in dock.train.result_label.text()
        assert any("Resume" in m for m in bar.get_messages(Qgis.Info))
        assert dock.train.resume_button.isEnabled()
        assert (run_dir / "resume.pt").exists()

        dock.train.resume_button.click()
        assert plugin.tuning.task is not None
        assert not dock.train.resume_button.isEnabled()
        qtbot.waitUntil(lambda: plugin.tuning.task is None, timeout=300_000)
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["epochs"] == 1
        assert "validation IoU" in dock.train.result_label.text()
        assert plugin.tuning.stopped_run is None
    finally:
        plugin.unload()
        QgsProject.instance().removeAllMapLayers()


def test_a_stopped_run_offers_its_best_checkpoint_so_far(qgis_iface, tmp_path) -> None:
    import sam2_qgis_plugin

    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    best = tmp_path / "run" / "best.pt"
    best.parent.mkdir()
    best.write_bytes(b"a checkpoint")
    try:
        stopped = {  # what the engine's train job returns when cancelled after an epoch beat the base
            "stopped": True,
            "epoch": 3,
            "step": 40,
            "resume": str(best.parent),
            "base": {"iou": 0.41, "f1": 0.55},
            "best": {"epoch": 2, "iou": 0.63, "f1": 0.74},
            "best_checkpoint": str(best),
        }
        plugin.tuning.finished(best.parent, stopped)
        dock = plugin.dock
        assert "stopped in epoch 3" in dock.train.result_label.text()
        assert "0.410 -> 0.630" in dock.train.result_label.text()
        assert dock.model.chosen_tuned() == str(best)  # chosen: "Use" makes it active
        assert "stopped" in dock.model.choice().title
        assert plugin.tuning.stopped_run == best.parent
        assert dock.train.resume_button.isEnabled()
    finally:
        plugin.unload()
        from qgis.core import QgsSettings

        from sam2_qgis_plugin.settings import TUNED_MODELS

        QgsSettings().remove(TUNED_MODELS.key)
