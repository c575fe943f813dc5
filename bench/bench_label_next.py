"""Where to label next, measured held out: a simulated analyst who follows the suggestions against one who labels
at random places, and an oracle who labels where the model errs most.

Each scene is cut in two halves (bench_few_labels' split): training only ever sees the west half; every model is
scored on the east half, which never trained (pixel IoU, object F1; promptless prediction). Per scene and seed:

1. Start from 5 objects of the west half picked at random, labelled as partial labels, and tune (decoder, auto).
2. Which signal finds the model's errors: the tuned model's uncertainty over the west half (entropy of the
   blended probability; disagreement of overlapping windows) against its pixel errors there: AUROC, and the
   share of the errors inside the 10 % most uncertain pixels.
3. Five rounds; in each the analyst labels the 5 unlabelled true objects nearest to
   - ``suggest``: the 5 places ``core.workflows.suggest`` proposes from the current model's uncertainty (entropy),
   - ``random``: 5 random places of the west half,
   - ``oracle``: the objects where the current model errs most (a ceiling no analyst has),
   then tunes again from the base model on all labels so far; the east half is scored after each round.

Random-init SAM 2.1 tiny (no weights can be downloaded here): the numbers say whether the machinery points at
what the model has not learned, not how well real weights segment; ``--checkpoint`` measures real weights.

    .venv/bin/python -m bench.bench_label_next [--seeds 0 1 2] [--scenes sparse dense osbs] [--rounds 5] \
        [--json rows.json] [--plot curves.png]
    .venv/bin/python -m bench.bench_label_next --from-json rows.json --plot curves.png  (table and plot again)
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.features import rasterize
from shapely.geometry import Point, mapping

from bench.bench_few_labels import Halves, Scene, halves, scenes, score, train, west_objects, write_labels
from core.inference.predict import PredictConfig, SamAutoPredictor, predict_raster
from core.io.labels import read_vector_labels
from core.models.loader import load_model
from core.models.random_init import RandomInitSpec, save_random_init
from core.training.config import TrainConfig
from core.workflows.suggest import SuggestConfig, suggest_places

POOL_RING = 0.5
START = 5
PER_ROUND = 5
STRATEGIES = ("suggest", "random", "oracle")
SIGNALS = ("entropy", "disagreement")


def truth_mask(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """The true objects (rows, cols) bool on the raster's grid, and its valid pixels."""
    with rasterio.open(scene.raster) as src:
        found = read_vector_labels(scene.labels, src.crs, scene.class_field)
        shapes = [p.geometry for p in found if p.class_id > 0 and (not scene.classes or p.class_id in scene.classes)]
        truth = rasterize(shapes, out_shape=(src.height, src.width), transform=src.transform, fill=0, dtype="uint8")
        valid = src.read_masks(1) > 0
    return truth == 1, valid


def predict_west(
    checkpoint: Path, scene: Scene, parts: Halves, config: TrainConfig, folder: Path, signal: str
) -> tuple[Path, Path]:
    """The model's mask and uncertainty (``signal``) over the west half."""
    loaded = load_model(checkpoint, device=config.device, image_size=config.model_size)
    mask, unsure = folder / f"west_mask_{signal}.tif", folder / f"west_unsure_{signal}.tif"
    for path in (mask, unsure):
        path.unlink(missing_ok=True)
    predict_raster(
        scene.raster, SamAutoPredictor(loaded, mode="auto"), mask,
        PredictConfig(mode="auto", uncertainty_signal=signal), aoi=parts.west, uncertainty=unsure,  # type: ignore[arg-type]
    )  # fmt: skip
    return mask, unsure


def signal_quality(unsure: Path, mask: Path, truth: np.ndarray) -> dict[str, float]:
    """AUROC of the uncertainty for the model's pixel errors, and the share of errors in its top 10 %."""
    with rasterio.open(unsure) as u, rasterio.open(mask) as m:
        values, predicted = u.read(1), m.read(1)
    inside = values >= 0
    error = (predicted == 1) != truth
    scores, wrong = values[inside].astype(np.float64), error[inside]
    if wrong.all() or not wrong.any():
        return {"auroc": float("nan"), "top10": float("nan"), "error_share": float(wrong.mean())}
    ranks = np.argsort(np.argsort(scores, kind="stable"), kind="stable") + 1.0  # ties: stable order (few)
    positives = wrong.sum()
    auroc = (ranks[wrong].sum() - positives * (positives + 1) / 2) / (positives * (~wrong).sum())
    top = scores >= np.quantile(scores, 0.9)
    return {"auroc": float(auroc), "top10": float(wrong[top].sum() / positives), "error_share": float(wrong.mean())}


def nearest_unlabelled(points: list[Point], pool: list[Any], taken: set[int]) -> list[int]:
    """For each point, the nearest pool object not labelled yet (each taken once)."""
    chosen = []
    for point in points:
        free = [i for i in range(len(pool)) if i not in taken]
        if not free:
            break
        best = min(free, key=lambda i: pool[i].distance(point))
        taken.add(best)
        chosen.append(best)
    return chosen


