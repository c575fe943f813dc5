"""One object per polygon: split a mask region where touching objects meet (two buildings sharing a wall, crowns
that touch), by the shape of the region alone.

Why the shape: a whole-raster prediction says where the class is, not where one object ends and the next
begins; touching objects come out as one region. Where two objects meet, the region narrows: its distance to
the background has one peak inside each object and a saddle at the neck between them. ``split_region`` floods
the region from its distance peaks (a watershed on the distance transform) and merges two parts again unless
the neck between them is narrower than both parts (``neck_ratio``): an L-shaped building (a wide corner, no
neck) stays one object, two crowns that touch (a narrow waist) become two. Parts that meet along two separate
stretches enclose a hole (a building around a courtyard) and stay one object.

It cannot split what has no neck: two equal buildings sharing a whole wall form a rectangle, and nothing in the
mask says where the wall is. Arrays are (rows, cols); distances are in pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from core.errors import InvalidConfigError


@dataclass(frozen=True)
class InstanceOptions:
    """``neck_ratio``: parts stay apart when the neck between them is narrower than this share of the smaller
    part's width (0.9: a waist a tenth narrower; an annex joined along its whole side has none, so it stays);
    ``min_radius``: a part narrower than twice this many pixels is no object of its own (a pixel staircase)."""

    neck_ratio: float = 0.9
    min_radius: float = 3.0

    def __post_init__(self) -> None:
        if not 0 < self.neck_ratio <= 1 or self.min_radius < 1:
            raise InvalidConfigError("neck_ratio is in (0, 1] and min_radius at least 1 pixel")


def split_region(region: np.ndarray, options: InstanceOptions = InstanceOptions()) -> np.ndarray:
    """Instance ids (int32, 0 outside ``region``, 1..n inside) of one connected region (bool, rows x cols)."""
    region = region.astype(bool)
    instances = np.zeros(region.shape, dtype=np.int32)
    if not region.any():
        return instances
    distance = ndimage.distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]  # the array's edge is no border
    parts, count = _flood(distance, region, options.min_radius)
    if count > 1:
        parts = _merge_without_neck(parts, distance, count, options.neck_ratio)
    instances[region] = parts[region]
    return _renumber(instances)


LEVEL_STEP = 1.0  # pixels of distance per flooding level
MIN_NECK_DEPTH = 2.0  # pixels: a neck less than this narrower (half-width) than its parts is a staircase's wobble
EIGHT = np.ones((3, 3), dtype=bool)


def _flood(distance: np.ndarray, region: np.ndarray, min_radius: float) -> tuple[np.ndarray, int]:
    """A watershed of the distance, level by level from the top: parts grow downhill from their peaks; a piece
    that appears at a level and touches no part is a new peak (a new part) if it is at least ``min_radius``
    deep, else it joins its neighbours as they grow. Returns the part ids (0 outside) and their number."""
    parts = np.zeros(region.shape, dtype=np.int32)
    count = 0
    for level in np.arange(np.floor(distance.max() / LEVEL_STEP) * LEVEL_STEP, 0, -LEVEL_STEP):
        allowed = region & (distance >= level)
        while True:  # grow every part into the pixels of this level that touch it
            grown = ndimage.grey_dilation(parts, footprint=EIGHT)
            reached = allowed & (parts == 0) & (grown > 0)
            if not reached.any():
                break
            parts[reached] = grown[reached]
        fresh = allowed & (parts == 0)
        if fresh.any() and level >= min_radius:
            pieces, found = ndimage.label(fresh, structure=EIGHT)
            parts[fresh] = pieces[fresh] + count
            count += found
    if count == 0:  # shallower than min_radius everywhere: one part
        parts[region] = count = 1
    return parts, count


def _merge_without_neck(parts: np.ndarray, distance: np.ndarray, count: int, neck_ratio: float) -> np.ndarray:
    """Join adjacent parts whose shared boundary is not a neck: its widest point (the saddle's distance to the
    background) is at least ``neck_ratio`` of the smaller part's peak, or less than MIN_NECK_DEPTH below it
    (the wobble of a traced, slanted edge). The widest necks are judged first."""
    peak = np.zeros(count + 1)
    peak[1:] = ndimage.maximum(distance, parts, index=np.arange(1, count + 1))
    firsts, seconds, heights = [], [], []
    neighbours = [  # each pixel and the one below, each pixel and the one to its right
        (parts[:-1, :], parts[1:, :], np.minimum(distance[:-1, :], distance[1:, :])),
        (parts[:, :-1], parts[:, 1:], np.minimum(distance[:, :-1], distance[:, 1:])),
    ]
    for here, there, height in neighbours:
        touching = (here != there) & (here > 0) & (there > 0) & (here <= count) & (there <= count)
        firsts.append(np.minimum(here, there)[touching])
        seconds.append(np.maximum(here, there)[touching])
        heights.append(height[touching])  # the pass between two parts at this pixel pair
    keys = np.concatenate(firsts).astype(np.int64) * (count + 2) + np.concatenate(seconds)
    pairs, inverse = np.unique(keys, return_inverse=True)
    saddle = np.zeros(len(pairs))
    np.maximum.at(saddle, inverse, np.concatenate(heights))  # the highest pass: the neck's half-width
    root = list(range(count + 1))

    def find(label: int) -> int:
        while root[label] != label:
            root[label] = root[root[label]]
            label = root[label]
        return label

    for index in np.argsort(-saddle):
        first, second = int(pairs[index] // (count + 2)), int(pairs[index] % (count + 2))
        a, b = find(first), find(second)
        smaller = min(peak[a], peak[b])
        no_neck = saddle[index] >= min(neck_ratio * smaller, smaller - MIN_NECK_DEPTH)
        if a != b and (no_neck or _meet_twice(parts, first, second)):
            root[b] = a
            peak[a] = max(peak[a], peak[b])
    lookup = np.array([find(label) if 0 < label <= count else 0 for label in range(count + 2)], dtype=np.int32)
    return lookup[parts]


def _meet_twice(parts: np.ndarray, first: int, second: int) -> bool:
    """Whether two parts meet along two separate stretches: they enclose a hole (a courtyard), one object."""
    contact = (parts == first) & ndimage.binary_dilation(parts == second, structure=EIGHT)
    _, stretches = ndimage.label(contact, structure=EIGHT)
    return stretches >= 2


def _renumber(instances: np.ndarray) -> np.ndarray:
    """Ids 1..n in order of first appearance (row by row)."""
    values, first = np.unique(instances[instances > 0], return_index=True)
    order = values[np.argsort(first)]
    lookup = np.zeros(int(instances.max()) + 1, dtype=np.int32)
    lookup[order] = np.arange(1, len(order) + 1, dtype=np.int32)
    return lookup[instances]


__all__ = ["InstanceOptions", "split_region"]
