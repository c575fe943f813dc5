"""Where to label next from the panel: the engine's suggest job with a real (random-init) model, its heat and
places layers, Previous / Next zooming to each place, and the places proposed again after a fine-tuning."""

from __future__ import annotations

import shutil

import pytest
from qgis.core import QgsPointXY, QgsProject
from qgis.PyQt.QtCore import QEvent

from tests.plugin.test_find_review import panel_on


@pytest.fixture(scope="module")
def scene(synthetic_scene):
    return synthetic_scene(512)


@pytest.fixture(scope="module")
def tuned(scene, engine_files, core_cli, train_args, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A model tuned for the whole raster on the scene (one epoch through the engine's command line): its last.pt,
    tuned whether or not it beat the base (a base model's uncertainty is refused)."""
    run = tmp_path_factory.mktemp("tuned") / "run"
    done = core_cli(
        *train_args(scene / "scene_image.tif", scene / "scene_labels.gpkg", engine_files["checkpoint"], run, 1, 4),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return str(run / "last.pt")


def test_places_to_label_are_shown_visited_and_renewed_after_fine_tuning(
    qgis_iface, qgis_app, scene, tuned, tmp_path, qtbot
) -> None:
    from sam2_qgis_plugin.suggest_controller import HEAT_LAYER, PLACES_LAYER

    plugin, _, drawn = panel_on(qgis_iface, scene, 2)
    canvas = qgis_iface.mapCanvas()
    try:
        dock = plugin.dock
        dock.suggest.suggest_count_spin.setValue(4)
        plugin.engine.session = type("Chosen", (), {"checkpoint": tuned})()
        assert plugin.suggesting.suggest(tmp_path / "round1") is not None
        qtbot.waitUntil(lambda: bool(plugin.suggesting.places), timeout=300_000)
        names = [layer.name() for layer in QgsProject.instance().mapLayers().values()]
        assert names.count(HEAT_LAYER) == 1
        assert names.count(PLACES_LAYER) == 1
        heat = QgsProject.instance().mapLayersByName(HEAT_LAYER)[0]
        assert heat.renderer().type() == "singlebandpseudocolor"
        assert heat.opacity() < 1
        places = QgsProject.instance().mapLayersByName(PLACES_LAYER)[0]
        assert 1 <= places.featureCount() <= 4
        assert places.labelsEnabled()
        shown = plugin.suggesting.places
        assert dock.suggest.suggest_label.text().startswith(
            f"Place 1 of {len(shown)}: the model cannot tell object from "
        )
        assert dock.suggest.suggest_row.isVisible() or not dock.isVisible()
        assert canvas.center().distance(QgsPointXY(shown[0]["x"], shown[0]["y"])) < 1.0  # the map went to it
        for drawn_object in drawn.getFeatures():  # no place on what is labelled
            for place in shown:
                assert not drawn_object.geometry().contains(QgsPointXY(place["x"], place["y"]))
        if len(shown) > 1:
            dock.suggest.suggest_buttons["next"].click()
            assert dock.suggest.suggest_label.text().startswith(f"Place 2 of {len(shown)}: ")
            assert canvas.center().distance(QgsPointXY(shown[1]["x"], shown[1]["y"])) < 1.0
            dock.suggest.suggest_buttons["previous"].click()
            assert canvas.center().distance(QgsPointXY(shown[0]["x"], shown[0]["y"])) < 1.0
        first_layers = list(plugin.suggesting.layers)
        run_dir = tmp_path / "sam2_runs" / "tuned"  # a fine-tuning that beat the base: its best.pt is active
        run_dir.mkdir(parents=True)
        shutil.copy(tuned, run_dir / "best.pt")
        summary = {
            "base": {"iou": 0.2, "f1": 0.1, "epoch": 0}, "best": {"iou": 0.3, "f1": 0.2, "epoch": 1}, "improved": True,
            "labels_bought": "the last 3 objects added +0.06 IoU (validation IoU 0.24 with 2 objects, 0.30 with 5)",
        }  # fmt: skip
        plugin.tuning.finished(run_dir, summary)
        assert "The last 3 objects added +0.06 IoU" in dock.train.result_label.text()
        qtbot.waitUntil(lambda: plugin.suggesting.model == str(run_dir / "best.pt"), timeout=300_000)
        assert plugin.suggesting.layers != first_layers
        assert plugin.suggesting.places  # looked where the first round looked, not at the place shown last
        names = [layer.name() for layer in QgsProject.instance().mapLayers().values()]
        assert names.count(HEAT_LAYER) == 1  # the new places replaced the last ones
    finally:
        plugin.unload()
        qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)
        QgsProject.instance().removeAllMapLayers()
    assert not QgsProject.instance().mapLayersByName(HEAT_LAYER)