def random_places(parts: Halves, valid: np.ndarray, scene: Scene, count: int, rng: np.random.Generator) -> list[Point]:
    with rasterio.open(scene.raster) as src:
        transform = src.transform
    xmin, ymin, xmax, ymax = parts.west_box.bounds
    places: list[Point] = []
    while len(places) < count:
        x, y = rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)
        row, col = rasterio.transform.rowcol(transform, x, y)
        if valid[row, col]:
            places.append(Point(x, y))
    return places


def worst_objects(mask: Path, truth: np.ndarray, pool: list[Any], taken: set[int], scene: Scene) -> list[Point]:
    """The oracle: the unlabelled objects with the most mispredicted pixels in and around them (their centroids)."""
    with rasterio.open(mask) as m, rasterio.open(scene.raster) as src:
        error = (m.read(1) == 1) != truth
        transform = src.transform
    counts = []
    for index, obj in enumerate(pool):
        if index in taken:
            continue
        around = obj.buffer(max(obj.bounds[2] - obj.bounds[0], obj.bounds[3] - obj.bounds[1]) / 2)
        inside = rasterize([mapping(around)], out_shape=error.shape, transform=transform, fill=0, dtype="uint8") == 1
        counts.append((int(error[inside].sum()), index))
    counts.sort(reverse=True)
    return [pool[index].centroid for _, index in counts[:PER_ROUND]]


