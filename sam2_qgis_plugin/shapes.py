"""The polygon shapes an analyst chooses in ground units (simplify, fill holes, right angles) and the objects kept
(area, size across, compactness, a click's largest part), turned into the engine's polygon options
(core.geometry.polygons.PolygonOptions) for one raster. The panel and Processing both go through
``polygon_options``. The engine measures objects on the ground itself, in any CRS: only the simplify tolerance
is converted here, to the raster's pixels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qgis.core import QgsRasterLayer, QgsUnitTypes


@dataclass(frozen=True)
class ShapeChoices:
    """``simplify_m``: tolerance in metres (0: one pixel, the engine's default); ``right_angles``: square corners
    within this many degrees of a right angle (0: off). Objects kept (0: no limit): ``min_area_m2`` and
    ``max_area_m2``; ``min_diameter_m`` and ``max_diameter_m``, the smallest circle around the object;
    ``min_compactness`` 4πA/P² (1 a circle); ``largest_part``: a click keeps only its largest polygon."""

    simplify_m: float = 0.0
    fill_holes: bool = False
    min_area_m2: float = 0.0
    right_angles: float = 0.0
    max_area_m2: float = 0.0
    min_diameter_m: float = 0.0
    max_diameter_m: float = 0.0
    min_compactness: float = 0.0
    largest_part: bool = False


def polygon_options(layer: QgsRasterLayer, choices: ShapeChoices) -> dict[str, Any]:
    """The engine's options for ``layer``: ``simplify`` in its pixels, the filters in metres as chosen; the
    filters left at 0 are not sent."""
    options: dict[str, Any] = {"fill_holes": choices.fill_holes, "right_angles": choices.right_angles}
    filters = {
        "min_area": choices.min_area_m2,
        "max_area": choices.max_area_m2,
        "min_diameter": choices.min_diameter_m,
        "max_diameter": choices.max_diameter_m,
        "min_compactness": choices.min_compactness,
    }
    options |= {name: value for name, value in filters.items() if value > 0}
    if choices.largest_part:
        options["largest_part"] = True
    metres = QgsUnitTypes.fromUnitToUnitFactor(layer.crs().mapUnits(), QgsUnitTypes.DistanceUnit.DistanceMeters) or 1.0
    pixel_m = layer.rasterUnitsPerPixelX() * metres
    if choices.simplify_m > 0 and pixel_m > 0:
        options["simplify"] = choices.simplify_m / pixel_m
    return options


__all__ = ["ShapeChoices", "polygon_options"]
