"""Right angles for buildings: snap a polygon's nearly axis-parallel edges to its two main directions.

A mask traced from pixels gives a building staircase edges and corners of 80 or 100 degrees. ``square_corners``
finds the polygon's main direction (the length-weighted mean of its convex hull's edge directions, modulo 90
degrees: the hull's long edges follow the walls, not the pixel staircase; then the same over the polygon's own
edges near that direction), rotates
the polygon into that frame, makes each edge within ``tolerance`` degrees of it exactly horizontal or vertical
(consecutive edges of the same direction become one line, at their length-weighted mean offset), and puts the
corners where those lines meet. Edges further off (a bay window at 45 degrees, a round tower) keep their
direction. Coordinates are map units, (x, y) order; a result that is not a valid polygon, or that changes the
area by more than a fifth, is not used: the polygon comes back as it was.
"""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry import Polygon

MAX_AREA_CHANGE = 0.2
STAIRCASE_PIXELS = 1.5  # simplification that removes one-pixel steps along a slanted edge
CHAMFER_PIXELS = 10.0  # a slanted edge this short between two snapped, longer ones is a cut corner: they meet

HORIZONTAL, VERTICAL, OTHER = "h", "v", "o"


def square_corners(polygon: Polygon, tolerance: float, pixel: float) -> Polygon:
    """``polygon`` (traced from pixels of ``pixel`` map units) with right angles where its edges are within
    ``tolerance`` degrees of them. Pixel staircases are simplified away first."""
    simplified = polygon.simplify(STAIRCASE_PIXELS * pixel)
    if not isinstance(simplified, Polygon) or simplified.is_empty or len(simplified.exterior.coords) < 5:
        return polygon
    rings = [np.asarray(ring.coords)[:, :2] for ring in (simplified.exterior, *simplified.interiors)]
    rough = main_direction(np.asarray(simplified.convex_hull.exterior.coords)[:, :2])
    angle = main_direction(rings[0], near=rough, within=math.radians(tolerance))
    squared_rings = [square_ring(points[:-1], angle, tolerance, CHAMFER_PIXELS * pixel) for points in rings]
    try:
        squared = Polygon(squared_rings[0], squared_rings[1:])
    except ValueError:  # a ring squared down to fewer than three corners
        return polygon
    area = polygon.area
    if not squared.is_valid or squared.is_empty or abs(squared.area - area) > MAX_AREA_CHANGE * area:
        return polygon
    return squared


def main_direction(points: np.ndarray, near: float | None = None, within: float = math.pi / 4) -> float:
    """The ring's main direction in radians, in [0, pi/2): edge directions averaged modulo 90 degrees, each
    weighted by its length (closed ring of (n, 2) points, the first repeated last); with ``near``, only the
    edges within ``within`` radians of it (or of its right angle) count: the walls, not the slanted edges."""
    edges = np.diff(points, axis=0)
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    turns = np.exp(4j * np.arctan2(edges[:, 1], edges[:, 0]))  # 4 x the angle: directions 90 degrees apart agree
    if near is not None:
        off = np.abs(np.angle(turns * np.exp(-4j * near))) / 4  # each edge's angle to the nearest axis
        if (off <= within).any():
            lengths = np.where(off <= within, lengths, 0.0)
    return float(np.angle(np.sum(lengths * turns)) / 4) % (math.pi / 2)


def square_ring(points: np.ndarray, angle: float, tolerance: float, chamfer: float) -> np.ndarray:
    """The corners of an open ring ((n, 2) points, not repeated) after snapping its edges (see the module);
    a slanted edge no longer than ``chamfer`` between snapped, longer ones is dropped (the corner was cut)."""
    cos, sin = math.cos(angle), math.sin(angle)
    local = points @ np.array([[cos, -sin], [sin, cos]])  # rotated by -angle: the main direction is x
    runs = _runs(local, math.radians(tolerance))
    runs = [run for k, run in enumerate(runs) if not _cut_corner(runs[k - 1], run, runs[(k + 1) % len(runs)], chamfer)]
    if len(runs) < 3 or all(kind == OTHER for kind, *_ in runs):
        return points
    corners = [_corner(runs[k - 1], runs[k]) for k in range(len(runs))]
    return np.array(corners) @ np.array([[cos, sin], [-sin, cos]])


