"""Learning from a few labelled objects: partial labels against today's complete labels, held out.

Each scene is cut in two halves at a tile boundary. Training only ever sees the west half (an AOI; examples are
objects whose background ring lies inside it); every model is scored on the east half, which never trained:
pixel IoU and object F1 (one-to-one matches at IoU >= 0.5), from a promptless (auto) prediction of the east
half, the way ``predict`` and *Find the rest* use a tuned model. Side by side, per scene and seed:

- ``base``: the base model, untouched;
- ``partial k``: k objects picked at random, trained as partial labels (``--labels-cover partial``);
- ``complete k``: the same k objects trained as complete labels (the behaviour before partial labels: every
  other pixel of the west half taught as background, the unlabelled objects included);
- ``ceiling``: every object of the west half labelled (complete).

Then a simulated review: from 10 examples, 3 rounds of *Find the rest* (``core.workflows.find``) on the west half; the
reviewer accepts the candidates (the 20 best scored) that match a true object (IoU >= 0.5) as objects and
rejects the others as background; each round's model is scored on the east half.

Scenes: synthetic sparse (buildings a few % of the pixels) and dense, and NEON's OSBS_029 (real, tree boxes).
Random-init SAM 2.1 tiny (no weights can be downloaded here): the numbers say whether the machinery learns
from few labels, not how well real weights segment; ``--checkpoint`` measures real weights the same way.

    .venv/bin/python -m bench.bench_few_labels [--seeds 0 1 2] [--ks 3 5 10 20] [--scenes sparse dense osbs]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from shapely import unary_union
from shapely.geometry import box, mapping, shape

from core.devtools.sample_data import prepare_sample_data
from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.evaluation.evaluate import evaluate, match_objects
from core.inference.predict import PredictConfig, SamAutoPredictor, predict_raster
from core.io.aoi import write_rectangle
from core.io.labels import read_vector_labels
from core.io.vectors import PolygonFeature, write_polygons
from core.models.loader import load_model
from core.models.random_init import RandomInitSpec, save_random_init
from core.training import run as training
from core.training.config import TrainConfig
from core.workflows.find import FindInputs, find_rest

POOL_RING = 0.5  # examples are objects whose ring this wide lies in the west half, whatever --ring is
REVIEW_START = 10  # examples before the first review round (random-init weights learn nothing from 5 on dense)
REVIEW_ROUNDS = 3
REVIEWED_PER_ROUND = 20  # candidates the reviewer looks at per round, best score first


@dataclass(frozen=True)
class Scene:
    name: str
    raster: Path
    labels: Path
    class_field: str | None
    classes: tuple[int, ...]


@dataclass(frozen=True)
class Halves:
    west: Path  # AOI GeoPackages
    east: Path
    west_box: Any  # shapely box of the west half
    crs_wkt: str


def halves(scene: Scene, tile_size: int, folder: Path) -> Halves:
    with rasterio.open(scene.raster) as src:
        left, bottom, right, top = src.bounds
        wkt = src.crs.to_wkt()
        columns = max(1, min(round(src.width / tile_size / 2), src.width // tile_size - 1))  # OSBS: 2 of 3
        middle = left + columns * tile_size * src.transform.a
    west = write_rectangle(folder / f"{scene.name}_west.gpkg", (left, bottom, middle, top), wkt)
    east = write_rectangle(folder / f"{scene.name}_east.gpkg", (middle, bottom, right, top), wkt)
    return Halves(west, east, box(left, bottom, middle, top), wkt)


def west_objects(scene: Scene, parts: Halves, ring: float) -> list[Any]:
    """The scene's objects whose partial-label ring lies inside the west half (shapely, the raster's CRS)."""
    with rasterio.open(scene.raster) as src:
        crs, pixel = src.crs, src.transform.a
    found = read_vector_labels(scene.labels, crs, scene.class_field)
    objects = [
        shape(p.geometry) for p in found if p.class_id > 0 and (not scene.classes or p.class_id in scene.classes)
    ]
    return [o for o in objects if o.buffer(max(ring * math.sqrt(o.area), pixel) + pixel).within(parts.west_box)]


def write_labels(path: Path, objects: list[Any], background: list[Any], crs_wkt: str) -> Path:
    features = [PolygonFeature(mapping(o), {"class": "1"}) for o in objects]
    features += [PolygonFeature(mapping(b), {"class": "background"}) for b in background]
    return write_polygons(path, features, crs_wkt, fields={"class": str})


def score(checkpoint: Path, scene: Scene, parts: Halves, config: TrainConfig, folder: Path) -> dict[str, float]:
    """Pixel IoU and object F1 of ``checkpoint`` on the east half, predicted promptless (auto)."""
    loaded = load_model(checkpoint, device=config.device, image_size=config.model_size)
    mask = folder / "east_mask.tif"
    predict_raster(
        scene.raster, SamAutoPredictor(loaded, mode="auto"), mask, PredictConfig(mode="auto"), aoi=parts.east
    )
    result, _ = evaluate(mask, scene.labels, parts.east, scene.classes, scene.class_field)
    mask.unlink()
    return {"iou": result.pixel["iou"], "f1": float(result.objects["f1"])}


def train(
    scene: Scene, labels: Path, cover: str, config: TrainConfig, checkpoint: Path, parts: Halves, run_dir: Path
) -> dict[str, Any]:
    """Train on the west half only; returns the run's summary."""
    field = "class" if labels != scene.labels else scene.class_field
    classes = () if labels != scene.labels else scene.classes
    chosen = config.replace(labels_cover=cover, class_field=field).replace(classes=classes)
    inputs = training.RunInputs(scene.raster, labels, checkpoint, parts.west)
    return training.start(inputs, chosen, run_dir, overwrite=True)


