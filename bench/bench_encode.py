"""Encoding throughput (tiles/s): our TileEncoder vs SAM2ImagePredictor.set_image, same tiles, same model.

Model: seeded random-init SAM 2.1 hiera-tiny at 1024 on the CPU (or --model/--device for a GPU run, where
ours runs in bf16 autocast as the engine does). Tiles: 1024 windows of a synthetic 2048x2048 orthophoto.
Ours reads each window from the GeoTIFF and stores the embedding in a memory cache; the reference gets the
same RGB arrays. Runs interleaved; prints tiles/s and the ratio ours / reference (>= 1 means not slower).

    .venv/bin/python -m bench.bench_encode [--tiles 4] [--batch-size 1] [--model sam2.1_hiera_t] [--device cpu]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch
from sam2.build_sam import build_sam2
from sam2.sam2_image_predictor import SAM2ImagePredictor

from core.embeddings import EmbeddingCache, TileEncoder
from core.models.device import inference_precision
from core.models.loader import load_model
from core.models.random_init import RandomInitSpec, save_random_init
from core.models.registry import get_model
from core.raster import RasterSource
from core.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.tiling import tile_grid


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tiles", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--model", default="sam2.1_hiera_t")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        spec = get_model(args.model)
        checkpoint = save_random_init(RandomInitSpec(spec.config, 1024, 0), Path(tmp) / f"{spec.name}.pt").path
        scene = write_synthetic_scene(SyntheticSceneConfig(width=2048, height=2048, seed=1), Path(tmp) / "scene")
        loaded = load_model(checkpoint, device=args.device)
        raster = RasterSource(scene.image)
        windows = tile_grid(raster.width, raster.height, 1024, 768)[: args.tiles]
        predictor = SAM2ImagePredictor(
            build_sam2(
                spec.config,
                ckpt_path=str(checkpoint),
                device=args.device,
                hydra_overrides_extra=["++model.image_size=1024"],
            )
        )
        tiles = [raster.read_rgb(w)[0] for w in windows]

        def ours() -> None:
            TileEncoder(loaded, raster, EmbeddingCache(memory_items=len(windows)), args.batch_size).encode(windows)

        def reference() -> None:
            for tile in tiles:
                with inference_precision(loaded.device):
                    predictor.set_image(tile)

        ours()  # warm-up (first calls allocate)
        reference()
        timings: dict[str, float] = {"ours": 0.0, "reference": 0.0}
        for _ in range(2):
            for label, run in (("ours", ours), ("reference", reference)):
                if loaded.device.type == "cuda":
                    torch.cuda.synchronize()
                start = time.perf_counter()
                run()
                if loaded.device.type == "cuda":
                    torch.cuda.synchronize()
                timings[label] += time.perf_counter() - start
        ours_rate = 2 * len(windows) / timings["ours"]
        ref_rate = 2 * len(windows) / timings["reference"]
        device = torch.cuda.get_device_name() if loaded.device.type == "cuda" else platform.machine()
        print(
            f"machine: {device}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
            f"{spec.name} random-init @1024; {len(windows)} tiles x 2 runs; batch {args.batch_size}"
        )
        ratio = ours_rate / ref_rate
        print(f"encode  ours {ours_rate:6.2f} tiles/s   reference {ref_rate:6.2f} tiles/s   ratio x{ratio:.2f}")


if __name__ == "__main__":
    main()
