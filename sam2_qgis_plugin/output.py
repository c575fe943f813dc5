"""Vector layers in and out of the engine: the layer accepted segments go to (an existing polygon layer, or a
GeoPackage created on demand), and layers exported as GeoPackages for engine jobs (labels, AOI, map extent)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsProject,
    QgsRectangle,
    QgsVectorDataProvider,
    QgsVectorFileWriter,
    QgsVectorLayer,
    QgsWkbTypes,
)

from .i18n import tr
from .qt_compat import field_type

FIELDS = (
    ("class", field_type("string")),
    ("score", field_type("double")),
    ("model", field_type("string")),
    ("source", field_type("string")),
    ("prompt", field_type("string")),
    ("created", field_type("string")),
)


@dataclass(frozen=True)
class SegmentAttributes:
    """What is written with each accepted object: its class, the model's predicted IoU (``score``), the model,
    the layer it was segmented on (``source``) and its prompt (``fg=2;bg=1;box=0``)."""

    class_name: str
    score: float | None = None
    model: str = ""
    source: str = ""
    prompt: str = ""


BACKGROUND_VALUES = ("background", "0")  # class values the engine reads as background (core.io.labels)


def is_background(value: Any) -> bool:
    return value is not None and str(value).strip().lower() in BACKGROUND_VALUES


class OutputError(Exception):
    """The output layer cannot take the segments; the message says why and what to do."""


def geometry_from_mapping(mapping: dict) -> QgsGeometry:
    """A QgsGeometry from a GeoJSON-like mapping (through OGR: QGIS 3.22 has no GeoJSON geometry reader)."""
    from osgeo import ogr

    parsed = ogr.CreateGeometryFromJson(json.dumps(mapping))
    return QgsGeometry.fromWkt(parsed.ExportToWkt()) if parsed is not None else QgsGeometry()


SEGMENTS_NAME = "sam2_segments"


def default_segments_file(folder: Path) -> Path:
    """Where segments go when no output layer is chosen: ``sam2_segments.gpkg`` in ``folder`` if it is new or
    holds our layer (segments are then appended), else the first free ``sam2_segments_N.gpkg``."""
    for index in range(1, 10_000):
        path = folder / (f"{SEGMENTS_NAME}.gpkg" if index == 1 else f"{SEGMENTS_NAME}_{index}.gpkg")
        if not path.exists() or _segments_layer_in(path) is not None:
            return path
    raise OutputError(
        tr("{folder} holds too many {SEGMENTS_NAME}_N.gpkg files: choose an output layer").format(
            folder=folder, SEGMENTS_NAME=SEGMENTS_NAME
        )
    )


def _segments_layer_in(path: Path) -> QgsVectorLayer | None:
    layer = QgsVectorLayer(f"{path}|layername={SEGMENTS_NAME}", SEGMENTS_NAME, "ogr")
    usable = layer.isValid() and layer.geometryType() == QgsWkbTypes.GeometryType.PolygonGeometry
    return layer if usable else None


def open_default_segments(folder: Path, crs: QgsCoordinateReferenceSystem) -> QgsVectorLayer:
    """The layer of ``default_segments_file(folder)``: the project's layer of that file, the file's existing
    layer (added to the project), or a new GeoPackage. An existing file is never overwritten."""
    path = default_segments_file(folder)
    for layer in QgsProject.instance().mapLayers().values():
        source = Path(layer.source().split("|")[0])
        if isinstance(layer, QgsVectorLayer) and path.exists() and source.exists() and source.samefile(path):
            return layer
    existing = _segments_layer_in(path) if path.exists() else None
    if existing is None:
        return create_geopackage(path, crs)
    add_missing_fields(existing)  # a file of an earlier version of the plugin
    QgsProject.instance().addMapLayer(outline_style(existing))
    return existing


def add_missing_fields(layer: QgsVectorLayer) -> None:
    """Give our own segments layer the fields it lacks (its file was written by an earlier version)."""
    names = layer.fields().names()
    missing = [QgsField(name, kind) for name, kind in FIELDS if name not in names]
    if missing and layer.dataProvider().addAttributes(missing):
        layer.updateFields()


def create_geopackage(path: Path, crs: QgsCoordinateReferenceSystem, name: str = SEGMENTS_NAME) -> QgsVectorLayer:
    """A new GeoPackage polygon layer with the segment fields, added to the project; never replaces a file."""
    if path.exists():
        raise OutputError(
            tr("{path} already exists: choose it as the output layer or give another name").format(path=path)
        )
    fields = QgsFields()
    for field_name, kind in FIELDS:
        fields.append(QgsField(field_name, kind))
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = name
    writer = QgsVectorFileWriter.create(
        str(path), fields, QgsWkbTypes.Type.MultiPolygon, crs, QgsProject.instance().transformContext(), options
    )
    if writer.hasError():
        raise OutputError(tr("cannot create {path}: {error}").format(path=path, error=writer.errorMessage()))
    del writer
    layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
    if not layer.isValid():
        raise OutputError(tr("cannot open the new layer in {path}").format(path=path))
    QgsProject.instance().addMapLayer(outline_style(layer))
    return layer


def append_segments(
    layer: QgsVectorLayer, polygons: list[dict], source_crs: QgsCoordinateReferenceSystem, attributes: SegmentAttributes
) -> int:
    """Add one object, the parts ``polygons`` (GeoJSON-like, in ``source_crs``), to ``layer``'s edit buffer (an
    edit session is started if needed) as one undoable edit: one multipolygon feature (one feature per part only
    where the layer takes single polygons). The analyst saves or discards the edits as with any QGIS edit.
    Returns the number of features added; refuses read-only and non-polygon layers."""
    if layer.geometryType() != QgsWkbTypes.GeometryType.PolygonGeometry:
        raise OutputError(
            tr("{layer} is not a polygon layer: choose a polygon layer or a new GeoPackage").format(layer=layer.name())
        )
    if not layer.dataProvider().capabilities() & QgsVectorDataProvider.Capability.AddFeatures:
        raise OutputError(
            tr("{layer} is read-only: choose another layer or a new GeoPackage").format(layer=layer.name())
        )
    transform = QgsCoordinateTransform(source_crs, layer.crs(), QgsProject.instance())
    names = layer.fields().names()
    values = {
        "class": attributes.class_name,
        "score": attributes.score,
        "model": attributes.model,
        "source": attributes.source,
        "prompt": attributes.prompt,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    parts = [geometry_from_mapping(mapping) for mapping in polygons]
    for part in parts:
        part.transform(transform)
    if QgsWkbTypes.isMultiType(layer.wkbType()) and parts:
        parts = [QgsGeometry.collectGeometry(parts)]  # one object, one feature
    features = []
    for geometry in parts:
        feature = QgsFeature(layer.fields())
        feature.setGeometry(geometry)
        for name, value in values.items():
            if name in names:
                feature[name] = value
        features.append(feature)
    if not layer.isEditable() and not layer.startEditing():
        raise OutputError(
            tr("cannot start editing {layer}: choose another layer or a new GeoPackage").format(layer=layer.name())
        )
    layer.beginEditCommand(f"SAM 2: add {attributes.class_name or 'object'}")
    if not layer.addFeatures(features):
        layer.destroyEditCommand()
        raise OutputError(tr("could not add the segments to {layer}").format(layer=layer.name()))
    layer.endEditCommand()
    layer.triggerRepaint()
    return len(features)


def class_values(layer: QgsVectorLayer | None) -> list[str]:
    """The values of ``layer``'s ``class`` field (edits included), sorted: the classes an analyst already used."""
    if layer is None or layer.fields().indexOf("class") < 0:
        return []
    values = layer.uniqueValues(layer.fields().indexOf("class"))
    return sorted(str(value) for value in values if value not in (None, "") and str(value) != "NULL")


