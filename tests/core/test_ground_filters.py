"""Objects kept by their size on the ground (m², m, compactness) whatever the raster's CRS: metres, US feet and
degrees (measured on the ellipsoid), for clicks (mask_to_polygons), predictions (export_polygons) and regions
(objects measured once joined across rasters); bad filters and rasters without a CRS refused clearly."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import transform
from shapely import minimum_bounding_radius
from shapely.geometry import Point, Polygon, box, shape

from core.errors import InvalidConfigError, InvalidInputError
from core.geometry.ground import GroundMeasure
from core.geometry.polygons import GroundFilter, PolygonOptions, mask_to_polygons
from core.io.polygon_layers import export_polygons
from core.io.region_polygons import write_region_polygons
from core.io.vectors import read_polygons

pytestmark = pytest.mark.quick

UTM = CRS.from_epsg(32617)
WGS84 = CRS.from_epsg(4326)
EXACT = PolygonOptions(min_pixels=0, simplify=0.0)


def scene() -> np.ndarray:
    """Three objects on 0.5 m pixels: a 4 x 4 m square (16 m²), a disc 12 m across (~113 m²) and a 1 x 30 m
    hedge row (30 m², compactness ~0.1)."""
    mask = np.zeros((120, 120), dtype=bool)
    mask[10:18, 10:18] = True
    rows, cols = np.mgrid[:120, :120]
    mask[(rows - 60) ** 2 + (cols - 40) ** 2 <= 12**2] = True
    mask[100:102, 40:100] = True
    return mask


def geographic_grid(latitude: float) -> Affine:
    """0.5 m pixels near (-82°, ``latitude``) in degrees: the same ground as the UTM grid."""
    metres_per_degree_lat = 111_132.0
    metres_per_degree_lon = 111_320.0 * math.cos(math.radians(latitude))
    return Affine(0.5 / metres_per_degree_lon, 0, -82.0, 0, -0.5 / metres_per_degree_lat, latitude)


def test_a_square_measured_in_metres_feet_and_degrees() -> None:
    square = box(500_000, 3_300_000, 500_010, 3_300_010)  # 10 x 10 m
    metres = GroundMeasure(UTM).size(square)
    assert metres.area_m2 == pytest.approx(100.0)
    assert metres.diameter_m == pytest.approx(math.sqrt(200), rel=1e-3)
    assert metres.compactness == pytest.approx(math.pi / 4)
    feet = GroundMeasure(CRS.from_epsg(2263)).size(box(1_000_000, 200_000, 1_000_100, 200_100))  # NY, US feet
    assert feet.area_m2 == pytest.approx(100 * 100 * 0.3048006096**2, rel=1e-6)
    lon, lat = -82.0, 45.0
    degrees = box(lon, lat, lon + 0.001, lat + 0.001)
    ground = GroundMeasure(WGS84).size(degrees)
    for reference in (CRS.from_epsg(6933), CRS.from_epsg(32617)):  # equal-area world grid; the zone's UTM
        xs, ys = transform(WGS84, reference, *map(list, degrees.exterior.xy))
        planar = Polygon(zip(xs, ys, strict=True))
        assert ground.area_m2 == pytest.approx(planar.area, rel=2e-3)
    assert ground.diameter_m == pytest.approx(2 * minimum_bounding_radius(planar), rel=2e-3)  # in UTM
    assert ground.area_m2 > 7000  # not degrees²: about 79 x 111 m


@pytest.mark.parametrize(
    ("options", "kept"),
    [
        (PolygonOptions(min_pixels=0, simplify=0.0), 3),
        (PolygonOptions(min_pixels=0, simplify=0.0, min_area=20), 2),  # the 16 m² square goes
        (PolygonOptions(min_pixels=0, simplify=0.0, max_area=50), 2),  # the disc goes
        (PolygonOptions(min_pixels=0, simplify=0.0, min_diameter=8), 2),  # the square (5.7 m across) goes
        (PolygonOptions(min_pixels=0, simplify=0.0, max_diameter=20), 2),  # the 30 m hedge goes
        (PolygonOptions(min_pixels=0, simplify=0.0, min_compactness=0.4), 2),  # the hedge (~0.1) goes
        (PolygonOptions(min_pixels=0, simplify=0.0, min_area=20, min_compactness=0.4), 1),  # the disc stays
        (PolygonOptions(min_pixels=0, simplify=0.0, largest_part=True), 1),
    ],
)
def test_the_same_objects_are_kept_in_a_projected_and_a_geographic_crs(options, kept) -> None:
    projected = mask_to_polygons(scene(), Affine(0.5, 0, 500_000, 0, -0.5, 3_300_000), options, UTM)
    geographic = mask_to_polygons(scene(), geographic_grid(45.0), options, WGS84)
    assert len(projected) == len(geographic) == kept
    areas = [GroundMeasure(UTM).area_m2(shape(p)) for p in projected]
    assert [GroundMeasure(WGS84).area_m2(shape(p)) for p in geographic] == pytest.approx(areas, rel=0.01)
    if kept == 1 and options.min_area:
        assert areas[0] == pytest.approx(math.pi * 6**2, rel=0.05)  # the disc, ~113 m²


def test_predictions_are_filtered_and_measured_on_the_ground_in_degrees(tmp_path) -> None:
    """The same mask written in UTM and in degrees far from the equator: the same objects kept, the same
    ``area_m2`` (degrees are not metres: at 60° N a degree of longitude is half of one at the equator)."""
    options = PolygonOptions(min_pixels=0, simplify=0.0, min_area=20, max_diameter=20)
    areas = {}
    for name, crs, grid in (
        ("utm", UTM, Affine(0.5, 0, 500_000, 0, -0.5, 3_300_000)),
        ("degrees", WGS84, geographic_grid(60.0)),
    ):
        path = tmp_path / f"{name}.tif"
        profile = dict(driver="GTiff", width=120, height=120, count=1, dtype="uint8", crs=crs, transform=grid)
        with rasterio.open(path, "w", **profile) as out:
            out.write(scene().astype(np.uint8), 1)
        assert export_polygons(path, tmp_path / f"{name}.gpkg", options=options) == 1  # the disc only
        features, _ = read_polygons(tmp_path / f"{name}.gpkg")
        areas[name] = features[0].attributes["area_m2"]
    assert areas["degrees"] == pytest.approx(areas["utm"], rel=0.01)
    assert areas["utm"] == pytest.approx(113, rel=0.05)


def test_an_object_cut_by_a_raster_edge_is_measured_once_joined(tmp_path) -> None:
    """Each half of a 200 m² building is under 150 m²: filtered per raster, it would vanish."""
    transform = Affine(0.5, 0, 1000, 0, -0.5, 2000)
    profile = dict(driver="GTiff", width=64, height=64, count=1, dtype="uint8", crs="EPSG:32617", nodata=255)
    region = np.zeros((64, 128), np.uint8)
    region[20:40, 50:90] = 1  # 200 m² across column 64: 70 and 130 m² halves
    region[5:10, 5:10] = 1  # 6.25 m², inside the first raster
    parts, footprints = [], []
    for index in range(2):
        path = tmp_path / f"{'ab'[index]}.tif"
        grid = transform * Affine.translation(64 * index, 0)
        with rasterio.open(path, "w", transform=grid, **profile) as out:
            out.write(region[:, 64 * index : 64 * (index + 1)], 1)
        export_polygons(
            path, tmp_path / f"{path.stem}.gpkg", options=PolygonOptions(min_area=150).without_size_filters()
        )
        parts.append(tmp_path / f"{path.stem}.gpkg")
        with rasterio.open(path) as opened:
            footprints.append(tuple(opened.bounds))
    keep = GroundFilter(PolygonOptions(min_area=150), UTM).keeps
    assert write_region_polygons(parts, footprints, 0.5, tmp_path / "region.gpkg", "EPSG:32617", keep=keep) == 1
    features, _ = read_polygons(tmp_path / "region.gpkg")
    assert features[0].attributes["area_m2"] == pytest.approx(200.0)


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"min_area": -1}, "cannot be negative"),
        ({"min_area": 50, "max_area": 20}, "max_area 20 m² is below min_area 50 m²"),
        ({"min_diameter": 10, "max_diameter": 5}, "max_diameter 5 m is below min_diameter 10 m"),
        ({"min_compactness": 1.5}, "from 0 (off) to 1 (a circle)"),
    ],
)
def test_filters_that_could_keep_nothing_are_refused(values, said) -> None:
    with pytest.raises(InvalidConfigError, match=re.escape(said)):
        PolygonOptions(**values)


def test_a_raster_without_a_crs_cannot_be_measured_and_says_how_to_fix_it() -> None:
    mask = scene()
    assert len(mask_to_polygons(mask, Affine(0.5, 0, 0, 0, -0.5, 0), EXACT, None)) == 3  # no filter: no need
    with pytest.raises(InvalidInputError, match=r"has no CRS.*assign it one"):
        mask_to_polygons(mask, Affine(0.5, 0, 0, 0, -0.5, 0), PolygonOptions(min_area=5), None)


def test_the_smallest_enclosing_circle_is_measured_not_the_bounding_box() -> None:
    disc = Point(500_000, 3_300_000).buffer(5, quad_segs=64)
    assert GroundMeasure(UTM).size(disc).diameter_m == pytest.approx(10, rel=1e-3)
    assert GroundMeasure(UTM).size(disc).compactness == pytest.approx(1, rel=1e-3)


def no_crs_raster(path) -> None:  # type: ignore[no-untyped-def]
    rgb = (np.random.default_rng(0).random((3, 64, 64)) * 255).astype(np.uint8)
    profile = dict(driver="GTiff", width=64, height=64, count=3, dtype="uint8", transform=Affine(0.5, 0, 0, 0, -0.5, 0))
    with rasterio.open(path, "w", **profile) as out:
        out.write(rgb)


@pytest.mark.parametrize("command", ["predict", "segment"])
def test_a_raster_without_a_crs_is_refused_before_the_model_runs(command, tmp_path, tiny_checkpoint, core_cli) -> None:
    raster = tmp_path / "no_crs.tif"
    no_crs_raster(raster)
    out = tmp_path / "out.gpkg"
    common = ["--raster", raster, "--checkpoint", tiny_checkpoint.path, "--device", "cpu", "--min-diameter", "3"]
    if command == "predict":
        done = core_cli("predict", *common, "--out", tmp_path / "mask.tif", "--vector", out, "--mode", "auto")
    else:
        done = core_cli("segment", *common, "--point", "16,-16", "--out", out)
    assert done.returncode != 0
    assert "has no CRS, so its objects cannot be measured in metres" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["no_crs.tif"]  # nothing half-written


def test_a_click_keeps_the_object_only_if_it_has_the_size_asked(
    synthetic_scene, tiny_checkpoint, core_cli, tmp_path
) -> None:
    """Through the command line, on the raster's UTM grid: the clicked object is measured in m² and m, kept when
    it passes the filters and dropped when it does not (``polygons`` 0, an empty layer)."""
    image = synthetic_scene(256) / "scene_image.tif"
    with rasterio.open(image) as source:
        x, y = source.xy(128, 128)
    base = ["segment", "--raster", image, "--checkpoint", tiny_checkpoint.path, "--device", "cpu"]
    base += ["--point", f"{x},{y}"]

    def clicked(name: str, *extra: object) -> list:  # type: ignore[type-arg]
        done = core_cli(*base, "--out", tmp_path / f"{name}.gpkg", *extra)
        assert done.returncode == 0, done.stderr[-2000:]
        return [shape(f.geometry) for f in read_polygons(tmp_path / f"{name}.gpkg")[0]]

    clicked("warm")  # encodes the tile: later clicks read its embedding from the disk cache (fp16), as these do
    (whole,) = clicked("all")
    size = GroundMeasure(UTM).size(whole)
    assert size.area_m2 > 10
    assert len(clicked("in", "--min-area", size.area_m2 * 0.9, "--max-diameter", size.diameter_m * 1.1)) == 1
    assert clicked("small", "--max-area", size.area_m2 * 0.9) == []
    assert clicked("narrow", "--min-diameter", size.diameter_m * 1.1) == []
    largest = max(part.area for part in getattr(whole, "geoms", [whole]))
    assert [p.area for p in clicked("largest", "--largest-part")] == [largest]
