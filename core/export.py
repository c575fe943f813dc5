"""Prediction rasters to polygon layers: GDAL's polygonize through rasterio (streamed), clean-up, attributes.

Attributes of every polygon: ``class``, ``score`` (mean probability inside it, when the probability raster
is given), ``area_m2``, ``model``, ``source`` (the imagery predicted: a layer's name, or the raster file's),
``created``. The format follows the extension: GeoPackage, GeoJSON or
Shapefile.
"""

from __future__ import annotations

import time
from pathlib import Path

import rasterio
from rasterio.crs import CRS
from rasterio.features import rasterize, shapes
from rasterio.warp import transform_geom
from rasterio.windows import from_bounds
from shapely.geometry import mapping, shape

from core.polygons import Polygonal, PolygonOptions, clean_polygon
from core.vector_io import PolygonFeature, write_polygons

EQUAL_AREA = CRS.from_epsg(6933)  # areas of polygons in geographic coordinates: WGS 84 / NSIDC EASE-Grid 2.0
FIELDS = {"class": str, "score": float, "area_m2": float, "model": str, "source": str, "created": str}


def _area_m2(polygon: Polygonal, crs: CRS | None) -> float:
    if crs is None or not crs.is_geographic:
        return float(polygon.area)
    return float(shape(transform_geom(crs, EQUAL_AREA, mapping(polygon))).area)


def _mean_probability(probabilities: rasterio.io.DatasetReader, geometry: dict) -> float | None:
    xmin, ymin, xmax, ymax = shape(geometry).bounds
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
    created = time.strftime("%Y-%m-%dT%H:%M:%S")
    probabilities = rasterio.open(probabilities_path) if probabilities_path else None
    features: list[PolygonFeature] = []
    try:
        with rasterio.open(mask_path) as source:
            crs, pixel = source.crs, abs(source.transform.a)
            band = rasterio.band(source, 1)  # read block by block; zeros (background) are left out by the mask
            for raw, value in shapes(band, mask=band, connectivity=4, transform=source.transform):
                if value != 1:
                    continue
                polygon = clean_polygon(shape(raw), options, pixel, min_area=options.min_pixels * pixel * pixel)
                if polygon is None:
                    continue
                geometry = mapping(polygon)
                score = _mean_probability(probabilities, geometry) if probabilities is not None else None
                features.append(
                    PolygonFeature(
                        geometry,
                        {
                            "class": class_name,
                            "score": score,
                            "area_m2": round(_area_m2(polygon, crs), 3),
                            "model": model,
                            "source": source_name,
                            "created": created,
                        },
                    )
                )
    finally:
        if probabilities is not None:
            probabilities.close()
    crs_wkt = crs.to_wkt() if crs else ""
    write_polygons(out_path, features, crs_wkt, layer_name=layer, fields=FIELDS)
    return len(features)


__all__ = ["FIELDS", "export_polygons"]
