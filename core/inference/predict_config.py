"""Whole-raster prediction's options (no torch here: the command line builds its flags from them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from core.errors import InvalidConfigError

PredictMode = Literal["auto", "grid"]
UncertaintySignal = Literal["entropy", "disagreement"]  # core/inference/uncertainty.py


@dataclass(frozen=True)
class PredictConfig:
    """``threshold`` on the blended probability; ``overlap`` between windows (fraction); ``batch_size``
    windows per model call; ``mode``: ``auto`` (promptless, as trained by ``train --mode auto``) or
    ``grid`` (a grid of ``grid_points`` x ``grid_points`` clicks per window, masks merged: base models);
    ``uncertainty_signal``: what an uncertainty raster measures (core/inference/uncertainty.py)."""

    mode: PredictMode = "auto"
    threshold: float = 0.5
    overlap: float = 0.25
    batch_size: int = 4
    grid_points: int = 8
    min_grid_iou: float = 0.7
    uncertainty_signal: UncertaintySignal = "entropy"

    def __post_init__(self) -> None:
        if not 0 < self.threshold < 1:
            raise InvalidConfigError(f"threshold {self.threshold} must be a probability between 0 and 1")
        if not 0 <= self.overlap < 0.9:
            raise InvalidConfigError(f"overlap {self.overlap} must be in [0, 0.9)")
        if self.batch_size < 1 or self.grid_points < 1:
            raise InvalidConfigError("batch_size and grid_points must be at least 1")


#: What each option means, in the analyst's words (command-line help, panel and Processing tooltips).
HELP: dict[str, str] = {
    "mode": "auto: promptless masks (for a model tuned for whole-raster prediction); grid: a grid of clicks per "
    "window, masks merged (for a model tuned for clicking, or a base model)",
    "threshold": "probability above which a pixel is an object",
    "overlap": "overlap between prediction windows (fraction; blended, so no seams)",
    "batch_size": "windows per model call (lower it when the GPU runs out of memory)",
    "grid_points": "grid mode: clicks per window side",
    "min_grid_iou": "grid mode: keep a click's mask only if its predicted IoU is at least this",
    "uncertainty_signal": "--uncertainty: entropy (of the blended probability: 1 where an object is as likely as "
    "not) or disagreement (between overlapping windows)",
}


def describe() -> dict[str, dict[str, Any]]:
    """Every option of PredictConfig: ``{name: {"default", "choices", "help"}}``, JSON-ready."""
    from core.options import describe_options

    return describe_options(PredictConfig, HELP)
