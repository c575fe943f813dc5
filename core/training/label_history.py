"""What labels bought: the runs tuned on the same labels and raster, side by side, and one sentence for the analyst.

A run records which labels it learned from (``labels.name``: the label layer as the analyst knows it, else the
labels file), how many objects and background examples they held, and its validation IoU (summary.json). The
runs beside it in the same folder (the panel keeps its runs in one) that name the same labels and raster make
the curve of validation IoU against labelled objects. Each run validates on tiles of its own labels, so one step
says less than the trend of several.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.io.labels import VECTOR_SUFFIXES, read_vector_labels

LITTLE = 0.01  # an IoU change below this is "little"


@dataclass(frozen=True)
class LabelRecord:
    """The labels a run learned from: ``name`` as the analyst knows them; objects and background examples
    (None for a class mask raster)."""

    name: str
    objects: int | None
    background: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "objects": self.objects, "background": self.background}


def count_labels(labels: Path, crs: Any, class_field: str | None, classes: tuple[int, ...] | None,
                 name: str | None = None) -> LabelRecord:  # fmt: skip
    """Objects (of ``classes``; all by default) and background examples in a vector label layer."""
    shown = name or str(Path(labels).resolve())
    if Path(labels).suffix.lower() not in VECTOR_SUFFIXES:
        return LabelRecord(shown, None, None)
    found = read_vector_labels(Path(labels), crs, class_field)
    objects = sum(1 for p in found if p.class_id > 0 and (not classes or p.class_id in classes))
    return LabelRecord(shown, objects, sum(1 for p in found if p.class_id == 0))


def runs_on_same_labels(run_dir: Path, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The finished runs beside this one that learned from the same labels and raster, oldest first, then this
    run: ``{"run", "finished", "objects", "background", "base_iou", "iou"}``."""
    labels, raster = summary.get("labels", {}), summary.get("raster")
    if labels.get("objects") is None:
        return []
    here = Path(run_dir).resolve()
    rows = []
    for other in sorted(Path(run_dir).parent.glob("*/summary.json")):
        if other.parent.resolve() == here:
            continue  # this run's own, from an earlier run in the same folder: replaced by ``summary``
        try:
            found = json.loads(other.read_text(encoding="utf-8"))
            seen = found.get("labels", {})
            if seen.get("name") != labels.get("name") or found.get("raster") != raster or seen.get("objects") is None:
                continue
            rows.append(_row(other.parent.name, found, found.get("finished") or _modified(other)))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            continue  # a damaged or foreign summary is not part of the history
    return [*sorted(rows, key=lambda r: r["finished"]), _row(here.name, summary, summary.get("finished") or "")]


def _row(run: str, summary: dict[str, Any], finished: str) -> dict[str, Any]:
    labels = summary["labels"]
    return {
        "run": run,
        "finished": finished,
        "objects": int(labels["objects"]),
        "background": int(labels.get("background") or 0),
        "base_iou": float(summary["base"]["iou"]),
        "iou": float(summary["best"]["iou"]),
    }


def labels_bought(rows: list[dict[str, Any]]) -> str | None:
    """One sentence on what the last labels added bought, comparing the latest run with the latest earlier one
    that had fewer objects; None without such a pair."""
    if len(rows) < 2:
        return None
    latest = rows[-1]
    earlier = [r for r in rows[:-1] if r["objects"] < latest["objects"]]
    if not earlier:
        return None
    before = earlier[-1]
    added, gain = latest["objects"] - before["objects"], latest["iou"] - before["iou"]
    scores = (
        f"validation IoU {before['iou']:.2f} with {before['objects']} objects, {latest['iou']:.2f} with "
        f"{latest['objects']}"
    )
    if abs(gain) < LITTLE:
        return (
            f"the last {added} objects added less than {LITTLE:g} IoU ({scores}): more labels of the same kind help "
            "little; label where the model is unsure (Where to label next)"
        )
    if gain > 0:
        return f"the last {added} objects added {gain:+.2f} IoU ({scores})"
    return (
        f"the last {added} objects came with {gain:+.2f} IoU ({scores}): each run validates on tiles of its own "
        "labels, so look at the trend over several runs"
    )


def finished_now() -> str:
    """The time a run finished, as summary.json records it (local ISO 8601, sortable)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def _modified(path: Path) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(os.path.getmtime(path)))
