"""A training run's time budget: whole epochs while the next one fits, and a clear refusal when not even one does.

Wall seconds (time.monotonic) from when the trainer starts (the model loaded, the tiles read). The first epoch
also encodes each tile once, so it is the slowest: the epochs after it are judged by the last one's duration.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from core.errors import InvalidInputError


@dataclass
class TimeBudget:
    """``seconds`` of training (0: no limit); ``began``: time.monotonic() at the start."""

    seconds: float
    began: float = field(default_factory=lambda: time.monotonic())
    stopped: bool = False  # the run ended because the next epoch would not have fitted

    @property
    def limited(self) -> bool:
        return self.seconds > 0

    def elapsed(self) -> float:
        return time.monotonic() - self.began

    def check_first_epoch(self, steps_done: int, steps_in_epoch: int, epoch_began: float, validation: float) -> None:
        """During the first epoch (after ``steps_done`` >= 1 of its ``steps_in_epoch`` steps): refuse, saying the
        time one epoch needs, when the epoch and its validation (``validation`` s) will not end within the budget."""
        if not self.limited or steps_done < 1:
            return
        step_seconds = (time.monotonic() - epoch_began) / steps_done
        finish = self.elapsed() + step_seconds * (steps_in_epoch - steps_done) + validation
        if finish > self.seconds:
            needed = math.ceil(finish / 60 * 1.2 * 2) / 2  # with a margin, in half minutes
            raise InvalidInputError(
                f"the time budget of {_minutes(self.seconds)} is too short for one epoch of {steps_in_epoch} steps "
                f"here (about {_minutes(finish)} with checking it): give at least {needed:g} min, or train on fewer "
                "or smaller tiles (an AOI, a smaller --tile-size)"
            )

    def next_epoch_fits(self, last_epoch_seconds: float) -> bool:
        """Whether an epoch as long as the last one (validation included) still ends within the budget."""
        if not self.limited:
            return True
        fits = self.elapsed() + last_epoch_seconds <= self.seconds
        self.stopped = self.stopped or not fits
        return fits

    def summary(self) -> dict[str, float | bool]:
        return {"seconds": self.seconds, "used_seconds": round(self.elapsed(), 1), "stopped_for_budget": self.stopped}


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"
