"""A region of many rasters: one process against torchrun's ranks on the same machine, and each against
predicting every raster alone. All SAM 2 numbers come from seeded random-init weights (no real weights can be
downloaded here); the same command measures real ones with ``--checkpoint``.

A synthetic scene cut into ``--rasters`` GeoTIFF tiles of ``--tile`` px; hiera-tiny (random init) at ``--size``
px, promptless. Runs, each as its users run it (its own ``python -m core predict`` process, its own defaults):
- alone: ``predict --raster <one tile>`` for every tile in turn (a model load per tile, as a loop over files does);
- region, 1 process: ``predict --raster <folder> --out <folder>``;
- region, N ranks: ``torchrun --nproc-per-node N -m core predict ...`` (each rank 1 thread on a CPU, gloo-free:
  ranks share nothing but the folder).
Checks: the region's masks are byte-identical to the tiles predicted alone and across 1 and N ranks; the
polygons of N ranks equal those of 1 process. Prints wall seconds, Mpx/s and the ratios.

    .venv/bin/python -m bench.bench_catalog [--rasters 16] [--tile 256] [--size 256] [--ranks 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.devtools.synthetic import SyntheticSceneConfig, cut_into_tiles, write_synthetic_scene
from core.io.atomic import sha256_file
from core.io.vectors import read_polygons
from core.models.random_init import RandomInitSpec, write_random_init_checkpoint

ROOT = Path(__file__).resolve().parents[1]


def run(command: list[str], threads: int) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:6])}... failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def masks(folder: Path) -> dict[str, str]:
    return {p.name: sha256_file(p) for p in sorted(folder.glob("*.tif"))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rasters", type=int, default=16, help="tiles in the region (a square number is exact)")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--size", type=int, default=256, help="the model's input size")
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--checkpoint", type=Path, default=None, help="default: random-init hiera-tiny at --size")
    args = parser.parse_args(argv)
    checkpoint = args.checkpoint or write_random_init_checkpoint(RandomInitSpec(image_size=args.size)).path
    cores = os.cpu_count() or 1
    side = max(1, round(args.rasters**0.5))
    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as scratch:
        work = Path(scratch)
        scene = write_synthetic_scene(
            SyntheticSceneConfig(width=side * args.tile, height=side * args.tile, seed=3), work / "scene"
        )
        tiles = cut_into_tiles(scene.image, work / "tiles", args.tile)
        megapixels = len(tiles) * args.tile * args.tile / 1e6
        common = ["--checkpoint", str(checkpoint), "--device", "cpu", "--mode", "auto", "--threshold", "0.53"]
        core = [sys.executable, "-m", "core", "predict"]

        (work / "alone").mkdir()
        alone = sum(
            run([*core, "--raster", str(t), "--out", str(work / "alone" / t.name), *common], cores) for t in tiles
        )
        one = run(
            [*core, "--raster", str(work / "tiles"), "--out", str(work / "one"), "--vector", str(work / "one.gpkg"),
             *common], cores,
        )  # fmt: skip
        ranks = run(
            [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(args.ranks), "--master-port", "0",
             "-m", "core", "predict", "--raster", str(work / "tiles"), "--out", str(work / "ranks"),
             "--vector", str(work / "ranks.gpkg"), *common], max(1, cores // args.ranks),
        )  # fmt: skip

        same_alone = masks(work / "alone") == masks(work / "one" / "masks")
        same_ranks = masks(work / "one" / "masks") == masks(work / "ranks" / "masks")
        polygons = [read_polygons(work / f"{name}.gpkg")[0] for name in ("one", "ranks")]
        same_polygons = [f.geometry for f in polygons[0]] == [f.geometry for f in polygons[1]]
        rows = [
            ("each raster alone (a process per raster)", alone),
            ("region, 1 process", one),
            (f"region, torchrun {args.ranks} ranks", ranks),
        ]
        print(
            f"{len(tiles)} rasters of {args.tile} px ({megapixels:.2f} Mpx), hiera-tiny random init at {args.size} "
            f"px, promptless, {cores} CPU cores"
        )
        print(f"{'run':<42} {'seconds':>8} {'Mpx/s':>7} {'vs alone':>9} {'vs 1 process':>13}")
        for name, seconds in rows:
            print(
                f"{name:<42} {seconds:8.1f} {megapixels / seconds:7.3f} {alone / seconds:8.2f}x {one / seconds:12.2f}x"
            )
        print(
            json.dumps(
                {
                    "masks identical to each raster alone": same_alone,
                    f"masks identical, 1 process vs {args.ranks} ranks": same_ranks,
                    "region polygons identical": same_polygons,
                    "polygons": len(polygons[0]),
                }
            )
        )
        if not (same_alone and same_ranks and same_polygons):
            raise SystemExit("the region's results differ: see above")


if __name__ == "__main__":
    main()
