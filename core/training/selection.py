"""Which epoch of a run is its best: the base model (epoch 0) is the first candidate."""

from __future__ import annotations

from typing import Any


def best_row(history: list[dict[str, Any]], metric: str, min_gain: float = 0.0) -> dict[str, Any]:
    """The first row with the highest ``metric``: the base (epoch 0) stands unless an epoch beats it by more
    than ``min_gain`` (validation noise must not replace the base by a model that only matched it)."""
    base = history[0]
    best = base
    for row in history[1:]:
        if row[metric] > best[metric] and row[metric] > base[metric] + min_gain:
            best = row
    return best
