"""Read and write polygon layers (GeoPackage, GeoJSON) with GDAL's OGR.

Geometries are GeoJSON-like mappings ``{"type": "Polygon" | "MultiPolygon", "coordinates": ...}`` with
coordinates in (x, y) = (easting, northing) or (lon, lat) order of the layer's CRS, the convention
rasterio uses, so the same objects go to ``rasterio.features.rasterize``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osgeo import gdal, ogr, osr

from core.atomic import atomic_output
from core.errors import InvalidInputError, MissingInputError

gdal.UseExceptions()
ogr.UseExceptions()
osr.UseExceptions()

DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "ESRI Shapefile"}
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_FIELD_TYPES = {int: ogr.OFTInteger64, float: ogr.OFTReal, str: ogr.OFTString}

Geometry = Mapping[str, Any]
_POLYGONAL = (ogr.wkbPolygon, ogr.wkbMultiPolygon)


@dataclass(frozen=True)
class PolygonFeature:
    """One polygon or multipolygon with its attributes."""

    geometry: Geometry
    attributes: Mapping[str, int | float | str | None] = field(default_factory=dict)


def spatial_reference(crs_wkt: str) -> osr.SpatialReference:
    """An OSR spatial reference with (x, y) axis order whatever the CRS's authority says."""
    srs = osr.SpatialReference()
    srs.ImportFromWkt(crs_wkt)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def _driver_for(path: Path) -> str:
    try:
        return DRIVERS[path.suffix.lower()]
    except KeyError:
        raise InvalidInputError(
            f"cannot write polygons to {path.name}: use one of {', '.join(sorted(DRIVERS))}"
        ) from None


def _multipolygon(geometry: Geometry, index: int) -> ogr.Geometry:
    """OGR multipolygon from a GeoJSON-like mapping; InvalidInputError names the feature otherwise."""
    try:
        parsed = ogr.CreateGeometryFromJson(json.dumps(dict(geometry)))
    except RuntimeError:
        parsed = None
    if parsed is None or parsed.IsEmpty() or ogr.GT_Flatten(parsed.GetGeometryType()) not in _POLYGONAL:
        raise InvalidInputError(
            f"feature {index} is not a polygon ({str(geometry)[:80]}): give Polygon or MultiPolygon geometries"
        )
    return ogr.ForceToMultiPolygon(parsed)


def write_polygons(
    path: str | os.PathLike[str],
    features: Sequence[PolygonFeature],
    crs_wkt: str,
    layer_name: str = "labels",
    fields: Mapping[str, type] | None = None,
) -> Path:
    """Write ``features`` as a new polygon layer; the file appears complete or not at all.

    ``fields`` maps attribute names to int, float or str; by default the types of the first feature.
    An existing file at ``path`` is replaced.
    """
    path = Path(path)
    driver = ogr.GetDriverByName(_driver_for(path))
    if fields is None:
        first = features[0].attributes if features else {}
        fields = {name: type(value) for name, value in first.items() if value is not None}
    if path.suffix.lower() == ".shp":
        return _write_shapefile(path, features, crs_wkt, layer_name, fields)
    with atomic_output(path) as tmp:
        dataset = driver.CreateDataSource(str(tmp))
        srs = spatial_reference(crs_wkt) if crs_wkt else None  # no CRS: the raster's pixel coordinates
        layer = dataset.CreateLayer(layer_name, srs=srs, geom_type=ogr.wkbMultiPolygon)
        for name, kind in fields.items():
            layer.CreateField(ogr.FieldDefn(name, _FIELD_TYPES[kind]))
        definition = layer.GetLayerDefn()
        layer.StartTransaction()
        for index, feature in enumerate(features):
            ogr_feature = ogr.Feature(definition)
            ogr_feature.SetGeometry(_multipolygon(feature.geometry, index))
            for name, value in feature.attributes.items():
                if value is not None:
                    ogr_feature.SetField(name, value)
            layer.CreateFeature(ogr_feature)
        layer.CommitTransaction()
        dataset = None
    return path


def _write_shapefile(
    path: Path, features: Sequence[PolygonFeature], crs_wkt: str, layer_name: str, fields: Mapping[str, type]
) -> Path:
    """A Shapefile is several files: write them in a temporary folder beside ``path``, then move each."""
    import shutil
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", dir=path.parent))
    try:
        write_polygons(folder / f"{path.stem}.gpkg", features, crs_wkt, layer_name, fields)
        gdal.VectorTranslate(str(folder / path.name), str(folder / f"{path.stem}.gpkg"), format="ESRI Shapefile")
        for suffix in SHAPEFILE_PARTS:
            part = folder / f"{path.stem}{suffix}"
            if part.exists():
                os.replace(part, path.with_suffix(suffix))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return path


def read_polygons(path: str | os.PathLike[str], layer_name: str | None = None) -> tuple[list[PolygonFeature], str]:
    """All features of a polygon layer and the layer's CRS as WKT."""
    path = Path(path)
    if not path.exists():
        raise MissingInputError(f"vector file not found: {path}")
    dataset = ogr.Open(str(path))
    layer = dataset.GetLayerByName(layer_name) if layer_name else dataset.GetLayer(0)
    if layer is None:
        names = [dataset.GetLayer(i).GetName() for i in range(dataset.GetLayerCount())]
        raise InvalidInputError(f"{path.name} has no layer {layer_name!r}; its layers are {names}")
    srs = layer.GetSpatialRef()
    features = []
    for ogr_feature in layer:
        geometry = json.loads(ogr_feature.GetGeometryRef().ExportToJson())
        features.append(PolygonFeature(geometry=geometry, attributes=ogr_feature.items()))
    return features, (srs.ExportToWkt() if srs is not None else "")
