"""Does one multi-class run learn each class? Base vs tuned per class on held-out spatial blocks, two synthetic
scenes (sparse and dense), several seeds.

As bench_learning: each scene trains (and validates) on its west half only; the base model and the tuned
``best.pt`` are scored on every tile of the east half, which never trained. The base of a multi-class run is the
base model with every class's token at SAM's "no point" token (all classes answer alike). Prints one row per
scene and seed with each class's held-out IoU, base -> tuned, and the mean over the classes.

    .venv/bin/python -m bench.bench_multiclass [--seeds 0 1] [--epochs 8] [--lr 1e-3]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_learning import Scene, halves, synthetic
from core.models.random_init import RandomInitSpec, save_random_init
from core.training import run as training
from core.training.config import TrainConfig
from core.training.tiles import build_tiles
from core.training.trainer import Trainer

CLASSES = {1: "building", 2: "tree", 3: "road"}


def heldout(checkpoint: Path, scene: Scene, config: TrainConfig, east: Path, folder: Path) -> dict[str, Any]:
    """Held-out scores of ``checkpoint`` (its class tokens, or the starting ones for the base) on the east half."""
    tiles = build_tiles(scene.raster, scene.labels, config.replace(overlap=0.0, max_nodata=0.5), east)
    scores, _ = Trainer(config, tiles, checkpoint, folder).evaluate(tiles.tiles)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--tile-size", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    base = TrainConfig(
        tile_size=args.tile_size, batch_size=4, patience=0, val_fraction=0.25, lr=args.lr, multiclass=True,
        classes=tuple(CLASSES), class_names=tuple(f"{k}={v}" for k, v in CLASSES.items()),
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        checkpoint = save_random_init(RandomInitSpec(image_size=args.tile_size), tmp / "tiny.pt").path
        print(f"# {platform.node()} {platform.processor() or platform.machine()}, device {args.device}")
        print(f"# tiny random-init SAM 2.1, tiles {args.tile_size}, {args.epochs} epochs, lr {args.lr}, decoder")
        print("scene   seed  " + "  ".join(f"{name:>15s}" for name in CLASSES.values()) + "       mean IoU    s")
        for name, density in (("sparse", 3.0), ("dense", 40.0)):
            scene = synthetic(tmp, name, density, base)
            west, east = halves(scene, tmp)
            for seed in args.seeds:
                config = scene.config.replace(
                    seed=seed, epochs=args.epochs, device=args.device, classes=tuple(CLASSES), multiclass=True
                )
                started = time.perf_counter()
                run_dir = tmp / f"{name}-{seed}"
                training.start(training.RunInputs(scene.raster, scene.labels, checkpoint, west), config, run_dir)
                seconds = time.perf_counter() - started
                before = heldout(checkpoint, scene, config, east, tmp / "score")
                after = heldout(run_dir / "best.pt", scene, config, east, tmp / "score")
                cells = [
                    f"{before['per_class'][str(k)]['iou']:.3f}->{after['per_class'][str(k)]['iou']:.3f}"
                    for k in CLASSES
                ]
                print(
                    f"{name:7s} {seed:4d}  " + "  ".join(f"{c:>15s}" for c in cells)
                    + f"  {before['iou']:.3f}->{after['iou']:.3f}  {seconds:5.0f}",
                    flush=True,
                )  # fmt: skip


if __name__ == "__main__":
    main()
