"""Click-to-segment: prompts in map coordinates -> SAM 2 masks -> polygons in the raster's CRS.

Prompts are points (foreground 1 / background 0) and an optional box, in the raster's CRS or in a CRS
given with them. The window encoded is a shared grid tile when the prompts sit well inside one, else a
window centred on them; its embedding comes from the cache when it can.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from rasterio.crs import CRS
from rasterio.errors import CRSError
from rasterio.warp import transform as transform_coords
from rasterio.windows import Window
from torch.nn import functional

from core.errors import InvalidInputError
from core.geometry.polygons import PolygonOptions, mask_to_polygons
from core.inference.embeddings import EmbeddingCache, TileEncoder, TileFeatures, tile_key
from core.inference.fast_decoder import FastMaskDecoder
from core.io.raster import RasterSource
from core.io.tiling import tile_grid, window_for_prompts
from core.models.device import inference_precision
from core.models.loader import LoadedModel


def prompt_crs(text: str) -> CRS:
    """The prompts' CRS from an EPSG code (``EPSG:4326``), WKT or PROJ text; an unknown one says what to give."""
    try:
        return CRS.from_user_input(text)
    except CRSError:
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise InvalidInputError(
            f"unknown CRS {shown!r} for the prompts: give an EPSG code such as EPSG:32633, or WKT"
        ) from None


@dataclass(frozen=True)
class Prompts:
    """Points (x, y) with labels (1 foreground, 0 background) and an optional box (xmin, ymin, xmax, ymax),
    in ``crs`` (an EPSG code or WKT), or in the raster's CRS when ``crs`` is None."""

    points: tuple[tuple[float, float], ...] = ()
    labels: tuple[int, ...] = ()
    box: tuple[float, float, float, float] | None = None
    crs: str | None = None

    def __post_init__(self) -> None:
        if len(self.points) != len(self.labels):
            raise InvalidInputError(
                f"{len(self.points)} points but {len(self.labels)} labels: give one label per point"
            )
        if any(label not in (0, 1) for label in self.labels):
            raise InvalidInputError("point labels are 1 (foreground) or 0 (background)")
        if not self.points and self.box is None:
            raise InvalidInputError("no prompt: give at least one point or a box")
        if self.box is not None and not (self.box[0] < self.box[2] and self.box[1] < self.box[3]):
            raise InvalidInputError(f"box {self.box} is empty: give xmin < xmax and ymin < ymax")


@dataclass(frozen=True)
class ClickConfig:
    """How clicks are served. Grid tiles step ``stride`` of the input size; prompts closer than ``margin``
    (of the input size) to a tile's inner border get a window centred on them. ``multimask`` None asks for
    three masks for a lone point (ambiguous) and one otherwise, as SAM recommends."""

    stride: float = 0.75
    margin: float = 0.125
    multimask: bool | None = None
    threshold: float = 0.0
    polygons: PolygonOptions = field(default_factory=PolygonOptions)


@dataclass(frozen=True)
class Segmentation:
    """Result of one prompt set: polygons (GeoJSON-like, raster CRS), the predicted IoU of the chosen mask,
    the window used, and the chosen mask's low-resolution logits (h, w)."""

    polygons: list[dict]
    score: float
    window: Window
    mask_pixels: int
    low_res_logits: np.ndarray


@dataclass(frozen=True)
class DecodedPrompts:
    """The decoder's answer before it becomes polygons: the window, low-resolution logits (m, h, w) and the
    predicted IoU of each mask (m,)."""

    window: Window
    low_res: torch.Tensor
    iou: torch.Tensor


def upsample_mask(low_res: torch.Tensor, size: tuple[int, int], threshold: float) -> tuple[np.ndarray, int, int]:
    """``low_res`` logits (h, w) bilinearly upsampled to ``size`` and thresholded, computed only around the
    positive cells: returns (mask crop, row offset, col offset). Equal, pixel for pixel, to upsampling the
    whole array: a pixel can only exceed ``threshold`` next to a cell that does, and the crop keeps two
    cells of margin so that edge clamping touches only pixels that stay below it."""
    h, w = low_res.shape
    out_h, out_w = size
    positive = (low_res > threshold).nonzero()
    if positive.numel() == 0:
        return np.zeros((0, 0), dtype=bool), 0, 0
    if out_h % h or out_w % w:
        full = functional.interpolate(low_res[None, None], size, mode="bilinear", align_corners=False)[0, 0]
        return (full > threshold).cpu().numpy(), 0, 0
    fy, fx = out_h // h, out_w // w
    r0, c0 = (max(int(v) - 2, 0) for v in positive.min(dim=0).values)
    r1, c1 = (min(int(v) + 3, limit) for v, limit in zip(positive.max(dim=0).values, (h, w), strict=True))
    crop = low_res[r0:r1, c0:c1]
    up = functional.interpolate(
        crop[None, None], ((r1 - r0) * fy, (c1 - c0) * fx), mode="bilinear", align_corners=False
    )
    return (up[0, 0] > threshold).cpu().numpy(), r0 * fy, c0 * fx


