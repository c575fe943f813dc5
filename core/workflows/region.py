"""A whole region as one resumable job: many rasters predicted with one model load, on one process or on the ranks
``torchrun`` starts (one model replica each, no gradient sync), into one folder.

``<out>/``:
- ``masks/<name>.tif``: each raster's mask, on its own grid (``name``: the raster's file stem, made unique);
- ``parts/<name>.gpkg``: its polygons (when polygons are asked for);
- ``parts/<name>.json``: the record that the part is finished: the raster's identity, the job's fingerprint and
  the sha256 of its files. Written last and atomically; a part without one, or whose files or inputs differ
  from it, is redone, never trusted;
- ``region.json``: the job's fingerprint (``--resume`` with other settings is refused);
- ``region.vrt``: the mosaic over every mask; and the region's polygons where ``--vector`` says.

Ranks: under torchrun (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` in the environment) each rank takes its share of
the unfinished rasters, balanced by pixels; rank 0 then waits for every record and writes the mosaic and the
polygons. A rank that dies leaves its unfinished parts for ``--resume`` (torchrun stops the others).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rasterio.crs import CRS

from core.errors import CancelledError, InvalidConfigError, OutputConflictError
from core.geometry.polygons import GroundFilter, PolygonOptions
from core.inference.predict_config import PredictConfig, PredictMode
from core.io.atomic import atomic_output, sha256_file
from core.io.catalog import CatalogRaster, describe_catalog, part_names, resolve_catalog, write_mosaic_vrt
from core.io.output_paths import same_file

MASK_NODATA = 255
WAIT_SECONDS = 2.0  # how often rank 0 looks for the other ranks' records
SCAN_SECONDS = 5.0  # how often progress counts every rank's finished parts


@dataclass(frozen=True)
class RegionJob:
    """``sources``: raster files, folders, glob patterns, .txt lists or VRT mosaics (core.io.catalog); ``out``:
    the region's folder; ``vector``: the region's polygon layer (None: masks only). The other fields are
    PredictionJob's, applied to every raster."""

    sources: tuple[str, ...]
    checkpoint: Path
    out: Path
    vector: Path | None = None
    config: PredictConfig = field(default_factory=PredictConfig)
    mode: PredictMode | None = None
    aoi: Path | None = None
    bands: tuple[int, ...] | None = None
    device: str = "auto"
    image_size: int | None = None
    encoder: str = "exact"
    label: str = "object"
    shapes: PolygonOptions = field(default_factory=PolygonOptions)
    instances: bool = False
    resume: bool = False


@dataclass(frozen=True)
class Rank:
    """This process's place among torchrun's ranks (0 of 1 without torchrun)."""

    rank: int = 0
    world: int = 1
    local: int = 0

    @classmethod
    def from_environment(cls) -> Rank:
        return cls(
            int(os.environ.get("RANK", "0")),
            int(os.environ.get("WORLD_SIZE", "1")),
            int(os.environ.get("LOCAL_RANK", "0")),
        )


def share_of(rasters: list[CatalogRaster], names: list[str], rank: Rank) -> list[int]:
    """The indices ``rank`` predicts: the largest rasters first, each to the rank with the fewest pixels so far
    (the same answer on every rank)."""
    loads = [0] * rank.world
    mine = []
    for index in sorted(range(len(rasters)), key=lambda i: (-rasters[i].pixels, names[i])):
        chosen = loads.index(min(loads))
        loads[chosen] += rasters[index].pixels
        if chosen == rank.rank:
            mine.append(index)
    return sorted(mine)


