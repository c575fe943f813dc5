"""Training tiles: windows over the raster, labels on them, nodata filtering and a spatially blocked split.

Tiles are grouped in square blocks of ``block_tiles`` x ``block_tiles`` grid cells; whole blocks go to
validation or test (seeded), and training tiles that share any pixel with a validation or test tile are
dropped, so no pixel is both trained on and validated on.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from rasterio.windows import Window

from core.errors import InvalidInputError
from core.io.aoi import aoi_mask, read_aoi
from core.io.labels import IGNORE, LabelReader
from core.io.raster import RasterSource
from core.io.tiling import tile_grid
from core.training.config import TrainConfig

Split = Literal["train", "val", "test"]


@dataclass
class Tile:
    """One labelled tile: RGB uint8 (S, S, 3), classes uint8 (S, S) with IGNORE, instances int32 (S, S)."""

    window: Window
    split: Split
    rgb: np.ndarray
    classes: np.ndarray
    instances: np.ndarray

    @property
    def target(self) -> np.ndarray:
        """Foreground bool (S, S): any labelled class other than background."""
        return (self.classes > 0) & (self.classes != IGNORE)

    @property
    def labelled(self) -> np.ndarray:
        return self.classes != IGNORE


@dataclass
class TileSet:
    """The tiles of a raster and what was left out, by reason."""

    tiles: list[Tile]
    skipped: Counter[str] = field(default_factory=Counter)
    class_names: dict[int, str] = field(default_factory=dict)  # from the labels' name field, where given

    def split(self, name: Split) -> list[Tile]:
        return [tile for tile in self.tiles if tile.split == name]

    def label_pixels(self) -> dict[str, int]:
        """What the training tiles teach, in pixels: objects, background, and left out (unlabelled or nodata)."""
        train = self.split("train")
        return {
            "object_pixels": sum(int(t.target.sum()) for t in train),
            "background_pixels": sum(int((t.classes == 0).sum()) for t in train),
            "ignored_pixels": sum(int((~t.labelled).sum()) for t in train),
        }

    def summary(self) -> dict[str, int]:
        counts = Counter(tile.split for tile in self.tiles)
        return {
            "train": counts["train"],
            "val": counts["val"],
            "test": counts["test"],
            **{f"skipped_{reason}": n for reason, n in self.skipped.items()},
        }


def _assign_splits(windows: list[Window], stride: int, config: TrainConfig) -> list[Split]:
    """Seeded split by spatial blocks; falls back to one-tile blocks when there are too few blocks."""
    for block in (config.block_tiles, 1):
        span = block * stride
        keys = [(int(w.row_off) // span, int(w.col_off) // span) for w in windows]
        blocks = sorted(set(keys))
        if len(blocks) >= 2:
            break
    rng = np.random.default_rng(config.seed)
    order = [blocks[i] for i in rng.permutation(len(blocks))]
    n_val = max(1, round(len(blocks) * config.val_fraction))
    n_test = round(len(blocks) * config.test_fraction)
    chosen = {b: "val" for b in order[:n_val]} | {b: "test" for b in order[n_val : n_val + n_test]}
    return [chosen.get(key, "train") for key in keys]  # type: ignore[misc]


def _overlaps(a: Window, b: Window) -> bool:
    return (
        a.col_off < b.col_off + b.width
        and b.col_off < a.col_off + a.width
        and a.row_off < b.row_off + b.height
        and b.row_off < a.row_off + a.height
    )


def build_tiles(raster_path: Path, labels_path: Path, config: TrainConfig, aoi: Path | None = None) -> TileSet:
    """Read every usable tile of the raster with its labels, split for training/validation(/test); labels_cover
    auto is decided here from ``aoi`` (TrainConfig.cover_for)."""
    cover = config.cover_for(aoi, labels_path)
    config = config.replace(labels_cover=cover)
    with RasterSource(raster_path, config.bands or None) as raster:
        labels = LabelReader(
            labels_path,
            crs=raster.crs,
            transform=raster.transform,
            shape=(raster.height, raster.width),
            classes=config.classes,
            class_field=config.class_field,
            class_zero=config.class_zero,
            name_field=config.name_field,
            cover=cover,
            ring=config.ring,
        )
        try:
            if not labels.overlaps():
                raise InvalidInputError(
                    f"the labels in {Path(labels_path).name} do not overlap the raster {Path(raster_path).name}: "
                    "check that both cover the same area (labels in another CRS are reprojected)"
                )
            size = config.tile_size
            stride = max(1, round(size * (1 - config.overlap)))
            windows = tile_grid(raster.width, raster.height, size, stride)
            aoi_shapes = read_aoi(aoi, raster.crs)
            skipped: Counter[str] = Counter()
            kept: list[tuple[Window, np.ndarray, np.ndarray, np.ndarray]] = []
            for window in windows:
                rgb, valid = raster.read_rgb(window)
                if aoi_shapes is not None:
                    area = aoi_mask(aoi_shapes, raster.window_transform(window), (size, size))
                    if not area.any():
                        skipped["outside_aoi"] += 1
                        continue
                    valid &= area
                if 1 - valid.mean() > config.max_nodata:
                    skipped["nodata"] += 1
                    continue
                classes, instances = labels.read(window)
                classes = np.where(valid, classes, IGNORE).astype(np.uint8)
                if config.labels_cover == "partial" and (classes == IGNORE).all():
                    skipped["unlabelled"] += 1  # partial labels: nothing here is labelled, nothing to learn or score
                    continue
                instances = np.where(valid, instances, 0)
                kept.append((window, rgb, classes, instances))
            names = labels.class_names
        finally:
            labels.close()
    if len(kept) < 2 and config.labels_cover == "partial":
        raise InvalidInputError(
            f"the examples fall in only {len(kept)} tile(s) of {config.tile_size} px: training needs at least two "
            "(one to learn from, one to check on); label a few more objects spread over the raster, or use a smaller "
            "--tile-size"
        )
    if len(kept) < 2:
        raise InvalidInputError(
            f"only {len(kept)} usable tile(s) of {config.tile_size} px (skipped: {dict(skipped) or 'none'}): "
            "use a smaller --tile-size, a larger raster or AOI, or allow more nodata (--max-nodata)"
        )
    splits = _assign_splits([k[0] for k in kept], stride, config)
    held_out = [k[0] for k, s in zip(kept, splits, strict=True) if s != "train"]
    tiles = []
    for (window, rgb, classes, instances), split in zip(kept, splits, strict=True):
        if split == "train" and any(_overlaps(window, other) for other in held_out):
            skipped["touching_validation"] += 1
            continue
        tiles.append(Tile(window, split, rgb, classes, instances))
    result = TileSet(tiles, skipped, names)
    if not result.split("train") or not result.split("val"):
        raise InvalidInputError(
            f"cannot split {len(kept)} tiles into training and validation ({json.dumps(result.summary())}): "
            "use a smaller --tile-size or less --overlap"
        )
    return result
