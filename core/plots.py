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


def draw_confusion(axis: Any, matrix: list[list[int]], title: str) -> None:
    """A 2 x 2 confusion matrix [[tn, fp], [fn, tp]] with counts and shares on ``axis``."""
    values = np.array(matrix, dtype=float)
    shares = values / max(values.sum(), 1)
    axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (i, j), value in np.ndenumerate(values):
        axis.text(j, i, f"{int(value)}\n{shares[i, j]:.1%}", ha="center", va="center")
    axis.set(
        xticks=[0, 1],
        yticks=[0, 1],
        xticklabels=["background", "object"],
        yticklabels=["background", "object"],
        xlabel="predicted",
        ylabel="truth",
        title=title,
    )
