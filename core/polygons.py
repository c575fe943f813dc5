"""Binary masks to polygons in map coordinates: polygonize, fill holes, simplify, drop small parts.

Shared by click-to-segment and whole-raster prediction. Geometries are GeoJSON-like mappings in the
CRS of the ``transform`` given, (x, y) order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from affine import Affine
from osgeo import ogr
from rasterio.features import shapes

from core.errors import InvalidConfigError

ogr.UseExceptions()


@dataclass(frozen=True)
class PolygonOptions:
    """``simplify``: tolerance in pixels (0 keeps every pixel corner); ``min_area``: smallest part kept, in
    square map units; ``fill_holes``: drop interior rings."""

    simplify: float = 0.5
    min_area: float = 0.0
    fill_holes: bool = False

    def __post_init__(self) -> None:
        if self.simplify < 0 or self.min_area < 0:
            raise InvalidConfigError("simplify and min_area cannot be negative")


def mask_to_polygons(
    mask: np.ndarray, transform: Affine, options: PolygonOptions = PolygonOptions()
) -> list[dict[str, Any]]:
    """Polygons of the True pixels of ``mask`` (rows, cols), one per 4-connected part, largest first."""
    if not mask.any():
        return []
    pixel = (abs(transform.a * transform.e - transform.b * transform.d)) ** 0.5  # map units per pixel
    geometries = []
    for geometry, _ in shapes(mask.astype(np.uint8), mask=mask, connectivity=4, transform=transform):
        shape = ogr.CreateGeometryFromJson(json.dumps(geometry))
        if options.fill_holes and shape.GetGeometryCount() > 1:
            outer = ogr.Geometry(ogr.wkbPolygon)
            outer.AddGeometry(shape.GetGeometryRef(0).Clone())
            shape = outer
        if options.simplify > 0:
            shape = shape.SimplifyPreserveTopology(options.simplify * pixel)
        area = shape.GetArea()
        if shape.IsEmpty() or area < max(options.min_area, 1e-12):
            continue
        geometries.append((area, json.loads(shape.ExportToJson())))
    geometries.sort(key=lambda item: -item[0])
    return [geometry for _, geometry in geometries]