def review(
    scene: Scene, parts: Halves, start: list[Any], config: TrainConfig, checkpoint: Path, truth: list[Any], tmp: Path
) -> list[dict[str, Any]]:
    """Rounds of find -> accept / reject -> find again, from ``start`` examples; each round's east scores."""
    objects, background, rows = list(start), [], []
    inner = parts.west_box.buffer(-4.0)  # decisions stay 4 m inside the west half
    labelled_truth = {i for i, t in enumerate(truth) for o in start if t.equals(o)}
    for round_number in range(1, REVIEW_ROUNDS + 1):
        labels = write_labels(tmp / f"review_{round_number}.gpkg", objects, background, parts.crs_wkt)
        found = find_rest(
            FindInputs(scene.raster, labels, checkpoint, extent=parts.west_box.bounds),
            tmp / "find",
            config.replace(class_field="class", classes=()),
        )
        east = score(Path(found["run"]) / "best.pt", scene, parts, config, tmp)
        candidates = [shape(f["geometry"]) for f in _features(Path(found["candidates"]))][:REVIEWED_PER_ROUND]
        accepted = rejected = 0
        for candidate in candidates:
            match = _matching(candidate, truth, labelled_truth)
            kept = _polygonal(candidate.intersection(inner))
            if kept is None:
                continue
            if match is not None:
                labelled_truth.add(match)
                objects.append(kept)
                accepted += 1
            else:
                background.append(kept)
                rejected += 1
        rows.append({
            "round": round_number, "examples": len(objects) - accepted, "background": len(background) - rejected,
            "candidates": found["count"], "accepted": accepted, "rejected": rejected, **east,
        })  # fmt: skip
    return rows


def _polygonal(geometry: Any) -> Any:
    """The polygons of ``geometry`` (a clipped candidate may also hold lines or points), or None below 1 m²."""
    parts = [g for g in getattr(geometry, "geoms", [geometry]) if g.geom_type in ("Polygon", "MultiPolygon")]
    merged = unary_union(parts) if parts else None
    return merged if merged is not None and merged.area >= 1.0 else None


