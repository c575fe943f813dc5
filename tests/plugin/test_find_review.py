"""Find the rest from the panel: a few examples in, candidates out as a review layer; keys accept and reject
into the label layer's edit buffer (Ctrl+Z takes a decision back), and Find again learns from them."""

from __future__ import annotations

import sys

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
    from qgis.core import QgsRasterLayer

    import sam2_qgis_plugin

    raster = QgsRasterLayer(str(scene / "scene_image.tif"), "ortho")
    drawn = drawn_examples(scene, 10)
    QgsProject.instance().addMapLayers([raster, drawn])
    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    canvas = qgis_iface.mapCanvas()
    try:
        dock = plugin.dock
        dock.python_widget.setFilePath(sys.executable)
        dock.raster_combo.setLayer(raster)
        dock.labels_combo.setLayer(drawn)
        dock.class_field_combo.setField("class")
        dock.tile_spin.setValue(128)
        dock.device_combo.setCurrentText("cpu")
        dock.find_minutes_spin.setValue(1.5)
        assert "up to 1.5 min" in dock.find_button.text()  # the budget is shown before it starts
        canvas.setDestinationCrs(raster.crs())
        canvas.setExtent(raster.extent())
        plugin.session = type("Chosen", (), {"checkpoint": engine_files["checkpoint"]})()
        assert plugin.finding.find(tmp_path / "round1") is not None
        qtbot.waitUntil(lambda: plugin.finding.review is not None, timeout=300_000)
        review = plugin.finding.review
        assert isinstance(canvas.mapTool(), ReviewTool)
        assert len(review.ids) >= 2, dock.find_result_label.text()
        assert "from 10 examples and 0 background marks" in dock.find_result_label.text()
        assert dock.review_label.text().startswith(f"Candidate 1 of {len(review.ids)}")
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
        dock.find_again_button.click()
        qtbot.waitUntil(lambda: plugin.finding.review is not review and plugin.finding.review is not None,
                        timeout=300_000)  # fmt: skip
        assert "from 11 examples and 1 background marks" in dock.find_result_label.text()
        layers = [layer.name() for layer in QgsProject.instance().mapLayers().values()]
        assert layers.count("SAM 2 candidates") == 1  # the new round replaced the last one's layer
    finally:
        plugin.unload()
        qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)
        QgsProject.instance().removeAllMapLayers()
