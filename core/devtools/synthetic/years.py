"""One synthetic scene over several years, with exact truth of what changed: buildings built, demolished and
extended, trees cut and planted, each year its own sun and season (texture seed) and a misregistration of 1-3
pixels against the first year, as successive municipal flights have.

Every building and tree keeps one ``object_id`` through the years. A year's truth holds the objects standing
that year and those gone since the year before, with their ``status`` against the year before: ``new``,
``unchanged``, ``changed`` (extended) or ``gone`` (its last outline). Geometry is as that year's image shows it
(shifted with its misregistration), in the scene's CRS, (x, y) metres. Roads stay and are not tracked.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from shapely import affinity
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from core.devtools.synthetic.config import BUILDING, TREE, SyntheticSceneConfig
from core.devtools.synthetic.layout import (
    OccupancyGrid,
    PlacedObject,
    _scatter,
    building_maker,
    layout_scene,
    tree_maker,
)
from core.devtools.synthetic.scene import ScenePaths, write_synthetic_scene
from core.errors import InvalidConfigError
from core.io.vectors import PolygonFeature, write_polygons

STATUSES = ("new", "unchanged", "changed", "gone")
TRACKED = (BUILDING, TREE)


@dataclass(frozen=True)
class YearsConfig:
    """``scene``: the first year's scene; ``years``: the flights' years, ascending; per step, the share of
    buildings demolished, built (of the count) and extended, and of trees cut and planted; ``max_shift_px``:
    each later year is misregistered by 1 to this many pixels in a random direction."""

    scene: SyntheticSceneConfig
    years: tuple[int, ...] = (2019, 2022, 2025)
    demolished: float = 0.15
    built: float = 0.15
    extended: float = 0.15
    cut: float = 0.15
    planted: float = 0.1
    max_shift_px: float = 3.0

    def __post_init__(self) -> None:
        if len(self.years) < 2 or list(self.years) != sorted(set(self.years)):
            raise InvalidConfigError(f"years {self.years} must be two or more, ascending, without repeats")
        shares = (self.demolished, self.built, self.extended, self.cut, self.planted)
        if not all(0 <= share <= 0.5 for share in shares):
            raise InvalidConfigError("the shares of objects changed per step must lie between 0 and 0.5")
        if not 1 <= self.max_shift_px <= 10:
            raise InvalidConfigError(f"max_shift_px {self.max_shift_px} must lie between 1 and 10 pixels")


@dataclass(frozen=True)
class YearObject:
    """One tracked object in one year: identity, class, status against the year before, outline."""

    object_id: int
    class_id: int
    status: str
    geometry: BaseGeometry


@dataclass(frozen=True)
class Year:
    """One flight: its year, its misregistration (dx, dy) in pixels, what it draws and its truth."""

    year: int
    shift_px: tuple[float, float]
    placed: list[PlacedObject]
    truth: list[YearObject]


@dataclass(frozen=True)
class YearPaths:
    """Files of one year: the scene's (image, mask, labels) and the truth of what changed (``changes``)."""

    year: int
    scene: ScenePaths
    changes: Path


def _extend(obj: PlacedObject, rng: np.random.Generator) -> BaseGeometry:
    """``obj`` (a building) lengthened by 30-50 % along its ridge from one end: an extension."""
    along = affinity.rotate(obj.geometry, -obj.angle, origin=obj.centre, use_radians=True)
    xmin, _, xmax, _ = along.bounds
    factor = float(rng.uniform(1.3, 1.5))
    end = (xmin, obj.centre[1]) if rng.random() < 0.5 else (xmax, obj.centre[1])
    longer = affinity.scale(along, factor, 1.0, origin=end)
    return affinity.rotate(longer, obj.angle, origin=obj.centre, use_radians=True)


def _pick(rng: np.random.Generator, ids: list[int], share: float) -> set[int]:
    count = round(share * len(ids))
    return {int(i) for i in rng.choice(ids, size=count, replace=False)} if count else set()


