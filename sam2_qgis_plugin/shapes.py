"""The polygon shapes an analyst chooses in ground units (simplify, fill holes, minimum area, right angles), turned
into the engine's polygon options (core.geometry.polygons.PolygonOptions: pixels and map units) for one raster.
The panel and Processing both go through ``polygon_options``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qgis.core import QgsRasterLayer, QgsUnitTypes


@dataclass(frozen=True)
class ShapeChoices:
    """``simplify_m``: tolerance in metres (0: one pixel, the engine's default); ``min_area_m2``: smallest part
    kept; ``right_angles``: square corners within this many degrees of a right angle (0: off)."""

    simplify_m: float = 0.0
    fill_holes: bool = False
    min_area_m2: float = 0.0
    right_angles: float = 0.0


def polygon_options(layer: QgsRasterLayer, choices: ShapeChoices) -> dict[str, Any]:
    """The engine's options for ``layer``: ``simplify`` in its pixels, ``min_area`` in its map units²."""
    metres = QgsUnitTypes.fromUnitToUnitFactor(layer.crs().mapUnits(), QgsUnitTypes.DistanceUnit.DistanceMeters) or 1.0
    options: dict[str, Any] = {
        "fill_holes": choices.fill_holes,
        "min_area": choices.min_area_m2 / metres**2,
        "right_angles": choices.right_angles,
    }
    pixel_m = layer.rasterUnitsPerPixelX() * metres
    if choices.simplify_m > 0 and pixel_m > 0:
        options["simplify"] = choices.simplify_m / pixel_m
    return options


__all__ = ["ShapeChoices", "polygon_options"]
