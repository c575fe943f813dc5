"""Binary masks to polygons in map coordinates: remove specks, polygonize, fill holes, simplify, filter.

Shared by click-to-segment and whole-raster prediction. Geometries are GeoJSON-like mappings in the
CRS of the ``transform`` given, (x, y) order; in between they are shapely geometries. Polygonizing is GDAL's,
through rasterio (whose wheels carry GDAL), reading files block by block.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import rasterio
from affine import Affine
from rasterio.features import shapes, sieve
from shapely.geometry import MultiPolygon, Polygon, mapping

from core.errors import InvalidConfigError
from core.geometry.right_angles import square_corners

Polygonal: TypeAlias = Polygon | MultiPolygon


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


def _polygon(geometry: dict[str, Any]) -> Polygon:
    """A GeoJSON polygon (shell, then holes) as shapely's, built from arrays: ``shape()`` reads every vertex in
    Python, which on a noisy mask (hundreds of holes) costs more than tracing it."""
    rings = [np.asarray(ring, dtype=np.float64) for ring in geometry["coordinates"]]
    return Polygon(rings[0], rings[1:])


def _polygonize(mask: np.ndarray, transform: Affine) -> list[Polygon]:
    """Polygons of the True pixels of ``mask`` (rows, cols), 4-connected, in the CRS of ``transform``."""
    values = mask.astype(np.uint8)
    return [_polygon(geometry) for geometry, _ in shapes(values, mask=values, connectivity=4, transform=transform)]


def polygons_of_file(path: str | os.PathLike[str]) -> dict[int, list[Polygon]]:
    """Polygons of the non-zero pixels of a one-band raster file by value, in its CRS, without reading it whole."""
    found: dict[int, list[Polygon]] = {}
    with rasterio.open(path) as source:
        band = rasterio.band(source, 1)  # GDAL reads it block by block; the band is its own mask
        for geometry, value in shapes(band, mask=band, connectivity=4, transform=source.transform):
            found.setdefault(int(value), []).append(_polygon(geometry))
    return found


def clean_polygon(polygon: Polygonal, options: PolygonOptions, pixel: float, min_area: float = 0.0) -> Polygonal | None:
    """Fill holes, simplify (``options.simplify`` pixels of ``pixel`` map units) or square the corners
    (``options.right_angles``, which simplifies its own way), and drop the polygon if it is smaller than
    ``options.min_area`` or ``min_area``: the clean-up every polygon output shares."""
    if options.fill_holes and isinstance(polygon, Polygon) and polygon.interiors:
        polygon = Polygon(polygon.exterior)
    if options.right_angles > 0 and isinstance(polygon, Polygon):
        polygon = square_corners(polygon, options.right_angles, pixel)
    elif options.simplify > 0:
        simplified = polygon.simplify(options.simplify * pixel, preserve_topology=False)  # Douglas-Peucker: fast
        polygon = simplified if simplified.is_valid else polygon.simplify(options.simplify * pixel)
    if polygon.is_empty or polygon.area < max(options.min_area, min_area, 1e-12):
        return None
    return polygon


def mask_to_polygons(
    mask: np.ndarray, transform: Affine, options: PolygonOptions = PolygonOptions()
) -> list[dict[str, Any]]:
    """Polygons of the True pixels of ``mask`` (rows, cols), one per 4-connected part, largest first."""
    if not mask.any():
        return []
    if options.min_pixels > 1:
        mask = sieve(mask.astype(np.uint8), size=options.min_pixels, connectivity=4).astype(bool)
    pixel = abs(transform.a * transform.e - transform.b * transform.d) ** 0.5  # map units per pixel
    kept: list[Polygonal] = []
    for polygon in _polygonize(mask, transform):
        cleaned = clean_polygon(polygon, options, pixel)
        if cleaned is not None:
            kept.append(cleaned)
    kept.sort(key=lambda polygon: -polygon.area)
    return [mapping(polygon) for polygon in kept]
