"""Find the rest: learn from a few labelled examples, then propose the other objects as candidates to review.

One job: a short partial-label fine-tune (decoder, auto mode, within a time budget) on the whole raster's
labelled examples, then a prediction of the area asked for (the map's extent, or AOI polygons) with the run's
best model, one polygon per object with its ``score``. Candidates that are already decided (they overlap a
labelled object, or lie mostly on a background example) are left out, so each round shows only what is new.

Output folder: ``run/`` (the training run: summary.json, best.pt), ``candidates.gpkg`` (layer ``candidates``:
``candidate_id``, ``score``, ``area_m2``, ``status`` = "candidate"), ``summary.json``.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rasterio
from shapely import STRtree
from shapely.geometry import box, shape

from core.errors import InvalidInputError
from core.geometry.polygons import PolygonOptions
from core.io.aoi import write_rectangle
from core.io.atomic import atomic_output
from core.io.labels import read_vector_labels
from core.io.vectors import PolygonFeature, read_polygons, write_polygons
from core.training.config import TrainConfig

MIN_EXAMPLES = 3  # fewer objects cannot be split into tiles to learn from and tiles to check on
ALREADY_LABELLED = 0.3  # a candidate this much inside a labelled object is that object again
ALREADY_REJECTED = 0.5  # ... or this much on background examples: already said no
FIND_OUTPUTS = frozenset({"run", "candidates.gpkg", "summary.json", ".finding"})
CANDIDATE_FIELDS = {"candidate_id": int, "score": float, "area_m2": float, "status": str}

#: What "find the rest" trains, whatever the panel's training settings say: quick, promptless, from examples.
FIND_TRAINING = {"mode": "auto", "trainable": "decoder", "labels_cover": "partial", "multiclass": False}
#: The training options find lets an analyst change (command line, panel, Processing), with FIND_DEFAULTS' values.
FIND_OPTIONS = ("tile_size", "image_size", "epochs", "batch_size", "lr", "max_minutes", "ring", "seed", "device")
FIND_DEFAULTS = TrainConfig(epochs=20, lr=1e-3, max_minutes=2.0, patience=4, tile_size=256, **FIND_TRAINING)  # type: ignore[arg-type]


def describe() -> dict[str, dict[str, Any]]:
    """FIND_OPTIONS as ``core.training.config.describe`` gives them, with find's own defaults."""
    from core.training.config import describe as describe_training

    described = describe_training()
    return {name: {**described[name], "default": getattr(FIND_DEFAULTS, name)} for name in FIND_OPTIONS}


@dataclass(frozen=True)
class FindInputs:
    """The raster, its labels (some examples: objects, and background as class 0 or 'background'), the base
    checkpoint, and where to look: ``extent`` (xmin, ymin, xmax, ymax in the raster's CRS) or ``area``
    (polygons); neither: the whole raster."""

    raster: Path
    labels: Path
    checkpoint: Path
    extent: tuple[float, float, float, float] | None = None
    area: Path | None = None


def count_examples(inputs: FindInputs, config: TrainConfig) -> dict[str, int]:
    """Objects and background examples in the labels, and objects on the raster; refuses, saying what to do,
    too few objects or objects that all lie off the raster."""
    with rasterio.open(inputs.raster) as src:
        crs, bounds = src.crs, box(*src.bounds)
    found = read_vector_labels(inputs.labels, crs, config.class_field)
    objects = [
        shape(p.geometry) for p in found if p.class_id > 0 and (not config.classes or p.class_id in config.classes)
    ]
    inside = [o for o in objects if o.intersects(bounds)]
    counts = {
        "objects": len(objects),
        "objects_on_raster": len(inside),
        "background": sum(p.class_id == 0 for p in found),
    }
    if not objects and counts["background"]:
        raise InvalidInputError(
            f"{inputs.labels.name} holds only background examples: outline at least {MIN_EXAMPLES} objects of the kind "
            "you want found"
        )
    if len(objects) < MIN_EXAMPLES:
        raise InvalidInputError(
            f"{inputs.labels.name} holds {len(objects)} object(s): finding the rest needs at least {MIN_EXAMPLES} "
            "examples; outline a few more objects of the kind you want found"
        )
    if len(inside) < MIN_EXAMPLES:
        raise InvalidInputError(
            f"only {len(inside)} of the {len(objects)} examples in {inputs.labels.name} lie on {inputs.raster.name}: "
            f"outline at least {MIN_EXAMPLES} objects on this raster (or choose the raster they were drawn on)"
        )
    return counts


