"""Objects followed across years as one GeoPackage: layer ``objects``, one feature per object per year (QGIS's
Temporal Controller steps through its ``date``), and layer ``changes``, the objects that were new, changed or
gone that year. Attributes: ``object_id`` (the same object every year), ``class``, ``class_id``, ``date`` (a
Date: the flight), ``until`` (the day before the next flight, empty for the last: a map shows each flight's
state from ``date`` to then), ``year``, ``status`` (new, unchanged, changed, gone: against the year before; the first
year's are all new), ``area_m2`` and ``area_change_m2`` (against the year before; 0 for new and gone).
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rasterio.crs import CRS
from shapely.geometry import mapping

from core.geometry.ground import GroundMeasure
from core.io.vectors import PolygonFeature, write_polygon_layers
from core.tracking.match import Tracked

TRACK_FIELDS: dict[str, type] = {
    "object_id": int,
    "class": str,
    "class_id": int,
    "date": datetime.date,
    "until": datetime.date,
    "year": int,
    "status": str,
    "area_m2": float,
    "area_change_m2": float,
}


def write_tracks(
    out: Path, years: Sequence[tuple[str, Sequence[Tracked]]], crs_wkt: str, class_names: Mapping[int, str]
) -> dict[str, dict[str, int]]:
    """Write ``out`` from each year's date (``YYYY-MM-DD``) and tracked objects, in the CRS ``crs_wkt``; returns
    the count of each status per year."""
    measure = GroundMeasure(CRS.from_user_input(crs_wkt) if crs_wkt else None)
    objects, changes = [], []
    counts: dict[str, dict[str, int]] = {}
    dates = [datetime.date.fromisoformat(date) for date, _ in years]
    for index, (date, tracked) in enumerate(years):
        day = dates[index]
        until = dates[index + 1] - datetime.timedelta(days=1) if index + 1 < len(dates) else None
        counts[date] = dict(Counter(t.status for t in tracked))
        for item in tracked:
            attributes: dict[str, Any] = {
                "object_id": item.object_id,
                "class": class_names.get(item.class_id, str(item.class_id)),
                "class_id": item.class_id,
                "date": day,
                "until": until,
                "year": day.year,
                "status": item.status,
                "area_m2": round(measure.area_m2(item.geometry), 3),
                "area_change_m2": item.area_change_m2,
            }
            feature = PolygonFeature(mapping(item.geometry), attributes)
            objects.append(feature)
            if item.status != "unchanged":
                changes.append(feature)
    write_polygon_layers(out, {"objects": (objects, TRACK_FIELDS), "changes": (changes, TRACK_FIELDS)}, crs_wkt)
    return counts


__all__ = ["TRACK_FIELDS", "write_tracks"]
