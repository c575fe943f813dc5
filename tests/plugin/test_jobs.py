"""Fine-tuning and prediction as engine processes driven from QGIS: progress, cancel, results as layers."""

from __future__ import annotations

import sys
import time

import pytest
from qgis.core import QgsProject

from sam2_qgis_plugin.jobs import add_prediction_layers, run_core_job


@pytest.fixture(scope="module")
def scene(synthetic_scene):
    return synthetic_scene(512)


def test_training_job_reports_progress_and_returns_the_summary(train_args, scene, engine_files, tmp_path) -> None:
    progress: list[float] = []
    summary = run_core_job(
        sys.executable,
        [
            *train_args(
                scene / "scene_image.tif",
                scene / "scene_labels.gpkg",
                engine_files["checkpoint"],
                tmp_path / "run",
                2,
                4,
            ),
            "--events",
            "-",
        ],
        lambda value, event: progress.append(value),
        lambda: False,
    )
    assert progress[-1] == pytest.approx(100.0)
    assert progress == sorted(progress)
    assert summary["epochs"] == 2
    assert (tmp_path / "run" / "best.pt").exists()


def test_cancelled_training_ends_within_seconds_and_keeps_the_last_checkpoint(
    train_args, scene, engine_files, tmp_path
) -> None:
    run_dir, seen = tmp_path / "run", []
    epochs_done = lambda: any(e.get("iou") is not None and e.get("epoch", 0) >= 1 for e in seen)  # noqa: E731
    started = []

    def cancelled() -> bool:
        if epochs_done() and not started:
            started.append(time.monotonic())
        return bool(started)

    with pytest.raises(InterruptedError, match="keeps its last good checkpoint"):
        run_core_job(
            sys.executable,
            [
                *train_args(
                    scene / "scene_image.tif", scene / "scene_labels.gpkg", engine_files["checkpoint"], run_dir, 50, 4
                ),
                "--events",
                "-",
            ],
            lambda value, event: seen.append(event),
            cancelled,
        )
    assert time.monotonic() - started[0] < 20
    assert (run_dir / "last.pt").exists()
    assert (run_dir / "resume.pt").exists()
    assert not [p for p in run_dir.iterdir() if ".tmp" in p.name]


