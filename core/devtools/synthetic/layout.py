"""Where things are: roads, buildings (rectangles and L-shapes) and trees as polygons in map units.

All geometry here is shapely geometry in the scene's projected CRS, (x, y) = (easting, northing), metres.
Objects never overlap objects of another class, so the ground truth is exact whatever the drawing order.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from core.devtools.synthetic.config import BUILDING, ROAD, TREE, SyntheticSceneConfig


@dataclass(frozen=True)
class PlacedObject:
    """One object: class id, polygon (clipped to the valid footprint) and what rendering needs."""

    class_id: int
    geometry: BaseGeometry
    centre: tuple[float, float]
    angle: float  # radians, direction of the long axis (ridge of a building)
    radius: float  # metres, crown radius of a tree; 0 otherwise
    style: int  # palette index (roof colour); 0 for roads and trees


def polygon(points: list[tuple[float, float]]) -> Polygon:
    """A polygon from an open ring of (x, y) points."""
    return Polygon([(float(x), float(y)) for x, y in points])


def _place(local: list[tuple[float, float]], centre: tuple[float, float], angle: float) -> BaseGeometry:
    cos, sin = math.cos(angle), math.sin(angle)
    cx, cy = centre
    return polygon([(cx + x * cos - y * sin, cy + x * sin + y * cos) for x, y in local])


def scene_box(config: SyntheticSceneConfig) -> BaseGeometry:
    x0, y0 = config.origin
    x1, y1 = x0 + config.width * config.pixel_size, y0 - config.height * config.pixel_size
    return polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])


def valid_footprint(config: SyntheticSceneConfig, rng: np.random.Generator) -> BaseGeometry:
    """The area with image data: the whole scene, or a skewed quadrilateral inside it (nodata border)."""
    if not config.nodata_border:
        return scene_box(config)
    x0, y0 = config.origin
    w, h = config.width * config.pixel_size, config.height * config.pixel_size
    inset = rng.uniform(0.03, 0.15, size=(4, 2)) * (w, h)
    corners = [
        (x0 + inset[0, 0], y0 - inset[0, 1]),
        (x0 + w - inset[1, 0], y0 - inset[1, 1]),
        (x0 + w - inset[2, 0], y0 - h + inset[2, 1]),
        (x0 + inset[3, 0], y0 - h + inset[3, 1]),
    ]
    return polygon(corners)


class OccupancyGrid:
    """Placed geometries bucketed by square grid cells, so that testing a candidate against everything
    placed so far costs a few nearby geometries instead of all of them (layout stays linear in size)."""

    def __init__(self, cell: float = 50.0) -> None:
        self.cell = cell
        self.cells: dict[tuple[int, int], list[BaseGeometry]] = defaultdict(list)

    def _keys(self, geometry: BaseGeometry) -> list[tuple[int, int]]:
        min_x, min_y, max_x, max_y = geometry.bounds
        cols = range(math.floor(min_x / self.cell), math.floor(max_x / self.cell) + 1)
        rows = range(math.floor(min_y / self.cell), math.floor(max_y / self.cell) + 1)
        return [(col, row) for col in cols for row in rows]

    def add(self, geometry: BaseGeometry) -> None:
        for key in self._keys(geometry):
            self.cells[key].append(geometry)

    def intersects(self, geometry: BaseGeometry) -> bool:
        seen: set[int] = set()
        for key in self._keys(geometry):
            for placed in self.cells.get(key, ()):
                if id(placed) not in seen:
                    seen.add(id(placed))
                    if placed.intersects(geometry):
                        return True
        return False


def _random_point(rng: np.random.Generator, footprint: BaseGeometry) -> tuple[float, float]:
    min_x, min_y, max_x, max_y = footprint.bounds
    return float(rng.uniform(min_x, max_x)), float(rng.uniform(min_y, max_y))


def _roads(config: SyntheticSceneConfig, rng: np.random.Generator, footprint: BaseGeometry) -> list[PlacedObject]:
    w, h = config.width * config.pixel_size, config.height * config.pixel_size
    count = config.roads if config.roads is not None else max(1, round(max(w, h) / 120)) if min(w, h) >= 40 else 0
    length = 2 * math.hypot(w, h)
    roads = []
    for _ in range(count):
        centre = _random_point(rng, footprint)
        angle = float(rng.choice([0.0, math.pi / 2]) + rng.uniform(-0.25, 0.25))
        half_width = float(rng.uniform(2.0, 4.0))
        strip = _place(
            [(-length, -half_width), (length, -half_width), (length, half_width), (-length, half_width)], centre, angle
        )
        clipped = strip.intersection(footprint)
        if not clipped.is_empty:
            roads.append(PlacedObject(ROAD, clipped, centre, angle, 0.0, 0))
    return roads


def _building_outline(rng: np.random.Generator) -> list[tuple[float, float]]:
    """A rectangle or an L-shape in local metres, centred on (0, 0), long axis along x."""
    length, width = float(rng.uniform(9.0, 24.0)), float(rng.uniform(7.0, 14.0))
    hx, hy = length / 2, width / 2
    if rng.random() < 0.6:
        return [(-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy)]
    cut_x, cut_y = length * float(rng.uniform(0.35, 0.6)), width * float(rng.uniform(0.35, 0.6))
    return [(-hx, -hy), (hx, -hy), (hx, hy - cut_y), (hx - cut_x, hy - cut_y), (hx - cut_x, hy), (-hx, hy)]


def _tree_outline(rng: np.random.Generator, radius: float) -> list[tuple[float, float]]:
    angles = np.linspace(0.0, 2 * math.pi, 20, endpoint=False)
    radii = radius * rng.uniform(0.88, 1.08, size=angles.size)
    return [(float(r * math.cos(a)), float(r * math.sin(a))) for a, r in zip(angles, radii, strict=True)]


def _scatter(
    rng: np.random.Generator,
    footprint: BaseGeometry,
    wanted: int,
    make: Callable[[tuple[float, float]], PlacedObject],
    blocked: OccupancyGrid,
    clearance: float,
    exclusive: bool,
) -> list[PlacedObject]:
    """Place up to ``wanted`` objects ``clearance`` metres away from ``blocked``.

    Exclusive objects are added to ``blocked`` (buildings keep apart); others may overlap each other
    (tree canopies). Returns the objects, clipped to the footprint.
    """
    placed: list[PlacedObject] = []
    for _ in range(wanted * 20):
        if len(placed) == wanted:
            break
        candidate = make(_random_point(rng, footprint))
        if blocked.intersects(candidate.geometry.buffer(clearance, quad_segs=4)):
            continue
        clipped = candidate.geometry.intersection(footprint)
        if clipped.is_empty or clipped.area < 0.3 * candidate.geometry.area:
            continue
        placed.append(replace(candidate, geometry=clipped))
        if exclusive:
            blocked.add(candidate.geometry)
    return placed


def building_maker(rng: np.random.Generator) -> Callable[[tuple[float, float]], PlacedObject]:
    """A function placing a building (a rectangle or an L, any direction, one of 4 roof styles) at a centre."""

    def building(centre: tuple[float, float]) -> PlacedObject:
        angle = float(rng.uniform(0.0, math.pi))
        return PlacedObject(
            BUILDING, _place(_building_outline(rng), centre, angle), centre, angle, 0.0, int(rng.integers(0, 4))
        )

    return building


def tree_maker(
    rng: np.random.Generator, radius: tuple[float, float] = (1.5, 4.5)
) -> Callable[[tuple[float, float]], PlacedObject]:
    """A function placing a tree crown of a radius in ``radius`` (metres) at a centre."""

    def tree(centre: tuple[float, float]) -> PlacedObject:
        size = float(rng.uniform(*radius))
        return PlacedObject(TREE, _place(_tree_outline(rng, size), centre, 0.0), centre, 0.0, size, 0)

    return tree


def layout_scene(config: SyntheticSceneConfig, rng: np.random.Generator) -> tuple[BaseGeometry, list[PlacedObject]]:
    """The valid footprint and every object, roads first, then buildings, then trees."""
    footprint = valid_footprint(config, rng)
    roads = _roads(config, rng, footprint)
    blocked = OccupancyGrid()
    for road in roads:
        blocked.add(road.geometry)

    buildings = _scatter(
        rng,
        footprint,
        round(config.buildings_per_ha * config.area_ha),
        building_maker(rng),
        blocked,
        clearance=2.0,
        exclusive=True,
    )
    # Trees keep clear of roads and buildings but may touch each other, as canopies do.
    trees = _scatter(
        rng,
        footprint,
        round(config.trees_per_ha * config.area_ha),
        tree_maker(rng),
        blocked,
        clearance=0.5,
        exclusive=False,
    )
    return footprint, [*roads, *buildings, *trees]
