"""Masks to polygons: exact areas, holes, specks, simplification, minimum area."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS
from shapely.geometry import shape

from core.errors import InvalidConfigError
from core.geometry.polygons import PolygonOptions, mask_to_polygons

pytestmark = pytest.mark.quick  # make test-fast

TRANSFORM = Affine(0.5, 0, 1000.0, 0, -0.5, 2000.0)  # 0.5 m pixels
EXACT = PolygonOptions(min_pixels=0, simplify=0.0)
UTM = CRS.from_epsg(32617)  # metres: areas filtered in m² are the polygons' own


def area(geometry: dict) -> float:
    return shape(geometry).area


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
    big = mask_to_polygons(mask, TRANSFORM, PolygonOptions(min_pixels=0, simplify=0, min_area=10.0), UTM)
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


def l_shaped_building(rotation: float) -> tuple[np.ndarray, Affine]:
    """An L-shaped building (30 x 24 m, 468 m²) turned by ``rotation`` degrees, drawn in 0.5 m pixels."""
    from rasterio.features import rasterize

    corners = np.array([(0, 0), (30, 0), (30, 10), (12, 10), (12, 24), (0, 24), (0, 0)], dtype=float)
    turn = np.radians(rotation)
    rotate = np.array([[np.cos(turn), np.sin(turn)], [-np.sin(turn), np.cos(turn)]])
    outline = (corners - (15, 12)) @ rotate + (1040, 1960)
    transform = Affine(0.5, 0, 1000.0, 0, -0.5, 2000.0)
    mask = rasterize(
        [{"type": "Polygon", "coordinates": [outline.tolist()]}], out_shape=(160, 160), transform=transform
    )
    return mask.astype(bool), transform


@pytest.mark.parametrize("rotation", range(0, 90, 3))
def test_right_angles_square_every_corner_of_an_l_shaped_building(rotation: float) -> None:
    from core.geometry.right_angles import corner_angles

    mask, transform = l_shaped_building(rotation)
    (traced,) = mask_to_polygons(mask, transform, PolygonOptions())
    (squared,) = mask_to_polygons(mask, transform, PolygonOptions(right_angles=15))
    angles = corner_angles(shape(squared))
    assert len(angles) == 6  # the L's six corners, no staircase left
    assert all(abs(angle - 90) <= 5 for angle in angles), angles
    assert area(squared) == pytest.approx(area(traced), rel=0.05)  # the outline moved, the building did not
    if 15 <= rotation <= 75:  # turned well off the pixel grid: traced corners are not right angles
        traced_angles = corner_angles(shape(traced))
        assert not all(abs(angle - 90) <= 5 for angle in traced_angles)  # the option is what squared them


def test_right_angles_leave_a_round_crown_round() -> None:
    rows, cols = np.mgrid[:80, :80]
    disc = (rows - 40) ** 2 + (cols - 40) ** 2 < 30**2
    (traced,) = mask_to_polygons(disc, TRANSFORM, PolygonOptions())
    (squared,) = mask_to_polygons(disc, TRANSFORM, PolygonOptions(right_angles=15))
    assert area(squared) == pytest.approx(area(traced), rel=0.05)
    assert len(squared["coordinates"][0]) > 8  # not turned into a box


@pytest.mark.parametrize("tolerance", [-1, 45, 90])
def test_a_right_angle_tolerance_out_of_range_is_refused(tolerance: float) -> None:
    with pytest.raises(InvalidConfigError, match="right_angles is a tolerance in degrees"):
        PolygonOptions(right_angles=tolerance)


@pytest.mark.parametrize("command", ["segment", "predict"])
def test_the_shape_options_reach_the_polygons_from_the_command_line(command: str) -> None:
    from core.cli.parser import build_parser

    required = ["--raster", "r.tif", "--checkpoint", "m.pt", "--out", "o.gpkg"]
    args = build_parser().parse_args([command, *required, "--right-angles", "12", "--fill-holes", "--simplify", "2"])
    options = PolygonOptions.from_mapping(vars(args))
    assert (options.right_angles, options.fill_holes, options.simplify, options.min_pixels) == (12.0, True, 2.0, 8)


def test_shape_options_from_a_request_take_what_it_names() -> None:
    options = PolygonOptions.from_mapping({"right_angles": "20", "min_area": 4, "raster_id": "r1"})
    assert options == PolygonOptions(right_angles=20.0, min_area=4.0)


def test_tracing_from_arrays_gives_shapelys_own_polygons_vertex_for_vertex() -> None:
    """The traced parts are built from arrays (fast on noisy masks with hundreds of holes): the same vertices, in
    the same order, as shapely's ``shape()`` of GDAL's GeoJSON."""
    from rasterio.features import shapes

    from core.geometry.polygons import _polygonize

    noisy = np.random.default_rng(3).random((120, 140)) > 0.45
    values = noisy.astype(np.uint8)
    reference = [shape(g) for g, _ in shapes(values, mask=values, connectivity=4, transform=TRANSFORM)]
    traced = list(_polygonize(noisy, TRANSFORM))
    assert sum(len(p.interiors) for p in traced) > 10  # holes were traced too
    assert len(traced) == len(reference) > 10
    assert all(a.equals_exact(b, 0.0) for a, b in zip(traced, reference, strict=True))


def test_an_outline_no_longer_wanted_stops_between_its_parts() -> None:
    from core.errors import CancelledError

    noisy = np.random.default_rng(4).random((80, 80)) > 0.5
    asked = []

    def cancelled() -> bool:
        asked.append(True)
        return len(asked) > 3

    with pytest.raises(CancelledError):
        mask_to_polygons(noisy, TRANSFORM, EXACT, cancelled=cancelled)
    assert len(asked) == 4  # before tracing, then after each of the first three parts
    assert mask_to_polygons(noisy, TRANSFORM, EXACT, cancelled=lambda: False) == mask_to_polygons(
        noisy, TRANSFORM, EXACT
    )