def _cut_corner(before: tuple, run: tuple, after: tuple, chamfer: float) -> bool:
    """Whether ``run`` is a short slanted edge between a horizontal and a vertical line, both longer."""
    length = math.dist(run[2], run[3])
    snapped_apart = OTHER != before[0] != after[0] != OTHER
    return run[0] == OTHER and snapped_apart and length <= min(chamfer, _length(before), _length(after))


def _length(run: tuple) -> float:
    return math.dist(run[2], run[3])


def _runs(local: np.ndarray, tolerance: float) -> list[tuple[str, float, np.ndarray, np.ndarray]]:
    """Consecutive edges of one direction as one line: (kind, offset, first point, last point); ``offset`` is
    the line's y (horizontal) or x (vertical), the length-weighted mean of its edges' midpoints."""
    count = len(local)
    edges = []
    for i in range(count):
        start, end = local[i], local[(i + 1) % count]
        dx, dy = end - start
        direction = math.atan2(abs(dy), abs(dx))  # 0: horizontal, pi/2: vertical
        kind = HORIZONTAL if direction <= tolerance else VERTICAL if direction >= math.pi / 2 - tolerance else OTHER
        edges.append((kind, start, end, math.hypot(dx, dy)))
    first = next((i for i in range(count) if edges[i][0] != edges[i - 1][0] or edges[i][0] == OTHER), None)
    if first is None:  # every edge one way: nothing to square
        return []
    edges = edges[first:] + edges[:first]  # a run never wraps around the ring's start
    groups: list[list[tuple[str, np.ndarray, np.ndarray, float]]] = []
    for edge in edges:
        if groups and edge[0] == groups[-1][0][0] != OTHER:
            groups[-1].append(edge)
        else:
            groups.append([edge])
    runs = []
    for group in groups:
        kind = group[0][0]
        axis = 1 if kind == HORIZONTAL else 0
        weights = np.array([length for *_, length in group]) + 1e-12
        middles = np.array([(start[axis] + end[axis]) / 2 for _, start, end, _ in group])
        runs.append((kind, float(np.average(middles, weights=weights)), group[0][1], group[-1][2]))
    return runs


def _corner(before: tuple, after: tuple) -> tuple[float, float]:
    """Where the line of run ``before`` meets the line of run ``after`` (their shared point when neither is
    snapped, or when the lines are parallel)."""
    shared = after[2]
    lines = [_line(run) for run in (before, after)]
    (p1, d1), (p2, d2) = lines
    cross = d1[0] * d2[1] - d1[1] * d2[0]
    if abs(cross) < 1e-9:  # parallel (or one is a point): stay at the shared point, on the snapped line
        return _onto(before, _onto(after, shared))
    t = ((p2[0] - p1[0]) * d2[1] - (p2[1] - p1[1]) * d2[0]) / cross
    return float(p1[0] + t * d1[0]), float(p1[1] + t * d1[1])


def _line(run: tuple) -> tuple[tuple[float, float], tuple[float, float]]:
    """A point on the run's line and its direction."""
    kind, offset, start, end = run
    if kind == HORIZONTAL:
        return (0.0, offset), (1.0, 0.0)
    if kind == VERTICAL:
        return (offset, 0.0), (0.0, 1.0)
    return (float(start[0]), float(start[1])), (float(end[0] - start[0]), float(end[1] - start[1]))


def _onto(run: tuple, point: np.ndarray | tuple[float, float]) -> tuple[float, float]:
    kind, offset, *_ = run
    x, y = float(point[0]), float(point[1])
    return (x, offset) if kind == HORIZONTAL else (offset, y) if kind == VERTICAL else (x, y)


def corner_angles(polygon: Polygon) -> list[float]:
    """The interior angles of the polygon's outer ring, in degrees (straight-through vertices included)."""
    points = np.asarray(polygon.exterior.coords)[:-1, :2]
    angles = []
    for i in range(len(points)):
        a, b, c = points[i - 1], points[i], points[(i + 1) % len(points)]
        u, v = a - b, c - b
        cosine = np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-12)
        angles.append(math.degrees(math.acos(max(-1.0, min(1.0, cosine)))))
    return angles


__all__ = ["corner_angles", "main_direction", "square_corners"]