def test_prediction_job_adds_mask_and_polygons_in_the_raster_crs(scene, engine_files, tmp_path) -> None:
    progress: list[float] = []
    result = run_core_job(
        sys.executable,
        [
            "predict",
            "--raster",
            str(scene / "scene_image.tif"),
            "--checkpoint",
            engine_files["checkpoint"],
            "--out",
            str(tmp_path / "mask.tif"),
            "--vector",
            str(tmp_path / "objects.gpkg"),
            "--device",
            "cpu",
            "--threshold",
            "0.3",
        ],
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


def test_a_failing_job_says_why(engine_files, tmp_path) -> None:
    from sam2_qgis_plugin.engine import EngineError

    with pytest.raises(EngineError, match="raster not found"):
        run_core_job(
            sys.executable,
            [
                "predict",
                "--raster",
                str(tmp_path / "none.tif"),
                "--checkpoint",
                engine_files["checkpoint"],
                "--out",
                str(tmp_path / "m.tif"),
            ],
            lambda value, event: None,
            lambda: False,
        )


def test_fine_tune_and_predict_from_the_panel(qgis_iface, scene, engine_files, tmp_path, qtbot) -> None:
    from qgis.core import Qgis, QgsRasterLayer, QgsVectorLayer

    import sam2_qgis_plugin

    raster = QgsRasterLayer(str(scene / "scene_image.tif"), "ortho")
    labels = QgsVectorLayer(f"{scene / 'scene_labels.gpkg'}|layername=labels", "labels", "ogr")
    buildings = QgsVectorLayer("MultiPolygon?crs=EPSG:4326&field=class_id:integer", "drawn buildings", "memory")
    from qgis.core import QgsCoordinateTransform, QgsFeature

    to_wgs84 = QgsCoordinateTransform(labels.crs(), buildings.crs(), QgsProject.instance())
    copies = []
    for feature in labels.getFeatures():  # labels "drawn" in another CRS, in an unsaved layer
        if feature["class_id"] == 1:
            geometry = feature.geometry()
            geometry.transform(to_wgs84)
            copy = QgsFeature(buildings.fields())
            copy.setGeometry(geometry)
            copy["class_id"] = 1
            copies.append(copy)
    buildings.dataProvider().addFeatures(copies)
    QgsProject.instance().addMapLayers([raster, buildings])
    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    try:
        plugin.dock.python_widget.setFilePath(sys.executable)
        plugin.dock.raster_combo.setLayer(raster)
        plugin.dock.labels_combo.setLayer(buildings)
        plugin.dock.mode_combo.setCurrentText("auto")
        plugin.dock.epochs_spin.setValue(1)
        plugin.dock.tile_spin.setValue(128)
        plugin.ensure_session().load_model(engine_files["checkpoint"], device="cpu")
        plugin.session.checkpoint = engine_files["checkpoint"]
        bar = qgis_iface.messageBar()
        bar.clear_messages()
        assert plugin.fine_tune(tmp_path / "run", ["--device", "cpu"]) is not None
        assert plugin.fine_tune(tmp_path / "run2") is None  # one training at a time, and it says so
        assert any("already running" in m for m in bar.get_messages(Qgis.Warning))
        qtbot.waitUntil(lambda: "best.pt" in plugin.dock.model_label.text(), timeout=300_000)
        assert any("fine-tuned: validation IoU" in m for m in bar.get_messages(Qgis.Success))
        assert (tmp_path / "run" / "labels.gpkg").exists()

        before = set(QgsProject.instance().mapLayers())
        plugin.predict_raster(tmp_path / "predictions")
        qtbot.waitUntil(lambda: len(set(QgsProject.instance().mapLayers()) - before) == 2, timeout=300_000)
        added = [QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - before]
        assert {layer.crs().authid() for layer in added} == {"EPSG:32633"}
    finally:
        plugin.unload()
        QgsProject.instance().removeAllMapLayers()


def test_a_run_folder_that_cannot_be_written_is_refused(qgis_iface, scene, engine_files, tmp_path) -> None:
    from qgis.core import Qgis, QgsRasterLayer, QgsVectorLayer

    import sam2_qgis_plugin

    raster = QgsRasterLayer(str(scene / "scene_image.tif"), "ortho")
    labels = QgsVectorLayer(f"{scene / 'scene_labels.gpkg'}|layername=labels", "labels", "ogr")
    QgsProject.instance().addMapLayers([raster, labels])
    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    try:
        plugin.dock.raster_combo.setLayer(raster)
        plugin.dock.labels_combo.setLayer(labels)
        plugin.ensure_session().checkpoint = engine_files["checkpoint"]
        blocker = tmp_path / "a file"
        blocker.write_text("")
        bar = qgis_iface.messageBar()
        bar.clear_messages()
        assert plugin.fine_tune(blocker / "run") is None
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
        plugin.dock.python_widget.setFilePath(sys.executable)
        plugin.dock.raster_combo.setLayer(raster)
        plugin.dock.labels_combo.setLayer(far)
        plugin.ensure_session().checkpoint = engine_files["checkpoint"]
        bar = qgis_iface.messageBar()
        bar.clear_messages()
        plugin.fine_tune(tmp_path / "run", ["--device", "cpu", "--tile-size", "128"])
        qtbot.waitUntil(
            lambda: any("do not overlap the raster" in m for m in bar.get_messages(Qgis.Warning)), timeout=120_000
        )
        qtbot.waitUntil(lambda: plugin.training is None, timeout=10_000)  # a failed run frees the slot
    finally:
        plugin.unload()
        QgsProject.instance().removeAllMapLayers()
