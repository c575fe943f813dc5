"""Whole-raster prediction as one job: load the model, predict the mask (and its probabilities, uncertainty),
turn it into polygons, all or nothing. The command line, the worker's callers, Find the rest, the demo and
``scripts/run_pipeline.py`` all go through ``predict_to_files``; ``load_predictor`` is its first step."""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.geometry.polygons import GroundFilter, PolygonOptions
from core.inference.predict_config import PredictConfig, PredictMode
from core.io.atomic import atomic_output
from core.io.output_paths import check_outputs, parts_of


@dataclass(frozen=True)
class PredictionJob:
    """What to predict and where to write it. ``out``: the mask GeoTIFF (1 object, 0 background, 255 nodata;
    class ids for a multi-class model); ``vector``, ``probabilities``, ``uncertainty``: optional outputs.
    ``mode`` None: the mode the checkpoint was tuned for (``config.mode`` is replaced by it). ``model_name``:
    what the polygons' ``model`` attribute says (default: the model's name); ``source``: their ``source``
    attribute (default: the raster's file name)."""

    raster: Path
    checkpoint: Path
    out: Path
    vector: Path | None = None
    probabilities: Path | None = None
    uncertainty: Path | None = None
    config: PredictConfig = field(default_factory=PredictConfig)
    mode: PredictMode | None = None
    aoi: Path | None = None
    bands: tuple[int, ...] | None = None
    device: str = "auto"
    image_size: int | None = None
    encoder: str = "exact"
    label: str = "object"
    model_name: str | None = None
    source: str | None = None
    shapes: PolygonOptions = field(default_factory=PolygonOptions)
    instances: bool = False


@dataclass(frozen=True)
class LoadedPredictor:
    """A model ready for whole-raster prediction: the loaded model, its predictor, the mode it runs in and
    what the analyst should be told (a slow encoder path, a model not tuned for the mode)."""

    loaded: Any  # core.models.loader.LoadedModel
    predictor: Any  # core.inference.predict.SamAutoPredictor
    mode: PredictMode
    warnings: tuple[str, ...]


def load_predictor(
    checkpoint: Path,
    mode: str | None = None,
    config: PredictConfig | None = None,
    device: str = "auto",
    image_size: int | None = None,
    encoder: str = "exact",
    video: bool = False,
) -> LoadedPredictor:
    """Load ``checkpoint`` and build its predictor in ``mode`` (None: the mode it was tuned for), with
    ``config``'s grid options (default: PredictConfig's); ``video``: the model is SAM 2's video predictor, which
    predicts images as well (one load for both)."""
    from core.inference.predict import SamAutoPredictor, prediction_mode
    from core.models.loader import load_model

    config = config or PredictConfig()
    loaded = load_model(checkpoint, device=device, image_size=image_size, encoder=encoder, video=video)
    chosen, warning = prediction_mode(loaded, mode)
    predictor = SamAutoPredictor(loaded, mode=chosen, grid_points=config.grid_points, min_grid_iou=config.min_grid_iou)
    said = tuple(w for w in (loaded.encoder_warning, warning) if w)
    return LoadedPredictor(loaded, predictor, chosen, said)


def predict_to_files(
    job: PredictionJob,
    progress: Callable[..., None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    warn: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Predict ``job.raster`` into ``job``'s files; returns what was written (mask, polygons, counts, seconds
    per stage). Every output is written beside its target and moved in place only when all of them are done: a
    failure (a full disk, a cancel) leaves every previous output as it was. Outputs that would overwrite an
    input are refused before anything runs."""
    check_outputs(
        {
            "--out": job.out,
            "--probabilities": job.probabilities,
            "--uncertainty": job.uncertainty,
            "--vector": parts_of(job.vector) if job.vector else None,
        },
        {"--raster": job.raster, "--checkpoint": job.checkpoint, "--aoi": job.aoi},
    )
    if job.vector and job.shapes.filters_by_size():
        import rasterio

        with rasterio.open(job.raster) as source:
            GroundFilter(job.shapes, source.crs)  # a raster without a CRS is refused before, not after, predicting
    ready = load_predictor(job.checkpoint, job.mode, job.config, job.device, job.image_size, job.encoder)
    for said in ready.warnings:
        if warn:
            warn(said)
    return predict_loaded(ready, job, progress, cancelled)


def predict_loaded(
    ready: LoadedPredictor,
    job: PredictionJob,
    progress: Callable[..., None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """``predict_to_files`` with the model loaded once (``ready``): a region predicts many rasters with it.
    The outputs are checked by the caller."""
    from core.geometry.instances import InstanceOptions
    from core.inference.predict import predict_raster
    from core.io.polygon_layers import export_polygons

    config = dataclasses.replace(job.config, mode=ready.mode)
    class_names: dict[int, str] = getattr(ready.predictor, "class_names", {})  # a multi-class model's classes

    def predicting(fraction: float, **info: Any) -> None:
        if progress:
            progress(fraction, stage="predicting windows", **info)

    with contextlib.ExitStack() as outputs:
        out = outputs.enter_context(atomic_output(job.out))
        asked = outputs.enter_context(atomic_output(job.probabilities)) if job.probabilities else None
        probabilities = outputs.enter_context(_probabilities_for_scores(asked, job.vector, job.out))
        unsure = outputs.enter_context(atomic_output(job.uncertainty)) if job.uncertainty else None
        summary = predict_raster(
            job.raster, ready.predictor, out, config, probabilities, job.aoi, predicting, cancelled,
            bands=job.bands, uncertainty=unsure,
        )  # fmt: skip
        result: dict[str, Any] = {
            "mode": ready.mode,
            "mode_from": "--mode" if job.mode else "checkpoint",
            "mask": str(job.out),
            "windows": summary.windows,
            "object_pixels": summary.object_pixels,
            "encoder": ready.loaded.encoder,
            **(
                {"uncertainty": str(job.uncertainty), "uncertainty_signal": config.uncertainty_signal}
                if job.uncertainty
                else {}
            ),
            "seconds": round(summary.seconds, 2),
            "stage_seconds": {name: round(seconds, 2) for name, seconds in summary.stage_seconds.items()},
        }
        if job.vector:
            count = export_polygons(
                out,
                job.vector,
                probabilities,
                job.label,
                job.model_name or ready.loaded.spec.name,
                job.shapes,
                source_name=job.source or Path(job.raster).name,
                instances=InstanceOptions() if job.instances else None,
                classes=class_names or None,
            )
            result |= {"vector": str(job.vector), "polygons": count}
        if class_names:
            result["classes"] = {str(c): name for c, name in class_names.items()}
    return result


@contextlib.contextmanager
def _probabilities_for_scores(probabilities: Path | None, vector: Path | None, out: Path) -> Iterator[Path | None]:
    """Where predict writes its probabilities: ``probabilities``; else, when polygons are asked for, a temporary
    file beside ``out`` that gives each polygon its ``score`` (mean probability) and is removed."""
    if probabilities is not None or vector is None:
        yield probabilities
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.stem}.scores-", dir=out.parent) as folder:
        yield Path(folder) / "probabilities.tif"
