"""Dataset-level segmentation metrics: sums of pixel counts over all tiles, then ratios.

A tile without objects adds only false positives and true negatives, so empty tiles are scored correctly,
and a few large tiles cannot hide many small failures as they can in a mean of per-tile IoUs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Confusion:
    """Binary confusion counts over labelled pixels."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, predicted: np.ndarray, target: np.ndarray, labelled: np.ndarray | None = None) -> None:
        keep = np.ones(target.shape, dtype=bool) if labelled is None else labelled
        predicted, target = predicted[keep], target[keep]
        self.tp += int(np.count_nonzero(predicted & target))
        self.fp += int(np.count_nonzero(predicted & ~target))
        self.fn += int(np.count_nonzero(~predicted & target))
        self.tn += int(np.count_nonzero(~predicted & ~target))

    @staticmethod
    def _ratio(num: int, den: int, empty: float) -> float:
        return num / den if den else empty

    def scores(self) -> dict[str, float]:
        """IoU, F1, precision, recall (1.0 where nothing was to be found and nothing was predicted)."""
        return {
            "iou": self._ratio(self.tp, self.tp + self.fp + self.fn, 1.0),
            "f1": self._ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn, 1.0),
            "precision": self._ratio(self.tp, self.tp + self.fp, 1.0 if self.fn == 0 else 0.0),
            "recall": self._ratio(self.tp, self.tp + self.fn, 1.0 if self.fp == 0 else 0.0),
        }

    def matrix(self) -> list[list[int]]:
        """[[tn, fp], [fn, tp]]: rows truth (background, object), columns prediction."""
        return [[self.tn, self.fp], [self.fn, self.tp]]


@dataclass
class ClassConfusion:
    """Confusion counts of K classes and background over labelled pixels: ``counts[truth, predicted]``, index 0
    background, k the k-th class (``ids[k - 1]``)."""

    ids: tuple[int, ...]
    counts: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.counts is None:
            self.counts = np.zeros((len(self.ids) + 1, len(self.ids) + 1), dtype=np.int64)

    def add(self, predicted: np.ndarray, target: np.ndarray, labelled: np.ndarray | None = None) -> None:
        """``predicted`` and ``target``: class indices (rows x cols), 0..K."""
        keep = np.ones(target.shape, dtype=bool) if labelled is None else labelled
        size = len(self.ids) + 1
        pairs = target[keep].astype(np.int64) * size + predicted[keep].astype(np.int64)
        assert self.counts is not None
        self.counts += np.bincount(pairs, minlength=size * size).reshape(size, size)

    def per_class(self) -> dict[int, dict[str, float]]:
        """IoU, F1, precision, recall of each class, by class id."""
        assert self.counts is not None
        scores = {}
        for index, class_id in enumerate(self.ids, start=1):
            tp = int(self.counts[index, index])
            fp = int(self.counts[:, index].sum()) - tp
            fn = int(self.counts[index, :].sum()) - tp
            scores[class_id] = Confusion(tp=tp, fp=fp, fn=fn).scores()
        return scores

    def scores(self) -> dict[str, float]:
        """The mean over the classes of each score (each class counts the same, whatever its size)."""
        per_class = self.per_class().values()
        return {key: float(np.mean([s[key] for s in per_class])) for key in ("iou", "f1", "precision", "recall")}

    def matrix(self) -> list[list[int]]:
        """Rows truth, columns prediction: background, then the classes in order."""
        assert self.counts is not None
        return self.counts.tolist()
