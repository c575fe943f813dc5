"""``python -m core demo``: the whole mission on two orthophotos, end to end, in minutes on a CPU.

1. data: a real orthophoto nobody here made (NEON OSBS_029, 10 cm, with deepforest's tree boxes) and a
   synthetic one with exact ground truth (buildings);
2. model: ``$SAM2_CHECKPOINT`` or official weights in the weights cache, else a seeded random-init model
   (said plainly: its scores show the machinery working, not SAM 2's quality);
3. click-to-segment: scripted point and box prompts -> ``clicks_<scene>.gpkg`` (IoU against the truth);
4. fine-tuning (decoder, auto mode) on the labelled part, base vs tuned on held-out tiles, the whole raster
   predicted -> ``<scene>_mask.tif`` and ``<scene>_polygons.gpkg``, scored on the part never trained on;
5. ``report/``: metrics.json, curves_<scene>.png, overlay.png (image, predicted outlines, truth), and a
   summary table printed with the paths and the command that opens everything in QGIS.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from shapely import unary_union
from shapely.geometry import shape as as_shape
from shapely.geometry.base import BaseGeometry

from core.errors import MissingInputError
from core.io.aoi import write_rectangle
from core.io.atomic import atomic_output

if TYPE_CHECKING:
    from core.models.loader import LoadedModel

CHECKPOINT_ENV = "SAM2_CHECKPOINT"
PRETRAINED_PREFERENCE = ("sam2.1_hiera_t", "sam2.1_hiera_s", "sam2_hiera_t", "sam2_hiera_s", "sam2.1_hiera_b+")
Log = Callable[[str], None]


@dataclass(frozen=True)
class DemoConfig:
    """Where the demo writes, which base model (None: choose), how long it trains, on which device."""

    out: Path
    checkpoint: Path | None = None
    epochs: int = 6
    scene_size: int = 1024
    train_share: float = 0.7  # each scene: the western share trains, the rest is only predicted and scored
    device: str = "auto"
    seed: int = 1


@dataclass(frozen=True)
class BaseModel:
    path: Path
    pretrained: bool
    note: str


@dataclass
class SceneResult:
    """What one scene of the demo produced and scored."""

    name: str
    raster: Path
    truth: Path
    clicks: Path
    click_iou: list[float]
    run_dir: Path
    base: dict[str, float]
    tuned: dict[str, float]
    mask: Path
    polygons: Path
    polygon_count: int
    heldout: dict[str, Any]
    train_area: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    throughput: dict[str, float] = field(default_factory=dict)


def choose_base_model(explicit: Path | None = None) -> BaseModel:
    """``explicit`` or ``$SAM2_CHECKPOINT``; else official weights already in the weights cache (small ones
    first: the demo runs on a CPU); else the cached seeded random-init SAM 2.1 tiny."""
    from core.models.weights import weights_dir

    chosen = explicit or (Path(os.environ[CHECKPOINT_ENV]) if os.environ.get(CHECKPOINT_ENV) else None)
    if chosen is not None:
        if not chosen.is_file():
            raise MissingInputError(f"checkpoint not found: {chosen} (set {CHECKPOINT_ENV} to a SAM 2 .pt file)")
        return BaseModel(chosen, True, f"pretrained weights from {chosen}")
    from core.models.registry import get_model

    for name in PRETRAINED_PREFERENCE:
        cached = weights_dir() / get_model(name).filename
        if cached.is_file():
            return BaseModel(cached, True, f"pretrained {name} from the weights cache")
    from core.models.random_init import RandomInitSpec, write_random_init_checkpoint

    random_init = write_random_init_checkpoint(RandomInitSpec(image_size=256)).path
    return BaseModel(
        random_init,
        False,
        "NO PRETRAINED WEIGHTS FOUND: using a seeded random-init SAM 2.1 tiny. The scores below show the "
        "pipeline working, not SAM 2's quality. For real results: `python -m core weights download "
        f"sam2.1_hiera_t` (or set {CHECKPOINT_ENV}=/path/to/sam2.1_hiera_large.pt) and run the demo again.",
    )


# -- click-to-segment --------------------------------------------------------------------------------------


def _iou(a: BaseGeometry, b: BaseGeometry) -> float:
    union = a.union(b).area
    return float(a.intersection(b).area / union) if union > 0 else 0.0


def click_to_segment(loaded: LoadedModel, raster: Path, truth: Path, out: Path, count: int) -> list[float]:
    """Prompt ``count`` truth objects (points at their centres for half, their boxes for the rest), write the
    segments to ``out`` (GeoPackage) and return each segment's IoU against its object."""
    from core.inference.segment import ClickSegmenter, Prompts
    from core.io.raster import RasterSource
    from core.io.vectors import PolygonFeature, read_polygons, write_polygons

    objects, crs_wkt = read_polygons(truth)
    objects = sorted(objects, key=lambda f: -as_shape(f.geometry).area)[:count]  # the largest
    features, scores = [], []
    with RasterSource(raster) as source:
        segmenter = ClickSegmenter(loaded, source)
        for index, obj in enumerate(objects):
            shape = as_shape(obj.geometry)
            if index % 2 == 0:
                point = shape.representative_point()
                prompts = Prompts(points=((point.x, point.y),), labels=(1,))
                kind = "point"
            else:
                xmin, ymin, xmax, ymax = shape.bounds
                prompts, kind = Prompts(box=(xmin, ymin, xmax, ymax)), "box"
            result = segmenter.segment(prompts)
            parts = [as_shape(polygon) for polygon in result.polygons]
            iou = _iou(unary_union(parts), shape) if parts else 0.0
            scores.append(round(iou, 4))
            for polygon in result.polygons:
                features.append(
                    PolygonFeature(polygon, {"prompt": kind, "score": result.score, "iou_truth": round(iou, 4)})
                )
    write_polygons(
        out, features, crs_wkt, layer_name="clicks", fields={"prompt": str, "score": float, "iou_truth": float}
    )
    return scores


