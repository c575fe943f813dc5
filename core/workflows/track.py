"""Follow objects across years (``python -m core track``): each year's objects, predicted from its orthophoto
with a model or given as a polygon layer, matched to the year before (core.tracking.match) and written as
one time-aware GeoPackage with the changes (core.io.track_layers).

Years come oldest first by date (given, or read from the file names). Every year is brought into the first
year's CRS; each object's identity starts in the year it first appears.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rasterio.crs import CRS
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from core.errors import InvalidInputError
from core.io.atomic import atomic_output
from core.io.output_paths import same_file
from core.io.years import dated
from core.tracking.match import MatchConfig, Tracked, match_year


@dataclass(frozen=True)
class TrackJob:
    """``sources``: each year's orthophoto (predicted with ``checkpoint``) or polygon layer (its objects as
    they are, classes from ``class_field``); ``dates``: one per source (None: from the file names)."""

    sources: tuple[Path, ...]
    out: Path
    dates: tuple[str, ...] | None = None
    checkpoint: Path | None = None
    class_field: str = "class_id"
    match: MatchConfig = field(default_factory=MatchConfig)
    prediction: dict[str, Any] = field(default_factory=dict)  # PredictionJob's options for rasters


def _is_layer(path: Path) -> bool:
    return path.suffix.lower() in (".gpkg", ".geojson", ".json", ".shp")


def year_objects(
    path: Path, crs: CRS | None, class_field: str
) -> tuple[list[BaseGeometry], list[int], CRS | None, dict[int, str]]:
    """A year's polygons (in ``crs``, default the layer's own), their classes and class names."""
    from rasterio.warp import transform_geom

    from core.io.vectors import read_polygons

    features, crs_wkt = read_polygons(path)
    own = CRS.from_wkt(crs_wkt) if crs_wkt else None
    target = crs or own
    outlines, classes, names = [], [], {}
    for feature in features:
        value = feature.attributes.get(class_field)
        class_id = int(value) if isinstance(value, int | float) else 1
        name = feature.attributes.get("class") or feature.attributes.get("class_name")
        if name:
            names[class_id] = str(name)
        geometry = feature.geometry
        if own is not None and target is not None and own != target:
            geometry = transform_geom(own, target, geometry)
        outlines.append(shape(geometry))
        classes.append(class_id)
    return outlines, classes, target, names


def track_years(job: TrackJob, progress: Callable[..., None] | None = None) -> dict[str, Any]:
    """Predict (rasters) or read (layers) each year, match it to the year before, write ``job.out``."""
    from core.io.track_layers import write_tracks

    if len(job.sources) < 2:
        raise InvalidInputError("following objects takes two or more years: give a raster or a layer per year")
    if job.out.suffix.lower() != ".gpkg":
        raise InvalidInputError(f"{job.out.name}: the years are written as a GeoPackage (.gpkg)")
    for source in job.sources:
        if same_file(source, job.out):
            raise InvalidInputError(f"--out {job.out.name} is one of the years: choose another file")
        if not source.exists():
            raise InvalidInputError(f"{source} does not exist")
    if not all(_is_layer(s) for s in job.sources) and job.checkpoint is None:
        raise InvalidInputError("orthophotos are predicted with a model: give --checkpoint (or each year's layer)")
    years = dated(job.sources, job.dates)
    crs: CRS | None = None
    written: list[tuple[str, list[Tracked]]] = []
    names: dict[int, str] = {}
    shifts = []
    next_id = 1
    predicted = _Predictor(job)
    with tempfile.TemporaryDirectory(prefix=".sam2-track-", dir=job.out.parent) as work:
        for index, year in enumerate(years):
            layer = year.path if _is_layer(year.path) else predicted(year.path, Path(work) / f"{index}.gpkg")
            outlines, classes, crs, found = year_objects(layer, crs, job.class_field)
            names |= found
            if not written:
                tracked = [Tracked(i, c, "new", g) for i, (g, c) in enumerate(zip(outlines, classes, strict=True), 1)]
                shift = (0.0, 0.0)
            else:
                tracked, shift = match_year(written[-1][1], outlines, classes, next_id, job.match)
            next_id = max([t.object_id for t in tracked], default=next_id - 1) + 1
            written.append((year.date, tracked))
            shifts.append([round(shift[0], 3), round(shift[1], 3)])
            if progress:
                progress((index + 1) / len(years), stage="years", done=index + 1, total=len(years))
        with atomic_output(job.out) as tmp:
            counts = write_tracks(tmp, written, crs.to_wkt() if crs else "", names)
    return {"out": str(job.out), "years": [y.date for y in years], "counts": counts, "shifts_m": shifts}


class _Predictor:
    """Each year's orthophoto predicted with the job's model, loaded once at the first orthophoto."""

    def __init__(self, job: TrackJob) -> None:
        self.job = job
        self.ready: Any = None

    def __call__(self, raster: Path, vector: Path) -> Path:
        """``raster``'s objects, predicted into ``vector`` (its mask beside it)."""
        from core.workflows.prediction import PredictionJob, load_predictor, predict_loaded

        job = self.job
        assert job.checkpoint is not None
        year = PredictionJob(raster, job.checkpoint, vector.with_suffix(".tif"), vector=vector, **job.prediction)
        if self.ready is None:
            self.ready = load_predictor(
                job.checkpoint, year.mode, year.config, year.device, year.image_size, year.encoder
            )
        predict_loaded(self.ready, year)
        return vector


__all__ = ["TrackJob", "track_years", "year_objects"]
