"""Does fine-tuning learn? Base vs tuned on held-out spatial blocks, several scenes, seeds and both modes.

Each scene is split in two halves: the run trains (and validates, for its choice of the best epoch) on the
west half only; both the base and the tuned ``best.pt`` are then scored on every tile of the east half, which
never trained, in the mode the run trained for (auto: one promptless mask per tile; click: one click at the
middle of each object). Scenes: a sparse synthetic orthophoto (buildings a few % of the pixels), a dense one,
and NEON's OSBS_029 (real, trees). Prints one row per scene, mode and seed, and a summary.

    .venv/bin/python -m bench.bench_learning [--seeds 0 1 2] [--modes auto click] [--epochs 8] [--click-steps 144]
"""

from __future__ import annotations

import argparse
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

from core.devtools.sample_data import prepare_sample_data
from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.io.aoi import write_rectangle
from core.models.random_init import RandomInitSpec, save_random_init
from core.training import run as training
from core.training.config import TrainConfig
from core.training.tiles import build_tiles
from core.training.trainer import Trainer


@dataclass(frozen=True)
class Scene:
    name: str
    raster: Path
    labels: Path
    config: TrainConfig  # tiles, classes and class field of this scene


def synthetic(folder: Path, name: str, buildings_per_ha: float, base: TrainConfig) -> Scene:
    paths = write_synthetic_scene(
        SyntheticSceneConfig(width=1024, height=1024, pixel_size=0.5, seed=11, buildings_per_ha=buildings_per_ha),
        folder / name,
    )
    return Scene(name, paths.image, paths.labels, base.replace(class_field="class_id", classes=(1,)))


def halves(scene: Scene, folder: Path) -> tuple[Path, Path]:
    """GeoPackages of the scene's west (training) and east (held-out) halves."""
    with rasterio.open(scene.raster) as src:
        left, bottom, right, top = src.bounds
        wkt = src.crs.to_wkt()
    middle = (left + right) / 2
    west = write_rectangle(folder / f"{scene.name}_west.gpkg", (left, bottom, middle, top), wkt)
    east = write_rectangle(folder / f"{scene.name}_east.gpkg", (middle, bottom, right, top), wkt)
    return west, east


def heldout_scores(checkpoint: Path, scene: Scene, config: TrainConfig, east: Path, folder: Path) -> dict[str, Any]:
    """Dataset IoU/F1 of ``checkpoint`` on the tiles of the east half (side by side, no overlap), used the way
    ``config.mode`` is used, and the share of object pixels there."""
    tileset = build_tiles(scene.raster, scene.labels, config.replace(overlap=0.0, max_nodata=0.5), east)
    tiles = tileset.tiles
    scores, _ = Trainer(config, tileset, checkpoint, folder).evaluate(tiles)
    objects = sum(int(t.target.sum()) for t in tiles) / max(1, sum(int(t.labelled.sum()) for t in tiles))
    return {"iou": scores["iou"], "f1": scores["f1"], "tiles": len(tiles), "foreground": objects}


def click_epochs(scene: Scene, folder: Path, steps: int, config: TrainConfig) -> int:
    """Epochs that give click training about ``steps`` steps on the scene's west half (its training tiles)."""
    west, _ = halves(scene, folder)
    training_tiles = len(build_tiles(scene.raster, scene.labels, scene.config, west).split("train"))
    return max(1, math.ceil(steps / math.ceil(training_tiles / config.batch_size)))


def one_run(scene: Scene, mode: str, seed: int, checkpoint: Path, epochs: int, device: str, tmp: Path) -> dict:
    west, east = halves(scene, tmp)
    config = scene.config.replace(mode=mode, seed=seed, epochs=epochs, device=device)
    run_dir = tmp / f"{scene.name}-{mode}-{seed}"
    started = time.perf_counter()
    summary = training.start(training.RunInputs(scene.raster, scene.labels, checkpoint, west), config, run_dir)
    seconds = time.perf_counter() - started
    base = heldout_scores(checkpoint, scene, config, east, tmp / "score")
    tuned = heldout_scores(run_dir / "best.pt", scene, config, east, tmp / "score")
    return {
        "scene": scene.name,
        "mode": mode,
        "seed": seed,
        "foreground": round(base["foreground"], 3),
        "heldout_tiles": base["tiles"],
        "base_iou": round(base["iou"], 4),
        "tuned_iou": round(tuned["iou"], 4),
        "gain": round(tuned["iou"] - base["iou"], 4),
        "epochs": summary["epochs"],
        "best_epoch": summary["best"]["epoch"],
        "improved": summary["improved"],
        "val_base": round(summary["base"]["iou"], 4),
        "val_best": round(summary["best"]["iou"], 4),
        "seconds": round(seconds, 1),
    }


def passes(row: dict) -> bool:
    """The goal of the learning issue: tuned > base, by >= 0.05 IoU wherever base < 0.5."""
    needed = 0.05 if row["base_iou"] < 0.5 else 0.0
    return row["gain"] > needed or (needed == 0 and row["gain"] > 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--modes", nargs="+", default=["auto", "click"])
    parser.add_argument("--scenes", nargs="+", default=["sparse", "dense", "osbs"])
    parser.add_argument("--epochs", type=int, default=8, help="auto mode's epochs")
    parser.add_argument(
        "--click-steps",
        type=int,
        default=144,
        help="click mode's training steps (it learns slower; epochs follow from each scene's training tiles)",
    )
    parser.add_argument("--tile-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=TrainConfig.lr)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()
    base = TrainConfig(tile_size=args.tile_size, batch_size=4, patience=0, val_fraction=0.25, lr=args.lr)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        checkpoint = save_random_init(RandomInitSpec(image_size=args.tile_size), tmp / "tiny.pt").path
        sample = prepare_sample_data()
        scenes = {
            "sparse": lambda: synthetic(tmp, "sparse", 3.0, base),
            "dense": lambda: synthetic(tmp, "dense", 40.0, base),
            "osbs": lambda: Scene("osbs", sample.osbs_image, sample.osbs_boxes, base.replace(overlap=0.5)),
        }
        print(f"# {platform.node()} {platform.processor() or platform.machine()}, device {args.device}")
        print(
            f"# tiny random-init SAM 2.1, tiles {args.tile_size}, {args.epochs} epochs (auto) / "
            f"{args.click_steps} steps (click), lr {args.lr}, decoder, batch 4"
        )
        header = "scene   mode   seed  fg%   tiles  base    tuned   gain    best/ep  val base->best   s"
        print(header)
        for name in args.scenes:
            scene = scenes[name]()
            for mode in args.modes:
                epochs = click_epochs(scene, tmp, args.click_steps, base) if mode == "click" else args.epochs
                for seed in args.seeds:
                    row = one_run(scene, mode, seed, checkpoint, epochs, args.device, tmp)
                    rows.append(row)
                    print(
                        f"{row['scene']:7s} {row['mode']:6s} {row['seed']:4d} {100 * row['foreground']:5.1f} "
                        f"{row['heldout_tiles']:5d}  {row['base_iou']:.4f}  {row['tuned_iou']:.4f}  "
                        f"{row['gain']:+.4f}  {row['best_epoch']:3d}/{row['epochs']:<3d} "
                        f"{row['val_base']:.3f}->{row['val_best']:.3f}  "
                        f"{row['seconds']:6.1f}  {'ok' if passes(row) else 'MISSED'}",
                        flush=True,
                    )
    gains = np.array([r["gain"] for r in rows])
    print(f"# rows {len(rows)}, goal met in {sum(passes(r) for r in rows)}, mean gain {gains.mean():+.4f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
