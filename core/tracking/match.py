"""Objects of one year matched to the year before: the same object kept under its ``object_id``, and what changed.

A flight is misregistered against the one before by a few pixels, the same over the area: the shift is
estimated from the objects themselves (the median offset of clear nearest pairs), taken out, and then objects
overlapping enough (IoU) are the same object, paired one to one, best overlap first. Status against the year
before: ``unchanged``, ``changed`` (overlap or area moved more than allowed: an extension, a grown crown),
``new``, ``gone``. Geometries are shapely polygons in one projected CRS (metres), (x, y) order.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shapely import STRtree, affinity
from shapely.geometry.base import BaseGeometry

from core.errors import InvalidConfigError


@dataclass(frozen=True)
class MatchConfig:
    """``max_shift_m``: the largest misregistration looked for; ``min_iou``: overlap (after the shift) that makes
    two outlines one object; ``changed_iou`` and ``changed_area``: below that overlap, or beyond that relative
    area change, a matched object has ``changed``; ``reappear``: an object gone one year and found again the
    next at the same place was missed for a year, not demolished and rebuilt (``reappeared``)."""

    max_shift_m: float = 2.5
    min_iou: float = 0.3
    changed_iou: float = 0.75
    changed_area: float = 0.15
    reappear: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.min_iou <= self.changed_iou <= 1:
            raise InvalidConfigError(
                f"overlaps must satisfy 0 < min_iou ({self.min_iou}) <= changed_iou ({self.changed_iou}) <= 1"
            )
        if self.max_shift_m < 0 or self.changed_area < 0:
            raise InvalidConfigError("max_shift_m and changed_area cannot be negative")


@dataclass(frozen=True)
class Tracked:
    """An object in a year: ``object_id`` (kept across years), ``class_id``, ``status`` against the year before,
    its outline, and its area change in m² (0 for new and gone)."""

    object_id: int
    class_id: int
    status: str
    geometry: BaseGeometry
    area_change_m2: float = 0.0


def iou(a: BaseGeometry, b: BaseGeometry) -> float:
    union = a.union(b).area
    return a.intersection(b).area / union if union > 0 else 0.0


def estimate_shift(
    before: Sequence[BaseGeometry], after: Sequence[BaseGeometry], max_shift_m: float
) -> tuple[float, float]:
    """How far ``after`` lies from ``before`` (dx, dy in metres): the median offset between each later outline's
    centroid and the nearest earlier centroid, over pairs nearer than ``max_shift_m`` and mutually nearest."""
    if not before or not after:
        return 0.0, 0.0
    points_before = [g.centroid for g in before]
    points_after = [g.centroid for g in after]
    tree_before, tree_after = STRtree(points_before), STRtree(points_after)
    offsets = []
    for index, point in enumerate(points_after):
        nearest = int(tree_before.nearest(point))
        back = int(tree_after.nearest(points_before[nearest]))
        other = points_before[nearest]
        if back == index and point.distance(other) <= max_shift_m:
            offsets.append((point.x - other.x, point.y - other.y))
    if not offsets:
        return 0.0, 0.0
    return statistics.median(dx for dx, _ in offsets), statistics.median(dy for _, dy in offsets)


def match_year(
    before: Sequence[Tracked],
    outlines: Sequence[BaseGeometry],
    classes: Sequence[int],
    next_id: int,
    config: MatchConfig = MatchConfig(),
    shift: tuple[float, float] | None = None,
) -> tuple[list[Tracked], tuple[float, float]]:
    """This year's ``outlines`` (with their ``classes``) against the objects standing the year before
    (``before``, gone ones left out): every outline once, as ``unchanged``, ``changed`` or ``new`` (ids from
    ``next_id`` on), then each earlier object not found as ``gone`` (its last outline). Returns them and the
    shift (dx, dy) taken out: ``shift``, or estimated from the outlines when None."""
    standing = [t for t in before if t.status != "gone"]
    if shift is None:
        shift = estimate_shift([t.geometry for t in standing], outlines, config.max_shift_m)
    moved = [affinity.translate(g, -shift[0], -shift[1]) for g in outlines]
    tree = STRtree([t.geometry for t in standing]) if standing else None
    pairs = []
    for index, outline in enumerate(moved):
        for found in tree.query(outline) if tree is not None else []:
            earlier = standing[int(found)]
            if earlier.class_id != classes[index]:
                continue
            overlap = iou(earlier.geometry, outline)
            if overlap >= config.min_iou:
                pairs.append((overlap, index, int(found)))
    pairs.sort(reverse=True)
    taken_now: dict[int, tuple[int, float]] = {}
    taken_before: set[int] = set()
    for overlap, index, found in pairs:
        if index not in taken_now and found not in taken_before:
            taken_now[index] = (found, overlap)
            taken_before.add(found)
    result = []
    for index, outline in enumerate(outlines):
        if index in taken_now:
            found, overlap = taken_now[index]
            earlier = standing[found]
            change = outline.area - earlier.geometry.area
            grew = abs(change) > config.changed_area * earlier.geometry.area
            status = "changed" if overlap < config.changed_iou or grew else "unchanged"
            result.append(Tracked(earlier.object_id, classes[index], status, outline, round(change, 3)))
        else:
            result.append(Tracked(next_id, classes[index], "new", outline))
            next_id += 1
    result += [
        Tracked(t.object_id, t.class_id, "gone", affinity.translate(t.geometry, shift[0], shift[1]))
        for found, t in enumerate(standing)
        if found not in taken_before
    ]
    return result, shift


def follow_year(
    before: Sequence[Tracked],
    carried: Mapping[int, BaseGeometry | None],
    outlines: Sequence[BaseGeometry],
    classes: Sequence[int],
    next_id: int,
    shift: tuple[float, float],
    config: MatchConfig = MatchConfig(),
) -> list[Tracked]:
    """This year's objects when a method carried some of last year's (``carried``: object id -> this year's
    outline, None when it is gone) and the year's own ``outlines`` (with ``classes``) give the rest.

    A carried object keeps its id: ``unchanged`` or ``changed`` against its outline the year before (moved by
    ``shift``, the misregistration), or ``gone``. Outlines of the year that a carried object covers (IoU >=
    ``min_iou``, or half of the outline inside it) are that object. The others, and the objects not carried,
    are matched as ``match_year`` does: ``new`` for outlines found by nothing."""
    standing = [t for t in before if t.status != "gone"]
    result: list[Tracked] = []
    claimed: set[int] = set()
    tree = STRtree(list(outlines)) if outlines else None
    for earlier in standing:
        if earlier.object_id not in carried:
            continue
        outline = carried[earlier.object_id]
        previous = affinity.translate(earlier.geometry, *shift)
        if outline is None or outline.is_empty or iou(previous, outline) < config.min_iou:
            result.append(Tracked(earlier.object_id, earlier.class_id, "gone", previous))
            continue
        for found in tree.query(outline) if tree is not None else []:
            own = outlines[int(found)]
            inside = own.intersection(outline).area
            if iou(own, outline) >= config.min_iou or (own.area > 0 and inside >= own.area / 2):
                claimed.add(int(found))
        change = outline.area - earlier.geometry.area
        grew = abs(change) > config.changed_area * earlier.geometry.area
        status = "changed" if iou(previous, outline) < config.changed_iou or grew else "unchanged"
        result.append(Tracked(earlier.object_id, earlier.class_id, status, outline, round(change, 3)))
    rest = [t for t in standing if t.object_id not in carried]
    free = [index for index in range(len(outlines)) if index not in claimed]
    matched, _ = match_year(rest, [outlines[i] for i in free], [classes[i] for i in free], next_id, config, shift)
    return result + matched


def reappeared(
    last_year: Sequence[Tracked], this_year: Sequence[Tracked], shift: tuple[float, float], config: MatchConfig
) -> tuple[list[Tracked], list[Tracked]]:
    """An object found ``gone`` last year and ``new`` this year with the same outline (IoU >= ``changed_iou``
    once this year's ``shift`` is taken out, the same class) was only missed for a year (shade, a cloud, a weak
    mask): it keeps its ``object_id``, and stood both years (``unchanged``). A new object that overlaps the
    site less is another one (a house rebuilt where one was demolished). Returns both years, the others as
    they were."""
    gone = {index: t for index, t in enumerate(last_year) if t.status == "gone"}
    pairs = []
    for index, found in enumerate(this_year):
        if found.status != "new":
            continue
        moved = affinity.translate(found.geometry, -shift[0], -shift[1])
        for earlier_index, earlier in gone.items():
            if earlier.class_id == found.class_id and moved.intersects(earlier.geometry):
                overlap = iou(moved, earlier.geometry)
                if overlap >= config.changed_iou:
                    pairs.append((overlap, index, earlier_index))
    last, now = list(last_year), list(this_year)
    taken: set[int] = set()
    for _overlap, index, earlier_index in sorted(pairs, reverse=True):
        if index in taken or earlier_index not in gone:
            continue
        earlier = gone.pop(earlier_index)
        taken.add(index)
        last[earlier_index] = Tracked(earlier.object_id, earlier.class_id, "unchanged", earlier.geometry)
        outline = now[index].geometry
        change = outline.area - earlier.geometry.area
        status = "changed" if abs(change) > config.changed_area * earlier.geometry.area else "unchanged"
        now[index] = Tracked(earlier.object_id, earlier.class_id, status, outline, round(change, 3))
    return last, now


__all__ = ["MatchConfig", "Tracked", "estimate_shift", "follow_year", "iou", "match_year", "reappeared"]
