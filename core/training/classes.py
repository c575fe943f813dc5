"""Multi-class training: which classes a run learns, how much each weighs, and where their prompt tokens start.

Design: one model tells K classes apart through K learned prompt tokens (``core.inference.decode.decode_classes``): the
promptless decoder is asked once per class, with that class's token, and the K answers compete per pixel in a
softmax with background (its logit fixed at 0). Why this design: it keeps SAM's decoder and its pretrained
"segment what is there" behaviour intact (each token starts as SAM's own "no point" token, so the base model's
answer is where training starts), adds only K x 256 numbers per model, and the same tokens drive prediction.
A class head on the decoder's mask features would need new layers trained from nothing; K separate models
would cost K encoder passes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from core.errors import InvalidInputError
from core.io.labels import IGNORE
from core.models.classes import ClassList, class_indices
from core.training.config import TrainConfig
from core.training.tiles import TileSet

MAX_CLASS_WEIGHT = 20.0  # the rarest class weighs at most this much more than the commonest


def resolve_classes(tiles: TileSet, config: TrainConfig) -> ClassList:
    """The classes of a multi-class run: ``config.classes`` (each must be in the labels) or every class found,
    named by ``config.class_names``, else the labels' name field, else "class N"."""
    found: set[int] = set()
    for tile in tiles.tiles:
        values = np.unique(tile.classes)
        found.update(int(v) for v in values if 0 < v < IGNORE)
    wanted = tuple(config.classes) or tuple(sorted(found))
    absent = [c for c in wanted if c not in found]
    if absent:
        raise InvalidInputError(
            f"classes {absent} are not in the labels (their classes are {sorted(found) or 'none'}): choose classes "
            "that are labelled, or check the class field"
        )
    if len(wanted) < 2:
        raise InvalidInputError(
            f"multi-class training needs at least two classes; the labels hold {sorted(found) or 'none'}: label "
            "another class, or train without --multiclass"
        )
    given = config.names_given()
    names = tuple(given.get(c) or tiles.class_names.get(c) or f"class {c}" for c in wanted)
    return ClassList(wanted, names)


def class_weights(tiles: TileSet, ids: tuple[int, ...]) -> torch.Tensor:
    """Cross-entropy weights (K + 1: background first) from the training pixels: the inverse square root of
    each class's share, scaled to mean 1, capped at MAX_CLASS_WEIGHT times the smallest."""
    counts = np.zeros(len(ids) + 1)
    for tile in tiles.split("train"):
        indices = class_indices(tile.classes, ids)
        counts += np.bincount(indices[indices != IGNORE].ravel(), minlength=len(ids) + 1)[: len(ids) + 1]
    share = np.maximum(counts, 1) / max(counts.sum(), 1)
    weights = share**-0.5
    weights = np.minimum(weights, weights.min() * MAX_CLASS_WEIGHT)
    return torch.as_tensor(weights / weights.mean(), dtype=torch.float32)


def initial_tokens(model: Any, count: int) -> torch.Tensor:
    """``count`` prompt tokens (K, C), each SAM's own "no point" embedding: every class starts as the base
    model's promptless mask (``model``: a SAM2Base)."""
    weight = model.sam_prompt_encoder.not_a_point_embed.weight.detach()
    return weight.to(torch.float32).repeat(count, 1).clone()


__all__ = ["class_weights", "initial_tokens", "resolve_classes"]
