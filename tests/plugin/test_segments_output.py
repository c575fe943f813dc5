"""Accepting a segment with no output layer chosen never destroys earlier segments: it appends to the default
GeoPackage, or writes a new uniquely named one beside a file that is not ours, and the panel says where."""

from __future__ import annotations

import pytest
from qgis.core import QgsCoordinateReferenceSystem, QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import QEvent

import sam2_qgis_plugin
from sam2_qgis_plugin.output import OutputError, SegmentAttributes, append_segments, create_geopackage

CRS = QgsCoordinateReferenceSystem("EPSG:32617")
SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]}


@pytest.fixture
def plugin(qgis_iface, qgis_app, tmp_path):
    QgsProject.instance().setPresetHomePath(str(tmp_path))  # the project's folder: where segments go
    loaded = sam2_qgis_plugin.classFactory(qgis_iface)
    loaded.initGui()
    yield loaded
    loaded.unload()
    qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)
    QgsProject.instance().removeAllMapLayers()
    QgsProject.instance().setPresetHomePath("")


def features_in(path, layer_name="sam2_segments") -> int:
    layer = QgsVectorLayer(f"{path}|layername={layer_name}", "check", "ogr")
    assert layer.isValid()
    return layer.featureCount()


def accept_one(plugin) -> None:
    """Accept a segment into the default layer and save the edits, as the analyst would."""
    plugin.dock.segment.output_combo.setLayer(None)
    plugin.segmenting.accept({"polygons": [SQUARE], "crs": CRS.toWkt(), "score": 0.9, "prompt": "fg=1;bg=0;box=0"})
    assert plugin.dock.segment.output_combo.currentLayer().commitChanges()


def test_segments_of_an_earlier_session_are_kept_and_appended_to(plugin, tmp_path) -> None:
    earlier = create_geopackage(tmp_path / "sam2_segments.gpkg", CRS)
    append_segments(earlier, [SQUARE], CRS, SegmentAttributes("tree", 0.8, "m"))
    append_segments(earlier, [SQUARE], CRS, SegmentAttributes("tree", 0.8, "m"))
    assert earlier.commitChanges()
    QgsProject.instance().removeMapLayer(earlier.id())  # as after restarting QGIS
    del earlier
    assert "appended to" in plugin.dock.segment.output_hint.text()
    accept_one(plugin)
    assert features_in(tmp_path / "sam2_segments.gpkg") == 3
    accept_one(plugin)  # the layer is in the project now: the same file again
    assert features_in(tmp_path / "sam2_segments.gpkg") == 4
    assert sorted(p.name for p in tmp_path.glob("*.gpkg")) == ["sam2_segments.gpkg"]


def test_a_file_of_that_name_that_is_not_ours_is_left_alone(plugin, tmp_path) -> None:
    foreign = tmp_path / "sam2_segments.gpkg"
    foreign.write_bytes(b"an analyst's file that happens to have this name")
    plugin.segmenting.show_output_destination()
    assert str(tmp_path / "sam2_segments_2.gpkg") in plugin.dock.segment.output_hint.text()
    accept_one(plugin)
    assert foreign.read_bytes() == b"an analyst's file that happens to have this name"
    assert features_in(tmp_path / "sam2_segments_2.gpkg") == 1


def test_the_panel_says_where_segments_go_and_when_the_project_is_unsaved(plugin, tmp_path) -> None:
    assert str(tmp_path / "sam2_segments.gpkg") in plugin.dock.segment.output_hint.text()
    assert "written to a new" in plugin.dock.segment.output_hint.text()
    QgsProject.instance().setPresetHomePath("")
    QgsProject.instance().setFileName("")
    plugin.segmenting.show_output_destination()
    assert "not saved" in plugin.dock.segment.output_hint.text()


def test_create_geopackage_refuses_an_existing_file(tmp_path) -> None:
    path = tmp_path / "kept.gpkg"
    path.write_bytes(b"data")
    with pytest.raises(OutputError, match="already exists"):
        create_geopackage(path, CRS)
    assert path.read_bytes() == b"data"


FAR_SQUARE = {"type": "Polygon", "coordinates": [[[20, 0], [30, 0], [30, 10], [20, 10], [20, 0]]]}


