"""Objects cut by the edges between a region's rasters, joined again.

Each raster of a region is polygonized on its own, so a building across the line between two tiles comes out
as two polygons, one per tile (and as two copies where tiles overlap). Polygons of one class from different
rasters that touch or overlap, at a raster's edge or inside another raster, are one object: they are grouped
and joined here. Coordinates are the region's CRS; ``pixel`` is its finest pixel size.
"""

from __future__ import annotations

from collections.abc import Sequence

from shapely import STRtree, unary_union
from shapely.geometry import MultiPolygon, Polygon

from core.geometry.polygons import Polygonal


def seam_groups(
    polygons: Sequence[Polygonal],
    classes: Sequence[int],
    sources: Sequence[int],
    footprints: Sequence[Polygon],
    pixel: float,
) -> list[list[int]]:
    """Groups of indices into ``polygons`` that are one object: of one class, from different rasters
    (``sources``: an index into ``footprints``, each raster's outline), within ``pixel`` of each other, and
    each at its raster's edge or inside another raster. Each group has two or more members, sorted."""
    footprint_tree = STRtree(list(footprints))
    candidates = []
    for index, polygon in enumerate(polygons):
        own = footprints[sources[index]]
        at_edge = own.exterior.distance(polygon) <= pixel
        inside_other = any(
            other != sources[index] and footprints[other].intersection(polygon).area > 0
            for other in footprint_tree.query(polygon)
        )
        if at_edge or inside_other:
            candidates.append(index)
    if not candidates:
        return []
    tree = STRtree([polygons[i] for i in candidates])
    parent = {index: index for index in candidates}

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for position, index in enumerate(candidates):
        for found in tree.query(polygons[index], predicate="dwithin", distance=pixel):
            other = candidates[int(found)]
            if found != position and sources[other] != sources[index] and classes[other] == classes[index]:
                parent[root(other)] = root(index)
    groups: dict[int, list[int]] = {}
    for index in candidates:
        groups.setdefault(root(index), []).append(index)
    return [sorted(group) for group in groups.values() if len(group) > 1]


def join_parts(parts: Sequence[Polygonal], pixel: float) -> Polygonal:
    """One polygon of an object's parts: their union, closed across a seam gap narrower than ``pixel`` (mitred,
    so that right angles stay right)."""
    joined = unary_union(list(parts))
    if isinstance(joined, Polygon):
        return joined
    half = pixel / 2
    closed = unary_union([part.buffer(half, join_style="mitre") for part in parts]).buffer(-half, join_style="mitre")
    return closed if isinstance(closed, (Polygon, MultiPolygon)) and not closed.is_empty else joined


__all__ = ["join_parts", "seam_groups"]
