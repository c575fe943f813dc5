"""Find the rest from the panel: a few examples in, candidates out as a review layer; keys accept and reject
into the label layer's edit buffer (Ctrl+Z takes a decision back), and Find again learns from them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from qgis.core import QgsFeature, QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import QEvent, Qt
from qgis.PyQt.QtTest import QTest

from sam2_qgis_plugin.output import OutputError, examples_layer
from sam2_qgis_plugin.review import ReviewTool, label_target


@pytest.fixture(scope="module")
def scene(synthetic_scene):
    return synthetic_scene(512)


def drawn_examples(scene, count: int) -> QgsVectorLayer:  # type: ignore[no-untyped-def]
    """``count`` of the scene's buildings "drawn" into an unsaved layer with a text field ``class``."""
    labels = QgsVectorLayer(f"{scene / 'scene_labels.gpkg'}|layername=labels", "labels", "ogr")
    drawn = QgsVectorLayer(f"MultiPolygon?crs={labels.crs().authid()}&field=class:string", "my labels", "memory")
    copies = []
    for feature in labels.getFeatures():
        if feature["class_id"] == 1 and len(copies) < count:
            copy = QgsFeature(drawn.fields())
            copy.setGeometry(feature.geometry())
            copy["class"] = "building"
            copies.append(copy)
    drawn.dataProvider().addFeatures(copies)
    return drawn


def panel_on(qgis_iface, scene, examples: int):  # type: ignore[no-untyped-def]
    """The plugin with its panel on the scene's orthophoto and ``examples`` drawn buildings (class field ``class``),
    the engine this interpreter on the CPU, the map on the raster: (plugin, raster, drawn). Unload it after."""
    from qgis.core import QgsRasterLayer

    import sam2_qgis_plugin

    raster = QgsRasterLayer(str(scene / "scene_image.tif"), "ortho")
    drawn = drawn_examples(scene, examples)
    QgsProject.instance().addMapLayers([raster, drawn])
    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    dock = plugin.dock
    dock.engine.python_widget.setFilePath(sys.executable)
    dock.raster.raster_combo.setLayer(raster)
    dock.labels.labels_combo.setLayer(drawn)
    dock.labels.class_field_combo.setField("class")
    dock.engine.device_combo.setCurrentText("cpu")
    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(raster.crs())
    canvas.setExtent(raster.extent())
    return plugin, raster, drawn


def test_examples_for_the_engine_mark_background_and_objects(scene) -> None:
    drawn = drawn_examples(scene, 3)
    drawn.startEditing()
    extra = QgsFeature(drawn.fields())
    extra.setGeometry(next(drawn.getFeatures()).geometry())
    extra["class"] = "background"
    drawn.addFeature(extra)  # an unsaved edit counts too
    classes = sorted(f["class"] for f in examples_layer(drawn, "class").getFeatures())
    assert classes == ["1", "1", "1", "background"]
    target = label_target(drawn, None)
    assert (target.field, target.object_value, target.background_value) == ("class", "building", "background")
    numbers = QgsVectorLayer("Polygon?crs=EPSG:32633&field=kind:integer", "numbers", "memory")
    assert label_target(numbers, "kind").background_value == 0
    nameless = QgsVectorLayer("Polygon?crs=EPSG:32633", "nameless", "memory")
    with pytest.raises(OutputError, match="has no class field to mark rejected candidates as background: add"):
        label_target(nameless, None)


