"""Prompts for click training, drawn the way analysts click: points inside one object, background points
near it, sometimes a noisy box, and correction clicks on the error of a first prediction.

Coordinates are (x, y) = (col, row) pixel indices of the model input (SAM adds 0.5 itself); labels are
1 foreground, 0 background, 2/3 box corners, -1 padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.training.config import TrainConfig


@dataclass(frozen=True)
class ClickPrompt:
    coords: np.ndarray  # (n, 2) float32
    labels: np.ndarray  # (n,) int32
    target: np.ndarray  # (S, S) bool: the object under the prompt


def _pick(mask: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    rows, cols = np.nonzero(mask)
    if rows.size == 0 or count == 0:
        return np.zeros((0, 2), dtype=np.float32)
    chosen = rng.integers(0, rows.size, size=count)
    return np.stack([cols[chosen], rows[chosen]], axis=1).astype(np.float32)


def sample_click(
    instances: np.ndarray, labelled: np.ndarray, rng: np.random.Generator, config: TrainConfig, min_pixels: int = 4
) -> ClickPrompt | None:
    """A prompt for one random object of ``instances`` (int32 ids, 0 none); None if the tile has none."""
    ids, counts = np.unique(instances[instances > 0], return_counts=True)
    ids = ids[counts >= min_pixels]
    if ids.size == 0:
        return None
    target = instances == ids[rng.integers(0, ids.size)]
    coords = [_pick(target, config.points_per_object, rng)]
    labels = [np.ones(len(coords[0]), dtype=np.int32)]
    rows, cols = np.nonzero(target)
    r0, r1, c0, c1 = rows.min(), rows.max(), cols.min(), cols.max()
    near = np.zeros_like(target)
    pad_r, pad_c = max(2, (r1 - r0) // 2), max(2, (c1 - c0) // 2)
    near[max(r0 - pad_r, 0) : r1 + pad_r + 1, max(c0 - pad_c, 0) : c1 + pad_c + 1] = True
    background = _pick(near & labelled & ~target, config.background_points, rng)
    coords.append(background)
    labels.append(np.zeros(len(background), dtype=np.int32))
    if rng.random() < config.box_probability:
        height, width = r1 - r0 + 1, c1 - c0 + 1
        noise = rng.normal(0, 0.1, size=4) * np.array([width, height, width, height])
        box = np.array([c0, r0, c1, r1], dtype=np.float32) + noise
        box = np.clip(box, 0, target.shape[1] - 1).reshape(2, 2)
        coords.insert(0, np.sort(box, axis=0).astype(np.float32))
        labels.insert(0, np.array([2, 3], dtype=np.int32))
    return ClickPrompt(np.concatenate(coords), np.concatenate(labels), target)


def correction_click(
    predicted: np.ndarray, target: np.ndarray, labelled: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, int] | None:
    """A click on the error of ``predicted``: inside a missed part (label 1) or a false one (label 0)."""
    missed, false = target & ~predicted & labelled, predicted & ~target & labelled
    if not missed.any() and not false.any():
        return None
    use_missed = missed.sum() >= false.sum()
    point = _pick(missed if use_missed else false, 1, rng)[0]
    return point, int(use_missed)


def pad_prompts(prompts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Stack prompts of different lengths: (B, n_max, 2) coords and (B, n_max) labels, padding label -1."""
    longest = max(1, max(len(labels) for _, labels in prompts))
    coords = np.zeros((len(prompts), longest, 2), dtype=np.float32)
    labels = np.full((len(prompts), longest), -1, dtype=np.int32)
    for i, (c, lab) in enumerate(prompts):
        coords[i, : len(lab)] = c
        labels[i, : len(lab)] = lab
    return coords, labels