# -- fine-tune, predict, score -----------------------------------------------------------------------------


def fine_tune_and_predict(
    name: str,
    raster: Path,
    labels: Path,
    base: BaseModel,
    out: Path,
    train_config: Any,
    train_aoi: Path | None,
    heldout_aoi: Path | None,
    log: Log,
) -> dict[str, Any]:
    """Train in ``out/runs/<name>``, predict the whole raster with the best checkpoint, score it where it
    was not trained (``heldout_aoi``; the whole raster without one)."""
    import rasterio

    from core.evaluation.evaluate import evaluate
    from core.inference.predict_config import PredictConfig
    from core.training import run as training
    from core.workflows.prediction import PredictionJob, predict_to_files

    run_dir = out / "runs" / name
    if run_dir.exists():
        shutil.rmtree(run_dir)  # a demo run starts afresh
    started = time.perf_counter()
    last = [-1]

    def progress(fraction: float = 0.0, **event: Any) -> None:
        if event.get("iou") is not None and event.get("epoch") != last[0]:
            last[0] = event["epoch"]
            log(f"  {name}: epoch {event['epoch']}, validation IoU {event['iou']:.3f}")

    summary = training.start(training.RunInputs(raster, labels, base.path, train_aoi), train_config, run_dir, progress)
    train_seconds = time.perf_counter() - started

    started = time.perf_counter()
    mask, polygons = out / f"{name}_mask.tif", out / f"{name}_polygons.gpkg"
    job = PredictionJob(
        raster, run_dir / "best.pt", mask, polygons, config=PredictConfig(overlap=0.25), mode="auto",
        device=train_config.device, label=name, model_name=f"demo {name} (tuned)",
    )  # fmt: skip
    predicted = predict_to_files(job)
    predict_seconds = time.perf_counter() - started
    evaluation, *_ = evaluate(
        mask, labels, aoi=heldout_aoi, classes=train_config.classes, class_field=train_config.class_field
    )
    with rasterio.open(raster) as src:
        megapixels = src.width * src.height / 1e6
    return {
        "run_dir": run_dir,
        "base": summary["base"],
        "tuned": summary["best"],
        "tiles": summary["tiles"],
        "mask": mask,
        "polygons": polygons,
        "polygon_count": predicted["polygons"],
        "heldout": evaluation.to_dict(),
        "seconds": {"train": round(train_seconds, 1), "predict": round(predict_seconds, 1)},
        "throughput": {
            "train_samples_per_s": round(summary["tiles"]["train"] * train_config.epochs / train_seconds, 2),
            "predict_mpx_per_s": round(megapixels / predict_seconds, 3),
            "windows": predicted["windows"],
        },
    }


@dataclass(frozen=True)
class ScenePlan:
    """One scene of the demo: its raster, training labels and truth, how it is tuned, and where: training tiles
    lie inside ``train_area`` and the tuned model is scored in ``heldout_area``, which no training tile reaches."""

    name: str
    raster: Path
    labels: Path
    truth: Path
    train_config: Any  # TrainConfig
    train_area: Path
    heldout_area: Path


