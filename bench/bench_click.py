"""Click latency with a warm embedding: our path vs SAM2ImagePredictor.predict + the same polygonization.

Model: seeded random-init SAM 2.1 hiera-tiny at 1024 (official input size); image: deepforest's OSBS_029
(the 1024 tile our engine encodes). Both paths start from the same embedding and end with polygons in the
raster CRS, produced by the same function (core.geometry.polygons.mask_to_polygons, same options). Runs interleaved;
prints medians and the ratio reference / ours.

    .venv/bin/python -m bench.bench_click [--runs 30] [--threads N]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch
from affine import Affine
from rasterio.windows import Window
from sam2.build_sam import build_sam2
from sam2.sam2_image_predictor import SAM2ImagePredictor

from core.devtools.sample_data import prepare_sample_data
from core.geometry.polygons import PolygonOptions, mask_to_polygons
from core.inference.embeddings import EmbeddingCache, tile_key
from core.inference.segment import ClickSegmenter, Prompts, trim_to_content, upsample_mask
from core.io.raster import RasterSource
from core.models.loader import load_model
from core.models.random_init import RandomInitSpec, write_random_init_checkpoint

PROMPTS = {  # pixel positions on OSBS_029 (col, row)
    "one point": ([(200.5, 150.5)], [1], None),
    "fg+bg points": ([(200.5, 150.5), (240.5, 170.5)], [1, 0], None),
    "box": ([], [], (150.0, 100.0, 260.0, 210.0)),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    checkpoint = write_random_init_checkpoint(RandomInitSpec(image_size=256)).path  # weights do not depend on size
    loaded = load_model(checkpoint, device="cpu", image_size=1024)
    raster = RasterSource(prepare_sample_data().osbs_image)
    segmenter = ClickSegmenter(loaded, raster, EmbeddingCache())
    options = segmenter.config.polygons

    predictor = SAM2ImagePredictor(
        build_sam2(
            "configs/sam2.1/sam2.1_hiera_t.yaml",
            ckpt_path=str(checkpoint),
            device="cpu",
            hydra_overrides_extra=["++model.image_size=1024"],
        )
    )
    window = Window(0, 0, 1024, 1024)
    rgb, _ = raster.read_rgb(window)
    predictor.set_image(rgb)
    transform = raster.window_transform(window)
    valid = raster.valid_mask(window)

    print(
        f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; model sam2.1_hiera_t random-init @1024; image OSBS_029"
    )
    print("end to end, prompts -> polygons:")
    for name, (points, labels, box) in PROMPTS.items():
        prompts = Prompts(
            points=tuple(tuple(raster.transform * p) for p in points),
            labels=tuple(labels),
            box=None if box is None else (*raster.transform * (box[0], box[3]), *raster.transform * (box[2], box[1])),
        )
        local = np.array(points, dtype=np.float32).reshape(-1, 2) - 0.5
        multimask = len(points) == 1 and box is None

        def ours(prompts: Prompts = prompts) -> int:
            return len(segmenter.segment(prompts).polygons)

        def reference(
            local: np.ndarray = local,
            labels: list[int] = labels,
            box=box,
            multimask: bool = multimask,
            options: PolygonOptions = options,
        ) -> int:
            masks, ious, _ = predictor.predict(
                point_coords=local if len(local) else None,
                point_labels=np.array(labels) if len(local) else None,
                box=None if box is None else np.array(box, dtype=np.float32) - 0.5,
                multimask_output=multimask,
            )
            best = masks[int(np.argmax(ious))] > 0
            return len(mask_to_polygons(best & valid, transform, options))

        segmenter.encoder.features(window)  # warm: embedding in memory
        assert ours() == reference(), "the two paths disagree on the polygons"
        report(name, ours, reference, args.runs)

    # Where the time goes. Random-init masks are speckled noise over half the tile, so polygonizing them
    # dominates both paths; a trained model's click gives one object. Time the two stages separately.
    print("stages (one point):")
    prompts = Prompts(points=(tuple(raster.transform * (200.5, 150.5)),), labels=(1,))
    points, _ = segmenter.to_pixels(prompts)
    key = tile_key(loaded, raster, window)
    features = segmenter.encoder.features(window)
    coords = torch.tensor([[[200.0, 150.0]]])
    labels = torch.tensor([[1]], dtype=torch.int32)

    def ours_decoder() -> None:
        segmenter.decode(key, features, points - 0.5, np.array([1]), None, True)

    def reference_decoder() -> None:
        with torch.inference_mode():
            sparse, dense = predictor.model.sam_prompt_encoder(points=(coords, labels), boxes=None, masks=None)
            predictor.model.sam_mask_decoder(
                image_embeddings=predictor._features["image_embed"],
                image_pe=predictor.model.sam_prompt_encoder.get_dense_pe(),
                sparse_prompt_embeddings=sparse,
                dense_prompt_embeddings=dense,
                multimask_output=True,
                repeat_image=False,
                high_res_features=predictor._features["high_res_feats"],
            )

    report("decoder: prompts -> low-res logits", ours_decoder, reference_decoder, args.runs)

    # An object-sized mask: a 60 x 40 m building at 0.1 m (600 x 400 px) as low-res logits, on a fully valid tile.
    logits = torch.full((3, 256, 256), -8.0)
    logits[:, 60:160, 70:220] = 8.0
    logits[1:, 60:100, 70:120] = -8.0  # the other two candidates: an L-shape
    full_valid = np.ones((1024, 1024), dtype=bool)

    def ours_post() -> None:
        crop, row0, col0 = upsample_mask(logits[0], (1024, 1024), 0.0)
        crop, row0, col0 = trim_to_content(
            crop & full_valid[row0 : row0 + crop.shape[0], col0 : col0 + crop.shape[1]], row0, col0
        )
        mask_to_polygons(crop, transform * Affine.translation(col0, row0), options)

    def reference_post() -> None:
        with torch.inference_mode():
            masks = predictor._transforms.postprocess_masks(logits[None], (1024, 1024)) > 0
        best = masks[0].float().numpy()[0] > 0
        mask_to_polygons(best & full_valid, transform, options)

    report("mask -> polygons, one object", ours_post, reference_post, args.runs)


def report(name: str, ours, reference, runs: int) -> None:  # type: ignore[no-untyped-def]
    times: dict[str, list[float]] = {"ours": [], "reference": []}
    for _ in range(runs):
        for label, run in (("ours", ours), ("reference", reference)):
            start = time.perf_counter()
            run()
            times[label].append(time.perf_counter() - start)
    ours_ms = statistics.median(times["ours"]) * 1000
    ref_ms = statistics.median(times["reference"]) * 1000
    print(f"  {name:34s} ours {ours_ms:7.1f} ms   reference {ref_ms:7.1f} ms   speed-up x{ref_ms / ours_ms:.2f}")


if __name__ == "__main__":
    main()
