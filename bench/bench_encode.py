"""Encoding throughput (tiles/s) of the engine's encoder paths against Meta's SAM2ImagePredictor.set_image, each
side in its own fresh process with its own defaults, and the code's and the allocator's gains apart.

Model: seeded random-init SAM 2.1 (hiera-tiny by default) at 1024 on the CPU (or --model/--device for a GPU
run, where ours runs in bf16 autocast as the engine does). Tiles: 1024 windows of the sample imagery
(OSBS_029, NEON, padded to the window) and of a synthetic 2048 x 2048 orthophoto. Ours reads each window from
the GeoTIFF and keeps the embedding in a memory cache; the reference gets the same RGB arrays. Sides, each a
fresh process per round (rounds interleave the sides; the median round is kept):
- ``reference``: ``set_image`` in a plain Python process (glibc's defaults), as its users run it;
- ``exact`` / ``int8`` under glibc's defaults (``SAM2_QGIS_REUSE_FREED_MEMORY=0``): the code's gain alone;
- ``exact`` / ``int8`` as shipped (the engine's allocator setting, core/models/allocator.py): what the analyst gets.
Prints tiles/s, each ratio to the reference (>= 1: not slower) and the allocator's own ratio, and exact's
embedding cosine to the reference's (int8's fidelity per model: bench/bench_int8.py).

    .venv/bin/python -m bench.bench_encode [--tiles 4] [--runs 2] [--rounds 3] [--model sam2.1_hiera_t]
        [--device cpu] [--batch-size 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from rasterio.windows import Window

from core.devtools.sample_data import prepare_sample_data
from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.inference.embeddings import EmbeddingCache, TileEncoder
from core.io.raster import RasterSource
from core.io.tiling import tile_grid
from core.models.allocator import SWITCH, engine_allocator
from core.models.device import inference_precision
from core.models.loader import load_model
from core.models.random_init import RandomInitSpec, save_random_init
from core.models.registry import get_model

ROOT = Path(__file__).resolve().parent.parent
SIDES = {  # name: (encoder path or "reference", allocator setting on)
    "reference": ("reference", False),
    "exact, glibc defaults": ("exact", False),
    "exact, as shipped": ("exact", True),
    "int8, glibc defaults": ("int8", False),
    "int8, as shipped": ("int8", True),
}


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.flatten().double(), b.flatten().double()
    return float(a @ b / (a.norm() * b.norm()))


def tiles_of(work: Path, count: int) -> list[tuple[RasterSource, Window]]:
    """The benchmark's windows: the sample imagery's first, then the synthetic scene's."""
    sample, synthetic = RasterSource(prepare_sample_data().osbs_image), RasterSource(work / "scene" / "scene_image.tif")
    jobs = [(sample, Window(0, 0, 1024, 1024))]
    jobs += [(synthetic, w) for w in tile_grid(synthetic.width, synthetic.height, 1024, 768)]
    return jobs[:count]


def side(args: argparse.Namespace) -> None:
    """One side in this (fresh) process: a warm-up pass, then ``runs`` timed passes; prints tiles/s as JSON and
    saves the first tile's embedding for the fidelity check."""
    path = SIDES[args.side][0]
    checkpoint, device = args.work / "model.pt", args.device
    jobs = tiles_of(args.work, args.tiles)
    if path == "reference":  # Meta's predictor, as a user runs it: nothing of ours touches the process
        from sam2.build_sam import build_sam2
        from sam2.sam2_image_predictor import SAM2ImagePredictor

        spec = get_model(args.model)
        overrides = ["++model.image_size=1024"]
        predictor = SAM2ImagePredictor(
            build_sam2(spec.config, str(checkpoint), device, hydra_overrides_extra=overrides)
        )
        tiles = [raster.read_rgb(w)[0] for raster, w in jobs]

        def run() -> torch.Tensor:
            first = None
            for tile in tiles:
                with inference_precision(torch.device(device)):
                    predictor.set_image(tile)
                first = first if first is not None else predictor._features["image_embed"][0].float().cpu()
            assert first is not None
            return first

    else:
        loaded = load_model(checkpoint, device=device, image_size=1024, encoder=path)

        def run() -> torch.Tensor:
            first = None
            for raster in dict.fromkeys(r for r, _ in jobs):
                windows = [w for r, w in jobs if r is raster]
                encoder = TileEncoder(loaded, raster, EmbeddingCache(memory_items=len(jobs)), args.batch_size)
                encoder.encode(windows)
                first = first if first is not None else encoder.features(windows[0]).image_embed
            assert first is not None
            return first

    torch.save(run(), args.work / f"{args.side}.pt")  # warm-up (first calls allocate), and the embedding
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.runs):
        run()
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    print(json.dumps({"tiles_per_s": args.runs * len(jobs) / seconds}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--model", default="sam2.1_hiera_t")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--runs", type=int, default=2, help="timed passes over the tiles per process")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per side, interleaved")
    parser.add_argument("--side", choices=SIDES, default=None, help=argparse.SUPPRESS)  # a child process
    parser.add_argument("--work", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        os.environ[SWITCH] = "1" if SIDES[args.side][1] else "0"
        with engine_allocator():  # as core.cli.main runs every command: on "as shipped", glibc's defaults otherwise
            side(args)
        return
    spec = get_model(args.model)
    sides = [name for name, (path, _) in SIDES.items() if path != "int8" or args.device == "cpu"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        save_random_init(RandomInitSpec(spec.config, 1024, 0), work / "model.pt")
        write_synthetic_scene(SyntheticSceneConfig(width=2048, height=2048, seed=1), work / "scene")
        rates: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name in sides:
                command = [sys.executable, "-m", "bench.bench_encode", "--side", name, "--work", str(work)]
                command += ["--tiles", str(args.tiles), "--runs", str(args.runs), "--model", args.model]
                command += ["--device", args.device, "--batch-size", str(args.batch_size)]
                done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
                rates[name].append(json.loads(done.stdout.strip().splitlines()[-1])["tiles_per_s"])
        exact_cosine = cosine(torch.load(work / "exact, as shipped.pt"), torch.load(work / "reference.pt"))
    rate = {name: statistics.median(found) for name, found in rates.items()}
    device = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or platform.machine()
    print(
        f"machine: {device}, torch {torch.__version__}, {torch.get_num_threads()} threads; {spec.name} random-init "
        f"@1024; {args.tiles} tiles x {args.runs} runs per process, {args.rounds} fresh processes per side "
        f"(median); batch {args.batch_size}"
    )
    print(f"  {'side':24s} {'tiles/s':>8s} {'x reference':>12s}")
    for name in sides:
        print(f"  {name:24s} {rate[name]:8.3f} {rate[name] / rate['reference']:12.2f}")
    for path in dict.fromkeys(SIDES[name][0] for name in sides if name != "reference"):
        code = rate[f"{path}, glibc defaults"] / rate["reference"]
        allocator = rate[f"{path}, as shipped"] / rate[f"{path}, glibc defaults"]
        print(f"  {path}: the code x{code:.2f}, the allocator x{allocator:.2f}, as shipped x{code * allocator:.2f}")
    print(f"  exact's embedding cosine to the reference: {exact_cosine:.6f}")


if __name__ == "__main__":
    main()