def scene_plans(config: DemoConfig, sample: Any) -> list[ScenePlan]:
    """The synthetic scene (written into ``config.out``) and NEON OSBS_029 (``sample``: core.devtools.sample_data's)."""
    from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
    from core.training.config import TrainConfig

    out = config.out
    scene = write_synthetic_scene(
        SyntheticSceneConfig(width=config.scene_size, height=config.scene_size, pixel_size=0.25, seed=config.seed),
        out / "synthetic",
    )
    buildings = out / "synthetic_buildings.gpkg"  # the truth of the class the demo learns, for QGIS and clicks
    _buildings_only(scene.labels, buildings)
    common = TrainConfig(mode="auto", trainable="decoder", epochs=config.epochs, lr=3e-4, device=config.device)
    synthetic = common.replace(tile_size=128, classes=(1,), class_field="class_id")
    osbs = common.replace(tile_size=64, image_size=128)
    return [
        ScenePlan("synthetic", scene.image, scene.labels, buildings, synthetic,
                  *split_areas(scene.image, config.train_share, synthetic.tile_size, out / "synthetic")),
        ScenePlan("osbs", sample.osbs_image, sample.osbs_boxes, sample.osbs_boxes, osbs,
                  *split_areas(sample.osbs_image, config.train_share, osbs.tile_size, out / "osbs")),
    ]  # fmt: skip