def _features(path: Path) -> list[dict]:
    from core.io.vectors import read_polygons

    features, _ = read_polygons(path)
    return [{"geometry": f.geometry, **f.attributes} for f in features]


def _matching(candidate: Any, truth: list[Any], taken: set[int]) -> int | None:
    """The true object ``candidate`` matches (IoU >= 0.5) and no earlier decision took, or None."""
    for index, true_object in enumerate(truth):
        if index in taken or not candidate.intersects(true_object):
            continue
        if match_objects([candidate], [true_object])["matched"]:
            return index
    return None


def scenes(tmp: Path) -> dict[str, Any]:
    def synthetic(name: str, per_ha: float) -> Scene:
        config = SyntheticSceneConfig(width=1024, height=1024, pixel_size=0.5, seed=11, buildings_per_ha=per_ha)
        paths = write_synthetic_scene(config, tmp / name)
        return Scene(name, paths.image, paths.labels, "class_id", (1,))

    def osbs() -> Scene:
        sample = prepare_sample_data()
        return Scene("osbs", sample.osbs_image, sample.osbs_boxes, None, ())

    return {"sparse": lambda: synthetic("sparse", 3.0), "dense": lambda: synthetic("dense", 40.0), "osbs": osbs}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--ks", type=int, nargs="+", default=[3, 5, 10, 20])
    parser.add_argument("--scenes", nargs="+", default=["sparse", "dense", "osbs"])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--tile-size", type=int, default=128)
    parser.add_argument("--ring", type=float, default=TrainConfig.ring, help="partial labels' background ring")
    parser.add_argument("--checkpoint", type=Path, default=None, help="base model (default: random-init tiny)")
    parser.add_argument("--no-review", action="store_true")
    parser.add_argument("--review-only", action="store_true", help="only the base and the review rounds")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()
    config = TrainConfig(
        mode="auto", trainable="decoder", tile_size=args.tile_size, batch_size=4, epochs=args.epochs, lr=1e-3,
        patience=4, val_fraction=0.25, device=args.device, ring=args.ring,
    )  # fmt: skip
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        checkpoint = args.checkpoint or save_random_init(RandomInitSpec(image_size=args.tile_size), tmp / "t.pt").path
        print(f"# {platform.node()} {platform.processor() or platform.machine()}, device {args.device}")
        print(
            f"# {checkpoint.name}, tiles {args.tile_size}, {args.epochs} epochs, lr 1e-3, decoder, auto, "
            f"ring {args.ring}"
        )
        print("scene   seed  arm          k   east IoU  east F1  s")
        for name in args.scenes:
            scene = scenes(tmp)[name]()
            parts = halves(scene, args.tile_size, tmp)
            pool = west_objects(scene, parts, POOL_RING)
            base = score(checkpoint, scene, parts, config, tmp)
            rows.append({"scene": name, "arm": "base", "seed": None, "k": 0, **base})
            print(f"{name:7s}    -  base         0   {base['iou']:.4f}    {base['f1']:.4f}", flush=True)
            for seed in args.seeds:
                seeded = config.replace(seed=seed)
                order = np.random.default_rng(seed).permutation(len(pool))
                arms = [] if args.review_only else [("ceiling", len(pool), scene.labels, "complete")]
                for k in (k for k in args.ks if k <= len(pool) and not args.review_only):
                    chosen = [pool[i] for i in order[:k]]
                    labels = write_labels(tmp / f"{name}_{seed}_{k}.gpkg", chosen, [], parts.crs_wkt)
                    arms += [("partial", k, labels, "partial"), ("complete", k, labels, "complete")]
                for arm, k, labels, cover in arms:
                    started = time.perf_counter()
                    summary = train(scene, labels, cover, seeded, checkpoint, parts, tmp / "run")
                    east = score(tmp / "run" / "best.pt", scene, parts, seeded, tmp)
                    seconds = time.perf_counter() - started
                    row = {"scene": name, "arm": arm, "seed": seed, "k": k, **east, "improved": summary["improved"]}
                    rows.append(row | {"seconds": round(seconds, 1)})
                    print(
                        f"{name:7s} {seed:4d}  {arm:10s} {k:3d}   {east['iou']:.4f}    {east['f1']:.4f}  "
                        f"{seconds:5.1f}",
                        flush=True,
                    )
                if not args.no_review:
                    start = [pool[i] for i in order[:REVIEW_START]]
                    for row in review(scene, parts, start, seeded, checkpoint, pool, tmp):
                        rows.append({"scene": name, "arm": "review", "seed": seed, **row})
                        print(
                            f"{name:7s} {seed:4d}  review {row['round']}   {row['examples']:3d}   {row['iou']:.4f}    "
                            f"{row['f1']:.4f}  accepted {row['accepted']}, rejected {row['rejected']} "
                            f"of {row['candidates']}",
                            flush=True,
                        )
    print_summary(rows, args.ks)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


