"""Whole-raster prediction: overlapping windows, blended probabilities, streamed GeoTIFF output.

Windows of the model's input size step over the raster with an overlap; each window's probabilities are
weighted by a taper that falls towards its edges (a window is least reliable there), accumulated, and
divided by the summed weights, so where windows meet nothing but a smooth blend shows. Windows are
processed one grid row at a time and rows that no later window touches are written at once: memory
holds one band of window height, whatever the raster's height. The threshold is per pixel.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import rasterio
import torch
from rasterio.windows import Window

from core.errors import CancelledError, InvalidConfigError
from core.inference.background import ReadAhead, WriteBehind
from core.inference.predict_config import PredictConfig, PredictMode
from core.inference.stage_clock import StageClock
from core.inference.uncertainty import UNCERTAINTY_NODATA
from core.inference.uncertainty import uncertainty as uncertainty_of
from core.io.aoi import aoi_mask, read_aoi
from core.io.atomic import atomic_output
from core.io.output_paths import check_outputs
from core.io.raster import RasterSource, gdal_block_cache
from core.io.tiling import grid_origins
from core.models.classes import PALETTE, classes_of
from core.models.loader import LoadedModel

logger = logging.getLogger(__name__)

MASK_NODATA = 255
BLOCK = 256  # the outputs' block side (px)
PROBABILITY_NODATA = -1.0
READ_THREADS = min(4, os.cpu_count() or 1)  # helper threads reading windows ahead of the model


class WindowPredictor(Protocol):
    """Object probabilities (n, S, S) float32 in 0..1 for RGB uint8 tiles (n, S, S, 3), as a numpy array or a
    torch tensor (on the predictor's ``device``, if it has one: blending happens there); a multi-class predictor
    (``classes``: the K class ids) gives background's and each class's (n, K + 1, S, S)."""

    size: int
    classes: tuple[int, ...]

    def __call__(self, tiles: np.ndarray) -> np.ndarray | torch.Tensor: ...


def write_cache_megabytes(width: int, probability_bands: int) -> int:
    """GDAL's block cache for writing a prediction ``width`` px wide (MiB): two rows of blocks of the mask and
    the float32 probabilities, so a block is compressed once, when its row is done, and never read back; at
    least 32, at most 1024."""
    row_bytes = -(-width // BLOCK) * BLOCK * BLOCK * (1 + 4 * probability_bands)
    return min(1024, max(32, -(-2 * row_bytes // (1 << 20))))


def taper(size: int, overlap: int) -> np.ndarray:
    """Blending weights (size, size): 1 in the middle, falling linearly to a small value over ``overlap``
    pixels at each edge (never 0, so a pixel covered by one window only keeps its value)."""
    ramp = np.ones(size, dtype=np.float32)
    if overlap > 0:
        edge = (np.arange(overlap, dtype=np.float32) + 0.5) / overlap
        ramp[:overlap] = np.minimum(ramp[:overlap], edge)
        ramp[-overlap:] = np.minimum(ramp[-overlap:], edge[::-1])
    return np.maximum(np.outer(ramp, ramp), 1e-3)


@dataclass(frozen=True)
class PredictSummary:
    mask: Path
    probabilities: Path | None
    windows: int
    skipped_windows: int
    object_pixels: int
    seconds: float = 0.0  # wall time
    stage_seconds: dict[str, float] = field(default_factory=dict)  # per stage (StageClock's names)


def predict_raster(
    raster_path: Path,
    predictor: WindowPredictor,
    out_mask: Path,
    config: PredictConfig | None = None,
    probabilities: Path | None = None,
    aoi: Path | None = None,
    progress: Callable[..., None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    bands: tuple[int, ...] | None = None,
    clock: StageClock | None = None,
    uncertainty: Path | None = None,
) -> PredictSummary:
    """Predict the whole raster into ``out_mask`` (uint8: 1 object, 0 background, 255 nodata; the input's
    grid and CRS; tiled, compressed) and optionally the blended probabilities (float32, nodata -1); ``bands``:
    the raster's bands read as R, G, B (default 1, 2, 3). A multi-class predictor writes a class raster
    instead (each pixel the class id of the most probable class, 0 background) with a colour table, and one
    probability band per class. ``uncertainty``: also how unsure the model is per pixel (float32, 0 sure to 1,
    nodata -1; ``config.uncertainty_signal``, core/inference/uncertainty.py). ``clock`` collects the seconds per
    stage (one is made if not given).

    Windows are read ahead by helper threads and finished rows written behind by another, so the model works
    while the disk does."""
    config = config or PredictConfig()
    clock = clock or StageClock()
    check_outputs(
        {"out_mask": out_mask, "probabilities": probabilities, "uncertainty": uncertainty},
        {"raster": raster_path, "aoi": aoi},
    )
    size = predictor.size
    margin = round(size * config.overlap)
    stride = max(1, size - margin)
    weights = taper(size, margin // 2 if margin else 0)
    timed_inside = hasattr(predictor, "clock")
    if timed_inside:
        predictor.clock = clock  # type: ignore[attr-defined]  # it times its own stages
    with RasterSource(raster_path, bands) as raster:
        shapes = read_aoi(aoi, raster.crs)
        width, height = raster.width, raster.height
        profile = dict(
            driver="GTiff",
            width=width,
            height=height,
            crs=raster.crs,
            transform=raster.transform,
            tiled=True,
            blockxsize=BLOCK,
            blockysize=BLOCK,
            compress="deflate",
            BIGTIFF="IF_SAFER",
        )
        rows, cols = grid_origins(height, size, stride), grid_origins(width, size, stride)
        total, done, skipped, object_pixels = len(rows) * len(cols), 0, 0, 0
        logger.info("predicting %s (%d x %d px) in %d windows of %d px", raster_path, width, height, total, size)
        batches_per_row = -(-len(cols) // config.batch_size)
        plan = (
            [Window(col, row, size, size) for col in cols[start : start + config.batch_size]]
            for row in rows
            for start in range(0, len(cols), config.batch_size)
        )
        classes = tuple(getattr(predictor, "classes", ()))
        channels = len(classes) + 1 if classes else 1
        probability_bands = (len(classes) or 1) if probabilities is not None else 0
        with contextlib.ExitStack() as stack:
            # GDAL keeps written blocks in its cache (by default up to 5 % of RAM): sized to the rows being
            # written, so that memory stays flat however large the output grows.
            float_bands = probability_bands + (uncertainty is not None)
            stack.enter_context(gdal_block_cache(write_cache_megabytes(width, float_bands)))
            mask_tmp = stack.enter_context(atomic_output(out_mask))
            mask_out = stack.enter_context(
                rasterio.open(mask_tmp, "w", count=1, dtype="uint8", nodata=MASK_NODATA, **profile)
            )
            if classes:
                _describe_classes(mask_out, classes, getattr(predictor, "class_names", {}))
            prob_out = None
            if probabilities is not None:
                prob_tmp = stack.enter_context(atomic_output(probabilities))
                prob_out = stack.enter_context(
                    rasterio.open(
                        prob_tmp, "w", count=probability_bands, dtype="float32", nodata=PROBABILITY_NODATA,
                        predictor=3, **profile,
                    )
                )  # fmt: skip
            unsure_out = None
            if uncertainty is not None:
                unsure_tmp = stack.enter_context(atomic_output(uncertainty))
                unsure_out = stack.enter_context(
                    rasterio.open(
                        unsure_tmp, "w", count=1, dtype="float32", nodata=UNCERTAINTY_NODATA, predictor=3, **profile
                    )
                )
                unsure_out.update_tags(1, SIGNAL=config.uncertainty_signal)
            # entered last, left first: the reads stop and the writes finish before the files close
            writer = stack.enter_context(WriteBehind(clock=clock))
            reads = iter(stack.enter_context(ReadAhead(raster, plan, threads=READ_THREADS, clock=clock)))

            def write_rows(
                row: int, found: np.ndarray, covered: np.ndarray, prob: np.ndarray | None, unsure: np.ndarray | None
            ) -> int:
                """Write the final rows from ``row``: the decision (n, width) uint8, where windows covered them,
                the blended probabilities (C, n, width) and the uncertainty (n, width) if asked; returns the
                object pixels written."""
                window = Window(0, row, width, found.shape[0])
                keep = raster.valid_mask(window) & _window_area(shapes, raster, window) & covered
                mask = np.where(keep, found, MASK_NODATA).astype(np.uint8)
                mask_out.write(mask, 1, window=window)
                if prob_out is not None and prob is not None:
                    shown = prob[1:] if classes else prob
                    prob_out.write(np.where(keep, shown, PROBABILITY_NODATA).astype(np.float32), window=window)
                if unsure_out is not None and unsure is not None:
                    unsure_out.write(np.where(keep, unsure, UNCERTAINTY_NODATA).astype(np.float32), 1, window=window)
                return int(((mask > 0) & (mask != MASK_NODATA)).sum())

            # The band of windows lives where the model answers (a GPU blends and decides there, and only the
            # decisions cross to the host), one window high: rows above the next grid row are final.
            device = torch.device(getattr(predictor, "device", "cpu"))
            band_sum = torch.zeros((channels, size, width), dtype=torch.float32, device=device)
            band_weight = torch.zeros((size, width), dtype=torch.float32, device=device)
            # the windows' squared probabilities, for how much they disagree (only when uncertainty is asked)
            band_square = torch.zeros_like(band_sum) if unsure_out is not None else None
            taper_weights = torch.from_numpy(weights).to(device)
            class_values = torch.tensor([0, *classes], dtype=torch.uint8, device=device)  # class index -> value
            counted: list[Future[int]] = []
            for index, row in enumerate(rows):
                if cancelled and cancelled():
                    raise CancelledError("prediction cancelled; no output file was written")
                for _ in range(batches_per_row):
                    with clock.stage("wait for reads"):
                        chunk, chunk_reads = next(reads)
                    with clock.stage("AOI"):
                        areas = [_window_area(shapes, raster, w) for w in chunk]
                    keep = [i for i, (_, valid) in enumerate(chunk_reads) if (valid & areas[i]).any()]
                    skipped += len(chunk) - len(keep)
                    if keep:
                        tiles = np.stack([chunk_reads[i][0] for i in keep])
                        with contextlib.nullcontext() if timed_inside else clock.stage("model"):
                            probs = torch.as_tensor(predictor(tiles), device=device)
                        with clock.stage("blend"):
                            if probs.ndim == 3:  # one class: (n, S, S)
                                probs = probs[:, None]
                            for i, prob in zip(keep, probs, strict=True):
                                col = int(chunk[i].col_off)
                                w = min(size, width - col)
                                h = min(size, height - row)
                                band_sum[:, :h, col : col + w] += prob[:, :h, :w] * taper_weights[:h, :w]
                                if band_square is not None:
                                    band_square[:, :h, col : col + w] += prob[:, :h, :w] ** 2 * taper_weights[:h, :w]
                                band_weight[:h, col : col + w] += taper_weights[:h, :w]
                    done += len(chunk)
                    if progress:
                        progress(done / total, done=done, total=total)
                with clock.stage("blend"):
                    n = (rows[index + 1] if index + 1 < len(rows) else height) - row
                    covered = band_weight[:n] > 0
                    prob = band_sum[:, :n] / band_weight[:n].clamp_min(1e-12)
                    # multi-class: the most probable of background and the classes; else the threshold
                    found = class_values[prob.argmax(dim=0)] if classes else (prob[0] >= config.threshold)
                    unsure = None
                    if band_square is not None:
                        square = band_square[:, :n] / band_weight[:n].clamp_min(1e-12)
                        unsure = uncertainty_of(config.uncertainty_signal, prob, square).cpu().numpy()
                    decided = (
                        found.to(torch.uint8).cpu().numpy(),
                        covered.cpu().numpy(),
                        prob.cpu().numpy() if prob_out is not None else None,
                        unsure,
                    )
                    kept = size - n  # the rows the next grid row's windows overlap move to the top
                    for band in (band_sum, band_weight, band_square):
                        if band is not None:
                            band[..., :kept, :] = band[..., n:size, :].clone()
                            band[..., kept:, :] = 0
                with clock.stage("wait for writes"):
                    counted.append(writer.submit(functools.partial(write_rows, row, *decided)))
            with clock.stage("wait for writes"):
                writer.finish()
            object_pixels = sum(future.result() for future in counted)
    seconds = clock.wall()
    logger.info(
        "predicted %.1f Mpx in %.1f s (%.2f Mpx/s): %s",
        width * height / 1e6,
        seconds,
        width * height / 1e6 / max(seconds, 1e-9),
        ", ".join(f"{name} {share:.0%}" for name, share in clock.shares().items()),
    )
    return PredictSummary(out_mask, probabilities, total, skipped, object_pixels, seconds, dict(clock.seconds))


def _describe_classes(dataset: rasterio.io.DatasetWriter, classes: tuple[int, ...], names: dict[int, str]) -> None:
    """A class raster's colour table (background transparent) and its classes' names (the ``CLASS_NAMES`` tag:
    a JSON object of id -> name, which the plugin shows as the legend)."""
    colours = {0: (0, 0, 0, 0), MASK_NODATA: (0, 0, 0, 0)}
    for index, class_id in enumerate(classes):
        colours[class_id] = (*PALETTE[index % len(PALETTE)], 255)
    dataset.write_colormap(1, colours)
    dataset.update_tags(1, CLASS_NAMES=json.dumps({str(c): names.get(c, f"class {c}") for c in classes}))


def _window_area(shapes: list[dict] | None, raster: RasterSource, window: Window) -> np.ndarray:
    """Where the AOI covers ``window`` (all True without an AOI)."""
    return aoi_mask(shapes, raster.window_transform(window), (int(window.height), int(window.width)))


def prediction_mode(loaded: LoadedModel, requested: str | None = None) -> tuple[PredictMode, str | None]:
    """The whole-raster mode for ``loaded`` and a warning (or None): ``requested`` if given, else the mode its
    checkpoint was tuned for: ``auto`` (promptless) for a model tuned for whole-raster prediction, ``grid`` (a
    grid of clicks per window) for one tuned for clicking and for base models."""
    tuned_for = loaded.metadata.get("mode")
    natural: PredictMode = "auto" if tuned_for == "auto" else "grid"
    if requested is None:
        return natural, None
    if requested not in ("auto", "grid"):
        raise InvalidConfigError(f"prediction mode must be auto or grid, not {requested!r}")
    warning = None
    if requested == "auto" and tuned_for != "auto":
        what = f"tuned for {tuned_for}" if tuned_for else "a base model"
        warning = (
            f"{loaded.checkpoint.name} was not tuned for promptless prediction ({what}): its masks will be poor; "
            "predict with --mode grid, or fine-tune it for whole-raster prediction (train --mode auto)"
        )
    return requested, warning  # type: ignore[return-value]


class SamAutoPredictor:
    """Promptless SAM 2 probabilities (the ``auto`` mode a model was fine-tuned in), batched."""

    def __init__(
        self, loaded: LoadedModel, mode: str = "auto", grid_points: int = 8, min_grid_iou: float = 0.7
    ) -> None:
        self.loaded, self.mode = loaded, mode
        self.size = loaded.image_size
        self.device = loaded.device  # probabilities stay here: predict_raster blends on it
        self.grid_points, self.min_grid_iou = grid_points, min_grid_iou
        found = classes_of(loaded.metadata, loaded.checkpoint.name) if mode == "auto" else None
        self.classes: tuple[int, ...] = found.ids if found else ()
        self.class_names: dict[int, str] = found.name_of() if found else {}
        self._tokens = torch.tensor(found.tokens, dtype=torch.float32) if found else None
        self.clock: StageClock | None = None  # predict_raster's, to time normalise, encode and decode

    def __call__(self, tiles: np.ndarray) -> torch.Tensor:
        from torch.nn import functional

        from core.inference.decode import class_probabilities, decode, decode_classes, no_prompt
        from core.inference.embeddings import encode_batch
        from core.inference.preprocess import to_model_input
        from core.models.device import inference_precision

        model, device, clock = self.loaded.model, self.loaded.device, self.clock or StageClock()
        with clock.stage("normalise"):
            batch = to_model_input(tiles, device)  # uint8 crosses to the device, floats are made there
        with clock.stage("encode"):
            embed, high_res = encode_batch(self.loaded, batch)
        with clock.stage("decode"), torch.inference_mode(), inference_precision(device):
            if self._tokens is not None:  # multi-class: background's and each class's probability
                logits = decode_classes(model, self._tokens.to(device), embed, high_res)
                up = functional.interpolate(
                    logits.float(), (self.size, self.size), mode="bilinear", align_corners=False
                )
                return class_probabilities(up).float()
            if self.mode == "auto":
                coords, labels = no_prompt(len(tiles), device)
                logits, _, _ = decode(model, embed, high_res, coords, labels, multimask=False)
                logits = logits[:, 0]
            else:
                logits = self._grid(embed, high_res)
            up = functional.interpolate(
                logits[:, None].float(), (self.size, self.size), mode="bilinear", align_corners=False
            )[:, 0]
            return torch.sigmoid(up).float()

    def _grid(self, embed: torch.Tensor, high_res: list[torch.Tensor]) -> torch.Tensor:
        """Max over the confident masks of a grid of single clicks (segment-everything style)."""
        from core.inference.decode import decode

        n, k = embed.shape[0], self.grid_points
        step = self.size / k
        centres = (torch.arange(k, dtype=torch.float32) + 0.5) * step - 0.5
        points = torch.stack(torch.meshgrid(centres, centres, indexing="xy"), dim=-1).reshape(-1, 1, 2)
        out = []
        for i in range(n):
            count = points.shape[0]
            logits, iou, _ = decode(
                self.loaded.model,
                embed[i : i + 1].expand(count, -1, -1, -1),
                [h[i : i + 1].expand(count, -1, -1, -1) for h in high_res],
                points.to(embed.device),
                torch.ones(count, 1, dtype=torch.int32, device=embed.device),
                multimask=True,
            )
            best = iou.argmax(dim=1)
            chosen = logits[torch.arange(count), best]
            confident = iou[torch.arange(count), best] >= self.min_grid_iou
            merged = chosen[confident].amax(dim=0) if confident.any() else torch.full_like(chosen[0], -20.0)
            out.append(merged)
        return torch.stack(out)
