"""Prediction rasters to polygon layers: GDAL polygonize (streamed by GDAL), clean-up, attributes.

Attributes of every polygon: ``class``, ``score`` (mean probability inside it, when the probability raster
is given), ``area_m2``, ``model``, ``source`` (the imagery predicted: a layer's name, or the raster file's),
``created``. The format follows the extension: GeoPackage, GeoJSON or
Shapefile.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import rasterio
from osgeo import gdal, ogr, osr
from rasterio.features import rasterize
from rasterio.windows import from_bounds

from core.polygons import PolygonOptions, clean_polygon
from core.vector_io import PolygonFeature, spatial_reference, write_polygons

gdal.UseExceptions()
FIELDS = {"class": str, "score": float, "area_m2": float, "model": str, "source": str, "created": str}


def _area_m2(shape: ogr.Geometry, to_equal_area: osr.CoordinateTransformation | None) -> float:
    if to_equal_area is None:
        return float(shape.GetArea())
    projected = shape.Clone()
    projected.Transform(to_equal_area)
    return float(projected.GetArea())


def _mean_probability(probabilities: rasterio.io.DatasetReader, geometry: dict) -> float | None:
    shape = ogr.CreateGeometryFromJson(json.dumps(geometry))
    xmin, xmax, ymin, ymax = shape.GetEnvelope()
    window = from_bounds(xmin, ymin, xmax, ymax, probabilities.transform).round_offsets().round_lengths()
    values = probabilities.read(1, window=window, boundless=True, fill_value=-1.0)
    inside = rasterize([geometry], out_shape=values.shape, transform=probabilities.window_transform(window)) == 1
    inside &= values >= 0
    return round(float(values[inside].mean()), 4) if inside.any() else None


def export_polygons(
    mask_path: Path,
    out_path: Path,
    probabilities_path: Path | None = None,
    class_name: str = "object",
    model: str = "",
    options: PolygonOptions | None = None,
    layer: str = "predictions",
    source_name: str = "",
) -> int:
    """Polygons of the pixels equal to 1 in ``mask_path`` written to ``out_path``; returns their number."""
    options = options or PolygonOptions()
    source = gdal.Open(str(mask_path))
    band = source.GetRasterBand(1)
    crs_wkt = source.GetProjection()
    memory = ogr.GetDriverByName("Memory").CreateDataSource("")
    polygons = memory.CreateLayer("raw", srs=spatial_reference(crs_wkt) if crs_wkt else None, geom_type=ogr.wkbPolygon)
    polygons.CreateField(ogr.FieldDefn("value", ogr.OFTInteger))
    gdal.Polygonize(band, None, polygons, 0, ["8CONNECTED=NO"])
    pixel = abs(source.GetGeoTransform()[1])
    to_equal_area = None
    if crs_wkt and spatial_reference(crs_wkt).IsGeographic():
        equal_area = osr.SpatialReference()
        equal_area.ImportFromEPSG(6933)
        equal_area.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        to_equal_area = osr.CoordinateTransformation(spatial_reference(crs_wkt), equal_area)
    created = time.strftime("%Y-%m-%dT%H:%M:%S")
    probabilities = rasterio.open(probabilities_path) if probabilities_path else None
    features = []
    try:
        for feature in polygons:
            if feature.GetField("value") != 1:
                continue
            shape = feature.GetGeometryRef().Clone()
            shape = clean_polygon(shape, options, pixel, min_area=options.min_pixels * pixel * pixel)
            if shape is None:
                continue
            geometry = json.loads(shape.ExportToJson())
            score = _mean_probability(probabilities, geometry) if probabilities is not None else None
            features.append(
                PolygonFeature(
                    geometry,
                    {
                        "class": class_name,
                        "score": score,
                        "area_m2": round(_area_m2(shape, to_equal_area), 3),
                        "model": model,
                        "source": source_name,
                        "created": created,
                    },
                )
            )
    finally:
        if probabilities is not None:
            probabilities.close()
    write_polygons(out_path, features, crs_wkt, layer_name=layer, fields=FIELDS)
    return len(features)


__all__ = ["FIELDS", "export_polygons"]
