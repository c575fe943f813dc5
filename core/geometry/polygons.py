"""Binary masks to polygons in map coordinates: remove specks, polygonize, fill holes, simplify, filter.

Shared by click-to-segment and whole-raster prediction. Geometries are GeoJSON-like mappings in the
CRS of the ``transform`` given, (x, y) order; in between they are shapely geometries. Polygonizing is GDAL's,
through rasterio (whose wheels carry GDAL), reading files block by block.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.features import shapes, sieve
from shapely.geometry import Polygon, mapping

from core.errors import InvalidConfigError, InvalidInputError, stop_if
from core.geometry.ground import GroundMeasure, Polygonal
from core.geometry.right_angles import square_corners


@dataclass(frozen=True)
class PolygonOptions:
    """How masks become polygons, and which of them are kept.

    Clean-up, in pixels: ``min_pixels``: connected regions smaller than this (specks, and holes) are merged into
    their surroundings first, as SAM's own post-processing does; ``simplify``: tolerance in pixels (0 keeps every
    pixel corner); ``fill_holes``: drop all interior rings; ``right_angles``: square the corners of edges within
    this many degrees of a right angle (buildings; 0: off).

    Objects kept, on the ground (core.geometry.ground, whatever the CRS; 0: no limit): ``min_area`` and
    ``max_area`` in m²; ``min_diameter`` and ``max_diameter`` in m, the smallest enclosing circle's;
    ``min_compactness`` 4πA/P² from 0 to 1 (a circle 1, a square 0.785, a hedge row near 0). ``largest_part``:
    a click keeps only its largest polygon.
    """

    min_pixels: int = 8
    simplify: float = 1.0
    fill_holes: bool = False
    right_angles: float = 0.0
    min_area: float = 0.0
    max_area: float = 0.0
    min_diameter: float = 0.0
    max_diameter: float = 0.0
    min_compactness: float = 0.0
    largest_part: bool = False

    def __post_init__(self) -> None:
        sizes = {name: getattr(self, name) for name in SIZE_FILTERS}
        if self.simplify < 0 or self.min_pixels < 0 or min(sizes.values()) < 0:
            raise InvalidConfigError(
                "min_pixels, simplify, and the area, diameter and compactness filters cannot be negative"
            )
        if not 0 <= self.right_angles < 45:
            raise InvalidConfigError(
                f"right_angles is a tolerance in degrees from 0 (off) to under 45, not {self.right_angles}"
            )
        if self.min_compactness > 1:
            raise InvalidConfigError(
                f"min_compactness is 4πA/P², from 0 (off) to 1 (a circle), not {self.min_compactness}"
            )
        for low, high, unit in (("min_area", "max_area", "m²"), ("min_diameter", "max_diameter", "m")):
            if 0 < sizes[high] < sizes[low]:
                raise InvalidConfigError(
                    f"{high} {sizes[high]:g} {unit} is below {low} {sizes[low]:g} {unit}: no object could be kept; "
                    f"raise {high} or set it to 0 (no limit)"
                )

    def filters_by_size(self) -> bool:
        """Whether any object is dropped for its area, size or compactness."""
        return any(getattr(self, name) > 0 for name in SIZE_FILTERS)

    def without_size_filters(self) -> PolygonOptions:
        """The same clean-up keeping every object (for parts measured only once joined, e.g. across rasters)."""
        return replace(
            self,
            min_area=0.0,
            max_area=0.0,
            min_diameter=0.0,
            max_diameter=0.0,
            min_compactness=0.0,
            largest_part=False,
        )

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> PolygonOptions:
        """From a request or parsed arguments (``vars(args)``): the fields it names, the defaults for the rest."""
        return cls(**{name: kind(values[name]) for name, kind in _FIELD_TYPES.items() if values.get(name) is not None})


SIZE_FILTERS = ("min_area", "max_area", "min_diameter", "max_diameter", "min_compactness")
_FIELD_TYPES = {
    "min_pixels": int,
    "simplify": float,
    "fill_holes": bool,
    "right_angles": float,
    **dict.fromkeys(SIZE_FILTERS, float),
    "largest_part": bool,
}


class GroundFilter:
    """Which polygons in ``crs`` ``options`` keep by their ground size (see PolygonOptions)."""

    def __init__(self, options: PolygonOptions, crs: CRS | None) -> None:
        self.options = options
        self.active = options.filters_by_size()
        if self.active and crs is None:
            raise InvalidInputError(
                "the raster has no CRS, so its objects cannot be measured in metres: assign it one (QGIS: Layer "
                "Properties > Source; GDAL: gdal_edit.py -a_srs EPSG:...) or leave the area, size and compactness "
                "filters at 0"
            )
        self.measure = GroundMeasure(crs)

    def keeps(self, polygon: Polygonal) -> bool:
        if not self.active:
            return True
        o = self.options
        size = self.measure.size(polygon, diameter=o.min_diameter > 0 or o.max_diameter > 0)
        return (
            size.area_m2 >= o.min_area
            and (o.max_area <= 0 or size.area_m2 <= o.max_area)
            and size.diameter_m >= o.min_diameter
            and (o.max_diameter <= 0 or size.diameter_m <= o.max_diameter)
            and size.compactness >= o.min_compactness
        )


def _polygon(geometry: dict[str, Any]) -> Polygon:
    """A GeoJSON polygon (shell, then holes) as shapely's, built from arrays: ``shape()`` reads every vertex in
    Python, which on a noisy mask (hundreds of holes) costs more than tracing it."""
    rings = [np.asarray(ring, dtype=np.float64) for ring in geometry["coordinates"]]
    return Polygon(rings[0], rings[1:])


def _polygonize(mask: np.ndarray, transform: Affine) -> Iterator[Polygon]:
    """Polygons of the True pixels of ``mask`` (rows, cols), 4-connected, in the CRS of ``transform``, one by one."""
    values = mask.astype(np.uint8)
    for geometry, _ in shapes(values, mask=values, connectivity=4, transform=transform):
        yield _polygon(geometry)


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
    ``min_area`` map units² (specks): the clean-up every polygon output shares."""
    if options.fill_holes and isinstance(polygon, Polygon) and polygon.interiors:
        polygon = Polygon(polygon.exterior)
    if options.right_angles > 0 and isinstance(polygon, Polygon):
        polygon = square_corners(polygon, options.right_angles, pixel)
    elif options.simplify > 0:
        simplified = polygon.simplify(options.simplify * pixel, preserve_topology=False)  # Douglas-Peucker: fast
        polygon = simplified if simplified.is_valid else polygon.simplify(options.simplify * pixel)
    if polygon.is_empty or polygon.area < max(min_area, 1e-12):
        return None
    return polygon


def mask_to_polygons(
    mask: np.ndarray,
    transform: Affine,
    options: PolygonOptions = PolygonOptions(),
    crs: CRS | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[dict[str, Any]]:
    """Polygons of the True pixels of ``mask`` (rows, cols), one per 4-connected part, largest first, those that
    ``options`` keep by their ground size in ``crs`` (the CRS of ``transform``; None: none, no size filters).
    ``cancelled`` is asked between parts (CancelledError: the outline is no longer wanted)."""
    if not mask.any():
        return []
    ground = GroundFilter(options, crs)
    if options.min_pixels > 1:
        mask = sieve(mask.astype(np.uint8), size=options.min_pixels, connectivity=4).astype(bool)
    pixel = abs(transform.a * transform.e - transform.b * transform.d) ** 0.5  # map units per pixel
    kept: list[Polygonal] = []
    stop_if(cancelled)
    for polygon in _polygonize(mask, transform):
        stop_if(cancelled)
        cleaned = clean_polygon(polygon, options, pixel)
        if cleaned is not None and ground.keeps(cleaned):
            kept.append(cleaned)
    kept.sort(key=lambda polygon: -polygon.area)
    if options.largest_part:
        kept = kept[:1]
    return [mapping(polygon) for polygon in kept]