def test_find_review_and_find_again_from_the_panel(qgis_iface, qgis_app, scene, engine_files, tmp_path, qtbot) -> None:
    plugin, _, drawn = panel_on(qgis_iface, scene, 10)
    canvas = qgis_iface.mapCanvas()
    try:
        dock = plugin.dock
        dock.train.tile_spin.setValue(128)
        dock.find.find_minutes_spin.setValue(1.5)
        assert "up to 1.5 min" in dock.find.find_button.text()  # the budget is shown before it starts
        plugin.engine.session = type("Chosen", (), {"checkpoint": engine_files["checkpoint"]})()
        assert plugin.finding.find(tmp_path / "round1") is not None
        qtbot.waitUntil(lambda: plugin.finding.review is not None, timeout=300_000)
        review = plugin.finding.review
        assert isinstance(canvas.mapTool(), ReviewTool)
        assert len(review.ids) >= 2, dock.find.find_result_label.text()
        assert "from 10 examples and 0 background marks" in dock.find.find_result_label.text()
        assert dock.find.review_label.text().startswith(f"Candidate 1 of {len(review.ids)}")
        shown = plugin.finding.highlight.asGeometry()  # the current candidate outlined on the map
        first = review.candidates.getFeature(review.ids[0]).geometry()
        assert shown.area() == pytest.approx(first.area(), rel=1e-6)
        assert canvas.extent().contains(first.boundingBox())  # zoomed to it
        before = drawn.featureCount()
        QTest.keyClick(canvas, Qt.Key.Key_A)  # accept the first
        assert drawn.featureCount() == before + 1
        assert review.candidates.getFeature(review.ids[0])["status"] == "accepted"
        QTest.keyClick(canvas, Qt.Key.Key_R)  # reject the second
        assert drawn.featureCount() == before + 2
        classes = sorted(str(f["class"]) for f in drawn.getFeatures())
        assert classes.count("background") == 1
        assert classes.count("building") == 11
        QTest.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # take the reject back
        assert drawn.featureCount() == before + 1
        assert review.candidates.getFeature(review.ids[1])["status"] == "candidate"
        assert review.index == 1
        QTest.keyClick(canvas, Qt.Key.Key_R)  # and reject it again
        QTest.keyClick(canvas, Qt.Key.Key_P)
        assert review.index == 1  # previous goes back to the one just rejected
        QTest.keyClick(canvas, Qt.Key.Key_A)  # a decided candidate stays as it is: no second feature
        assert drawn.featureCount() == before + 2
        assert review.candidates.getFeature(review.ids[1])["status"] == "rejected"
        dock.find.find_again_button.click()
        qtbot.waitUntil(lambda: plugin.finding.review is not review and plugin.finding.review is not None,
                        timeout=300_000)  # fmt: skip
        assert "from 11 examples and 1 background marks" in dock.find.find_result_label.text()
        layers = [layer.name() for layer in QgsProject.instance().mapLayers().values()]
        assert layers.count("SAM 2 candidates") == 1  # the new round replaced the last one's layer
    finally:
        plugin.unload()
        qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)
        QgsProject.instance().removeAllMapLayers()


def three_candidates(scene, path) -> str:  # type: ignore[no-untyped-def]
    """``path`` (named candidates.gpkg: its layer is "candidates") as core.workflows.find writes it: three of the
    scene's buildings, best score first."""
    from sam2_qgis_plugin.output import export_layer

    labels = QgsVectorLayer(f"{scene / 'scene_labels.gpkg'}|layername=labels", "labels", "ogr")
    fields = "field=candidate_id:integer&field=score:double&field=area_m2:double&field=status:string"
    found = QgsVectorLayer(f"MultiPolygon?crs={labels.crs().authid()}&{fields}", "candidates", "memory")
    buildings = [f for f in labels.getFeatures() if f["class_id"] == 1][-3:]
    features = []
    for number, building in enumerate(buildings, start=1):
        feature = QgsFeature(found.fields())
        feature.setGeometry(building.geometry())
        feature.setAttributes([number, 1.0 - number / 10, building.geometry().area(), "candidate"])
        features.append(feature)
    found.dataProvider().addFeatures(features)
    return str(export_layer(found, path))