def tune(
    scene: Scene, parts: Halves, pool: list[Any], labelled: set[int], config: TrainConfig, checkpoint: Path, run: Path
) -> Path:
    """Tune the base model on the ``labelled`` pool objects (partial labels, west half) into ``run`` (replaced)."""
    labels = write_labels(run.with_suffix(".gpkg"), [pool[i] for i in sorted(labelled)], [], parts.crs_wkt)
    train(scene, labels, "partial", config, checkpoint, parts, run)
    return run / "best.pt"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--scenes", nargs="+", default=["sparse", "dense", "osbs"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--tile-size", type=int, default=128)
    parser.add_argument("--checkpoint", type=Path, default=None, help="base model (default: random-init tiny)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--min-distance-px", type=float, default=None, help="between suggested places (default: suggest's, 256 px)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument("--plot", type=Path, default=None, help="also draw IoU against labels per scene (PNG)")
    parser.add_argument("--from-json", type=Path, default=None, help="only summarise (and plot) earlier rows")
    args = parser.parse_args()
    if args.from_json:
        rows = json.loads(args.from_json.read_text())
        print_summary(rows)
        if args.plot:
            plot(rows, args.plot)
        return
    config = TrainConfig(
        mode="auto", trainable="decoder", tile_size=args.tile_size, batch_size=4, epochs=args.epochs, lr=1e-3,
        patience=4, val_fraction=0.25, device=args.device,
    )  # fmt: skip
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        checkpoint = args.checkpoint or save_random_init(RandomInitSpec(image_size=args.tile_size), tmp / "t.pt").path
        print(f"# {platform.node()} {platform.processor() or platform.machine()}, device {args.device}")
        print(f"# {checkpoint.name}, tiles {args.tile_size}, {args.epochs} epochs, lr 1e-3, decoder, auto, partial")
        for name in args.scenes:
            scene = scenes(tmp)[name]()
            parts = halves(scene, args.tile_size, tmp)
            pool = west_objects(scene, parts, POOL_RING)
            truth, valid = truth_mask(scene)
            with rasterio.open(scene.raster) as src:
                pixel = abs(src.transform.a)
            for seed in args.seeds:
                seeded = config.replace(seed=seed)
                rng = np.random.default_rng(seed)
                start = set(int(i) for i in rng.permutation(len(pool))[:START])

                started = time.perf_counter()
                first = tune(scene, parts, pool, start, seeded, checkpoint, tmp / "run_start")
                east = score(first, scene, parts, seeded, tmp)
                for signal in SIGNALS:
                    mask, unsure = predict_west(first, scene, parts, seeded, tmp, signal)
                    quality = signal_quality(unsure, mask, truth)
                    rows.append({"scene": name, "seed": seed, "signal": signal, **quality})
                    print(
                        f"{name:7s} seed {seed}: {signal:12s} AUROC {quality['auroc']:.3f}, top 10 % holds "
                        f"{quality['top10']:.0%} of the errors ({quality['error_share']:.0%} of the pixels wrong)",
                        flush=True,
                    )
                for strategy in args.strategies:
                    labelled, model = set(start), first
                    rows.append({"scene": name, "seed": seed, "strategy": strategy, "round": 0,
                                 "labels": len(labelled), **east})  # fmt: skip
                    for round_number in range(1, args.rounds + 1):
                        if strategy == "random":
                            places = random_places(parts, valid, scene, PER_ROUND, rng)
                        else:
                            mask, unsure = predict_west(model, scene, parts, seeded, tmp, "entropy")
                            if strategy == "oracle":
                                places = worst_objects(mask, truth, pool, labelled, scene)
                            else:
                                west = [mapping(parts.west_box)]
                                spacing = args.min_distance_px * pixel if args.min_distance_px else None
                                labelled_shapes = [mapping(pool[i]) for i in labelled]
                                found = suggest_places(
                                    unsure, SuggestConfig(count=PER_ROUND, min_distance=spacing), labelled_shapes, west
                                )
                                places = [Point(p.x, p.y) for p in found]
                        labelled |= set(nearest_unlabelled(places, pool, set(labelled)))
                        model = tune(scene, parts, pool, labelled, seeded, checkpoint, tmp / f"run_{strategy}")
                        scores = score(model, scene, parts, seeded, tmp)
                        rows.append({"scene": name, "seed": seed, "strategy": strategy, "round": round_number,
                                     "labels": len(labelled), **scores})  # fmt: skip
                        print(
                            f"{name:7s} seed {seed}: {strategy:7s} round {round_number}: {len(labelled):3d} labels, "
                            f"east IoU {scores['iou']:.4f}, F1 {scores['f1']:.4f}  "
                            f"({time.perf_counter() - started:.0f} s)",
                            flush=True,
                        )
    print_summary(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    if args.plot:
        plot(rows, args.plot)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Held-out IoU against labelled objects, one panel per scene, a line per strategy (mean over seeds, the
    seeds' range shaded)."""
    from core.evaluation.plots import pyplot

    plt = pyplot()
    names = sorted({r["scene"] for r in rows if "strategy" in r})
    figure, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    for axis, name in zip(axes[0], names, strict=True):
        for strategy in STRATEGIES:
            mine = [r for r in rows if r.get("strategy") == strategy and r["scene"] == name]
            rounds = sorted({r["round"] for r in mine})
            if not rounds:
                continue
            labels = [float(np.mean([r["labels"] for r in mine if r["round"] == k])) for k in rounds]
            ious = [[r["iou"] for r in mine if r["round"] == k] for k in rounds]
            line = axis.plot(labels, [np.mean(v) for v in ious], "o-", label=strategy)[0]
            axis.fill_between(
                labels, [min(v) for v in ious], [max(v) for v in ious], alpha=0.15, color=line.get_color()
            )
        axis.set_title(name)
        axis.set_xlabel("labelled objects")
        axis.set_ylabel("held-out IoU (east half)")
        axis.legend()
    figure.suptitle("Where to label next: held-out IoU against labels (random-init SAM 2.1 tiny)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def print_summary(rows: list[dict[str, Any]]) -> None:
    """Mean east IoU per scene, strategy and round (the seeds' spread beside it), then the goal per scene."""
    print("\nheld-out (east) pixel IoU, mean over seeds (spread: max - min)")
    for name in sorted({r["scene"] for r in rows if "strategy" in r}):
        print(f"{name}:")
        curves: dict[str, dict[int, tuple[float, float, float]]] = {}
        for strategy in STRATEGIES:
            mine = [r for r in rows if r.get("strategy") == strategy and r["scene"] == name]
            for round_number in sorted({r["round"] for r in mine}):
                at = [r for r in mine if r["round"] == round_number]
                ious = [r["iou"] for r in at]
                labels = float(np.mean([r["labels"] for r in at]))
                curves.setdefault(strategy, {})[round_number] = (labels, float(np.mean(ious)), max(ious) - min(ious))
            if strategy in curves:
                shown = "  ".join(
                    f"{lab:4.1f}: {iou:.3f}±{spread:.3f}" for lab, iou, spread in curves[strategy].values()
                )
                print(f"  {strategy:8s} {shown}")
        if "suggest" in curves and "random" in curves:
            last = max(curves["random"])
            target_labels, target = curves["random"][last][:2]
            reached = [lab for lab, iou, _ in curves["suggest"].values() if iou >= target]
            share = min(reached) / target_labels if reached else None
            below = [
                curves["random"][r][1] - curves["suggest"][r][1] - curves["random"][r][2]
                for r in curves["suggest"] if r in curves["random"]
            ]  # fmt: skip
            print(
                f"  suggestions reach random's round-{last} IoU ({target:.3f}, {target_labels:.0f} labels) with "
                + (f"{share:.0%} of its labels" if share is not None else "no round")
                + f"; worst shortfall beyond the spread {max(below):+.3f}"
            )
    for name in sorted({r["scene"] for r in rows if "signal" in r}):
        for signal in SIGNALS:
            mine = [r for r in rows if r.get("signal") == signal and r["scene"] == name]
            if mine:
                print(
                    f"{name:7s} {signal:12s} AUROC {np.nanmean([r['auroc'] for r in mine]):.3f}, errors in the top "
                    f"10 %: {np.nanmean([r['top10'] for r in mine]):.0%}"
                )


if __name__ == "__main__":
    main()