def split_areas(raster: Path, train_share: float, tile_size: int, prefix: Path) -> tuple[Path, Path]:
    """``<prefix>_train_area.gpkg`` (the western ``train_share`` of ``raster``, cut at a whole number of tiles of
    ``tile_size`` px, so that no training tile crosses it) and ``<prefix>_heldout_area.gpkg`` (the rest)."""
    import rasterio

    with rasterio.open(raster) as src:
        columns = max(1, min(round(src.width * train_share / tile_size), src.width // tile_size - 1))
        left, bottom, right, top = src.bounds
        split_x = left + columns * tile_size * src.transform.a
        crs_wkt = src.crs.to_wkt()
    return (
        write_rectangle(prefix.with_name(f"{prefix.name}_train_area.gpkg"), (left, bottom, split_x, top), crs_wkt),
        write_rectangle(prefix.with_name(f"{prefix.name}_heldout_area.gpkg"), (split_x, bottom, right, top), crs_wkt),
    )


# -- report ------------------------------------------------------------------------------------------------


def draw_overlay(scenes: list[SceneResult], path: Path) -> Path:
    """One panel per scene: the image, truth outlines (cyan), predicted outlines (orange)."""
    import rasterio
    from rasterio.enums import Resampling

    from core.evaluation.plots import pyplot
    from core.io.vectors import read_polygons

    plt = pyplot()
    figure, axes = plt.subplots(1, len(scenes), figsize=(7 * len(scenes), 7))
    for axis, scene in zip(np.atleast_1d(axes), scenes, strict=True):
        with rasterio.open(scene.raster) as src:
            step = max(1, max(src.width, src.height) // 1000)
            image = src.read(
                [1, 2, 3], out_shape=(3, src.height // step, src.width // step), resampling=Resampling.average
            )
            left, bottom, right, top = src.bounds
        axis.imshow(np.moveaxis(image, 0, -1).astype(np.uint8), extent=(left, right, bottom, top))
        outlines = [(scene.truth, "cyan", 1.0, "-"), (scene.polygons, "orangered", 1.4, "-")]
        if scene.train_area is not None:
            outlines.append((scene.train_area, "white", 2.0, "--"))
        for source, colour, width, style in outlines:
            features, _ = read_polygons(source)
            for feature in features:
                geometry = feature.geometry
                polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
                for polygon in polygons:
                    ring = np.asarray(polygon[0])
                    axis.plot(ring[:, 0], ring[:, 1], color=colour, linewidth=width, linestyle=style)
        axis.set(
            xlim=(left, right),
            ylim=(bottom, top),
            xticks=[],
            yticks=[],
            title=f"{scene.name}: truth (cyan), predicted (orange)"
            + (", trained inside the dashed line" if scene.train_area is not None else "")
            + f"\nvalidation IoU base {scene.base['iou']:.2f} -> tuned {scene.tuned['iou']:.2f}",
        )
    figure.tight_layout()
    with atomic_output(path) as tmp:
        figure.savefig(tmp, format="png", dpi=72, bbox_inches="tight")
    plt.close(figure)
    return path


def summary_table(scenes: list[SceneResult]) -> str:
    """The printed table: IoU base vs tuned on held-out tiles, the held-out area's IoU, clicks, timings."""
    header = (
        f"{'scene':10s} {'clicks IoU':>10s} {'base IoU':>9s} {'tuned IoU':>9s} {'held-out IoU':>12s} "
        f"{'polygons':>8s} {'train s':>8s} {'samples/s':>9s} {'predict s':>9s} {'Mpx/s':>7s}"
    )
    lines = [header, "-" * len(header)]
    for s in scenes:
        lines.append(
            f"{s.name:10s} {np.mean(s.click_iou):10.3f} {s.base['iou']:9.3f} {s.tuned['iou']:9.3f} "
            f"{s.heldout['pixel']['iou']:12.3f} {s.polygon_count:8d} {s.seconds['train']:8.1f} "
            f"{s.throughput['train_samples_per_s']:9.2f} {s.seconds['predict']:9.1f} "
            f"{s.throughput['predict_mpx_per_s']:7.3f}"
        )
    return "\n".join(lines)


# -- the demo ----------------------------------------------------------------------------------------------


def run_demo(config: DemoConfig, log: Log = print) -> dict[str, Any]:
    """Run every step; returns the metrics written to ``report/metrics.json`` (paths as strings)."""

    from core.devtools.sample_data import prepare_sample_data
    from core.models.loader import load_model

    started = time.perf_counter()
    base = choose_base_model(config.checkpoint)  # before anything is written: a bad path leaves nothing
    log(f"model: {base.note}")
    out = config.out
    (out / "report").mkdir(parents=True, exist_ok=True)

    log("data: NEON OSBS_029 (deepforest sample, 10 cm) and a synthetic orthophoto with exact ground truth")
    plans = scene_plans(config, prepare_sample_data())
    clicker = load_model(base.path, device=config.device)  # the base model, loaded once for both scenes
    results = []
    for plan in plans:
        name, raster, truth = plan.name, plan.raster, plan.truth
        log(f"{name}: click-to-segment (scripted points and boxes)")
        t0 = time.perf_counter()
        clicks = out / f"clicks_{name}.gpkg"
        click_iou = click_to_segment(clicker, raster, truth, clicks, 4)
        click_seconds = time.perf_counter() - t0
        log(f"{name}: fine-tuning the decoder for {config.epochs} epochs, then predicting the whole raster")
        done = fine_tune_and_predict(
            name, raster, plan.labels, base, out, plan.train_config, plan.train_area, plan.heldout_area, log
        )
        result = SceneResult(
            name,
            raster,
            truth,
            clicks,
            click_iou,
            **{
                k: done[k]
                for k in (
                    "run_dir",
                    "base",
                    "tuned",
                    "mask",
                    "polygons",
                    "polygon_count",
                    "heldout",
                    "seconds",
                    "throughput",
                )
            },
        )
        result.seconds["clicks"] = round(click_seconds, 1)
        result.train_area = plan.train_area
        shutil.copyfile(done["run_dir"] / "curves.png", out / "report" / f"curves_{name}.png")
        results.append(result)

    overlay = draw_overlay(results, out / "report" / "overlay.png")
    metrics = {
        "model": {"checkpoint": str(base.path), "pretrained": base.pretrained, "note": base.note},
        "scenes": {r.name: _jsonable(asdict(r)) for r in results},
        "minutes": round((time.perf_counter() - started) / 60, 2),
    }
    with atomic_output(out / "report" / "metrics.json") as tmp:
        tmp.write_text(json.dumps(metrics, indent=2))
    layers = [p for r in results for p in (r.raster, r.truth, r.clicks, r.mask, r.polygons)]
    log("\n" + summary_table(results))
    log(
        "\nIoU: base vs tuned on held-out validation tiles; held-out IoU: the tuned model's whole-raster "
        "prediction scored where it never trained (each scene's eastern part; no training tile reaches it)."
    )
    if not base.pretrained:
        log("(random-init model: these numbers test the machinery, not SAM 2)")
    log("\nwrote:")
    for path in [out / "report" / "metrics.json", overlay, *sorted((out / "report").glob("curves_*.png")), *layers]:
        log(f"  {path}")
    log(f"\ndemo done in {metrics['minutes']:.1f} min")
    log('\nopen them in QGIS:\n  make qgis OPEN="' + " ".join(str(p) for p in layers) + '"')
    return metrics


def _buildings_only(labels: Path, out: Path) -> None:
    from core.io.vectors import PolygonFeature, read_polygons, write_polygons

    features, crs_wkt = read_polygons(labels)
    kept = [PolygonFeature(f.geometry, {"class_id": 1}) for f in features if f.attributes.get("class_id") == 1]
    write_polygons(out, kept, crs_wkt, layer_name="buildings", fields={"class_id": int})


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    return value