def test_a_candidates_status_follows_the_label_layers_edit_buffer(scene, tmp_path) -> None:
    """Decisions undone with QGIS's own Edit > Undo, redone, overwritten, saved or rolled back: each candidate's
    status says what the label layer holds."""
    from sam2_qgis_plugin.review import CandidateReview, candidates_layer

    drawn = drawn_examples(scene, 3)
    review = CandidateReview(
        candidates_layer(Path(three_candidates(scene, tmp_path / "candidates.gpkg"))), label_target(drawn, "class")
    )
    stack = drawn.undoStack()

    def statuses() -> list[str]:
        return [review.candidates.getFeature(fid)["status"] for fid in review.ids]

    review.accept()
    review.reject()
    review.accept()
    assert statuses() == ["accepted", "rejected", "accepted"]
    assert drawn.featureCount() == 6
    stack.undo()  # QGIS's Edit > Undo, not the review's
    assert statuses() == ["accepted", "rejected", "candidate"]
    assert "accepted 1, rejected 1" in review.describe()
    stack.redo()
    assert statuses() == ["accepted", "rejected", "accepted"]
    stack.undo()
    drawn.beginEditCommand("an outline of the analyst's own")  # takes the undone decision's place for good
    drawn.addFeature(QgsFeature(next(drawn.getFeatures())))
    drawn.endEditCommand()
    assert statuses() == ["accepted", "rejected", "candidate"]
    assert not stack.canRedo()
    assert drawn.commitChanges(False)  # saved: the decisions stay though the undo stack is emptied
    assert statuses() == ["accepted", "rejected", "candidate"]
    assert not review.undo()
    review.index = 2
    review.accept()
    assert statuses() == ["accepted", "rejected", "accepted"]
    drawn.rollBack(False)  # the unsaved decision is gone, the saved ones stay
    assert statuses() == ["accepted", "rejected", "candidate"]
    assert sorted(str(f["class"]) for f in drawn.getFeatures()) == ["background"] + ["building"] * 5
    review.close()
    drawn.startEditing()
    drawn.addFeature(QgsFeature(next(drawn.getFeatures())))
    drawn.rollBack()  # a closed review follows nothing
    assert statuses() == ["accepted", "rejected", "candidate"]


@pytest.mark.parametrize("removed", ["labels", "candidates"])
def test_the_review_stops_when_its_layers_leave_the_project(qgis_iface, qgis_app, scene, tmp_path, removed) -> None:
    from qgis.core import Qgis

    import sam2_qgis_plugin

    drawn = drawn_examples(scene, 3)
    QgsProject.instance().addMapLayer(drawn)
    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    canvas = qgis_iface.mapCanvas()
    try:
        result = {"candidates": three_candidates(scene, tmp_path / "candidates.gpkg"), "count": 3}
        plugin.finding.found(result, drawn, "class")
        review = plugin.finding.review
        assert review is not None
        assert isinstance(canvas.mapTool(), ReviewTool)
        review.accept()
        gone = drawn if removed == "labels" else plugin.finding.layer
        QgsProject.instance().removeMapLayer(gone.id())
        qgis_app.processEvents()  # the candidates go once QGIS has removed the label layer
        qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)
        assert plugin.finding.review is None
        assert not isinstance(canvas.mapTool(), ReviewTool)
        assert not plugin.dock.find.review_row.isVisible()
        said = qgis_iface.messageBar().get_messages(Qgis.Warning)
        assert any(
            f"The review stopped: its {'label layer' if removed == 'labels' else 'candidates'}" in m for m in said
        )
        assert [layer.name() for layer in QgsProject.instance().mapLayers().values()].count("SAM 2 candidates") == 0
        if removed == "candidates":
            assert drawn.featureCount() == 4  # the decision made stays in the label layer's edit buffer
            drawn.undoStack().undo()  # and undoing it touches no deleted review
            assert drawn.featureCount() == 3
    finally:
        plugin.unload()
        qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)
        QgsProject.instance().removeAllMapLayers()
