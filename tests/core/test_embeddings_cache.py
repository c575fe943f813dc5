"""The disk embedding cache: fp16 on disk (half the bytes), float32 back, click masks as from fresh features."""

from __future__ import annotations

import io

import pytest
import torch
from rasterio.windows import Window

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.inference.decode import decode
from core.inference.embeddings import EmbeddingCache, TileEncoder, TileFeatures, tile_key
from core.io.raster import RasterSource
from core.models.loader import load_model

pytestmark = pytest.mark.quick  # make test-fast


def fp32_bytes(features: TileFeatures) -> int:
    """What the cache file would weigh with float32 tensors (the format before fp16)."""
    buffer = io.BytesIO()
    torch.save({"e": features.image_embed, "h0": features.high_res[0], "h1": features.high_res[1]}, buffer)
    return buffer.tell()


def click_masks(model, features: TileFeatures, size: int) -> torch.Tensor:
    """Best-of-three masks (k, 4h, 4w) of a 4 x 4 grid of single clicks on one tile."""
    centres = (torch.arange(4, dtype=torch.float32) + 0.5) * size / 4
    points = torch.stack(torch.meshgrid(centres, centres, indexing="xy"), dim=-1).reshape(-1, 1, 2)
    with torch.inference_mode():
        logits, iou, _ = decode(
            model,
            features.image_embed[None].expand(16, -1, -1, -1),
            [h[None].expand(16, -1, -1, -1) for h in features.high_res],
            points,
            torch.ones(16, 1, dtype=torch.int32),
            multimask=True,
        )
    return logits[torch.arange(16), iou.argmax(dim=1)] > 0


def test_disk_cache_keeps_half_the_bytes_and_gives_the_same_click_masks(tiny_checkpoint, tmp_path) -> None:
    loaded = load_model(tiny_checkpoint.path, device="cpu")
    scene = write_synthetic_scene(SyntheticSceneConfig(width=256, height=256, seed=4), tmp_path / "scene")
    window = Window(0, 0, 256, 256)
    with RasterSource(scene.image) as raster:
        fresh = TileEncoder(loaded, raster, EmbeddingCache(folder=None)).features(window)
        writer = EmbeddingCache(folder=tmp_path / "cache")
        TileEncoder(loaded, raster, writer).features(window)
        files = list((tmp_path / "cache").glob("*/*.pt"))
        assert len(files) == 1
        assert files[0].stat().st_size < 0.55 * fp32_bytes(fresh)
        reread = EmbeddingCache(folder=tmp_path / "cache").get(tile_key(loaded, raster, window))  # from disk only
    assert reread is not None
    for ours, theirs in zip((reread.image_embed, *reread.high_res), (fresh.image_embed, *fresh.high_res), strict=True):
        assert ours.dtype == torch.float32
        torch.testing.assert_close(ours, theirs, rtol=2**-10, atol=1e-6)
    cached, exact = click_masks(loaded.model, reread, 256), click_masks(loaded.model, fresh, 256)
    for a, b in zip(cached, exact, strict=True):
        union = int((a | b).sum())
        assert union == 0 or int((a & b).sum()) / union >= 0.99


def test_values_beyond_fp16_are_kept_in_float32(tmp_path) -> None:
    big = torch.full((4, 2, 2), 1e6)
    features = TileFeatures(big, (torch.ones(2, 8, 8), torch.ones(3, 4, 4) / 3), 1.0)
    EmbeddingCache(folder=tmp_path).put("k" * 64, features)
    reread = EmbeddingCache(folder=tmp_path).get("k" * 64)
    assert reread is not None
    assert torch.equal(reread.image_embed, big)  # not infinity
    torch.testing.assert_close(reread.high_res[1], features.high_res[1], rtol=2**-11, atol=0)