def find_rest(
    inputs: FindInputs,
    out: Path,
    config: TrainConfig = FIND_DEFAULTS,
    shapes: PolygonOptions | None = None,
    progress: Callable[..., None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Train on the examples (``config`` with FIND_TRAINING forced), predict the area, write the new candidates;
    returns the summary (also ``out/summary.json``). Progress: training is the first 80 %, prediction the rest."""
    from core.training import run as training
    from core.workflows.prediction import PredictionJob, predict_to_files

    config = config.replace(**FIND_TRAINING)
    check_find_folder(out, inputs)
    examples = count_examples(inputs, config)
    began = time.monotonic()

    def report(share: float, offset: float) -> Callable[..., None]:
        def forward(fraction: float, **info: Any) -> None:
            if progress:
                progress(offset + share * fraction, **info)

        return forward

    out.mkdir(parents=True, exist_ok=True)
    run_dir = out / "run"
    run = training.start(
        training.RunInputs(inputs.raster, inputs.labels, inputs.checkpoint, None),
        config,
        run_dir,
        progress=report(0.8, 0.0),
        cancelled=cancelled,
        overwrite=True,  # each round replaces the last one's run
    )
    trained = time.monotonic() - began
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(_scratch(out)))
        area = inputs.area or _extent_area(inputs, scratch)

        def predicting(fraction: float, **info: Any) -> None:
            report(0.2, 0.8)(fraction, **{**info, "stage": "finding"})

        job = PredictionJob(
            inputs.raster, run_dir / "best.pt", scratch / "mask.tif", scratch / "found.gpkg", scratch / "prob.tif",
            aoi=area, device=config.device, image_size=config.model_size, shapes=shapes or PolygonOptions(),
            instances=True,
        )  # fmt: skip
        mode = predict_to_files(job, predicting, cancelled)["mode"]
        kept, dropped = _new_candidates(scratch / "found.gpkg", inputs, config)
    features, crs_wkt = kept
    with atomic_output(out / "candidates.gpkg") as tmp:
        write_polygons(tmp, features, crs_wkt, "candidates", CANDIDATE_FIELDS)
    summary = {
        "candidates": str(out / "candidates.gpkg"),
        "count": len(features),
        "already_decided": dropped,
        "examples": examples,
        "labels": run.get("labels"),
        "improved": run.get("improved"),
        "verdict": run.get("verdict"),
        "prediction_mode": mode,
        "budget": run.get("budget"),
        "train_seconds": round(trained, 1),
        "seconds": round(time.monotonic() - began, 1),
        "run": str(run_dir),
    }
    with atomic_output(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2))
    return summary


def check_find_folder(out: Path, inputs: FindInputs | None = None) -> None:
    """Refuse an output folder holding anything but an earlier find's results (each round replaces them), and
    one holding an input (the last round's candidates given as labels, say): it would be overwritten."""
    if inputs is not None:
        folder = out.resolve()
        for name, path in vars(inputs).items():
            if isinstance(path, Path) and folder in path.resolve().parents:
                raise InvalidInputError(
                    f"the {name} {path} lies in the output folder {out}, which find rewrites: copy it elsewhere "
                    "first, or choose another output folder"
                )
    if not out.exists():
        return
    if not out.is_dir():
        raise InvalidInputError(f"{out} is a file: give a folder for the candidates and the training run")
    foreign = sorted(p.name for p in out.iterdir() if p.name not in FIND_OUTPUTS)
    if foreign:
        shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        raise InvalidInputError(
            f"{out} holds other files ({shown}): find the rest writes into an empty folder, or one an earlier find "
            "wrote; choose another folder"
        )


@contextlib.contextmanager
def _scratch(out: Path) -> Any:
    """A scratch folder inside ``out`` (same disk as the results), removed whatever happens."""
    folder = out / ".finding"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _extent_area(inputs: FindInputs, scratch: Path) -> Path | None:
    """The extent as AOI polygons (None: the whole raster); an extent off the raster is refused."""
    if inputs.extent is None:
        return None
    with rasterio.open(inputs.raster) as src:
        crs_wkt, raster_box = src.crs.to_wkt(), box(*src.bounds)
    if not box(*inputs.extent).intersects(raster_box):
        raise InvalidInputError(
            f"the area to search ({', '.join(f'{v:.1f}' for v in inputs.extent)}) does not overlap "
            f"{inputs.raster.name}: pan the map onto the raster, or search the whole raster"
        )
    return write_rectangle(scratch / "extent.gpkg", inputs.extent, crs_wkt)


def _new_candidates(
    found: Path, inputs: FindInputs, config: TrainConfig
) -> tuple[tuple[list[PolygonFeature], str], int]:
    """The found objects not already decided, best score first, as candidate features; and how many were dropped."""
    features, crs_wkt = read_polygons(found)
    with rasterio.open(inputs.raster) as src:
        crs = src.crs
    labels = read_vector_labels(inputs.labels, crs, config.class_field)
    objects = [shape(p.geometry) for p in labels if p.class_id > 0]
    background = [shape(p.geometry) for p in labels if p.class_id == 0 and p.geometry["type"].endswith("Polygon")]
    known = {"objects": STRtree(objects), "background": STRtree(background)}
    kept, dropped = [], 0
    for feature in features:
        polygon = shape(feature.geometry)
        if _covered(polygon, known["objects"], objects) >= ALREADY_LABELLED or (
            _covered(polygon, known["background"], background) >= ALREADY_REJECTED
        ):
            dropped += 1
            continue
        kept.append((polygon, feature.attributes))
    kept.sort(key=lambda item: -float(item[1].get("score") or 0.0))
    candidates = [
        PolygonFeature(
            polygon.__geo_interface__,
            {
                "candidate_id": number,
                "score": attributes.get("score") or 0.0,
                "area_m2": attributes.get("area_m2") or 0.0,
                "status": "candidate",
            },
        )
        for number, (polygon, attributes) in enumerate(kept, start=1)
    ]
    return (candidates, crs_wkt), dropped


def _covered(polygon: Any, tree: STRtree, geometries: list[Any]) -> float:
    """Share of ``polygon``'s area inside the geometries of ``tree``."""
    if polygon.area == 0:
        return 0.0
    near = [geometries[i] for i in tree.query(polygon)]
    return sum(polygon.intersection(g).area for g in near) / polygon.area