def predict_region(
    job: RegionJob,
    progress: Callable[..., None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    warn: Callable[[str], None] | None = None,
    rank: Rank | None = None,
) -> dict[str, Any]:
    """Predict every raster of ``job`` that is not finished yet (all of them without ``resume``), then, on rank
    0, the mosaic and the region's polygons. Returns what this rank did (and, on rank 0, the region's files)."""
    rank = rank or Rank.from_environment()
    paths = resolve_catalog(job.sources)
    rasters = describe_catalog(paths)
    names = part_names(paths)
    check_region_outputs(job, paths)
    ground = GroundFilter(job.shapes, CRS.from_wkt(rasters[0].crs) if rasters[0].crs else None)  # refused early
    fingerprint = job_fingerprint(job)
    folder = RegionFolder(job.out)
    folder.start(fingerprint, job.resume, rank)
    finished = {
        name for name, raster in zip(names, rasters, strict=True) if folder.is_finished(name, raster, fingerprint, job)
    }
    todo = [i for i in range(len(rasters)) if names[i] not in finished]
    mine = share_of([rasters[i] for i in todo], [names[i] for i in todo], rank)
    assigned = [todo[i] for i in mine]
    pace = RegionPace(folder, rasters, names, finished, progress, rank)
    predicted = _predict_share(job, folder, rasters, names, assigned, fingerprint, pace, cancelled, warn, rank)
    result: dict[str, Any] = {
        "rank": rank.rank,
        "ranks": rank.world,
        "rasters": len(rasters),
        "skipped": sorted(finished),
        "predicted": predicted,
    }
    if rank.rank != 0:
        return result
    others = [i for i, name in enumerate(names) if name not in finished and name not in predicted]
    folder.wait_for([names[i] for i in others], [rasters[i] for i in others], fingerprint, job, cancelled)
    masks = [folder.mask(name) for name in names]
    with atomic_output(job.out / "region.vrt") as vrt:
        write_mosaic_vrt(vrt, masks, MASK_NODATA)
    result |= {"mosaic": str(job.out / "region.vrt"), "masks": str(job.out / "masks"), **pace.summary()}
    if job.vector is not None:
        from core.io.region_polygons import write_region_polygons

        with atomic_output(job.vector) as vector:
            count = write_region_polygons(
                [folder.polygons(name) for name in names],
                [raster.bounds for raster in rasters],
                min(raster.pixel_size for raster in rasters),
                vector,
                rasters[0].crs,
                keep=ground.keeps,
            )
        result |= {"vector": str(job.vector), "polygons": count}
    return result


def _predict_share(
    job: RegionJob,
    folder: RegionFolder,
    rasters: list[CatalogRaster],
    names: list[str],
    assigned: list[int],
    fingerprint: str,
    pace: RegionPace,
    cancelled: Callable[[], bool] | None,
    warn: Callable[[str], None] | None,
    rank: Rank,
) -> list[str]:
    """Predict this rank's rasters, each recorded when its files are in place; the names predicted."""
    if not assigned:
        return []
    from core.workflows.prediction import PredictionJob, load_predictor, predict_loaded

    device = f"cuda:{rank.local}" if rank.world > 1 and job.device in ("auto", "cuda") and _has_cuda() else job.device
    ready = load_predictor(job.checkpoint, job.mode, job.config, device, job.image_size, job.encoder)
    for said in ready.warnings:
        if warn and rank.rank == 0:
            warn(said)
    done: list[str] = []
    for index in assigned:
        if cancelled and cancelled():
            raise CancelledError(f"the region stopped after {len(done)} rasters: run again with --resume to finish it")
        name, raster = names[index], rasters[index]
        part = PredictionJob(
            raster.path, job.checkpoint, folder.mask(name),
            vector=folder.polygons(name) if job.vector is not None else None,
            config=job.config, mode=job.mode, aoi=job.aoi, bands=job.bands, device=device,
            image_size=job.image_size, encoder=job.encoder, label=job.label, source=raster.path.name,
            shapes=job.shapes.without_size_filters(), instances=job.instances,  # measured once joined
        )  # fmt: skip
        folder.clear_leftovers(name)
        predict_loaded(ready, part, pace.within(index), cancelled)
        folder.record(name, raster, fingerprint, job)
        pace.finished(index)
        done.append(name)
    return done


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def check_region_outputs(job: RegionJob, rasters: list[Path]) -> None:
    """The region's folder holds no input and is not one; the polygon layer is no input and not in the folder's
    own subfolders."""
    out = job.out.resolve()
    if out.exists() and not out.is_dir():
        raise OutputConflictError(f"--out {job.out} is a file: a region writes a folder, give a folder's name")
    inputs = [*rasters, job.checkpoint, *([job.aoi] if job.aoi else [])]
    for path in inputs:
        resolved = path.resolve()
        if resolved == out or out in resolved.parents:
            raise OutputConflictError(
                f"--out {job.out} holds the input {path}: its masks could overwrite it; choose another folder"
            )
    if job.vector is not None:
        vector = job.vector.resolve()
        if any(same_file(vector, path) for path in inputs) or vector.parent in (out / "masks", out / "parts"):
            raise OutputConflictError(f"--vector {job.vector} would overwrite an input or a part: choose another name")


def job_fingerprint(job: RegionJob) -> str:
    """What makes finished parts valid for this job: the model file, every prediction and polygon setting."""
    checkpoint = job.checkpoint.resolve()
    stat = checkpoint.stat()
    settings = {
        "checkpoint": [str(checkpoint), stat.st_size, stat.st_mtime_ns],
        **{
            name: value
            for name, value in dataclasses.asdict(job).items()
            if name not in ("sources", "out", "vector", "checkpoint", "resume", "device")
        },
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


class RegionFolder:
    """The region's folder: its fingerprint, each part's files and record (see the module's docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def mask(self, name: str) -> Path:
        return self.path / "masks" / f"{name}.tif"

    def polygons(self, name: str) -> Path:
        return self.path / "parts" / f"{name}.gpkg"

    def _record(self, name: str) -> Path:
        return self.path / "parts" / f"{name}.json"

    def start(self, fingerprint: str, resume: bool, rank: Rank) -> None:
        """Rank 0 writes the fingerprint (a new region) or checks it (``resume``); the others wait for it."""
        marker = self.path / "region.json"
        if rank.rank != 0:
            for _ in range(600):  # rank 0 writes it within moments
                if marker.exists() and json.loads(marker.read_text())["fingerprint"] == fingerprint:
                    return
                time.sleep(0.1)
            raise InvalidConfigError(f"{marker} was not written by rank 0: see its error")
        if marker.exists():
            if not resume:
                raise OutputConflictError(
                    f"{self.path} already holds a region: add --resume to finish it, or choose another folder"
                )
            if json.loads(marker.read_text()).get("fingerprint") != fingerprint:
                raise InvalidConfigError(
                    f"{self.path} was started with another model or other settings: --resume continues a region "
                    "with the same ones; choose another folder for these"
                )
        elif self.path.exists() and any(self.path.iterdir()):
            raise OutputConflictError(f"--out {self.path} is a folder with other files: give an empty or new folder")
        for sub in ("masks", "parts"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        if not marker.exists():
            with atomic_output(marker) as tmp:
                tmp.write_text(json.dumps({"fingerprint": fingerprint}))

    def clear_leftovers(self, name: str) -> None:
        """Remove what a killed process left of part ``name`` mid-write: its temporary files and score folder,
        named ``.<name>.`` (and ``..<name>.`` for a temporary of a temporary). Only the rank that predicts the
        part calls this, just before it does."""
        ours = re.compile(rf"\.+{re.escape(name)}\..+")
        for sub in ("masks", "parts"):
            for leftover in (self.path / sub).iterdir():
                if not ours.fullmatch(leftover.name):
                    continue
                if leftover.is_dir():
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink(missing_ok=True)

    def record(self, name: str, raster: CatalogRaster, fingerprint: str, job: RegionJob) -> None:
        files = {"mask": sha256_file(self.mask(name))}
        if job.vector is not None:
            files["polygons"] = sha256_file(self.polygons(name))
        stat = raster.path.stat()
        entry = {"raster": [str(raster.path), stat.st_size, stat.st_mtime_ns], "fingerprint": fingerprint, **files}
        with atomic_output(self._record(name)) as tmp:
            tmp.write_text(json.dumps({**entry, "pixels": raster.pixels}))

    def is_finished(self, name: str, raster: CatalogRaster, fingerprint: str, job: RegionJob) -> bool:
        """The part's record exists and matches its raster, the job and its files (a half-written or changed
        part is not finished)."""
        try:
            entry = json.loads(self._record(name).read_text())
            stat = raster.path.stat()
            if entry["raster"] != [str(raster.path), stat.st_size, stat.st_mtime_ns]:
                return False
            if entry["fingerprint"] != fingerprint or entry["mask"] != sha256_file(self.mask(name)):
                return False
            return job.vector is None or entry.get("polygons") == sha256_file(self.polygons(name))
        except (OSError, ValueError, KeyError):
            return False

    def recorded(self, name: str) -> bool:
        return self._record(name).exists()

    def wait_for(
        self,
        names: list[str],
        rasters: list[CatalogRaster],
        fingerprint: str,
        job: RegionJob,
        cancelled: Callable[[], bool] | None,
    ) -> None:
        """Until the other ranks' parts ``names`` are recorded, then check them (this rank checked or wrote the
        rest itself: they are not hashed again)."""
        while not all(self.recorded(name) for name in names):
            if cancelled and cancelled():
                raise CancelledError("the region stopped while other ranks worked: run again with --resume")
            time.sleep(WAIT_SECONDS)
        broken = [n for n, r in zip(names, rasters, strict=True) if not self.is_finished(n, r, fingerprint, job)]
        if broken:
            raise InvalidConfigError(
                f"{len(broken)} parts changed while the region ran ({', '.join(broken[:5])}): run again with --resume"
            )


class RegionPace:
    """Progress of the whole region across ranks: finished pixels (every rank's records, counted every few
    seconds) plus this rank's raster in progress; Mpx/s of this run and the time left."""

    def __init__(
        self,
        folder: RegionFolder,
        rasters: list[CatalogRaster],
        names: list[str],
        finished: set[str],
        progress: Callable[..., None] | None,
        rank: Rank,
    ) -> None:
        self.folder, self.rasters, self.names, self.progress, self.rank = folder, rasters, names, progress, rank
        self.total = sum(r.pixels for r in rasters) or 1
        self.before = sum(r.pixels for n, r in zip(names, rasters, strict=True) if n in finished)
        self.done = set(finished)
        self.started = time.monotonic()
        self.scanned = 0.0

    def _scan(self) -> None:
        if time.monotonic() - self.scanned >= SCAN_SECONDS:
            self.done |= {name for name in self.names if name not in self.done and self.folder.recorded(name)}
            self.scanned = time.monotonic()

    def _report(self, current: float) -> None:
        if self.progress is None:
            return
        self._scan()
        finished = sum(r.pixels for n, r in zip(self.names, self.rasters, strict=True) if n in self.done)
        now = finished + current
        seconds = max(time.monotonic() - self.started, 1e-6)
        rate = (now - self.before) / seconds
        left = (self.total - now) / rate if rate > 0 else None
        self.progress(
            now / self.total,
            stage="predicting the region",
            parts_finished=len(self.done),
            parts=len(self.rasters),
            mpx_per_s=round(rate / 1e6, 3),
            seconds_left=round(left, 1) if left is not None else None,
            rank=self.rank.rank,
        )

    def within(self, index: int) -> Callable[..., None]:
        pixels = self.rasters[index].pixels
        return lambda fraction, **info: self._report(fraction * pixels)

    def finished(self, index: int) -> None:
        self.done.add(self.names[index])
        self._report(0.0)

    def summary(self) -> dict[str, Any]:
        seconds = time.monotonic() - self.started
        predicted = sum(r.pixels for n, r in zip(self.names, self.rasters, strict=True)) - self.before
        return {"seconds": round(seconds, 2), "mpx_per_s": round(predicted / max(seconds, 1e-6) / 1e6, 3)}


__all__ = ["Rank", "RegionJob", "predict_region", "share_of"]