def test_one_object_of_several_parts_is_one_feature_drawn_as_outlines(plugin, tmp_path) -> None:
    plugin.dock.segment.output_combo.setLayer(None)
    plugin.segmenting.accept({"polygons": [SQUARE, FAR_SQUARE], "crs": CRS.toWkt(), "score": 0.9})
    layer = plugin.dock.segment.output_combo.currentLayer()
    features = list(layer.getFeatures())
    assert len(features) == 1
    assert features[0].geometry().constGet().numGeometries() == 2
    assert features[0].geometry().area() == pytest.approx(200)
    symbol = layer.renderer().symbol()
    assert symbol.color().alpha() == 0  # no fill hides the image
    assert symbol.symbolLayer(0).strokeColor().alpha() == 255


def test_an_accepted_segment_is_an_undoable_edit_with_its_attributes(plugin, tmp_path) -> None:
    from qgis.core import QgsRasterLayer

    ortho = QgsRasterLayer(str(tmp_path / "none.tif"), "my orthophoto")  # only its name is written
    QgsProject.instance().addMapLayer(ortho, False)
    plugin.dock.raster.raster_combo.setLayer(ortho)
    plugin.dock.segment.class_combo.setCurrentText("building")
    plugin.dock.segment.output_combo.setLayer(None)
    for prompt in ("fg=2;bg=1;box=0", "fg=0;bg=0;box=1"):
        plugin.segmenting.accept({"polygons": [SQUARE], "crs": CRS.toWkt(), "score": 0.87, "prompt": prompt})
    layer = plugin.dock.segment.output_combo.currentLayer()
    assert layer.isEditable()
    assert layer.featureCount() == 2
    assert features_in(tmp_path / "sam2_segments.gpkg") == 0
    layer.undoStack().undo()  # what QGIS's Edit > Undo does
    assert layer.featureCount() == 1
    assert layer.commitChanges()
    saved = QgsVectorLayer(f"{tmp_path / 'sam2_segments.gpkg'}|layername=sam2_segments", "check", "ogr")
    rows = list(saved.getFeatures())
    assert len(rows) == 1
    row = rows[0]
    assert (row["class"], row["source"], row["prompt"]) == ("building", "my orthophoto", "fg=2;bg=1;box=0")
    assert row["score"] == pytest.approx(0.87)
    assert row["created"]
    assert plugin.dock.segment.class_combo.findText("building") >= 0  # the layer's classes are offered


def test_a_default_file_of_an_earlier_version_gets_the_new_fields(plugin, tmp_path) -> None:
    from qgis.core import QgsField, QgsFields, QgsVectorFileWriter, QgsWkbTypes
    from qgis.PyQt.QtCore import QVariant

    fields = QgsFields()
    fields.append(QgsField("class", QVariant.String))
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName, options.layerName = "GPKG", "sam2_segments"
    writer = QgsVectorFileWriter.create(
        str(tmp_path / "sam2_segments.gpkg"),
        fields,
        QgsWkbTypes.MultiPolygon,
        CRS,
        QgsProject.instance().transformContext(),
        options,
    )
    del writer
    accept_one(plugin)
    saved = QgsVectorLayer(f"{tmp_path / 'sam2_segments.gpkg'}|layername=sam2_segments", "check", "ogr")
    assert {"class", "score", "prompt", "source"} <= set(saved.fields().names())
    assert next(saved.getFeatures())["prompt"] == "fg=1;bg=0;box=0"


def test_each_accept_says_what_changed_and_names_a_memory_layer_by_its_name(tmp_path) -> None:
    """QGIS shows a repeated message once: each accept's message differs (the count since QGIS started), and a
    memory layer is named, not shown as its provider string."""
    from qgis.core import QgsVectorLayer

    from sam2_qgis_plugin.segment_controller import accepted_message

    memory = QgsVectorLayer("MultiPolygon?crs=EPSG:32633", "buildings", "memory")
    first, second = accepted_message(memory, 1, 1), accepted_message(memory, 1, 2)
    assert first != second
    assert "buildings" in first
    assert "MultiPolygon?" not in first
    assert "uid=" not in first
    assert "2 objects since QGIS started" in second
    path = tmp_path / "segments.gpkg"
    memory.dataProvider()  # a file layer shows its file
    from sam2_qgis_plugin.output import export_layer

    export_layer(memory, path)
    on_disk = QgsVectorLayer(str(path), "segments", "ogr")
    assert str(path) in accepted_message(on_disk, 3, 3)
    assert "1 object in 3 polygons" in accepted_message(on_disk, 3, 3)
