"""Orthophotos of one area from several years on one grid: each year's date, the grid they share (one CRS, one
pixel size, the area all of them cover) and each year read through it (GDAL's warper, nothing written).

Flights differ in CRS, pixel size and extent; misregistration of a few pixels is normal and stays in the pixels
(following objects allows for it). A raster that covers none of the area the years before it cover shows
another place and is refused. Grids map (col, row) to (x, y) of pixel corners in the grid's CRS.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_geom
from shapely.geometry import box, mapping, shape

from core.errors import InvalidInputError

YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?:[-_]?(0[1-9]|1[0-2])(?:[-_]?(0[1-9]|[12]\d|3[01]))?)?(?!\d)")


@dataclass(frozen=True)
class YearRaster:
    """One flight: its orthophoto and its date (ISO, ``YYYY-MM-DD``; mid-year when only the year is known)."""

    path: Path
    date: str


@dataclass(frozen=True)
class YearGrid:
    """The grid the years share: ``crs``, ``transform`` (square pixels of ``pixel`` CRS units), ``width`` and
    ``height`` in pixels, covering the area every year covers."""

    crs: CRS
    transform: Affine
    width: int
    height: int

    @property
    def pixel(self) -> float:
        return abs(self.transform.a)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in the grid's CRS."""
        left, top = self.transform.c, self.transform.f
        return left, top - self.height * self.pixel, left + self.width * self.pixel, top


def date_of(path: Path) -> str | None:
    """The date a file name gives (``ortho_2019.tif``, ``<raster>_<AOI>_2022_merged.tif``, ``2025-05-14.tif``):
    ``YYYY-MM-DD``, mid-year (``-07-01``) when only the year is named; None when it names no year."""
    found = YEAR.findall(path.stem)
    if not found:
        return None
    year, month, day = found[-1]
    if not month:
        return f"{year}-07-01"
    return f"{year}-{month}-{day or '01'}"


def dated(paths: Sequence[Path], dates: Sequence[str] | None = None) -> list[YearRaster]:
    """``paths`` with their dates (given, else read from the file names), oldest first; refused when a date is
    missing or two rasters share one."""
    if dates is not None and len(dates) != len(paths):
        raise InvalidInputError(f"{len(dates)} dates for {len(paths)} rasters: give one date per raster, in order")
    years = []
    for index, path in enumerate(paths):
        date = _iso(dates[index]) if dates is not None else date_of(path)
        if date is None:
            raise InvalidInputError(
                f"{path.name} names no year: give the dates of the rasters (--date YYYY[-MM-DD], one per raster)"
            )
        years.append(YearRaster(path, date))
    years.sort(key=lambda year: year.date)
    for earlier, later in itertools.pairwise(years):
        if earlier.date == later.date:
            raise InvalidInputError(
                f"{earlier.path.name} and {later.path.name} have the same date {later.date}: give each year once"
            )
    return years


def _iso(text: str) -> str:
    found = date_of(Path(text.strip()))
    if found is None or not re.fullmatch(r"\d{4}([-_]?\d{2}([-_]?\d{2})?)?", text.strip()):
        raise InvalidInputError(f"date {text!r} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD")
    return found


def year_grid(paths: Sequence[Path], pixel: float | None = None, crs: CRS | None = None) -> YearGrid:
    """The grid for ``paths`` (oldest first): ``crs`` (default: the first raster's), ``pixel`` in its units
    (default: the finest of the rasters), over the bounds of the area all of them cover (footprints compared as
    polygons in ``crs``: a raster in another CRS may leave nodata in the grid's corners), snapped to whole
    pixels."""
    footprints = []
    finest = math.inf
    target: CRS | None = crs
    for path in paths:
        with rasterio.open(path) as source:
            if source.crs is None:
                raise InvalidInputError(f"{path.name} has no CRS: assign it one so that the years can be aligned")
            target = target or source.crs
            outline = box(*source.bounds)
            outline = outline.segmentize(outline.length / 80)  # edges bend in another CRS
            footprint = shape(transform_geom(source.crs, target, mapping(outline)))
            footprints.append((path, footprint))
            finest = min(finest, math.sqrt(footprint.area / (source.width * source.height)))  # its pixel, there
    assert target is not None
    common = footprints[0][1]
    for path, footprint in footprints[1:]:
        overlap = common.intersection(footprint)
        if overlap.is_empty or overlap.area == 0:
            before = ", ".join(p.name for p, _ in footprints[: footprints.index((path, footprint))])
            raise InvalidInputError(
                f"{path.name} does not overlap {before}: it shows another area; give orthophotos of the same area"
            )
        common = overlap
    size = pixel or finest
    if size <= 0:
        raise InvalidInputError(f"pixel size {size} must be positive")
    left, bottom, right, top = common.bounds
    left, top = math.floor(left / size) * size, math.ceil(top / size) * size
    width, height = max(1, math.floor((right - left) / size)), max(1, math.floor((top - bottom) / size))
    return YearGrid(target, Affine(size, 0.0, left, 0.0, -size, top), width, height)


@contextlib.contextmanager
def on_grid(path: Path, grid: YearGrid, resampling: Resampling = Resampling.bilinear) -> Iterator[WarpedVRT]:
    """``path`` read through ``grid`` (a dataset with its shape, transform and CRS), warped on the fly."""
    with (
        rasterio.open(path) as source,
        WarpedVRT(
            source, crs=grid.crs, transform=grid.transform, width=grid.width, height=grid.height, resampling=resampling
        ) as warped,
    ):
        yield warped


def write_on_grid(path: Path, grid: YearGrid, out: Path, rows_per_block: int = 1024) -> Path:
    """``path`` warped onto ``grid`` and written to ``out`` (a tiled, compressed GeoTIFF, nodata kept: pixels
    outside the raster are nodata, 0 when it names none), ``rows_per_block`` rows at a time."""
    from rasterio.windows import Window

    with on_grid(path, grid) as warped:
        profile = {
            "driver": "GTiff", "width": grid.width, "height": grid.height, "count": warped.count,
            "dtype": warped.dtypes[0], "crs": grid.crs, "transform": grid.transform, "nodata": warped.nodata,
            "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "deflate",
        }  # fmt: skip
        with rasterio.open(out, "w", **profile) as target:
            for row in range(0, grid.height, rows_per_block):
                window = Window(0, row, grid.width, min(rows_per_block, grid.height - row))
                target.write(warped.read(window=window), window=window)
    return out


__all__ = ["YearGrid", "YearRaster", "date_of", "dated", "on_grid", "write_on_grid", "year_grid"]