def print_summary(rows: list[dict[str, Any]], ks: list[int]) -> None:
    """Mean east scores per scene and arm; the goals: partial 10 reaches >= 70 % of the ceiling's gain over the
    base and beats complete 10; object F1 rises in each review round."""
    print("\n# mean over seeds (east half, never trained)")
    print("scene   arm          k   IoU     F1      share of ceiling gain (IoU, F1)")
    for scene in dict.fromkeys(r["scene"] for r in rows):
        mine = [r for r in rows if r["scene"] == scene]
        base = next(r for r in mine if r["arm"] == "base")
        ceiling = _mean(mine, "ceiling", None)
        for arm, k in [("base", 0), *((a, k) for k in ks for a in ("partial", "complete")), ("ceiling", None)]:
            mean = base if arm == "base" else _mean(mine, arm, k)
            if not mean:
                continue
            shares = [
                (mean[m] - base[m]) / (ceiling[m] - base[m]) if ceiling and ceiling[m] != base[m] else float("nan")
                for m in ("iou", "f1")
            ]
            shown_k = k if k is not None else "all"
            print(f"{scene:7s} {arm:10s} {shown_k!s:>3s}   {mean['iou']:.4f}  {mean['f1']:.4f}  "
                  f"{shares[0]:+.2f}, {shares[1]:+.2f}")  # fmt: skip
        partial, complete = _mean(mine, "partial", 10), _mean(mine, "complete", 10)
        if partial and complete and ceiling:
            gain = (partial["iou"] - base["iou"]) / max(ceiling["iou"] - base["iou"], 1e-9)
            met = "met" if gain >= 0.7 else "MISSED"
            beats = "beats" if partial["iou"] > complete["iou"] else "does NOT beat"
            print(
                f"# {scene}: partial 10 reaches {gain:.0%} of the ceiling's IoU gain ({met} >= 70 %), {beats} "
                f"complete 10 ({partial['iou']:.4f} vs {complete['iou']:.4f})"
            )
        rounds = [r for r in mine if r["arm"] == "review"]
        if rounds:
            means = [float(np.mean([r["f1"] for r in rounds if r["round"] == n])) for n in range(1, REVIEW_ROUNDS + 1)]
            rising = all(b > a for a, b in itertools.pairwise(means))
            print(f"# {scene}: review object F1 per round {', '.join(f'{m:.4f}' for m in means)} "
                  f"({'rises' if rising else 'does NOT rise'} each round)")  # fmt: skip


def _mean(rows: list[dict[str, Any]], arm: str, k: int | None) -> dict[str, float] | None:
    chosen = [r for r in rows if r["arm"] == arm and (k is None or r["k"] == k)]
    if not chosen:
        return None
    return {m: float(np.mean([r[m] for r in chosen])) for m in ("iou", "f1")}


if __name__ == "__main__":
    main()
