"""Accuracy of a predicted mask against labels: pixel and object metrics, CSV and a PNG.

Pixel metrics are dataset-level counts over labelled pixels (``core.metrics.Confusion``). Object
metrics match predicted and true objects one to one, greedily by IoU, counting a match at IoU >= 0.5.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.windows import Window
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from core.aoi import aoi_mask, read_aoi
from core.atomic import atomic_output
from core.errors import InvalidInputError, MissingInputError
from core.labels import IGNORE, LabelReader
from core.metrics import Confusion
from core.plots import draw_confusion, pyplot
from core.polygons import polygons_of_file

MATCH_IOU = 0.5
STRIP_ROWS = 1024  # rows read at a time: memory is a strip of the raster, whatever its height
GDAL_CACHE_MB = 32  # the masks are read and written once, in order: a small block cache is enough
OVERVIEW_SIDE = 800  # pixels on the longer side of the report's picture


@dataclass
class Evaluation:
    pixel: dict[str, float]
    confusion: list[list[int]]
    objects: dict[str, float | int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"pixel": self.pixel, "confusion_matrix": self.confusion, "objects": self.objects}


def match_objects(predicted: list[BaseGeometry], truth: list[BaseGeometry]) -> dict[str, float | int]:
    """One-to-one greedy matching by IoU; precision, recall and F1 of objects at IoU >= 0.5."""
    pairs = []
    tree = STRtree(predicted)  # candidate pairs by bounding box, then exact areas
    for t, true_shape in enumerate(truth):
        for p in tree.query(true_shape):
            shape = predicted[int(p)]
            inter = shape.intersection(true_shape).area  # 0 where they only touch (a line or a point)
            if inter > 0:
                union = shape.area + true_shape.area - inter
                pairs.append((inter / union, int(p), t))
    used_p, used_t, matches = set(), set(), 0
    for iou, p, t in sorted(pairs, reverse=True):
        if iou < MATCH_IOU:
            break
        if p not in used_p and t not in used_t:
            used_p.add(p)
            used_t.add(t)
            matches += 1
    precision = matches / len(predicted) if predicted else (1.0 if not truth else 0.0)
    recall = matches / len(truth) if truth else (1.0 if not predicted else 0.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "predicted": len(predicted),
        "true": len(truth),
        "matched": matches,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "match_iou": MATCH_IOU,
    }


@dataclass(frozen=True)
class Overview:
    """Every ``step``-th pixel of the predicted, true and labelled masks (bool, rows x cols): the report's
    picture, small whatever the raster's size."""

    step: int
    predicted: np.ndarray
    truth: np.ndarray
    labelled: np.ndarray


def evaluate(
    pred_path: Path,
    truth_path: Path,
    aoi: Path | None = None,
    classes: tuple[int, ...] = (),
    class_field: str | None = None,
    class_zero: bool = False,
) -> tuple[Evaluation, Overview]:
    """Scores of ``pred_path`` (1 object, 0 background, other values nodata) against labels (polygons or a
    class mask on any grid), on the pred grid, read in strips of ``STRIP_ROWS`` rows so that memory does not
    grow with the raster; objects are polygonized from masks GDAL streams from temporary files."""
    if not Path(pred_path).exists():
        raise MissingInputError(f"prediction not found: {pred_path}")
    with (
        rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB),  # GDAL's block cache: else up to 5% of the RAM
        rasterio.open(pred_path) as src,
        tempfile.TemporaryDirectory(prefix="sam2-evaluate-") as tmp,
    ):
        height, width = src.shape
        reader = LabelReader(truth_path, crs=src.crs, transform=src.transform, shape=(height, width),
                             classes=classes, class_field=class_field, class_zero=class_zero)  # fmt: skip
        areas = read_aoi(aoi, src.crs)
        step = max(1, max(height, width) // OVERVIEW_SIDE)
        confusion = Confusion()
        parts: dict[str, list[np.ndarray]] = {"predicted": [], "truth": [], "labelled": []}
        files = {name: Path(tmp) / f"{name}.tif" for name in ("predicted", "truth")}
        profile = {"driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "uint8",
                   "crs": src.crs, "transform": src.transform, "tiled": True, "compress": "deflate"}  # fmt: skip
        try:
            if not reader.overlaps():
                raise InvalidInputError(f"the labels in {Path(truth_path).name} do not overlap {Path(pred_path).name}")
            with (
                rasterio.open(files["predicted"], "w", **profile) as predicted_file,
                rasterio.open(files["truth"], "w", **profile) as truth_file,
            ):
                for row in range(0, height, STRIP_ROWS):
                    window = Window(0, row, width, min(STRIP_ROWS, height - row))
                    values = src.read(1, window=window)
                    truth_classes, _ = reader.read(window)
                    labelled = (truth_classes != IGNORE) & ((values == 0) | (values == 1))
                    labelled &= aoi_mask(areas, src.window_transform(window), values.shape)
                    predicted = (values == 1) & labelled
                    truth = (truth_classes > 0) & (truth_classes != IGNORE) & labelled
                    confusion.add(predicted, truth, labelled)
                    predicted_file.write(predicted.astype(np.uint8), 1, window=window)
                    truth_file.write(truth.astype(np.uint8), 1, window=window)
                    first = -row % step  # the strip's first row on the overview's grid
                    for name, mask in (("predicted", predicted), ("truth", truth), ("labelled", labelled)):
                        parts[name].append(mask[first::step, ::step].copy())  # a view would keep the strip
        finally:
            reader.close()
        objects = match_objects(polygons_of_file(files["predicted"]), polygons_of_file(files["truth"]))
    overview = Overview(step, *(np.concatenate(parts[name]) for name in ("predicted", "truth", "labelled")))
    return Evaluation(confusion.scores(), confusion.matrix(), objects), overview


def report_paths(out: Path) -> list[Path]:
    """The files ``write_report`` writes for ``out``: .json, .csv and .png."""
    return [out.with_suffix(".json"), out.with_suffix(".csv"), out.with_suffix(".png")]


def write_report(evaluation: Evaluation, overview: Overview, out: Path) -> list[Path]:
    """``out`` with suffixes .json, .csv and .png (confusion matrix and an overlay preview)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = report_paths(out)
    with atomic_output(paths[0]) as tmp:
        tmp.write_text(json.dumps(evaluation.to_dict(), indent=2))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["level", "metric", "value"])
    for key, value in evaluation.pixel.items():
        writer.writerow(["pixel", key, value])
    for key, value in evaluation.objects.items():
        writer.writerow(["object", key, value])
    with atomic_output(paths[1]) as tmp:
        tmp.write_text(buffer.getvalue())
    _write_png(evaluation, overview, paths[2])
    return paths


def _write_png(evaluation: Evaluation, overview: Overview, path: Path) -> None:
    plt = pyplot()
    p, t, lab = overview.predicted, overview.truth, overview.labelled
    overlay = np.full((*p.shape, 3), 0.85)
    overlay[p & t] = (0.2, 0.7, 0.2)  # true positive: green
    overlay[p & ~t] = (0.9, 0.3, 0.2)  # false positive: red
    overlay[~p & t] = (0.2, 0.4, 0.9)  # missed: blue
    overlay[~lab] = (1.0, 1.0, 1.0)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 5))
    draw_confusion(left, evaluation.confusion, f"pixel IoU {evaluation.pixel['iou']:.3f}")
    right.imshow(overlay)
    right.set(title="green: correct, red: false, blue: missed", xticks=[], yticks=[])
    figure.tight_layout()
    with atomic_output(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)
