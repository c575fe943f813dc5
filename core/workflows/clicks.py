"""Clicks to polygons as one job: the object(s) at point and box prompts on a raster, written to a vector file
(``python -m core segment``). The plugin's live clicks go through the worker (core.jobs.worker), which keeps
the model and the tile's embedding between clicks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import InvalidInputError
from core.geometry.polygons import PolygonOptions
from core.io.output_paths import check_outputs, parts_of

SEGMENT_FIELDS = {"class": str, "score": float, "model": str, "created": str}


@dataclass(frozen=True)
class SegmentJob:
    """Prompts in ``crs`` (default: the raster's): ``points`` (x, y) with ``labels`` (1 object, 0 background),
    and/or ``box`` (xmin, ymin, xmax, ymax). ``label``: the polygons' ``class`` attribute. ``model``: the model
    the checkpoint must be (checked), None for any."""

    raster: Path
    checkpoint: Path
    out: Path
    points: tuple[tuple[float, float], ...] = ()
    labels: tuple[int, ...] = ()
    box: tuple[float, float, float, float] | None = None
    crs: str | None = None
    model: str | None = None
    device: str = "auto"
    image_size: int | None = None
    encoder: str = "exact"
    bands: tuple[int, ...] | None = None
    shapes: PolygonOptions = field(default_factory=PolygonOptions)
    label: str = "object"


def segment_to_file(job: SegmentJob, warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Segment the object at ``job``'s prompts and write its polygons (layer ``segments``) to ``job.out``."""
    from core.inference.embeddings import EmbeddingCache
    from core.inference.segment import ClickSegmenter, Prompts
    from core.io.raster import RasterSource
    from core.io.vectors import PolygonFeature, write_polygons
    from core.models.loader import load_model

    if not job.points and not job.box:
        raise InvalidInputError("no prompt: give --point X,Y[,1|0] (repeatable) and/or --box XMIN,YMIN,XMAX,YMAX")
    check_outputs({"--out": parts_of(job.out)}, {"--raster": job.raster, "--checkpoint": job.checkpoint})
    loaded = load_model(job.checkpoint, job.model, job.device, job.image_size, job.encoder)
    if loaded.encoder_warning and warn:
        warn(loaded.encoder_warning)
    with RasterSource(job.raster, job.bands) as raster:
        prompts = Prompts(points=job.points, labels=job.labels, box=job.box, crs=job.crs)
        result = ClickSegmenter(loaded, raster, EmbeddingCache.default()).segment(prompts, job.shapes)
        created = time.strftime("%Y-%m-%dT%H:%M:%S")
        attributes: dict[str, str | float] = {
            "class": job.label,
            "score": round(result.score, 4),
            "model": loaded.spec.name,
        }
        features = [PolygonFeature(geometry, attributes | {"created": created}) for geometry in result.polygons]
        crs_wkt = raster.crs.to_wkt() if raster.crs else ""
        write_polygons(job.out, features, crs_wkt, layer_name="segments", fields=SEGMENT_FIELDS)
    return {
        "out": str(job.out),
        "polygons": len(features),
        "score": result.score,
        "window": [int(v) for v in result.window.flatten()],
    }