def year_sequence(config: YearsConfig) -> tuple[BaseGeometry, list[Year]]:
    """The footprint and every year, the first laid out from the scene's seed, each later one changed from the
    year before; the same config gives the same years."""
    rng = np.random.default_rng(config.scene.seed)
    footprint, first = layout_scene(config.scene, rng)
    changes = np.random.default_rng(config.scene.seed + 1000)
    roads = [obj for obj in first if obj.class_id not in TRACKED]
    standing = {index: obj for index, obj in enumerate((o for o in first if o.class_id in TRACKED), start=1)}
    next_id = len(standing) + 1
    years = [Year(config.years[0], (0.0, 0.0), first, [_truth(i, o, "new") for i, o in standing.items()])]
    for year in config.years[1:]:
        buildings = [i for i, o in standing.items() if o.class_id == BUILDING]
        trees = [i for i, o in standing.items() if o.class_id == TREE]
        gone = _pick(changes, buildings, config.demolished) | _pick(changes, trees, config.cut)
        kept = {i: o for i, o in standing.items() if i not in gone}
        extended: set[int] = set()
        for i in sorted(_pick(changes, [b for b in buildings if b in kept], config.extended)):
            longer = _extend(kept[i], changes).intersection(footprint)
            near = _grid([*roads, *(o for j, o in kept.items() if j != i)])
            grown = longer.area > 1.2 * kept[i].geometry.area and longer.buffer(1e-6).contains(kept[i].geometry)
            if grown and not near.intersects(longer.buffer(1.0)):
                kept[i] = replace(kept[i], geometry=longer)
                extended.add(i)
        blocked = _grid([*roads, *standing.values(), *kept.values()])  # nothing new where one stands or stood
        added = _scatter(
            changes, footprint, round(config.built * len(buildings)), building_maker(changes), blocked, 2.0, True
        )
        saplings = _scatter(
            changes, footprint, round(config.planted * len(trees)), tree_maker(changes, (1.5, 2.5)), blocked, 0.5, True
        )
        truth = [_truth(i, standing[i], "gone") for i in sorted(gone)]
        truth += [_truth(i, o, "changed" if i in extended else "unchanged") for i, o in kept.items()]
        for obj in [*added, *saplings]:
            kept[next_id] = obj
            truth.append(_truth(next_id, obj, "new"))
            next_id += 1
        standing = kept
        angle = float(changes.uniform(0, 2 * math.pi))
        distance = float(changes.uniform(1.0, config.max_shift_px))
        shift = (round(distance * math.cos(angle), 2), round(distance * math.sin(angle), 2))
        years.append(Year(year, shift, [*roads, *standing.values()], truth))
    return footprint, years


def _grid(objects: list[PlacedObject]) -> OccupancyGrid:
    grid = OccupancyGrid()
    for obj in objects:
        grid.add(obj.geometry)
    return grid


def _truth(object_id: int, obj: PlacedObject, status: str) -> YearObject:
    return YearObject(object_id, obj.class_id, status, obj.geometry)


def _shifted(obj: PlacedObject, dx: float, dy: float) -> PlacedObject:
    return replace(
        obj,
        geometry=affinity.translate(obj.geometry, dx, dy),
        centre=(obj.centre[0] + dx, obj.centre[1] + dy),
    )


def write_year_sequence(config: YearsConfig, out_dir: str | os.PathLike[str]) -> list[YearPaths]:
    """Write each year as ``year_<YYYY>_image.tif``, ``_mask.tif``, ``_labels.gpkg``, ``.json`` and its truth
    ``year_<YYYY>_changes.gpkg`` (``object_id``, ``class_id``, ``status``, ``date``), all as that year's image
    shows them (misregistration included)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    footprint, years = year_sequence(config)
    written = []
    for index, year in enumerate(years):
        metres = (year.shift_px[0] * config.scene.pixel_size, -year.shift_px[1] * config.scene.pixel_size)
        drawn = [_shifted(obj, *metres) for obj in year.placed]
        scene = replace(config.scene, seed=config.scene.seed + index)  # its own sun, season and sensor noise
        paths = write_synthetic_scene(scene, out, f"year_{year.year}", layout=(footprint, drawn))
        features = [
            PolygonFeature(
                mapping(affinity.translate(o.geometry, *metres)),
                {"object_id": o.object_id, "class_id": o.class_id, "status": o.status, "date": f"{year.year}-06-01"},
            )
            for o in year.truth
        ]
        changes = out / f"year_{year.year}_changes.gpkg"
        write_polygons(
            changes,
            features,
            _crs_wkt(paths),
            layer_name="changes",
            fields={"object_id": int, "class_id": int, "status": str, "date": str},
        )
        written.append(YearPaths(year.year, paths, changes))
    return written


def _crs_wkt(paths: ScenePaths) -> str:
    import rasterio

    with rasterio.open(paths.image) as source:
        return source.crs.to_wkt()


__all__ = ["STATUSES", "Year", "YearObject", "YearPaths", "YearsConfig", "write_year_sequence", "year_sequence"]