def outline_style(layer: QgsVectorLayer, colour: str = "255,60,0") -> QgsVectorLayer:
    """Draw ``layer``'s polygons as outlines only, so that the image under them stays visible."""
    from qgis.core import QgsFillSymbol, QgsSingleSymbolRenderer

    symbol = QgsFillSymbol.createSimple({"color": "0,0,0,0", "outline_color": colour, "outline_width": "0.6"})
    layer.setRenderer(QgsSingleSymbolRenderer(symbol))
    layer.triggerRepaint()
    return layer


def export_layer(layer: QgsVectorLayer, path: Path) -> Path:
    """Write ``layer`` (any provider, any CRS, edits included) to a new GeoPackage at ``path`` for the engine."""
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    error, message, *_ = QgsVectorFileWriter.writeAsVectorFormatV3(
        layer, str(path), QgsProject.instance().transformContext(), options
    )
    if error != QgsVectorFileWriter.WriterError.NoError:
        raise OutputError(
            tr("cannot export {layer} to {path}: {message}").format(layer=layer.name(), path=path, message=message)
        )
    return path


def extent_layer(extent: QgsRectangle, crs: QgsCoordinateReferenceSystem) -> QgsVectorLayer:
    """A memory layer holding one rectangle (the map canvas's extent, say) in ``crs``."""
    layer = QgsVectorLayer(f"Polygon?crs={crs.authid() or 'EPSG:4326'}", "extent", "memory")
    if not crs.authid():
        layer.setCrs(crs)
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromRect(extent))
    layer.dataProvider().addFeatures([feature])
    return layer


def examples_layer(layer: Any, class_field: str | None) -> QgsVectorLayer:
    """The features of ``layer`` (a vector layer, edits included, or a Processing feature source) with one text
    field ``class``: "background" for background examples (class 0 or "background"), "1" for every object: what
    the engine's partial labels read."""
    crs = layer.sourceCrs()
    copy = QgsVectorLayer(f"MultiPolygon?crs={crs.authid()}", "examples", "memory")
    if not crs.authid():
        copy.setCrs(crs)
    copy.dataProvider().addAttributes([QgsField("class", field_type("string"))])
    copy.updateFields()
    names = layer.fields().names()
    field = class_field if class_field in names else ("class" if "class" in names else None)
    features = []
    for feature in layer.getFeatures():
        if not feature.hasGeometry():
            continue
        example = QgsFeature(copy.fields())
        geometry = feature.geometry()
        geometry.convertToMultiType()
        example.setGeometry(geometry)
        example["class"] = "background" if field and is_background(feature[field]) else "1"
        features.append(example)
    copy.dataProvider().addFeatures(features)
    return copy
