"""Following objects across years, scored against the exact truth of synthetic years (issue 32).

Each scene is one area flown three times (2019, 2022, 2025: buildings built, demolished and extended, trees
cut and planted, each year its own sun, season and a 1-3 px misregistration; core.devtools.synthetic.years),
sparse (3 buildings/ha) and dense (40/ha), over ``--seeds``.

Where each year's objects come from (``--sources``):
- ``truth``: each year's true outlines, a perfect segmenter: what the following itself gets right;
- ``noisy``: the truth as an imperfect segmenter gives it, noise drawn anew each year: outlines grown or shrunk
  by up to ``--noise-m``, ``--miss`` of the objects missed and ``--spurious`` as many false ones added;
- ``model``: each orthophoto predicted by ``--checkpoint`` (default: seeded random-init hiera-tiny at 256 px,
  which finds noise: this measures the plumbing, not SAM 2; the same command measures real weights), or by it
  fine-tuned first on the first year (``--tune-epochs N``: promptless, buildings and trees as one class, a weak
  but real segmenter). All methods start from the first year's true objects (``track --start``), one class.

Methods: ``per-year`` is segmentation without tracking, the usual post-classification comparison: each
object takes the identity of the earlier object it overlaps most, no misregistration taken out, no
one-to-one pairing; ``match``, ``prompt`` and ``memory`` are ``python -m core track --method ...`` run as its
users run it (its own process, its defaults). ``prompt`` and ``memory`` need orthophotos: ``model`` only.

Scores, over the later years: change F1 (objects new, gone and changed, micro-averaged; a tracked object
counts when it overlaps its true object by IoU >= 0.3 and says the true status), the F1 of each change, and
identities kept: of the objects unchanged through every year, the share followed under one object_id.

    .venv/bin/python -m bench.bench_years [--seeds 0 1 2] [--scenes sparse dense] [--sources truth noisy model]
        [--methods per-year match prompt memory] [--checkpoint PT] [--tune-epochs N] [--size 384] [--json rows.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import box, mapping
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from core.devtools.synthetic import SyntheticSceneConfig
from core.devtools.synthetic.years import YearPaths, YearsConfig, write_year_sequence
from core.io.vectors import PolygonFeature, read_layer, write_polygons
from core.models.random_init import RandomInitSpec, write_random_init_checkpoint
from core.tracking.match import MatchConfig, iou

ROOT = Path(__file__).resolve().parents[1]
CHANGES = ("new", "gone", "changed")
SCENES = {"sparse": 3.0, "dense": 40.0}  # buildings per hectare
MATCHED = 0.3  # IoU that makes a tracked object the true one


@dataclass(frozen=True)
class Found:
    """One object of one year as a method says it: identity, status, outline (this year's frame)."""

    object_id: int
    status: str
    geometry: BaseGeometry


def truth_of(year: YearPaths) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    return [(g, a) for g, a in read_layer(year.changes, "changes")[0] if g is not None]


def write_year_layer(path: Path, outlines: Sequence[tuple[BaseGeometry, int]], crs_wkt: str) -> Path:
    features = [PolygonFeature(mapping(g), {"class_id": c}) for g, c in outlines]
    return write_polygons(path, features, crs_wkt, fields={"class_id": int})


def noisy(truth: list[tuple[BaseGeometry, dict[str, Any]]], rng: np.random.Generator, args: Any) -> list[Any]:
    """The year's standing objects as an imperfect segmenter finds them: (outline, class_id)."""
    standing = [(g, a["class_id"]) for g, a in truth if a["status"] != "gone"]
    found = []
    for geometry, class_id in standing:
        if rng.random() < args.miss:
            continue
        grown = geometry.buffer(float(rng.uniform(-args.noise_m, args.noise_m)), join_style="mitre")
        if not grown.is_empty:
            found.append((grown, class_id))
    left, bottom, right, top = unary_union([g for g, _ in standing]).bounds if standing else (0, 0, 1, 1)
    for _ in range(round(args.spurious * len(standing))):
        x, y = rng.uniform(left, right), rng.uniform(bottom, top)
        found.append((box(x, y, x + rng.uniform(2, 6), y + rng.uniform(2, 6)), int(rng.choice([1, 2]))))
    return found


def per_year(layers: Sequence[list[tuple[BaseGeometry, int]]], config: MatchConfig) -> list[list[Found]]:
    """Segmentation without tracking: each year compared with the year before as it is (post-classification)."""
    years = [[Found(i, "new", g) for i, (g, _) in enumerate(layers[0], 1)]]
    next_id = len(layers[0]) + 1
    for outlines in layers[1:]:
        before = [f for f in years[-1] if f.status != "gone"]
        now, touched = [], set()
        for geometry, _ in outlines:
            overlaps = [(geometry.intersection(f.geometry).area, k) for k, f in enumerate(before)]
            area, best = max(overlaps, default=(0.0, -1))
            if area <= 0:
                now.append(Found(next_id, "new", geometry))
                next_id += 1
                continue
            earlier = before[best]
            touched.add(best)
            grew = abs(geometry.area - earlier.geometry.area) > config.changed_area * earlier.geometry.area
            status = "changed" if iou(geometry, earlier.geometry) < config.changed_iou or grew else "unchanged"
            now.append(Found(earlier.object_id, status, geometry))
        now += [Found(f.object_id, "gone", f.geometry) for k, f in enumerate(before) if k not in touched]
        years.append(now)
    return years


def tracked(path: Path, dates: Sequence[int]) -> list[list[Found]]:
    objects = read_layer(path, "objects")[0]
    return [[Found(a["object_id"], a["status"], g) for g, a in objects if a["year"] == year] for year in dates]


def pairs(found: list[Found], truth: list[tuple[BaseGeometry, dict[str, Any]]]) -> dict[int, int]:
    """Found index -> truth index, one to one, best overlap first (IoU >= MATCHED; gone only with gone)."""
    candidates = []
    for i, f in enumerate(found):
        for j, (g, a) in enumerate(truth):
            if (f.status == "gone") == (a["status"] == "gone") and f.geometry.intersects(g):
                overlap = iou(f.geometry, g)
                if overlap >= MATCHED:
                    candidates.append((overlap, i, j))
    result: dict[int, int] = {}
    taken: set[int] = set()
    for _, i, j in sorted(candidates, reverse=True):
        if i not in result and j not in taken:
            result[i] = j
            taken.add(j)
    return result


def score(years: list[list[Found]], truth: list[list[tuple[BaseGeometry, dict[str, Any]]]]) -> dict[str, float | None]:
    hits = {s: 0 for s in CHANGES}
    said = {s: 0 for s in CHANGES}
    true = {s: 0 for s in CHANGES}
    ids_of: dict[int, set[int | None]] = {}
    steady = {a["object_id"] for _, a in truth[0]}
    for found, rows in zip(years, truth, strict=True):
        matched = pairs(found, rows)
        by_truth = {j: found[i] for i, j in matched.items()}
        for j, (_, a) in enumerate(rows):
            ids_of.setdefault(a["object_id"], set()).add(by_truth[j].object_id if j in by_truth else None)
        if rows is truth[0]:
            continue
        steady &= {a["object_id"] for _, a in rows if a["status"] == "unchanged"}
        for status in CHANGES:
            said[status] += sum(f.status == status for f in found)
            true[status] += sum(a["status"] == status for _, a in rows)
        for i, j in matched.items():
            if found[i].status == rows[j][1]["status"] and found[i].status in CHANGES:
                hits[found[i].status] += 1
    row: dict[str, float | None] = {  # None: no such change, said or true
        f"f1_{s}": 2 * hits[s] / (said[s] + true[s]) if said[s] + true[s] else None for s in CHANGES
    }
    row["change_f1"] = 2 * sum(hits.values()) / max(sum(said.values()) + sum(true.values()), 1)
    kept = [len(ids_of[i]) == 1 and None not in ids_of[i] for i in steady]
    row["identity"] = sum(kept) / max(len(kept), 1)
    row["steady"] = len(kept)
    return row


def run_track(args: Any, sources: list[Path], out: Path, extra: list[str]) -> float:
    command = [sys.executable, "-m", "core", "track", *[a for s in sources for a in ("--year", str(s))]]
    extra = [*extra, *(["--no-reappear"] if args.no_reappear else [])]
    start = time.perf_counter()
    done = subprocess.run(
        [*command, "--out", str(out), *extra], cwd=ROOT, capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"track failed: {done.stderr[-3000:]}")
    return time.perf_counter() - start


def tune(args: Any, first: YearPaths, work: Path) -> Path:
    """The random-init model fine-tuned (promptless, decoder) on the first year's image and labels: a weak but
    real segmenter, so that the methods have objects to follow (random-init weights find noise)."""
    done = subprocess.run(
        [sys.executable, "-m", "core", "train", "--raster", str(first.scene.image), "--labels", str(first.scene.labels),
         "--class-field", "class_id", "--classes", "1,2", "--checkpoint", str(args.checkpoint), "--out",
         str(work / "run"), "--tile-size", "128", "--epochs", str(args.tune_epochs), "--batch-size", "4",
         "--lr", "1e-3", "--device", args.device, "--mode", "auto"],
        cwd=ROOT, capture_output=True, text=True, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"train failed: {done.stderr[-3000:]}")
    return work / "run" / "best.pt"


def predict_year(checkpoint: Path, args: Any, image: Path, out: Path) -> list[tuple[BaseGeometry, int]]:
    done = subprocess.run(
        [sys.executable, "-m", "core", "predict", "--raster", str(image), "--checkpoint", str(checkpoint),
         "--out", str(out.with_suffix(".tif")), "--vector", str(out), "--mode", "auto", "--device", args.device],
        cwd=ROOT, capture_output=True, text=True, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"predict failed: {done.stderr[-3000:]}")
    return [(g, 1) for g, _ in read_layer(out)[0] if g is not None]


def one_scene(args: Any, scene: str, seed: int, work: Path) -> list[dict[str, Any]]:
    size = args.size
    config = SyntheticSceneConfig(
        width=size, height=size, pixel_size=0.5, seed=seed, buildings_per_ha=SCENES[scene], trees_per_ha=args.trees
    )
    years = write_year_sequence(YearsConfig(config), work / "years")
    dates = [y.year for y in years]
    truth = [truth_of(y) for y in years]
    crs_wkt = read_layer(years[0].changes, "changes")[1]
    # the model finds "objects" (one class, as a promptless model tuned on buildings and trees together does)
    start = write_year_layer(work / "start_2019.gpkg", [(g, 1) for g, _ in truth[0]], crs_wkt)
    checkpoint = tune(args, years[0], work) if args.tune_epochs else args.checkpoint
    rows = []
    rng = np.random.default_rng(seed + 7)
    for source in args.sources:
        if source == "model":
            layers = [[(g, 1) for g, _ in truth[0]]]
            layers += [predict_year(checkpoint, args, y.scene.image, work / f"pred_{y.year}.gpkg") for y in years[1:]]
        elif source == "noisy":
            layers = [noisy(t, rng, args) for t in truth]
        else:
            layers = [[(g, a["class_id"]) for g, a in t if a["status"] != "gone"] for t in truth]
        paths = [
            write_year_layer(work / f"{source}_{d}.gpkg", layer, crs_wkt)
            for d, layer in zip(dates, layers, strict=True)
        ]
        for method in args.methods:
            if method in ("prompt", "memory") and source != "model":
                continue
            seconds = 0.0
            if method == "per-year":
                found = per_year(layers, MatchConfig())
            else:
                out = work / f"{source}_{method}.gpkg"
                if source == "model":
                    extra = ["--method", method, "--start", str(start), "--checkpoint", str(checkpoint),
                             "--mode", "auto", "--device", args.device]  # fmt: skip
                    seconds = run_track(args, [y.scene.image for y in years], out, extra)
                else:
                    seconds = run_track(args, paths, out, ["--method", method])
                found = tracked(out, dates)
            row = {"scene": scene, "seed": seed, "source": source, "method": method, "seconds": round(seconds, 1)}
            rows.append(row | {k: None if v is None else round(v, 3) for k, v in score(found, truth).items()})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def table(rows: list[dict[str, Any]]) -> None:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["scene"], row["source"], row["method"]), []).append(row)
    print(f"{'scene':7} {'source':6} {'method':9} {'change F1':>13} {'new':>5} {'gone':>5} {'changed':>7} "
          f"{'identity':>13} {'seeds':>5} {'s/run':>6}")  # fmt: skip
    for (scene, source, method), group in groups.items():
        print(f"{scene:7} {source:6} {method:9} {_mean_sd(group, 'change_f1'):>13} {_mean(group, 'f1_new'):>5} "
              f"{_mean(group, 'f1_gone'):>5} {_mean(group, 'f1_changed'):>7} {_mean_sd(group, 'identity'):>13} "
              f"{len(group):>5} {_mean(group, 'seconds'):>6}")  # fmt: skip


