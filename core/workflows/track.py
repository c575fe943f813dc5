"""Follow objects across years (``python -m core track``) and write them as one time-aware GeoPackage with the
changes (core.io.track_layers). Three methods carry last year's objects into this year:

- ``match``: each year's objects, predicted from its orthophoto or given as a polygon layer, matched to the
  year before by overlap once the misregistration is taken out (core.tracking.match);
- ``prompt``: each object's outline last year prompts SAM 2 (box and mask) in this year's orthophoto
  (core.inference.carry);
- ``memory``: the years are frames of a video, followed by SAM 2's memory (core.inference.memory).

``prompt`` and ``memory`` read the orthophotos on one grid (core.io.years: the first year's CRS, the finest
pixel) and predict each year too: objects no carried one covers are ``new``. Years come oldest first by date
(given, or read from the file names); every year is brought into the first year's CRS; each object's identity
starts in the year it first appears. The first year's objects are its prediction, its layer, or ``start``.
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
from core.inference.carry import PromptCarry
from core.io.atomic import atomic_output
from core.io.output_paths import same_file
from core.io.years import dated
from core.tracking.match import MatchConfig, Tracked, estimate_shift, follow_year, match_year, reappeared


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
    method: str = "match"
    start: Path | None = None  # the first year's objects (accepted segments, labels), instead of its prediction
    pixel: float | None = None  # prompt and memory: the grid's pixel in the first year's CRS units (None: finest)
    carry: PromptCarry = field(default_factory=PromptCarry)


METHODS = ("match", "prompt", "memory")


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


def check_job(job: TrackJob) -> None:
    """Refuse, before anything runs, what cannot be followed, saying what to give instead."""
    if job.method not in METHODS:
        raise InvalidInputError(f"unknown method {job.method!r}: choose one of {', '.join(METHODS)}")
    if len(job.sources) < 2:
        raise InvalidInputError("following objects takes two or more years: give a raster or a layer per year")
    if job.out.suffix.lower() != ".gpkg":
        raise InvalidInputError(f"{job.out.name}: the years are written as a GeoPackage (.gpkg)")
    for source in (*job.sources, *([job.start] if job.start else [])):
        if same_file(source, job.out):
            raise InvalidInputError(f"--out {job.out.name} is one of the inputs: choose another file")
        if not source.exists():
            raise InvalidInputError(f"{source} does not exist")
    if job.start is not None and not _is_layer(job.start):
        raise InvalidInputError(f"{job.start.name}: the starting objects are a polygon layer (.gpkg, .geojson, .shp)")
    if not all(_is_layer(s) for s in job.sources) and job.checkpoint is None:
        raise InvalidInputError("orthophotos are predicted with a model: give --checkpoint (or each year's layer)")
    if job.method != "match" and any(_is_layer(s) for s in job.sources):
        raise InvalidInputError(
            f"the {job.method} method reads each year's orthophoto: give rasters (the first year's objects may "
            "come from a layer: --start), or follow layers with --method match"
        )


def track_years(job: TrackJob, progress: Callable[..., None] | None = None) -> dict[str, Any]:
    """Each year's objects (predicted, read, or carried from the year before by ``job.method``), matched to the
    year before, written to ``job.out``; returns the years, the counts per status and the shifts taken out."""
    from core.io.track_layers import write_tracks
    from core.io.years import write_on_grid, year_grid

    check_job(job)
    years = dated(job.sources, job.dates)
    written: list[tuple[str, list[Tracked]]] = []
    names: dict[int, str] = {}
    shifts = []
    next_id = 1
    predicted = _Predictor(job)
    with tempfile.TemporaryDirectory(prefix=".sam2-track-", dir=job.out.parent) as work:
        paths = [year.path for year in years]
        crs: CRS | None = None
        shared: dict[str, Any] | None = None
        if job.method != "match":
            grid = year_grid(paths, job.pixel)
            crs = grid.crs
            shared = {"pixel": grid.pixel, "width": grid.width, "height": grid.height}
            paths = [write_on_grid(path, grid, Path(work) / f"grid{index}.tif") for index, path in enumerate(paths)]
        carrier = _Carrier(job, predicted, paths)
        for index, path in enumerate(paths):
            if index == 0 and job.start is not None:
                layer = job.start  # the first year's objects are given: its orthophoto is not predicted
            else:
                layer = path if _is_layer(path) else predicted(path, Path(work) / f"{index}.gpkg")
            outlines, classes, crs, found = year_objects(layer, crs, job.class_field)
            names |= found
            if not written:
                tracked = [Tracked(i, c, "new", g) for i, (g, c) in enumerate(zip(outlines, classes, strict=True), 1)]
                shift = (0.0, 0.0)
            elif job.method == "match":
                tracked, shift = match_year(written[-1][1], outlines, classes, next_id, job.match)
            else:
                before = written[-1][1]
                standing = [t.geometry for t in before if t.status != "gone"]
                shift = estimate_shift(standing, outlines, job.match.max_shift_m)
                carried = carrier(index, before, shift, written[0][1])
                tracked = follow_year(before, carried, outlines, classes, next_id, shift, job.match)
            if written and job.match.reappear:
                last, tracked = reappeared(written[-1][1], tracked, shift, job.match)
                written[-1] = (written[-1][0], last)
            next_id = max([t.object_id for t in tracked], default=next_id - 1) + 1
            written.append((years[index].date, tracked))
            shifts.append([round(shift[0], 3), round(shift[1], 3)])
            if progress:
                progress((index + 1) / len(years), stage="years", done=index + 1, total=len(years))
        with atomic_output(job.out) as tmp:
            counts = write_tracks(tmp, written, crs.to_wkt() if crs else "", names)
    return {
        "out": str(job.out),
        "method": job.method,
        "years": [y.date for y in years],
        "counts": counts,
        "shifts_m": shifts,
        "grid": shared,
    }


class _Carrier:
    """Last year's standing objects found in year ``index`` by the job's method: object id -> outline (None:
    gone). ``prompt`` prompts each year with the year before; ``memory`` follows the first year's objects
    through all the years at once (objects that appear later are left to matching)."""

    def __init__(self, job: TrackJob, predicted: _Predictor, paths: list[Path]) -> None:
        self.job, self.predicted, self.paths = job, predicted, paths
        self.followed: list[dict[int, BaseGeometry | None]] | None = None

    def __call__(
        self, index: int, before: list[Tracked], shift: tuple[float, float], first: list[Tracked]
    ) -> dict[int, BaseGeometry | None]:
        from core.inference.carry import carry_by_prompts
        from core.inference.embeddings import EmbeddingCache
        from core.inference.memory import carry_by_memory
        from core.inference.segment import ClickSegmenter
        from core.io.raster import RasterSource

        standing = {t.object_id: t.geometry for t in before if t.status != "gone"}
        if self.job.method == "prompt":
            loaded = self.predicted.loaded()
            with RasterSource(self.paths[index]) as raster:
                segmenter = ClickSegmenter(loaded, raster, EmbeddingCache(memory_items=4))
                found = carry_by_prompts(segmenter, standing, shift, self.job.carry)
            return {object_id: carried.geometry for object_id, carried in found.items()}
        if self.followed is None:
            video = self.predicted.loaded()  # the model that predicts the years, loaded once
            rasters = [RasterSource(path) for path in self.paths]
            try:
                self.followed = carry_by_memory(video, rasters, {t.object_id: t.geometry for t in first})
            finally:
                for raster in rasters:
                    raster.close()
        return {object_id: g for object_id, g in self.followed[index].items() if object_id in standing}


class _Predictor:
    """Each year's orthophoto predicted with the job's model, loaded once at the first orthophoto."""

    def __init__(self, job: TrackJob) -> None:
        self.job = job
        self.ready: Any = None

    def _year(self, raster: Path, vector: Path) -> Any:
        from core.workflows.prediction import PredictionJob

        assert self.job.checkpoint is not None
        return PredictionJob(
            raster, self.job.checkpoint, vector.with_suffix(".tif"), vector=vector, **self.job.prediction
        )

    def loaded(self) -> Any:
        """The model (core.models.loader.LoadedModel), loaded at the first call; for ``memory``, SAM 2's video
        predictor, which also predicts each year."""
        from core.workflows.prediction import load_predictor

        if self.ready is None:
            year = self._year(self.job.sources[0], Path("unused.gpkg"))
            self.ready = load_predictor(
                year.checkpoint, year.mode, year.config, year.device, year.image_size, year.encoder,
                video=self.job.method == "memory",
            )  # fmt: skip
        return self.ready.loaded

    def __call__(self, raster: Path, vector: Path) -> Path:
        """``raster``'s objects, predicted into ``vector`` (its mask beside it)."""
        from core.workflows.prediction import predict_loaded

        self.loaded()
        predict_loaded(self.ready, self._year(raster, vector))
        return vector


__all__ = ["METHODS", "TrackJob", "check_job", "track_years", "year_objects"]
