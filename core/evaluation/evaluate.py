"""Accuracy of a predicted mask against labels: pixel and object metrics, CSV and a PNG.

Pixel metrics are dataset-level counts over labelled pixels (``core.evaluation.metrics.Confusion``). Object
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

from core.errors import InvalidInputError, MissingInputError
from core.evaluation.metrics import ClassConfusion, Confusion
from core.evaluation.plots import draw_confusion, pyplot
from core.geometry.polygons import polygons_of_file
from core.io.aoi import aoi_mask, read_aoi
from core.io.atomic import atomic_output
from core.io.labels import IGNORE, LabelReader
from core.io.raster import gdal_block_cache
from core.models.classes import class_indices

MATCH_IOU = 0.5
STRIP_PIXELS = 4_000_000  # pixels read at a time (whole rows): memory is a strip of the raster, whatever its size
GDAL_CACHE_MB = 32  # the masks are read and written once, in order: a small block cache is enough
OVERVIEW_SIDE = 800  # pixels on the longer side of the report's picture


@dataclass
class Evaluation:
    """Pixel and object scores of objects against background; of a class raster also each class's
    (``per_class``: id -> name, pixel scores and object scores) and the (K+1) x (K+1) confusion."""

    pixel: dict[str, float]
    confusion: list[list[int]]
    objects: dict[str, float | int] = field(default_factory=dict)
    per_class: dict[str, dict[str, Any]] = field(default_factory=dict)
    class_confusion: list[list[int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        result = {"pixel": self.pixel, "confusion_matrix": self.confusion, "objects": self.objects}
        if self.per_class:
            result |= {"per_class": self.per_class, "class_confusion_matrix": self.class_confusion}
        return result


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
    """Scores of ``pred_path`` (1 object, 0 background, other values nodata; or a class raster of a multi-class
    model: its classes' ids, ``classes`` chosen among them) against labels (polygons or a class mask on any
    grid), on the pred grid, read in strips of about ``STRIP_PIXELS`` pixels so that memory does not grow with the
    raster; objects are polygonized from masks GDAL streams from temporary files and matched class by class."""
    if not Path(pred_path).exists():
        raise MissingInputError(f"prediction not found: {pred_path}")
    with (
        gdal_block_cache(GDAL_CACHE_MB),  # else up to 5% of the RAM
        rasterio.open(pred_path) as src,
        tempfile.TemporaryDirectory(prefix="sam2-evaluate-") as tmp,
    ):
        names = _class_names(src, classes)
        ids = tuple(names) if names else (1,)
        classes = ids if names else classes
        class_confusion = ClassConfusion(ids)
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
                strip = max(1, STRIP_PIXELS // width)
                for row in range(0, height, strip):
                    window = Window(0, row, width, min(strip, height - row))
                    values = src.read(1, window=window)
                    truth_classes, _ = reader.read(window)
                    # class indices: 0 background, k the k-th class (a one-class prediction: 1 is the object)
                    truth_index = class_indices(truth_classes, ids) if names else _merged(truth_classes)
                    labelled = (truth_index != IGNORE) & ((values == 0) | np.isin(values, ids))
                    labelled &= aoi_mask(areas, src.window_transform(window), values.shape)
                    predicted_index = np.where(labelled, class_indices(values, ids), 0)
                    truth_index = np.where(labelled, truth_index, 0)
                    predicted, truth = predicted_index > 0, truth_index > 0
                    confusion.add(predicted, truth, labelled)
                    class_confusion.add(predicted_index, truth_index, labelled)
                    predicted_file.write(predicted_index.astype(np.uint8), 1, window=window)
                    truth_file.write(truth_index.astype(np.uint8), 1, window=window)
                    first = -row % step  # the strip's first row on the overview's grid
                    for name, mask in (("predicted", predicted), ("truth", truth), ("labelled", labelled)):
                        parts[name].append(mask[first::step, ::step].copy())  # a view would keep the strip
        finally:
            reader.close()
        found, true = polygons_of_file(files["predicted"]), polygons_of_file(files["truth"])
    every = [polygon for polygons in found.values() for polygon in polygons]  # objects, whatever their class
    objects = match_objects(every, [polygon for polygons in true.values() for polygon in polygons])
    overview = Overview(step, *(np.concatenate(parts[name]) for name in ("predicted", "truth", "labelled")))
    evaluation = Evaluation(confusion.scores(), confusion.matrix(), objects)
    if names:  # each class on its own: pixels and objects of that class only
        pixel = class_confusion.per_class()
        evaluation.per_class = {
            str(class_id): {"name": names[class_id], **pixel[class_id],
                            "objects": match_objects(found.get(index, []), true.get(index, []))}
            for index, class_id in enumerate(ids, start=1)
        }  # fmt: skip
        evaluation.class_confusion = class_confusion.matrix()
    return evaluation, overview


def _class_names(src: rasterio.io.DatasetReader, chosen: tuple[int, ...]) -> dict[int, str]:
    """The classes of a class raster (its ``CLASS_NAMES`` tag), those ``chosen`` if any; empty for a one-class
    prediction. A chosen class the raster does not have is refused."""
    tag = src.tags(1).get("CLASS_NAMES")
    if not tag:
        return {}
    names = {int(k): str(v) for k, v in json.loads(tag).items()}
    absent = [c for c in chosen if c not in names]
    if absent:
        raise InvalidInputError(
            f"classes {absent} are not predicted in {Path(src.name).name} (its classes are "
            f"{', '.join(f'{k} {v}' for k, v in names.items())}): choose among those"
        )
    return {c: names[c] for c in (chosen or tuple(names))}


def _merged(classes: np.ndarray) -> np.ndarray:
    """Labels of a one-class evaluation: every class chosen is the object (1), IGNORE kept."""
    return np.where(classes == IGNORE, IGNORE, (classes > 0).astype(np.uint8))


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
    for class_id, scores in evaluation.per_class.items():
        level = f"class {class_id} {scores['name']}"
        for key in ("iou", "f1", "precision", "recall"):
            writer.writerow([level, key, scores[key]])
        for key, value in scores["objects"].items():
            writer.writerow([f"{level} objects", key, value])
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
