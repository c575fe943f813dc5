"""Binary masks to polygons in map coordinates: remove specks, polygonize, fill holes, simplify, filter.

Shared by click-to-segment and whole-raster prediction. Geometries are GeoJSON-like mappings in the
CRS of the ``transform`` given, (x, y) order. Polygonizing runs in GDAL straight into OGR geometries
(no GeoJSON round trip), the slow part of turning masks into polygons.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from affine import Affine
from osgeo import gdal, ogr
from rasterio.features import sieve

from core.errors import InvalidConfigError
from core.right_angles import square_corners

gdal.UseExceptions()
ogr.UseExceptions()


@dataclass(frozen=True)
class PolygonOptions:
    """How masks become polygons.

    ``min_pixels``: connected regions smaller than this (specks, and holes) are merged into their
    surroundings first, as SAM's own post-processing does; ``simplify``: tolerance in pixels (0 keeps every
    pixel corner); ``min_area``: smallest part kept, in square map units; ``fill_holes``: drop all interior rings;
    ``right_angles``: square the corners of edges within this many degrees of a right angle (buildings; 0: off).
    """

    min_pixels: int = 8
    simplify: float = 1.0
    min_area: float = 0.0
    fill_holes: bool = False
    right_angles: float = 0.0

    def __post_init__(self) -> None:
        if self.simplify < 0 or self.min_area < 0 or self.min_pixels < 0:
            raise InvalidConfigError("min_pixels, simplify and min_area cannot be negative")
        if not 0 <= self.right_angles < 45:
            raise InvalidConfigError(
                f"right_angles is a tolerance in degrees from 0 (off) to under 45, not {self.right_angles}"
            )

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> PolygonOptions:
        """From a request or parsed arguments (``vars(args)``): the fields it names, the defaults for the rest."""
        return cls(**{name: kind(values[name]) for name, kind in _FIELD_TYPES.items() if values.get(name) is not None})


_FIELD_TYPES = {"min_pixels": int, "simplify": float, "min_area": float, "fill_holes": bool, "right_angles": float}


def _polygonize(mask: np.ndarray, transform: Affine) -> list[ogr.Geometry]:
    rows, cols = mask.shape
    raster = gdal.GetDriverByName("MEM").Create("", cols, rows, 1, gdal.GDT_Byte)
    raster.SetGeoTransform(transform.to_gdal())
    band = raster.GetRasterBand(1)
    band.WriteArray(mask.astype(np.uint8))
    geometries = _polygonize_band(band)
    del band, raster
    return geometries


def _polygonize_band(band: gdal.Band) -> list[ogr.Geometry]:
    """Polygons of the non-zero pixels of ``band`` (4-connected), which GDAL reads block by block."""
    store = ogr.GetDriverByName("Memory").CreateDataSource("")  # must outlive the layer (GDAL ownership)
    layer = store.CreateLayer("mask", geom_type=ogr.wkbPolygon)
    gdal.Polygonize(band, band, layer, -1, [])  # the band is its own mask: only non-zero pixels become polygons
    geometries = [feature.GetGeometryRef().Clone() for feature in layer]
    del layer, store
    return geometries


def polygons_of_file(path: str | os.PathLike[str]) -> list[ogr.Geometry]:
    """Polygons of the non-zero pixels of a one-band raster file, in its CRS, without reading it whole."""
    source = gdal.Open(str(path))
    band = source.GetRasterBand(1)
    geometries = _polygonize_band(band)
    del band, source
    return geometries


def clean_polygon(
    shape: ogr.Geometry, options: PolygonOptions, pixel: float, min_area: float = 0.0
) -> ogr.Geometry | None:
    """Fill holes, simplify (``options.simplify`` pixels of ``pixel`` map units) or square the corners
    (``options.right_angles``, which simplifies its own way), and drop the polygon if it is smaller than
    ``options.min_area`` or ``min_area``: the clean-up every polygon output shares."""
    if options.fill_holes and shape.GetGeometryCount() > 1:
        outer = ogr.Geometry(ogr.wkbPolygon)
        outer.AddGeometry(shape.GetGeometryRef(0).Clone())
        shape = outer
    if options.right_angles > 0:
        shape = square_corners(shape, options.right_angles, pixel)
    elif options.simplify > 0:
        simplified = shape.Simplify(options.simplify * pixel)  # Douglas-Peucker: fast, rarely invalid
        shape = simplified if simplified.IsValid() else shape.SimplifyPreserveTopology(options.simplify * pixel)
    if shape.IsEmpty() or shape.GetArea() < max(options.min_area, min_area, 1e-12):
        return None
    return shape


def mask_to_polygons(
    mask: np.ndarray, transform: Affine, options: PolygonOptions = PolygonOptions()
) -> list[dict[str, Any]]:
    """Polygons of the True pixels of ``mask`` (rows, cols), one per 4-connected part, largest first."""
    if not mask.any():
        return []
    if options.min_pixels > 1:
        mask = sieve(mask.astype(np.uint8), size=options.min_pixels, connectivity=4).astype(bool)
    pixel = abs(transform.a * transform.e - transform.b * transform.d) ** 0.5  # map units per pixel
    kept = []
    for shape in _polygonize(mask, transform):
        cleaned = clean_polygon(shape, options, pixel)
        if cleaned is None:
            continue
        shape, area = cleaned, cleaned.GetArea()
        kept.append((area, shape))
    kept.sort(key=lambda item: -item[0])
    return [_as_mapping(shape) for _, shape in kept]


def _as_mapping(shape: ogr.Geometry) -> dict[str, Any]:
    """GeoJSON-like mapping of an OGR polygon or multipolygon (much faster than a JSON round trip)."""
    if ogr.GT_Flatten(shape.GetGeometryType()) == ogr.wkbMultiPolygon:
        parts = [shape.GetGeometryRef(i) for i in range(shape.GetGeometryCount())]
        return {"type": "MultiPolygon", "coordinates": [_rings(part) for part in parts]}
    return {"type": "Polygon", "coordinates": _rings(shape)}


def _rings(polygon: ogr.Geometry) -> list[list[tuple[float, float]]]:
    return [[(x, y) for x, y, *_ in polygon.GetGeometryRef(i).GetPoints()] for i in range(polygon.GetGeometryCount())]
