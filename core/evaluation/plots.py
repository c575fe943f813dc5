"""Figures shared by the reports (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

from typing import Any

import numpy as np


def pyplot() -> Any:
    """matplotlib.pyplot on the file-only Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt


def draw_confusion(axis: Any, matrix: list[list[int]], title: str, labels: list[str] | None = None) -> None:
    """A confusion matrix (rows truth, columns prediction; 2 x 2: [[tn, fp], [fn, tp]]) with counts and shares
    on ``axis``; ``labels`` name its rows (default: background, object)."""
    labels = labels or ["background", "object"]
    values = np.array(matrix, dtype=float)
    shares = values / max(values.sum(), 1)
    axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (i, j), value in np.ndenumerate(values):
        axis.text(j, i, f"{int(value)}\n{shares[i, j]:.1%}", ha="center", va="center")
    ticks = list(range(len(labels)))
    axis.set(
        xticks=ticks,
        yticks=ticks,
        xticklabels=labels,
        yticklabels=labels,
        xlabel="predicted",
        ylabel="truth",
        title=title,
    )
