"""Last year's outlines as prompts in this year's image (following objects across years, method ``prompt``).

Each object is prompted with its box, grown by a misregistration allowance, and its outline as SAM's mask
input (low-resolution logits); the objects of one encoded window are decoded in one batch. SAM 2's object
score says whether the object is still there (below 0: gone, as SAM 2's video predictor decides); its mask,
largest part, is this year's outline. Outlines are shapely polygons in the raster's CRS, (x, y) order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from affine import Affine
from rasterio.features import rasterize
from rasterio.windows import Window
from shapely import affinity
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from core.geometry.polygons import PolygonOptions
from core.inference.decode import decode_prompted
from core.inference.segment import ClickSegmenter, DecodedPrompts
from core.models.device import inference_precision


@dataclass(frozen=True)
class PromptCarry:
    """``margin_px``: the box grown on each side (misregistration and a little growth); ``mask_logit``: the
    mask prompt's logits, +inside and -outside the outline; ``min_object_score``: below it, the object is gone."""

    margin_px: float = 4.0
    mask_logit: float = 8.0
    min_object_score: float = 0.0


@dataclass(frozen=True)
class Carried:
    """An object's outline this year (None: gone), SAM's predicted IoU and object score for it."""

    geometry: BaseGeometry | None
    score: float
    object_score: float


def _box_pixels(outline: BaseGeometry, transform: Affine, margin: float) -> np.ndarray:
    """(col0, row0, col1, row1) continuous raster pixels of ``outline``'s bounds, grown by ``margin``."""
    left, bottom, right, top = outline.bounds
    cols, rows = ~transform * (np.array([left, right]), np.array([top, bottom]))
    return np.array([min(cols) - margin, min(rows) - margin, max(cols) + margin, max(rows) + margin])


def _mask_prompt(outline: BaseGeometry, window_transform: Affine, size: int, cells: int, logit: float) -> np.ndarray:
    """``outline`` burnt into the window's low-resolution grid (cells, cells) as logits +``logit`` / -``logit``."""
    transform = window_transform * Affine.scale(size / cells)
    inside = rasterize([outline], out_shape=(cells, cells), transform=transform, fill=0, default_value=1)
    return np.where(inside > 0, logit, -logit).astype(np.float32)


def carry_by_prompts(
    segmenter: ClickSegmenter,
    outlines: Mapping[int, BaseGeometry],
    shift: tuple[float, float] = (0.0, 0.0),
    config: PromptCarry = PromptCarry(),
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, Carried]:
    """Each of last year's ``outlines`` (by object id, raster CRS) found in ``segmenter``'s raster: prompts moved
    by ``shift`` (dx, dy in CRS units, this year's misregistration against last year's). Returns one Carried per
    id; ``progress(done, total)`` after each window."""
    loaded, raster = segmenter.loaded, segmenter.raster
    size = loaded.image_size
    cells = loaded.feature_sizes[0][0]
    by_window: dict[tuple[int, int], list[tuple[int, BaseGeometry, np.ndarray]]] = defaultdict(list)
    windows: dict[tuple[int, int], Window] = {}
    for object_id, outline in outlines.items():
        moved = affinity.translate(outline, *shift)
        box = _box_pixels(moved, raster.transform, config.margin_px)
        box = np.clip(box, 0, [raster.width, raster.height, raster.width, raster.height])
        window = segmenter.window_for(np.zeros((0, 2)), box)
        key = (int(window.col_off), int(window.row_off))
        windows[key] = window
        by_window[key].append((object_id, moved, box))
    result: dict[int, Carried] = {}
    polygon_options = PolygonOptions(largest_part=True)
    for done, (key, objects) in enumerate(by_window.items(), 1):
        window = windows[key]
        features = segmenter.encoder.features(window)
        offset = np.array([window.col_off, window.row_off] * 2, dtype=np.float64)
        window_transform = raster.window_transform(window)
        boxes = np.stack([np.clip(box - offset, 0, size) - 0.5 for _, _, box in objects])
        masks = np.stack([_mask_prompt(g, window_transform, size, cells, config.mask_logit) for _, g, _ in objects])
        device = loaded.device
        with torch.inference_mode(), inference_precision(device):
            logits, iou, object_score = decode_prompted(
                loaded.model,
                features.image_embed[None].to(device),
                [level[None].to(device) for level in features.high_res],
                torch.as_tensor(boxes, dtype=torch.float32, device=device),
                torch.as_tensor(masks[:, None], device=device),
            )
        for index, (object_id, _, _) in enumerate(objects):
            present = float(object_score[index]) >= config.min_object_score
            geometry = None
            if present:
                decoded = DecodedPrompts(window, logits[index : index + 1].float(), iou[index : index + 1].float())
                parts = segmenter.outline(decoded, polygon_options).polygons
                geometry = shape(parts[0]) if parts else None
            result[object_id] = Carried(geometry, float(iou[index]), float(object_score[index]))
        if progress:
            progress(done, len(by_window))
    return result


__all__ = ["Carried", "PromptCarry", "carry_by_prompts"]
