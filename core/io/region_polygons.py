"""One polygon layer for a region from its rasters' layers: objects cut by raster edges joined
(core.geometry.seams), ``instance_id`` numbered anew across the region, ``source`` naming the raster(s)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from shapely.geometry import Polygon, box, mapping, shape

from core.geometry.polygons import Polygonal
from core.geometry.seams import join_parts, seam_groups
from core.io.polygon_layers import FIELDS
from core.io.vectors import PolygonFeature, read_polygons, write_polygons


def write_region_polygons(
    parts: Sequence[Path],
    footprints: Sequence[tuple[float, float, float, float]],
    pixel: float,
    out: Path,
    crs_wkt: str,
    keep: Callable[[Polygonal], bool] | None = None,
) -> int:
    """Write ``out`` from the rasters' polygon layers ``parts`` (``footprints``: each raster's bounds, left,
    bottom, right, top; ``pixel``: the finest pixel size); returns the number of objects. A joined object's
    ``score`` is its parts' area-weighted mean, its ``area_m2`` their sum, its ``source`` the rasters it
    spans (largest share first, ``;`` between). ``keep``: which joined objects are written (all: None)."""
    features: list[PolygonFeature] = []
    owners: list[int] = []
    for index, part in enumerate(parts):
        found, _ = read_polygons(part, "predictions")
        features += found
        owners += [index] * len(found)
    polygons = [shape(feature.geometry) for feature in features]
    outlines: list[Polygon] = [box(*bounds) for bounds in footprints]
    classes = [int(feature.attributes.get("class_id") or 0) for feature in features]
    groups = seam_groups(polygons, classes, owners, outlines, pixel)
    joined = {index for group in groups for index in group}
    merged: list[PolygonFeature] = [features[i] for i in range(len(features)) if i not in joined]
    merged += [_joined(group, features, polygons, pixel) for group in groups]
    if keep is not None:
        merged = [feature for feature in merged if keep(shape(feature.geometry))]
    merged.sort(key=lambda f: (shape(f.geometry).bounds[3] * -1, shape(f.geometry).bounds[0]))  # north to south
    numbered = [
        PolygonFeature(feature.geometry, {**feature.attributes, "instance_id": number})
        for number, feature in enumerate(merged, start=1)
    ]
    write_polygons(out, numbered, crs_wkt, layer_name="predictions", fields=FIELDS)
    return len(numbered)


def _joined(group: list[int], features: list[PolygonFeature], polygons: list, pixel: float) -> PolygonFeature:
    members = [features[i] for i in group]
    areas = [float(m.attributes.get("area_m2") or 0.0) for m in members]
    scored = [(a, m.attributes.get("score")) for a, m in zip(areas, members, strict=True)]
    weighted = [(a, float(s)) for a, s in scored if s is not None]
    score = (
        round(sum(a * s for a, s in weighted) / sum(a for a, _ in weighted), 4)
        if weighted and sum(a for a, _ in weighted)
        else None
    )
    by_share: dict[str, float] = {}
    for area, member in zip(areas, members, strict=True):
        name = str(member.attributes.get("source") or "")
        by_share[name] = by_share.get(name, 0.0) + area
    sources = ";".join(sorted(by_share, key=lambda name: -by_share[name]))
    geometry = join_parts([polygons[i] for i in group], pixel)
    return PolygonFeature(
        mapping(geometry),
        {**members[0].attributes, "score": score, "area_m2": round(sum(areas), 3), "source": sources},
    )


__all__ = ["write_region_polygons"]
