"""Areas of interest: polygons read once (any CRS, reprojected), rasterized per window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from rasterio.features import rasterize

from core.errors import InvalidInputError


def read_aoi(path: Path | None, crs: Any) -> list[dict] | None:
    """The AOI's polygons in ``crs`` (GeoJSON-like), or None without an AOI; an AOI without polygons is refused."""
    if path is None:
        return None
    from core.io.labels import read_vector_labels

    shapes = [p.geometry for p in read_vector_labels(Path(path), crs, None)]
    if not shapes:
        raise InvalidInputError(f"AOI {Path(path).name} holds no polygon")
    return shapes


def aoi_mask(shapes: list[dict] | None, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    """Where the AOI covers a window (rows, cols) with ``transform``; all True without an AOI."""
    if shapes is None:
        return np.ones(shape, dtype=bool)
    return rasterize(shapes, out_shape=shape, transform=transform, fill=0, dtype="uint8") == 1


def write_rectangle(path: Path, bounds: tuple[float, float, float, float], crs_wkt: str) -> Path:
    """One polygon (xmin, ymin, xmax, ymax) as a GeoPackage layer ``area``."""
    from core.io.vectors import PolygonFeature, write_polygons

    xmin, ymin, xmax, ymax = bounds
    ring = [[xmin, ymin], [xmax, ymin], [xmax, ymax], [xmin, ymax], [xmin, ymin]]
    return write_polygons(path, [PolygonFeature({"type": "Polygon", "coordinates": [ring]}, {})], crs_wkt, "area")
