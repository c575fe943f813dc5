"""Atomic writes: a failed write leaves the old file and no temporary files."""

from __future__ import annotations

import pytest

from core.errors import InvalidInputError
from core.io.atomic import atomic_output
from core.io.vectors import PolygonFeature, write_polygons

pytestmark = pytest.mark.quick  # make test-fast

SQUARE = {"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]}


def test_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")

    def crash_while_writing() -> None:
        with atomic_output(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("writer crashed")

    with pytest.raises(RuntimeError):
        crash_while_writing()
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_success_replaces_the_file(tmp_path) -> None:
    target = tmp_path / "out.txt"
    with atomic_output(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "Polygon", "coordinates": "not coordinates"},
        {"type": "LineString", "coordinates": [[0.0, 0.0], [1.0, 1.0]]},
        {"type": "Polygon", "coordinates": []},
    ],
)
def test_geopackage_with_a_bad_geometry_leaves_nothing(tmp_path, bad) -> None:
    target = tmp_path / "labels.gpkg"
    with pytest.raises(InvalidInputError, match="feature 1 is not a polygon"):
        write_polygons(target, [PolygonFeature(SQUARE, {"n": 1}), PolygonFeature(bad, {"n": 2})], _wkt())
    assert list(tmp_path.iterdir()) == []


def test_unknown_vector_extension_is_refused(tmp_path) -> None:
    with pytest.raises(InvalidInputError, match=r"use one of \.geojson, \.gpkg, \.json"):
        write_polygons(tmp_path / "labels.kml", [PolygonFeature(SQUARE)], _wkt())


def _wkt() -> str:
    from rasterio.crs import CRS

    return CRS.from_epsg(32633).to_wkt()
