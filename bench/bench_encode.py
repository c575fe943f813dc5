"""Encoding throughput (tiles/s) of our encoder paths vs SAM2ImagePredictor.set_image, and their fidelity.

Model: seeded random-init SAM 2.1 (hiera-tiny by default) at 1024 on the CPU (or --model/--device for a GPU
run, where ours runs in bf16 autocast as the engine does). Tiles: 1024 windows of the sample imagery
(OSBS_029, NEON, padded to the window) and of a synthetic 2048 x 2048 orthophoto. Ours reads each window from
the GeoTIFF and keeps the embedding in a memory cache; the reference gets the same RGB arrays. Runs are
interleaved; ours runs with the engine's allocator setting (core/allocator.py: large buffers reused), the
reference with glibc's defaults, as a plain Python process has them, switched between runs in the same
process. Prints tiles/s and the ratio ours / reference (>= 1 means not slower) for each path:
- ``exact``: the default (bit-identical embeddings: cosine 1 to the reference's);
- ``int8`` (CPU only): int8 linear layers, approximate: prints the embeddings' cosine to fp32 and the IoU of
  single-click masks (a grid of clicks per tile, best of SAM's three masks, as the plugin's click) to fp32's.

    .venv/bin/python -m bench.bench_encode [--tiles 4] [--batch-size 1] [--model sam2.1_hiera_t] [--device cpu]
        [--runs 2]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from rasterio.windows import Window
from sam2.build_sam import build_sam2
from sam2.sam2_image_predictor import SAM2ImagePredictor

from core.allocator import reuse_freed_memory
from core.decode import decode
from core.embeddings import EmbeddingCache, TileEncoder, TileFeatures
from core.models.device import inference_precision
from core.models.loader import LoadedModel, load_model
from core.models.random_init import RandomInitSpec, save_random_init
from core.models.registry import get_model
from core.raster import RasterSource
from core.sample_data import prepare_sample_data
from core.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.tiling import tile_grid

CLICKS_PER_SIDE = 4


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.flatten().double(), b.flatten().double()
    return float(a @ b / (a.norm() * b.norm()))


def click_masks(loaded: LoadedModel, features: TileFeatures, size: int) -> torch.Tensor:
    """Masks (k, 4h, 4w) bool of a grid of single clicks on one tile, each SAM's best of three."""
    step = size / CLICKS_PER_SIDE
    centres = (torch.arange(CLICKS_PER_SIDE, dtype=torch.float32) + 0.5) * step
    points = torch.stack(torch.meshgrid(centres, centres, indexing="xy"), dim=-1).reshape(-1, 1, 2)
    count = points.shape[0]
    with torch.inference_mode():
        logits, iou, _ = decode(
            loaded.model,
            features.image_embed[None].expand(count, -1, -1, -1),
            [h[None].expand(count, -1, -1, -1) for h in features.high_res],
            points,
            torch.ones(count, 1, dtype=torch.int32),
            multimask=True,
        )
    return logits[torch.arange(count), iou.argmax(dim=1)] > 0


def iou(a: torch.Tensor, b: torch.Tensor) -> float:
    union = int((a | b).sum())
    return 1.0 if union == 0 else int((a & b).sum()) / union


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tiles", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--model", default="sam2.1_hiera_t")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        spec = get_model(args.model)
        checkpoint = save_random_init(RandomInitSpec(spec.config, 1024, 0), Path(tmp) / f"{spec.name}.pt").path
        scene = write_synthetic_scene(SyntheticSceneConfig(width=2048, height=2048, seed=1), Path(tmp) / "scene")
        paths = ["exact"] + (["int8"] if args.device == "cpu" else [])
        models = {path: load_model(checkpoint, device=args.device, encoder=path) for path in paths}
        sample = RasterSource(prepare_sample_data().osbs_image)
        synthetic = RasterSource(scene.image)
        jobs = [(sample, Window(0, 0, 1024, 1024))] + [
            (synthetic, w) for w in tile_grid(synthetic.width, synthetic.height, 1024, 768)
        ]
        jobs = jobs[: args.tiles]
        predictor = SAM2ImagePredictor(
            build_sam2(
                spec.config,
                ckpt_path=str(checkpoint),
                device=args.device,
                hydra_overrides_extra=["++model.image_size=1024"],
            )
        )
        tiles = [raster.read_rgb(w)[0] for raster, w in jobs]
        encoded: dict[str, list[TileFeatures]] = {}

        def ours(path: str) -> None:
            reuse_freed_memory(True)  # as the engine's processes run (core/allocator.py)
            found = []
            for raster in (sample, synthetic):
                windows = [w for r, w in jobs if r is raster]
                cache = EmbeddingCache(memory_items=len(jobs))
                encoder = TileEncoder(models[path], raster, cache, args.batch_size)
                encoder.encode(windows)
                found += [encoder.features(w) for w in windows]
            encoded[path] = found

        def reference() -> None:
            reuse_freed_memory(False)  # as a plain Python process runs
            for tile in tiles:
                with inference_precision(models["exact"].device):
                    predictor.set_image(tile)

        runs = {**{path: (lambda p=path: ours(p)) for path in paths}, "reference": reference}
        for run in runs.values():
            run()  # warm-up (first calls allocate)
        timings = dict.fromkeys(runs, 0.0)
        for _ in range(args.runs):
            for label, run in runs.items():
                if args.device == "cuda":
                    torch.cuda.synchronize()
                start = time.perf_counter()
                run()
                if args.device == "cuda":
                    torch.cuda.synchronize()
                timings[label] += time.perf_counter() - start
        rates = {label: args.runs * len(jobs) / seconds for label, seconds in timings.items()}
        predictor.set_image(tiles[0])
        reference_embed = predictor._features["image_embed"][0].float().cpu()
        exact_cosine = cosine(encoded["exact"][0].image_embed, reference_embed)

        device = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or platform.machine()
        print(
            f"machine: {device}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
            f"{spec.name} random-init @1024; {len(jobs)} tiles (1 sample, {len(jobs) - 1} synthetic) x "
            f"{args.runs} runs; batch {args.batch_size}"
        )
        print(f"reference set_image     {rates['reference']:6.3f} tiles/s")
        for path in paths:
            ratio = rates[path] / rates["reference"]
            line = f"ours {path:5s}              {rates[path]:6.3f} tiles/s   ratio x{ratio:.2f}"
            if path == "exact":
                line += f"   embedding cosine to the reference {exact_cosine:.6f}"
            else:
                pairs = list(zip(encoded["exact"], encoded[path], strict=True))
                cosines = [cosine(a.image_embed, b.image_embed) for a, b in pairs]
                high = [min(cosine(x, y) for x, y in zip(a.high_res, b.high_res, strict=True)) for a, b in pairs]
                ious = [
                    iou(m, n)
                    for a, b in pairs
                    for m, n in zip(
                        click_masks(models["exact"], a, 1024), click_masks(models[path], b, 1024), strict=True
                    )
                ]
                line += (
                    f"   cosine to fp32: embedding min {min(cosines):.4f}, high-res min {min(high):.4f}; click masks "
                    f"IoU to fp32: mean {np.mean(ious):.3f}, min {min(ious):.3f} ({len(ious)} clicks)"
                )
            print(line)


if __name__ == "__main__":
    main()
