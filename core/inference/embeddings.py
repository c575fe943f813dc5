"""Encoding raster windows with SAM 2's image encoder, and caching the result in memory and on disk.

A cached embedding is keyed by everything that determines it: raster identity (path, size, mtime), the
window, the weights' sha256, the model's input size and the preprocessing. A second click on a tile, or a
reopened project, costs no encoder call.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rasterio.windows import Window

from core.errors import CancelledError, OutputWriteError
from core.inference.preprocess import to_model_input
from core.io.atomic import atomic_output
from core.io.cache import cache_dir
from core.io.raster import RasterSource
from core.models.device import inference_precision
from core.models.loader import LoadedModel

logger = logging.getLogger(__name__)

#: ``progress(fraction, **info)``; ``cancelled() -> bool``, checked between batches.
Progress = Callable[..., None]
Cancelled = Callable[[], bool]


@dataclass(frozen=True)
class TileFeatures:
    """Encoder output for one window, float32 on the CPU.

    ``image_embed`` (C, H/16, W/16); ``high_res`` ((C0, H/4, W/4), (C1, H/8, W/8)) for (H, W) the model's
    input size; ``valid_fraction`` of the window's pixels inside the raster and not nodata.
    """

    image_embed: torch.Tensor
    high_res: tuple[torch.Tensor, torch.Tensor]
    valid_fraction: float


def tile_key(loaded: LoadedModel, raster: RasterSource, window: Window) -> str:
    """The cache key of ``window`` of ``raster`` encoded by ``loaded``."""
    parts: tuple[object, ...] = (
        raster.identity,
        tuple(int(v) for v in window.flatten()),
        loaded.weights_sha256,
        loaded.image_size,
        raster.preprocessing.key,
    )
    if loaded.encoder != "exact":  # approximate embeddings never answer for exact ones (exact keys unchanged)
        parts = (*parts, loaded.encoder)
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def on_disk(tensor: torch.Tensor) -> torch.Tensor:
    """What the disk cache stores of a float32 feature map: fp16 (half the bytes; relative error <= 2^-11, which
    moves click masks by well under a pixel: tests/core/test_embeddings_cache.py), or float32 where a value is
    beyond fp16's range (|x| > 65504)."""
    half = tensor.half()
    return half if bool(torch.isfinite(half).all()) else tensor


