"""How close the int8 encoder's masks come to exact's, per model size: the tolerance the engine's int8 offer
is checked against (``core.models.registry.INT8_CHECKS``).

For each model (seeded random-init SAM 2.1 at 1024 unless ``--checkpoint-dir`` holds real weights named as the
official files), encodes the same tiles exactly and in int8 and decodes a grid of single clicks on each tile
(SAM's best of three masks, as the plugin's click) from both; prints the embeddings' cosine and the click masks'
mean and minimum IoU to exact, and whether the mean is within the tolerance. Tiles: 1024 windows of the sample
imagery (OSBS_029) and of a synthetic 2048 x 2048 orthophoto.

    .venv/bin/python -m bench.bench_int8 [--models sam2.1_hiera_t,sam2.1_hiera_s,sam2.1_hiera_b+,sam2.1_hiera_l]
        [--tiles 3] [--checkpoint-dir DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from rasterio.windows import Window

from core.devtools.sample_data import prepare_sample_data
from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.inference.decode import decode
from core.inference.embeddings import EmbeddingCache, TileEncoder, TileFeatures
from core.io.raster import RasterSource
from core.io.tiling import tile_grid
from core.models.loader import LoadedModel, load_model
from core.models.random_init import RandomInitSpec, save_random_init
from core.models.registry import INT8_TOLERANCE, get_model

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


def mask_iou(a: torch.Tensor, b: torch.Tensor) -> float:
    union = int((a | b).sum())
    return 1.0 if union == 0 else int((a & b).sum()) / union


def encode(loaded: LoadedModel, jobs: list[tuple[RasterSource, Window]]) -> list[TileFeatures]:
    found = []
    for raster, window in jobs:
        encoder = TileEncoder(loaded, raster, EmbeddingCache(memory_items=1))
        encoder.encode([window])
        found.append(encoder.features(window))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="sam2.1_hiera_t,sam2.1_hiera_s,sam2.1_hiera_b+,sam2.1_hiera_l")
    parser.add_argument("--tiles", type=int, default=3)
    parser.add_argument("--checkpoint-dir", type=Path, default=None, help="real weights (<official name>.pt)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scene = write_synthetic_scene(SyntheticSceneConfig(width=2048, height=2048, seed=1), Path(tmp) / "scene")
        sample, synthetic = RasterSource(prepare_sample_data().osbs_image), RasterSource(scene.image)
        jobs = [(sample, Window(0, 0, 1024, 1024))]
        jobs += [(synthetic, w) for w in tile_grid(synthetic.width, synthetic.height, 1024, 768)]
        jobs = jobs[: args.tiles]
        print(f"int8 against exact, {len(jobs)} tiles x {CLICKS_PER_SIDE**2} clicks at 1024 px on the CPU; "
              f"tolerance: mean click IoU >= {INT8_TOLERANCE}")  # fmt: skip
        for name in args.models.split(","):
            spec = get_model(name)
            real = args.checkpoint_dir / spec.filename if args.checkpoint_dir else None
            if real is not None and real.is_file():
                checkpoint, weights = real, "real weights"
            else:
                checkpoint = save_random_init(RandomInitSpec(spec.config, 1024, 0), Path(tmp) / spec.filename).path
                weights = "random-init"
            exact = encode(load_model(checkpoint, device="cpu", image_size=1024), jobs)
            int8_model = load_model(checkpoint, device="cpu", image_size=1024, encoder="int8")
            int8 = encode(int8_model, jobs)
            pairs = list(zip(exact, int8, strict=True))
            cosines = [cosine(a.image_embed, b.image_embed) for a, b in pairs]
            ious = [
                mask_iou(m, n)
                for a, b in pairs
                for m, n in zip(click_masks(int8_model, a, 1024), click_masks(int8_model, b, 1024), strict=True)
            ]
            verdict = "within" if np.mean(ious) >= INT8_TOLERANCE else "OUTSIDE"
            print(
                f"  {spec.name:16s} ({weights}): embedding cosine min {min(cosines):.4f}; click IoU mean "
                f"{np.mean(ious):.3f}, min {min(ious):.3f} ({len(ious)} clicks): {verdict} the tolerance"
            )


if __name__ == "__main__":
    main()
