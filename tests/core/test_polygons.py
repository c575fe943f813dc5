"""Masks to polygons: exact areas, holes, specks, simplification, minimum area."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from osgeo import ogr

from core.errors import InvalidConfigError
from core.polygons import PolygonOptions, mask_to_polygons

pytestmark = pytest.mark.quick  # make test-fast

TRANSFORM = Affine(0.5, 0, 1000.0, 0, -0.5, 2000.0)  # 0.5 m pixels
EXACT = PolygonOptions(min_pixels=0, simplify=0.0)


def area(geometry: dict) -> float:
    import json

    return ogr.CreateGeometryFromJson(json.dumps(geometry)).GetArea()


def ring_with_hole() -> np.ndarray:
    mask = np.zeros((40, 40), dtype=bool)
    mask[5:35, 5:35] = True
    mask[15:25, 15:25] = False  # a 10 x 10 px hole
    return mask


def test_polygon_area_is_the_pixel_count_times_pixel_area() -> None:
    mask = ring_with_hole()
    (polygon,) = mask_to_polygons(mask, TRANSFORM, EXACT)
    assert area(polygon) == pytest.approx(mask.sum() * 0.25)
    assert len(polygon["coordinates"]) == 2  # outer ring and the hole
    xs, ys = np.array(polygon["coordinates"][0]).T
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (1002.5, 1017.5, 1982.5, 1997.5)


def test_fill_holes_keeps_only_the_outline() -> None:
    (polygon,) = mask_to_polygons(
        ring_with_hole(), TRANSFORM, PolygonOptions(min_pixels=0, simplify=0, fill_holes=True)
    )
    assert len(polygon["coordinates"]) == 1
    assert area(polygon) == pytest.approx(30 * 30 * 0.25)


def test_specks_and_small_holes_are_merged_away() -> None:
    mask = np.zeros((40, 40), dtype=bool)
    mask[5:35, 5:35] = True
    mask[20, 20] = False  # a one-pixel hole
    mask[1, 1] = True  # a one-pixel speck
    polygons = mask_to_polygons(mask, TRANSFORM, PolygonOptions(min_pixels=8, simplify=0))
    assert len(polygons) == 1
    assert len(polygons[0]["coordinates"]) == 1
    assert area(polygons[0]) == pytest.approx(900 * 0.25)


def test_min_area_drops_small_parts_and_largest_comes_first() -> None:
    mask = np.zeros((40, 40), dtype=bool)
    mask[2:6, 2:6] = True  # 16 px = 4 m2
    mask[10:30, 10:30] = True  # 400 px = 100 m2
    both = mask_to_polygons(mask, TRANSFORM, EXACT)
    assert [round(area(p)) for p in both] == [100, 4]
    big = mask_to_polygons(mask, TRANSFORM, PolygonOptions(min_pixels=0, simplify=0, min_area=10.0))
    assert [round(area(p)) for p in big] == [100]


def test_simplify_turns_staircases_into_lines() -> None:
    rows, cols = np.mgrid[:100, :100]
    mask = cols < rows  # a diagonal staircase
    exact = mask_to_polygons(mask, TRANSFORM, EXACT)[0]
    simple = mask_to_polygons(mask, TRANSFORM, PolygonOptions(min_pixels=0, simplify=1.0))[0]
    assert len(simple["coordinates"][0]) < 10 < len(exact["coordinates"][0])
    assert area(simple) == pytest.approx(area(exact), rel=0.02)


def test_empty_mask_gives_no_polygons() -> None:
    assert mask_to_polygons(np.zeros((10, 10), dtype=bool), TRANSFORM) == []


def test_negative_options_are_refused() -> None:
    with pytest.raises(InvalidConfigError, match="cannot be negative"):
        PolygonOptions(simplify=-1)
