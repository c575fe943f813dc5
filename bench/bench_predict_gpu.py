"""Whole-raster prediction throughput (Mpx/s) and where its time goes, against the encoder's own limit.

A seeded random-init SAM 2 (promptless ``auto`` mode) predicts a synthetic orthophoto made by tiling a
synthetic scene; the raster is a deflate-compressed tiled GeoTIFF as orthophotos are. Prints:
- the steady-state throughput in new megapixels per second (windows between 10 % and 90 % of the run, so
  model start-up and the last rows do not count), the wall time and the model's load time;
- the share of the wall time per stage, from a second, shorter run whose clock synchronises the device at
  the end of each stage (read and write run in helper threads, overlapping the rest);
- the reference in the same process: the encoder alone on the same batches of the same size, converted to
  new pixels per second at the same overlap; the ratio pipeline / encoder (1.0 = the encoder's limit).

    .venv/bin/python -m bench.bench_predict_gpu [--model sam2.1_hiera_l] [--image-size 1024] [--side 24576]
        [--batch-size 8] [--device cuda]

CPU defaults (this machine): hiera-tiny at 256 px on a 2048 px raster, so that everything but the model shows.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
import torch
from affine import Affine

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.inference.predict import PredictConfig, SamAutoPredictor, predict_raster
from core.inference.preprocess import to_model_input
from core.inference.stage_clock import StageClock
from core.models.loader import load_model
from core.models.random_init import RandomInitSpec, save_random_init
from core.models.registry import get_model

BLOCK = 2048  # side of the synthetic scene tiled over the raster


def tiled_orthophoto(folder: Path, side: int) -> Path:
    """A ``side`` x ``side`` RGB uint8 GeoTIFF (tiled, deflate) made of copies of one synthetic scene."""
    scene = write_synthetic_scene(SyntheticSceneConfig(width=BLOCK, height=BLOCK, seed=1), folder / "scene")
    with rasterio.open(scene.image) as src:
        block = src.read([1, 2, 3])
    path = folder / f"ortho_{side}.tif"
    profile = dict(driver="GTiff", width=side, height=side, count=3, dtype="uint8", crs="EPSG:32633", tiled=True)
    transform = Affine(0.2, 0, 500_000, 0, -0.2, 5_600_000)
    with (
        rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS"),
        rasterio.open(path, "w", **profile, transform=transform, compress="deflate", num_threads="all_cpus") as dst,
    ):
        for row in range(0, side, BLOCK):
            for col in range(0, side, BLOCK):
                h, w = min(BLOCK, side - row), min(BLOCK, side - col)
                dst.write(block[:, :h, :w], window=((row, row + h), (col, col + w)))
    return path


def steady_rate(marks: list[tuple[float, int]], pixels_per_window: float) -> float:
    """New Mpx/s between 10 % and 90 % of the windows, from (time, windows done) marks."""
    total = marks[-1][1]
    inside = [(t, d) for t, d in marks if 0.1 * total <= d <= 0.9 * total]
    if len(inside) < 2:
        inside = [marks[0], marks[-1]]
    (t0, d0), (t1, d1) = inside[0], inside[-1]
    return (d1 - d0) * pixels_per_window / max(t1 - t0, 1e-9) / 1e6


def encoder_rate(predictor: SamAutoPredictor, batch_size: int, pixels_per_window: float, repeats: int) -> float:
    """New Mpx/s of the encoder alone (uint8 batch already on the host, normalised on the device)."""
    from core.inference.embeddings import encode_batch

    loaded = predictor.loaded
    tiles = np.random.default_rng(0).integers(0, 256, (batch_size, loaded.image_size, loaded.image_size, 3))
    tiles = tiles.astype(np.uint8)

    def run() -> None:
        encode_batch(loaded, to_model_input(tiles, loaded.device))

    run()
    synchronize(loaded.device)
    start = time.perf_counter()
    for _ in range(repeats):
        run()
    synchronize(loaded.device)
    return repeats * batch_size * pixels_per_window / (time.perf_counter() - start) / 1e6


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="sam2.1_hiera_t")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--side", type=int, default=2048, help="raster side in pixels")
    parser.add_argument("--profile-side", type=int, default=0, help="raster side of the profiled run (default side)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--overlap", type=float, default=0.25)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        spec = get_model(args.model)
        checkpoint = save_random_init(RandomInitSpec(spec.config, args.image_size, 0), folder / "model.pt").path
        start = time.perf_counter()
        loaded = load_model(checkpoint, device=args.device)
        load_seconds = time.perf_counter() - start
        predictor = SamAutoPredictor(loaded)
        stride = args.image_size - round(args.image_size * args.overlap)
        pixels_per_window = stride * stride  # new pixels each window adds in the steady state
        config = PredictConfig(overlap=args.overlap, batch_size=args.batch_size)
        made = time.perf_counter()
        raster = tiled_orthophoto(folder, args.side)
        made = time.perf_counter() - made

        marks: list[tuple[float, int]] = []
        summary = predict_raster(
            raster,
            predictor,
            folder / "mask.tif",
            config,
            progress=lambda fraction, done, total: marks.append((time.perf_counter(), done)),
        )
        rate = steady_rate(marks, pixels_per_window)
        reference = encoder_rate(predictor, args.batch_size, pixels_per_window, repeats=max(2, len(marks) // 8))

        profile_side = args.profile_side or args.side
        profiled_raster = raster if profile_side == args.side else tiled_orthophoto(folder, profile_side)
        clock = StageClock(synchronize=(lambda: torch.cuda.synchronize()) if loaded.device.type == "cuda" else None)
        profiled = predict_raster(profiled_raster, predictor, folder / "profiled.tif", config, clock=clock)

    device = torch.cuda.get_device_name() if loaded.device.type == "cuda" else platform.processor() or "cpu"
    print(f"machine: {device}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(
        f"{args.model} @{args.image_size} batch {args.batch_size}, overlap {args.overlap}: raster {args.side} x "
        f"{args.side} px ({args.side**2 / 1e6:.0f} Mpx, made in {made:.0f} s), {summary.windows} windows"
    )
    print(f"model load {load_seconds:.2f} s; prediction wall {summary.seconds:.1f} s")
    print(
        f"steady state: pipeline {rate:8.2f} Mpx/s   encoder alone {reference:8.2f} Mpx/s   "
        f"ratio x{rate / reference:.2f}"
    )
    print(f"stages of a synchronised run ({profile_side} px, wall {profiled.seconds:.1f} s), share of the wall time:")
    for name, seconds in sorted(profiled.stage_seconds.items(), key=lambda item: -item[1]):
        print(f"  {name:24s} {seconds:8.2f} s  {seconds / profiled.seconds:6.1%}")


if __name__ == "__main__":
    main()