def trim_to_content(mask: np.ndarray, row0: int, col0: int) -> tuple[np.ndarray, int, int]:
    """``mask`` cut to the bounding box of its True pixels plus a one-pixel False border (so that background
    touching the box stays connected to the outside and is never taken for a hole), offsets moved to match."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return mask[:0, :0], row0, col0
    box = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return np.pad(box, 1), row0 + int(rows[0]) - 1, col0 + int(cols[0]) - 1


class ClickSegmenter:
    """Serves prompt sets on one raster with one model, reusing encoded windows."""

    def __init__(
        self,
        loaded: LoadedModel,
        raster: RasterSource,
        cache: EmbeddingCache | None = None,
        config: ClickConfig = ClickConfig(),
    ) -> None:
        self.loaded, self.raster, self.config = loaded, raster, config
        self.encoder = TileEncoder(loaded, raster, cache or EmbeddingCache())
        self.decoder = FastMaskDecoder(loaded.model)

    # -- coordinates ---------------------------------------------------------------------------------

    def _pixels(self, xs: list[float], ys: list[float], crs: str | None) -> tuple[np.ndarray, np.ndarray]:
        """Map coordinates (in ``crs``, else the raster's) -> continuous pixel (cols, rows)."""
        if crs is not None and self.raster.crs is not None:
            xs, ys = transform_coords(prompt_crs(crs), self.raster.crs, xs, ys)
        cols, rows = ~self.raster.transform * (np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64))
        return np.asarray(cols), np.asarray(rows)

    def to_pixels(self, prompts: Prompts) -> tuple[np.ndarray, np.ndarray | None]:
        """Points (n, 2) and box (4,) in raster pixel coordinates (col, row), continuous: pixel i spans [i, i+1)."""
        xs = [p[0] for p in prompts.points]
        ys = [p[1] for p in prompts.points]
        if prompts.box is not None:
            xs += [prompts.box[0], prompts.box[2]]
            ys += [prompts.box[1], prompts.box[3]]
        cols, rows = self._pixels(xs, ys, prompts.crs)
        for col, row, x, y in zip(cols, rows, xs, ys, strict=True):
            if not (0 <= col <= self.raster.width and 0 <= row <= self.raster.height):
                raise InvalidInputError(
                    f"prompt at ({x:.3f}, {y:.3f}) is outside the raster {self.raster.path.name} "
                    f"({self.raster.width}x{self.raster.height} px): prompt on the raster, in its CRS or with "
                    "the prompts' CRS given"
                )
        pixels = np.stack([cols, rows], axis=1)
        n = len(prompts.points)
        box = None
        if prompts.box is not None:
            (c0, r0), (c1, r1) = pixels[n], pixels[n + 1]
            box = np.array([min(c0, c1), min(r0, r1), max(c0, c1), max(r0, r1)])
        return pixels[:n], box

    def windows_in_extent(self, extent: tuple[float, float, float, float], crs: str | None = None) -> list[Window]:
        """The grid windows that intersect ``extent`` (xmin, ymin, xmax, ymax), e.g. the visible map."""
        xmin, ymin, xmax, ymax = extent
        cols, rows = self._pixels([xmin, xmax, xmin, xmax], [ymin, ymin, ymax, ymax], crs)
        c0, c1 = max(cols.min(), 0), min(cols.max(), self.raster.width)
        r0, r1 = max(rows.min(), 0), min(rows.max(), self.raster.height)
        if c0 >= c1 or r0 >= r1:
            raise InvalidInputError(f"the extent {extent} does not overlap the raster {self.raster.path.name}")
        size = self.loaded.image_size
        stride = max(1, round(size * self.config.stride))
        return [
            w
            for w in tile_grid(self.raster.width, self.raster.height, size, stride)
            if w.col_off < c1 and w.col_off + size > c0 and w.row_off < r1 and w.row_off + size > r0
        ]

    def window_for(self, points: np.ndarray, box: np.ndarray | None) -> Window:
        size = self.loaded.image_size
        xs = [*points[:, 0], *([] if box is None else box[[0, 2]])]
        ys = [*points[:, 1], *([] if box is None else box[[1, 3]])]
        return window_for_prompts(
            xs,
            ys,
            self.raster.width,
            self.raster.height,
            size,
            max(1, round(size * self.config.stride)),
            round(size * self.config.margin),
        )

    # -- decoding ------------------------------------------------------------------------------------

    def decode(
        self,
        key: str,
        features: TileFeatures,
        points: np.ndarray,
        labels: np.ndarray,
        box: np.ndarray | None,
        multimask: bool,
        cancelled: Callable[[], bool] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Low-resolution logits (m, h, w) and predicted IoUs (m,) for prompts in window pixel indices
        (SAM's convention: integer i is pixel i, the model adds 0.5 itself). ``key`` names the tile;
        ``cancelled`` may stop the decode between its stages (CancelledError)."""
        device = self.loaded.device
        coords = torch.as_tensor(points, dtype=torch.float32, device=device).reshape(1, -1, 2)
        point_labels = torch.as_tensor(labels, dtype=torch.int32, device=device).reshape(1, -1)
        if box is not None:
            corners = torch.as_tensor(box, dtype=torch.float32, device=device).reshape(1, 2, 2)
            coords = torch.cat([corners, coords], dim=1)
            point_labels = torch.cat([torch.tensor([[2, 3]], dtype=torch.int32, device=device), point_labels], dim=1)
        with inference_precision(device):
            tile = self.decoder.prepare(key, features.image_embed, features.high_res)
            low_res, iou = self.decoder.decode(tile, coords, point_labels, multimask, cancelled)
        return low_res[0].float(), iou[0].float()

    def encoded_window(self, prompts: Prompts) -> tuple[Window, bool]:
        """The window a ``segment`` with ``prompts`` would use, and whether its embedding is cached already (a
        hover is answered only then: encoding takes seconds, a hover must not)."""
        points, box = self.to_pixels(prompts)
        window = self.window_for(points, box)
        return window, self.encoder.cache.get(tile_key(self.loaded, self.raster, window)) is not None

    def segment(self, prompts: Prompts, polygons: PolygonOptions | None = None) -> Segmentation:
        """Polygons for one prompt set; the best of the masks by predicted IoU."""
        return self.outline(self.decode_prompts(prompts), polygons)

    def decode_prompts(self, prompts: Prompts, cancelled: Callable[[], bool] | None = None) -> DecodedPrompts:
        """The model's masks for ``prompts`` (the encoder's features from the cache, or encoded now); ``cancelled``
        may stop the decode between its stages (CancelledError: a hover the mouse has left)."""
        points, box = self.to_pixels(prompts)
        window = self.window_for(points, box)
        features = self.encoder.features(window)
        key = tile_key(self.loaded, self.raster, window)
        offset = np.array([window.col_off, window.row_off], dtype=np.float64)
        local_points = points - offset - 0.5
        local_box = None if box is None else np.asarray(box - np.tile(offset, 2) - 0.5)
        multimask = self.config.multimask
        if multimask is None:
            multimask = len(prompts.points) == 1 and prompts.box is None
        labels = np.asarray(prompts.labels)
        low_res, iou = self.decode(key, features, local_points, labels, local_box, multimask, cancelled)
        return DecodedPrompts(window, low_res, iou)

    def outline(
        self,
        decoded: DecodedPrompts,
        polygons: PolygonOptions | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> Segmentation:
        """The best decoded mask as polygons (raster CRS): upsampled, cut to valid pixels, traced, cleaned
        (``cancelled`` may stop the tracing part way: CancelledError)."""
        window, low_res, iou = decoded.window, decoded.low_res, decoded.iou
        best = int(torch.argmax(iou))
        chosen = low_res[best]
        crop, row0, col0 = upsample_mask(chosen, (int(window.height), int(window.width)), self.config.threshold)
        if crop.size:
            crop &= self.raster.valid_mask(Window(window.col_off + col0, window.row_off + row0, *crop.shape[::-1]))
            crop, row0, col0 = trim_to_content(
                crop, row0, col0
            )  # polygonize only the rows and columns with mask pixels
        crop_window = Window(window.col_off + col0, window.row_off + row0, crop.shape[1], crop.shape[0])
        transform = self.raster.window_transform(crop_window)
        options = polygons or self.config.polygons
        shapes = mask_to_polygons(crop, transform, options, self.raster.crs, cancelled) if crop.any() else []
        return Segmentation(
            shapes, float(iou[best]), window, int(crop.sum()), torch.clamp(chosen, -32.0, 32.0).cpu().numpy()
        )
