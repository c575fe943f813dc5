"""SAM 2's memory across years (following objects across years, method ``memory``): the years of one window are
the frames of a video, the first year's outlines its masks on frame 0, and SAM 2's video predictor carries
each object through the later frames.

Each object goes to the window that holds it best (the grid window clicks use, else one centred on it); the
windows with objects become videos of ``image_size`` px frames. SAM 2 lists a video's frames by their
``.jpg`` names and reads them with PIL, which reads a file by its content: the frames are written as PNG,
so the model sees the orthophoto's pixels exactly. Outlines are shapely polygons in the rasters' CRS (every
year on one grid), (x, y) order.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from rasterio.features import rasterize
from rasterio.windows import Window
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from core.errors import InvalidInputError
from core.geometry.polygons import PolygonOptions, mask_to_polygons
from core.inference.segment import ClickConfig
from core.io.raster import RasterSource
from core.io.tiling import window_for_prompts
from core.models.loader import VIDEO_PREDICTOR, LoadedModel

WINDOWS = ClickConfig()  # the grid windows clicks use (stride, margin): an object near a border gets its own


def object_windows(outlines: Mapping[int, BaseGeometry], raster: RasterSource, size: int) -> dict[Window, list[int]]:
    """The windows (``size`` px) to follow ``outlines`` in, with the ids of the objects each holds."""
    groups: dict[Window, list[int]] = defaultdict(list)
    for object_id, outline in outlines.items():
        left, bottom, right, top = outline.bounds
        cols, rows = ~raster.transform * (np.array([left, right]), np.array([top, bottom]))
        window = window_for_prompts(
            list(cols),
            list(rows),
            raster.width,
            raster.height,
            size,
            round(size * WINDOWS.stride),
            round(size * WINDOWS.margin),
        )
        groups[window].append(object_id)
    return dict(groups)


def write_frames(years: Sequence[RasterSource], window: Window, folder: Path) -> None:
    """``window`` of each year as frame ``<index>.jpg`` (PNG content, lossless) in ``folder``."""
    for index, year in enumerate(years):
        rgb, _ = year.read_rgb(window)
        Image.fromarray(rgb).save(folder / f"{index}.jpg", format="PNG")


@contextlib.contextmanager
def quiet_progress_bars() -> Iterator[None]:
    """SAM 2's video predictor draws tqdm bars on ``sys.stderr``, where the engine's events and log go: they are
    sent nowhere while it runs (the log's handlers keep the stream they were given, so they still print)."""
    with open(os.devnull, "w") as nowhere, contextlib.redirect_stderr(nowhere):
        yield


def carry_by_memory(
    loaded: LoadedModel,
    years: Sequence[RasterSource],
    outlines: Mapping[int, BaseGeometry],
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[int, BaseGeometry | None]]:
    """The first year's ``outlines`` (object id -> polygon) followed through ``years`` (the rasters on one grid,
    oldest first) by SAM 2's memory: for each year, object id -> its outline that year (None: SAM 2 found no
    object; the first year's are the given masks as SAM 2 holds them, on the grid). ``loaded`` must be the video
    predictor (``load_model(..., video=True)``)."""
    predictor = loaded.model
    if type(predictor).__module__ + "." + type(predictor).__name__ != VIDEO_PREDICTOR:
        raise InvalidInputError("following by memory needs SAM 2's video predictor: load the model with video=True")
    first = years[0]
    for year in years[1:]:
        if (year.width, year.height, year.transform) != (first.width, first.height, first.transform):
            raise InvalidInputError(f"{year.path.name} is not on the first year's grid: align the years first")
    size = loaded.image_size
    found: list[dict[int, BaseGeometry | None]] = [{} for _ in years]
    windows = object_windows(outlines, first, size)
    options = PolygonOptions(largest_part=True)
    for done, (window, ids) in enumerate(windows.items(), 1):
        transform = first.window_transform(window)
        with tempfile.TemporaryDirectory(prefix="sam2-years-") as folder:
            write_frames(years, window, Path(folder))
            with torch.inference_mode(), quiet_progress_bars():
                state = predictor.init_state(folder, offload_video_to_cpu=True, offload_state_to_cpu=True)
        for object_id in ids:
            mask = rasterize([outlines[object_id]], out_shape=(size, size), transform=transform, fill=0) > 0
            if not mask.any():  # smaller than a pixel of the grid
                mask = rasterize([outlines[object_id].centroid.buffer(first.transform.a)], (size, size),
                                 transform=transform, fill=0, all_touched=True) > 0  # fmt: skip
            with torch.inference_mode():
                predictor.add_new_mask(state, frame_idx=0, obj_id=object_id, mask=mask)
        with torch.inference_mode(), quiet_progress_bars():
            for frame, object_ids, logits in predictor.propagate_in_video(state):
                valid = years[frame].valid_mask(window)
                for index, object_id in enumerate(object_ids):
                    pixels = (logits[index, 0] > 0).cpu().numpy() & valid
                    parts = mask_to_polygons(pixels, transform, options, first.crs) if pixels.any() else []
                    found[frame][object_id] = shape(parts[0]) if parts else None
        if progress:
            progress(done, len(windows))
    return found


__all__ = ["carry_by_memory", "object_windows", "write_frames"]