def _mean_sd(group: list[dict[str, Any]], key: str) -> str:
    values = [r[key] for r in group]
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f}±{sd:.3f}"


def _mean(group: list[dict[str, Any]], key: str) -> str:
    """The mean over the seeds that have a value ("-": none had such a change)."""
    values = [r[key] for r in group if r[key] is not None]
    return f"{statistics.mean(values):.2f}" if values else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--scenes", nargs="+", choices=sorted(SCENES), default=["sparse", "dense"])
    parser.add_argument(
        "--sources", nargs="+", choices=["truth", "noisy", "model"], default=["truth", "noisy", "model"]
    )
    parser.add_argument("--methods", nargs="+", default=["per-year", "match", "prompt", "memory"])
    parser.add_argument("--checkpoint", type=Path, default=None, help="the model (default: random-init tiny, 256 px)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-reappear", action="store_true", help="track --no-reappear: a missed year ends an id")
    parser.add_argument("--tune-epochs", type=int, default=0, help="model: fine-tune it on the first year first")
    parser.add_argument("--size", type=int, default=384, help="scene width and height in px (0.5 m)")
    parser.add_argument("--trees", type=float, default=10.0, help="trees per hectare")
    parser.add_argument("--noise-m", type=float, default=0.5, help="noisy: outlines grown or shrunk up to this")
    parser.add_argument("--miss", type=float, default=0.1, help="noisy: share of objects missed each year")
    parser.add_argument("--spurious", type=float, default=0.05, help="noisy: false objects, as a share")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument("--from-json", type=Path, default=None, help="print the table of earlier rows")
    args = parser.parse_args()
    if args.from_json:
        table(json.loads(args.from_json.read_text()))
        return
    if args.checkpoint is None and "model" in args.sources:
        args.checkpoint = write_random_init_checkpoint(RandomInitSpec()).path
    rows = []
    for scene in args.scenes:
        for seed in args.seeds:
            with tempfile.TemporaryDirectory(prefix="bench-years-") as work:
                rows += one_scene(args, scene, seed, Path(work))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    table(rows)


if __name__ == "__main__":
    main()
