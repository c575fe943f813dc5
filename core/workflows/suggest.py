"""Where to label next: the places where the model is least sure, best first, at least a minimum distance apart,
away from what is already labelled, on valid pixels only.

From an uncertainty raster (``predict --uncertainty``: 0 sure to 1, nodata -1), averaged over cells of CELL px
(a cell with any nodata pixel is left out) and read a strip of cells at a time (memory holds the cell grid:
1/CELL² of the raster). A place's score is the mean uncertainty over a spot of SPOT_CELLS x SPOT_CELLS cells
around it (what an analyst labels in one look). Places are taken best first; each rules out the cells within
``min_distance`` of it.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from rasterio.features import rasterize
from rasterio.windows import Window
from scipy import ndimage
from shapely import STRtree
from shapely.geometry import Point, shape

from core.errors import InvalidInputError
from core.inference.predict_config import PredictConfig
from core.inference.uncertainty import UNCERTAINTY_NODATA
from core.io.aoi import read_aoi, write_rectangle
from core.io.output_paths import check_outputs
from core.io.vectors import PointFeature, write_points

CELL = 16  # px: the grid the uncertainty is averaged on
SPOT_CELLS = 5  # a place: 5 x 5 cells (80 px, 40 m at 50 cm)
MIN_VALID = 1.0  # a cell counts when all its pixels are valid: a place never lies on nodata
DEFAULT_DISTANCE_PX = 256  # the minimum distance between places when none is given
DEFAULT_CLEAR_PX = 2 * CELL  # kept clear around labels when nothing is said
MIN_SCORE = 0.02  # a place where the model is surer than this is no place to label
SUGGESTION_FIELDS = {"rank": int, "score": float, "reason": str, "to_labels": float}

SIGNAL_WORDS = {
    "entropy": "the model cannot tell object from background here",
    "disagreement": "the model's overlapping views disagree here",
}


@dataclass(frozen=True)
class SuggestConfig:
    """``count`` places at most; ``min_distance`` between them and ``keep_clear`` around labelled objects and
    background examples, in the raster's ground units (None: DEFAULT_DISTANCE_PX and DEFAULT_CLEAR_PX pixels)."""

    count: int = 10
    min_distance: float | None = None
    keep_clear: float | None = None

    def __post_init__(self) -> None:
        if self.count < 1:
            raise InvalidInputError(f"count {self.count}: ask for at least one place")
        for name in ("min_distance", "keep_clear"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidInputError(f"{name} {value} must not be negative")


@dataclass(frozen=True)
class Suggestion:
    """One place to label: ``x``, ``y`` in the raster's CRS; ``score`` its spot's mean uncertainty (0..1)."""

    rank: int
    x: float
    y: float
    score: float
    reason: str
    to_labels: float | None  # ground distance to the nearest label (None: no labels)


@dataclass(frozen=True)
class CellGrid:
    """The uncertainty averaged per cell (rows, cols; NaN where a cell has nodata pixels) and the grid's
    transform (a cell's top left corner), CRS and the raster's signal."""

    means: np.ndarray
    transform: Affine
    crs: Any
    signal: str
    pixel_size: float


def cell_means(uncertainty: Path, cell: int = CELL) -> CellGrid:
    """Average ``uncertainty`` over ``cell`` x ``cell`` px cells, a strip of cells at a time."""
    if not Path(uncertainty).exists():
        raise InvalidInputError(f"uncertainty raster not found: {uncertainty} (write one with predict --uncertainty)")
    with rasterio.open(uncertainty) as src:
        if src.count != 1 or not src.dtypes[0].startswith("float"):
            raise InvalidInputError(
                f"{Path(uncertainty).name} is not an uncertainty raster (one float band, 0 to 1): write one with "
                "predict --uncertainty"
            )
        rows, cols = -(-src.height // cell), -(-src.width // cell)
        means = np.full((rows, cols), np.nan, dtype=np.float32)
        for row in range(rows):
            window = Window(0, row * cell, src.width, min(cell, src.height - row * cell))
            values = src.read(1, window=window, boundless=False).astype(np.float32)
            valid = (values != UNCERTAINTY_NODATA) & np.isfinite(values)
            padded_cols = cols * cell - src.width
            if padded_cols:
                values = np.pad(values, ((0, 0), (0, padded_cols)))
                valid = np.pad(valid, ((0, 0), (0, padded_cols)))
            total = np.where(valid, values, 0).reshape(values.shape[0], cols, cell).sum(axis=(0, 2))
            count = valid.reshape(values.shape[0], cols, cell).sum(axis=(0, 2))
            enough = count >= MIN_VALID * cell * values.shape[0]
            means[row, enough] = total[enough] / count[enough]
        transform = src.transform * Affine.scale(cell)
        signal = src.tags(1).get("SIGNAL", "entropy")
        return CellGrid(means, transform, src.crs, signal, abs(src.transform.a))


def suggest_places(
    uncertainty: Path,
    config: SuggestConfig = SuggestConfig(),
    labels: list[dict] | None = None,
    area: list[dict] | None = None,
) -> list[Suggestion]:
    """The ``config.count`` best places (fewer when the raster has no more room), best first. ``labels`` and
    ``area``: GeoJSON-like geometries in the raster's CRS (what is labelled, where to look; None: nothing,
    everywhere)."""
    grid = cell_means(uncertainty)
    cell_size = grid.pixel_size * CELL
    min_distance = config.min_distance if config.min_distance is not None else DEFAULT_DISTANCE_PX * grid.pixel_size
    keep_clear = config.keep_clear if config.keep_clear is not None else DEFAULT_CLEAR_PX * grid.pixel_size
    shape_ = grid.means.shape
    usable = np.isfinite(grid.means)
    if area is not None:
        usable &= rasterize(area, out_shape=shape_, transform=grid.transform, fill=0, dtype="uint8") == 1
    geometries = [shape(g) for g in labels or []]
    if geometries:
        labelled = rasterize(
            [g.__geo_interface__ for g in geometries], out_shape=shape_, transform=grid.transform, fill=0,
            dtype="uint8", all_touched=True,
        ) == 1  # fmt: skip
        near = ndimage.distance_transform_edt(~labelled) * cell_size <= keep_clear if labelled.any() else labelled
        usable &= ~near
    values = np.where(np.isfinite(grid.means), grid.means, 0).astype(np.float64)
    counts = np.isfinite(grid.means).astype(np.float64)
    spot_sum = ndimage.uniform_filter(values, SPOT_CELLS, mode="constant")
    spot_count = ndimage.uniform_filter(counts, SPOT_CELLS, mode="constant")
    scores = np.where(usable & (spot_count > 0), spot_sum / np.maximum(spot_count, 1e-12), -np.inf)
    radius = min_distance / cell_size
    rows, cols = np.indices(shape_)
    tree = STRtree(geometries) if geometries else None
    found: list[Suggestion] = []
    while len(found) < config.count:
        best = int(np.argmax(scores))
        row, col = divmod(best, shape_[1])
        if not np.isfinite(scores[row, col]) or scores[row, col] < MIN_SCORE:
            break  # nothing left, or the model is sure everywhere else
        x, y = grid.transform * (col + 0.5, row + 0.5)
        distance = None
        if tree is not None:
            point = Point(x, y)
            distance = float(point.distance(geometries[int(tree.nearest(point))]))
        score = float(scores[row, col])
        said = reason(grid.signal, score, distance, ground_unit(grid.crs))
        found.append(Suggestion(len(found) + 1, x, y, score, said, distance))
        scores[(rows - row) ** 2 + (cols - col) ** 2 < max(radius, 1.0) ** 2] = -np.inf
    return found


def reason(signal: str, score: float, to_labels: float | None, unit: str = "m") -> str:
    """Why a place is worth labelling, in the analyst's words."""
    said = f"{SIGNAL_WORDS.get(signal, 'the model is unsure here')} (uncertainty {score:.2f})"
    if to_labels is not None:
        said += f"; {to_labels:.0f} {unit} from your nearest label"
    return said


def ground_unit(crs: Any) -> str:
    """What the raster's CRS measures distances in, for the reasons: "m", or "map units"."""
    units = (getattr(crs, "linear_units", "") or "").lower() if crs is not None and crs.is_projected else ""
    return "m" if units in ("metre", "meter", "m") else "map units"


def write_suggestions(path: Path, suggestions: list[Suggestion], crs_wkt: str) -> Path:
    """The places as points (layer ``suggestions``: rank, score, reason, to_labels in ground units), best first."""
    points = [
        PointFeature(
            s.x, s.y, {"rank": s.rank, "score": round(s.score, 4), "reason": s.reason, "to_labels": s.to_labels}
        )
        for s in suggestions
    ]
    return write_points(path, points, crs_wkt, "suggestions", SUGGESTION_FIELDS)


@dataclass(frozen=True)
class SuggestInputs:
    """What ``suggest`` reads: an ``uncertainty`` raster, or the ``raster`` and a ``checkpoint`` to predict one
    with; the ``labels`` to keep clear of (any class, background included); where to look: ``extent`` (xmin,
    ymin, xmax, ymax in the raster's CRS) or ``area`` (polygons), neither: everywhere."""

    uncertainty: Path
    raster: Path | None = None
    checkpoint: Path | None = None
    labels: Path | None = None
    class_field: str | None = None
    extent: tuple[float, float, float, float] | None = None
    area: Path | None = None
    bands: tuple[int, ...] | None = None
    mode: str | None = None  # how to predict with the checkpoint (None: as it was tuned; it must be "auto")


def suggest(
    inputs: SuggestInputs,
    out: Path,
    config: SuggestConfig = SuggestConfig(),
    device: str = "auto",
    progress: Callable[..., None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Write ``out`` (the suggestions, a GeoPackage) from ``inputs.uncertainty``; with a checkpoint, predict that
    raster first (where to look only). Returns the summary: paths, the signal, the places."""
    from core.io.labels import read_vector_labels

    if inputs.extent and inputs.area:
        raise InvalidInputError("give an extent or an area to look in, not both")
    predicting = inputs.checkpoint is not None
    if predicting and inputs.raster is None:
        raise InvalidInputError("to predict the uncertainty, give the raster with the checkpoint")
    raster, checkpoint = inputs.raster, inputs.checkpoint
    if not predicting and not inputs.uncertainty.exists():
        raise InvalidInputError(
            f"uncertainty raster not found: {inputs.uncertainty}; give a checkpoint (and the raster) to predict it"
        )
    check_outputs(
        {"--out": out, "--uncertainty": inputs.uncertainty if predicting else None},
        {"--raster": inputs.raster, "--checkpoint": inputs.checkpoint, "--labels": inputs.labels, "--area": inputs.area,
         "--uncertainty": None if predicting else inputs.uncertainty},
    )  # fmt: skip
    grid_source = inputs.raster if predicting else inputs.uncertainty
    with rasterio.open(grid_source) as src:
        crs, bounds = src.crs, src.bounds
    if inputs.extent is not None:
        xmin, ymin, xmax, ymax = inputs.extent
        if xmin >= bounds.right or xmax <= bounds.left or ymin >= bounds.top or ymax <= bounds.bottom:
            raise InvalidInputError(
                f"the area to look in ({', '.join(f'{v:.1f}' for v in inputs.extent)}) does not overlap the raster: "
                "pan the map onto it, or look everywhere"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=".sam2-suggest-", dir=out.parent)))
        area_file = inputs.area
        if inputs.extent is not None:
            area_file = write_rectangle(scratch / "extent.gpkg", inputs.extent, crs.to_wkt() if crs else "")
        if checkpoint is not None:
            assert raster is not None  # checked above
            _predict_uncertainty(raster, checkpoint, inputs, area_file, scratch, device, progress, cancelled)
        area = read_aoi(area_file, crs)
        labels = (
            [p.geometry for p in read_vector_labels(inputs.labels, crs, inputs.class_field)] if inputs.labels else None
        )
        places = suggest_places(inputs.uncertainty, config, labels, area)
    write_suggestions(out, places, crs.to_wkt() if crs else "")
    signal = _signal_of(inputs.uncertainty)
    return {
        "suggestions": str(out),
        "count": len(places),
        "uncertainty": str(inputs.uncertainty),
        "signal": signal,
        "places": [
            {"rank": p.rank, "x": round(p.x, 2), "y": round(p.y, 2), "score": round(p.score, 4), "reason": p.reason}
            for p in places
        ],
    }


def _signal_of(uncertainty: Path) -> str:
    with rasterio.open(uncertainty) as src:
        return src.tags(1).get("SIGNAL", "entropy")


def _predict_uncertainty(
    raster: Path,
    checkpoint: Path,
    inputs: SuggestInputs,
    area: Path | None,
    scratch: Path,
    device: str,
    progress: Callable[..., None] | None,
    cancelled: Callable[[], bool] | None,
) -> None:
    """``inputs.uncertainty`` predicted with the checkpoint, promptless (the mask is scratch). A model not tuned
    for that (a base model, or one tuned for clicking) is refused unless ``inputs.mode`` forces it."""
    from core.inference.predict import predict_raster
    from core.workflows.prediction import load_predictor

    ready = load_predictor(checkpoint, inputs.mode, device=device)
    mode = ready.mode
    if mode != "auto":
        raise InvalidInputError(
            f"{checkpoint.name} is not tuned for whole-raster prediction (a base model, or one tuned for clicking): "
            "its uncertainty does not know what you label; tune it on your labels first (Find the rest, or "
            "fine-tune for the whole raster), or measure it anyway with --mode auto"
        )

    def predicting(fraction: float, **info: Any) -> None:
        if progress:
            progress(fraction, stage="predicting the uncertainty", **info)

    predict_raster(
        raster, ready.predictor, scratch / "mask.tif", PredictConfig(mode=mode), aoi=area, progress=predicting,
        cancelled=cancelled, bands=inputs.bands, uncertainty=inputs.uncertainty,
    )  # fmt: skip