class EmbeddingCache:
    """An LRU of ``memory_items`` embeddings in memory (float32), backed by ``.pt`` files in ``folder`` (None: no
    disk; fp16 there, see ``on_disk``)."""

    def __init__(self, memory_items: int = 16, folder: Path | None = None, max_disk_bytes: int = 4 << 30) -> None:
        self.memory_items = memory_items
        self.folder = folder
        self.max_disk_bytes = max_disk_bytes
        self._memory: OrderedDict[str, TileFeatures] = OrderedDict()

    @classmethod
    def default(cls) -> EmbeddingCache:
        return cls(folder=cache_dir("embeddings"))

    def _file(self, key: str) -> Path | None:
        return None if self.folder is None else self.folder / key[:2] / f"{key}.pt"

    def get(self, key: str) -> TileFeatures | None:
        if key in self._memory:
            self._memory.move_to_end(key)
            return self._memory[key]
        path = self._file(key)
        if path is None or not path.exists():
            return None
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            features = TileFeatures(
                saved["image_embed"].float(),
                (saved["high_res_0"].float(), saved["high_res_1"].float()),
                float(saved["valid_fraction"]),
            )
        except Exception:  # a damaged cache file is a cache miss
            path.unlink(missing_ok=True)
            return None
        self._remember(key, features)
        return features

    def put(self, key: str, features: TileFeatures) -> None:
        self._remember(key, features)
        path = self._file(key)
        if path is None:
            return
        try:
            with atomic_output(path) as tmp, open(tmp, "wb") as handle:
                torch.save(
                    {
                        "image_embed": on_disk(features.image_embed),
                        "high_res_0": on_disk(features.high_res[0]),
                        "high_res_1": on_disk(features.high_res[1]),
                        "valid_fraction": torch.tensor(features.valid_fraction),
                    },
                    handle,
                )
        except OutputWriteError as error:  # a full or read-only cache disk: the cache is kept in memory only
            logger.warning("embedding not cached on disk: %s", error)
            return
        self._prune()

    def _remember(self, key: str, features: TileFeatures) -> None:
        self._memory[key] = features
        self._memory.move_to_end(key)
        while len(self._memory) > self.memory_items:
            self._memory.popitem(last=False)

    def _prune(self) -> None:
        """Delete the least recently written files while the disk cache is over its size limit."""
        assert self.folder is not None
        files = sorted(self.folder.glob("*/*.pt"), key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in files)
        for path in files:
            if total <= self.max_disk_bytes:
                break
            total -= path.stat().st_size
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def image_features(model: Any, batch: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Image embedding (n, C, H/16, W/16) and high-res features [(n, C0, H/4, W/4), (n, C1, H/8, W/8)] of a
    normalised batch (n, 3, H, W), on the model's device, gradients as the caller's mode allows.

    Mirrors ``SAM2ImagePredictor.set_image`` (no-memory embedding added for single images) but takes the
    feature sizes from the backbone, so any ``image_size`` works. Shared by inference and training.
    """
    backbone_out = model.forward_image(batch)
    _, vision_feats, _, feat_sizes = model._prepare_backbone_features(backbone_out)
    if model.directly_add_no_mem_embed:
        vision_feats[-1] = vision_feats[-1] + model.no_mem_embed
    n = batch.shape[0]
    maps = [feat.permute(1, 2, 0).reshape(n, -1, *size) for feat, size in zip(vision_feats, feat_sizes, strict=True)]
    return maps[-1], maps[:-1]


def encode_batch(loaded: LoadedModel, batch: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Run the image encoder on a normalised batch (n, 3, S, S): image embedding (n, C, S/16, S/16) and high-res
    features [(n, C0, S/4, S/4), (n, C1, S/8, S/8)], float32 on the model's device (for decoding at once)."""
    with torch.inference_mode(), inference_precision(loaded.device):
        embed, high_res = image_features(loaded.model, batch.to(loaded.device))
        return embed.float(), [level.float() for level in high_res]


def encode_tiles(loaded: LoadedModel, batch: torch.Tensor) -> list[tuple[torch.Tensor, tuple[torch.Tensor, ...]]]:
    """Run the image encoder on a normalised batch (n, 3, S, S); per tile (image_embed, high_res feats), float32
    on the CPU (for caching)."""
    embed, high_res = encode_batch(loaded, batch)
    embed = embed.cpu()
    high_res = [level.cpu() for level in high_res]
    return [(embed[i], tuple(level[i] for level in high_res)) for i in range(batch.shape[0])]


class TileEncoder:
    """Embeddings of windows of one raster under one model, from the cache or the encoder.

    ``encoder_calls`` counts encoder forward passes (tests assert cache hits with it).
    """

    def __init__(self, loaded: LoadedModel, raster: RasterSource, cache: EmbeddingCache, batch_size: int = 1) -> None:
        self.loaded, self.raster, self.cache = loaded, raster, cache
        self.batch_size = max(1, batch_size)
        self.encoder_calls = 0

    def features(self, window: Window) -> TileFeatures:
        cached = self.cache.get(tile_key(self.loaded, self.raster, window))
        if cached is not None:
            return cached
        self.encode([window])
        result = self.cache.get(tile_key(self.loaded, self.raster, window))
        assert result is not None
        return result

    def encode(
        self, windows: Iterable[Window], progress: Progress | None = None, cancelled: Cancelled | None = None
    ) -> int:
        """Encode the windows not cached yet, ``batch_size`` at a time; return how many were encoded."""
        todo = [w for w in windows if self.cache.get(tile_key(self.loaded, self.raster, w)) is None]
        for start in range(0, len(todo), self.batch_size):
            if cancelled and cancelled():
                raise CancelledError(f"encoding cancelled after {start} of {len(todo)} tiles; encoded tiles are kept")
            chunk = todo[start : start + self.batch_size]
            reads = [self.raster.read_rgb(w) for w in chunk]
            encoded = encode_tiles(self.loaded, to_model_input(np.stack([rgb for rgb, _ in reads])))
            self.encoder_calls += 1
            for window, (_, valid), (embed, high_res) in zip(chunk, reads, encoded, strict=True):
                features = TileFeatures(embed, (high_res[0], high_res[1]), float(valid.mean()))
                self.cache.put(tile_key(self.loaded, self.raster, window), features)
            if progress:
                progress((start + len(chunk)) / len(todo), done=start + len(chunk), total=len(todo))
        return len(todo)
