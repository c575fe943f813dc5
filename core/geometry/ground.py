"""Polygons measured on the ground, in metres, whatever the raster's CRS: area, perimeter, size and compactness,
and the filters an analyst sets in those units (objects of 20 to 400 m², at least 3 m across, roundish).

A projected CRS is measured in its own plane, scaled from its linear unit (feet, US survey feet) to metres. A
geographic CRS (degrees) is measured on the ellipsoid through a Lambert azimuthal equal-area projection centred
on the objects (areas exact, lengths within 0.01 % for 100 km around). Projections are GDAL/PROJ's, through
rasterio. Geometries are shapely's, in the CRS given, (x, y) = (easting or longitude, northing or latitude).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import shapely
import shapely.affinity
from rasterio.crs import CRS
from rasterio.errors import CRSError
from rasterio.warp import transform
from shapely.geometry import MultiPolygon, Polygon

Polygonal: TypeAlias = Polygon | MultiPolygon


@dataclass(frozen=True)
class GroundSize:
    """One polygon on the ground: ``area_m2``, ``perimeter_m``, ``diameter_m`` (its smallest enclosing circle's)
    and ``compactness`` (4πA/P²: 1 for a circle, 0.785 for a square, towards 0 for thin shapes)."""

    area_m2: float
    perimeter_m: float
    diameter_m: float

    @property
    def compactness(self) -> float:
        return 4 * math.pi * self.area_m2 / self.perimeter_m**2 if self.perimeter_m > 0 else 0.0


class GroundMeasure:
    """Measures polygons in ``crs`` in metres. ``crs`` None (a raster without one) measures map units as metres."""

    def __init__(self, crs: CRS | None) -> None:
        self.crs = crs
        self.geographic = bool(crs is not None and crs.is_geographic)
        self.metres_per_unit = 1.0
        if crs is not None and not self.geographic:
            try:
                self.metres_per_unit = float(crs.linear_units_factor[1])
            except CRSError:  # a CRS without a named linear unit: its units taken as metres
                self.metres_per_unit = 1.0
        self._plane: CRS | None = None  # for degrees: an equal-area plane centred on the first object measured

    def planar(self, polygon: Polygonal) -> Polygonal:
        """``polygon`` in a plane in metres: its own CRS scaled, or for degrees a Lambert azimuthal equal-area
        projection of the ellipsoid (areas exact; lengths within 0.01 % for 100 km around its centre)."""
        if not self.geographic or self.crs is None:
            if self.metres_per_unit == 1.0:
                return polygon
            return shapely.affinity.scale(polygon, self.metres_per_unit, self.metres_per_unit, origin=(0, 0))
        if self._plane is None:
            centre = polygon.centroid
            self._plane = CRS.from_proj4(
                f"+proj=laea +lat_0={centre.y:.6f} +lon_0={centre.x:.6f} +datum=WGS84 +units=m +no_defs"
            )
        source, plane = self.crs, self._plane

        def project(xy: np.ndarray) -> np.ndarray:
            xs, ys = transform(source, plane, xy[:, 0], xy[:, 1])
            return np.column_stack([xs, ys])

        return shapely.transform(polygon, project)

    def area_m2(self, polygon: Polygonal) -> float:
        return float(self.planar(polygon).area)

    def size(self, polygon: Polygonal, diameter: bool = True) -> GroundSize:
        """``polygon``'s ground size (the smallest enclosing circle only when ``diameter``: it costs the most)."""
        flat = self.planar(polygon)
        across = 2 * float(shapely.minimum_bounding_radius(flat)) if diameter else 0.0
        return GroundSize(float(flat.area), float(flat.length), across)


__all__ = ["GroundMeasure", "GroundSize", "Polygonal"]
