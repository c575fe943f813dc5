"""The classes of a multi-class model: their ids (the label values), names and learned prompt tokens, as the
checkpoint records them (``meta["classes"]``), and the colours they are drawn in.

Pure data and numpy; the tokens become a tensor where the model runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import InvalidCheckpointError
from core.io.labels import IGNORE

#: Colours of classes 1, 2, ... in class rasters and polygon styles (RGB), then again.
PALETTE = [(230, 85, 13), (49, 163, 84), (49, 130, 189), (117, 107, 177), (222, 45, 38), (253, 174, 107)]


@dataclass(frozen=True)
class ClassList:
    """The K classes of a model, in their order: ``ids`` (the labels' values, 1..254), ``names``, and each class's
    prompt token (K lists of C floats; empty before training)."""

    ids: tuple[int, ...]
    names: tuple[str, ...]
    tokens: tuple[tuple[float, ...], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"ids": list(self.ids), "names": list(self.names), "tokens": [list(t) for t in self.tokens]}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "the checkpoint") -> ClassList:
        try:
            ids = tuple(int(i) for i in data["ids"])
            names = tuple(str(n) for n in data["names"])
            tokens = tuple(tuple(float(v) for v in token) for token in data.get("tokens", []))
        except (KeyError, TypeError, ValueError):
            raise InvalidCheckpointError(f"{where} records its classes in a form this version cannot read") from None
        if len(names) != len(ids) or (tokens and len(tokens) != len(ids)):
            raise InvalidCheckpointError(f"{where} records {len(ids)} classes but not a name and token for each")
        return cls(ids, names, tokens)

    def name_of(self) -> dict[int, str]:
        return dict(zip(self.ids, self.names, strict=True))

    def colour(self, index: int) -> tuple[int, int, int]:
        """The colour of the ``index``-th class (0-based)."""
        return PALETTE[index % len(PALETTE)]


def classes_of(metadata: dict[str, Any], where: str = "the checkpoint") -> ClassList | None:
    """The classes a checkpoint's metadata records, or None for a one-class (or base) model."""
    data = metadata.get("classes")
    return ClassList.from_dict(data, where) if data else None


def class_indices(classes: np.ndarray, ids: tuple[int, ...]) -> np.ndarray:
    """Label values (S, S) as training targets: 0 background (and classes not learned), k for ``ids[k - 1]``,
    IGNORE kept."""
    lookup = np.zeros(256, dtype=np.uint8)
    lookup[IGNORE] = IGNORE
    for index, class_id in enumerate(ids, start=1):
        lookup[class_id] = index
    return lookup[classes]


__all__ = ["PALETTE", "ClassList", "class_indices", "classes_of"]
